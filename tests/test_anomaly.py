"""The one-class protocol and the anomaly-detection evaluation of notebook 05 (aeutils.anomaly, plotting)."""

import matplotlib
import numpy as np
import pytest

from aeutils.anomaly import (
    auroc,
    auroc_by_anomaly_class,
    one_class_split,
    rbf_svm_score,
    scores_table,
    threshold_report,
    training_roles,
)
from aeutils.data import Dataset
from aeutils.plotting import plot_calibration, plot_roc_pr, plot_score_histograms

matplotlib.use("Agg")


@pytest.fixture
def ds():
    rng = np.random.default_rng(0)
    y_tr, y_te = np.repeat(np.arange(3), 100), np.repeat(np.arange(3), 20)
    # each image carries its own index in pixel 0, so images can be traced through the split
    x_tr = rng.random((300, 28, 28)).astype(np.float32)
    x_tr[:, 0, 0] = np.arange(300)
    return Dataset(x_tr, y_tr, rng.random((60, 28, 28)).astype(np.float32), y_te, ("a", "b", "c"))


def test_one_class_split_keeps_normal_train_val_apart_and_tests_on_everything(ds):
    split = one_class_split(ds, 1, n_val=30, n_dev_anomalies=40)
    ids_train, ids_val = split.x_train[:, 0, 0].astype(int), split.x_val[:, 0, 0].astype(int)
    assert len(ids_val) == 30 and len(ids_train) == 70 and not set(ids_train) & set(ids_val)
    assert np.all(ds.y_train[np.r_[ids_train, ids_val]] == 1)
    assert split.x_test is ds.x_test and split.y_test.sum() == 40 and np.all(split.y_test == (ds.y_test != 1))
    assert split.n_contaminating == 0
    again = one_class_split(ds, 1, n_val=30, n_dev_anomalies=40)
    assert np.array_equal(again.x_val, split.x_val) and np.array_equal(again.x_dev_anomalies, split.x_dev_anomalies)
    assert len(one_class_split(ds, 1, n_val=30, n_train=20).x_train) == 20


def test_validation_parts_and_development_anomalies_have_one_job_each(ds):
    split = one_class_split(ds, 1, n_val=30, n_dev_anomalies=40)
    parts = [split.val_fit, split.val_select, split.val_threshold]
    assert [len(p) for p in parts] == [10, 10, 10]
    assert np.array_equal(np.concatenate(parts), split.x_val)  # the three parts cover the validation images once
    dev_ids = split.x_dev_anomalies[:, 0, 0].astype(int)
    assert len(dev_ids) == 40 and len(set(dev_ids)) == 40 and np.all(ds.y_train[dev_ids] != 1)
    assert np.array_equal(ds.y_train[dev_ids], split.dev_anomaly_classes)
    assert len(split.anomalies_select) == len(split.anomalies_heldout) == 20
    assert not set(split.anomalies_select[:, 0, 0]) & set(split.anomalies_heldout[:, 0, 0])


def test_contamination_replaces_a_fraction_of_training_images_by_other_classes(ds):
    split = one_class_split(ds, 0, n_val=20, contamination=0.1, n_dev_anomalies=24)
    labels = ds.y_train[split.x_train[:, 0, 0].astype(int)]
    assert len(split.x_train) == 80 and split.n_contaminating == 8 and np.sum(labels != 0) == 8
    assert np.all(ds.y_train[split.x_val[:, 0, 0].astype(int)] == 0)  # validation stays clean
    intruders = set(split.x_train[labels != 0, 0, 0].astype(int))
    assert not intruders & set(split.x_dev_anomalies[:, 0, 0].astype(int))  # never a development anomaly
    roles = training_roles(ds.y_train, 20)
    assert np.all(roles[list(intruders)] == 0)  # nor any class's validation image: other classes' training images
    assert np.array_equal(split.x_train[:, 0, 0].astype(int), split.train_ids)


def test_every_training_image_has_one_role_for_all_classes(ds):
    """An image that chooses settings for one class never judges them for another: the settings are shared."""
    splits = [one_class_split(ds, c, n_val=30, n_dev_anomalies=40) for c in range(3)]
    selection = set().union(*(np.r_[np.array_split(s.val_ids, 3)[1], s.dev_anomaly_ids[:20]] for s in splits))
    heldout = set().union(*(np.r_[np.array_split(s.val_ids, 3)[2], s.dev_anomaly_ids[20:]] for s in splits))
    fitted = set().union(*(np.r_[s.train_ids, np.array_split(s.val_ids, 3)[0]] for s in splits))
    assert selection and heldout and not selection & heldout
    assert not fitted & (selection | heldout)  # no class trains or calibrates on another's evaluation image
    for s in splits:  # the ids are the images
        assert np.array_equal(s.x_val[:, 0, 0].astype(int), s.val_ids)
        assert np.array_equal(s.anomalies_select[:, 0, 0].astype(int), s.dev_anomaly_ids[:20])
    roles = training_roles(ds.y_train, 30)
    assert np.array_equal(np.bincount(roles), [210, 30, 30, 30])
    assert np.array_equal(roles, training_roles(ds.y_train, 30))
    assert not np.array_equal(roles, training_roles(ds.y_train, 30, seed=1))


@pytest.mark.parametrize("kwargs,says", [({"contamination": 1.0}, "fraction"), ({"n_val": 2}, "n_val"),
                                         ({"n_val": 100}, "n_val"),
                                         ({"n_val": 20, "n_dev_anomalies": 201}, "n_dev_anomalies")])
def test_one_class_split_rejects_bad_arguments(ds, kwargs, says):
    with pytest.raises(ValueError, match=says):
        one_class_split(ds, 0, **kwargs)
    with pytest.raises(ValueError, match="no training image"):
        one_class_split(ds, 7)


def test_scores_table_and_threshold_report():
    y = np.r_[np.zeros(8, int), np.ones(4, int)]
    perfect, reversed_ = y + 0.1 * np.arange(12), -y.astype(float)
    table = scores_table(y, {"perfect": perfect, "reversed": reversed_})
    assert table["perfect"] == {"auroc": 1.0, "ap": 1.0} and table["reversed"]["auroc"] == 0.0
    scores = np.array([0, 1, 2, 3, 4, 5, 6, 9, 7, 8, 2.5, 10.0])  # normals 0..9 (one high), anomalies 7, 8, 2.5, 10
    rep = threshold_report(y, scores, threshold=6.5)
    assert rep["confusion"].tolist() == [[7, 1], [1, 3]]
    assert rep["recall"] == 0.75 and rep["precision"] == 0.75 and rep["false_alarm"] == 1 / 8


def test_auroc_by_anomaly_class_scores_each_kind_of_anomaly():
    classes = np.repeat(np.arange(3), 5)
    scores = np.r_[np.zeros(5), np.full(5, 2.0), np.full(5, -1.0)]  # class 1 easy to flag, class 2 never
    out = auroc_by_anomaly_class(scores, classes, normal_class=0, n_classes=3)
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == 0.0


def test_roc_pr_and_histogram_figures():
    y = np.r_[np.zeros(50, int), np.ones(50, int)]
    s = {"a": np.r_[np.linspace(1, 2, 50), np.linspace(1.5, 3, 50)], "b": np.linspace(0.1, 1, 100)}
    assert len(plot_roc_pr(y, s).axes) == 2
    fig = plot_score_histograms(s, y, thresholds={"a": 2.0})
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"


def test_auroc_of_normal_against_anomaly_scores():
    assert auroc([0, 1, 2], [3, 4]) == 1.0 and auroc([3, 4], [0, 1, 2]) == 0.0
    assert auroc([1, 1], [1, 1]) == 0.5  # ties count one half
    rng = np.random.default_rng(0)
    n, a = rng.normal(size=50), rng.normal(1, 1, size=70)
    assert auroc(n, a) == pytest.approx(np.mean(a[:, None] > n[None, :]))


def test_calibration_figure_draws_both_panels():
    rng = np.random.default_rng(1)
    m = rng.normal(size=40)
    group = {"measure": m, "log_error": 2 * m + rng.normal(size=40), "predicted": 2 * m}
    fig = plot_calibration({"fit": group, "anomalies": {k: v + 1 for k, v in group.items()}},
                           labels={"fit": "normal"}, measure_name="log tv", line=(0.0, 2.0), title="t")
    assert len(fig.axes) == 2 and all(len(ax.collections) == 2 and len(ax.lines) == 1 for ax in fig.axes)


@pytest.mark.parametrize("gamma", ["scale", 0.5])
def test_rbf_svm_score_equals_scikit_learns_score_samples(gamma):
    from sklearn.svm import OneClassSVM

    rng = np.random.default_rng(2)
    x = rng.random((120, 4, 4))
    svm = OneClassSVM(nu=0.3, gamma=gamma).fit(x.reshape(120, -1))
    test = rng.random((2100, 16))  # more than one batch
    assert np.allclose(rbf_svm_score(svm, test), svm.score_samples(test))
    with pytest.raises(ValueError, match="RBF"):
        rbf_svm_score(OneClassSVM(kernel="linear").fit(test[:50]), test)
