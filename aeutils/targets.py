"""The metrics each notebook records and the full-mode targets they are held to: the one place for both.

The harness (``python -m aeutils.run --check``) fails when a target is missed or an expected metric is
missing. ``nbNN.wall_s`` is the notebook's wall time, measured by the harness itself.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

FULL_MODE_SECONDS = 360  # 6 minutes per notebook on the project's 2-core machine

METRICS: dict[str, dict[str, str]] = {
    "01_autoencoder_basics": {
        **{f"nb01.ae_mse_L{k}": f"dense AE test MSE, code size {k}" for k in (2, 8, 32, 64)},
        **{f"nb01.pca_mse_L{k}": f"PCA test MSE, {k} components" for k in (2, 8, 32, 64)},
        "nb01.toy_mse": "64→2→64 toy AE, test MSE on held-out 8×8 digits",
    },
    "02_convolutional_autoencoders": {
        "nb02.conv_mse_L32": "conv AE test MSE, code size 32",
        "nb02.conv_mse_L64": "conv AE test MSE, code size 64",
        "nb02.dense_mse_L32": "notebook 01's dense AE test MSE, code size 32, same epochs as the conv AE",
        "nb02.pca_mse_L64": "PCA test MSE, 64 components",
        "nb02.epoch_s_conv": "seconds per training epoch, conv AE L=32",
        "nb02.epoch_s_dense": "seconds per training epoch, dense AE L=32",
    },
}

_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class Target:
    """``metric`` (divided by ``per`` when given) must satisfy ``op bound`` in full mode."""

    label: str
    metric: str
    op: str
    bound: float
    per: str | None = None

    def value(self, metrics: dict[str, float]) -> float | None:
        """The compared quantity, or None when a metric it needs was not recorded."""
        if self.metric not in metrics or (self.per and self.per not in metrics):
            return None
        return metrics[self.metric] / metrics[self.per] if self.per else metrics[self.metric]

    def met(self, metrics: dict[str, float]) -> bool:
        """Whether the target holds (a missing metric counts as a miss)."""
        value = self.value(metrics)
        return value is not None and _OPS[self.op](value, self.bound)

    @property
    def quantity(self) -> str:
        return f"{self.metric} / {self.per}" if self.per else self.metric


def _time_target(nb: str) -> Target:
    return Target(f"full mode ≤ {FULL_MODE_SECONDS // 60} min", f"nb{nb[:2]}.wall_s", "<=", FULL_MODE_SECONDS)


TARGETS: dict[str, list[Target]] = {
    "01_autoencoder_basics": [
        Target("AE/PCA test MSE at L=2", "nb01.ae_mse_L2", "<=", 0.55, per="nb01.pca_mse_L2"),
        Target("AE/PCA test MSE at L=32", "nb01.ae_mse_L32", "<=", 0.60, per="nb01.pca_mse_L32"),
        Target("AE/PCA test MSE at L=64", "nb01.ae_mse_L64", "<=", 0.75, per="nb01.pca_mse_L64"),
        _time_target("01_autoencoder_basics"),
    ],
    "02_convolutional_autoencoders": [
        Target("conv AE/PCA test MSE at L=64", "nb02.conv_mse_L64", "<=", 0.70, per="nb02.pca_mse_L64"),
        Target("conv/dense AE test MSE at L=32", "nb02.conv_mse_L32", "<", 1.0, per="nb02.dense_mse_L32"),
        _time_target("02_convolutional_autoencoders"),
    ],
}
