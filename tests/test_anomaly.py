"""The one-class protocol and the anomaly-detection evaluation of notebook 05 (aeutils.anomaly, plotting)."""

import matplotlib
import numpy as np
import pytest

from aeutils.anomaly import auroc_by_anomaly_class, one_class_split, scores_table, threshold_report
from aeutils.data import Dataset
from aeutils.plotting import plot_roc_pr, plot_score_histograms

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
    split = one_class_split(ds, 1, n_val=30)
    ids_train, ids_val = split.x_train[:, 0, 0].astype(int), split.x_val[:, 0, 0].astype(int)
    assert len(ids_val) == 30 and len(ids_train) == 70 and not set(ids_train) & set(ids_val)
    assert np.all(ds.y_train[np.r_[ids_train, ids_val]] == 1)
    assert split.x_test is ds.x_test and split.y_test.sum() == 40 and np.all(split.y_test == (ds.y_test != 1))
    assert split.n_contaminating == 0
    again = one_class_split(ds, 1, n_val=30)
    assert np.array_equal(again.x_val, split.x_val)  # seeded
    assert len(one_class_split(ds, 1, n_val=30, n_train=20).x_train) == 20


def test_contamination_replaces_a_fraction_of_training_images_by_other_classes(ds):
    split = one_class_split(ds, 0, n_val=20, contamination=0.1)
    labels = ds.y_train[split.x_train[:, 0, 0].astype(int)]
    assert len(split.x_train) == 80 and split.n_contaminating == 8 and np.sum(labels != 0) == 8
    assert np.all(ds.y_train[split.x_val[:, 0, 0].astype(int)] == 0)  # validation stays clean


@pytest.mark.parametrize("kwargs,says", [({"contamination": 1.0}, "fraction"), ({"n_val": 0}, "n_val"),
                                         ({"n_val": 100}, "n_val")])
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
