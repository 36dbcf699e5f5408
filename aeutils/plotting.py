"""Plots the notebooks share; each returns its matplotlib Figure so tests and the gallery can use it.

Every panel is labelled with what it shows (original, noisy, reconstruction of model X), so a plot cannot
silently show the wrong array.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def set_style() -> None:
    """The series' matplotlib style (called by :func:`aeutils.notebook.setup`)."""
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 110, "savefig.bbox": "tight", "axes.grid": True,
        "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False, "image.cmap": "gray",
        "font.size": 10, "axes.titlesize": 10,
    })


def save_for_gallery(fig, name: str):
    """Mark ``fig`` for the README gallery: the harness saves it as ``docs/images/<name>.png``.

    Outside the harness (no ``AEUTILS_GALLERY_DIR``), nothing is written. Returns ``fig``.
    """
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"Gallery names are lowercase words joined by '_', not {name!r}.")
    folder = os.environ.get("AEUTILS_GALLERY_DIR")
    if folder:
        fig.savefig(Path(folder) / f"{name}.png")
    return fig


def _side(images) -> int:
    return int(round(np.sqrt(np.asarray(images[0]).size)))


def image_rows(rows: dict[str, np.ndarray], n: int | None = None, scale: float = 1.1, autoscale: bool = False):
    """A grid with one labelled row per entry of ``rows`` (e.g. original / reconstruction), ``n`` columns.

    Images are square, of any size (each row may differ). Pixels are shown on [0, 1] unless ``autoscale``
    stretches each image to its own range (for filters and feature maps, notebook 02).
    """
    n = n or min(len(v) for v in rows.values())
    fig, axes = plt.subplots(len(rows), n, figsize=(scale * n, scale * len(rows) + 0.2), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        side = _side(images)
        for c in range(n):
            ax = axes[r, c]
            image = np.asarray(images[c]).reshape(side, side)
            limits = (image.min(), image.max()) if autoscale else (0, 1)
            ax.imshow(image, vmin=limits[0], vmax=limits[1], cmap="gray")
            ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


def plot_history(histories: dict, keys=("loss", "val_loss"), logy: bool = True):
    """Training curves: ``histories`` maps a model name to a Keras ``History`` or its ``history`` dict."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, (name, hist) in enumerate(histories.items()):
        hist = getattr(hist, "history", hist)
        for key, style in zip(keys, ("-", "--")):
            if key in hist:
                epochs = np.arange(1, len(hist[key]) + 1)
                ax.plot(epochs, hist[key], style, color=f"C{i}", label=f"{name} {key}")
    ax.set(xlabel="epoch", ylabel="loss", yscale="log" if logy else "linear")
    ax.legend(fontsize=8)
    return fig


def plot_codes_2d(codes: dict[str, np.ndarray], labels, class_names, max_points: int = 5000):
    """Side-by-side scatters of 2-d codes (e.g. {"AE": z_ae, "PCA": z_pca}) coloured by class."""
    fig, axes = plt.subplots(1, len(codes), figsize=(5 * len(codes), 4.4), squeeze=False)
    labels = np.asarray(labels)[:max_points]
    for ax, (name, z) in zip(axes[0], codes.items()):
        z = np.asarray(z)[:max_points]
        sc = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=3, alpha=0.6, vmin=-0.5, vmax=9.5)
        ax.set(title=f"{name}\n2-d codes of {len(z)} test images", xlabel="$z_1$", ylabel="$z_2$")
    cbar = fig.colorbar(sc, ax=axes[0].tolist(), ticks=range(len(class_names)))
    cbar.ax.set_yticklabels(class_names, fontsize=8)
    return fig


def plot_metric_vs_size(sizes, curves: dict[str, list[float]], ylabel: str = "test MSE", logy=True):
    """One line per method (e.g. AE, PCA) of a metric against the code size."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for name, values in curves.items():
        ax.plot(sizes, values, "o-", label=name)
        for s, v in zip(sizes, values):
            ax.annotate(f"{v:.4f}", (s, v), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set(xscale="log", yscale="log" if logy else "linear", xlabel="code size L", ylabel=ylabel)
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.legend()
    return fig


def plot_roc_pr(y_true, scores: dict[str, np.ndarray]):
    """ROC and precision–recall curves of several anomaly scores (anomaly = positive), scikit-learn's displays
    side by side, each with its chance level (notebook 05)."""
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    fig, (roc, pr) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, (name, s) in enumerate(scores.items()):
        last = i == len(scores) - 1
        RocCurveDisplay.from_predictions(y_true, s, name=name, ax=roc, plot_chance_level=last)
        PrecisionRecallDisplay.from_predictions(y_true, s, name=name, ax=pr, plot_chance_level=last)
    roc.set_title("ROC: anomalies caught vs normal images flagged")
    pr.set_title("Precision–recall for the anomaly class")
    roc.legend(fontsize=7, loc="lower right")
    pr.legend(fontsize=7, loc="lower left")
    return fig


def plot_score_histograms(scores: dict[str, np.ndarray], y_true, thresholds: dict[str, float] | None = None):
    """One panel per score: histograms (log x) of normal and anomalous test images, and the chosen threshold."""
    y_true = np.asarray(y_true)
    fig, axes = plt.subplots(1, len(scores), figsize=(4.6 * len(scores), 3.2), squeeze=False)
    for ax, (name, s) in zip(axes[0], scores.items()):
        s = np.asarray(s)
        log = s.min() > 0  # log-spaced bins and axis only where every score is positive
        bins = np.geomspace(s.min(), s.max(), 60) if log else 60
        for label, colour, who in ((0, "C0", "normal"), (1, "C3", "anomaly")):
            ax.hist(s[y_true == label], bins=bins, density=True, alpha=0.55, color=colour, label=who)
        if thresholds and name in thresholds:
            ax.axvline(thresholds[name], color="k", ls="--", lw=1, label="threshold")
        ax.set(xscale="log" if log else "linear", title=name, xlabel="score (higher: more anomalous)")
        ax.legend(fontsize=8)
    return fig


def plot_calibration(points: dict[str, dict], labels: dict[str, str], measure_name: str,
                     line: tuple[float, float], title: str = ""):
    """The complexity calibration of notebook 05, in two panels. ``points`` maps a group (normal calibration
    images, anomalies, ...) to ``{"measure", "log_error", "predicted"}`` arrays; the first group is the one the
    calibration was fitted on. Left: log error against one complexity measure, with the fitted ``line``
    (intercept, slope). Right: log error against the calibration's prediction from all its measures (the
    fitted plane seen edge-on: the diagonal); the calibrated score is the height above it."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, (group, p) in enumerate(points.items()):
        style = {"s": 6, "alpha": 0.5, "color": f"C{0 if i == 0 else 3 if i == 1 else i + 1}",
                 "label": labels.get(group, group)}
        left.scatter(p["measure"], p["log_error"], **style)
        right.scatter(p["predicted"], p["log_error"], **style)
    fitted = next(iter(points.values()))
    xs = np.linspace(np.min(fitted["measure"]), np.max(fitted["measure"]), 2)
    left.plot(xs, line[0] + line[1] * xs, "k-", lw=1.5, label="line fitted on the normal images")
    lo, hi = np.min(fitted["predicted"]), np.max(fitted["predicted"])
    right.plot([lo, hi], [lo, hi], "k-", lw=1.5, label="the fitted calibration (diagonal)")
    left.set(xlabel=measure_name, ylabel="log error", title="log error against one complexity measure")
    right.set(xlabel="calibration's prediction of the log error", ylabel="log error",
              title="against every chosen measure: score = height above the diagonal")
    for ax in (left, right):
        ax.legend(fontsize=7, loc="upper left", markerscale=2)
    if title:
        fig.suptitle(title)
    return fig


def image_grid(images, coords=None, title: str = ""):
    """Tile n × n square images into one picture (notebook 07's decoded manifold), row 0 at the top.

    ``coords`` (the n latent values along each axis) labels the ticks: columns are z1, rows z2 growing upward.
    """
    images = np.asarray(images)
    n, side = int(round(np.sqrt(len(images)))), _side(images)
    tiles = images.reshape(n, n, side, side).transpose(0, 2, 1, 3).reshape(n * side, n * side)
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(tiles, cmap="gray", vmin=0, vmax=1)
    ax.grid(False)
    if coords is None:
        ax.set_xticks([]), ax.set_yticks([])
    else:
        centres = side * np.arange(n) + side / 2
        labels = [f"{c:.1f}" for c in coords]
        ax.set_xticks(centres, labels, fontsize=7), ax.set_yticks(centres, labels[::-1], fontsize=7)
        ax.set(xlabel="z1", ylabel="z2")
    ax.set_title(title)
    return fig
