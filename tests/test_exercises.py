"""Every exercise checker: the solution passes, a wrong answer fails with a useful message, ____ is 'not
attempted', and a learner's exception is reported rather than raised."""

import numpy as np
import pytest
from keras import layers, ops
from scipy.stats import norm

from aeutils.exercises import Exercise, ____, a1, nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08, nb09, nb10, nb11
from aeutils.metrics import per_image_psnr

ALL = [q for nb in (nb01, nb02, nb03, nb04, nb05, nb06, nb07, a1) for q in (nb.q1, nb.q2, nb.q3)]
ALL += [nb01.q4, nb02.q4, nb05.q4, nb07.q4, nb07.q5]
ALL += [nb08.q1, nb08.q2, nb08.q3]
ALL += [nb10.q1, nb10.q2, nb10.q3]
ALL += [nb09.q1, nb09.q2, nb09.q3]
ALL += [nb11.q1, nb11.q2, nb11.q3]


def _seq(*stack):
    """A Sequential model on 784-pixel inputs (for the make_encoder checker's wrong answers)."""
    import keras

    return keras.Sequential([keras.Input((784,)), *stack])


def _seq2(*stack):
    """A Sequential model on 28×28×1 images (for the make_conv_encoder checker's wrong answers)."""
    import keras

    return keras.Sequential([keras.Input((28, 28, 1)), *stack])


def _convs(padding):
    return [layers.Conv2D(c, 3, strides=2, padding=padding, activation="relu") for c in (8, 16)]


def run_solution(ex: Exercise):
    """Execute the printed solution and return what it defines (a function) or evaluates to (a value)."""
    scope = {"np": np, "per_image_psnr": per_image_psnr, "norm": norm, "ops": ops}
    src = ex.solution_text
    if src.startswith("def "):
        exec(src, scope)
        given = {"np", "per_image_psnr", "norm", "ops", "__builtins__"}
        return next(v for k, v in scope.items() if callable(v) and k not in given)
    return eval(src.split("#")[0], scope)


@pytest.mark.parametrize("ex", ALL, ids=lambda e: f"{e.checker.__module__}.{e.name}")
def test_solution_passes(ex, capsys):
    ex.check(run_solution(ex))
    assert ex.passed is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("ex", ALL, ids=lambda e: f"{e.checker.__module__}.{e.name}")
def test_blank_is_not_attempted(ex, capsys):
    ex.check(____)
    assert ex.passed is False
    if ex.solution_text.startswith("def "):  # a function that still returns ____
        ex.check(lambda *a: ____)
        assert ex.passed is False
    assert "not attempted" in capsys.readouterr().out


@pytest.mark.parametrize("ex,wrong,says", [
    (nb01.q1, 784 * 512, "bias"),
    (nb01.q1, 800, "not it"),
    (nb01.q1, "401920", "whole number"),
    (nb01.q2, lambda L: "a model", "Keras model"),
    (nb01.q2, lambda L: _seq(layers.Dense(L + 1)), "shape"),
    (nb01.q2, lambda L: _seq(layers.Dense(L)), "hidden"),
    (nb01.q2, lambda L: _seq(layers.Dense(8, activation="relu"), layers.Dense(L, activation="relu")), "code layer"),
    (nb01.q2, lambda L: _seq(layers.Dense(8, activation="tanh"), layers.Dense(L)), "relu"),
    (nb01.q3, lambda x, y: ((x - y) ** 2).reshape(len(x), -1).sum(axis=1), "sum"),
    (nb01.q3, lambda x, y: ((x - y) ** 2).mean(), "shape"),
    (nb01.q3, lambda x, y: ((x - y) ** 2).mean(axis=(1, 2)), "flat"),
    (nb01.q4, lambda x, p: (x - p.mean_) @ p.components_.T @ p.components_, "add the mean"),
    (nb01.q4, lambda x, p: x @ p.components_.T, "shape"),
    (nb01.q3, lambda x, y: 1 / 0, "ZeroDivisionError"),
    (nb02.q1, 3 * 3 * 64 + 64, "all 32 input channels"),
    (nb02.q1, 3 * 3 * 32 * 64, "bias"),
    (nb02.q2, lambda k, s, n: np.ones(n * s, dtype=int), "positions"),
    (nb02.q2, lambda k, s, n: np.ones((n - 1) * s + k, dtype=int), "counts should be"),
    (nb02.q4, lambda n, s: n // s, "Round up"),
    (nb02.q4, lambda n, s: n - s, "should be"),
    (nb02.q3, lambda L: _seq2(layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"), layers.Flatten(),
                             layers.Dense(L)), "exactly two"),
    (nb02.q3, lambda L: _seq2(*_convs("valid"), layers.Flatten(), layers.Dense(L)), "padding"),
    (nb02.q3, lambda L: _seq2(*_convs("same"), layers.Flatten(), layers.Dense(L, activation="relu")), "without"),
    (nb02.q3, lambda L: _seq2(*_convs("same"), layers.Flatten(), layers.Dense(L + 1)), "shape"),
    (nb03.q1, lambda m: 20 * np.log10(1 / m), "10·log10"),
    (nb03.q1, lambda m: -np.log10(m), "decibel"),
    (nb03.q2, lambda f, grid, nz, cl: min(grid, key=lambda p: per_image_psnr(cl, f(nz, p)).mean()), "worst"),
    (nb03.q3, lambda x, f, seed: np.where(np.random.default_rng(seed).random(x.shape) < f, x, 0), "about 30%"),
    (nb03.q3, lambda x, f, seed: x * (np.random.default_rng().random(x.shape) >= f), "same seed"),
    (nb04.q1, lambda r, rh: np.sum(rh * np.log(rh / r) + (1 - rh) * np.log((1 - rh) / (1 - r))), "swapped"),
    (nb04.q1, lambda r, rh: np.sum(r * np.log(r / rh)), "'off' side"),
    (nb04.q2, lambda w, b, x: w, "sigmoid'"),
    (nb04.q2, lambda w, b, x: w * 0.25, "finite differences"),
    (nb04.q3, lambda a, b, c, d: 0.5, "> 0.9"),
    (nb04.q3, lambda a, b, c, d: [0.9, 0.8], "one number"),
    (nb05.q1, lambda n, a: np.mean(n[:, None] > a[None, :]) + 0.5 * np.mean(n[:, None] == a[None, :]), "swap"),
    (nb05.q1, lambda n, a: np.mean(a[:, None] > n[None, :]), "ties count one half"),
    (nb05.q1, lambda n, a: a.mean() - n.mean(), "Compare every anomaly"),
    (nb05.q2, lambda v, f: np.percentile(v, 100 * f), "upper"),
    (nb05.q2, lambda v, f: v.max(), "must lie above"),
    (nb05.q3, lambda r, f, p: r * (1 - p) / (r * (1 - p) + f * p), "prevalence is the share"),
    (nb05.q3, lambda r, f, p: r, "that is the recall"),
    (nb05.q3, lambda r, f, p: r / (r + f), "r·p / (r·p + f·(1 − p))"),
    (nb05.q4, lambda ef, ff, e, f: nb05._least_squares(ff, np.log(ef), f) - np.log(e), "sign is reversed"),
    (nb05.q4, lambda ef, ff, e, f: e - nb05._least_squares(ff, ef, f), "*log* of the errors"),
    (nb05.q4, lambda ef, ff, e, f: np.log(e) - nb05._least_squares(ff, np.log(ef), f, intercept=False), "intercept"),
    (nb05.q4, lambda ef, ff, e, f: np.log(e) - nb05._least_squares(f, np.log(e), f), "calibration images"),
    (nb05.q4, lambda ef, ff, e, f: np.log(e), "least squares"),
    (nb05.q4, lambda ef, ff, e, f: np.log(e)[:5], "one score per scored image"),
    (nb06.q1, lambda m, v: 0.5 * np.sum(1 + v - m**2 - np.exp(v), axis=-1), "sign"),
    (nb06.q1, lambda m, v: -np.sum(1 + v - m**2 - np.exp(v), axis=-1), "½"),
    (nb06.q1, lambda m, v: -0.5 * np.sum(1 + 2 * v - m**2 - np.exp(2 * v), axis=-1), "log σ²"),
    (nb06.q1, lambda m, v: -0.5 * np.sum(1 + v - m**2 - np.exp(v)), "shape"),
    (nb06.q2, 1, "same scale"),
    (nb06.q2, 28, "28 × 28"),
    (nb06.q3, lambda w: -np.log(np.mean(np.exp(w))), "underflows"),
    (nb06.q3, lambda w: -np.mean(w), "ELBO"),
    (nb06.q3, lambda w: -(w.max() + np.log(np.sum(np.exp(w - w.max())))), "subtract log k"),
    (nb07.q1, lambda n, e: np.linspace(norm.ppf(e), norm.ppf(1 - e), n), "equal steps in z"),
    (nb07.q1, lambda n, e: np.linspace(e, 1 - e, n), "probabilities themselves"),
    (nb07.q1, lambda n, e: norm.ppf(np.linspace(0.05, 0.95, 7)), "ignores n or edge"),
    (nb07.q2, lambda c, lab, s, t: c[lab == s].mean(0) - c[lab == t].mean(0), "reversed"),
    (nb07.q2, lambda c, lab, s, t: c[lab == t].mean() - c[lab == s].mean(), "length L"),
    (nb07.q3, 0.5, "independent"),
    (nb07.q3, 1.414, "longer"),
    (nb07.q3, 0.9, "measure it"),
    (nb07.q4, lambda d: np.tril(np.ones((d, d)), k=-1), "rows are inputs"),
    (nb07.q4, lambda d: np.triu(np.ones((d, d))), "see itself"),
    (nb07.q4, lambda d: np.ones((d, d)), "j < i"),
    (nb07.q4, lambda d: np.triu(np.ones((5, 5)), k=1), "ignores d"),
    (nb07.q4, lambda d: np.ones(d), "d × d"),
    (nb07.q5, lambda b, k, u: (u < 1 / (1 + np.exp(-b))).astype(float), "z-path alone"),
    (nb07.q5, lambda b, k, u: 1 / (1 + np.exp(-b)), "0 or 1"),
    (nb07.q5, lambda b, k, u: (u < 1 / (1 + np.exp(-b - b @ k))).astype(float), "u[:, i] < sigmoid"),
    (nb07.q5, lambda b, k, u: b[:3], "shape (n, d)"),
    (nb08.q1, lambda y: ops.round(y), "no gradient flows"),
    (nb08.q1, lambda y: y * 1.0, "must round"),
    (nb08.q1, lambda y: ops.round(y) + ops.stop_gradient(y - ops.round(y)) * 0, "no gradient flows"),
    (nb08.q1, lambda y: y + ops.stop_gradient(ops.round(y) - y) * 2, "round(y) exactly"),
    (nb08.q2, lambda F, y: -np.log(F(y + 0.5) - F(y - 0.5)).sum(axis=1), "nats"),
    (nb08.q2, lambda F, y: -np.log2(F(y)).sum(axis=1), "probability *mass*"),
    (nb08.q2, lambda F, y: np.log2(F(y + 0.5) - F(y - 0.5)).sum(axis=1), "positive"),
    (nb08.q2, lambda F, y: -np.log2(F(y + 0.5) - F(y - 0.5)), "one code length per row"),
    (nb08.q3, lambda s: np.log2(len(np.unique(s))), "uniform"),
    (nb08.q3, lambda s: float(-sum(p * np.log(p) for p in np.unique(s, return_counts=True)[1] / len(s))), "nats"),
    (nb08.q3, lambda s: 1.5, "entropy 1.750"),
    (nb10.q1, lambda b: np.cumprod(b), "multiplies the β"),
    (nb10.q1, lambda b: 1 - np.cumsum(b), "multiplying"),
    (nb10.q1, lambda b: 1 - b, "running product"),
    (nb10.q2, lambda z, e, a: a * z + (1 - a) * e, "variances"),
    (nb10.q2, lambda z, e, a: np.sqrt(1 - a) * z + np.sqrt(a) * e, "swapped"),
    (nb10.q3, lambda z, e, a, p: np.sqrt(p) * (z - np.sqrt(1 - a) * e) / np.sqrt(a), "signal part"),
    (nb10.q3, lambda z, e, a, p: p * (z - (1 - a) * e) / a + (1 - p) * e, "variances"),
    (nb09.q1, lambda p, t, i: np.arange(49) > i, "causality *allows*"),
    (nb09.q1, lambda p, t, i: np.arange(49) >= i, "its own token"),
    (nb09.q1, lambda p, t, i: np.zeros(49, bool), "mark the positions"),
    (nb09.q1, lambda p, t, i: np.zeros((7, 7), bool), "shape (49,)"),
    (nb09.q2, lambda z, b: (z @ b.T).argmax(1), "dot product"),
    (nb09.q2, lambda z, b: ((z[:, None] - b[None]) ** 2).sum(-1).argmax(1), "farthest"),
    (nb09.q2, lambda z, b: np.zeros(len(z), int), "argmin over axis 1"),
    (nb09.q2, lambda z, b: np.zeros(3, int), "one index per row"),
    (nb09.q3, lambda i, k: np.size(i[0]) * np.log2(len(np.unique(i))), "as if equally frequent"),
    (nb09.q3, lambda i, k: 0.9, "np.bincount"),
    (nb09.q3, lambda i, k: np.ones(3), "one number"),
    (nb11.q1, lambda r: (r[:, 1:], r[:, :-1]), "swapped"),
    (nb11.q1, lambda r: (r, r), "one position fewer"),
    (nb11.q1, lambda r: r[:, :-1], "two arrays"),
    (nb11.q2, 23, "counts characters"),
    (nb11.q2, 18, "one token"),
    (nb11.q3, lambda g, t: sum(x is not None and x not in t for x in g) / len(g), "distinct valid"),
    (nb11.q3, lambda g, t: 0.9, "2 of them novel"),
    (a1.q1, lambda p, g: np.mean(p), "unscaled loss"),
    (a1.q1, lambda p, g: np.sum(p), "divide by the global batch size"),
    (a1.q1, lambda p, g: np.mean(p) * len(p) / 12 if len(p) == 4 else np.mean(p) / 3, "equal shards only"),
    (a1.q1, lambda p, g: p / g, "scalar"),
    (a1.q2, 0.01, "no cancelling"),
    (a1.q2, 0.0025, "other way round"),
    (a1.q3, {"cluster": {"worker": a1.WORKERS}, "task": {"type": "worker", "index": 2}}, "count from 0"),
    (a1.q3, {"cluster": {"worker": a1.WORKERS[::-1]}, "task": {"type": "worker", "index": 1}}, "same order"),
    (a1.q3, {"worker": a1.WORKERS, "index": 1}, "two keys"),
])
def test_wrong_answer_explained(ex, wrong, says, capsys):
    ex.check(run_solution(ex))  # a right answer first: a wrong one must reset the verdict
    ex.check(wrong)
    assert ex.passed is False
    out = capsys.readouterr().out
    assert "not yet" in out and says in out


def test_hint_and_solution_print(capsys):
    nb01.q3.hint()
    nb01.q3.solution()
    out = capsys.readouterr().out
    assert "hint" in out and "def per_image_mse" in out
