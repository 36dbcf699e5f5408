"""Models and training helpers that several notebooks reuse, each taught in the notebook its docstring names."""

from __future__ import annotations

import time

import keras
import numpy as np


def two_paths(x, hidden, out_units: int, shortcut: bool = True):
    """A ReLU MLP from ``x`` to ``out_units``, plus (if ``shortcut``) a bias-free linear map of ``x``.

    Taught in notebook 01, section 3 (the linear shortcut beside the MLP).
    """
    h = x
    for units in hidden:
        h = keras.layers.Dense(units, activation="relu")(h)
    out = keras.layers.Dense(out_units)(h)
    if shortcut:
        out = keras.layers.Add()([out, keras.layers.Dense(out_units, use_bias=False)(x)])
    return out


def build_dense_autoencoder(latent_dim: int, hidden=(512, 256), shortcut: bool = True, input_dim: int = 784):
    """Notebook 01's dense autoencoder: returns ``(encoder, decoder, autoencoder)`` with code size ``latent_dim``.

    Inputs are flat vectors of ``input_dim`` pixels in [0, 1]; the decoder ends in a sigmoid.
    """
    images = keras.Input((input_dim,), name="image")
    encoder = keras.Model(images, two_paths(images, hidden, latent_dim, shortcut), name=f"encoder_L{latent_dim}")
    codes = keras.Input((latent_dim,), name="code")
    pixels = keras.layers.Activation("sigmoid")(two_paths(codes, list(hidden)[::-1], input_dim, shortcut))
    decoder = keras.Model(codes, pixels, name=f"decoder_L{latent_dim}")
    autoencoder = keras.Model(images, decoder(encoder(images)), name=f"autoencoder_L{latent_dim}")
    return encoder, decoder, autoencoder


def compile_for(model, epochs: int, n_train: int, batch_size: int = 256, lr: float = 4e-3, loss="mse",
                jit_compile: bool = False):
    """Adam with a cosine-decayed learning rate over exactly the planned steps (taught in notebook 01)."""
    steps = epochs * int(np.ceil(n_train / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(steps, 1), alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, jit_compile=jit_compile)
    return model


def fit_timed(model, x, y, epochs: int, batch_size: int = 256, **fit_kwargs):
    """``model.fit`` that also returns the measured seconds per epoch: ``(history, seconds_per_epoch)``.

    Used from notebook 02 on to report what each model costs on the learner's own CPU.
    """
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, **fit_kwargs)
    return history, (time.perf_counter() - start) / max(epochs, 1)


class EpochTimer(keras.callbacks.Callback):
    """Records the seconds of each epoch from its first step to its last (no ``fit`` start-up, no tracing after
    the first epoch)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def epoch_lines(tag: str, active: bool = True) -> keras.callbacks.Callback:
    """A callback that prints one compact line per epoch (``tag``, the epoch, every logged value) when ``active``,
    and nothing otherwise: progress a learner can see in full mode, a quiet quick mode (notebook 06)."""
    def line(epoch, logs):
        if active:
            print(f"{tag} epoch {epoch + 1}: " + ", ".join(f"{k} {float(v):.4g}" for k, v in logs.items()), flush=True)
    return keras.callbacks.LambdaCallback(on_epoch_end=line)


def seconds_per_epoch(model, x, n_epoch: int, batch_size: int = 256) -> float:
    """Seconds one epoch over ``n_epoch`` images would take, from the second of two epochs timed on ``x``.

    The first epoch absorbs tracing and compilation; ``model`` must be compiled. Taught in notebook 02.
    """
    timer = EpochTimer()
    model.fit(x, x, epochs=2, batch_size=batch_size, verbose=0, callbacks=[timer])
    return timer.seconds[-1] * n_epoch / len(x)
