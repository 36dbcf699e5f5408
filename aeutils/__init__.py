"""aeutils: the small helpers of the Keras 3 autoencoder notebook series.

One module per concern: :mod:`~aeutils.data` (verified, offline-first data), :mod:`~aeutils.plotting`,
:mod:`~aeutils.results` (``record``), :mod:`~aeutils.targets` (metric names and full-mode targets),
:mod:`~aeutils.exercises`, :mod:`~aeutils.widgets`, :mod:`~aeutils.notebook` (the setup cell) and
:mod:`~aeutils.run` (the harness: ``python -m aeutils.run``).
"""

__version__ = "0.1.0"
