"""aeutils: the small helpers of the Keras 3 autoencoder notebook series.

One module per concern: :mod:`~aeutils.data` (verified, offline-first data), :mod:`~aeutils.models` (the dense
autoencoder and training helpers that later notebooks reuse), :mod:`~aeutils.vae` (the ``Sampling`` layer, the
``VAE`` model and its bounds), :mod:`~aeutils.anomaly` (scores and thresholds of notebook 05),
:mod:`~aeutils.metrics` (per-image MSE, PSNR, SSIM), :mod:`~aeutils.scores` (generated samples measured in a
shipped classifier's features), :mod:`~aeutils.plotting`, :mod:`~aeutils.results`
(``record`` and ``claim``), :mod:`~aeutils.targets` (metric names and full-mode targets), :mod:`~aeutils.exercises`,
:mod:`~aeutils.widgets`, :mod:`~aeutils.notebook` (the setup cell) and :mod:`~aeutils.run` (the harness:
``python -m aeutils.run``, with the ``harness`` extra).
"""

__version__ = "0.1.0"
