"""Exercises of notebook 06 (variational autoencoders): ``from aeutils.exercises.nb06 import q1, q2, q3, q4``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call, check_whole_number


def _check_gaussian_kl(fn) -> str | None:
    rng = np.random.default_rng(6)
    mu, log_var = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    want = -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var), axis=-1)
    got = np.asarray(call(fn, mu, log_var), dtype=float)
    if got.shape != (5,):
        return f"return one KL per image, shape (5,), not {got.shape}: sum over the latent axis only."
    if np.allclose(got, 2 * want):
        return "you dropped the factor ½."
    if np.allclose(got, -want):
        return "the sign is flipped: a KL divergence is never negative."
    if np.allclose(got, -0.5 * np.sum(1 + 2 * log_var - mu**2 - np.exp(2 * log_var), axis=-1)):
        return "log_var is log σ², not log σ: σ² = exp(log_var)."
    if not np.allclose(got, want):
        return "use −½ Σ (1 + log σ² − μ² − σ²) with σ² = exp(log_var), summed over the latent units."
    return None


def _check_sampling_layer(cls) -> str | None:
    """``cls`` is a Keras layer class built as ``cls(seed=...)`` whose ``call([z_mean, z_log_var])`` returns z."""
    import keras

    mean = np.tile(np.array([[1.0, -2.0, 0.5]], np.float32), (4000, 1))
    log_var = np.tile(np.log(np.array([[0.25, 1.0, 4.0]], np.float32)), (4000, 1))
    layer = cls(seed=3)
    first = np.asarray(keras.ops.convert_to_numpy(call(layer.call, [mean, log_var])), dtype=float)
    if first.shape != mean.shape:
        return f"return one z per image and latent unit, shape {mean.shape}, not {first.shape}."
    if np.allclose(first.mean(0), 0, atol=0.15):
        return "z is centred on 0: add the mean, z = μ + σ ε."
    if not np.allclose(first.mean(0), mean[0], atol=0.15):
        return "z must be centred on μ: z = μ + σ ε with ε ~ N(0, I)."
    sd = first.std(0)
    if np.allclose(sd, [0.25, 1.0, 4.0], rtol=0.1):
        return "σ = exp(½ log σ²), not exp(log σ²): z_log_var is the log of the variance."
    if np.allclose(sd, 1.0, rtol=0.1):
        return "scale the noise by σ = exp(½ log σ²) before adding it."
    if not np.allclose(sd, [0.5, 1.0, 2.0], rtol=0.1):
        return "the standard deviation of z should be σ = exp(½ z_log_var), with ε ~ N(0, I)."
    again = np.asarray(keras.ops.convert_to_numpy(layer.call([mean, log_var])), dtype=float)
    if np.array_equal(first, again):
        return ("two calls drew the same ε: a fixed integer seed repeats the noise at every step. Draw with "
                "seed=self.seed_generator, a keras.random.SeedGenerator held by the layer.")
    twin = np.asarray(keras.ops.convert_to_numpy(cls(seed=3).call([mean, log_var])), dtype=float)
    if not np.array_equal(first, twin):
        return ("a layer built with the same seed should draw the same first ε (a seeded run repeats): draw with "
                "keras.random.normal(..., seed=self.seed_generator), not NumPy's global generator.")
    return None


def _check_effective_beta(answer) -> str | None:
    return check_whole_number(
        answer, 784,
        {1: "the two terms are not on the same scale: one is averaged over 784 pixels, the other summed.",
         28: "28 is one side of the image; the mean runs over all 28 × 28 pixels."},
        "dividing the reconstruction term by the number of pixels is the same as multiplying the KL term by it.")


def _check_iw_bound(fn) -> str | None:
    # realistic log-weights, in float32 as a Keras model returns them: exp(−250) is 0 in float32
    log_w = np.random.default_rng(7).normal(-250.0, 3.0, size=200).astype(np.float32)
    shift = np.float64(log_w.max())
    want = -(shift + np.log(np.mean(np.exp(log_w - shift))))
    got = float(call(fn, log_w))
    if not np.isfinite(got):
        return "exp(−250) underflows to 0 in float32: subtract the largest log-weight first (logsumexp)."
    if np.isclose(got, -log_w.mean()):
        return "that is the average of the log-weights: the ELBO's estimate. The bound averages the *weights*."
    if np.isclose(got, -(shift + np.log(np.sum(np.exp(log_w - shift))))):
        return "you summed the k weights; the bound uses their mean: subtract log k."
    if not np.isclose(got, want, rtol=1e-6):
        return "return −log( (1/k) Σ exp(log_w) ), computed as −(logsumexp(log_w) − log k)."
    return None


q1 = Exercise(
    "q1", _check_gaussian_kl,
    "KL(N(μ, σ²) ‖ N(0, 1)) = ½ (σ² + μ² − 1 − log σ²) per unit; add the units of each image.",
    "def kl_gaussian(mu, log_var):\n"
    "    return -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var), axis=-1)",
)
q2 = Exercise(
    "q2", _check_effective_beta,
    "Write the loss with the mean over pixels, then multiply it by the number of pixels: what weight does the "
    "KL term carry now?",
    "784  # mean BCE + KL = (sum BCE + 784·KL) / 784: the same optimum as β = 784",
)
q3 = Exercise(
    "q3", _check_iw_bound,
    "logsumexp(a) = m + log Σ exp(a − m) with m = max(a); the mean of the k weights is their sum divided by k.",
    "def iw_bound(log_w):\n"
    "    m = np.max(log_w)\n"
    "    return -(m + np.log(np.mean(np.exp(log_w - m))))  # −log (1/k) Σ w_j, without underflow",
)
q4 = Exercise(
    "q4", _check_sampling_layer,
    "ε = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator); σ = ops.exp(0.5 * z_log_var).",
    "class MySampling(keras.layers.Layer):\n"
    "    def __init__(self, seed=None, **kwargs):\n"
    "        super().__init__(**kwargs)\n"
    "        self.seed_generator = keras.random.SeedGenerator(seed)\n\n"
    "    def call(self, inputs):\n"
    "        z_mean, z_log_var = inputs\n"
    "        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)\n"
    "        return z_mean + ops.exp(0.5 * z_log_var) * epsilon",
)
