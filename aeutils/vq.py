"""Vector-quantised autoencoders and a learned prior over their code grids (taught in notebook 09).

- :func:`nearest_codes`: the index of the nearest codebook vector for every encoder output (squared distance);
- :func:`straight_through`: ``z_e + stop_gradient(z_q − z_e)``: the value of ``z_q``, the gradient of the identity;
- :func:`reinit_dead_codes`: codebook rows that no encoder output chose since the last reset are moved onto encoder
  outputs drawn at random (the usual fix for dead codes), the other rows untouched;
- :class:`VectorQuantizer`: the codebook layer (van den Oord et al. 2017, "Neural discrete representation learning");
- :class:`VQVAE`: encoder → quantiser → decoder with a custom ``train_step``/``test_step``: the encoder reads the
  grey image, a Bernoulli reconstruction term scores a (dynamic) binarisation of it as in notebooks 06–07, plus the
  codebook loss and β × the commitment loss (β = 0.25 as in the paper), every term a sum over one image and the
  loss a mean over images;
- :class:`MaskedConv2D` and :func:`build_pixelcnn`: a small PixelCNN (van den Oord et al. 2016) over the grid of code
  indices, and :func:`sample_grid`, which draws whole batches of grids one position at a time;
- :func:`code_usage`: how many codes a set of grids uses, and the perplexity of their frequencies.

The classes are registered under the package ``aeutils``: a ``.keras`` file loads in a fresh process after
``import aeutils.vq``, with ``safe_mode`` on.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from aeutils.likelihoods import bernoulli_nll

PACKAGE = "aeutils"


def nearest_codes(z, codebook):
    """Index of the nearest row of ``codebook`` (K, D) for every row of ``z`` (N, D), by squared Euclidean
    distance ‖z‖² − 2 z·e + ‖e‖², computed as one matrix product (notebook 09)."""
    d2 = (ops.sum(ops.square(z), axis=1, keepdims=True) - 2.0 * ops.matmul(z, ops.transpose(codebook))
          + ops.sum(ops.square(codebook), axis=1)[None, :])
    return ops.argmin(d2, axis=1)


def straight_through(z_e, z_q):
    """The straight-through estimator (notebook 09): forward, the quantised ``z_q``; backward, the gradient passes
    to ``z_e`` as if quantisation were the identity."""
    return z_e + ops.stop_gradient(z_q - z_e)


def reinit_dead_codes(codebook, counts, candidates, seed=None, due=True):
    """``codebook`` with every row whose ``counts`` is 0 replaced by a row of ``candidates`` (encoder outputs,
    (N, D)) drawn at random, when ``due``; live rows are returned unchanged (notebook 09)."""
    picks = keras.random.randint((ops.shape(codebook)[0],), 0, ops.shape(candidates)[0], seed=seed)
    replacement = ops.take(candidates, picks, axis=0)
    dead = ops.logical_and(ops.equal(counts, 0), due)
    return ops.where(dead[:, None], ops.cast(replacement, codebook.dtype), codebook)


def code_usage(indices, num_codes: int) -> dict:
    """Codebook usage of a set of code indices (any shape): ``used`` (codes chosen at least once), ``fraction``
    of the codebook, ``dead`` codes and the ``perplexity`` exp(H) of the code frequencies (H in nats): K when every
    code is equally frequent, 1 when one code takes everything (notebook 09)."""
    counts = np.bincount(np.asarray(indices).reshape(-1), minlength=num_codes)
    p = counts[counts > 0] / counts.sum()
    used = int((counts > 0).sum())
    return {"used": used, "fraction": used / num_codes, "dead": num_codes - used,
            "perplexity": float(np.exp(-(p * np.log(p)).sum()))}


@keras.saving.register_keras_serializable(package=PACKAGE)
class VectorQuantizer(layers.Layer):
    """A codebook of ``num_codes`` vectors of size ``code_dim``. ``call(z_e)`` for encoder outputs (…, D) returns
    ``(z, indices, codebook_loss, commitment_loss)``: z the nearest codes passed straight through, their indices,
    and per image Σ‖sg(z_e) − z_q‖² (moves the codes) and Σ‖z_e − sg(z_q)‖² (keeps the encoder near its codes).
    The codebook starts uniform in ±1/K, a common choice of PyTorch ports of the paper (which released no official
    code; the Keras VQ-VAE example draws it uniform in ±0.05)."""

    def __init__(self, num_codes: int, code_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.num_codes, self.code_dim = int(num_codes), int(code_dim)

    def build(self, input_shape):
        limit = 1.0 / self.num_codes
        self.codebook = self.add_weight(shape=(self.num_codes, self.code_dim), name="codebook",
                                        initializer=keras.initializers.RandomUniform(-limit, limit))

    def lookup(self, indices):
        """The code vectors of ``indices`` (any shape) → (…, D)."""
        return ops.take(self.codebook, ops.cast(indices, "int32"), axis=0)

    def call(self, z_e):
        flat = ops.reshape(z_e, (-1, self.code_dim))
        indices = ops.reshape(nearest_codes(flat, self.codebook), ops.shape(z_e)[:-1])
        z_q = self.lookup(indices)
        n = ops.shape(z_e)[0]
        codebook_loss = ops.sum(ops.reshape(ops.square(ops.stop_gradient(z_e) - z_q), (n, -1)), axis=1)
        commitment_loss = ops.sum(ops.reshape(ops.square(z_e - ops.stop_gradient(z_q)), (n, -1)), axis=1)
        return straight_through(z_e, z_q), indices, codebook_loss, commitment_loss

    def get_config(self):
        return {**super().get_config(), "num_codes": self.num_codes, "code_dim": self.code_dim}


@keras.saving.register_keras_serializable(package=PACKAGE)
class VQVAE(keras.Model):
    """``encoder`` (images → (h, w, D)), a :class:`VectorQuantizer` and ``decoder`` (codes → pixel logits).

    ``fit``/``evaluate`` report ``loss`` = reconstruction + codebook + β·commitment, each term a mean over images of
    a per-image sum, and ``perplexity`` (of the batch's codes). The encoder reads the images ``x`` as given (grey);
    the reconstruction term scores the target ``y`` when one is given (``evaluate(x, binarised_x)``), else, with
    ``binarize=True``, a fresh binarisation of ``x`` at every step (else ``x`` itself). The code thus cannot carry the
    binarisation's noise, and the decoder's means stay grey. ``reset_every`` > 0 re-initialises, every that many
    steps, the codes no encoder output chose since the last reset (:func:`reinit_dead_codes`); 0 leaves dead codes
    dead. ``predict``/``call`` return the reconstruction's pixel probabilities. Taught in notebook 09."""

    def __init__(self, encoder, decoder, num_codes: int, beta: float = 0.25, reset_every: int = 0,
                 binarize: bool = True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.num_codes, self.code_dim = int(num_codes), int(encoder.outputs[0].shape[-1])
        self.beta, self.reset_every, self.binarize, self.seed = float(beta), int(reset_every), bool(binarize), seed
        self.quantizer = VectorQuantizer(self.num_codes, self.code_dim, name="quantizer")
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.counts = self.add_weight(shape=(self.num_codes,), initializer="zeros", trainable=False,
                                      name="counts", dtype="float32")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in
                         ("loss", "reconstruction", "codebook", "commitment", "perplexity")}
        self.build(tuple(encoder.inputs[0].shape))

    def build(self, input_shape):
        self.quantizer.build(self.encoder.outputs[0].shape)
        super().build(input_shape)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _terms(self, x, target, training: bool):
        z_e = self.encoder(x, training=training)
        z, indices, codebook_loss, commitment_loss = self.quantizer(z_e)
        reconstruction = bernoulli_nll(target, self.decoder(z, training=training))
        return z_e, indices, {"reconstruction": reconstruction, "codebook": codebook_loss,
                              "commitment": commitment_loss}

    def _track(self, indices, terms):
        per_image = terms["reconstruction"] + terms["codebook"] + self.beta * terms["commitment"]
        p = ops.bincount(ops.reshape(indices, (-1,)), minlength=self.num_codes) / ops.size(indices)
        entropy = -ops.sum(ops.where(p > 0, p * ops.log(ops.maximum(p, 1e-12)), 0.0))
        for name, value in {"loss": per_image, **terms, "perplexity": ops.exp(entropy)}.items():
            self.trackers[name].update_state(value)
        return {name: m.result() for name, m in self.trackers.items()}

    def _inputs(self, data, training: bool):
        """``(x, target)``: the target is ``y`` if given, else ``x`` binarised afresh (training, ``binarize``)."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.convert_to_tensor(x)
        if y is not None:
            return x, ops.convert_to_tensor(y)
        if self.binarize and training:  # dynamic binarisation, as in notebooks 06-07
            return x, ops.cast(keras.random.uniform(ops.shape(x), seed=self.noise_seed) < x, x.dtype)
        return x, x

    def train_step(self, data):
        x, target = self._inputs(data, training=True)
        with tf.GradientTape() as tape:
            z_e, indices, terms = self._terms(x, target, training=True)
            loss = ops.mean(terms["reconstruction"] + terms["codebook"] + self.beta * terms["commitment"])
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        if self.reset_every:
            self._reset_dead(z_e, indices)
        return self._track(indices, terms)

    def _reset_dead(self, z_e, indices):
        """Count this batch's codes; every ``reset_every`` steps move the uncounted ones onto encoder outputs."""
        counts = self.counts + ops.cast(ops.bincount(ops.reshape(indices, (-1,)), minlength=self.num_codes), "float32")
        due = ops.equal(self.optimizer.iterations % self.reset_every, 0)
        candidates = ops.reshape(ops.stop_gradient(z_e), (-1, self.code_dim))
        book = self.quantizer.codebook
        book.assign(reinit_dead_codes(book, counts, candidates, seed=self.noise_seed, due=due))
        self.counts.assign(ops.where(due, ops.zeros_like(counts), counts))

    def test_step(self, data):
        _, indices, terms = self._terms(*self._inputs(data, training=False), training=False)
        return self._track(indices, terms)

    def call(self, x, training: bool = False):
        z, _, _, _ = self.quantizer(self.encoder(x, training=training))
        return ops.sigmoid(self.decoder(z, training=training))

    def encode_indices(self, x, batch_size: int = 1000) -> np.ndarray:
        """The grid of code indices of every image in ``x``: (n, h, w) integers."""
        parts = [self.quantizer(self.encoder(np.asarray(x[i:i + batch_size], np.float32)))[1]
                 for i in range(0, len(x), batch_size)]
        return np.concatenate([ops.convert_to_numpy(p) for p in parts]).astype(np.int32)

    def decode_indices(self, indices, batch_size: int = 1000) -> np.ndarray:
        """Pixel probabilities (decoder means) of grids of code indices (n, h, w)."""
        parts = [ops.sigmoid(self.decoder(self.quantizer.lookup(indices[i:i + batch_size])))
                 for i in range(0, len(indices), batch_size)]
        return np.concatenate([ops.convert_to_numpy(p) for p in parts])

    def get_config(self):
        return {**super().get_config(), "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder), "num_codes": self.num_codes,
                "beta": self.beta, "reset_every": self.reset_every, "binarize": self.binarize, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        parts = ("encoder", "decoder")  # functional models, serialised in get_config
        return cls(**{k: keras.saving.deserialize_keras_object(v) if k in parts else v for k, v in config.items()})


def build_vq_encoder_decoder(code_dim: int, channels=(32, 64)):
    """Notebook 07's convolutional encoder and decoder, with a 1×1 convolution to ``code_dim`` numbers at each of the
    7×7 positions instead of the dense heads: ``(encoder, decoder)`` for :class:`VQVAE` (notebook 09)."""
    c1, c2 = channels
    x = keras.Input((28, 28, 1), name="image")
    h = layers.Conv2D(c1, 3, strides=2, padding="same", activation="relu")(x)
    h = layers.Conv2D(c2, 3, strides=2, padding="same", activation="relu")(h)
    encoder = keras.Model(x, layers.Conv2D(code_dim, 1, name="z_e")(h), name="encoder")
    z = keras.Input((7, 7, code_dim), name="codes")
    h = layers.Conv2D(c2, 3, padding="same", activation="relu")(z)
    h = layers.Conv2DTranspose(c1, 3, strides=2, padding="same", activation="relu")(h)
    logits = layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="logits")(h)
    return encoder, keras.Model(z, logits, name="decoder")


def causal_mask(kernel_size: int, mask_type: str) -> np.ndarray:
    """The (k, k) mask of a PixelCNN convolution: 1 above the centre row and left of the centre; the centre itself
    is 1 for type ``"B"`` (later layers) and 0 for type ``"A"`` (the first layer, which must not see its target)."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B'; got {mask_type!r}.")
    mask = np.zeros((kernel_size, kernel_size), np.float32)
    centre = kernel_size // 2
    mask[:centre] = 1.0
    mask[centre, :centre + (mask_type == "B")] = 1.0
    return mask


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedConv2D(layers.Layer):
    """A 'same' 2-d convolution whose kernel is multiplied by :func:`causal_mask`: position (r, c) sees only the
    positions before it in reading order (and itself, for type ``"B"``). Notebook 09's PixelCNN."""

    def __init__(self, filters: int, kernel_size: int, mask_type: str = "B", activation=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.mask_type = int(filters), int(kernel_size), mask_type
        self.activation = keras.activations.get(activation)
        self.mask = causal_mask(self.kernel_size, mask_type)[:, :, None, None]

    def build(self, input_shape):
        k = self.kernel_size
        self.kernel = self.add_weight(shape=(k, k, input_shape[-1], self.filters), name="kernel",
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros")

    def call(self, x):
        y = ops.conv(x, self.kernel * ops.convert_to_tensor(self.mask, self.compute_dtype), padding="same")
        return self.activation(y + self.bias)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "mask_type": self.mask_type, "activation": keras.activations.serialize(self.activation)}


def build_pixelcnn(num_codes: int, grid: int = 7, channels: int = 64, blocks: int = 3, first_kernel: int = 5):
    """A small PixelCNN over a ``grid``×``grid`` grid of code indices → logits over the ``num_codes`` codes at every
    position: an embedding, one type-A masked convolution, ``blocks`` residual type-B 3×3 ones, two 1×1 layers
    (notebook 09). Train it with sparse categorical cross-entropy on the indices themselves (teacher forcing)."""
    tokens = keras.Input((None, grid), dtype="int32", name="codes")  # any number of rows: see sample_grid
    h = layers.Embedding(num_codes, channels)(tokens)
    h = MaskedConv2D(channels, first_kernel, "A", activation="relu")(h)
    for _ in range(blocks):
        h = layers.Add()([h, MaskedConv2D(channels, 3, "B", activation="relu")(h)])
    h = layers.Conv2D(channels, 1, activation="relu")(h)
    return keras.Model(tokens, layers.Conv2D(num_codes, 1, name="code_logits")(h), name="pixelcnn")


def sample_grid(prior, n: int, grid: int = 7, seed: int = 0, batch_size: int = 5000) -> np.ndarray:
    """``n`` grids of code indices drawn from ``prior`` position by position in reading order: ``grid²`` calls of
    the network, each on a whole batch of grids (the Gumbel-max trick draws every grid's code at once). The call
    for a position in row r reads rows 0…r only: the masks give the rows below no weight, so they can be left out
    (exactly the same logits, about half the work)."""
    rng, out = np.random.default_rng(seed), []
    for start in range(0, n, batch_size):
        tokens = np.zeros((min(batch_size, n - start), grid, grid), np.int32)
        for r in range(grid):
            for c in range(grid):
                logits = ops.convert_to_numpy(prior(tokens[:, :r + 1], training=False)[:, r, c]).astype(np.float64)
                tokens[:, r, c] = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
        out.append(tokens)
    return np.concatenate(out)
