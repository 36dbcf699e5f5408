"""aeutils.notebook: the setup every notebook calls seeds everything and reports the versions."""

import random
import sys

import numpy as np

from aeutils import notebook  # not `import setup`: pytest would call a module-level setup() as a fixture
from aeutils.notebook import colab_badge_url, in_colab


def draws():
    import keras

    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    return random.random(), np.random.rand(), layer.kernel.numpy().tolist()


def test_setup_seeds_python_numpy_and_keras(capsys):
    info = notebook.setup(seed=7)
    first = draws()
    notebook.setup(seed=7)
    assert draws() == first
    notebook.setup(seed=8)
    assert draws() != first
    out = capsys.readouterr().out
    assert "tensorflow" in out and "keras 3" in out
    assert info["seed"] == 7 and info["backend"] == "tensorflow" and info["cpus"] >= 1
    assert info["colab"] is in_colab() is False


def test_colab_badge_url():
    url = colab_badge_url("01_autoencoder_basics.ipynb")
    assert url.startswith("https://colab.research.google.com/github/")
    assert url.endswith("/blob/main/notebooks/01_autoencoder_basics.ipynb")


def test_setup_enables_colabs_widget_manager_only_on_colab(monkeypatch):
    """On Colab, setup() turns on the custom widget manager that ipympl's canvas (notebook 07) needs."""
    import types

    from aeutils import notebook

    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("on"))
    colab = types.ModuleType("google.colab")
    colab.output = output
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    notebook.setup(seed=1, style=False)
    assert calls == ["on"]
    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.delitem(sys.modules, "google.colab.output")
    notebook.setup(seed=1, style=False)
    assert calls == ["on"]
