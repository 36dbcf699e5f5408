"""The field's measures of generated molecules, with RDKit (notebook 11).

As in MOSES (Polykovskiy et al. 2020) and GuacaMol (Brown et al. 2019): **validity** (the fraction of strings RDKit
parses into a molecule), **uniqueness** (distinct canonical SMILES among the valid ones), **novelty** (distinct valid
molecules absent from the training set), **internal diversity** (1 − mean Tanimoto similarity of Morgan
fingerprints, radius 2, 2048 bits, over pairs of distinct molecules: close to MOSES's IntDiv1, which uses 1024 bits
and averages over all pairs, each molecule with itself and duplicates included) and the distance between property
distributions (QED, logP, molecular weight, and the synthetic-accessibility score when RDKit's Contrib ``sascorer``
is importable) as scipy's 1-D Wasserstein distance. Taught in notebook 11.
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import QED, Crippen, Descriptors, Draw, rdFingerprintGenerator

RDLogger.DisableLog("rdApp.*")  # generated strings are often invalid: RDKit would print a line for each
_MORGAN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def _sa_scorer():
    """RDKit Contrib's ``sascorer.calculateScore`` (Ertl & Schuffenhauer 2009), or None where Contrib is absent.
    Loaded from its file: Contrib is a folder of scripts shipped with RDKit's wheel, not an importable package."""
    import importlib.util
    import os

    from rdkit.Chem import RDConfig

    path = os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    if not os.path.isfile(path):
        return None
    try:
        spec = importlib.util.spec_from_file_location("rdkit_contrib_sascorer", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.calculateScore
    except Exception:  # a Contrib that does not load (e.g. a missing fragment-score file) means no SA score
        return None


SA_SCORE = _sa_scorer()
PROPERTIES = {"QED": QED.qed, "logP": Crippen.MolLogP, "MW": Descriptors.MolWt}
if SA_SCORE is not None:
    PROPERTIES["SA"] = SA_SCORE


def to_mol(smiles: str):
    """An RDKit molecule, or None for an invalid or empty string."""
    if not smiles:
        return None
    mol = Chem.MolFromSmiles(smiles)
    return mol if mol is not None and mol.GetNumAtoms() > 0 else None


def canonical(smiles: str) -> str | None:
    """RDKit's canonical SMILES, or None for an invalid string: two spellings of one molecule compare equal."""
    mol = to_mol(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def canonical_all(smiles) -> list[str | None]:
    """:func:`canonical` of every string."""
    return [canonical(s) for s in smiles]


def fingerprints(smiles):
    """Morgan fingerprints (radius 2, 2048 bits) of valid SMILES."""
    return [_MORGAN.GetFingerprint(to_mol(s)) for s in smiles]


def tanimoto_to(query, smiles) -> np.ndarray:
    """Tanimoto similarity of one SMILES's fingerprint to each of ``smiles``'s."""
    return np.asarray(DataStructs.BulkTanimotoSimilarity(fingerprints([query])[0], fingerprints(smiles)))


def paired_tanimoto(originals, decoded) -> np.ndarray:
    """Tanimoto similarity of each original to the string beside it in ``decoded``, 0 where that string is no valid
    molecule (notebook 11's reconstructions and neighbours; ``scripts/train_molecule_vae.py``)."""
    return np.array([tanimoto_to(a, [b])[0] if canonical(b) else 0.0 for a, b in zip(originals, decoded)])


def internal_diversity(smiles, max_n: int = 1000, seed: int = 0) -> float:
    """1 − mean Tanimoto similarity over pairs of distinct molecules (at most ``max_n`` drawn with ``seed``). Close to
    MOSES's IntDiv1, which uses 1024-bit fingerprints and all pairs, self-pairs and duplicates included."""
    smiles = list(dict.fromkeys(smiles))
    if len(smiles) < 2:
        return 0.0
    if len(smiles) > max_n:
        smiles = [smiles[i] for i in np.random.default_rng(seed).choice(len(smiles), max_n, replace=False)]
    fps = fingerprints(smiles)
    total = sum(sum(DataStructs.BulkTanimotoSimilarity(fps[i], fps[i + 1:])) for i in range(len(fps) - 1))
    return 1.0 - total / (len(fps) * (len(fps) - 1) / 2)


def properties(smiles) -> dict[str, np.ndarray]:
    """Each property of :data:`PROPERTIES` for each valid SMILES."""
    mols = [to_mol(s) for s in smiles]
    return {name: np.array([fn(m) for m in mols], float) for name, fn in PROPERTIES.items()}


def qed(smiles) -> np.ndarray:
    """QED (Bickerton et al. 2012) of each string, NaN where it is no valid molecule (notebook 11's optimisation)."""
    mols = [to_mol(s) for s in smiles]
    return np.array([np.nan if m is None else QED.qed(m) for m in mols], float)


def generation_metrics(generated, training_canonical: set) -> dict:
    """Validity, uniqueness, novelty and internal diversity of generated strings. Uniqueness is over the valid
    strings; novelty over the distinct valid molecules; both 0 when nothing is valid."""
    canon = canonical_all(generated)
    valid = [c for c in canon if c is not None]
    unique = list(dict.fromkeys(valid))
    return {
        "validity": len(valid) / max(len(generated), 1),
        "uniqueness": len(unique) / max(len(valid), 1),
        "novelty": sum(c not in training_canonical for c in unique) / max(len(unique), 1),
        "internal_diversity": internal_diversity(unique),
    }


def wasserstein(a, b) -> float:
    """scipy's 1-D Wasserstein (earth mover's) distance between two samples of a property."""
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(a, b))


def grid(smiles, legends=None, per_row: int = 6, size: int = 200):
    """RDKit's drawing of molecules in a grid, as a PIL image (invalid strings are drawn as empty cells)."""
    mols = [to_mol(s) or Chem.Mol() for s in smiles]
    return Draw.MolsToGridImage(mols, molsPerRow=per_row, subImgSize=(size, size), legends=legends,
                                returnPNG=False)


def show(image, title: str = ""):
    """A matplotlib figure showing a PIL image (e.g. :func:`grid`'s), for the notebook and its gallery."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(image.width / 110, image.height / 110 + 0.3))
    ax.imshow(image)
    ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    return fig
