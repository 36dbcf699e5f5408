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


def _ddim_case():
    """A short cosine schedule, a fixed noise predictor and a start: what ``ddim_sample`` with 2 steps walks."""
    from aeutils.diffusion import ddim_steps, make_schedule

    s = make_schedule("cosine", 40)
    t0, t1 = ddim_steps(40, 2, last=int(np.nonzero(s.alpha_bars >= 1e-3)[0].max()))[::-1]
    eps = lambda z, t: np.tanh(z) * (0.5 + t / 80)  # noqa: E731
    return s, (t0, t1), eps, np.random.default_rng(7).standard_normal((6, 3))


def _check_ddim_step(fn) -> str | None:
    from aeutils.diffusion import ddim_sample

    s, (t0, t1), eps, z = _ddim_case()
    ab = s.alpha_bars
    want = ddim_sample(eps, s, 6, 3, steps=2, z_start=z)
    z1 = np.asarray(call(fn, z, eps(z, t0), ab[t0], ab[t1]), dtype=float)
    if z1.shape != z.shape:
        return f"return one code per row, shape {z.shape}, not {z1.shape}."
    got = np.asarray(call(fn, z1, eps(z1, t1), ab[t1], 1.0), dtype=float)
    z0 = (z - np.sqrt(1 - ab[t0]) * eps(z, t0)) / np.sqrt(ab[t0])
    if np.allclose(z1, np.sqrt(ab[t1]) * z0):
        return "that is only the signal part: DDIM re-noises ẑ_0 with the same ε, + √(1 − ᾱ_prev) · ε."
    if np.allclose(z1, ab[t1] * (z - (1 - ab[t0]) * eps(z, t0)) / ab[t0] + (1 - ab[t1]) * eps(z, t0)):
        return "ᾱ's are variances: use √ᾱ_prev and √(1 − ᾱ_prev)."
    if not np.allclose(got, want, atol=1e-5):
        return ("first ẑ_0 = (z_t − √(1 − ᾱ_t) ε) / √ᾱ_t, then z_prev = √ᾱ_prev ẑ_0 + √(1 − ᾱ_prev) ε; "
                "two of your steps should give what ddim_sample(..., steps=2) gives.")
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
    "q3", _check_ddim_step,
    "Predict the clean code from z_t and ε, then place it at the earlier step's noise level, re-using ε "
    "(η = 0: no fresh noise).",
    "def ddim_step(z_t, eps, alpha_bar, alpha_bar_prev):\n"
    "    z0 = (z_t - np.sqrt(1 - alpha_bar) * eps) / np.sqrt(alpha_bar)\n"
    "    return np.sqrt(alpha_bar_prev) * z0 + np.sqrt(1 - alpha_bar_prev) * eps",
)
