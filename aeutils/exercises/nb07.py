"""Exercises of notebook 07 (exploring the latent space): ``from aeutils.exercises.nb07 import q1, …, q5``."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.stats import norm

from aeutils.exercises import Exercise, call


def _check_grid_coordinates(fn) -> str | None:
    want = norm.ppf(np.linspace(0.05, 0.95, 7))
    got = np.asarray(call(fn, 7, 0.05), dtype=float)
    if got.shape != (7,):
        return f"return the n = 7 coordinates along one axis, shape (7,), not {got.shape}."
    if np.allclose(got, np.linspace(want[0], want[-1], 7)):
        return "those are equal steps in z; take equal steps in *probability* and map them through norm.ppf."
    if np.allclose(got, np.linspace(0.05, 0.95, 7)):
        return "those are the probabilities themselves: pass them through the normal's quantile function, norm.ppf."
    if not np.allclose(got, want):
        return "use norm.ppf(np.linspace(edge, 1 - edge, n))."
    other, other_want = np.asarray(call(fn, 4, 0.1), dtype=float), norm.ppf(np.linspace(0.1, 0.9, 4))
    if other.shape != other_want.shape or not np.allclose(other, other_want):
        return "your function ignores n or edge: try it with n = 4, edge = 0.1."
    return None


def _check_attribute_vector(fn) -> str | None:
    rng = np.random.default_rng(8)
    codes, labels = rng.normal(size=(60, 3)), np.repeat([0, 1, 2], 20)
    want = codes[labels == 2].mean(0) - codes[labels == 0].mean(0)
    got = np.asarray(call(fn, codes, labels, 0, 2), dtype=float)
    if got.shape != (3,):
        return f"return one vector of length L = 3 (the latent size), not shape {got.shape}."
    if np.allclose(got, -want):
        return "the direction is reversed: target minus source moves a source item toward the target class."
    if np.allclose(got, (codes[labels == 2] - codes[labels == 0]).mean(0)) and not np.allclose(got, want):
        return "pairing items of the two classes one by one is not a class mean difference."
    if not np.allclose(got, want):
        return "average the codes of each class over its images (axis 0), then subtract: target − source."
    return None


def _check_midpoint_shrink(answer) -> str | None:
    if not isinstance(answer, numbers.Real) or isinstance(answer, bool):
        return f"give a number, not {type(answer).__name__}."
    if np.isclose(answer, 0.5, atol=0.02):
        return "for two *independent* vectors the lengths do not add: the variance of (z0 + z1)/2 is 1/2 per unit."
    if np.isclose(answer, np.sqrt(2), atol=0.03):
        return "that is how much *longer* z0 is than the midpoint; the question asks midpoint / z0."
    if not np.isclose(answer, 1 / np.sqrt(2), atol=0.02):
        return "measure it: np.linalg.norm((z0 + z1) / 2) / np.linalg.norm(z0) for z0, z1 of length 1000."
    return None


def _check_causal_mask(fn) -> str | None:
    want = np.triu(np.ones((5, 5)), k=1)
    got = np.asarray(call(fn, 5), dtype=float)
    if got.shape != (5, 5):
        return f"return a d × d array: for d = 5, shape (5, 5), not {got.shape}."
    if np.array_equal(got, want.T):
        return "rows are inputs j and columns outputs i: entry [j, i] is 1 when j comes *before* i (j < i)."
    if np.array_equal(got, np.triu(np.ones((5, 5)))):
        return "the diagonal lets pixel i see itself: the decoder could copy x_i and the loss would be meaningless."
    if not np.array_equal(got, want):
        return "entry [j, i] is 1 exactly when j < i: np.triu(np.ones((d, d)), k=1)."
    if not np.array_equal(np.asarray(call(fn, 3), dtype=float), np.triu(np.ones((3, 3)), k=1)):
        return "your function ignores d: try it with d = 3."
    return None


def _reference_draw(base, kernel, u):
    logits, x = base.copy(), np.zeros_like(base)
    for i in range(base.shape[1]):
        x[:, i] = u[:, i] < 1 / (1 + np.exp(-logits[:, i]))
        logits += x[:, i, None] * kernel[i]
    return x


def _check_draw_in_order(fn) -> str | None:
    rng = np.random.default_rng(11)
    d = 6
    base, u = rng.normal(0, 1, (50, d)), rng.random((50, d))
    kernel = np.triu(rng.normal(0, 4, (d, d)), k=1)
    want = _reference_draw(base, kernel, u)
    got = np.asarray(call(fn, base.copy(), kernel, u), dtype=float)
    if got.shape != want.shape:
        return f"return the drawn pixels, shape (n, d) = {want.shape}, not {got.shape}."
    if not set(np.unique(got)) <= {0.0, 1.0}:
        return "a sample is 0 or 1 per pixel: compare u[:, i] with the probability, do not return the probability."
    if np.array_equal(got, _reference_draw(base, np.zeros((d, d)), u)):
        return ("every pixel was drawn from the z-path alone: after each draw, add x[:, i, None] * kernel[i] to "
                "the logits, so the later pixels see it.")
    if not np.array_equal(got, want):
        return ("pixel i is 1 when u[:, i] < sigmoid(logits[:, i]); then logits += x[:, i, None] * kernel[i] "
                "(the [:, None] makes one row of kernel per image).")
    return None


q1 = Exercise(
    "q1", _check_grid_coordinates,
    "np.linspace(edge, 1 - edge, n) gives equally spaced probabilities; norm.ppf turns a probability into z.",
    "def grid_coordinates(n, edge):\n"
    "    return norm.ppf(np.linspace(edge, 1 - edge, n))",
)
q2 = Exercise(
    "q2", _check_attribute_vector,
    "codes[labels == target].mean(axis=0) is the mean code of the target class.",
    "def attribute_vector(codes, labels, source, target):\n"
    "    return codes[labels == target].mean(axis=0) - codes[labels == source].mean(axis=0)",
)
q3 = Exercise(
    "q3", _check_midpoint_shrink,
    "Each unit of (z0 + z1)/2 has variance (1 + 1)/4 = 1/2, and a length grows like the square root of the variance.",
    "1 / np.sqrt(2)  # about 0.707: the midpoint is atypically short, which slerp avoids",
)
q4 = Exercise(
    "q4", _check_causal_mask,
    "Output i may use inputs 0 … i − 1 and nothing else: column i has ones above the diagonal only.",
    "def causal_mask(d):\n"
    "    return np.triu(np.ones((d, d)), k=1)  # [j, i] = 1 iff j < i",
)
q5 = Exercise(
    "q5", _check_draw_in_order,
    "The probability of pixel i is 1 / (1 + np.exp(-logits[:, i])); x[:, i, None] * kernel[i] has shape (n, d).",
    "def draw_in_order(base, kernel, u):\n"
    "    logits, x = base.copy(), np.zeros_like(base)\n"
    "    for i in range(base.shape[1]):\n"
    "        x[:, i] = u[:, i] < 1 / (1 + np.exp(-logits[:, i]))\n"
    "        logits += x[:, i, None] * kernel[i]  # row i of the masked kernel: only later pixels move\n"
    "    return x",
)
