"""aeutils.data: search order, verification and every failure, on small IDX files the tests make."""

import gzip
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aeutils import data
from aeutils.data import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes holding ``array``."""
    array = np.asarray(array, np.uint8)
    header = (0x0800 | array.ndim).to_bytes(4, "big")
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A folder with a small, valid 'Fashion-MNIST' (6 train, 4 test images) and the checksums to match."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(6) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (4, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(4) % 10,
    }
    folder = tmp_path / "explicit"
    folder.mkdir()
    sums = {}
    for name, arr in arrays.items():
        raw = idx_bytes(arr)
        sums[name] = hashlib.sha256(raw).hexdigest()
        (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
    monkeypatch.setattr(data, "FASHION_FILES", sums)
    # isolate from this machine's caches and system copy
    monkeypatch.setattr(data, "SYSTEM_DIR", tmp_path / "system")
    monkeypatch.setattr(data, "project_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("AEUTILS_DATA_DIR", raising=False)
    return folder, arrays


def test_search_order(tmp_path, monkeypatch):
    monkeypatch.setenv("AEUTILS_DATA_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    dirs = data.search_dirs()
    assert dirs[0] == tmp_path / "mine"
    assert dirs[2] == tmp_path / "kh" / "datasets" / "fashion-mnist"
    assert dirs[3] == data.SYSTEM_DIR
    assert data.search_dirs(tmp_path / "arg")[0] == tmp_path / "arg"  # the argument beats the variable


def test_env_override_loads_and_scales(tiny, monkeypatch):
    folder, arrays = tiny
    monkeypatch.setenv("AEUTILS_DATA_DIR", str(folder))
    ds = data.load_fashion_mnist(download=False)
    assert ds.x_train.shape == (6, 28, 28) and ds.x_test.shape == (4, 28, 28)
    assert ds.x_train.dtype == np.float32 and 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    np.testing.assert_allclose(ds.x_test * 255, arrays["t10k-images-idx3-ubyte"], atol=1e-3)
    assert list(ds.y_train) == list(arrays["train-labels-idx1-ubyte"])
    assert ds.class_names[0] == "T-shirt/top"


def test_system_copy_is_found_and_uncompressed_files_pass(tiny, tmp_path, monkeypatch):
    folder, _ = tiny
    system = tmp_path / "system"
    system.mkdir()
    for f in folder.iterdir():  # the system copy holds uncompressed files: the same decompressed hash
        (system / f.name[:-3]).write_bytes(gzip.decompress(f.read_bytes()))
    ds = data.load_fashion_mnist(download=False)
    assert len(ds.x_train) == 6
    assert data.locate_fashion_file("t10k-labels-idx1-ubyte", download=False).parent == system


def test_recompressed_copy_still_verifies(tiny):
    folder, arrays = tiny
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1))
    out = data.read_idx(path, data.FASHION_FILES["t10k-images-idx3-ubyte"])
    assert out.shape == (4, 28, 28)


def test_missing_everywhere_says_three_ways(tiny):
    with pytest.raises(DataError) as err:
        data.load_fashion_mnist(download=False)  # nothing in the explicit dir: it is not searched
    msg = str(err.value)
    assert "train-images-idx3-ubyte" in msg and "apt-get install dataset-fashion-mnist" in msg
    assert "AEUTILS_DATA_DIR" in msg and "network" in msg


def test_truncated_gzip(tiny):
    folder, _ = tiny
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="truncated or failed download"):
        data.load_fashion_mnist(folder, download=False)


def test_hash_mismatch(tiny):
    folder, arrays = tiny
    changed = arrays["t10k-labels-idx1-ubyte"].copy()
    changed[0] += 1
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(changed)))
    with pytest.raises(DataError, match="does not match its checksum") as err:
        data.load_fashion_mnist(folder, download=False)
    assert data.FASHION_FILES["t10k-labels-idx1-ubyte"] in str(err.value)


def test_wrong_idx_header(tiny):
    folder, _ = tiny
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"<html>Not found</html>"))
    with pytest.raises(DataError, match="IDX header"):
        data.load_fashion_mnist(folder, download=False)


def test_size_disagrees_with_header(tmp_path):
    raw = idx_bytes(np.zeros((3, 28, 28)))[:-10]
    (tmp_path / "x").write_bytes(raw)
    with pytest.raises(DataError, match="announces shape"):
        data.read_idx(tmp_path / "x")


def serve(payload: bytes | None):
    """A stand-in for keras.utils.get_file that 'downloads' payload (None: the network is down)."""

    def get_file(fname, origin, cache_dir, cache_subdir):
        if payload is None:
            raise Exception("URL fetch failure: no network")
        assert origin == data.FASHION_ORIGIN + fname
        path = f"{cache_dir}/{fname}"
        with open(path, "wb") as fh:
            fh.write(payload)
        return path

    return get_file


@pytest.mark.parametrize("payload,says", [
    (None, "could not be downloaded"),
    (gzip.compress(idx_bytes(np.arange(4))), "checksum"),
    (b"<html>captive portal</html>", "not a complete gzip file"),
])
def test_failed_download_leaves_nothing_and_explains(tiny, tmp_path, monkeypatch, payload, says):
    import keras

    monkeypatch.setattr(keras.utils, "get_file", serve(payload))
    dest = tmp_path / "cache"
    with pytest.raises(DataError, match=says):
        data.download_file("t10k-labels-idx1-ubyte", "0" * 64, dest)
    assert list(dest.iterdir()) == []  # nothing half-written is left in place


def test_good_download_lands_in_first_dir(tiny, tmp_path, monkeypatch):
    import keras

    folder, _ = tiny
    name = "t10k-labels-idx1-ubyte"
    monkeypatch.setattr(keras.utils, "get_file", serve((folder / f"{name}.gz").read_bytes()))
    empty = tmp_path / "empty"
    got = data.locate_fashion_file(name, empty)
    assert got == empty / f"{name}.gz" and sorted(p.name for p in empty.iterdir()) == [f"{name}.gz"]
    assert data.read_idx(got, data.FASHION_FILES[name]).shape == (4,)


def test_load_dataset_rejects_unknown_name():
    with pytest.raises(ValueError, match="fashion_mnist"):
        data.load_dataset("cifar")


def test_stratified_subsample_keeps_proportions():
    y = np.repeat(np.arange(10), 100)
    x = np.arange(1000)
    xs, ys = data.stratified_subsample(x, y, 200, seed=1)
    assert len(xs) == 200 and np.all(np.bincount(ys) == 20)
    assert np.array_equal(y[xs], ys)  # the pairs stay together
    assert data.stratified_subsample(x, y, None)[0] is x


def test_digits_toy():
    x_tr, x_te, y_tr, y_te = data.load_digits_toy()
    assert x_tr.shape[1] == 64 and x_tr.max() <= 1 and len(x_te) == len(y_te)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.booleans(), st.integers(0, 2**32 - 1))
def test_read_idx_round_trip(tmp_path_factory, shape, compress, seed):
    arr = np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)
    raw = idx_bytes(arr)
    path = tmp_path_factory.mktemp("idx") / ("f.gz" if compress else "f")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    if arr.ndim == 2:  # only 1-d (labels) and 3-d (images) headers are MNIST-style
        with pytest.raises(DataError):
            data.read_idx(path)
        return
    out = data.read_idx(path, hashlib.sha256(raw).hexdigest())
    assert np.array_equal(out, arr)


def test_a_corrupt_copy_does_not_hide_a_good_one(tiny, tmp_path, monkeypatch):
    folder, arrays = tiny
    name = "t10k-images-idx3-ubyte"
    first = tmp_path / "first"  # searched before the folder with the good copy
    first.mkdir()
    (first / f"{name}.gz").write_bytes((folder / f"{name}.gz").read_bytes()[:100])  # truncated
    monkeypatch.setattr(data, "search_dirs", lambda data_dir=None: [first, folder])
    with pytest.warns(UserWarning, match="does not verify"):
        path, array = data.load_verified(name, download=False)
    assert path == folder / f"{name}.gz" and np.array_equal(array, arrays[name])


def test_every_corrupt_copy_is_reported(tiny, monkeypatch):
    folder, _ = tiny
    name = "t10k-labels-idx1-ubyte"
    (folder / name).write_bytes(b"garbage")  # an uncompressed copy beside the gzip, also broken
    (folder / f"{name}.gz").write_bytes(b"\x1f\x8b broken")
    with pytest.warns(UserWarning), pytest.raises(DataError) as err:
        data.load_verified(name, folder, download=False)
    assert "not a complete gzip file" in str(err.value) and "IDX header" in str(err.value)


def test_a_stale_download_folder_is_cleared(tiny, tmp_path, monkeypatch):
    import os
    import time

    import keras

    folder, _ = tiny
    name = "t10k-labels-idx1-ubyte"
    dest = tmp_path / "dest"
    stale, fresh = dest / ".download-killed", dest / ".download-running"
    stale.mkdir(parents=True), fresh.mkdir()
    old = time.time() - 3600
    os.utime(stale, (old, old))
    monkeypatch.setattr(keras.utils, "get_file", serve((folder / f"{name}.gz").read_bytes()))
    data.download_file(name, data.FASHION_FILES[name], dest)
    assert not stale.exists() and fresh.exists()  # a recent folder may belong to a download still running


def test_mnist_without_download_never_touches_the_network(tmp_path, monkeypatch):
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: pytest.fail("went to the network"))
    with pytest.raises(DataError, match="download=False"):
        data.load_dataset("mnist", download=False)
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
             y_train=np.arange(5), x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), y_test=np.arange(2))
    ds = data.load_dataset("mnist", download=False)
    assert ds.x_train.shape == (5, 28, 28) and ds.x_train.max() <= 1.0 and ds.y_test.tolist() == [0, 1]


def test_molecule_subset_ships_and_verifies(monkeypatch):
    """Notebook 11's MOSES subset is in data/ and passes its checksums: 50 000 + 5 000 SMILES."""
    monkeypatch.delenv("AEUTILS_DATA_DIR", raising=False)
    train, test = data.load_molecules(download=False)
    assert (len(train), len(test)) == (50_000, 5_000) and all(isinstance(s, str) and s for s in train[:100])


def test_molecule_files_fail_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "project_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.delenv("AEUTILS_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="not found"):
        data.load_molecules(download=False)
    name = next(iter(data.MOLECULE_FILES))
    (tmp_path / name).write_bytes(gzip.compress(b"CCO\n"))
    with pytest.raises(DataError, match="checksum"):
        data.read_smiles(tmp_path / name, data.MOLECULE_FILES[name])
    (tmp_path / name).write_bytes(gzip.compress(b"CCO\n")[:-6])
    with pytest.raises(DataError, match="gzip"):
        data.read_smiles(tmp_path / name, data.MOLECULE_FILES[name])
