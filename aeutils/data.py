"""Data sets for the series, found offline where possible and always verified.

Fashion-MNIST (the default of every notebook from 01 on) is looked for, file by file, in this order:

1. an explicit directory: the ``data_dir`` argument, else the ``AEUTILS_DATA_DIR`` environment variable;
2. the project's data cache (``data/`` in a source checkout, else ``~/.cache/aeutils``);
3. Keras's own cache (``$KERAS_HOME/datasets/fashion-mnist``, default ``~/.keras``);
4. the system copy from the Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
5. a download with ``keras.utils.get_file``, verified, then moved into the explicit directory or the cache.

Every file is checked by the SHA-256 of its *decompressed* IDX bytes, so a recompressed copy still passes.
A missing, truncated or corrupt file raises :class:`DataError`, which names the file and the ways to fix it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
MNIST_CLASSES = tuple(str(d) for d in range(10))

FASHION_FILES = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
FASHION_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
# IDX magic numbers: unsigned bytes, with 3 dimensions (images) or 1 (labels).
_IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}

HOW_TO_GET_IT = (
    "Ways to get it:\n"
    "  1. install the Debian package:  sudo apt-get install dataset-fashion-mnist\n"
    "  2. put the four *-ubyte.gz files in a folder and set AEUTILS_DATA_DIR=/that/folder\n"
    "  3. connect to the network: the file is then downloaded and verified once."
)


class DataError(RuntimeError):
    """A data file is missing everywhere, truncated, corrupt or not the file it claims to be."""


@dataclass(frozen=True)
class Dataset:
    """Images as float32 in [0, 1] with shape (n, 28, 28), integer labels, and the class names."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


def project_cache_dir() -> Path:
    """The project's download cache: ``data/`` of a source checkout, else ``~/.cache/aeutils``."""
    checkout_data = Path(__file__).resolve().parent.parent / "data"
    if (checkout_data / "README.md").is_file():
        return checkout_data
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aeutils"


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for Fashion-MNIST, in order (see the module docstring)."""
    explicit = data_dir or os.environ.get("AEUTILS_DATA_DIR")
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    dirs = [Path(explicit)] if explicit else []
    dirs += [project_cache_dir(), keras_home / "datasets" / "fashion-mnist", SYSTEM_DIR]
    return dirs


def find_files(name: str, dirs: list[Path]) -> list[Path]:
    """Every ``name.gz`` or uncompressed ``name`` in ``dirs``, in search order."""
    return [c for folder in dirs for c in (folder / f"{name}.gz", folder / name) if c.is_file()]


def read_idx(path: str | os.PathLike, sha256: str | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or not), check its header, size and SHA-256, and return a uint8 array.

    Raises :class:`DataError` naming the file for a truncated gzip stream, a wrong IDX header, a size that
    does not match the header, or decompressed bytes whose SHA-256 differs from ``sha256``.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(
            f"{path} is not a complete gzip file ({err}); it is probably a truncated or failed download.\n"
            f"Delete it and load again. {HOW_TO_GET_IT}"
        ) from err
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    ndim = (magic or 0) & 0xFF
    if magic != _IDX_MAGIC.get(ndim):
        raise DataError(
            f"{path} does not start with an IDX header of unsigned bytes "
            f"(expected 0x00000801 for labels or 0x00000803 for images, found "
            f"{'nothing' if magic is None else f'0x{magic:08x}'}). It is not an MNIST-style file."
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise DataError(
            f"{path}: the IDX header announces shape {shape} ({int(np.prod(shape))} bytes) but the file "
            f"holds {len(raw) - offset} bytes after it. The file is truncated or corrupt; delete it."
        )
    if sha256 is not None:
        found = hashlib.sha256(raw).hexdigest()
        if found != sha256:
            raise DataError(
                f"{path} does not match its checksum.\n  expected SHA-256 (decompressed): {sha256}\n"
                f"  found:                           {found}\n"
                f"The file is corrupt or a different data set. Delete it and load again. {HOW_TO_GET_IT}"
            )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def download_file(name: str, sha256: str, dest_dir: Path, looked_in=(), origin: str = FASHION_ORIGIN) -> Path:
    """Download ``name.gz`` with Keras's ``get_file`` into a temporary folder, verify it, move it into place."""
    import keras

    dest_dir.mkdir(parents=True, exist_ok=True)
    for stale in dest_dir.glob(".download-*"):  # left by a download that was killed: older than ten minutes
        if stale.is_dir() and time.time() - stale.stat().st_mtime > 600:
            shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".download-") as tmp:
        try:
            got = keras.utils.get_file(f"{name}.gz", origin=origin + f"{name}.gz", cache_dir=tmp,
                                       cache_subdir=".")
        except Exception as err:  # Keras raises plain Exceptions for URL and SSL failures
            raise DataError(
                f"Fashion-MNIST file {name}.gz was not found locally and could not be downloaded "
                f"({type(err).__name__}: {err}).\nLooked in: {', '.join(map(str, looked_in))}\n"
                f"{HOW_TO_GET_IT}"
            ) from err
        read_idx(got, sha256)  # raises before anything is moved into place
        final = dest_dir / f"{name}.gz"
        os.replace(got, final)
    return final


def load_verified(name: str, data_dir=None, download: bool = True) -> tuple[Path, np.ndarray]:
    """The first copy of Fashion-MNIST file ``name`` that verifies, in search order, and its array.

    A corrupt copy (truncated, wrong header, wrong checksum) is skipped with a warning, so a broken file in one
    cache never hides a good copy further down; the file is downloaded only when no copy verifies."""
    dirs, problems = search_dirs(data_dir), []
    for path in find_files(name, dirs):
        try:
            return path, read_idx(path, FASHION_FILES[name])
        except DataError as err:
            problems.append(str(err))
            warnings.warn(f"skipping a copy that does not verify: {err}", stacklevel=2)
    if not download:
        found = "\n".join(problems) if problems else "not found in any of:\n  " + "\n  ".join(map(str, dirs))
        raise DataError(f"Fashion-MNIST file {name}.gz (or {name}): {found}\n{HOW_TO_GET_IT}")
    path = download_file(name, FASHION_FILES[name], dirs[0], looked_in=dirs)
    return path, read_idx(path, FASHION_FILES[name])


def locate_fashion_file(name: str, data_dir=None, download: bool = True) -> Path:
    """Where the first verified copy of Fashion-MNIST file ``name`` lies, downloading it only if none verifies."""
    return load_verified(name, data_dir, download)[0]


def load_fashion_mnist(data_dir=None, download: bool = True) -> Dataset:
    """Fashion-MNIST, verified: 60 000 training and 10 000 test images (taught from notebook 01 on)."""
    arrays = {name: load_verified(name, data_dir, download)[1] for name in FASHION_FILES}
    return _as_dataset(
        arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"],
        arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"], FASHION_CLASSES,
    )


def load_mnist(download: bool = True) -> Dataset:
    """MNIST through ``keras.datasets.mnist`` (needs the network once; Keras checks its own checksum). With
    ``download=False`` only Keras' cached ``mnist.npz`` is read, and its absence is an error, not a download."""
    import keras

    cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"
    if not download:
        if not cached.is_file():
            raise DataError(f"MNIST is not in Keras' cache ({cached}) and download=False: load it once online, or "
                            "use DATASET = 'fashion_mnist', which the Debian package provides offline.")
        with np.load(cached, allow_pickle=False) as f:
            return _as_dataset(f["x_train"], f["y_train"], f["x_test"], f["y_test"], MNIST_CLASSES)
    try:
        (x_tr, y_tr), (x_te, y_te) = keras.datasets.mnist.load_data()
    except Exception as err:
        raise DataError(
            f"MNIST could not be loaded ({type(err).__name__}: {err}). It is downloaded by Keras and needs "
            "the network once; offline, use DATASET = 'fashion_mnist', which the Debian package provides."
        ) from err
    return _as_dataset(x_tr, y_tr, x_te, y_te, MNIST_CLASSES)


def load_dataset(name: str = "fashion_mnist", data_dir=None, download: bool = True) -> Dataset:
    """Load ``'fashion_mnist'`` (default, offline-capable) or ``'mnist'`` (online) as a :class:`Dataset`."""
    key = name.lower().replace("-", "_")
    if key == "fashion_mnist":
        return load_fashion_mnist(data_dir, download)
    if key == "mnist":
        return load_mnist(download)
    raise ValueError(f"Unknown data set {name!r}: choose 'fashion_mnist' or 'mnist'.")


def _as_dataset(x_tr, y_tr, x_te, y_te, class_names) -> Dataset:
    if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise DataError("Images and labels differ in number: the files do not belong together.")

    def scale(x):
        return (np.asarray(x, dtype=np.float32) / 255.0).reshape(-1, 28, 28)

    return Dataset(scale(x_tr), np.asarray(y_tr, np.int64), scale(x_te), np.asarray(y_te, np.int64),
                   tuple(class_names))


def load_digits_toy(test_size: float = 0.25, seed: int = 0):
    """scikit-learn's 8x8 digits scaled to [0, 1], split into train and test (the toy of notebook 01)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    return train_test_split(x, digits.target, test_size=test_size, random_state=seed, stratify=digits.target)


def stratified_subsample(x, y, n: int | None, seed: int = 0):
    """``n`` examples of ``(x, y)`` with the class proportions kept; all of them when ``n`` is None or ≥ len."""
    if n is None or n >= len(x):
        return x, y
    from sklearn.model_selection import train_test_split

    x_sub, _, y_sub, _ = train_test_split(x, y, train_size=n, random_state=seed, stratify=y)
    return x_sub, y_sub


# Notebook 11's molecules: a seeded subset of the MOSES benchmark (scripts/make_molecule_subset.py, data/README.md),
# one SMILES per line, gzip; verified by the SHA-256 of the decompressed text.
MOLECULE_FILES = {
    "moses_train_50k.smi.gz": "f45618fcdcc7fbf7a73e600999108a04c654996e5a3ebc6eadbc70fc4afaa93f",
    "moses_test_5k.smi.gz": "40df06ef8e7b0fb3ac1c1894c64c28668fd9757a13b84937c48aa4be32c50595",
}
MOLECULE_ORIGIN = "https://raw.githubusercontent.com/autoencoder-tutorials/autoencoders/main/data/"


class WeightsError(RuntimeError):
    """A shipped model file (``aeutils/weights/``) is missing or is not the file its SHA-256 names."""


def verified_weights(path, sha256: str, script: str, constant: str, error=WeightsError) -> Path:
    """``path`` after checking that its SHA-256 is ``sha256``; otherwise ``error`` says which file, both hashes, the
    ``script`` that rebuilds it and the ``constant`` to update after retraining on purpose (notebooks 06, 11)."""
    path = Path(path)
    if not path.is_file():
        raise error(f"the shipped model {path} is missing: reinstall aeutils, or rebuild it with {script} "
                    "(see aeutils/weights/README.md).")
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    if found != sha256:
        raise error(f"{path} does not match its checksum.\n  expected SHA-256: {sha256}\n  found:            {found}\n"
                    f"The file is corrupt or was replaced; reinstall aeutils (or, after retraining it on purpose with "
                    f"{script}, update {constant}).")
    return path


def read_smiles(path: str | os.PathLike, sha256: str) -> list[str]:
    """The SMILES of a gzipped one-per-line file, after checking the SHA-256 of its decompressed bytes."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes())
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(f"{path} is not a complete gzip file ({err}); delete it and load again.") from err
    found = hashlib.sha256(raw).hexdigest()
    if found != sha256:
        raise DataError(f"{path} does not match its checksum.\n  expected SHA-256 (decompressed): {sha256}\n"
                        f"  found:                           {found}\nThe file is corrupt or not the series' subset: "
                        "restore it from the repository (git checkout data/) or rebuild it with "
                        "scripts/make_molecule_subset.py.")
    return raw.decode("ascii").split()


def load_molecules(data_dir=None, download: bool = True) -> tuple[list[str], list[str]]:
    """Notebook 11's MOSES subset, verified: 50 000 training and 5 000 test SMILES.

    Looked for in ``data_dir`` (else ``AEUTILS_DATA_DIR``), then the project's ``data/`` (where a source checkout
    has it); elsewhere (an installed package, Colab) it is downloaded once from the repository, verified, and kept
    in the cache."""
    explicit = data_dir or os.environ.get("AEUTILS_DATA_DIR")
    dirs = ([Path(explicit)] if explicit else []) + [project_cache_dir()]
    out = []
    for name, sha in MOLECULE_FILES.items():
        path = next((d / name for d in dirs if (d / name).is_file()), None)
        if path is None:
            if not download:
                raise DataError(f"molecule file {name} not found in any of: {', '.join(map(str, dirs))}. It ships "
                                "with the repository's data/ folder; or set AEUTILS_DATA_DIR to a folder holding it.")
            path = _download_molecules(name, sha, dirs[0], dirs)
        out.append(read_smiles(path, sha))
    return out[0], out[1]


def _download_molecules(name: str, sha256: str, dest_dir: Path, looked_in) -> Path:
    """Download one molecule file from the repository into a temporary folder, verify it, move it into place."""
    import keras

    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".download-") as tmp:
        try:
            got = keras.utils.get_file(name, origin=MOLECULE_ORIGIN + name, cache_dir=tmp, cache_subdir=".")
        except Exception as err:  # Keras raises plain Exceptions for URL and SSL failures
            raise DataError(f"molecule file {name} was not found locally and could not be downloaded "
                            f"({type(err).__name__}: {err}).\nLooked in: {', '.join(map(str, looked_in))}\n"
                            "It ships with the repository's data/ folder; set AEUTILS_DATA_DIR to a folder holding "
                            "it, or connect to the network.") from err
        read_smiles(got, sha256)  # raises before anything is moved into place
        os.replace(got, dest_dir / name)
    return dest_dir / name
