"""What a VAE's numbers are measured in: per-image log-likelihoods of pixels, the Gaussian KL, and binarisation.

Taught in notebook 06. A likelihood is only a likelihood when it is normalised over the data it is evaluated on:

- **Bernoulli** (:func:`bernoulli_nll`) is a distribution over *binary* pixels. On binarised images its negative
  log-likelihood is a true −log p(x) in nats, comparable in kind with published binarised-MNIST tables.
  :func:`binarize` makes a fixed, seeded binarisation (for validation and test sets); a :class:`aeutils.vae.VAE`
  built with ``binarize=True`` draws a fresh one at every training step (dynamic binarisation).
- On *grey* pixels the same cross-entropy is not a log-density: the density over x ∈ [0, 1] that it belongs to is
  the **continuous Bernoulli** (Loaiza-Ganem & Cunningham, 2019), p(x|λ) = C(λ) λ^x (1−λ)^(1−x), whose
  normaliser C(λ) ≥ 2 is what the cross-entropy leaves out (:func:`continuous_bernoulli_log_norm`, at least
  log 2 per pixel, more where the decoder is confident).

Every term is a sum over one image, in nats (natural-log units; divide by ln 2 for bits), computed in float32.
"""

from __future__ import annotations

import numpy as np
from keras import ops

# Below this |logit| the closed form of log C loses precision; its Taylor series is exact to float32 there.
_TAYLOR_BELOW = 1e-3


def _per_image_sum(per_pixel):
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


def bernoulli_nll(x, logits):
    """−log p(x | z) per image: the binary cross-entropy of pixels ``x`` in [0, 1] under ``logits``, summed over
    every axis but the first. ``softplus(l) − x·l`` is that cross-entropy written so that it never overflows.
    A log-probability only for binary ``x`` (notebook 06, section 5)."""
    x, logits = ops.cast(x, "float32"), ops.cast(logits, "float32")
    return _per_image_sum(ops.softplus(logits) - x * logits)


def continuous_bernoulli_log_norm(logits):
    """log C(λ) per pixel for λ = sigmoid(``logits``): C(λ) = 2 artanh(1 − 2λ) / (1 − 2λ), which in logits is
    l / tanh(l/2). It is log 2 at λ = ½ and grows like log |l| as the decoder grows confident."""
    logits = ops.cast(logits, "float32")
    small = ops.abs(logits) < _TAYLOR_BELOW
    safe = ops.where(small, ops.ones_like(logits), logits)  # keeps the untaken branch finite
    exact = ops.log(ops.abs(safe)) - ops.log(ops.abs(ops.tanh(safe / 2)))
    return ops.where(small, np.log(2.0) + ops.square(logits) / 12.0, exact)


def continuous_bernoulli_nll(x, logits):
    """−log p(x | z) per image under the continuous Bernoulli: the Bernoulli cross-entropy minus Σ log C(λ).
    A true negative log-density for grey pixels x ∈ [0, 1] (notebook 06, section 5)."""
    return bernoulli_nll(x, logits) - _per_image_sum(continuous_bernoulli_log_norm(logits))


def continuous_bernoulli_mean(logits):
    """E[x] under the continuous Bernoulli with logits ``l``: λ/(2λ−1) + 1/(2 artanh(1−2λ)), which in logits is
    1/(1 − e^(−l)) − 1/l; ½ at l = 0. Not λ itself: the mean is pulled toward ½ (notebook 06)."""
    logits = ops.cast(logits, "float32")
    small = ops.abs(logits) < _TAYLOR_BELOW
    safe = ops.where(small, ops.ones_like(logits), logits)
    exact = 1.0 / (-ops.expm1(-safe)) - 1.0 / safe
    return ops.where(small, 0.5 + logits / 12.0, exact)


LIKELIHOODS = {"bernoulli": bernoulli_nll, "continuous_bernoulli": continuous_bernoulli_nll}


def gaussian_kl(z_mean, z_log_var):
    """KL( N(μ, σ²) ‖ N(0, I) ) per image, in closed form: −½ Σ (1 + log σ² − μ² − σ²), in float32."""
    z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def binarize(x, seed: int = 0) -> np.ndarray:
    """A fixed binarisation of grey images ``x`` in [0, 1]: each pixel is 1 with probability equal to its grey
    value, drawn with ``seed`` (the same seed gives the same images). Notebook 06 scores validation and test sets
    binarised this way once; training images are binarised afresh at every step."""
    x = np.asarray(x, np.float32)
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"binarize expects pixels in [0, 1]; got values from {x.min()} to {x.max()}.")
    return (np.random.default_rng(seed).random(x.shape, dtype=np.float32) < x).astype(np.float32)
