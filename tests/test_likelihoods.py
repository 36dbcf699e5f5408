"""aeutils.likelihoods: the continuous Bernoulli's normaliser and mean against numerical integrals, binarisation,
and a VAE that uses them (dynamic binarisation, the continuous-Bernoulli likelihood, the saved config)."""

import keras
import numpy as np
import pytest
from scipy.integrate import quad

from aeutils import likelihoods as LK
from aeutils import vae as V

LOGITS = [-30.0, -6.0, -1.0, -1e-4, 0.0, 2e-4, 0.5, 3.0, 12.0]


def sigmoid(logit):
    return 1 / (1 + np.exp(-logit))


@pytest.mark.parametrize("logit", LOGITS)
def test_the_normaliser_makes_the_density_integrate_to_one(logit):
    lam = sigmoid(logit)
    log_c = float(np.asarray(LK.continuous_bernoulli_log_norm(np.array([[logit]], np.float32)))[0, 0])
    integral, _ = quad(lambda x: lam**x * (1 - lam) ** (1 - x), 0, 1)
    assert log_c >= np.log(2) - 1e-6
    assert log_c == pytest.approx(-np.log(integral), abs=2e-5)


@pytest.mark.parametrize("logit", LOGITS)
def test_the_mean_is_the_integral_of_x_times_the_density(logit):
    lam = sigmoid(logit)
    norm, _ = quad(lambda x: lam**x * (1 - lam) ** (1 - x), 0, 1)
    first, _ = quad(lambda x: x * lam**x * (1 - lam) ** (1 - x), 0, 1)
    mean = float(np.asarray(LK.continuous_bernoulli_mean(np.array([[logit]], np.float32)))[0, 0])
    assert mean == pytest.approx(first / norm, abs=2e-5)


def test_continuous_bernoulli_nll_is_the_cross_entropy_minus_the_normalisers():
    rng = np.random.default_rng(0)
    x, logits = rng.random((4, 784)).astype("float32"), rng.normal(0, 3, (4, 784)).astype("float32")
    ce = np.asarray(LK.bernoulli_nll(x, logits))
    cb = np.asarray(LK.continuous_bernoulli_nll(x, logits))
    gap = np.asarray(LK.continuous_bernoulli_log_norm(logits)).sum(axis=1)
    np.testing.assert_allclose(ce - cb, gap, rtol=1e-5)
    assert np.all(gap >= 784 * np.log(2) - 1e-2)


def test_binarize_is_seeded_unbiased_and_checks_its_input():
    x = np.full((200, 784), 0.3, np.float32)
    a, b, c = LK.binarize(x, seed=1), LK.binarize(x, seed=1), LK.binarize(x, seed=2)
    assert set(np.unique(a)) <= {0.0, 1.0} and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.mean() == pytest.approx(0.3, abs=0.005)
    np.testing.assert_array_equal(LK.binarize(np.array([[0.0, 1.0]])), [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LK.binarize(np.array([[1.5]]))


def _tiny_vae(**kwargs):
    x = keras.Input((784,))
    h = keras.layers.Dense(8, activation="relu")(x)
    encoder = keras.Model(x, [keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)])
    z = keras.Input((2,))
    decoder = keras.Model(z, keras.layers.Dense(784)(z))
    return V.VAE(encoder, decoder, seed=0, **kwargs)


def test_dynamic_binarisation_trains_on_binary_draws_and_evaluates_what_it_is_given():
    grey = np.full((64, 784), 0.5, np.float32)
    vae = _tiny_vae(binarize=True)
    seen = []
    original = vae.terms

    def spy(x, training=False):
        seen.append(np.asarray(x))
        return original(x, training=training)

    vae.terms = spy
    vae.compile(optimizer="adam", run_eagerly=True)
    vae.fit(grey, epochs=2, batch_size=64, verbose=0)
    assert len(seen) == 2 and all(set(np.unique(s)) <= {0.0, 1.0} for s in seen)
    assert not np.array_equal(seen[0], seen[1])  # a fresh draw at every step
    vae.evaluate(grey, batch_size=64, verbose=0)
    np.testing.assert_array_equal(seen[-1], grey)  # evaluation data are scored as given


def test_likelihood_is_checked_and_saved(tmp_path):
    with pytest.raises(ValueError, match="continuous_bernoulli"):
        _tiny_vae(likelihood="gaussian")
    vae = _tiny_vae(likelihood="continuous_bernoulli", binarize=True)
    path = tmp_path / "cb.keras"
    vae.save(path)
    loaded = keras.saving.load_model(path)
    assert (loaded.likelihood, loaded.binarize) == ("continuous_bernoulli", True)
    x = np.random.default_rng(0).random((8, 784)).astype("float32")
    rec, _ = loaded.terms(x)
    assert np.all(np.isfinite(np.asarray(rec)))
    # the IW bound uses the same likelihood: with k = 1 and the same draw its mean is near the −ELBO's
    nll = V.importance_weighted_nll(loaded, x, k=200)
    assert np.all(np.isfinite(nll))
