"""Notebook 09's models (aeutils.vq, aeutils.conditional): the quantiser picks the nearest code, the straight-through
gradient is the identity, the dead-code fix touches only dead codes, the masked convolution is causal, the sampler
draws valid grids, and the models train a step and survive a .keras round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from aeutils import vq
from aeutils.conditional import (
    ConditionalVAE,
    box_width,
    build_conditional_conv_vae,
    ink_mass,
    one_hot_of,
    style_kept,
    swap_accuracy,
    swap_classes,
)


def test_nearest_codes_is_the_argmin_of_distances():
    rng = np.random.default_rng(0)
    z, book = rng.normal(size=(50, 4)).astype("float32"), rng.normal(size=(7, 4)).astype("float32")
    want = ((z[:, None] - book[None]) ** 2).sum(-1).argmin(1)
    assert np.array_equal(ops.convert_to_numpy(vq.nearest_codes(z, book)), want)


def test_straight_through_value_is_z_q_and_gradient_is_identity():
    z_e = tf.Variable(np.array([[0.2, -0.7]], "float32"))
    z_q = tf.constant([[0.0, -1.0]])
    with tf.GradientTape() as tape:
        out = vq.straight_through(z_e, z_q)
        total = tf.reduce_sum(out * tf.constant([[2.0, 3.0]]))
    assert np.allclose(out.numpy(), z_q.numpy())
    assert np.allclose(tape.gradient(total, z_e).numpy(), [[2.0, 3.0]])


def test_quantizer_losses_and_outputs():
    layer = vq.VectorQuantizer(5, 2)
    z_e = np.random.default_rng(1).normal(size=(3, 2, 2, 2)).astype("float32")
    z, idx, cb, cm = layer(z_e)
    book = ops.convert_to_numpy(layer.codebook)
    z_q = book[ops.convert_to_numpy(idx)]
    assert np.allclose(ops.convert_to_numpy(z), z_q, atol=1e-6)
    assert np.allclose(ops.convert_to_numpy(cb), ((z_e - z_q) ** 2).reshape(3, -1).sum(1), rtol=1e-5)
    assert np.allclose(ops.convert_to_numpy(cb), ops.convert_to_numpy(cm))


def test_reinit_touches_only_dead_codes():
    book = np.arange(12, dtype="float32").reshape(6, 2)
    counts = np.array([3, 0, 1, 0, 5, 2], "float32")
    candidates = np.full((10, 2), -1.0, "float32")
    new = ops.convert_to_numpy(vq.reinit_dead_codes(book, counts, candidates, seed=0))
    dead = counts == 0
    assert np.array_equal(new[~dead], book[~dead]) and np.all(new[dead] == -1.0)
    same = ops.convert_to_numpy(vq.reinit_dead_codes(book, counts, candidates, seed=0, due=False))
    assert np.array_equal(same, book)


def test_code_usage():
    u = vq.code_usage(np.array([0, 0, 1, 1]), 4)
    assert u["used"] == 2 and u["dead"] == 2 and u["fraction"] == 0.5 and np.isclose(u["perplexity"], 2.0)


@pytest.mark.parametrize("kind", ["A", "B"])
def test_masked_conv_is_causal(kind):
    layer = vq.MaskedConv2D(3, 3, kind)
    x = tf.Variable(np.random.default_rng(2).normal(size=(1, 5, 5, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(layer(x)[0, 2, 2])  # position (2, 2)
    grad = np.abs(tape.gradient(out, x).numpy()[0]).sum(-1)
    order = np.arange(25).reshape(5, 5)
    later = order > order[2, 2]
    assert np.all(grad[later] == 0)
    assert (grad[2, 2] == 0) == (kind == "A")
    assert grad[1, 2] > 0 and grad[2, 1] > 0


def test_pixelcnn_only_sees_earlier_positions_and_sampler_draws_valid_grids():
    keras.utils.set_random_seed(0)
    prior = vq.build_pixelcnn(6, grid=4, channels=8, blocks=2, first_kernel=3)
    tokens = np.random.default_rng(3).integers(0, 6, (2, 4, 4)).astype("int32")
    changed = tokens.copy()
    changed[:, 2:, :] = (changed[:, 2:, :] + 1) % 6  # change rows 2-3
    a, b = (ops.convert_to_numpy(prior(t)) for t in (tokens, changed))
    assert np.allclose(a[:, :2], b[:, :2]) and np.allclose(a[:, 2, 0], b[:, 2, 0])  # rows 0-1 and (2, 0) unaffected
    grids = vq.sample_grid(prior, 5, grid=4, seed=1, batch_size=3)
    assert grids.shape == (5, 4, 4) and grids.min() >= 0 and grids.max() < 6
    assert np.array_equal(grids, vq.sample_grid(prior, 5, grid=4, seed=1, batch_size=3))


def _tiny_vqvae(reset_every=0):
    keras.utils.set_random_seed(0)
    encoder, decoder = vq.build_vq_encoder_decoder(4, channels=(4, 8))
    model = vq.VQVAE(encoder, decoder, 8, reset_every=reset_every, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_vqvae_trains_and_dead_codes_are_reset():
    x = np.random.default_rng(4).random((16, 28, 28, 1)).astype("float32")
    model = _tiny_vqvae(reset_every=1)
    logs = model.fit(x, None, epochs=1, batch_size=8, verbose=0).history
    assert set(logs) >= {"loss", "reconstruction", "codebook", "commitment", "perplexity"}
    assert np.isfinite(logs["loss"][-1])
    grids = model.encode_indices(x)
    assert grids.shape == (16, 7, 7) and model.decode_indices(grids).shape == (16, 28, 28, 1)


def test_vqvae_and_prior_round_trip(tmp_path):
    x = np.random.default_rng(5).random((4, 28, 28, 1)).astype("float32")
    model = _tiny_vqvae(reset_every=3)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded, vq.VQVAE) and loaded.reset_every == 3 and loaded.beta == 0.25
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    prior = vq.build_pixelcnn(8, channels=8, blocks=1)
    prior.save(tmp_path / "p.keras")
    tokens = np.zeros((2, 7, 7), "int32")
    again = keras.saving.load_model(tmp_path / "p.keras")
    assert np.array_equal(ops.convert_to_numpy(again(tokens)), ops.convert_to_numpy(prior(tokens)))


def test_conditional_vae_trains_swaps_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_conditional_conv_vae(3, channels=(4, 8), beta=2.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x, y = np.random.default_rng(6).random((16, 28, 28, 1)).astype("float32"), np.arange(16) % 10
    logs = model.fit(x, one_hot_of(y), epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(logs["loss"][-1]) and set(logs) == {"loss", "reconstruction", "kl"}
    terms = model.evaluate(x, one_hot_of(y), verbose=0, return_dict=True)
    assert np.isclose(terms["loss"], terms["reconstruction"] + 2.0 * terms["kl"], rtol=1e-5)
    z = model.encode(x, y)
    images, targets = swap_classes(model, z[:3])
    assert images.shape == (3, 10, 28, 28, 1) and np.array_equal(targets[1], np.arange(10))
    assert np.allclose(images[np.arange(3), y[:3]], model.decode(z[:3], y[:3]))
    model.save(tmp_path / "c.keras")
    loaded = keras.saving.load_model(tmp_path / "c.keras")
    assert isinstance(loaded, ConditionalVAE) and loaded.beta == 2.0
    assert np.array_equal(loaded.predict([x, one_hot_of(y)], verbose=0), model.predict([x, one_hot_of(y)], verbose=0))


def test_rows_below_do_not_change_the_logits_of_earlier_rows():
    keras.utils.set_random_seed(1)
    prior = vq.build_pixelcnn(5, grid=4, channels=8, blocks=2, first_kernel=3)
    tokens = np.random.default_rng(7).integers(0, 5, (3, 4, 4)).astype("int32")
    full = ops.convert_to_numpy(prior(tokens))
    assert np.allclose(ops.convert_to_numpy(prior(tokens[:, :2])), full[:, :2], atol=1e-6)


def test_swap_accuracy_counts_only_the_other_classes_per_source():
    y = np.array([0, 1])
    predicted = np.tile(np.arange(3), (2, 1))  # every decode labelled as asked
    predicted[1, 0] = 1  # source 1 (class 1): its swap to class 0 read as the source's class
    acc, se, as_source = swap_accuracy(predicted, y)
    assert np.isclose(acc, (1.0 + 0.5) / 2) and np.isclose(as_source, (0 + 0.5) / 2)
    assert np.isclose(se, np.std([1.0, 0.5], ddof=1) / np.sqrt(2))


def test_ink_mass_and_box_width():
    images = np.zeros((2, 28, 28, 1), "float32")
    images[0, 5:10, 3:9] = 1.0  # 5 rows × 6 columns
    assert np.allclose(ink_mass(images), [30.0, 0.0]) and np.array_equal(box_width(images), [6.0, 0.0])


def test_style_kept_finds_a_kept_statistic_and_not_a_shuffled_one():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    source = rng.random(120)
    kept = source[:, None] + 0.01 * rng.random((120, 3))  # every swap keeps the source's ordering
    result = style_kept(source, kept, y, n_boot=50)
    assert result["swap"] > 0.95 and result["own"] > 0.95 and abs(result["control"]) < 0.3
    noise = style_kept(source, rng.random((120, 3)), y, n_boot=50)
    assert abs(noise["swap"]) < 0.3 and noise["swap_se"] > 0
