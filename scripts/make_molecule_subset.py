"""Make notebook 11's molecule subset from the MOSES benchmark, offline and reproducibly.

MOSES (Polykovskiy et al. 2020, "Molecular Sets (MOSES): A Benchmarking Platform for Molecular Generation Models",
Frontiers in Pharmacology 11:565644; MIT licence, © 2018 Insilico Medicine) ships its splits inside the ``molsets``
wheel. This script opens the wheel as a zip file (molsets is never installed), reads
``moses/dataset/data/train.csv.gz`` and ``test.csv.gz``, draws a seeded subset of each and writes, into ``data/``:

- ``moses_train_50k.smi.gz`` and ``moses_test_5k.smi.gz``: one SMILES per line, in the drawn order, gzip
  (mtime 0, so the same input gives the same bytes);
- ``MOSES_LICENSE.txt``: the wheel's licence text.

It prints the SHA-256 of each decompressed file (``aeutils.data.MOLECULE_FILES`` holds them) and the sizes.

    pip download molsets==0.3.1 --no-deps -d /tmp/molsets
    python scripts/make_molecule_subset.py /tmp/molsets/molsets-0.3.1-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

WHEEL_SHA256 = "7f4450e3ebecebe79c3a2a55950c93daddee071120daf64a163d03481e811d34"  # molsets-0.3.1-py3-none-any.whl
SPLITS = {"train": ("moses_train_50k.smi.gz", 50_000, 0), "test": ("moses_test_5k.smi.gz", 5_000, 1)}
LICENSE = "molsets-0.3.1.dist-info/LICENSE"


def read_split(wheel: zipfile.ZipFile, split: str) -> list[str]:
    """The SMILES of one MOSES split (the CSV's only column, header dropped)."""
    text = gzip.decompress(wheel.read(f"moses/dataset/data/{split}.csv.gz")).decode("ascii")
    lines = text.splitlines()
    assert lines[0].strip() == "SMILES", lines[0]
    return [line.strip() for line in lines[1:] if line.strip()]


def write_gzip(path: Path, text: str) -> None:
    """Write ``text`` gzipped with mtime 0 and no file name, so the bytes are reproducible."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="", compresslevel=9) as f:
        f.write(text.encode("ascii"))
    path.write_bytes(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", type=Path, help="molsets-0.3.1-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    args = parser.parse_args()
    found = hashlib.sha256(args.wheel.read_bytes()).hexdigest()
    if found != WHEEL_SHA256:
        raise SystemExit(f"{args.wheel}: SHA-256 {found}, expected {WHEEL_SHA256} (molsets 0.3.1 from PyPI)")
    with zipfile.ZipFile(args.wheel) as wheel:
        (args.out / "MOSES_LICENSE.txt").write_bytes(wheel.read(LICENSE))
        for split, (name, size, seed) in SPLITS.items():
            smiles = read_split(wheel, split)
            chosen = np.random.default_rng(seed).choice(len(smiles), size=size, replace=False)
            text = "".join(smiles[i] + "\n" for i in chosen)
            write_gzip(args.out / name, text)
            digest = hashlib.sha256(text.encode("ascii")).hexdigest()
            print(f"{name}: {size} of {len(smiles)} SMILES, {(args.out / name).stat().st_size} bytes gzip, "
                  f"SHA-256 (decompressed) {digest}")


if __name__ == "__main__":
    main()
