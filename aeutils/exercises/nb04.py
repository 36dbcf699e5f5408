"""Exercises of notebook 04 (sparse and contractive AEs): ``from aeutils.exercises.nb04 import q1, q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call


def _kl(rho, rho_hat):
    return np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))


def _check_kl_sparsity(fn) -> str | None:
    rho_hat = np.array([0.01, 0.05, 0.2, 0.6])
    got = float(call(fn, 0.05, rho_hat))
    if np.isclose(got, _kl(rho_hat, 0.05)):
        return "the arguments are swapped: it is KL(rho || rho_hat), with the target rho in the numerators."
    if np.isclose(got, float(np.sum(0.05 * np.log(0.05 / rho_hat)))):
        return "you have the 'on' term only; add (1 - rho) * log((1 - rho) / (1 - rho_hat)) for the 'off' side."
    if not np.isclose(got, _kl(0.05, rho_hat)):
        return f"for rho=0.05 and rho_hat={rho_hat.tolist()} the sum should be {_kl(0.05, rho_hat):.4f}, not {got:.4f}."
    if not np.isclose(float(call(fn, 0.05, np.full(3, 0.05))), 0.0):
        return "when every rho_hat equals rho the penalty must be exactly 0."
    return None


def _check_sigmoid_unit_grad(fn) -> str | None:
    rng = np.random.default_rng(3)
    w, x, b = rng.normal(size=6), rng.random(6), 0.3
    h = lambda v: 1 / (1 + np.exp(-(w @ v + b)))  # noqa: E731
    numeric = np.array([(h(x + 1e-6 * e) - h(x - 1e-6 * e)) / 2e-6 for e in np.eye(6)])
    got = np.asarray(call(fn, w, b, x), dtype=float)
    if got.shape != x.shape:
        return f"the gradient has one entry per input: shape {x.shape}, not {got.shape}."
    if np.allclose(got, w):
        return "that is the gradient of the pre-activation w·x + b; multiply by sigmoid'(a) = h (1 - h)."
    if not np.allclose(got, numeric, atol=1e-6):
        return "the values disagree with finite differences: dh/dx = h (1 - h) w with h = sigmoid(w·x + b)."
    return None


def _check_probe_accuracy(fn) -> str | None:
    rng = np.random.default_rng(4)
    centres = rng.normal(scale=3, size=(3, 5))
    labels = rng.integers(0, 3, 600)
    feats = centres[labels] + rng.normal(size=(600, 5))
    feats[:, 0] *= 1000  # an unscaled feature: standardising matters for convergence, not for the answer
    got = call(fn, feats[:400], labels[:400], feats[400:], labels[400:])
    if not np.isscalar(got) and np.ndim(got) != 0:
        return "return one number: the accuracy on the test features."
    if not 0 <= float(got) <= 1:
        return f"an accuracy lies between 0 and 1; got {got}."
    if float(got) < 0.9:
        return f"on these well separated clusters a linear probe reaches > 0.9; yours gives {float(got):.3f}."
    return None


q1 = Exercise(
    "q1", _check_kl_sparsity,
    "Vectorise over units: rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)), then sum.",
    "def kl_sparsity(rho, rho_hat):\n"
    "    rho_hat = np.asarray(rho_hat)\n"
    "    return np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))",
)
q2 = Exercise(
    "q2", _check_sigmoid_unit_grad,
    "Compute h = 1 / (1 + np.exp(-(w @ x + b))); the chain rule gives dh/dx = h * (1 - h) * w.",
    "def sigmoid_unit_grad(w, b, x):\n"
    "    h = 1 / (1 + np.exp(-(np.dot(w, x) + b)))\n"
    "    return h * (1 - h) * np.asarray(w)",
)
q3 = Exercise(
    "q3", _check_probe_accuracy,
    "make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(train_feats, train_labels)"
    ".score(test_feats, test_labels)",
    "def probe_accuracy(train_feats, train_labels, test_feats, test_labels):\n"
    "    from sklearn.linear_model import LogisticRegression\n"
    "    from sklearn.pipeline import make_pipeline\n"
    "    from sklearn.preprocessing import StandardScaler\n"
    "    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))\n"
    "    return clf.fit(train_feats, train_labels).score(test_feats, test_labels)",
)
