"""A conditional VAE: encoder and decoder both read the class, so the code is left with the "style" (notebook 09).

:func:`build_conditional_conv_vae` is notebook 07's convolutional VAE with a one-hot class vector joined to the
encoder's features and to the decoder's code; :class:`ConditionalVAE` trains it with a custom ``train_step`` on
``fit(images, one_hot_classes)`` (the class arrives as ``y``), with the Bernoulli likelihood on dynamically binarised
pixels and the KL term against N(0, I), as in notebooks 06–07. :func:`swap_classes` decodes every code under every
class: style transfer; :func:`swap_accuracy` and :func:`style_kept` measure it (content by the classifier, style by
model-free image statistics). Registered under ``aeutils``: a ``.keras`` file loads after
``import aeutils.conditional``.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops
from scipy.stats import rankdata

from aeutils.likelihoods import bernoulli_nll, gaussian_kl
from aeutils.vae import LOG_VAR_LIMIT, PACKAGE, Sampling


def build_conditional_conv_vae(latent_dim: int, n_classes: int = 10, channels=(32, 64), seed: int = 0,
                               beta: float = 1.0):
    """Notebook 07's conv VAE (:func:`aeutils.architectures.build_conv_vae`) with the class joined in: the encoder
    reads ``[image, one_hot]`` (the class concatenated to its flattened features), the decoder ``[z, one_hot]``;
    ``beta`` weighs the KL term in the training loss (notebook 06's β-VAE)."""
    c1, c2 = channels
    x, c = keras.Input((28, 28, 1), name="image"), keras.Input((n_classes,), name="class")
    h = layers.Conv2D(c1, 3, strides=2, padding="same", activation="relu")(x)
    h = layers.Conv2D(c2, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.Concatenate()([layers.Flatten()(h), c])
    encoder = keras.Model([x, c], [layers.Dense(latent_dim, name="z_mean")(h),
                                   layers.Dense(latent_dim, name="z_log_var")(h)], name="encoder")
    z, c = keras.Input((latent_dim,), name="z"), keras.Input((n_classes,), name="class")
    h = layers.Dense(7 * 7 * c2, activation="relu")(layers.Concatenate()([z, c]))
    h = layers.Reshape((7, 7, c2))(h)
    h = layers.Conv2DTranspose(c1, 3, strides=2, padding="same", activation="relu")(h)
    logits = layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="logits")(h)
    decoder = keras.Model([z, c], logits, name="decoder")
    return ConditionalVAE(encoder, decoder, beta=beta, seed=seed, name=f"conditional_vae_L{latent_dim}")


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConditionalVAE(keras.Model):
    """A VAE whose ``encoder`` maps ``[images, one_hot]`` → ``[z_mean, z_log_var]`` and whose ``decoder`` maps
    ``[z, one_hot]`` → pixel logits. Train with ``fit(images, one_hot)``; ``reconstruction`` + ``kl`` is the
    −ELBO of log p(x | class), nats per binarised image. ``call([images, one_hot])`` returns the reconstruction's
    pixel probabilities (from μ). ``loss`` is reconstruction + ``beta``·KL, the −ELBO when β = 1
    (``reconstruction`` + ``kl`` always is). Taught in notebook 09."""

    def __init__(self, encoder, decoder, beta: float = 1.0, seed=None, binarize: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.seed, self.binarize = encoder, decoder, seed, bool(binarize)
        self.beta = float(beta)
        self.sampling = Sampling(seed=seed, name="sampling")
        self.binarize_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.trackers = [keras.metrics.Mean(name=n) for n in ("loss", "reconstruction", "kl")]
        self.build(tuple(encoder.inputs[0].shape))

    def build(self, input_shape):
        super().build(input_shape)

    @property
    def metrics(self):
        return self.trackers

    def _step_terms(self, data, training: bool):
        x, c, _ = keras.utils.unpack_x_y_sample_weight(data)
        x, c = ops.convert_to_tensor(x), ops.cast(c, "float32")
        if self.binarize and training:
            x = ops.cast(keras.random.uniform(ops.shape(x), seed=self.binarize_seed) < x, x.dtype)
        z_mean, z_log_var = self.encoder([x, c], training=training)
        z_log_var = ops.clip(z_log_var, -LOG_VAR_LIMIT, LOG_VAR_LIMIT)
        logits = self.decoder([self.sampling([z_mean, z_log_var]), c], training=training)
        return bernoulli_nll(x, logits), gaussian_kl(z_mean, z_log_var)

    def _track(self, reconstruction, kl):
        for tracker, value in zip(self.trackers, (reconstruction + self.beta * kl, reconstruction, kl)):
            tracker.update_state(value)
        return {m.name: m.result() for m in self.trackers}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            reconstruction, kl = self._step_terms(data, training=True)
            loss = ops.mean(reconstruction + self.beta * kl)
        self.optimizer.apply(tape.gradient(loss, self.trainable_weights), self.trainable_weights)
        return self._track(reconstruction, kl)

    def test_step(self, data):
        return self._track(*self._step_terms(data, training=False))

    def call(self, inputs, training: bool = False):
        x, c = inputs
        z_mean, _ = self.encoder([x, c], training=training)
        return ops.sigmoid(self.decoder([z_mean, c], training=training))

    def encode(self, x, labels, batch_size: int = 1000) -> np.ndarray:
        """Posterior means μ(x, class) of images ``x`` with integer ``labels``."""
        one_hot = one_hot_of(labels, self.decoder.inputs[1].shape[-1])
        return np.concatenate([ops.convert_to_numpy(self.encoder([x[i:i + batch_size], one_hot[i:i + batch_size]])[0])
                               for i in range(0, len(x), batch_size)])

    def decode(self, z, labels, batch_size: int = 1000) -> np.ndarray:
        """Pixel probabilities (decoder means) for codes ``z`` under integer class ``labels``."""
        one_hot = one_hot_of(labels, self.decoder.inputs[1].shape[-1])
        return np.concatenate([ops.convert_to_numpy(ops.sigmoid(self.decoder([z[i:i + batch_size],
                                                                               one_hot[i:i + batch_size]])))
                               for i in range(0, len(z), batch_size)])

    def get_config(self):
        return {**super().get_config(), "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder), "seed": self.seed,
                "binarize": self.binarize, "beta": self.beta}

    @classmethod
    def from_config(cls, config):
        parts = ("encoder", "decoder")  # functional models, serialised in get_config
        return cls(**{k: keras.saving.deserialize_keras_object(v) if k in parts else v for k, v in config.items()})


def one_hot_of(labels, n_classes: int = 10) -> np.ndarray:
    """Integer labels → float32 one-hot rows."""
    return np.eye(n_classes, dtype=np.float32)[np.asarray(labels, int)]


def swap_classes(cvae, z, n_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Every code of ``z`` (n, L) decoded under every class: ``(images (n, n_classes, 28, 28, 1), targets)``, with
    ``targets[i, k] = k`` the class each image was asked for (notebook 09's style transfer)."""
    n = len(z)
    targets = np.tile(np.arange(n_classes), (n, 1))
    images = cvae.decode(np.repeat(z, n_classes, axis=0), targets.reshape(-1))
    return images.reshape(n, n_classes, *images.shape[1:]), targets


def swap_accuracy(predicted, y) -> tuple[float, float, float]:
    """Content of class swaps: ``predicted`` (n, n_classes) classifier labels of every code decoded under every
    class, ``y`` (n,) the sources' classes. Returns (share of the *other* classes' decodes labelled as asked, its
    standard error over source images (a code's swaps are not independent), share labelled as the source's class)
    (notebook 09)."""
    n, k = predicted.shape
    other = np.arange(k)[None, :] != np.asarray(y)[:, None]
    per_source = ((predicted == np.arange(k)[None, :]) & other).sum(1) / (k - 1)
    as_source = ((predicted == np.asarray(y)[:, None]) & other).sum(1) / (k - 1)
    return float(per_source.mean()), float(per_source.std(ddof=1) / np.sqrt(n)), float(as_source.mean())


def ink_mass(images) -> np.ndarray:
    """Total ink of each image (the sum of its pixel intensities): a model-free style statistic (notebook 09)."""
    return np.asarray(images, np.float64).reshape(len(images), -1).sum(1)


def box_width(images, level: float = 0.5) -> np.ndarray:
    """Width in pixels of each image's bounding box (columns holding a pixel above ``level``; 0 if none)."""
    cols = (np.asarray(images).reshape(len(images), 28, -1) > level).any(axis=1)
    first, last = cols.argmax(1), cols.shape[1] - 1 - cols[:, ::-1].argmax(1)
    return np.where(cols.any(1), last - first + 1, 0).astype(np.float64)


def _rank_corr_rows(a, b) -> np.ndarray:
    """Spearman correlation of each row of ``a`` with the same row of ``b`` (both (B, m))."""
    ra, rb = rankdata(a, axis=1), rankdata(b, axis=1)
    ra, rb = ra - ra.mean(1, keepdims=True), rb - rb.mean(1, keepdims=True)
    return (ra * rb).sum(1) / np.sqrt((ra ** 2).sum(1) * (rb ** 2).sum(1) + 1e-12)


def style_kept(source_stat, swapped_stat, y, n_boot: int = 200, seed: int = 0) -> dict:
    """How well a style statistic survives class swaps, without any model: for each source class j and each other
    target class k, the Spearman correlation, across the sources of class j, between the statistic of the source
    image (``source_stat``, (n,)) and of its decode under class k (``swapped_stat[:, k]``, (n, n_classes)); the mean
    over the (j, k) pairs. Within a source class, so that the class itself cannot make the correlation. Returns
    ``swap``, ``own`` (k = j: the reconstructions, the reference) and ``control`` (sources shuffled within their
    class), each with a bootstrap standard error over source images (``*_se``) (notebook 09)."""
    y, rng = np.asarray(y), np.random.default_rng(seed)
    n_classes = swapped_stat.shape[1]
    sums = {"swap": [], "own": [], "control": []}
    for j in np.unique(y):
        src, out = source_stat[y == j], swapped_stat[y == j]
        idx = np.concatenate([np.arange(len(src))[None], rng.integers(0, len(src), (n_boot, len(src)))])
        shuffled = src[rng.permutation(len(src))]
        others = [k for k in range(n_classes) if k != j]
        sums["swap"].append(np.mean([_rank_corr_rows(src[idx], out[idx, k]) for k in others], axis=0))
        sums["own"].append(_rank_corr_rows(src[idx], out[idx, j]))
        sums["control"].append(np.mean([_rank_corr_rows(shuffled[idx], out[idx, k]) for k in others], axis=0))
    result = {}
    for name, values in sums.items():
        per_boot = np.mean(values, axis=0)  # row 0: the data itself; rows 1…: bootstrap resamples of the sources
        result[name], result[f"{name}_se"] = float(per_boot[0]), float(per_boot[1:].std(ddof=1))
    return result
