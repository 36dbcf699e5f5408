"""Per-image quality measures the notebooks report (notebook 01 teaches the per-image MSE, 03 PSNR and SSIM).

Every function takes the clean images ``x`` and their reconstructions ``x_hat`` in any layout whose first axis
indexes images (``(n, 784)``, ``(n, 28, 28)``, ``(n, 28, 28, 1)``) and checks them first: the same number of
images with the same number of pixels, finite values, and, for PSNR and SSIM (which assume a peak of 1), clean
pixels in [0, 1] and reconstructions not on a 0–255 scale. A mismatch raises a ``ValueError`` that says what is
wrong, instead of broadcasting or truncating silently.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def _checked(x, x_hat, peak: bool) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``x_hat`` as float64 arrays of shape ``(n, pixels)``, after the checks of the module docstring."""
    x, x_hat = np.asarray(x, dtype=np.float64), np.asarray(x_hat, dtype=np.float64)
    if x.ndim == 0 or x_hat.ndim == 0 or len(x) != len(x_hat) or len(x) == 0:
        raise ValueError(f"x and x_hat must hold the same number (≥ 1) of images; got {x.shape} and {x_hat.shape}.")
    x, x_hat = x.reshape(len(x), -1), x_hat.reshape(len(x_hat), -1)
    if x.shape != x_hat.shape:
        raise ValueError(f"each image of x has {x.shape[1]} pixels but each of x_hat has {x_hat.shape[1]}.")
    if not (np.isfinite(x).all() and np.isfinite(x_hat).all()):
        raise ValueError("x and x_hat must be finite: found NaN or infinity (a diverged model?).")
    if peak and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"clean pixels must lie in [0, 1] (PSNR and SSIM assume a peak of 1); found "
                         f"[{x.min():g}, {x.max():g}]. Images on a 0-255 scale: divide by 255.")
    if peak and (x_hat.min() < -1 or x_hat.max() > 2):
        raise ValueError(f"reconstructions span [{x_hat.min():g}, {x_hat.max():g}]: not on the clean images' [0, 1] "
                         "scale (a 0-255 output, or logits instead of probabilities?).")
    return x, x_hat


def _as_images(x) -> np.ndarray:
    """``(n, pixels)`` -> ``(n, side, side)``: square images for SSIM's windows."""
    side = int(round(np.sqrt(x.shape[1])))
    if side * side != x.shape[1]:
        raise ValueError(f"SSIM needs square images; {x.shape[1]} pixels is not a square number.")
    return x.reshape(len(x), side, side)


def per_image_mse(x, x_hat) -> np.ndarray:
    """Mean squared error of each image (any image shape; the first axis indexes images)."""
    x, x_hat = _checked(x, x_hat, peak=False)
    return ((x - x_hat) ** 2).mean(axis=1)


def per_image_psnr(x, x_hat) -> np.ndarray:
    """PSNR in dB of each image against its clean original ``x``, pixels on [0, 1] (scikit-image). Notebook 03's
    tables report the mean of these per-image values, which is not the PSNR of the mean MSE."""
    x, x_hat = _checked(x, x_hat, peak=True)
    return np.array([peak_signal_noise_ratio(a, b, data_range=1.0) for a, b in zip(x, x_hat)])


def per_image_ssim(x, x_hat) -> np.ndarray:
    """Structural similarity of each image with its clean original ``x``, pixels on [0, 1] (scikit-image), with
    Wang et al.'s (2004) settings: an 11×11 Gaussian window of σ = 1.5 and population (not sample) covariances.
    Notebook 03 states them beside its SSIM table."""
    x, x_hat = _checked(x, x_hat, peak=True)
    return np.array([structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                           use_sample_covariance=False)
                     for a, b in zip(_as_images(x), _as_images(x_hat))])
