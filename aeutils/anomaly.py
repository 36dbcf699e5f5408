"""The one-class protocol and the evaluation a practitioner needs, taught in notebook 05 (anomaly detection).

Scores follow one convention everywhere: **higher means more anomalous**, and the label 1 means "anomaly".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score
from sklearn.metrics.pairwise import rbf_kernel

TRAIN, VAL_FIT, VAL_SELECT, VAL_THRESHOLD = range(4)  # the role of a training image, the same for every class
ROLE_NAMES = ("train", "val_fit", "val_select", "val_threshold")


def training_roles(y_train, n_val: int, seed: int = 0) -> np.ndarray:
    """Give every training image one role, once, for all normal classes (notebook 05, section 1).

    Each class's images are shuffled with ``seed``; the first ``n_val`` become validation images in three
    parts (``VAL_FIT``, ``VAL_SELECT``, ``VAL_THRESHOLD``, sizes as ``np.array_split``), the rest ``TRAIN``.
    Because the roles do not depend on which class is normal, an image that chooses settings (a selection
    image, or a selection anomaly of another class) never also judges them (a threshold image, or a held-out
    anomaly of another class): the chosen settings are shared by all classes, so this matters.
    """
    y_train = np.asarray(y_train)
    rng = np.random.default_rng(seed)
    roles = np.full(len(y_train), TRAIN, dtype=np.int64)
    for k in np.unique(y_train):
        idx = np.flatnonzero(y_train == k)
        if not 3 <= n_val < len(idx):
            raise ValueError(f"n_val must be between 3 and {len(idx) - 1} for class {k}, not {n_val}.")
        val = idx[rng.permutation(len(idx))[:n_val]]
        for role, part in zip((VAL_FIT, VAL_SELECT, VAL_THRESHOLD), np.array_split(val, 3)):
            roles[part] = role
    return roles


@dataclass
class OneClassSplit:
    """One normal class: its training and validation images, development anomalies, and the full test set.

    The validation images (all normal) come in three parts with one job each, and the development anomalies
    (other classes' validation images) in two halves; see :func:`one_class_split`. ``*_ids`` are indices
    into the data set's training images, so that roles can be checked across classes.
    """

    normal_class: int
    x_train: np.ndarray  # the normal class's training images (plus any contamination), never a test image
    x_val: np.ndarray  # held-out normal training images, never trained on: the three parts below, in order
    x_test: np.ndarray  # the whole test set
    y_test: np.ndarray  # 1 where the test image is not of the normal class (an anomaly), else 0
    test_classes: np.ndarray  # the test images' original labels, to see *which* anomalies are hard
    x_dev_anomalies: np.ndarray  # other classes' validation images: labelled anomalies (selection, then held-out)
    dev_anomaly_classes: np.ndarray  # their labels
    n_contaminating: int = 0  # how many training images are in fact anomalies (other classes)
    train_ids: np.ndarray | None = None
    val_ids: np.ndarray | None = None
    dev_anomaly_ids: np.ndarray | None = None

    def _third(self, k: int) -> np.ndarray:
        return np.array_split(self.x_val, 3)[k]

    @property
    def val_fit(self) -> np.ndarray:
        """First third of the validation images: what a score's calibration is fitted on."""
        return self._third(0)

    @property
    def val_select(self) -> np.ndarray:
        """Second third: the normal side of the AUROCs that settings are chosen by."""
        return self._third(1)

    @property
    def val_threshold(self) -> np.ndarray:
        """Last third: the threshold, and the normal side of the held-out validation AUROC (no choice saw it)."""
        return self._third(2)

    @property
    def anomalies_select(self) -> np.ndarray:
        """First half of the development anomalies (other classes' selection images): the anomaly side of
        the AUROCs that choose settings."""
        return self.x_dev_anomalies[: len(self.x_dev_anomalies) // 2]

    @property
    def anomalies_heldout(self) -> np.ndarray:
        """Second half (other classes' threshold images): the anomaly side of the held-out validation AUROC,
        looked at after every choice."""
        return self.x_dev_anomalies[len(self.x_dev_anomalies) // 2:]


def one_class_split(ds, normal_class: int, n_val: int = 1500, contamination: float = 0.0,
                    n_train: int | None = None, n_dev_anomalies: int = 0, seed: int = 0) -> OneClassSplit:
    """The standard one-class benchmark on a :class:`aeutils.data.Dataset`, with a development split that
    never touches the test set (notebook 05, section 1).

    Roles come from :func:`training_roles` (``n_val``, ``seed``: pass the same for every class). The normal
    class's validation images are its three parts (calibration fit, selection, threshold), its other images
    (at most ``n_train``) the training set. The ``n_dev_anomalies`` development anomalies are drawn (seeded by
    ``seed`` and the class) from the *other* classes' validation images: the selection half from their
    selection parts, the held-out half from their threshold parts, so no image chooses a setting for one
    class and judges it for another. With ``contamination`` > 0, that fraction of the training set is
    replaced by *training* images of the other classes (never a validation image or development anomaly of
    any class): the unlabelled, polluted training data a practitioner usually has. The test set is never
    touched.
    """
    if not 0 <= contamination < 1:
        raise ValueError(f"contamination is a fraction in [0, 1), not {contamination!r}.")
    y = np.asarray(ds.y_train)
    if not np.any(y == normal_class):
        raise ValueError(f"There is no training image of class {normal_class!r}.")
    roles = training_roles(y, n_val, seed)
    rng = np.random.default_rng([seed, int(normal_class)])
    mine, others = y == normal_class, y != normal_class
    val_ids = np.concatenate([np.flatnonzero(mine & (roles == r)) for r in (VAL_FIT, VAL_SELECT, VAL_THRESHOLD)])
    train_ids = np.flatnonzero(mine & (roles == TRAIN))
    train_ids = train_ids[rng.permutation(len(train_ids))][:n_train]
    n_select, n_heldout = n_dev_anomalies // 2, n_dev_anomalies - n_dev_anomalies // 2
    select_pool, heldout_pool = (np.flatnonzero(others & (roles == r)) for r in (VAL_SELECT, VAL_THRESHOLD))
    if not 0 <= n_select <= len(select_pool) or n_heldout > len(heldout_pool):
        raise ValueError(f"n_dev_anomalies must be between 0 and {2 * min(len(select_pool), len(heldout_pool))}, "
                         f"not {n_dev_anomalies}.")
    dev_ids = np.concatenate([rng.choice(select_pool, n_select, replace=False),
                              rng.choice(heldout_pool, n_heldout, replace=False)])
    n_bad = int(round(contamination * len(train_ids)))
    if n_bad:
        intruders = rng.choice(np.flatnonzero(others & (roles == TRAIN)), n_bad, replace=False)
        train_ids = np.concatenate([train_ids[n_bad:], intruders])
        train_ids = train_ids[rng.permutation(len(train_ids))]
    return OneClassSplit(normal_class, ds.x_train[train_ids], ds.x_train[val_ids], ds.x_test,
                         (ds.y_test != normal_class).astype(np.int64), ds.y_test, ds.x_train[dev_ids], y[dev_ids],
                         n_bad, train_ids, val_ids, dev_ids)


def auroc(normal_scores, anomaly_scores) -> float:
    """AUROC of anomaly scores against normal ones (anomaly = positive): the development split's measure."""
    normal_scores, anomaly_scores = np.ravel(normal_scores), np.ravel(anomaly_scores)
    y = np.r_[np.zeros(len(normal_scores)), np.ones(len(anomaly_scores))]
    return float(roc_auc_score(y, np.r_[normal_scores, anomaly_scores]))


def rbf_svm_score(svm, x, batch: int = 2000) -> np.ndarray:
    """``score_samples`` of a fitted RBF ``OneClassSVM``, the sum of its dual coefficients times the kernel to each
    support vector, with scikit-learn's vectorised ``rbf_kernel`` in batches: the same numbers, many times faster
    than the SVM's per-image loop (notebook 05 scores tens of thousands of images with it)."""
    if svm.kernel != "rbf":
        raise ValueError(f"rbf_svm_score needs an RBF OneClassSVM, not kernel={svm.kernel!r}.")
    gamma = svm.gamma if isinstance(svm.gamma, float) else svm._gamma  # "scale"/"auto" are resolved by fit
    sv, coef = np.asarray(svm.support_vectors_, np.float64), svm.dual_coef_.ravel()
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    return np.concatenate([np.empty(0)] + [rbf_kernel(x[i:i + batch], sv, gamma=gamma) @ coef
                                           for i in range(0, len(x), batch)])


def scores_table(y_true, scores: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """AUROC and average precision (anomaly = positive class) of every score: ``{name: {"auroc", "ap"}}``."""
    return {name: {"auroc": float(roc_auc_score(y_true, s)), "ap": float(average_precision_score(y_true, s))}
            for name, s in scores.items()}


def threshold_report(y_true, scores, threshold: float) -> dict:
    """What flagging ``scores > threshold`` as anomalies does: the confusion matrix (rows: true normal,
    anomaly; columns: flagged normal, anomaly), precision and recall **for the anomaly class**, and the
    false-alarm rate (the fraction of normal images flagged)."""
    y_true = np.asarray(y_true)
    flagged = (np.asarray(scores) > threshold).astype(np.int64)
    cm = confusion_matrix(y_true, flagged, labels=[0, 1])
    (tn, fp), (fn, tp) = cm
    return {"confusion": cm, "precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1),
            "false_alarm": fp / max(fp + tn, 1)}


def auroc_by_anomaly_class(scores, test_classes, normal_class: int, n_classes: int = 10) -> np.ndarray:
    """AUROC of normal test images against each anomaly class on its own (NaN for the normal class itself):
    which kinds of anomaly a detector misses (notebook 05, the hardest class)."""
    scores, test_classes = np.asarray(scores), np.asarray(test_classes)
    normal = test_classes == normal_class
    out = np.full(n_classes, np.nan)
    for k in range(n_classes):
        other = test_classes == k
        if k != normal_class and other.any():
            out[k] = auroc(scores[normal], scores[other])
    return out
