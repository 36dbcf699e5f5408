"""Exercises of notebook 05 (anomaly detection): ``from aeutils.exercises.nb05 import q1, q2, q3, q4``."""

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


def _least_squares(features_fit, target_fit, features, intercept=True):
    design = (lambda f: np.c_[np.ones(len(f)), f]) if intercept else (lambda f: np.asarray(f))
    coef, *_ = np.linalg.lstsq(design(features_fit), target_fit, rcond=None)
    return design(features) @ coef


def _check_excess_log_error(fn) -> str | None:
    rng = np.random.default_rng(7)
    f_fit, f = rng.normal(1.0, 0.5, (300, 2)), rng.normal(1.0, 0.5, (60, 2))
    e_fit = np.exp(-4 + f_fit @ [0.8, -0.3] + 0.2 * rng.normal(size=300))
    e = np.exp(-4 + f @ [0.8, -0.3] + 0.2 * rng.normal(size=60) + np.r_[np.zeros(30), np.ones(30)])
    want = np.log(e) - _least_squares(f_fit, np.log(e_fit), f)
    got = np.asarray(call(fn, e_fit, f_fit, e, f), dtype=float)
    if got.shape != want.shape:
        return f"return one score per scored image: shape {want.shape}, not {got.shape}."
    if np.allclose(got, -want):
        return "the sign is reversed: the score is the log error *minus* the usual one, so higher = more anomalous."
    if np.allclose(got, e - _least_squares(f_fit, e_fit, f)):
        return "fit and score the *log* of the errors: the error grows multiplicatively with complexity."
    if np.allclose(got, np.log(e) - _least_squares(f_fit, np.log(e_fit), f, intercept=False)):
        return "the regression needs an intercept (a column of ones, or LinearRegression's default)."
    if np.allclose(got, np.log(e) - _least_squares(f, np.log(e), f)):
        return ("fit the regression on the calibration images (errors_fit, features_fit), then score the others: "
                "fitted on the scored images themselves, it absorbs the anomalies it should expose.")
    if not np.allclose(got, want):
        return "score = log(errors) − (a + b·features), with a and b fitted by least squares on the calibration images."
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
q4 = Exercise(
    "q4", _check_excess_log_error,
    "Regress np.log(errors_fit) on [1, features_fit] (np.linalg.lstsq or LinearRegression), predict the usual log "
    "error of each scored image from its features, and subtract that prediction from its log error.",
    "def excess_log_error(errors_fit, features_fit, errors, features):\n"
    "    design = lambda f: np.c_[np.ones(len(f)), f]  # an intercept and the complexity features\n"
    "    coef, *_ = np.linalg.lstsq(design(features_fit), np.log(errors_fit), rcond=None)\n"
    "    return np.log(errors) - design(features) @ coef  # how far above the usual log error for its complexity",
)
