"""Variational autoencoders: the :class:`Sampling` layer, the :class:`VAE` model and the bounds that evaluate it.

Taught in notebook 06 (dense encoder and decoder), reused in notebook 07 (convolutional, and with the
autoregressive decoder that :class:`AutoregressiveDense` makes). The classes are registered with Keras under the
package ``aeutils``, so a saved ``.keras`` file loads in a fresh process after ``import aeutils.vae`` — without
the notebook's code — and with ``safe_mode`` on.

Conventions (notebook 06, section 2): every term is a **sum over one image** (784 pixels, L latent units) in nats,
and a batch's loss is the **mean over its images**. The reconstruction term is the negative
log-likelihood of the pixels under the decoder's logits (:mod:`aeutils.likelihoods`: Bernoulli for binary pixels,
continuous Bernoulli for grey ones); the KL term is the closed form for a diagonal Gaussian
posterior against N(0, I); β weights the KL term in the training loss, while the −ELBO always uses β = 1.

Many devices (appendix A1): under a ``tf.distribute`` strategy with N > 1 replicas each replica sees a shard of the
global batch, and the optimizer *sums* the replicas' gradients. The training loss is therefore each replica's sum
over its images divided by the *global* batch size (:func:`global_batch_mean`), and :class:`Sampling` draws the
global batch's noise and keeps its replica's rows, so a step on N replicas is the step one device takes on the
same global batch. On one device (no strategy, or one replica) neither changes a single operation.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from aeutils.latent import prior_grid, slerp  # noqa: F401 (re-exported: notebook 07 reads them from here)
from aeutils.likelihoods import LIKELIHOODS, bernoulli_nll, gaussian_kl  # noqa: F401 (re-exported)

PACKAGE = "aeutils"
LOG_VAR_LIMIT = 10.0  # σ between e^-5 ≈ 0.007 and e^5 ≈ 148: see VAE.posterior


def _replica_context():
    """The current replica context when it runs one of N > 1 replicas in sync, else None (one device, or the
    cross-replica context of a ``strategy.scope()``)."""
    context = tf.distribute.get_replica_context()
    return context if context is not None and context.num_replicas_in_sync > 1 else None


def global_batch_mean(values):
    """The mean of ``values`` (one per image) over the **global** batch, as this replica's share of it.

    On one device: ``ops.mean(values)``, unchanged. On N > 1 replicas: this replica's sum divided by the number of
    images in the global batch (summed over the replicas, so an uneven last batch is exact too). The optimizer sums
    the replicas' gradients, so their sum is the gradient of the global mean; a plain ``ops.mean`` on every replica
    would give N times that, with no error (appendix A1). ``tf.nn.compute_average_loss`` does the same when told
    the global batch size (without it, it assumes the local size × N)."""
    context = _replica_context()
    if context is None:
        return ops.mean(values)
    values = ops.cast(values, "float32")
    count = context.all_reduce("sum", ops.cast(ops.shape(values)[0], "float32"))
    return ops.sum(values) / count


def _replica_rows(x):
    """``(start, total)``: where this replica's rows of ``x`` sit in the global batch, and that batch's size; None
    on one device. ``experimental_distribute_dataset`` (which ``fit`` uses) splits a global batch into consecutive
    shards in replica order."""
    context = _replica_context()
    if context is None:
        return None
    sizes = context.all_gather(tf.reshape(tf.shape(x)[0], [1]), axis=0)
    replica = tf.cast(context.replica_id_in_sync_group, tf.int32)
    return tf.reduce_sum(sizes[:replica]), tf.reduce_sum(sizes)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Sampling(keras.layers.Layer):
    """The reparameterization trick: ``z = μ + exp(½ log σ²) · ε`` with ε ~ N(0, I) drawn from the layer's own
    :class:`keras.random.SeedGenerator`, so each call draws new noise and a given seed repeats the whole run.

    Under N > 1 replicas the generator's state is mirrored, so every replica would draw the *same* ε for its shard
    (image k of each shard sharing one noise vector). Each replica instead draws ε for the whole global batch and
    keeps its own rows: independent noise, and the very ε one device draws for the same global batch (A1)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        rows = _replica_rows(z_mean)
        if rows is None:  # one device
            epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        else:  # this replica's rows of the global batch's noise
            start, total = rows
            shape = tf.concat([tf.reshape(total, [1]), tf.shape(z_mean)[1:]], axis=0)
            epsilon = keras.random.normal(shape, dtype=z_mean.dtype, seed=self.seed_generator)
            epsilon = epsilon[start:start + tf.shape(z_mean)[0]]
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class VAE(keras.Model):
    """A VAE around any ``encoder`` (images → ``[z_mean, z_log_var]``) and ``decoder`` (z → pixel logits).

    ``fit``, ``evaluate`` and ``validation_data`` report ``loss`` (reconstruction + β·KL), ``reconstruction`` and
    ``kl``, each the mean over images of a per-image sum (weighted by a ``sample_weight``: pass it with a target,
    ``fit(x, x, sample_weight=w)``, which the VAE ignores, because Keras drops sample weights when ``y`` is None);
    ``predict``/``call`` return the decoded posterior mean as pixel probabilities (a reconstruction, not a sample:
    deterministic). Taught in notebook 06. With ``autoregressive=True`` the decoder reads ``[z, x]`` (notebook 07):
    ``predict`` gives each pixel's probability given the code and the true pixels before it; :func:`decode`
    generates from the code alone.

    ``likelihood`` names the pixel model (:mod:`aeutils.likelihoods`): ``"bernoulli"`` for binary pixels (a true
    −log p(x) only on binary data), ``"continuous_bernoulli"`` for grey ones. ``binarize=True`` trains on a fresh
    binarisation of every image at every step (dynamic binarisation; evaluate on a fixed one made by
    :func:`aeutils.likelihoods.binarize`); its noise is not replica-aware, so appendix A1 leaves it off.

    ``beta`` is a non-trainable variable: ``vae.beta = 4.0`` after a first ``fit`` changes what the next ``fit``
    optimises. Under a ``mixed_float16`` policy the terms are summed in float32 and the loss is scaled by the
    optimizer's loss scale.
    """

    def __init__(self, encoder, decoder, beta: float = 1.0, seed=None, autoregressive: bool = False,
                 likelihood: str = "bernoulli", binarize: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.seed, self.autoregressive = seed, bool(autoregressive)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {sorted(LIKELIHOODS)}; got {likelihood!r}.")
        self.likelihood, self.binarize = likelihood, bool(binarize)
        self.binarize_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)
        wanted = 2 if self.autoregressive else 1
        if getattr(decoder, "inputs", None) is not None and len(decoder.inputs) != wanted:
            raise ValueError(
                f"the decoder takes {len(decoder.inputs)} inputs, but a VAE with autoregressive={self.autoregressive} "
                f"feeds it {wanted}: " + ("[z, x]." if self.autoregressive else "z. Pass autoregressive=True for a "
                                          "decoder that reads [z, x] (notebook 07); other inputs need their own model.")
            )
        self._beta = self.add_weight(shape=(), initializer=keras.initializers.Constant(float(beta)), trainable=False,
                                     name="beta", dtype="float32")
        self.sampling = Sampling(seed=seed, name="sampling")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        if getattr(encoder, "inputs", None) is not None:
            self.build(tuple(encoder.inputs[0].shape))

    def build(self, input_shape):
        """Functional encoders and decoders arrive built; a subclassed encoder is built for ``input_shape`` here."""
        if not self.encoder.built:
            self.encoder.build(input_shape)
        if not self.decoder.built:
            raise ValueError("build the decoder before the VAE (a functional keras.Model is built when created).")
        super().build(input_shape)

    @property
    def beta(self) -> float:
        """The weight of the KL term in the training loss (the −ELBO always uses 1)."""
        return float(keras.ops.convert_to_numpy(self._beta))

    @beta.setter
    def beta(self, value: float) -> None:
        self._beta.assign(float(value))

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def logits(self, z, x, training: bool = False):
        """The decoder's pixel logits for codes ``z`` (an autoregressive decoder also reads the image ``x``)."""
        if not self.autoregressive:
            return self.decoder(z, training=training)
        return self.decoder([ops.convert_to_tensor(z), ops.convert_to_tensor(x)], training=training)

    def posterior(self, x, training: bool = False):
        """The encoder's ``(z_mean, z_log_var)``, with log σ² clipped to ±``LOG_VAR_LIMIT``: a guard against the
        rare early step where a huge log-variance overflows ``exp`` and the loss becomes NaN (seen at batch 64
        or learning rate 4e-3 while writing notebook 06); a healthy model never reaches the limit."""
        z_mean, z_log_var = self.encoder(x, training=training)
        return z_mean, ops.clip(z_log_var, -LOG_VAR_LIMIT, LOG_VAR_LIMIT)

    def nll(self, x, logits):
        """−log p(x | z) per image under the VAE's ``likelihood`` (:mod:`aeutils.likelihoods`)."""
        return LIKELIHOODS[self.likelihood](x, logits)

    def terms(self, x, training: bool = False):
        """Per-image reconstruction NLL and KL, with one posterior sample z per image."""
        x = ops.convert_to_tensor(x)
        z_mean, z_log_var = self.posterior(x, training=training)
        logits = self.logits(self.sampling([z_mean, z_log_var]), x, training=training)
        return self.nll(x, logits), gaussian_kl(z_mean, z_log_var)

    def _objective(self, data, training: bool):
        """Per-image losses (reconstruction + β·KL), their terms, and the batch loss: the mean over images, weighted
        by ``sample_weight`` when given (Keras' convention: the sum of weighted losses over the batch size). Under
        N > 1 replicas the batch loss is this replica's share of the global batch's mean (:func:`global_batch_mean`);
        the trackers see the per-image values, and Keras sums their totals and counts over the replicas."""
        x, _, weight = keras.utils.unpack_x_y_sample_weight(data)
        if self.binarize and training:  # dynamic binarisation: a fresh draw of every image at every step
            x = ops.convert_to_tensor(x)
            noise = keras.random.uniform(ops.shape(x), dtype=x.dtype, seed=self.binarize_seed)
            x = ops.cast(noise < x, x.dtype)
        reconstruction, kl = self.terms(x, training=training)
        per_image = reconstruction + self._beta * kl
        if weight is None:
            return per_image, reconstruction, kl, None, global_batch_mean(per_image)
        weight = ops.reshape(ops.cast(weight, "float32"), (-1,))
        return per_image, reconstruction, kl, weight, global_batch_mean(per_image * weight)

    def _track(self, per_image, reconstruction, kl, weight):
        self.loss_tracker.update_state(per_image, sample_weight=weight)
        self.reconstruction_tracker.update_state(reconstruction, sample_weight=weight)
        self.kl_tracker.update_state(kl, sample_weight=weight)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        with tf.GradientTape() as tape:  # the lesson of notebook 06: the gradient of the loss we write
            per_image, reconstruction, kl, weight, loss = self._objective(data, training=True)
            scaled = self.optimizer.scale_loss(loss)  # × the loss scale under mixed precision, else unchanged
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)  # divides the loss scale back out
        return self._track(per_image, reconstruction, kl, weight)

    def test_step(self, data):
        per_image, reconstruction, kl, weight, _ = self._objective(data, training=False)
        return self._track(per_image, reconstruction, kl, weight)

    def call(self, x, training: bool = False):
        z_mean, _ = self.encoder(x, training=training)
        return ops.sigmoid(self.logits(z_mean, x, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "seed": self.seed,
            "autoregressive": self.autoregressive,
            "likelihood": self.likelihood,
            "binarize": self.binarize,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for part in ("encoder", "decoder"):
            config[part] = keras.saving.deserialize_keras_object(config[part])
        return cls(**config)


@keras.saving.register_keras_serializable(package=PACKAGE)
class AutoregressiveDense(keras.layers.Layer):
    """A linear layer over the flattened image in which value ``i`` sees only the values before it in reading order:
    ``y_i = Σ_{j<i} x_j W_ji`` (the kernel times a strictly upper-triangular mask), reshaped back to the input's
    shape. Added to a VAE decoder's logits it lets every pixel use the pixels above and to its left — the
    autoregressive decoder of notebook 07, section 7 (PixelCNN's idea in its simplest, linear form). The kernel
    starts at zero: training starts from the plain decoder."""

    def build(self, input_shape):
        size = math.prod(input_shape[1:])
        self.mask = ops.convert_to_tensor(np.triu(np.ones((size, size), np.float32), k=1))  # mask[j, i] = 1 iff j < i
        self.kernel = self.add_weight(shape=(size, size), initializer="zeros", name="kernel")

    def call(self, x):
        flat = ops.reshape(x, (ops.shape(x)[0], -1))
        masked = self.kernel * ops.cast(self.mask, self.compute_dtype)  # stays float16 under mixed precision
        return ops.reshape(ops.matmul(flat, masked), ops.shape(x))


def _batches(x, batch_size: int):
    for start in range(0, len(x), batch_size):
        yield np.asarray(x[start:start + batch_size], np.float32)


def encode_means(vae, x, batch_size: int = 1000) -> np.ndarray:
    """The posterior means μ(x) of every image in ``x``: the VAE's deterministic code."""
    return np.concatenate([np.asarray(vae.encoder(b)[0]) for b in _batches(x, batch_size)])


def decode(vae, z, batch_size: int = 1000) -> np.ndarray:
    """Pixel probabilities for latent points ``z``, decoded in batches (one call for a whole grid of points).

    For a factorised decoder this is the decoder's mean E[x | z] (each pixel's Bernoulli probability). An
    autoregressive decoder (notebook 07, section 7) needs the pixels before each pixel: they are set one at a time
    in reading order, each to its probability given the code and the pixels already set (a deterministic
    *probability rollout*: neither a sample nor the decoder's mean, which :func:`sample_pixels` estimates). The
    part of the logits that depends on z alone is computed once (:func:`_autoregressive_split`)."""
    step = _decode_autoregressive if vae.autoregressive else _probabilities
    return np.concatenate([step(vae, b) for b in _batches(z, batch_size)])


def _probabilities(vae, z) -> np.ndarray:
    """A factorised decoder's pixel probabilities for one batch of codes."""
    return np.asarray(ops.sigmoid(vae.decoder(z)))


def _autoregressive_split(vae, z):
    """``(base, kernel)`` when the decoder's logits are ``base(z) + flat(x) @ kernel``, as in notebook 07's decoder
    (one :class:`AutoregressiveDense` added to a path from z): ``base`` (n, d) are the logits with every pixel 0,
    computed once per z, and ``kernel`` (d, d) is the masked kernel. Checked on a random image, so any other
    decoder (a nonlinearity after the masked term, two masked layers) gets None and the per-pixel decoder loop."""
    masked = [layer for layer in vae.decoder.layers if isinstance(layer, AutoregressiveDense)]
    if len(masked) != 1:
        return None
    z = np.asarray(z, np.float32)
    shape = (len(z), *vae.decoder.inputs[1].shape[1:])
    base = np.asarray(vae.decoder([z, np.zeros(shape, np.float32)])).reshape(len(z), -1)
    layer = masked[0]
    kernel = np.asarray(layer.kernel) * np.asarray(layer.mask)
    probe = (np.random.default_rng(0).random(shape[1:]) < 0.5).astype(np.float32)[None]
    got = np.asarray(vae.decoder([z[:1], probe])).reshape(-1)
    want = base[0] + probe.reshape(-1) @ kernel
    if kernel.shape != (base.shape[1],) * 2 or not np.allclose(got, want, rtol=1e-4, atol=1e-3):
        return None
    return base.astype(np.float64), kernel.astype(np.float64)


def _rollout(base, kernel, choose) -> np.ndarray:
    """Pixels in reading order from ``logit_i = base_i + Σ_{j<i} x_j kernel_ji``: pixel i is ``choose(i, p_i)``
    with p_i its probability; then its term ``x_i · kernel_i`` is added to the later pixels' logits. One rank-1
    update of a NumPy array per pixel instead of one decoder call per pixel."""
    logits, x = base.copy(), np.zeros(base.shape, np.float32)
    for i in range(base.shape[1]):
        x[:, i] = choose(i, 1.0 / (1.0 + np.exp(-logits[:, i])))
        logits[:, i + 1:] += x[:, i, None] * kernel[i, i + 1:]
    return x


def _decoder_loop(vae, z, choose) -> np.ndarray:
    """The same as :func:`_rollout`, by calling the whole decoder once per pixel (any autoregressive decoder)."""
    z = np.asarray(z, np.float32)
    x = np.zeros((len(z), *vae.decoder.inputs[1].shape[1:]), np.float32)
    flat = x.reshape(len(z), -1)  # a view: writing to it fills x
    for i in range(flat.shape[1]):
        logits = np.asarray(vae.decoder.predict_on_batch([z, x])).reshape(len(z), -1)
        flat[:, i] = choose(i, 1.0 / (1.0 + np.exp(-logits[:, i])))
    return flat.copy()


def _decode_autoregressive(vae, z, choose=lambda i, p: p, naive: bool = False) -> np.ndarray:
    split = None if naive else _autoregressive_split(vae, z)
    flat = _decoder_loop(vae, z, choose) if split is None else _rollout(*split, choose)
    return flat.reshape(len(z), *vae.decoder.inputs[1].shape[1:])


def sample_pixels(vae, z, seed: int = 0, batch_size: int = 1000, naive: bool = False) -> np.ndarray:
    """Images drawn from the decoder, x ~ p(x | z): every pixel a Bernoulli draw (0 or 1), from uniforms drawn
    with ``seed`` (the same seed and z give the same images). Factorised decoder: all pixels at once. Autoregressive
    decoder (notebook 07, section 7): in reading order, each pixel drawn given z and the pixels already drawn; the
    z-path is computed once per z and the masked term added pixel by pixel (:func:`_rollout`); ``naive=True`` calls
    the whole decoder once per pixel instead (the same images, for timing and tests). Averaging many draws for the
    same z estimates the decoder's mean E[x | z]."""
    rng, out = np.random.default_rng(seed), []
    for b in _batches(z, batch_size):
        if vae.autoregressive:
            u = rng.random((len(b), math.prod(vae.decoder.inputs[1].shape[1:])))
            out.append(_decode_autoregressive(vae, b, lambda i, p, u=u: (u[:, i] < p).astype(np.float32), naive))
        else:
            p = _probabilities(vae, b)
            out.append((rng.random(p.shape) < p).astype(np.float32))
    return np.concatenate(out)


def elbo_terms(vae, x, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Per-image reconstruction NLL and KL (nats), one posterior sample each; −ELBO = their sum."""
    parts = [vae.terms(b) for b in _batches(x, batch_size)]
    return tuple(np.concatenate([np.asarray(p[i]) for p in parts]) for i in (0, 1))


def importance_weighted_nll(vae, x, k: int = 100, batch_size: int = 100, seed: int = 0) -> np.ndarray:
    """Per-image bound −log p(x) ≤ −log (1/k) Σ_j p(x|z_j) p(z_j) / q(z_j|x), z_j ~ q(z|x) (Burda et al., 2016).

    Tighter than the −ELBO for k > 1 and equal to it in expectation for k = 1; computed with ``logsumexp`` so the
    k weights never under- or overflow. Taught in notebook 06.
    """
    rng = np.random.default_rng(seed)
    out = []
    for b in _batches(x, batch_size):
        z_mean, z_log_var = (np.asarray(t) for t in vae.posterior(b))
        eps = rng.standard_normal((k, *z_mean.shape), dtype=np.float32)
        z = z_mean + np.exp(0.5 * z_log_var) * eps  # (k, batch, L)
        x_k = np.tile(b, (k,) + (1,) * (b.ndim - 1))
        log_px_z = -np.asarray(vae.nll(x_k, vae.logits(z.reshape(-1, z.shape[-1]), x_k))).reshape(k, -1)
        log_pz = -0.5 * np.sum(z**2 + math.log(2 * math.pi), axis=-1)
        log_qz = -0.5 * np.sum(eps**2 + math.log(2 * math.pi) + z_log_var, axis=-1)
        log_w = log_px_z + log_pz - log_qz
        out.append(-(np.asarray(ops.logsumexp(log_w, axis=0)) - math.log(k)))
    return np.concatenate(out)


def active_units(vae, x, threshold: float = 0.01) -> tuple[int, np.ndarray]:
    """How many latent units the posterior mean actually uses: Var_x(μ_u(x)) > ``threshold`` (Burda et al.).

    Returns ``(count, variances)``; a unit whose μ never moves carries no information about x (posterior collapse).
    """
    variances = encode_means(vae, x).var(axis=0)
    return int((variances > threshold).sum()), variances
