"""A learned image codec with real bytes: the quantiser, the learned factorised prior, and the bitstream
(taught in notebook 08).

The pieces, in the order an image goes through them:

* an *analysis* transform (the notebook's encoder, or PCA) maps images to a continuous code ``y`` of ``D`` numbers;
* :func:`quantise` rounds ``y`` to integers (the quantisation step is folded into the transform: an encoder
  learns its own scale, and PCA divides by its step), clipped to the range the probability tables cover;
* :class:`FactorizedPrior` (a Keras layer) is a learned density for each of the ``D`` numbers, one per rate point,
  used in training for the rate term, the code length in bits ``-log2 P(ŷ)``;
* :class:`FactorizedTables` are the discrete distributions the entropy coder uses, built from the prior (or, for
  a baseline, from a histogram of quantised training codes);
* :func:`encode_symbols` / :func:`decode_symbols` turn the integers into bytes and back with ``constriction``'s range
  coder, and :class:`Codec` wraps all of it as ``encode(images) -> bytes`` and ``decode(bytes) -> images``.

The byte string (``encode_symbols``) holds a header of :data:`HEADER_BYTES` bytes, then one record per image:

=========  ======  =============================================================================================
offset     bytes   content
=========  ======  =============================================================================================
0          4       magic ``b"AE8"`` and the format version (``1``)
4          2       fingerprint of the probability tables (the first two bytes of their SHA-256): a decoder holding
                   other tables (another rate point, another model) refuses the string instead of decoding garbage
6          2       number of images ``n`` (big-endian, at most 65 535)
8          …       per image: one byte ``w`` (the number of 32-bit words, at most 255), then ``4·w`` bytes: the
                   range coder's words, little-endian. Every image is decodable on its own.
=========  ======  =============================================================================================

The model's weights and tables are not in the string: like JPEG's tables shared across a data set, they are
known to both sides. Bytes per image are counted from the string: ``len(blob) / n``, header included.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import constriction
import keras
import numpy as np
from keras import ops

MAGIC = b"AE8\x01"  # three letters and the format version
HEADER_BYTES = 8
MAX_WORDS = 255  # per image: a one-byte word count


def quantise(y, low=None, high=None) -> np.ndarray:
    """Round the continuous code ``y`` to the nearest integers (``int32``; halves go to the even neighbour, like
    ``np.rint``), clipped to ``[low, high]`` when given (one bound per code dimension, broadcast over images). This is
    the codec's quantiser, with a step of 1. A code that is not finite (NaN, ±inf) raises ``ValueError``: it has no
    nearest integer, and casting it would give an arbitrary one."""
    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError(f"the code holds {int((~np.isfinite(y)).sum())} value(s) that are not finite (NaN or inf).")
    symbols = np.rint(y)
    if low is not None:
        symbols = np.clip(symbols, low, high)
    return symbols.astype(np.int32)


def clipped_fraction(y, low, high) -> float:
    """The fraction of the numbers of a continuous code ``y`` whose nearest integer lies outside ``[low, high]``: what
    :func:`quantise` clips silently (the codec still codes them, as the end symbols of the tables)."""
    r = np.rint(np.asarray(y, dtype=np.float64))
    return float(((r < low) | (r > high)).mean())


@dataclass(frozen=True)
class FactorizedTables:
    """One discrete distribution per code dimension: ``probs[d, j]`` is the probability of the symbol
    ``offsets[d] + j``; rows sum to one. What the entropy coder uses, and what the header's fingerprint names."""

    offsets: np.ndarray  # (D,) int32: the lowest symbol of each dimension
    probs: np.ndarray  # (D, W) float64

    def __post_init__(self):
        offsets, probs = np.asarray(self.offsets), np.asarray(self.probs, dtype=np.float64)
        if probs.ndim != 2 or offsets.shape != (probs.shape[0],):
            raise ValueError(f"offsets must be (D,) and probs (D, W); got {offsets.shape} and {probs.shape}.")
        if not (np.isfinite(probs).all() and (probs >= 0).all() and np.allclose(probs.sum(1), 1)):
            raise ValueError("each row of probs must be a probability distribution (finite, ≥ 0, summing to 1).")
        object.__setattr__(self, "offsets", offsets.astype(np.int32))
        object.__setattr__(self, "probs", probs)

    @property
    def low(self) -> np.ndarray:
        return self.offsets

    @property
    def high(self) -> np.ndarray:
        """The highest symbol of each dimension: its last one of nonzero probability (rows are padded with zeros)."""
        return self.offsets + self.probs.shape[1] - 1 - np.argmax(self.probs[:, ::-1] > 0, axis=1).astype(np.int32)

    def fingerprint(self) -> bytes:
        """Two bytes that name these tables: the first two of the SHA-256 of the offsets (little-endian int32) and the
        probabilities (little-endian float64), so the same tables give the same name on any machine."""
        data = self.offsets.astype("<i4").tobytes() + self.probs.astype("<f8").tobytes()
        return hashlib.sha256(data).digest()[:2]

    def bits(self, symbols) -> np.ndarray:
        """Ideal code length of each image's symbols in bits, ``-Σ log2 P(symbol)`` (before the coder's rounding)."""
        symbols = np.asarray(symbols)
        p = np.take_along_axis(self.probs[None], (symbols - self.offsets)[..., None], axis=-1)[..., 0]
        return -np.log2(np.maximum(p, 1e-300)).sum(axis=1)

    @classmethod
    def from_symbols(cls, symbols, smoothing: float = 1.0) -> FactorizedTables:
        """Tables from a histogram of quantised training codes ``(n, D)``, each count plus ``smoothing`` (a baseline's
        prior: the maximum-likelihood factorised distribution, made nonzero for symbols unseen in training)."""
        symbols = np.asarray(symbols)
        low, high = symbols.min(axis=0), symbols.max(axis=0)
        width = int((high - low).max()) + 1
        counts = np.full((symbols.shape[1], width), float(smoothing))
        for d in range(symbols.shape[1]):
            counts[d] += np.bincount(symbols[:, d] - low[d], minlength=width)
        return cls(low, counts / counts.sum(axis=1, keepdims=True))


def _coder_model():
    return constriction.stream.model.Categorical(perfect=False)


def encode_symbols(symbols, tables: FactorizedTables) -> bytes:
    """Integer codes ``(n, D)`` -> one byte string: the header and one record per image (module docstring)."""
    symbols = np.asarray(symbols)
    if symbols.ndim != 2 or symbols.shape[1] != tables.probs.shape[0]:
        raise ValueError(f"symbols must be (n, {tables.probs.shape[0]}); got {symbols.shape}.")
    if not np.issubdtype(symbols.dtype, np.integer):
        raise TypeError(f"symbols must be integers (quantise the code first), not {symbols.dtype}.")
    if len(symbols) > 0xFFFF:
        raise ValueError(f"at most 65 535 images per string; got {len(symbols)}.")
    if (symbols < tables.low).any() or (symbols > tables.high).any():
        raise ValueError("a symbol lies outside the tables' range: quantise with the tables' low and high bounds.")
    parts = [MAGIC, tables.fingerprint(), struct.pack(">H", len(symbols))]
    model = _coder_model()
    for row in symbols:
        encoder = constriction.stream.queue.RangeEncoder()
        encoder.encode((row - tables.offsets).astype(np.int32), model, tables.probs)
        words = encoder.get_compressed().astype("<u4")
        if len(words) > MAX_WORDS:
            raise ValueError(f"an image needs {len(words)} words; the format allows {MAX_WORDS}.")
        parts += [bytes([len(words)]), words.tobytes()]
    return b"".join(parts)


def read_header(blob: bytes) -> dict:
    """The header of a byte string from :func:`encode_symbols`: version, fingerprint, number of images."""
    if len(blob) < HEADER_BYTES or blob[:3] != MAGIC[:3]:
        raise ValueError("not a notebook-08 codec string (the magic bytes 'AE8' are missing).")
    if blob[3] != MAGIC[3]:
        raise ValueError(f"format version {blob[3]} is not supported (this reader knows version {MAGIC[3]}).")
    return {"version": blob[3], "fingerprint": blob[4:6], "n_images": struct.unpack(">H", blob[6:8])[0]}


def image_records(blob: bytes) -> list[bytes]:
    """Each image's record (its word-count byte and its words), split from a byte string; checks the lengths."""
    n, pos, records = read_header(blob)["n_images"], HEADER_BYTES, []
    for i in range(n):
        if pos >= len(blob):
            raise ValueError(f"the string ends before image {i} of {n}: truncated?")
        end = pos + 1 + 4 * blob[pos]
        if end > len(blob):
            raise ValueError(f"image {i}'s record runs past the end of the string: truncated?")
        records.append(blob[pos:end])
        pos = end
    if pos != len(blob):
        raise ValueError(f"{len(blob) - pos} bytes follow the last image: not one codec string.")
    return records


def decode_symbols(blob: bytes, tables: FactorizedTables) -> np.ndarray:
    """A byte string from :func:`encode_symbols` -> the integer codes ``(n, D)``, with the same tables."""
    header = read_header(blob)
    if header["fingerprint"] != tables.fingerprint():
        raise ValueError("the string was encoded with other probability tables (another rate point or model).")
    model, dims = _coder_model(), tables.probs.shape[0]
    rows = []
    for record in image_records(blob):
        decoder = constriction.stream.queue.RangeDecoder(np.frombuffer(record[1:], dtype="<u4").astype(np.uint32))
        rows.append(decoder.decode(model, tables.probs) + tables.offsets)
    return np.array(rows, dtype=np.int32).reshape(len(rows), dims)


def entropy_bits(symbols) -> float:
    """The empirical entropy of an integer code ``(images, numbers)``, column by column, summed over the columns, in
    bits per image: the code length of the best factorised coder for exactly these symbols (their own histogram).
    Taught in notebook 08, whose exercise 3 asks for one column of it."""
    symbols = np.asarray(symbols)
    if symbols.ndim != 2:
        raise ValueError(f"entropy_bits takes a code of shape (images, numbers), not {symbols.shape}.")
    total = 0.0
    for column in symbols.T:
        _, counts = np.unique(column, return_counts=True)
        p = counts / counts.sum()
        total += float(-(p * np.log2(p)).sum())
    return total


def upper_hull(rates, quality) -> tuple[np.ndarray, np.ndarray]:
    """The operating points on the upper concave hull of ``(rates, quality)``, sorted by rate: the points that no
    mixture of other points (nor a cheaper point) beats. Between two hull points a straight line is achievable."""
    rates, quality = np.asarray(rates, dtype=float), np.asarray(quality, dtype=float)
    order = np.lexsort((-quality, rates))  # by rate; at equal rates the best first
    hull: list[int] = []
    for i in order:
        if hull and (rates[i] == rates[hull[-1]] or quality[i] <= quality[hull[-1]]):
            continue  # a point at the same rate or beaten by a cheaper one
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            turn = ((rates[b] - rates[a]) * (quality[i] - quality[a])
                    - (quality[b] - quality[a]) * (rates[i] - rates[a]))
            if turn < 0:
                break  # b lies above the chord from a to i: it stays
            hull.pop()  # b lies on or below the chord: a mixture of a and i does at least as well
        hull.append(i)
    return rates[hull], quality[hull]


def best_at(rates, quality, at) -> np.ndarray:
    """The best ``quality`` a codec reaches with at most ``at`` bytes per image, from its operating points
    ``(rates, quality)`` (mean bytes per image and mean per-image quality of each setting).

    The value is the upper concave hull of the points (:func:`upper_hull`), interpolated linearly in bytes. That is
    achievable because both coordinates are means over images: code a fraction ``t`` of the images with one setting
    and the rest with the other, and the mean bytes and the mean quality both mix as ``t`` and ``1 − t``; mixing
    settings reaches every point of the hull, not just the lines between neighbouring settings. Above the largest
    rate the best value stays (spend fewer bytes than allowed); below the smallest it is NaN (the codec cannot make
    strings that small)."""
    rates, quality = upper_hull(rates, quality)
    at = np.asarray(at, dtype=float)
    value = np.interp(at, rates, quality, right=quality[-1])
    return np.where(at < rates[0], np.nan, value)


class Codec:
    """``encode(images) -> bytes`` and ``decode(bytes) -> images`` from an analysis transform (images -> continuous
    code ``(n, D)``, already divided by the quantisation step), tables, and a synthesis transform (integer code ->
    images). :meth:`reconstruct` is the same path in memory, without bytes: the round trip must equal it exactly."""

    def __init__(self, analysis, synthesis, tables: FactorizedTables):
        self.analysis, self.synthesis, self.tables = analysis, synthesis, tables

    def symbols(self, images) -> np.ndarray:
        """The quantised code of ``images``, clipped to the tables' range (:meth:`clipped` says how much was)."""
        return quantise(self.analysis(images), self.tables.low, self.tables.high)

    def clipped(self, images) -> float:
        """The fraction of the code numbers of ``images`` that :meth:`symbols` clips to the tables' range."""
        return clipped_fraction(self.analysis(images), self.tables.low, self.tables.high)

    def encode(self, images) -> bytes:
        return encode_symbols(self.symbols(images), self.tables)

    def decode(self, blob: bytes) -> np.ndarray:
        return np.asarray(self.synthesis(decode_symbols(blob, self.tables)))

    def reconstruct(self, images) -> np.ndarray:
        return np.asarray(self.synthesis(self.symbols(images)))


@keras.saving.register_keras_serializable(package="aeutils")
class FactorizedPrior(keras.layers.Layer):
    """A learned density for each of ``dims`` code numbers, at each of ``rates`` rate points: a mixture of
    ``mixtures`` logistic distributions per number (weights, locations, scales all learned).

    ``bits(y, rate)`` is the code length of ``y`` (``(batch, dims)``, rate index ``(batch,)``) in bits: the
    probability of the unit-wide bin around each value, ``P = F(y + ½) − F(y − ½)`` with ``F`` the mixture's CDF,
    summed as ``−log2 P`` over the numbers. On integers it is the discrete distribution the coder uses
    (:meth:`tables`); on ``y`` plus uniform noise it is the smooth stand-in used in training.
    """

    def __init__(self, dims: int, rates: int = 1, mixtures: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.dims, self.rates, self.mixtures = dims, rates, mixtures
        shape = (rates, dims, mixtures)
        spread = np.broadcast_to(np.linspace(-1.0, 1.0, mixtures), shape).astype("float32")
        self.loc = self.add_weight(shape=shape, initializer=keras.initializers.Constant(spread), name="loc")
        self.log_scale = self.add_weight(shape=shape, initializer="zeros", name="log_scale")
        self.logits = self.add_weight(shape=shape, initializer="zeros", name="logits")

    def cdf(self, y, rate):
        """The mixture's CDF at ``y`` ``(batch, dims)`` for the rate points ``rate`` ``(batch,)``."""
        loc, log_scale, logits = (ops.take(w, rate, axis=0) for w in (self.loc, self.log_scale, self.logits))
        weights = ops.softmax(logits, axis=-1)
        return ops.sum(weights * ops.sigmoid((y[..., None] - loc) * ops.exp(-log_scale)), axis=-1)

    def bits(self, y, rate):
        """Code length in bits of each row of ``y`` under the prior of its rate point."""
        p = self.cdf(y + 0.5, rate) - self.cdf(y - 0.5, rate)
        return ops.sum(-ops.log(ops.maximum(p, 1e-9)), axis=-1) / np.log(2.0)

    def call(self, y, rate):
        return self.bits(y, rate)

    def tables(self, rate: int, tail: float = 1e-6, reach: int = 256) -> FactorizedTables:
        """The coder's tables at rate point ``rate``: for each number, the symbols whose bins hold more than
        ``tail`` of the mass beyond them, the mass of the two tails added to the end bins (float64, NumPy)."""
        loc, log_scale, logits = (np.asarray(ops.convert_to_numpy(w), np.float64)[rate]
                                  for w in (self.loc, self.log_scale, self.logits))
        weights = np.exp(logits - logits.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        grid = np.arange(-reach, reach + 1, dtype=np.float64)
        edges = np.r_[grid - 0.5, grid[-1] + 0.5]
        z = (edges[None, :, None] - loc[:, None, :]) / np.exp(log_scale)[:, None, :]
        cdf = (weights[:, None, :] * 0.5 * (1 + np.tanh(z / 2))).sum(-1)  # the logistic CDF, without overflow
        keep = (cdf[:, 1:] > tail) & (cdf[:, :-1] < 1 - tail)
        first, last = keep.argmax(1), len(grid) - 1 - keep[:, ::-1].argmax(1)
        width = int((last - first).max()) + 1
        probs = np.zeros((self.dims, width))
        for d in range(self.dims):
            pieces = np.diff(cdf[d, first[d]:last[d] + 2])
            pieces[0] += cdf[d, first[d]]
            pieces[-1] += 1 - cdf[d, last[d] + 1]
            probs[d, :len(pieces)] = pieces
        probs = np.maximum(probs, 0)
        return FactorizedTables(grid[first].astype(np.int32), probs / probs.sum(1, keepdims=True))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims, "rates": self.rates, "mixtures": self.mixtures}
