"""Exercises of notebook 01 (the undercomplete autoencoder): ``from aeutils.exercises.nb01 import q1, q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call, check_whole_number


def _check_dense_params(answer) -> str | None:
    return check_whole_number(
        answer, 784 * 512 + 512, {784 * 512: "you counted the weights; each of the 512 units also has a bias."},
        "count one weight per (input, unit) pair, plus one bias per unit.",
    )


def _check_make_encoder(fn) -> str | None:
    import keras

    model = call(fn, 3)
    if not isinstance(model, keras.Model):
        return f"make_encoder must return a Keras model (keras.Sequential([...])), not {type(model).__name__}."
    out = keras.ops.convert_to_numpy(model(np.zeros((2, 784), "float32")))
    if out.shape != (2, 3):
        return f"for latent_dim=3 and two 784-pixel images the code should have shape (2, 3); got {out.shape}."
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if len(dense) < 2:
        return "use at least one hidden Dense layer (with a ReLU) before the code layer: one layer is linear."
    if dense[-1].activation.__name__ != "linear":
        return f"the code layer has activation {dense[-1].activation.__name__!r}; leave it without one (linear)."
    if any(layer.activation.__name__ != "relu" for layer in dense[:-1]):
        return "give the hidden Dense layers activation=\"relu\"."
    return None


def _check_per_image_mse(fn) -> str | None:
    rng = np.random.default_rng(0)
    x, x_hat = rng.random((5, 28, 28)), rng.random((5, 28, 28))
    got = np.asarray(call(fn, x, x_hat))
    want = ((x - x_hat) ** 2).reshape(5, -1).mean(axis=1)
    if got.shape != (5,):
        return f"for 5 images of 28×28 the result should have shape (5,), one error per image; got {got.shape}."
    if np.allclose(got, want * 784):
        return "that is the per-image *sum* of squared errors; divide by the number of pixels for the mean."
    if not np.allclose(got, want, rtol=1e-5):
        return "the values are off: square the differences, then average over every axis but the first."
    try:
        flat = np.asarray(call(fn, x.reshape(5, -1), x_hat.reshape(5, -1)))
    except Exception:
        flat = None
    if flat is None or flat.shape != (5,) or not np.allclose(flat, want):
        return "it works for (n, 28, 28) images but not for flat (n, 784) vectors; reshape to (n, -1) first."
    return None


def _check_pca_reconstruct(fn) -> str | None:
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 20)) + rng.normal(scale=0.1, size=(200, 20)) + 5
    pca = PCA(3).fit(x)
    got = np.asarray(call(fn, x, pca))
    want = pca.inverse_transform(pca.transform(x))
    if got.shape != x.shape:
        return f"the reconstruction must have the input's shape {x.shape}; got {got.shape}."
    if np.allclose(got + pca.mean_, want):
        return "close: after projecting the centred data, add the mean back."
    if not np.allclose(got, want, atol=1e-6):
        return "the values are off: centre with pca.mean_, project on pca.components_ (rows), map back, add the mean."
    return None


q1 = Exercise(
    "q1", _check_dense_params,
    "A Dense layer holds a weight matrix of shape (inputs, units) and a bias vector of shape (units,).",
    "784 * 512 + 512  # = 401920: weights plus biases, as the summary's first line says.",
)
q2 = Exercise(
    "q2", _check_make_encoder,
    "keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation='relu'),"
    " keras.layers.Dense(latent_dim)])",
    "def make_encoder(latent_dim):\n"
    "    import keras\n\n"
    "    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation=\"relu\"),\n"
    "                             keras.layers.Dense(latent_dim)])  # the code: no activation",
)
q3 = Exercise(
    "q3", _check_per_image_mse,
    "Flatten each image with x.reshape(len(x), -1), then take the mean of the squared differences along axis 1.",
    "def per_image_mse(x, x_hat):\n"
    "    diff = np.asarray(x).reshape(len(x), -1) - np.asarray(x_hat).reshape(len(x_hat), -1)\n"
    "    return (diff ** 2).mean(axis=1)",
)
q4 = Exercise(
    "q4", _check_pca_reconstruct,
    "PCA's encoder is z = (x - mean) @ W.T and its decoder is x_hat = z @ W + mean, with W = pca.components_.",
    "def pca_reconstruct(x, pca):\n"
    "    z = (x - pca.mean_) @ pca.components_.T   # encode: project on the principal axes\n"
    "    return z @ pca.components_ + pca.mean_     # decode: map back and un-centre",
)
