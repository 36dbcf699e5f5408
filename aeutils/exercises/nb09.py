"""Exercises of notebook 09 (conditional and vector-quantised autoencoders): ``from aeutils.exercises.nb09 import q1,
q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call


def _check_straight_through(fn) -> str | None:
    import tensorflow as tf

    z_e = tf.Variable(np.array([[0.3, -1.2, 2.0], [0.9, 0.1, -0.4]], "float32"))
    z_q = tf.constant(np.array([[0.0, -1.0, 2.5], [1.0, 0.0, 0.0]], "float32"))
    weights = np.linspace(1, 2, 6).reshape(2, 3).astype("float32")
    with tf.GradientTape() as tape:
        out = call(fn, z_e, z_q)
        total = tf.reduce_sum(tf.convert_to_tensor(out) * weights)
    grad = tape.gradient(total, z_e)
    out = np.asarray(out)
    if out.shape != (2, 3):
        return f"return one value per input number: shape (2, 3), not {out.shape}."
    if np.allclose(out, z_e.numpy()):
        return "the forward value must be z_q: the decoder has to see the codebook vectors."
    if not np.allclose(out, z_q.numpy(), atol=1e-6):
        return "the forward value must be z_q exactly: z_e + stop_gradient(z_q - z_e)."
    if grad is None or np.allclose(np.asarray(grad), 0):
        return ("no gradient reaches z_e: the lookup has none. Write z_e + stop_gradient(z_q - z_e), so the value is "
                "z_q and the backward pass sees the identity.")
    if not np.allclose(np.asarray(grad), weights):
        return "the gradient must pass to z_e unchanged (the identity): stop the gradient of z_q − z_e only."
    return None


def _check_nearest_codes(fn) -> str | None:
    rng = np.random.default_rng(9)
    codebook = rng.normal(size=(6, 3)) * np.array([[1.0], [3.0], [0.2], [1.0], [2.0], [0.5]])
    z = rng.normal(size=(40, 3))
    d2 = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    want = d2.argmin(1)
    got = np.asarray(call(fn, z, codebook))
    if got.shape != want.shape:
        return f"return one index per row of z: shape {want.shape}, not {got.shape}."
    if np.array_equal(got, (z @ codebook.T).argmax(1)):
        return "the largest dot product is not the nearest code when the codes differ in length: use distances."
    if np.array_equal(got, d2.argmax(1)):
        return "that is the *farthest* code: take the argmin of the distances."
    if not np.array_equal(got, want):
        return "compute ((z[:, None, :] - codebook[None]) ** 2).sum(-1), shape (N, K), and take argmin over axis 1."
    return None


def _check_perplexity(fn) -> str | None:
    indices = np.array([[0, 0, 1], [1, 2, 0], [0, 3, 0]])
    p = np.bincount(indices.ravel(), minlength=8) / indices.size
    nz = p[p > 0]
    want = float(np.exp(-(nz * np.log(nz)).sum()))
    got = call(fn, indices, 8)
    if not np.isscalar(got) and np.ndim(got) != 0:
        return f"return one number, not an array of shape {np.shape(got)}."
    got = float(got)
    if np.isclose(got, 4.0):
        return "that counts the codes used; the perplexity weighs them by their frequencies: exp of the entropy."
    if np.isclose(got, float(-(nz * np.log(nz)).sum())):
        return "that is the entropy H in nats; the perplexity is exp(H)."
    if not np.isclose(got, want):
        return "p = np.bincount(indices.ravel(), minlength=K) / indices.size; H = −Σ p log p over p > 0; return exp(H)."
    if not np.isclose(float(call(fn, np.arange(5), 5)), 5.0):
        return "five codes used equally often should give perplexity 5."
    return None


q1 = Exercise(
    "q1", _check_straight_through,
    "ops.stop_gradient(t) has the value t and a zero gradient; add to z_e something whose value is z_q − z_e.",
    "def straight_through(z_e, z_q):\n"
    "    return z_e + ops.stop_gradient(z_q - z_e)",
)
q2 = Exercise(
    "q2", _check_nearest_codes,
    "Broadcast z[:, None, :] against codebook[None, :, :] to get every difference, (N, K, D).",
    "def nearest_codes(z, codebook):\n"
    "    return ((z[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=-1).argmin(axis=1)",
)
q3 = Exercise(
    "q3", _check_perplexity,
    "np.bincount(indices.ravel(), minlength=K) counts each code; divide by the number of tokens.",
    "def perplexity(indices, K):\n"
    "    p = np.bincount(np.ravel(indices), minlength=K) / np.size(indices)\n"
    "    p = p[p > 0]\n"
    "    return float(np.exp(-(p * np.log(p)).sum()))",
)
