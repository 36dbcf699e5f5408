"""Generated samples, measured: scores in the features of a small Fashion-MNIST classifier shipped with ``aeutils``.

Taught in notebook 06 (the VAE's prior samples against the test set, with the test-vs-train floor beside them) and
reused in notebook 07 (later 09 and 10). The classifier (``aeutils/weights/fashion_classifier.keras``; how it was
trained: ``aeutils/weights/README.md``) is checked against :data:`CLASSIFIER_SHA256` before it loads. Its 128-unit
penultimate layer ``features`` is the space every distance below is measured in:

- :func:`frechet_distance`: the Fréchet distance between Gaussians fitted to two sets of features ("FID" with
  our classifier in place of Inception: compare only within our own tables, never with published FIDs);
- :func:`kid`: the kernel inception distance, an unbiased MMD² with the kernel (x·y/d + 1)³, on random subsets;
- :func:`precision_recall`: improved precision (how many samples lie on the real images' manifold) and recall (how
  many real images lie on the samples' manifold), manifolds made of k-nearest-neighbour balls;
- :func:`class_histogram`: how the classifier labels the samples: counts, entropy in nats, classes covered.

:func:`score_samples` computes all of them for one set of samples, :func:`scores_table` prints several such rows.
Images come in any of the layouts ``(n, 28, 28)``, ``(n, 784)``, ``(n, 28, 28, 1)``, with pixels in [0, 1].
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
from scipy.linalg import LinAlgWarning, sqrtm
from sklearn.neighbors import NearestNeighbors

from aeutils.data import WeightsError, verified_weights

CLASSIFIER_FILE = Path(str(files("aeutils") / "weights" / "fashion_classifier.keras"))
CLASSIFIER_SHA256 = "2d81582e2040166e790ffbd21f53f0550a21695f33090dfcaee56d186b0fb951"
FEATURE_LAYER = "features"
N_CLASSES = 10
MIN_SHARE = 0.5 / N_CLASSES  # coverage counts a class holding at least half of a uniform share of the samples
BATCH_SIZE = 1000


class ClassifierError(WeightsError):
    """The shipped classifier's file is missing or is not the file :data:`CLASSIFIER_SHA256` names."""


@dataclass(frozen=True)
class Embedding:
    """A set of images seen by the classifier: ``features`` (n, 128) and class ``probabilities`` (n, 10)."""

    features: np.ndarray
    probabilities: np.ndarray


def verify_classifier(path=CLASSIFIER_FILE, sha256: str = CLASSIFIER_SHA256) -> Path:
    """``path`` after checking that its SHA-256 is ``sha256``; a :class:`ClassifierError` names both otherwise."""
    return verified_weights(path, sha256, "scripts/train_classifier.py", "aeutils.scores.CLASSIFIER_SHA256",
                            ClassifierError)


@functools.lru_cache(maxsize=1)
def load_classifier():
    """The shipped classifier, verified, loaded with ``safe_mode=True`` and kept for later calls."""
    import keras

    return keras.saving.load_model(verify_classifier(), compile=False, safe_mode=True)


@functools.lru_cache(maxsize=1)
def _two_outputs():
    """The classifier with two outputs: the ``features`` layer and the class probabilities."""
    import keras

    model = load_classifier()
    return keras.Model(model.input, [model.get_layer(FEATURE_LAYER).output, model.outputs[0]])


def _checked_images(images) -> np.ndarray:
    """``images`` as float32 of shape (n, 28, 28, 1), after checking their layout, finiteness and range."""
    x = np.asarray(images, dtype=np.float32)
    layouts = {2: (784,), 3: (28, 28), 4: (28, 28, 1)}
    if x.ndim not in layouts or x.shape[1:] != layouts[x.ndim] or len(x) == 0:
        raise ValueError(f"images must be (n, 28, 28), (n, 784) or (n, 28, 28, 1) with n ≥ 1; got {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("images must be finite: found NaN or infinity (a diverged model?).")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"pixels must lie in [0, 1]; found [{x.min():g}, {x.max():g}]. Images on a 0-255 scale: "
                         "divide by 255; decoder logits: apply the sigmoid; noisy images: clip them.")
    return x.reshape(len(x), 28, 28, 1)


def embed(images, batch_size: int = BATCH_SIZE) -> Embedding:
    """Features and class probabilities of ``images``, computed in batches of ``batch_size``."""
    import keras

    x, model = _checked_images(images), _two_outputs()
    parts = [model(x[i:i + batch_size], training=False) for i in range(0, len(x), batch_size)]
    feats, probs = (np.concatenate([keras.ops.convert_to_numpy(p[j]) for p in parts]) for j in (0, 1))
    return Embedding(feats.astype(np.float64), probs.astype(np.float64))


def features(images, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """The classifier's penultimate-layer features of ``images``: shape (n, 128), float64."""
    return embed(images, batch_size).features


def _embedded(x) -> Embedding:
    """``x`` itself when already an :class:`Embedding`, else the embedding of the images ``x``."""
    return x if isinstance(x, Embedding) else embed(x)


def _checked_features(a, b, min_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two feature sets as float64 (n, d) arrays of equal d, finite, with at least ``min_n`` rows each."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features must be two (n, d) arrays with the same d; got {a.shape} and {b.shape}. "
                         "Pass features(images), not the images.")
    if min(len(a), len(b)) < min_n:
        raise ValueError(f"each set needs at least {min_n} feature vectors; got {len(a)} and {len(b)}.")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("features must be finite: found NaN or infinity.")
    return a, b


def frechet_distance(feats_a, feats_b) -> float:
    """‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^½) between Gaussians fitted to two feature sets (notebook 06).

    The matrix square root is SciPy's ``sqrtm``, real part, taken over the units that vary in both sets: a unit
    constant in either set (a dead ReLU unit: 12 of the classifier's 128 on Fashion-MNIST) adds nothing to
    tr (Σa Σb)^½ but makes Σa Σb singular, where ``sqrtm`` turns inaccurate. Should it still fail, 10⁻⁶·I is added
    to both covariances, as pytorch-fid does. Rounding can leave a tiny negative value for identical sets: the
    result is clipped at 0. Biased upwards for few samples: compare sets of equal size."""
    a, b = _checked_features(feats_a, feats_b, min_n=2)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    live = (np.diag(cov_a) > 0) & (np.diag(cov_b) > 0)
    cov_ab = cov_a[np.ix_(live, live)] @ cov_b[np.ix_(live, live)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)
        try:
            root = sqrtm(cov_ab)
        except LinAlgWarning:
            root = np.full_like(cov_ab, np.nan)
    if not np.isfinite(root).all():
        ridge = 1e-6 * np.eye(int(live.sum()))
        root = sqrtm((cov_a[np.ix_(live, live)] + ridge) @ (cov_b[np.ix_(live, live)] + ridge))
    diff = a.mean(axis=0) - b.mean(axis=0)
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(np.real(root))
    return max(float(value), 0.0)


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(x·y/d + 1)³ for every pair of rows; the products in float32 (fast), the cube in float64."""
    gram = (x.astype(np.float32) @ y.astype(np.float32).T).astype(np.float64)
    return (gram / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD² of two equal-size samples under the polynomial kernel (diagonals left out)."""
    m = len(x)
    k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.mean())


def kid(feats_a, feats_b, n_subsets: int = 50, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Kernel inception distance (Bińkowski et al. 2018) in our features: mean and standard deviation over
    ``n_subsets`` random subsets (``subset_size`` from each set, capped by the smaller set, drawn without
    replacement) of the unbiased MMD² with kernel (x·y/d + 1)³. Unbiased, so it scatters around 0 (may be
    negative) for two samples of one distribution: read it as mean ± sd. Taught in notebook 06."""
    a, b = _checked_features(feats_a, feats_b, min_n=2)
    m, rng = min(subset_size, len(a), len(b)), np.random.default_rng(seed)
    values = [mmd2_unbiased(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
              for _ in range(n_subsets)]
    sd = float(np.std(values, ddof=1)) if n_subsets > 1 else 0.0
    return float(np.mean(values)), sd


def knn_radii(feats: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row to its k-th nearest other row (exact: brute force)."""
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(feats)
    return nn.kneighbors(feats)[0][:, k]  # column 0 is the point itself


def precision_recall(real_feats, fake_feats, k: int = 3, chunk: int = 1000) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), taught in notebook 06.

    Each set's manifold is the union of balls around its points, each ball's radius the distance to the point's
    k-th nearest neighbour in its own set. Precision: the share of samples (fake) inside the real manifold
    (fidelity); recall: the share of real images inside the samples' manifold (diversity). One fake-by-real
    distance matrix, built ``chunk`` samples at a time, answers both."""
    real, fake = _checked_features(real_feats, fake_feats, min_n=k + 1)
    r_real, r_fake = knn_radii(real, k) ** 2, knn_radii(fake, k) ** 2
    real32, fake32 = real.astype(np.float32), fake.astype(np.float32)
    real_sq = (real32**2).sum(axis=1)
    fake_in, real_in = np.zeros(len(fake), bool), np.zeros(len(real), bool)
    for i in range(0, len(fake), chunk):
        f = fake32[i:i + chunk]
        d2 = (f**2).sum(axis=1)[:, None] + real_sq[None, :] - 2.0 * (f @ real32.T)
        fake_in[i:i + chunk] = (d2 <= r_real[None, :]).any(axis=1)
        real_in |= (d2 <= r_fake[i:i + chunk, None]).any(axis=0)
    return float(fake_in.mean()), float(real_in.mean())


def class_histogram(images, min_share: float = MIN_SHARE) -> dict:
    """How the classifier labels ``images`` (or an :class:`Embedding`), taught in notebook 06.

    Returns ``counts`` (images per predicted class, length 10), ``entropy`` of the predicted-class shares in
    **nats** (ln 10 ≈ 2.303 for a uniform spread, 0 when every image gets one label) and ``coverage``: how many
    classes hold at least ``min_share`` of the images (default 5 %, half of a uniform share), so that a handful of
    misclassified stragglers does not count as covering a class."""
    labels = _embedded(images).probabilities.argmax(axis=1)
    counts = np.bincount(labels, minlength=N_CLASSES)
    shares = counts / counts.sum()
    nonzero = shares[shares > 0]
    return {"counts": counts, "entropy": float(-(nonzero * np.log(nonzero)).sum()),
            "coverage": int((shares >= min_share).sum())}


def score_samples(samples, reference, k: int = 3, kid_subsets: int = 50, kid_subset_size: int = 1000,
                  seed: int = 0) -> dict:
    """Every score of ``samples`` against ``reference`` (images, or :class:`Embedding`s from :func:`embed` to
    reuse a reference across rows): ``n``, ``fd``, ``kid`` and ``kid_sd``, ``precision`` and ``recall`` (the
    reference is the real side), and the samples' ``entropy``, ``coverage`` and ``counts``. Notebooks 06 and 07
    score the test set against the training set in the same table: the floor a perfect generator would reach."""
    fake, real = _embedded(samples), _embedded(reference)
    kid_mean, kid_sd = kid(fake.features, real.features, kid_subsets, kid_subset_size, seed)
    precision, recall = precision_recall(real.features, fake.features, k)
    return {"n": len(fake.features), "fd": frechet_distance(fake.features, real.features), "kid": kid_mean,
            "kid_sd": kid_sd, "precision": precision, "recall": recall, **class_histogram(fake)}


def scores_table(rows: dict[str, dict]) -> str:
    """A plain-text table of :func:`score_samples` results, one row per name, for printing under a cell."""
    head = f"{'':<24}{'n':>7}{'FD':>10}{'KID':>20}{'precision':>11}{'recall':>8}{'entropy':>9}{'coverage':>10}"
    lines = [head, "-" * len(head)]
    for name, s in rows.items():
        kid_text = f"{s['kid']:.4f} ± {s['kid_sd']:.4f}"
        lines.append(f"{name:<24}{s['n']:>7}{s['fd']:>10.3f}{kid_text:>20}{s['precision']:>11.3f}"
                     f"{s['recall']:>8.3f}{s['entropy']:>9.3f}{s['coverage']:>7}/{N_CLASSES}")
    lines.append("FD and KID: lower is better (our classifier's features, not Inception's); entropy in nats "
                 f"(uniform: {np.log(N_CLASSES):.3f}); coverage: classes with ≥ {MIN_SHARE:.0%} of the samples.")
    return "\n".join(lines)
