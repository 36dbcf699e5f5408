"""Molecules as strings: tokenisers, a vocabulary, the sequence VAE and its batched sampler (notebook 11).

Taught in notebook 11. SMILES are split with the regular expression of Schwaller et al. (2019, "Molecular
Transformer"), which keeps two-letter atoms (``Cl``, ``Br``), bracket atoms (``[nH]``, ``[C@@H]``) and two-digit ring
closures (``%10``) whole; SELFIES (Krenn et al. 2020) are split into their bracketed symbols by
``selfies.split_selfies``. A :class:`Vocab` maps tokens to integers with ``<pad>`` = 0, ``<bos>`` = 1 and
``<eos>`` = 2, so a molecule becomes ``<bos> t1 … tn <eos> <pad> …``.

:class:`SequenceVAE` is notebook 06's VAE on token sequences: a 1-D convolutional encoder, the series' own
:class:`aeutils.vae.Sampling` layer, and a GRU decoder (:class:`GRUDecoder`) that either reads the previous token
(teacher forcing: the true one in training, as in Gómez-Bombarelli et al. 2018's terminal GRU) or only the code,
repeated at every step (the decoder of the ``keras-molecules`` implementation), so that it cannot ignore the code.
The reconstruction term is the cross-entropy of the tokens, summed over one molecule (padding masked out); the KL
term is the closed form of :func:`aeutils.likelihoods.gaussian_kl`; ``beta`` weights it and can be annealed.
:func:`generate` decodes a batch of codes, greedily or by sampling.
The field's metrics live in :mod:`aeutils.chem`.
"""

from __future__ import annotations

import re
from importlib.resources import files

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from aeutils.data import verified_weights
from aeutils.likelihoods import gaussian_kl
from aeutils.vae import LOG_VAR_LIMIT, VAE, Sampling

PACKAGE = "aeutils"
SPECIALS = ("<pad>", "<bos>", "<eos>")
PAD, BOS, EOS = 0, 1, 2
PRETRAINED_SHA256 = {  # scripts/train_molecule_vae.py prints them; aeutils/weights/README.md has the facts
    "selfies": "fac6f7b59555280d30ce1a1aa9b746dcc9edbfdc8da7561633a343efd788111d",
    "smiles": "2c0106d6aa8a9bd9379e63b422409b9dc3aa2d6ffbdcf94089dae9988184d6d0",
}
SMILES_REGEX = re.compile(
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])"
)


def smiles_tokens(smiles: str) -> list[str]:
    """SMILES split into tokens; raises ValueError if the tokens do not spell the string back (a character the
    regular expression does not know)."""
    tokens = SMILES_REGEX.findall(smiles)
    if "".join(tokens) != smiles:
        raise ValueError(f"SMILES {smiles!r} holds characters the tokeniser does not know")
    return tokens


def selfies_tokens(smiles: str) -> list[str]:
    """The SELFIES symbols of a SMILES string (``selfies.encoder`` then ``selfies.split_selfies``)."""
    import selfies

    return list(selfies.split_selfies(selfies.encoder(smiles)))


def tokens_to_smiles(tokens, representation: str) -> str:
    """Join tokens back into a string and, for SELFIES, decode it to SMILES (a SELFIES always decodes)."""
    text = "".join(tokens)
    if representation == "selfies":
        import selfies

        return selfies.decoder(text)
    return text


TOKENISERS = {"smiles": smiles_tokens, "selfies": selfies_tokens}


class Vocab:
    """Tokens ↔ integers: ``<pad>`` 0, ``<bos>`` 1, ``<eos>`` 2, then the tokens of the training set, sorted."""

    def __init__(self, tokens):
        self.itos = list(SPECIALS) + sorted(set(tokens) - set(SPECIALS))
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def from_sequences(cls, sequences) -> Vocab:
        """The vocabulary of a list of token lists."""
        return cls(t for seq in sequences for t in seq)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, sequences, max_len: int) -> np.ndarray:
        """``(n, max_len + 2)`` int32: ``<bos>``, the tokens, ``<eos>``, then ``<pad>``. Raises on a sequence longer
        than ``max_len`` or an unknown token (filter with :func:`fits` first)."""
        out = np.zeros((len(sequences), max_len + 2), np.int32)
        for row, seq in zip(out, sequences):
            if len(seq) > max_len:
                raise ValueError(f"a sequence of {len(seq)} tokens is longer than max_len={max_len}")
            row[: len(seq) + 2] = [BOS, *(self.stoi[t] for t in seq), EOS]
        return out

    def decode(self, ids) -> list[list[str]]:
        """Token lists from integer rows: reading stops at the first ``<eos>`` or ``<pad>``; ``<bos>`` is skipped."""
        out = []
        for row in np.asarray(ids):
            seq = []
            for i in row:
                if i in (EOS, PAD):
                    break
                if i != BOS:
                    seq.append(self.itos[i])
            out.append(seq)
        return out

    def fits(self, seq, max_len: int) -> bool:
        """Whether a token list can be encoded: at most ``max_len`` tokens, all in the vocabulary."""
        return len(seq) <= max_len and all(t in self.stoi for t in seq)


def conv_encoder(vocab_size: int, seq_len: int, latent_dim: int, embed_dim: int = 32, filters=(64, 64),
                 kernel: int = 5, hidden: int = 256) -> keras.Model:
    """Tokens ``(n, seq_len)`` → ``[z_mean, z_log_var]``: an embedding, 1-D convolutions (stride 2: each halves the
    length), a dense layer. Convolutions see every position at once, so the encoder costs a few matrix products per
    batch on a CPU, where a recurrent encoder would take ``seq_len`` small sequential steps."""
    tokens = keras.Input((seq_len,), dtype="int32", name="tokens")
    h = layers.Embedding(vocab_size, embed_dim, name="embed")(tokens)
    for k, f in enumerate(filters):
        h = layers.Conv1D(f, kernel, strides=2, padding="same", activation="relu", name=f"conv{k}")(h)
    h = layers.Dense(hidden, activation="relu", name="hidden")(layers.Flatten()(h))
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    return keras.Model(tokens, [z_mean, z_log_var], name="encoder")


@keras.saving.register_keras_serializable(package=PACKAGE)
class GRUDecoder(keras.layers.Layer):
    """``(z, previous tokens[, state]) → (next-token logits, state)``. The code sets the GRU's initial state and is
    its input at every step. With ``teacher_forcing=True`` the input also holds the embedding of the previous token:
    in training the true one (one pass over the whole sequence), in :func:`generate` its own, one step at a time,
    carrying ``state`` (Gómez-Bombarelli et al. 2018's decoder is of this kind: a teacher-forced terminal GRU). With
    ``teacher_forcing=False`` (the ``keras-molecules`` decoder: the code repeated at every step, no tokens read)
    ``tokens`` only sets the length, and the whole molecule must come from the code."""

    def __init__(self, vocab_size: int, units: int = 256, embed_dim: int = 32, teacher_forcing: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.units, self.embed_dim = vocab_size, units, embed_dim
        self.teacher_forcing = bool(teacher_forcing)
        self.embed = layers.Embedding(vocab_size, embed_dim, name="embed") if self.teacher_forcing else None
        self.init_state = layers.Dense(units, activation="tanh", name="init_state")
        self.gru = layers.GRU(units, return_sequences=True, return_state=True, name="gru")
        self.out = layers.Dense(vocab_size, name="logits")

    def build(self, z_shape, tokens_shape=None, state_shape=None):
        latent = z_shape[-1]
        if self.embed is not None:
            self.embed.build((None, None))
        self.init_state.build((None, latent))
        self.gru.build((None, None, latent + (self.embed_dim if self.teacher_forcing else 0)))
        self.out.build((None, None, self.units))
        self.built = True

    def call(self, z, tokens, state=None, training=False):
        steps = ops.shape(tokens)[1]
        x = ops.repeat(ops.expand_dims(z, 1), steps, axis=1)  # the code at every step
        if self.teacher_forcing:
            x = ops.concatenate([self.embed(tokens), ops.cast(x, self.compute_dtype)], axis=-1)
        if state is None:
            state = self.init_state(z)
        h, state = self.gru(x, initial_state=state, training=training)
        return self.out(h), state

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "units": self.units,
                "embed_dim": self.embed_dim, "teacher_forcing": self.teacher_forcing}


def token_cross_entropy(targets, logits):
    """Cross-entropy of the target tokens summed over each molecule, ``<pad>`` positions masked out (nats)."""
    ce = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    mask = ops.cast(ops.not_equal(targets, PAD), ce.dtype)
    return ops.sum(ce * mask, axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SequenceVAE(keras.Model):
    """A VAE on token rows ``<bos> … <eos> <pad>…`` (notebook 11): ``encoder`` reads the row without ``<bos>``,
    ``decoder`` (a :class:`GRUDecoder`) predicts it from the code and, with teacher forcing, ``<bos> …``.
    ``fit``/``evaluate`` report ``loss`` (reconstruction + β·KL), ``reconstruction`` (token cross-entropy, nats per
    molecule), ``kl`` (nats per molecule) and ``token_accuracy`` (non-pad tokens; teacher-forced where the decoder
    reads tokens). ``beta`` is a non-trainable variable: :class:`KLAnnealing` changes it during ``fit``.
    ``free_bits`` (nats per latent unit, Kingma et al. 2016) charges each unit at least that much KL in the
    *training loss*, averaged over the batch, so the optimiser gains nothing by closing a unit below it; the ``kl``
    metric is always the true KL. ``tokens`` (a :class:`Vocab`'s ``itos``, optional) travels with the saved model,
    so a loaded model brings its vocabulary. The structure follows :class:`aeutils.vae.VAE`."""

    def __init__(self, encoder, decoder, beta: float = 1.0, free_bits: float = 0.0, seed=None, tokens=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.seed, self.free_bits = encoder, decoder, seed, float(free_bits)
        self.tokens = None if tokens is None else list(tokens)
        self._beta = self.add_weight(shape=(), initializer=keras.initializers.Constant(float(beta)), trainable=False,
                                     name="beta", dtype="float32")
        self.sampling = Sampling(seed=seed, name="sampling")
        self.trackers = [keras.metrics.Mean(name=n) for n in ("loss", "reconstruction", "kl", "token_accuracy")]
        if not self.decoder.built:  # a loaded decoder arrives built
            self.decoder.build(tuple(encoder.outputs[0].shape))
        self.build(tuple(encoder.inputs[0].shape[:1]) + (encoder.inputs[0].shape[1] + 1,))

    def build(self, input_shape):
        """The encoder and decoder arrive built (see ``__init__``); nothing else holds weights."""
        self.built = True

    @property
    def beta(self) -> float:
        return float(ops.convert_to_numpy(self._beta))

    @beta.setter
    def beta(self, value: float) -> None:
        self._beta.assign(float(value))

    @property
    def metrics(self):
        return self.trackers

    @property
    def vocab(self) -> Vocab:
        """The vocabulary the model was built with (its ``tokens``)."""
        if self.tokens is None:
            raise ValueError("this model was built without tokens=: it does not know its vocabulary")
        return Vocab(self.tokens)

    @property
    def max_len(self) -> int:
        """The most tokens of a molecule the model reads (its rows hold ``<bos>``, those tokens and ``<eos>``)."""
        return int(self.encoder.inputs[0].shape[1]) - 1

    def posterior(self, rows, training: bool = False):
        """``(z_mean, z_log_var)`` of token rows (with ``<bos>``), log σ² clipped as in :class:`aeutils.vae.VAE`."""
        z_mean, z_log_var = self.encoder(rows[:, 1:], training=training)
        return z_mean, ops.clip(z_log_var, -LOG_VAR_LIMIT, LOG_VAR_LIMIT)

    def terms(self, rows, training: bool = False):
        """Per-molecule reconstruction NLL and KL with one posterior sample each, the teacher-forced logits, and the
        KL the loss charges (with free bits: Σ over units of max(batch-mean KL of the unit, free_bits))."""
        rows = ops.convert_to_tensor(rows)
        z_mean, z_log_var = self.posterior(rows, training)
        logits, _ = self.decoder(self.sampling([z_mean, z_log_var]), rows[:, :-1], training=training)
        kl_units = -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        charged = ops.sum(ops.maximum(ops.mean(kl_units, axis=0), self.free_bits))
        return token_cross_entropy(rows[:, 1:], logits), gaussian_kl(z_mean, z_log_var), logits, charged

    def _step(self, data, training: bool):
        rows = data[0] if isinstance(data, tuple) else data
        reconstruction, kl, logits, charged = self.terms(rows, training)
        loss = ops.mean(reconstruction) + self._beta * charged
        targets = rows[:, 1:]
        mask = ops.cast(ops.not_equal(targets, PAD), "float32")
        hit = ops.cast(ops.equal(ops.cast(ops.argmax(logits, axis=-1), targets.dtype), targets), "float32")
        return loss, reconstruction, kl, ops.sum(hit * mask) / ops.sum(mask)

    def _track(self, loss, reconstruction, kl, accuracy):
        for tracker, value in zip(self.trackers, (reconstruction + self._beta * kl, reconstruction, kl, accuracy)):
            tracker.update_state(value)
        return {m.name: m.result() for m in self.trackers}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl, accuracy = self._step(data, training=True)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._track(loss, reconstruction, kl, accuracy)

    def test_step(self, data):
        return self._track(*self._step(data, training=False))

    def call(self, rows, training: bool = False):
        """Token logits from the posterior mean (teacher-forced where the decoder reads tokens; deterministic)."""
        z_mean, _ = self.posterior(rows, training)
        return self.decoder(z_mean, rows[:, :-1], training=training)[0]

    def get_config(self):
        return {**super().get_config(), "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder), "beta": self.beta, "seed": self.seed,
                "free_bits": self.free_bits, "tokens": self.tokens}

    from_config = classmethod(VAE.from_config.__func__)  # the same: deserialise encoder and decoder, then cls(...)


class KLAnnealing(keras.callbacks.Callback):
    """KL annealing (Bowman et al. 2016), set at the start of each epoch: β = ``beta_max`` · min(1, epoch /
    ``warmup_epochs``), epochs counted from 0. With ``warmup_epochs=1``, β is 0 for the whole first epoch (a plain
    autoencoder: the decoder first learns to use the code), then ``beta_max``."""

    def __init__(self, warmup_epochs: float, beta_max: float = 1.0):
        super().__init__()
        self.warmup_epochs, self.beta_max = warmup_epochs, beta_max

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta = self.beta_max * min(1.0, epoch / max(self.warmup_epochs, 1e-9))


def _pick(logits, temperature: float, seed) -> tf.Tensor:
    """Greedy (``temperature == 0``) or sampled token ids from logits ``(n, vocab)``."""
    if temperature <= 0:
        return tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.random.stateless_categorical(logits / temperature, 1, seed, dtype=tf.int32)[:, 0]


def generate(decoder: GRUDecoder, z, max_len: int, temperature: float = 0.0, seed: int = 0) -> np.ndarray:
    """Decode a batch of codes: ``(n, max_len + 1)`` token ids (``<eos>`` then ``<pad>`` after the end).
    ``temperature=0`` takes the most likely token at every position (greedy); ``> 0`` samples from the softmax of
    logits / temperature. ``<pad>`` and ``<bos>`` are never produced, nor ``<eos>`` as the first token (an empty
    string is not a molecule). A teacher-forced decoder runs token by token, feeding back its own tokens (one
    compiled step for the whole batch, ``max_len + 1`` times); a decoder without teacher forcing gives every
    position's logits in one call. Both are fast on a CPU: each step is one matrix product for all molecules."""
    z = tf.convert_to_tensor(np.asarray(z, np.float32))
    n = int(z.shape[0])
    never = tf.constant([-1e9, -1e9] + [0.0] * (decoder.vocab_size - 2))  # <pad>, <bos>: untrained targets
    first = tf.constant([-1e9, -1e9, -1e9] + [0.0] * (decoder.vocab_size - 3))  # no empty molecule
    if decoder.teacher_forcing:
        out = _generate_stepwise(decoder, z, max_len, temperature, seed, never, first)
    else:
        logits = decoder(z, tf.zeros((n, max_len + 1), tf.int32))[0]
        logits = tf.concat([logits[:, :1] + first, logits[:, 1:] + never], axis=1)
        flat = _pick(tf.reshape(logits, (-1, decoder.vocab_size)), temperature, tf.constant([seed, 0], tf.int32))
        out = tf.reshape(flat, (n, max_len + 1)).numpy()
    ended = np.cumsum(out == EOS, axis=1) - (out == EOS) > 0  # positions after the first <eos>
    return np.where(ended, PAD, out).astype(np.int32)


@tf.function(reduce_retracing=True)
def _decode_step(decoder, z, token, state, temperature, seed, mask):
    logits, state = decoder(z, token[:, None], state)
    logits = logits[:, 0, :] + mask
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
    sampled = tf.random.stateless_categorical(logits / tf.maximum(temperature, 1e-6), 1, seed, dtype=tf.int32)[:, 0]
    return tf.where(temperature > 0, sampled, greedy), state


def _generate_stepwise(decoder, z, max_len, temperature, seed, never, first) -> np.ndarray:
    """:func:`generate` for a teacher-forced decoder: token by token, stopping when every row has ended."""
    n = int(z.shape[0])
    token, state = tf.fill((n,), BOS), decoder.init_state(z)
    out = np.full((n, max_len + 1), PAD, np.int32)
    done = np.zeros(n, bool)
    for t in range(max_len + 1):
        token, state = _decode_step(decoder, z, token, state, tf.constant(float(temperature)),
                                    tf.constant([seed, t], tf.int32), first if t == 0 else never)
        out[:, t] = ids = token.numpy()
        done |= ids == EOS
        if done.all():
            break
    return out


def load_pretrained(representation: str) -> SequenceVAE:
    """Notebook 11's VAE for ``"smiles"`` or ``"selfies"``, trained for longer than a notebook can by
    ``scripts/train_molecule_vae.py``, its SHA-256 checked, loaded with ``safe_mode=True`` and compiled with a fresh
    Adam optimizer (the file holds no optimizer state)."""
    if representation not in PRETRAINED_SHA256:
        raise ValueError(f"representation must be one of {sorted(PRETRAINED_SHA256)}, not {representation!r}")
    path = verified_weights(files("aeutils") / "weights" / f"molecule_vae_{representation}.keras",
                            PRETRAINED_SHA256[representation], "scripts/train_molecule_vae.py",
                            "aeutils.molecules.PRETRAINED_SHA256")
    vae = keras.saving.load_model(path, compile=False, safe_mode=True)
    vae.compile(optimizer=keras.optimizers.Adam(2e-3))  # the script's optimizer, fresh: evaluate and fit work
    return vae


def rows_of(vae: SequenceVAE, smiles, representation: str) -> tuple[np.ndarray, list[int]]:
    """Token rows, in the model's vocabulary, of the molecules that fit it and its ``max_len``, and their indices in
    ``smiles`` (the others are left out)."""
    vocab, seqs = vae.vocab, [TOKENISERS[representation](s) for s in smiles]
    kept = [i for i, t in enumerate(seqs) if vocab.fits(t, vae.max_len)]
    return vocab.encode([seqs[i] for i in kept], vae.max_len), kept


def encode_smiles(vae: SequenceVAE, smiles, representation: str) -> tuple[np.ndarray, list[int]]:
    """Posterior means of the molecules that fit the model (:func:`rows_of`), and their indices in ``smiles``."""
    rows, kept = rows_of(vae, smiles, representation)
    if not kept:
        return np.zeros((0, vae.encoder.outputs[0].shape[-1]), np.float32), kept
    return ops.convert_to_numpy(vae.posterior(rows)[0]), kept


def decode_smiles(vae: SequenceVAE, z, representation: str, temperature: float = 0.0, seed: int = 0) -> list[str]:
    """SMILES decoded from codes ``z`` (:func:`generate`; SELFIES are converted to SMILES)."""
    ids = generate(vae.decoder, z, vae.max_len, temperature=temperature, seed=seed)
    return [tokens_to_smiles(t, representation) for t in vae.vocab.decode(ids)]
