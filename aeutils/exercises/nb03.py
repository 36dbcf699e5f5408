"""Exercises of notebook 03 (denoising autoencoders): ``from aeutils.exercises.nb03 import q1, q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call


def _check_psnr_from_mse(fn) -> str | None:
    mse = np.array([0.1, 0.01, 0.0079])
    got = np.asarray(call(fn, mse), dtype=float)
    want = 10 * np.log10(1 / mse)
    if got.shape != mse.shape:
        return f"for an array of 3 MSEs return 3 PSNRs; got shape {got.shape}."
    if np.allclose(got, 20 * np.log10(1 / mse)):
        return "MSE is already a squared error: use 10·log10, not 20·log10 (that one is for the root of the MSE)."
    if np.allclose(got, np.log10(1 / mse)) or np.allclose(got, -np.log10(mse)):
        return "the unit is the decibel: multiply the log10 by 10."
    if not np.allclose(got, want, rtol=1e-6):
        return "PSNR = 10 · log10(peak² / MSE), and the peak pixel value is 1 here: MSE 0.01 must give 20 dB."
    return None


def _check_pick_parameter(fn) -> str | None:
    rng = np.random.default_rng(0)
    clean = rng.random((6, 8, 8))
    noisy = clean + 0.3
    grid = [0.0, 0.1, 0.3, 0.5]
    got = call(fn, lambda x, p: x - p, grid, noisy, clean)
    if got == 0.5 or got == 0.0:
        return f"{got} has the *worst* PSNR here; you want the largest mean PSNR (the smallest error)."
    if got != 0.3:
        return f"on the toy problem (noisy = clean + 0.3, denoise = subtract p) the best p is 0.3, not {got}."
    return None


def _check_mask_pixels(fn) -> str | None:
    x = np.random.default_rng(1).random((50, 28, 28)).astype("float32") + 0.01  # no zero pixels of its own
    original = x.copy()
    out = np.asarray(call(fn, x, 0.3, 7))
    if not np.array_equal(x, original):
        return "your function changed x itself; work on a copy (x * mask makes one)."
    if out.shape != x.shape:
        return f"the result must have the input's shape {x.shape}; got {out.shape}."
    zeroed = out == 0
    if not np.all((out == x) | zeroed):
        return "pixels that are not masked must keep their value; masked ones become exactly 0."
    if abs(zeroed.mean() - 0.3) > 0.02:
        return f"with fraction=0.3 about 30% of the pixels should be zero; you zeroed {zeroed.mean():.0%}."
    if not np.array_equal(out, np.asarray(call(fn, x, 0.3, 7))):
        return "the same seed must give the same mask: draw from np.random.default_rng(seed) inside the function."
    if np.array_equal(out, np.asarray(call(fn, x, 0.3, 8))):
        return "a different seed should give a different mask."
    return None


q1 = Exercise(
    "q1", _check_psnr_from_mse,
    "With pixels in [0, 1] the peak is 1: PSNR = 10 * log10(1 / mse). np.log10 works on arrays.",
    "def psnr_from_mse(mse):\n    return 10 * np.log10(1.0 / np.asarray(mse))  # MSE 0.0079 -> 21.0 dB",
)
q2 = Exercise(
    "q2", _check_pick_parameter,
    "Score every p with per_image_psnr(clean, denoise(noisy, p)).mean() and return the p with the largest score "
    "(max(grid, key=...)).",
    "def pick_parameter(denoise, grid, noisy, clean):\n"
    "    return max(grid, key=lambda p: per_image_psnr(clean, denoise(noisy, p)).mean())\n"
    "# Tuned on test images, the baseline would have seen the answers: its score would flatter it.",
)
q3 = Exercise(
    "q3", _check_mask_pixels,
    "rng = np.random.default_rng(seed); keep = rng.random(x.shape) >= fraction; return x * keep.",
    "def mask_pixels(x, fraction, seed):\n"
    "    keep = np.random.default_rng(seed).random(np.shape(x)) >= fraction\n"
    "    return x * keep  # a new array: x is unchanged",
)
