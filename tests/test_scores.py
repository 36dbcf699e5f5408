"""aeutils.scores: the shipped classifier (checksum, accuracy, packaging) and the sample scores it gives.

Sanity checks in the spirit of the FID papers: identical sets score about 0, every score moves the right way under
increasing noise, blur and occlusion, and a set that misses half of the classes loses recall and coverage.
Subsets of 1 500 images keep the whole file to a few seconds after TensorFlow's start.
"""

import fnmatch
import hashlib
import shutil
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from aeutils import scores
from aeutils.data import load_dataset, stratified_subsample

ROOT = Path(__file__).resolve().parent.parent
N = 1500
KID_SUBSETS = 20


@pytest.fixture(scope="module")
def data():
    return load_dataset("fashion_mnist")


@pytest.fixture(scope="module")
def sets(data):
    """Test images (with labels) and the embedded training images they are scored against."""
    x_test, y_test = stratified_subsample(data.x_test, data.y_test, N, seed=0)
    x_train, _ = stratified_subsample(data.x_train, data.y_train, N, seed=0)
    return x_test, y_test, scores.embed(x_train)


def occlude(x, side, seed=0):
    """A black side×side square at a random place in each image."""
    x, corners = x.copy(), np.random.default_rng(seed).integers(0, 29 - side, size=(len(x), 2))
    for image, (r, c) in zip(x, corners):
        image[r:r + side, c:c + side] = 0
    return x


def noisy(x, sigma):
    return np.clip(x + sigma * np.random.default_rng(0).standard_normal(x.shape).astype("float32"), 0, 1)


CORRUPTIONS = {
    "noise": (noisy, (0.05, 0.1, 0.2, 0.4)),
    "blur": (lambda x, s: gaussian_filter(x, (0, s, s)), (0.5, 1.0, 1.5, 2.0)),
    "occlusion": (occlude, (4, 8, 12, 16)),
}


def test_the_shipped_file_matches_its_checksum_and_ships_with_the_package():
    path = scores.verify_classifier()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == scores.CLASSIFIER_SHA256
    assert path.stat().st_size < 2_000_000
    assert (files("aeutils") / "weights" / "fashion_classifier.keras").is_file()
    tomllib = pytest.importorskip("tomllib")
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["aeutils"]
    assert any(fnmatch.fnmatch("weights/fashion_classifier.keras", p) for p in patterns)  # in the wheel and sdist


def test_a_changed_or_missing_file_is_refused_with_both_hashes(tmp_path):
    bad = tmp_path / "fashion_classifier.keras"
    shutil.copy(scores.CLASSIFIER_FILE, bad)
    raw = bytearray(bad.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with pytest.raises(scores.ClassifierError) as err:
        scores.verify_classifier(bad)
    message = str(err.value)
    assert str(bad) in message and scores.CLASSIFIER_SHA256 in message
    assert hashlib.sha256(bytes(raw)).hexdigest() in message
    with pytest.raises(scores.ClassifierError, match="missing"):
        scores.verify_classifier(tmp_path / "absent.keras")


def test_classifier_accuracy_on_a_slice_of_the_test_set(data):
    probabilities = scores.embed(data.x_test[:2000]).probabilities
    assert scores.load_classifier() is scores.load_classifier()  # loaded once
    assert (probabilities.argmax(axis=1) == data.y_test[:2000]).mean() >= 0.88


def test_features_accept_every_layout_and_refuse_bad_images(sets):
    x = sets[0][:5]
    f = scores.features(x)
    assert f.shape == (5, 128)
    assert np.allclose(scores.features(x.reshape(5, 784)), f) and np.allclose(scores.features(x[..., None]), f)
    for bad, words in [(np.zeros((3, 28, 27)), "28, 28"), (np.zeros((0, 28, 28)), "n ≥ 1"),
                       (x * 255, "0-255"), (np.full((2, 784), np.nan), "finite")]:
        with pytest.raises(ValueError, match=words):
            scores.features(bad)


def test_score_functions_refuse_bad_features():
    a = np.random.default_rng(0).random((50, 8))
    with pytest.raises(ValueError, match="same d"):
        scores.frechet_distance(a, a[:, :4])
    with pytest.raises(ValueError, match=r"features\(images\)"):
        scores.kid(a.reshape(50, 2, 4), a)
    with pytest.raises(ValueError, match="at least 4"):
        scores.precision_recall(a, a[:3], k=3)
    with pytest.raises(ValueError, match="finite"):
        scores.frechet_distance(a, np.where(a > 0.5, np.inf, a))


def test_frechet_distance_and_mmd_on_known_cases():
    a = np.random.default_rng(1).standard_normal((400, 5))
    b = 2 * a + 1  # Σb = 4Σa, so tr(ΣaΣb)^½ = 2 tr Σa and FD = ‖μa + 1‖² + tr Σa
    expected = np.sum((a.mean(axis=0) + 1) ** 2) + np.trace(np.cov(a, rowvar=False))
    assert scores.frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    x, y = a[:6], b[:6]

    def k(u, v):
        return (u @ v / 5 + 1) ** 3

    by_hand = (sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(6) for j in range(6) if i != j) / 30
               - 2 * np.mean([k(u, v) for u in x for v in y]))
    assert scores.mmd2_unbiased(x, y) == pytest.approx(by_hand, rel=1e-5)


def test_identical_sets_score_zero_and_full_precision_recall(sets):
    ref = sets[2]
    same = scores.score_samples(ref, ref, kid_subsets=KID_SUBSETS)
    noise = scores.score_samples(noisy(sets[0], 0.05), ref, kid_subsets=KID_SUBSETS)
    assert same["fd"] < 1e-6 * noise["fd"]
    assert abs(same["kid"]) < 0.2 * noise["kid"]  # subsets of one set overlap: slightly negative, not exactly 0
    assert same["precision"] == same["recall"] == 1.0 and same["coverage"] == 10


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_scores_rise_with_the_strength_of_a_corruption(sets, name):
    x_test, _, ref = sets
    corrupt, levels = CORRUPTIONS[name]
    rows = [scores.score_samples(x_test, ref, kid_subsets=KID_SUBSETS)]  # the floor: clean test vs train
    rows += [scores.score_samples(corrupt(x_test, level), ref, kid_subsets=KID_SUBSETS) for level in levels]
    fd, kid = [r["fd"] for r in rows], [r["kid"] for r in rows]
    assert all(b > a for a, b in zip(fd, fd[1:])), fd
    assert all(b > a for a, b in zip(kid, kid[1:])), kid
    assert rows[-1]["recall"] < 0.5 * rows[0]["recall"]
    if name != "occlusion":  # small black squares widen the samples' k-NN balls: recall first rises a little
        recall = [r["recall"] for r in rows]
        assert all(b <= a for a, b in zip(recall, recall[1:])), recall


def test_missing_classes_lose_recall_and_coverage(sets, data):
    x_test, _, ref = sets
    half, _ = stratified_subsample(data.x_test[data.y_test < 5], data.y_test[data.y_test < 5], N, seed=0)
    full = scores.score_samples(x_test, ref, kid_subsets=KID_SUBSETS)
    partial = scores.score_samples(half, ref, kid_subsets=KID_SUBSETS)
    assert full["coverage"] == 10 and partial["coverage"] == 5
    assert partial["recall"] < 0.75 * full["recall"]
    assert partial["precision"] > 0.9 * full["precision"]  # what it draws is still real-looking
    assert partial["entropy"] < full["entropy"]


def test_class_histogram_rule_and_table():
    labels = np.repeat(np.arange(3), [48, 48, 4])  # 4 % of the samples in class 2: under the 5 % rule
    seen = scores.Embedding(np.zeros((100, 128)), np.eye(10)[labels])
    hist = scores.class_histogram(seen)
    assert hist["counts"].tolist() == [48, 48, 4] + [0] * 7 and hist["coverage"] == 2
    assert hist["entropy"] == pytest.approx(-(2 * 0.48 * np.log(0.48) + 0.04 * np.log(0.04)))
    row = {"n": 100, "fd": 1.5, "kid": 0.01, "kid_sd": 0.002, "precision": 0.8, "recall": 0.7, **hist}
    table = scores.scores_table({"test vs train": row, "VAE samples": row})
    assert "test vs train" in table and "VAE samples" in table and "nats" in table and "2/10" in table
