"""Exercises of notebook 05 (anomaly detection): ``from aeutils.exercises.nb05 import q1, q2, q3``."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from aeutils.exercises import Exercise, call


def _check_auroc_by_pairs(fn) -> str | None:
    rng = np.random.default_rng(5)
    normal, anomaly = rng.integers(0, 8, 40).astype(float), rng.integers(3, 12, 60).astype(float)  # with ties
    want = roc_auc_score(np.r_[np.zeros(40), np.ones(60)], np.r_[normal, anomaly])
    got = float(call(fn, normal, anomaly))
    if np.isclose(got, 1 - want):
        return "that is the share of pairs where the *normal* image scores higher: swap the two sides."
    strict = np.mean(anomaly[:, None] > normal[None, :])
    if np.isclose(got, strict) or np.isclose(got, np.mean(anomaly[:, None] >= normal[None, :])):
        return "ties count one half: add 0.5 * np.mean(anomaly[:, None] == normal[None, :])."
    if not np.isclose(got, want):
        return (f"on the check's data AUROC is {want:.4f}; you returned {got:.4f}. "
                "Compare every anomaly with every normal.")
    return None


def _check_threshold_for(fn) -> str | None:
    val = np.random.default_rng(6).lognormal(size=1000)
    got = float(call(fn, val, 0.05))
    if np.isclose(got, np.percentile(val, 5)):
        return "that flags 95% of normal images: the threshold sits in the *upper* tail, at the 95th percentile."
    if not np.isclose(got, np.percentile(val, 95)):
        return "5% of the validation scores must lie above the threshold: np.percentile(val_scores, 95)."
    flagged = np.mean(val > float(call(fn, val, 0.01)))
    if not np.isclose(flagged, 0.01, atol=0.002):
        return f"with false_alarm=0.01 your threshold flags {flagged:.1%} of the validation images, not 1%."
    return None


def _check_precision_at(fn) -> str | None:
    got = float(call(fn, 0.9, 0.05, 0.01))
    want = 0.9 * 0.01 / (0.9 * 0.01 + 0.05 * 0.99)
    if np.isclose(got, 0.9 * 0.99 / (0.9 * 0.99 + 0.05 * 0.01)):
        return "prevalence is the share of *anomalies*: true alarms = recall × prevalence."
    if np.isclose(got, 0.9):
        return "that is the recall; precision asks what share of the *alarms* are real anomalies."
    if not np.isclose(got, want):
        return "precision = true alarms / all alarms = r·p / (r·p + f·(1 − p))."
    return None


q1 = Exercise(
    "q1", _check_auroc_by_pairs,
    "Build the matrix anomaly[:, None] > normal[None, :] (one entry per pair) and take its mean; ties count 1/2.",
    "def auroc_by_pairs(normal, anomaly):\n"
    "    higher = np.mean(anomaly[:, None] > normal[None, :])\n"
    "    ties = np.mean(anomaly[:, None] == normal[None, :])\n"
    "    return higher + 0.5 * ties  # the probability that a random anomaly outscores a random normal image",
)
q2 = Exercise(
    "q2", _check_threshold_for,
    "A false-alarm rate f means a fraction f of normal scores lies above the threshold: the (1 − f) quantile.",
    "def threshold_for(val_scores, false_alarm):\n"
    "    return np.percentile(val_scores, 100 * (1 - false_alarm))",
)
q3 = Exercise(
    "q3", _check_precision_at,
    "Out of N images, N·p are anomalies (r·N·p of them flagged) and N·(1 − p) are normal (f·N·(1 − p) flagged).",
    "def precision_at(recall, false_alarm, prevalence):\n"
    "    true_alarms = recall * prevalence\n"
    "    false_alarms = false_alarm * (1 - prevalence)\n"
    "    return true_alarms / (true_alarms + false_alarms)  # 0.9, 0.05, 0.01 -> 0.154",
)
