"""The one-class protocol and the evaluation a practitioner needs, taught in notebook 05 (anomaly detection).

Scores follow one convention everywhere: **higher means more anomalous**, and the label 1 means "anomaly".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score


@dataclass
class OneClassSplit:
    """One normal class: its training and validation images, and the full test set with 1 = anomaly."""

    normal_class: int
    x_train: np.ndarray  # the normal class's training images (plus any contamination), never a test image
    x_val: np.ndarray  # held-out normal training images: for thresholds and early checks, never for training
    x_test: np.ndarray  # the whole test set
    y_test: np.ndarray  # 1 where the test image is not of the normal class (an anomaly), else 0
    test_classes: np.ndarray  # the test images' original labels, to see *which* anomalies are hard
    n_contaminating: int = 0  # how many training images are in fact anomalies (other classes)


def one_class_split(ds, normal_class: int, n_val: int = 1000, contamination: float = 0.0,
                    n_train: int | None = None, seed: int = 0) -> OneClassSplit:
    """The standard one-class benchmark on a :class:`aeutils.data.Dataset` (notebook 05, section 1).

    The normal class's training images are shuffled with ``seed``; ``n_val`` of them are held out for
    validation, the rest (at most ``n_train``) are the training set. With ``contamination`` > 0, that
    fraction of the training set is replaced by training images of the *other* classes, drawn at random:
    the unlabelled, polluted training data a practitioner usually has. The test set is never touched.
    """
    if not 0 <= contamination < 1:
        raise ValueError(f"contamination is a fraction in [0, 1), not {contamination!r}.")
    rng = np.random.default_rng(seed)
    normal = ds.x_train[ds.y_train == normal_class]
    if len(normal) == 0:
        raise ValueError(f"There is no training image of class {normal_class!r}.")
    if not 0 < n_val < len(normal):
        raise ValueError(f"n_val must be between 1 and {len(normal) - 1} for class {normal_class}, not {n_val}.")
    normal = normal[rng.permutation(len(normal))]
    x_val, x_train = normal[:n_val], normal[n_val:][:n_train]
    n_bad = int(round(contamination * len(x_train)))
    if n_bad:
        others = ds.x_train[ds.y_train != normal_class]
        x_train = np.concatenate([x_train[n_bad:], others[rng.choice(len(others), n_bad, replace=False)]])
        x_train = x_train[rng.permutation(len(x_train))]
    return OneClassSplit(normal_class, x_train, x_val, ds.x_test, (ds.y_test != normal_class).astype(np.int64),
                         ds.y_test, n_bad)


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
            y = np.r_[np.zeros(normal.sum()), np.ones(other.sum())]
            out[k] = roc_auc_score(y, np.r_[scores[normal], scores[other]])
    return out
