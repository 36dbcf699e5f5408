"""The setup every notebook calls first (its second cell): seeds, quiet logs, plot style, versions."""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import sys

REPO = "autoencoder-tutorials/autoencoders"  # the GitHub home: Colab badges and the Colab install use it


def colab_badge_url(notebook: str) -> str:
    """The "Open in Colab" address of ``notebooks/<notebook>`` on the main branch."""
    return f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{notebook}"


def install_spec() -> str:
    """What the setup cell's ``%pip install`` installs on Colab: this release of ``aeutils``, from its tag
    ``v<aeutils.__version__>`` (README, "Releases"; tests/test_notebooks.py keeps every notebook's line in step)."""
    from aeutils import __version__

    return f"aeutils @ git+https://github.com/{REPO}@v{__version__}"


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


@contextlib.contextmanager
def quiet_native_stderr(active: bool = True):
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines (oneDNN, CUDA probes) ignore
    TF_CPP_MIN_LOG_LEVEL when written before its logging starts, and Jupyter would show them under the cell."""
    if not active:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def machine_facts(quiet: bool = True) -> dict:
    """Library versions and the machine (CPUs, GPUs, processor): what makes a number or a timing comparable.

    Printed by :func:`setup` in every notebook and stored by the harness beside each notebook's results.
    """
    if quiet:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
    with quiet_native_stderr(quiet):
        import keras
        import numpy as np
        import tensorflow as tf

        gpus = len(tf.config.list_physical_devices("GPU"))
    if quiet:
        tf.get_logger().setLevel("ERROR")
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "backend": keras.backend.backend(),
        "cpus": os.cpu_count(),
        "gpus": gpus,
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
    }


def setup(seed: int = 42, quiet: bool = True, style: bool = True) -> dict:
    """Seed Python, NumPy and Keras; quiet TensorFlow's logs; set the plot style; print and return versions.

    Called by the setup cell of every notebook (01–07). Returns :func:`machine_facts` plus Colab and seed.
    """
    info = {**machine_facts(quiet), "colab": in_colab(), "seed": seed}
    import keras

    from aeutils.results import note_machine

    note_machine(info)  # under the harness: the facts of this kernel, stored beside the notebook's results
    keras.utils.set_random_seed(seed)  # seeds Python's random, NumPy and the backend
    if info["colab"]:
        _enable_colab_widgets()
    if style:
        from aeutils.plotting import set_style

        set_style()
    print(" | ".join(f"{k} {v}" for k, v in info.items() if k != "platform"))
    return info


def _enable_colab_widgets() -> None:
    """Let Colab show third-party widgets (ipympl's canvas in notebook 07's latent explorer): Colab renders only
    its built-in ipywidgets until its custom widget manager is enabled."""
    try:  # Colab's own module, present only there (not a dependency: imported by name)
        output = importlib.import_module("google.colab.output")
    except ImportError:  # not Colab after all
        return
    output.enable_custom_widget_manager()


def show_source(obj) -> None:
    """Display the source code of a function or class from ``aeutils`` under the cell, highlighted.

    Notebooks 06 and 07 read the VAE this way: it lives in :mod:`aeutils.vae` so that a saved model loads in a
    fresh process, and the lesson still shows every line of it."""
    import inspect

    from IPython.display import Code, display

    display(Code(inspect.getsource(obj), language="python"))
