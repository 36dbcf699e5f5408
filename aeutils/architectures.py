"""The VAE architectures more than one notebook trains (taught in notebooks 06 and 07; reused by 09 and 10).

* :func:`build_conv_vae` — notebook 07's convolutional VAE: notebook 02's encoder, a mirrored decoder ending in logits.
* :func:`build_dense_vae` — notebook 06's dense VAE (GELU); notebook 07 adds one masked layer to make its decoder
  autoregressive.

Both return :class:`aeutils.vae.VAE` models on binarised images (``binarize=True``).
"""

from __future__ import annotations

import keras
from keras import layers

from aeutils.vae import VAE, AutoregressiveDense


def build_conv_vae(latent_dim: int, channels=(32, 64), activation: str = "relu", seed: int = 0) -> VAE:
    """Conv encoder 28×28×1 → (μ, log σ²) and a mirrored Conv2DTranspose decoder → 28×28×1 logits (notebook 07).

    ``seed`` seeds the VAE's sampling; the initial weights come from Keras' global seed
    (``keras.utils.set_random_seed``)."""
    c1, c2 = channels
    x = keras.Input((28, 28, 1), name="image")
    h = layers.Conv2D(c1, 3, strides=2, padding="same", activation=activation)(x)
    h = layers.Conv2D(c2, 3, strides=2, padding="same", activation=activation)(h)
    h = layers.Flatten()(h)
    encoder = keras.Model(x, [layers.Dense(latent_dim, name="z_mean")(h),
                              layers.Dense(latent_dim, name="z_log_var")(h)], name="encoder")
    z = keras.Input((latent_dim,), name="z")
    h = layers.Dense(7 * 7 * c2, activation=activation)(z)
    h = layers.Reshape((7, 7, c2))(h)
    h = layers.Conv2DTranspose(c1, 3, strides=2, padding="same", activation=activation)(h)
    logits = layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="logits")(h)
    decoder = keras.Model(z, logits, name="decoder")
    return VAE(encoder, decoder, seed=seed, binarize=True, name=f"conv_vae_L{latent_dim}")


def build_dense_vae(latent_dim: int, autoregressive: bool = False, hidden=(512, 256), seed: int = 0) -> VAE:
    """Notebook 06's dense VAE (GELU) on flat 784-pixel images (notebook 07).

    With ``autoregressive=True`` the decoder also reads the image: logits = dense(z) + masked linear(x), the
    masked layer letting pixel i see only the pixels before it. The weights are seeded with ``seed``, so both
    kinds start from the same weights in every layer they share."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((784,), name="image")
    h = x
    for units in hidden:
        h = layers.Dense(units, activation="gelu")(h)
    encoder = keras.Model(x, [layers.Dense(latent_dim, name="z_mean")(h),
                              layers.Dense(latent_dim, name="z_log_var")(h)], name="encoder")
    z, before = keras.Input((latent_dim,), name="z"), keras.Input((784,), name="pixels")
    g = z
    for units in hidden[::-1]:
        g = layers.Dense(units, activation="gelu")(g)
    logits = layers.Dense(784, name="z_path")(g)
    if autoregressive:
        logits = layers.Add(name="logits")([logits, AutoregressiveDense(name="pixels_before")(before)])
    decoder = keras.Model([z, before] if autoregressive else z, logits, name="decoder")
    kind = "autoregressive" if autoregressive else "factorised"
    return VAE(encoder, decoder, seed=seed, autoregressive=autoregressive, binarize=True, name=f"{kind}_L{latent_dim}")
