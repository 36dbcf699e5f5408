"""Per-image quality measures the notebooks report (notebook 01 teaches the per-image MSE, 03 PSNR and SSIM)."""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def _as_images(x) -> np.ndarray:
    """``(n, 784)``, ``(n, 28, 28)`` or ``(n, 28, 28, 1)`` -> ``(n, side, side)`` float64."""
    x = np.asarray(x, dtype=np.float64)
    side = int(round(np.sqrt(x[0].size)))
    return x.reshape(len(x), side, side)


def per_image_mse(x, x_hat) -> np.ndarray:
    """Mean squared error of each image (any image shape; the first axis indexes images)."""
    x, x_hat = np.asarray(x), np.asarray(x_hat)
    return ((x.reshape(len(x), -1) - x_hat.reshape(len(x_hat), -1)) ** 2).mean(axis=1)


def per_image_psnr(x, x_hat) -> np.ndarray:
    """PSNR in dB of each image against its clean original ``x``, pixels on [0, 1] (scikit-image). Notebook 03's
    tables report the mean of these per-image values, which is not the PSNR of the mean MSE."""
    return np.array([peak_signal_noise_ratio(a, b, data_range=1.0) for a, b in zip(_as_images(x), _as_images(x_hat))])


def per_image_ssim(x, x_hat) -> np.ndarray:
    """Structural similarity of each image with its clean original ``x``, pixels on [0, 1] (scikit-image), with
    Wang et al.'s (2004) settings: an 11×11 Gaussian window of σ = 1.5 and population (not sample) covariances.
    Notebook 03 states them beside its SSIM table."""
    return np.array([structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                           use_sample_covariance=False)
                     for a, b in zip(_as_images(x), _as_images(x_hat))])
