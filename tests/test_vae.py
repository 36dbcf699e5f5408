"""aeutils.vae: the Sampling layer, the VAE model (fit/evaluate/predict, save and load in a fresh process) and the
bounds that evaluate it."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from aeutils import vae as V

L = 3


def coders(latent=L, pixels=784, hidden=16):
    """A tiny dense encoder (images → [μ, log σ²]) and decoder (z → logits)."""
    x = keras.Input((pixels,))
    h = keras.layers.Dense(hidden, activation="relu")(x)
    encoder = keras.Model(x, [keras.layers.Dense(latent)(h), keras.layers.Dense(latent)(h)])
    z = keras.Input((latent,))
    decoder = keras.Model(z, keras.layers.Dense(pixels)(keras.layers.Dense(hidden, activation="relu")(z)))
    return encoder, decoder


def autoregressive_coders(latent=L, pixels=784, hidden=16):
    """The same encoder; a decoder [z, x] → logits that adds an AutoregressiveDense term over x."""
    encoder, _ = coders(latent, pixels, hidden)
    z, x = keras.Input((latent,)), keras.Input((pixels,))
    base = keras.layers.Dense(pixels)(keras.layers.Dense(hidden, activation="relu")(z))
    return encoder, keras.Model([z, x], keras.layers.Add()([base, V.AutoregressiveDense()(x)]))


@pytest.fixture
def images():
    return np.random.default_rng(0).random((256, 784)).astype("float32")


def test_closed_forms():
    x = np.array([[0.0, 1.0, 0.25]], "float32")
    logits = np.array([[-2.0, 3.0, 0.5]], "float32")
    p = 1 / (1 + np.exp(-logits))
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum()
    assert np.allclose(V.bernoulli_nll(x, logits), [bce], rtol=1e-5)
    assert np.allclose(V.bernoulli_nll(x.reshape(1, 1, 3, 1), logits.reshape(1, 1, 3, 1)), [bce], rtol=1e-5)
    assert np.allclose(V.gaussian_kl(np.zeros((2, 4)), np.zeros((2, 4))), 0.0)
    # μ = 1, σ² = e: ½ (σ² + μ² − 1 − log σ²) = ½ (e + 1 − 1 − 1) per unit
    assert np.allclose(V.gaussian_kl(np.ones((1, 2)), np.ones((1, 2))), [2 * 0.5 * (np.e - 1)], rtol=1e-5)


def test_sampling_draws_new_noise_and_repeats_with_a_seed():
    mean, log_var = np.zeros((1000, 2), "float32"), np.zeros((1000, 2), "float32")
    a, b = V.Sampling(seed=1), V.Sampling(seed=1)
    first = np.asarray(a([mean, log_var]))
    assert np.array_equal(first, np.asarray(b([mean, log_var])))  # same seed, same first draw
    assert not np.array_equal(first, np.asarray(a([mean, log_var])))  # the next call draws afresh
    assert abs(first.mean()) < 0.1 and abs(first.std() - 1) < 0.1
    tight = np.asarray(a([mean + 3, log_var - 30]))  # σ = e^-15: z sits on μ
    assert np.allclose(tight, 3, atol=1e-5)
    assert V.Sampling.from_config(a.get_config()).seed == 1


def test_vae_fit_evaluate_predict(images):
    model = V.VAE(*coders(), beta=2.0, seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    history = model.fit(images, epochs=3, batch_size=64, validation_data=images[:64], verbose=0)
    h = history.history
    assert {"loss", "reconstruction", "kl", "val_loss", "val_reconstruction", "val_kl"} <= set(h)
    assert h["loss"][-1] < h["loss"][0]
    assert np.allclose(h["loss"], np.add(h["reconstruction"], np.multiply(2.0, h["kl"])), rtol=1e-5)
    scores = model.evaluate(images, batch_size=64, verbose=0, return_dict=True)
    assert set(scores) == {"loss", "reconstruction", "kl"} and scores["kl"] >= 0
    probs = model.predict(images[:10], verbose=0)
    assert probs.shape == (10, 784) and probs.min() >= 0 and probs.max() <= 1
    rec, kl = V.elbo_terms(model, images, batch_size=100)
    assert rec.shape == kl.shape == (256,) and np.all(kl >= 0)
    assert abs(rec.mean() - scores["reconstruction"]) < 0.05 * scores["reconstruction"]  # a new sample, same value


@pytest.mark.parametrize("parts", [coders, autoregressive_coders])
def test_save_and_load_in_a_fresh_process(images, tmp_path, parts):
    model = V.VAE(*parts(), beta=0.5, seed=3, autoregressive=parts is autoregressive_coders)
    model.compile(keras.optimizers.Adam(1e-3))
    model.fit(images, epochs=1, batch_size=64, verbose=0)
    path = tmp_path / "vae.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", images[:20])
    code = (
        "import sys, numpy as np, keras, aeutils.vae\n"
        f"m = keras.saving.load_model({str(path)!r})\n"
        "assert type(m).__name__ == 'VAE' and m.beta == 0.5 and m.seed == 3, (m, m.beta, m.seed)\n"
        f"x = np.load({str(tmp_path / 'x.npy')!r})\n"
        f"np.save({str(tmp_path / 'y.npy')!r}, m.predict(x, verbose=0))\n"
        f"np.save({str(tmp_path / 'mu.npy')!r}, np.asarray(m.encoder(x)[0]))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert np.array_equal(np.load(tmp_path / "y.npy"), model.predict(images[:20], verbose=0))
    assert np.array_equal(np.load(tmp_path / "mu.npy"), np.asarray(model.encoder(images[:20])[0]))


def test_posterior_clips_the_log_variance(images):
    x_in = keras.Input((784,))
    huge = keras.layers.Dense(L, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(500.0))
    model = V.VAE(keras.Model(x_in, [huge(x_in), huge(x_in)]), coders()[1])
    _, log_var = model.posterior(images[:4])
    assert np.allclose(log_var, V.LOG_VAR_LIMIT)
    rec, kl = model.terms(images[:4])
    assert np.all(np.isfinite(rec)) and np.all(np.isfinite(kl))  # exp(500) would have been inf


def test_importance_weighted_bound_is_exact_when_z_is_ignored(images):
    # encoder outputs the prior (μ = 0, log σ² = 0), decoder ignores z: then p(x) = p(x|z) for every z, KL = 0,
    # and every importance weight equals p(x): the bound is exact for any k.
    x_in = keras.Input((784,))
    zeros = keras.layers.Dense(L, kernel_initializer="zeros")
    encoder = keras.Model(x_in, [zeros(x_in), zeros(x_in)])
    z_in = keras.Input((L,))
    decoder = keras.Model(z_in, keras.layers.Dense(784, kernel_initializer="zeros", bias_initializer="ones")(z_in))
    model = V.VAE(encoder, decoder)
    exact = np.asarray(V.bernoulli_nll(images, np.ones_like(images)))
    assert np.allclose(V.importance_weighted_nll(model, images[:50], k=7, batch_size=20), exact[:50], rtol=1e-5)
    rec, kl = V.elbo_terms(model, images)
    assert np.allclose(kl, 0, atol=1e-6) and np.allclose(rec, exact, rtol=1e-5)


def test_importance_weighted_bound_is_tighter_than_the_elbo(images):
    model = V.VAE(*coders(), seed=0)
    rec, kl = V.elbo_terms(model, images)
    iw = V.importance_weighted_nll(model, images, k=100, batch_size=64)
    iw1 = V.importance_weighted_nll(model, images, k=1, batch_size=64, seed=1)
    assert iw.shape == (256,) and iw.mean() < (rec + kl).mean()
    assert abs(iw1.mean() - (rec + kl).mean()) < 0.01 * (rec + kl).mean()  # k = 1 is the ELBO itself


def test_active_units_and_codes(images):
    x_in = keras.Input((784,))
    first = keras.layers.Lambda(lambda t: 10 * t[:, :1])(x_in)  # varies with the image
    mean = keras.layers.Concatenate()([first, keras.layers.Lambda(lambda t: 0 * t[:, :2])(x_in)])
    encoder = keras.Model(x_in, [mean, keras.layers.Lambda(lambda t: 0 * t[:, :3])(x_in)])
    model = V.VAE(encoder, coders()[1])
    count, variances = V.active_units(model, images)
    assert count == 1 and variances.shape == (3,)
    assert V.encode_means(model, images, batch_size=100).shape == (256, 3)
    assert V.decode(model, np.zeros((5, 3), "float32")).shape == (5, 784)


def test_slerp():
    z0, z1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = V.slerp(z0, z1, np.linspace(0, 1, 5))
    assert np.allclose(path[0], z0) and np.allclose(path[-1], z1)
    assert np.allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-6)  # stays on the circle
    assert np.allclose(V.slerp(z0, 2 * z0, [0.5]), [[1.5, 0.0]])  # parallel: falls back to the line
    mid = V.slerp(z0, z1, 0.5)  # a number gives one point
    assert mid.shape == (2,) and np.allclose(mid, np.sqrt(0.5))
    assert np.allclose(V.slerp(np.zeros(2), z1, 0.5), [0.0, 0.5])  # a zero vector: no NaN, the straight line
    with pytest.raises(ValueError, match="same length"):
        V.slerp(z0, np.ones(3), 0.5)
    with pytest.raises(ValueError, match="edge"):
        V.prior_grid(3, edge=0.0)


def test_prior_grid_is_in_reading_order_on_quantiles():
    points, coords = V.prior_grid(5, edge=0.1)
    assert points.shape == (25, 2) and np.allclose(coords, -coords[::-1]) and np.isclose(coords[2], 0)
    assert np.isclose(coords[0], -1.2815516, atol=1e-6)  # the prior's 10 % quantile
    assert np.allclose(points[:5, 1], coords[-1]) and np.allclose(points[:5, 0], coords)  # top row: largest z2
    assert np.allclose(points[::5, 1], coords[::-1])  # first column: z2 falls down the rows


def test_autoregressive_dense_sees_only_the_values_before_each_one():
    layer = V.AutoregressiveDense()
    assert np.allclose(layer(np.ones((2, 4, 4, 1), "float32")), 0)  # zero kernel: starts as the plain decoder
    layer.kernel.assign(np.random.default_rng(0).standard_normal((16, 16)).astype("float32"))
    basis = np.eye(16, dtype="float32").reshape(16, 4, 4, 1)  # image j lights value j, in reading order
    jacobian = np.asarray(layer(basis)).reshape(16, 16)  # [j, i]: how output i moves with input j
    assert np.all(jacobian[np.tril_indices(16)] == 0)  # never itself, never a later value
    assert np.all(jacobian[np.triu_indices(16, k=1)] != 0)  # every earlier value can contribute


def test_autoregressive_vae_trains_and_decodes_pixel_by_pixel(images):
    model = V.VAE(*autoregressive_coders(), seed=0, autoregressive=True)
    assert model.autoregressive and not V.VAE(*coders()).autoregressive
    model.compile(keras.optimizers.Adam(1e-2))
    h = model.fit(images, epochs=2, batch_size=64, validation_data=images[:64], verbose=0).history
    assert h["loss"][-1] < h["loss"][0] and "val_kl" in h
    assert model.predict(images[:5], verbose=0).shape == (5, 784)
    z = np.random.default_rng(1).standard_normal((6, L)).astype("float32")
    x = V.decode(model, z, batch_size=4)
    # each pixel is its probability given z and the pixels before it: decoding again from x reproduces x
    assert x.shape == (6, 784) and np.allclose(keras.ops.sigmoid(model.logits(z, x)), x, atol=1e-6)
    rec, kl = V.elbo_terms(model, images[:50])
    iw = V.importance_weighted_nll(model, images[:50], k=20, batch_size=25)
    assert iw.mean() <= (rec + kl).mean() + 0.5


def test_beta_is_read_at_every_step_not_frozen_at_the_first_trace(images):
    def twin():
        keras.utils.set_random_seed(0)
        model = V.VAE(*coders(), beta=1.0, seed=0)
        model.compile(keras.optimizers.Adam(1e-2))
        first = model.fit(images, epochs=1, batch_size=64, verbose=0).history
        assert np.allclose(first["loss"], np.add(first["reconstruction"], first["kl"]), rtol=1e-5)
        return model

    kept, raised = twin(), twin()
    raised.beta = 50.0  # after the first fit: the traced train_step must see it, in the gradient too
    h_kept = kept.fit(images, epochs=2, batch_size=64, verbose=0).history
    h_raised = raised.fit(images, epochs=2, batch_size=64, verbose=0).history
    assert np.allclose(h_raised["loss"], np.add(h_raised["reconstruction"], np.multiply(50.0, h_raised["kl"])),
                       rtol=1e-5)
    assert h_raised["kl"][-1] < 0.5 * h_kept["kl"][-1]  # the heavier KL weight was optimised, not just reported
    assert raised.beta == 50.0 and V.VAE.from_config(raised.get_config()).beta == 50.0
    raised.beta = 0.0  # and back down
    last = raised.fit(images, epochs=1, batch_size=64, verbose=0).history
    assert np.allclose(last["loss"], last["reconstruction"], rtol=1e-5)


def test_sample_weight_is_honoured(images):
    model = V.VAE(*coders(), seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    before = [np.array(w) for w in model.trainable_weights]
    # Keras drops sample_weight when y is None, so it travels with a (ignored) target, as the docstring says
    model.fit(images, images, sample_weight=np.zeros(len(images)), epochs=1, batch_size=64, verbose=0)
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(before, model.trainable_weights))  # nothing learnt
    half = np.r_[np.ones(128), np.zeros(128)].astype("float32")
    weighted = model.evaluate(images, images, sample_weight=half, batch_size=256, verbose=0, return_dict=True)
    rec, kl = (np.asarray(t) for t in model.terms(images[:128]))
    assert abs(weighted["loss"] - (rec + kl).mean()) < 0.05 * weighted["loss"]  # only the first half counts


def test_autoregressive_is_explicit():
    encoder, decoder = autoregressive_coders()
    with pytest.raises(ValueError, match="autoregressive=True"):
        V.VAE(encoder, decoder)  # a two-input decoder is never fed x silently
    with pytest.raises(ValueError, match="feeds it 2"):
        V.VAE(*coders(), autoregressive=True)
    model = V.VAE(encoder, decoder, autoregressive=True)
    assert model.autoregressive and V.VAE.from_config(model.get_config()).autoregressive


def test_predict_is_deterministic_and_survives_saving(images, tmp_path):
    model = V.VAE(*coders(), seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    model.fit(images, epochs=1, batch_size=64, verbose=0)
    first = model.predict(images[:20], verbose=0)
    assert np.array_equal(first, model.predict(images[:20], verbose=0))
    model.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    assert np.allclose(first, loaded.predict(images[:20], verbose=0), atol=1e-6)


def test_a_training_step_under_mixed_precision(images):
    def one_step(policy):
        keras.config.set_dtype_policy(policy)
        try:
            keras.utils.set_random_seed(0)
            model = V.VAE(*coders(), seed=0)
            model.compile(keras.optimizers.SGD(1e-3))
            start = [w.copy() for w in model.get_weights()]
            loss = model.fit(images[:64], epochs=1, batch_size=64, verbose=0).history["loss"][0]
            return loss, [b - a for a, b in zip(start, model.get_weights())]
        finally:
            keras.config.set_dtype_policy("float32")

    loss32, step32 = one_step("float32")
    loss16, step16 = one_step("mixed_float16")
    assert np.isfinite(loss16) and abs(loss16 - loss32) < 0.01 * abs(loss32)
    norm32, norm16 = (np.sqrt(sum(float((d ** 2).sum()) for d in step)) for step in (step32, step16))
    assert abs(norm16 - norm32) < 0.05 * norm32  # not divided (or multiplied) by the loss scale
    keras.config.set_dtype_policy("mixed_float16")
    try:
        out = V.AutoregressiveDense()(np.ones((2, 6), "float16"))
        assert keras.backend.standardize_dtype(out.dtype) == "float16"
    finally:
        keras.config.set_dtype_policy("float32")


def _sampling_class(body):
    """A Sampling layer class whose call is ``body(self, z_mean, z_log_var)`` (for exercise 4's checker)."""

    class Candidate(keras.layers.Layer):
        def __init__(self, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs):
            return body(self, *inputs)

    return Candidate


def test_exercise_q4_sampling_layer(capsys):
    from keras import ops

    from aeutils.exercises import ____
    from aeutils.exercises.nb06 import q4

    scope = {"keras": keras, "ops": ops}
    exec(q4.solution_text, scope)
    q4.check(scope["MySampling"])
    assert q4.passed
    normal = lambda self, m: keras.random.normal(ops.shape(m), seed=self.seed_generator)  # noqa: E731
    wrong = {
        "add the mean": lambda self, m, v: ops.exp(0.5 * v) * normal(self, m),
        "not exp(log σ²)": lambda self, m, v: m + ops.exp(v) * normal(self, m),
        "scale the noise": lambda self, m, v: m + normal(self, m),
        "same ε": lambda self, m, v: m + ops.exp(0.5 * v) * keras.random.normal(ops.shape(m), seed=7),
        "same first ε": lambda self, m, v: m + ops.exp(0.5 * v) * np.random.standard_normal(m.shape).astype("f4"),
    }
    for message, body in wrong.items():
        q4.check(_sampling_class(body))
        assert not q4.passed and message in capsys.readouterr().out, message
    q4.check(_sampling_class(lambda self, m, v: ____))
    assert not q4.passed and "not attempted" in capsys.readouterr().out
