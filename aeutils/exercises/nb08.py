"""Exercises of notebook 08 (compression): ``from aeutils.exercises.nb08 import q1, q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call


def _gradient(fn, y):
    import tensorflow as tf

    y = tf.Variable(y)
    with tf.GradientTape() as tape:
        out = call(fn, y)
        total = tf.reduce_sum(out * np.linspace(1, 2, y.shape[-1]).astype("float32"))
    return np.asarray(out), tape.gradient(total, y)


def _check_ste_round(fn) -> str | None:
    y = np.array([[-1.7, -0.2, 0.4, 0.6, 2.5, 3.49]], "float32")
    out, grad = _gradient(fn, y)
    if out.shape != y.shape:
        return f"return one value per input number: shape {y.shape}, not {out.shape}."
    if np.allclose(out, y + 0.0, atol=1e-6):
        return "the forward pass must round: the decoder has to see the integers the coder will send."
    if not np.allclose(out, np.rint(y)):
        return "the forward value must be round(y) exactly."
    if grad is None or np.allclose(np.asarray(grad), 0):
        return ("no gradient flows: rounding's derivative is zero almost everywhere. Write y + stop_gradient(round(y) "
                "- y), so the forward value is round(y) and the backward pass sees the identity.")
    if not np.allclose(np.asarray(grad), np.linspace(1, 2, y.shape[-1])):
        return "the gradient should pass through unchanged (the identity): stop the gradient of round(y) - y only."
    return None


def _logistic_cdf(y):
    return 1 / (1 + np.exp(-(np.asarray(y, dtype=np.float64) - 0.3) / 0.8))


def _check_bits(fn) -> str | None:
    y = np.array([[0.0, 1.0, -2.0, 0.0], [3.0, -1.0, 0.0, 1.0]])
    p = _logistic_cdf(y + 0.5) - _logistic_cdf(y - 0.5)
    want = -np.log2(p).sum(axis=1)
    got = np.asarray(call(fn, _logistic_cdf, y), dtype=np.float64)
    if got.shape != want.shape:
        return f"return one code length per row (image): shape {want.shape}, not {got.shape}."
    if np.allclose(got, -np.log(p).sum(axis=1)):
        return "those are nats: divide by log(2), or use np.log2, to count bits."
    if np.allclose(got, -np.log2(_logistic_cdf(y)).sum(axis=1)):
        return "a probability *mass* is needed: the CDF's difference across the bin, cdf(y + 0.5) − cdf(y − 0.5)."
    if np.allclose(got, np.log2(p).sum(axis=1)):
        return "code lengths are positive: −log2 P."
    if not np.allclose(got, want):
        return "bits = Σ over the row of −log2(cdf(y + 0.5) − cdf(y − 0.5))."
    return None


def _check_entropy(fn) -> str | None:
    symbols = np.array([0, 0, 0, 0, 1, 1, 2, 5])
    p = np.array([4, 2, 1, 1]) / 8
    want = float(-(p * np.log2(p)).sum())
    got = float(call(fn, symbols))
    if np.isclose(got, float(-(p * np.log(p)).sum())):
        return "that is in nats: use log base 2 for bits."
    if np.isclose(got, np.log2(4)) or np.isclose(got, np.log2(6)):
        return "that is the entropy of a uniform distribution: weight each symbol by its frequency."
    if np.isnan(got):
        return "symbols that never occur contribute 0 (0·log 0 = 0): count only the values that occur (np.unique)."
    if not np.isclose(got, want):
        return f"the check's symbols have entropy {want:.3f} bits per symbol; you returned {got:.3f}."
    if not np.isclose(float(call(fn, np.full(10, 7))), 0.0):
        return "a constant code carries no information: its entropy is 0 bits."
    return None


q1 = Exercise(
    "q1 · the straight-through quantiser",
    _check_ste_round,
    "ops.round(y) in the forward pass (it rounds halves to the even neighbour: round(2.5) = 2, as np.rint does); "
    "ops.stop_gradient hides (round(y) − y) from the gradient.",
    "def ste_round(y):\n    return y + ops.stop_gradient(ops.round(y) - y)",
)
q2 = Exercise(
    "q2 · the rate term",
    _check_bits,
    "the probability of an integer y under a density with CDF F is the mass of its bin, F(y + ½) − F(y − ½).",
    "def rate_bits(cdf, y):\n    return -np.log2(cdf(y + 0.5) - cdf(y - 0.5)).sum(axis=1)",
)
q3 = Exercise(
    "q3 · the entropy of one code number",
    _check_entropy,
    "np.unique(symbols, return_counts=True) gives the counts; p = counts / counts.sum(); H = −Σ p·log2 p.",
    "def entropy_bits_one(symbols):\n    _, counts = np.unique(symbols, return_counts=True)\n"
    "    p = counts / counts.sum()\n    return float(-(p * np.log2(p)).sum())",
)
