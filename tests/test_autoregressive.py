"""Sampling from notebook 07's autoregressive decoder (aeutils.vae.sample_pixels, decode): the fast path, which
computes the z-path once and adds the masked term pixel by pixel, gives what the decoder called once per pixel
gives; the draws follow the conditionals; decoders of any other form fall back to the per-pixel loop."""

import keras
import numpy as np
import pytest

from aeutils import vae as V

D, L = 16, 2  # a 4×4 "image" keeps the per-pixel decoder loop fast


def ar_vae(kernel=None, bias=None, squash=False, seed=0):
    """A VAE whose decoder gives logits Dense(z) + AutoregressiveDense(x) (tanh-squashed when ``squash``)."""
    x = keras.Input((D,))
    encoder = keras.Model(x, [keras.layers.Dense(L)(x), keras.layers.Dense(L)(x)])
    z, before = keras.Input((L,)), keras.Input((D,))
    dense, masked = keras.layers.Dense(D), V.AutoregressiveDense()
    logits = keras.layers.Add()([dense(z), masked(before)])
    if squash:
        logits = keras.layers.Activation(lambda t: 5.0 * keras.ops.tanh(t))(logits)
    model = V.VAE(encoder, keras.Model([z, before], logits), seed=seed, autoregressive=True)
    rng = np.random.default_rng(seed)
    masked.kernel.assign(rng.normal(0, 1.0, (D, D)) if kernel is None else kernel)
    dense.kernel.assign(rng.normal(0, 1.0, (L, D)))
    dense.bias.assign(np.zeros(D) if bias is None else bias)
    return model


@pytest.fixture
def codes():
    return np.random.default_rng(1).standard_normal((7, L)).astype("float32")


def test_the_decoder_splits_into_a_z_path_and_the_masked_term(codes):
    model = ar_vae()
    base, kernel = V._autoregressive_split(model, codes)
    x = (np.random.default_rng(2).random((7, D)) < 0.5).astype("float32")
    assert np.allclose(base + x @ kernel, np.asarray(model.logits(codes, x)), atol=1e-4)
    assert np.all(kernel[np.tril_indices(D)] == 0)  # pixel i never sees itself or a later pixel


def test_fast_rollout_equals_the_per_pixel_decoder_loop(codes):
    model = ar_vae()
    fast = V._decode_autoregressive(model, codes)
    slow = V._decode_autoregressive(model, codes, naive=True)
    assert fast.shape == (7, D) and np.allclose(fast, slow, atol=1e-5)
    # each pixel is its probability given z and the pixels set before it
    assert np.allclose(keras.ops.sigmoid(model.logits(codes, fast)), fast, atol=1e-5)
    assert np.allclose(V.decode(model, codes, batch_size=3), fast, atol=1e-6)


def test_fast_samples_equal_the_per_pixel_decoder_loop(codes):
    model = ar_vae()
    fast = V.sample_pixels(model, codes, seed=4)
    slow = V.sample_pixels(model, codes, seed=4, naive=True)
    assert set(np.unique(fast)) <= {0.0, 1.0} and fast.shape == (7, D)
    # Same uniforms, same conditionals (float64 vs float32, agreeing to ~1e-6): a draw could differ only where a
    # uniform falls within that sliver of its probability. Seeds and weights are fixed, so this is deterministic.
    assert np.array_equal(fast, slow)
    assert not np.array_equal(fast, V.sample_pixels(model, codes, seed=5))  # a new seed, new draws


def test_samples_follow_the_pixels_before_them():
    # pixel 0 is a fair coin; every later pixel copies its predecessor with probability 1 − e^-20 or so
    kernel = np.zeros((D, D))
    kernel[np.arange(D - 1), np.arange(1, D)] = 40.0
    bias = np.full(D, -20.0)
    bias[0] = 0.0
    model = ar_vae(kernel=kernel, bias=bias)
    model.decoder.layers[2].kernel.assign(np.zeros((L, D)))  # z is ignored
    x = V.sample_pixels(model, np.zeros((400, L), "float32"), seed=0)
    rows = x.sum(axis=1)
    assert np.all((rows == 0) | (rows == D))  # whole rows of zeros or of ones
    assert 0.4 < (rows == D).mean() < 0.6  # the first pixel's coin decides
    # a factorised decoder with the same marginals (every pixel a fair coin) almost never does that
    flat = V.sample_pixels(V.VAE(*_factorised(np.zeros(D))), np.zeros((400, L), "float32"), seed=0)
    assert abs(flat.mean() - 0.5) < 0.05 and np.mean((flat.sum(axis=1) == 0) | (flat.sum(axis=1) == D)) < 0.01


def _factorised(bias):
    x = keras.Input((D,))
    encoder = keras.Model(x, [keras.layers.Dense(L)(x), keras.layers.Dense(L)(x)])
    z = keras.Input((L,))
    out = keras.layers.Dense(D, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(bias))(z)
    return encoder, keras.Model(z, out)


def test_factorised_samples_average_to_the_decoder_mean(codes):
    x = keras.Input((D,))
    encoder = keras.Model(x, [keras.layers.Dense(L)(x), keras.layers.Dense(L)(x)])
    z = keras.Input((L,))
    model = V.VAE(encoder, keras.Model(z, keras.layers.Dense(D)(z)), seed=0)
    many = np.repeat(codes[:2], 4000, axis=0)
    draws = V.sample_pixels(model, many, seed=1).reshape(2, 4000, D)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert np.abs(draws.mean(axis=1) - V.decode(model, codes[:2])).max() < 0.04


def test_other_autoregressive_decoders_fall_back_to_the_loop(codes):
    model = ar_vae(squash=True)  # logits are not z-path + linear term any more
    assert V._autoregressive_split(model, codes) is None
    fast, slow = V.sample_pixels(model, codes, seed=3), V.sample_pixels(model, codes, seed=3, naive=True)
    assert np.array_equal(fast, slow)
    assert np.allclose(keras.ops.sigmoid(model.logits(codes, V.decode(model, codes))), V.decode(model, codes),
                       atol=1e-5)
