"""Exercises of notebook 10 (latent diffusion): ``from aeutils.exercises.nb10 import q1, q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call

_BETAS = np.linspace(0.01, 0.2, 12)


def _check_alpha_bars(fn) -> str | None:
    want = np.cumprod(1 - _BETAS)
    got = np.asarray(call(fn, _BETAS), dtype=float)
    if got.shape != want.shape:
        return f"return one ᾱ_t per step, shape {want.shape}, not {got.shape}."
    if np.allclose(got, np.cumprod(_BETAS)):
        return "that multiplies the β's; ᾱ_t multiplies the α_s = 1 − β_s (the share of the signal each step keeps)."
    if np.allclose(got, 1 - np.cumsum(_BETAS)):
        return "the steps compose by *multiplying* what each keeps, not by subtracting the β's."
    if np.allclose(got, 1 - _BETAS):
        return "that is α_t for one step; ᾱ_t is the running product over steps 1 … t."
    if not np.allclose(got, want):
        return "use np.cumprod(1 - betas)."
    return None


def _closed_form_inputs():
    rng = np.random.default_rng(3)
    return rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), np.linspace(0.1, 0.9, 5)[:, None]


def _check_q_sample(fn) -> str | None:
    z0, eps, ab = _closed_form_inputs()
    want = np.sqrt(ab) * z0 + np.sqrt(1 - ab) * eps
    got = np.asarray(call(fn, z0, eps, ab), dtype=float)
    if got.shape != want.shape:
        return f"return one noisy code per row, shape {want.shape}, not {got.shape}."
    if np.allclose(got, ab * z0 + (1 - ab) * eps):
        return "ᾱ_t and 1 − ᾱ_t are *variances*: scale z0 and ε by their square roots."
    if np.allclose(got, np.sqrt(1 - ab) * z0 + np.sqrt(ab) * eps):
        return "swapped: the signal keeps √ᾱ_t (near 1 early on), the noise gets √(1 − ᾱ_t)."
    if not np.allclose(got, want):
        return "z_t = √ᾱ_t · z0 + √(1 − ᾱ_t) · ε."
    return None


def _check_predict_z0(fn) -> str | None:
    z0, eps, ab = _closed_form_inputs()
    z_t = np.sqrt(ab) * z0 + np.sqrt(1 - ab) * eps
    got = np.asarray(call(fn, z_t, eps, ab), dtype=float)
    if got.shape != z0.shape:
        return f"return one code per row, shape {z0.shape}, not {got.shape}."
    if np.allclose(got, z_t - np.sqrt(1 - ab) * eps):
        return "almost: after removing the noise, undo the shrinking of the signal (divide by √ᾱ_t)."
    if np.allclose(got, (z_t - (1 - ab) * eps) / ab):
        return "use the square roots, as in the forward process: √(1 − ᾱ_t) and √ᾱ_t."
    if not np.allclose(got, z0):
        return "solve z_t = √ᾱ_t · z0 + √(1 − ᾱ_t) · ε for z0."
    return None


q1 = Exercise(
    "q1", _check_alpha_bars,
    "Each step keeps α_s = 1 − β_s of the signal's scale squared; t steps keep the product of the first t.",
    "def alpha_bars(betas):\n"
    "    return np.cumprod(1 - betas)",
)
q2 = Exercise(
    "q2", _check_q_sample,
    "q(z_t | z_0) = N(√ᾱ_t z_0, (1 − ᾱ_t) I): a mean and a standard deviation times ε.",
    "def q_sample(z0, eps, alpha_bar):\n"
    "    return np.sqrt(alpha_bar) * z0 + np.sqrt(1 - alpha_bar) * eps",
)
q3 = Exercise(
    "q3", _check_predict_z0,
    "Subtract the noise part √(1 − ᾱ_t) ε from z_t, then divide by √ᾱ_t.",
    "def predict_z0(z_t, eps, alpha_bar):\n"
    "    return (z_t - np.sqrt(1 - alpha_bar) * eps) / np.sqrt(alpha_bar)",
)
