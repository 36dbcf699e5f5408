"""Exercises of notebook 09 (conditional and vector-quantised autoencoders): ``from aeutils.exercises.nb09 import q1,
q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call


def _influence(prior, tokens, i: int) -> np.ndarray:
    """The true answer of q1: which of the 49 positions' logits change when token ``i`` (reading order) changes."""
    from keras import ops

    changed = np.array(tokens, copy=True)
    r, c = divmod(i, tokens.shape[2])
    changed[0, r, c] = (changed[0, r, c] + 1) % 8
    before, after = (ops.convert_to_numpy(prior(t)) for t in (tokens, changed))
    return (np.abs(before - after).max(axis=-1) > 1e-6).reshape(-1)


def _check_influence(fn) -> str | None:
    import keras

    from aeutils.vq import build_pixelcnn

    keras.utils.set_random_seed(0)
    prior = build_pixelcnn(8, channels=8, blocks=2)
    tokens = np.random.default_rng(0).integers(0, 8, (1, 7, 7)).astype("int32")
    for i in (10, 24):
        want = _influence(prior, tokens, i)
        got = np.asarray(call(fn, prior, tokens, i))
        if got.shape != (49,):
            return f"return one True/False per position, in reading order: shape (49,), not {got.shape}."
        got = got.astype(bool)
        if got[i]:
            return ("position i came out as influenced by its own token: compare the logits *at* each position "
                    "before and after the change, and check you changed the token itself, not the logits.")
        if np.array_equal(got, np.arange(49) > i):
            return ("that is every later position: what causality *allows*. Measure what this network actually "
                    "sees: run it on both grids and compare the logits position by position.")
        if not np.array_equal(got, want):
            return ("change tokens[0, i // 7, i % 7] to another code, run prior on both grids, and mark the positions "
                    "whose logits differ (np.abs(a - b).max(-1) > 1e-6), reshaped to 49.")
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


def _check_bits_per_image(fn) -> str | None:
    indices = np.array([[[0, 0, 1], [1, 2, 0]], [[0, 3, 0], [1, 1, 2]]])  # 2 images of 2×3 positions
    p = np.bincount(indices.ravel(), minlength=8) / indices.size
    nz = p[p > 0]
    entropy_bits = float(-(nz * np.log2(nz)).sum())
    want = 6 * entropy_bits
    got = call(fn, indices, 8)
    if not np.isscalar(got) and np.ndim(got) != 0:
        return f"return one number, not an array of shape {np.shape(got)}."
    got = float(got)
    if np.isclose(got, want * np.log(2)):
        return "that is in nats: take the entropy with log base 2 (np.log2) to count bits."
    if np.isclose(got, entropy_bits):
        return "that is the entropy of one position; an image has indices[0].size positions: multiply by it."
    if np.isclose(got, 49 * entropy_bits):
        return "these images have 6 positions, not 49: use indices[0].size, the positions of one image."
    if np.isclose(got, 2 * want):
        return "that is the whole set; per image means the positions of *one* image times the entropy."
    if np.isclose(got, 6 * np.log2(4)):
        return "that counts the codes used as if equally frequent; weigh them by their frequencies (the entropy)."
    if not np.isclose(got, want):
        return ("p = np.bincount(np.ravel(indices), minlength=K) / np.size(indices); H = −Σ p log2 p over p > 0; "
                "return np.size(indices[0]) * H.")
    if not np.isclose(float(call(fn, np.arange(16).reshape(2, 8), 16)), 8 * 4.0):
        return "16 codes used equally often carry log2 16 = 4 bits per position: 8 positions should give 32 bits."
    return None


q1 = Exercise(
    "q1", _check_influence,
    "Copy the grid, change the token at row i // 7, column i % 7, run prior on both and compare the logits.",
    "def influenced(prior, tokens, i):\n"
    "    changed = tokens.copy()\n"
    "    changed[0, i // 7, i % 7] = (changed[0, i // 7, i % 7] + 1) % 8\n"
    "    a = ops.convert_to_numpy(prior(tokens))\n"
    "    b = ops.convert_to_numpy(prior(changed))\n"
    "    return (np.abs(a - b).max(axis=-1) > 1e-6).reshape(-1)",
)
q2 = Exercise(
    "q2", _check_nearest_codes,
    "Broadcast z[:, None, :] against codebook[None, :, :] to get every difference, (N, K, D).",
    "def nearest_codes(z, codebook):\n"
    "    return ((z[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=-1).argmin(axis=1)",
)
q3 = Exercise(
    "q3", _check_bits_per_image,
    "np.bincount(np.ravel(indices), minlength=K) counts each code; divide by the number of tokens to get the "
    "frequencies, take the entropy in bits (np.log2), and multiply by the positions of one image, indices[0].size.",
    "def bits_per_image(indices, K):\n"
    "    p = np.bincount(np.ravel(indices), minlength=K) / np.size(indices)\n"
    "    p = p[p > 0]\n"
    "    return float(np.size(indices[0]) * -(p * np.log2(p)).sum())",
)
