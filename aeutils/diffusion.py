"""Denoising diffusion on an autoencoder's latent codes: the schedule, the forward process, the denoiser, the samplers.

Taught in notebook 10 (latent diffusion). The notation is Ho et al. (2020), "Denoising diffusion probabilistic
models": a variance schedule β_1 … β_T, α_t = 1 − β_t and ᾱ_t = α_1 ⋯ α_t. Arrays are indexed by ``t = 0 … T−1``
for the steps 1 … T, so ``alpha_bars[t]`` is ᾱ of step t + 1.

- :func:`make_schedule` gives Ho's *linear* β schedule or Nichol & Dhariwal's (2021) *cosine* ᾱ schedule;
- :func:`q_sample` draws z_t from q(z_t | z_0) = N(√ᾱ_t z_0, (1 − ᾱ_t) I) in closed form, and
  :func:`forward_iterate` walks the forward chain step by step (the check that the closed form is right);
- :class:`Denoiser` is an MLP ε_θ(z_t, t) with a sinusoidal time embedding, a ``keras.Model`` whose ``train_step``
  and ``test_step`` minimise the noise-prediction loss ‖ε − ε_θ(z_t, t)‖² (Ho's "simple" objective);
- :func:`ddpm_sample` (ancestral sampling, every step) and :func:`ddim_sample` (Song et al. 2021, any subsequence of
  the steps; ``eta=0`` is deterministic, starting where ᾱ_t ≥ 1e-3) run as batched NumPy loops around one
  compiled call of the network per step. They take any noise predictor ``eps(z, t)``, so a test can hand them the
  true noise.

Fast on a CPU because the codes are short (L numbers instead of 784 pixels): each step is a few small matrix
products on a whole batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

PACKAGE = "aeutils"


@dataclass(frozen=True)
class Schedule:
    """β_t, α_t = 1 − β_t and ᾱ_t = ∏ α_s for t = 0 … T−1 (float64), and the schedule's name."""

    kind: str
    betas: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.betas)

    @property
    def alphas(self) -> np.ndarray:
        return 1.0 - self.betas

    @property
    def alpha_bars(self) -> np.ndarray:
        return np.cumprod(self.alphas)


def make_schedule(kind: str = "cosine", steps: int = 1000, beta_max: float = 0.999) -> Schedule:
    """Ho et al.'s linear β from 1e-4 to 0.02 (scaled to ``steps``), or Nichol & Dhariwal's cosine ᾱ_t =
    f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2), s = 0.008, its β clipped at ``beta_max`` (notebook 10)."""
    if kind == "linear":
        scale = 1000 / steps
        return Schedule(kind, np.linspace(scale * 1e-4, scale * 0.02, steps, dtype=np.float64))
    if kind == "cosine":
        f = np.cos((np.arange(steps + 1) / steps + 0.008) / 1.008 * np.pi / 2) ** 2
        return Schedule(kind, np.clip(1 - f[1:] / f[:-1], 0.0, beta_max))
    raise ValueError(f"schedule kind must be 'linear' or 'cosine', not {kind!r}.")


def q_sample(z0, t, eps, alpha_bars):
    """z_t = √ᾱ_t z_0 + √(1 − ᾱ_t) ε: one draw of q(z_t | z_0) in closed form, for a batch of indices ``t``
    (any backend tensors or NumPy arrays; ``alpha_bars`` is indexed by ``t``)."""
    ab = ops.take(ops.convert_to_tensor(alpha_bars, "float32"), t)[:, None]
    return ops.sqrt(ab) * z0 + ops.sqrt(1.0 - ab) * eps


def forward_iterate(z0, betas, steps: int, seed: int = 0) -> np.ndarray:
    """z after ``steps`` steps of the forward chain z_s = √(1 − β_s) z_{s−1} + √β_s ε_s, one step at a time."""
    rng, z = np.random.default_rng(seed), np.asarray(z0, np.float64)
    for beta in betas[:steps]:
        z = np.sqrt(1 - beta) * z + np.sqrt(beta) * rng.standard_normal(z.shape)
    return z


def timestep_embedding(t, dim: int, max_period: float = 10000.0):
    """Transformer-style sinusoidal features of the step ``t`` (shape (n,)): cos and sin of t at ``dim / 2``
    frequencies, geometrically spaced from 1 down to 1 / ``max_period`` → shape (n, dim)."""
    half = dim // 2
    freqs = ops.exp(-math.log(max_period) * ops.arange(half, dtype="float32") / half)
    angles = ops.cast(ops.reshape(t, (-1, 1)), "float32") * freqs[None, :]
    return ops.concatenate([ops.cos(angles), ops.sin(angles)], axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Denoiser(keras.Model):
    """ε_θ(z_t, t): an MLP on the noisy code plus a learned projection of the step's sinusoidal embedding, with
    residual blocks (notebook 10). ``call([z_t, t])`` returns the predicted noise. ``fit(z0)`` trains on clean codes:
    each step draws t uniformly and ε ~ N(0, I) from the model's own :class:`keras.random.SeedGenerator` and
    minimises the mean squared error between ε and ε_θ(q_sample(z0, t, ε), t)."""

    def __init__(self, latent_dim: int, width: int = 256, blocks: int = 3, embed_dim: int = 64,
                 schedule: str = "cosine", steps: int = 1000, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.width, self.blocks, self.embed_dim = latent_dim, width, blocks, embed_dim
        self.schedule_kind, self.steps, self.seed = schedule, steps, seed
        self.schedule = make_schedule(schedule, steps)
        self.time_mlp = [layers.Dense(width, activation="silu", name="time_1"), layers.Dense(width, name="time_2")]
        self.inp = layers.Dense(width, name="inp")
        self.hidden = [[layers.LayerNormalization(name=f"norm_{i}"), layers.Dense(width, activation="silu",
                       name=f"dense_{i}a"), layers.Dense(width, name=f"dense_{i}b")] for i in range(blocks)]
        self.out = layers.Dense(latent_dim, name="eps", kernel_initializer="zeros")
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, inputs, training: bool = False):
        z, t = inputs
        h = self.inp(z) + self.time_mlp[1](self.time_mlp[0](timestep_embedding(t, self.embed_dim)))
        for norm, dense_a, dense_b in self.hidden:
            h = h + dense_b(dense_a(norm(h)))
        return self.out(h)

    @property
    def metrics(self):
        return [self.loss_tracker]

    def _loss(self, z0, training: bool):
        n = ops.shape(z0)[0]
        t = keras.random.randint((n,), 0, self.steps, seed=self.noise_seed)
        eps = keras.random.normal(ops.shape(z0), seed=self.noise_seed)
        z_t = q_sample(z0, t, eps, self.schedule.alpha_bars)
        return ops.mean(ops.square(eps - self([z_t, t], training=training)))

    def train_step(self, data):
        z0 = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            loss = self._loss(z0, training=True)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        z0 = data[0] if isinstance(data, tuple) else data
        self.loss_tracker.update_state(self._loss(z0, training=False))
        return {"loss": self.loss_tracker.result()}

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "width": self.width, "blocks": self.blocks,
                "embed_dim": self.embed_dim, "schedule": self.schedule_kind, "steps": self.steps, "seed": self.seed}


def noise_predictor(model: Denoiser):
    """``eps(z, t)`` for the samplers: the model's forward pass compiled once (``tf.function``), fed a NumPy batch
    of codes and one step index for the whole batch, returning NumPy."""
    forward = tf.function(lambda z, t: model([z, t], training=False), reduce_retracing=True)

    def eps(z, t):
        steps = np.full(len(z), t, np.int32)
        return ops.convert_to_numpy(forward(tf.constant(z, tf.float32), tf.constant(steps)))
    return eps


def ddpm_sample(eps, schedule: Schedule, n: int, latent_dim: int, seed: int = 0,
                clip: float | None = None, clipped: list | None = None) -> np.ndarray:
    """Ancestral sampling over all T steps (Ho et al., Algorithm 2): z_T ~ N(0, I), then z_{t−1} drawn from
    q(z_{t−1} | z_t, ẑ_0) with ẑ_0 = (z_t − √(1 − ᾱ_t) ε(z_t, t)) / √ᾱ_t: mean
    (√ᾱ_{t−1} β_t ẑ_0 + √α_t (1 − ᾱ_{t−1}) z_t) / (1 − ᾱ_t), variance β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), no noise
    at the last step. Without ``clip`` this is Ho's ε form exactly; with it ẑ_0 is bounded to ±clip first, and
    ``clipped``, if a list, receives the share of clipped coordinates at each step (step T first). At step T the
    clip is DDPM's safeguard: unclipped, the step multiplies ε's error by β_T/√α_T (about 32 for the cosine
    schedule), since ẑ_0 carries it ×1/√ᾱ_T (notebook 10)."""
    rng = np.random.default_rng(seed)
    b, a, ab = schedule.betas, schedule.alphas, schedule.alpha_bars
    z = rng.standard_normal((n, latent_dim))
    for t in range(schedule.steps - 1, -1, -1):
        ab_prev = ab[t - 1] if t > 0 else 1.0
        z0 = (z - np.sqrt(1 - ab[t]) * eps(z, t)) / np.sqrt(ab[t])
        if clip is not None:
            z0_clipped = np.clip(z0, -clip, clip)
            if clipped is not None:
                clipped.append(float(np.mean(z0_clipped != z0)))
            z0 = z0_clipped
        z = (np.sqrt(ab_prev) * b[t] * z0 + np.sqrt(a[t]) * (1 - ab_prev) * z) / (1 - ab[t])
        if t > 0:
            z += np.sqrt(b[t] * (1 - ab_prev) / (1 - ab[t])) * rng.standard_normal(z.shape)
    return z.astype(np.float32)


def ddim_steps(total: int, steps: int, last: int | None = None) -> np.ndarray:
    """``steps`` step indices spread evenly over 0 … ``last`` (default total − 1), ending at ``last``."""
    last = total - 1 if last is None else last
    return np.unique(np.round(np.linspace(0, last, steps)).astype(int))


def ddim_sample(eps, schedule: Schedule, n: int, latent_dim: int, steps: int = 50, eta: float = 0.0, seed: int = 0,
                z_start=None, clip: float | None = None, min_alpha_bar: float = 1e-3,
                clipped: list | None = None) -> np.ndarray:
    """DDIM (Song et al. 2021) on ``steps`` of the T steps: predict z_0 from ε, then step to the previous chosen
    index, z_prev = √ᾱ_prev ẑ_0 + √(1 − ᾱ_prev − σ²) ε + σ ξ; ``eta = 0`` is deterministic given z_T, ``eta = 1``
    is DDPM's noise level. ``z_start`` (optional) is the starting z.

    The chain starts at the last step with ᾱ_t ≥ ``min_alpha_bar``, not at T: the cosine schedule ends at
    ᾱ_T ≈ 2e-9, where ẑ_0 = (z_t − √(1 − ᾱ_t) ε)/√ᾱ_t multiplies any error of ε by 1/√ᾱ_t ≈ 20 000, and a coarse
    chain's next step carries that ẑ_0 at full weight (notebook 10). ``clip`` bounds ẑ_0 to ±clip, and ε is then
    recomputed from the clipped ẑ_0 so that the step stays on the line through z_t (as diffusers'
    ``use_clipped_model_output``); ``clipped``, if a list, receives the share of clipped coordinates at each step."""
    rng = np.random.default_rng(seed)
    ab = schedule.alpha_bars
    z = rng.standard_normal((n, latent_dim)) if z_start is None else np.asarray(z_start, np.float64)
    chosen = ddim_steps(schedule.steps, steps, last=int(np.nonzero(ab >= min_alpha_bar)[0].max()))[::-1]
    for i, t in enumerate(chosen):
        ab_prev = ab[chosen[i + 1]] if i + 1 < len(chosen) else 1.0
        e = eps(z, t)
        z0 = (z - np.sqrt(1 - ab[t]) * e) / np.sqrt(ab[t])
        if clip is not None:
            z0_clipped = np.clip(z0, -clip, clip)
            if clipped is not None:
                clipped.append(float(np.mean(z0_clipped != z0)))
            z0, e = z0_clipped, (z - np.sqrt(ab[t]) * z0_clipped) / np.sqrt(1 - ab[t])
        sigma = eta * np.sqrt((1 - ab_prev) / (1 - ab[t]) * (1 - ab[t] / ab_prev))
        z = np.sqrt(ab_prev) * z0 + np.sqrt(max(1 - ab_prev - sigma**2, 0.0)) * e
        if sigma > 0:
            z += sigma * rng.standard_normal(z.shape)
    return z.astype(np.float32)
