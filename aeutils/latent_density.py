"""Densities fitted to an autoencoder's codes, to sample it like a generative model: the fair baseline for a VAE.

Taught in notebook 06 ("holes"): a plain autoencoder has no prior, but a Gaussian, or a mixture of Gaussians, fitted
to the codes of its training images gives it one (Ghosh et al. 2020, "From variational to deterministic
autoencoders", fit such an *ex-post* density and found it competitive with a VAE's own prior). Reusable for any
code: notebook 07 may score its latent manipulations against the same baselines.

- :func:`fit_code_density` fits scikit-learn's ``GaussianMixture`` for each candidate number of components on
  training codes and keeps the one with the highest mean log-likelihood of *validation* codes (one component with
  a full covariance is "one Gaussian fitted to the codes");
- :func:`sample_codes` draws codes from the fitted density, in random order, as float32.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits


def fit_code_density(train_codes, val_codes=None, components=(1,), covariance_type: str = "full", seed: int = 0,
                     max_fit: int | None = 20000):
    """The Gaussian mixture over codes chosen on validation, and each candidate's validation score.

    Fits ``GaussianMixture(n, covariance_type)`` to (at most ``max_fit`` of) ``train_codes`` for every ``n`` in
    ``components``; returns ``(best, scores)`` with ``scores[n]`` the mean log-likelihood per code of ``val_codes``
    (nats; higher is better) and ``best`` the mixture with the highest one. Without ``val_codes`` only one
    candidate is allowed (there is nothing to choose on)."""
    train = np.asarray(train_codes, np.float64)
    if train.ndim != 2 or len(train) < 2:
        raise ValueError(f"train_codes must be (n, L) with n ≥ 2; got shape {train.shape}.")
    components = tuple(int(n) for n in components)
    if not components or min(components) < 1:
        raise ValueError(f"components must list positive numbers of mixture components; got {components}.")
    if val_codes is None and len(components) > 1:
        raise ValueError("choosing among several numbers of components needs val_codes (choose on validation).")
    if max_fit is not None and len(train) > max_fit:
        train = train[np.random.default_rng(seed).choice(len(train), max_fit, replace=False)]
    fitted, scores = {}, {}
    # one BLAS thread: the matrices are small (L × L), and on a shared 2-core CPU several BLAS threads contend
    # (measured: six times slower under load)
    with threadpool_limits(1):
        for n in components:
            mixture = GaussianMixture(n, covariance_type=covariance_type, random_state=seed, reg_covar=1e-5)
            fitted[n] = mixture.fit(train)
            scores[n] = float(fitted[n].score(np.asarray(val_codes, np.float64))) if val_codes is not None else np.nan
    best = components[0] if val_codes is None else max(scores, key=scores.get)
    return fitted[best], scores


def sample_codes(density: GaussianMixture, n: int, seed: int = 0) -> np.ndarray:
    """``n`` codes drawn from a fitted ``GaussianMixture``, shuffled (scikit-learn returns them grouped by
    component), as float32 ready for a decoder."""
    density.random_state = seed  # GaussianMixture.sample draws with the estimator's own random_state
    with threadpool_limits(1):
        codes, _ = density.sample(int(n))
    return codes[np.random.default_rng(seed).permutation(len(codes))].astype(np.float32)
