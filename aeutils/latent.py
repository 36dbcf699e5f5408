"""Walking a latent space (notebook 07): the great-circle path between two codes and the prior's quantile grid.

Plain NumPy and SciPy: these functions know nothing of the model that made the codes. ``aeutils.vae`` re-exports
both, so ``aeutils.vae.slerp`` keeps working.
"""

from __future__ import annotations

import numpy as np


def slerp(z0, z1, t):
    """Spherical interpolation between latent points ``z0`` and ``z1`` at fractions ``t`` (taught in notebook 07).

    Keeps the norm typical of Gaussian samples, which a straight line between two of them does not. ``t`` may be
    a number (one point) or a sequence (one row per value); two points in the same direction, or a zero vector
    (no direction to turn through), fall back to the straight line."""
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"slerp takes two latent vectors of the same length; got shapes {z0.shape} and {z1.shape}.")
    scalar = np.ndim(t) == 0
    t = np.atleast_1d(np.asarray(t, np.float64))[:, None]
    norms = np.linalg.norm(z0) * np.linalg.norm(z1)
    omega = 0.0 if norms == 0 else np.arccos(np.clip(np.dot(z0, z1) / norms, -1.0, 1.0))
    if omega < 1e-6:
        out = (1 - t) * z0 + t * z1
    else:
        out = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    out = out.astype(np.float32)
    return out[0] if scalar else out


def prior_grid(n: int, edge: float = 0.05):
    """``n × n`` 2-d latent points at the prior's quantiles ``edge`` … ``1 − edge`` on each axis, in reading order
    (row 0 at the top, where z2 is largest), and the ``n`` coordinates. Equal steps in probability, not in z: every
    cell of the grid holds the same prior mass. Notebook 07 decodes all n² points in one batched call."""
    from scipy.stats import norm

    if not 0 < edge < 0.5:
        raise ValueError(f"edge must lie strictly between 0 and 0.5 (the quantiles 0 and 1 are ±inf); got {edge}.")
    coords = norm.ppf(np.linspace(edge, 1 - edge, n))
    z1, z2 = np.meshgrid(coords, coords[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32), coords
