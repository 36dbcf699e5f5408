"""aeutils.latent_density: Gaussian / Gaussian-mixture densities fitted to codes (notebook 06's AE baselines)."""

import numpy as np
import pytest

from aeutils.latent_density import fit_code_density, sample_codes


def three_clusters(n, seed):
    rng = np.random.default_rng(seed)
    centres = np.array([[-6.0, 0.0], [0.0, 6.0], [6.0, 0.0]])
    return centres[rng.integers(0, 3, n)] + 0.3 * rng.standard_normal((n, 2))


def test_validation_chooses_the_true_number_of_components():
    density, scores = fit_code_density(three_clusters(3000, 0), three_clusters(1000, 1), components=(1, 3))
    assert density.n_components == 3 and scores[3] > scores[1] + 1.0


def test_one_gaussian_matches_the_codes_mean_and_covariance():
    codes = np.random.default_rng(2).multivariate_normal([1.0, -2.0], [[2.0, 0.5], [0.5, 1.0]], 5000)
    density, scores = fit_code_density(codes)
    assert np.isnan(scores[1])
    assert np.allclose(density.means_[0], codes.mean(0), atol=1e-6)
    assert np.allclose(density.covariances_[0], np.cov(codes.T, bias=True), atol=1e-3)
    drawn = sample_codes(density, 20000, seed=3)
    assert drawn.dtype == np.float32 and drawn.shape == (20000, 2)
    assert np.allclose(drawn.mean(0), [1.0, -2.0], atol=0.05) and np.allclose(np.cov(drawn.T), density.covariances_[0],
                                                                             atol=0.08)


def test_samples_are_shuffled_seeded_and_cover_every_component():
    density, _ = fit_code_density(three_clusters(3000, 0), three_clusters(500, 1), components=(3,))
    a, b = sample_codes(density, 300, seed=5), sample_codes(density, 300, seed=5)
    assert np.array_equal(a, b) and not np.array_equal(a, sample_codes(density, 300, seed=6))
    first = np.round(a[:30, 0] / 6).astype(int)  # grouped output would put one cluster first
    assert len(set(first)) == 3


def test_choices_need_validation_codes_and_sane_inputs():
    with pytest.raises(ValueError, match="validation"):
        fit_code_density(three_clusters(100, 0), components=(1, 2))
    with pytest.raises(ValueError, match="positive"):
        fit_code_density(three_clusters(100, 0), components=(0,))
    with pytest.raises(ValueError, match="shape"):
        fit_code_density(np.zeros(10))
