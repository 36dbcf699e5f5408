"""Notebook hygiene (see ../shared/CONVENTIONS.md): every committed notebook is clean, runnable in quick mode,
badged, set up the same way, exercised, and made of short cells."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from aeutils.notebook import colab_badge_url

ROOT = Path(__file__).resolve().parent.parent
NAMES = [
    "01_autoencoder_basics", "02_convolutional_autoencoders", "03_denoising_autoencoders",
    "04_sparse_and_contractive_autoencoders", "05_anomaly_detection", "06_variational_autoencoders",
    "07_exploring_the_latent_space",
]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SETUP_LINES = [
    'if "google.colab" in sys.modules:',
    "from aeutils.notebook import setup",
    "setup(seed=42)",
]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_notebooks_and_their_names_are_the_series():
    assert NOTEBOOKS, "no notebooks found"
    assert all(p.stem in NAMES for p in NOTEBOOKS), [p.stem for p in NOTEBOOKS]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def nb(request):
    path = request.param
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    notebook.path = path
    return notebook


def test_committed_clean(nb):
    raw = json.loads(nb.path.read_text())
    assert "papermill" not in raw["metadata"], "papermill metadata committed"
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
        for key in ("execution", "papermill", "ExecuteTime"):
            assert key not in cell.get("metadata", {}), f"{key} metadata committed"


def test_title_cell_has_own_colab_badge_and_anatomy(nb):
    title = nb.cells[0]
    assert title.cell_type == "markdown"
    assert colab_badge_url(nb.path.name) in title.source
    for part in ("**You will learn to**", "**Prerequisites:**", "**Run time on a 2-core CPU:**"):
        assert part in title.source, part


def test_setup_cell_is_the_series_setup(nb):
    setup = code_cells(nb)[0].source
    for line in SETUP_LINES:
        assert line in setup, line
    assert len(re.findall(r"^\s*%pip install", setup, flags=re.M)) == 1


def test_parameters_cell_with_quick_mode_mock(nb):
    params = [c for c in code_cells(nb) if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    mock = params[0].metadata.get("nbmake", {}).get("mock", {})
    assert mock, "parameters cell has no nbmake mock"
    assigned = set(re.findall(r"^([A-Z_][A-Z0-9_]*)\s*=", params[0].source, flags=re.M))
    assert set(mock) <= assigned, f"mocked names not in the parameters cell: {set(mock) - assigned}"
    assert "EPOCHS" in assigned


def test_ci_assertions_exist_and_are_python(nb):
    checks = [c.metadata["nbmake"]["post_cell_execute"] for c in code_cells(nb)
              if "post_cell_execute" in c.metadata.get("nbmake", {})]
    assert checks, "no CI-only assertions (nbmake post_cell_execute)"
    for lines in checks:
        compile("\n".join(lines), "<post_cell_execute>", "exec")
        assert any(line.lstrip().startswith("assert") for line in lines)


def test_at_least_three_exercises(nb):
    text = "".join(c.source for c in code_cells(nb))
    assert len(set(re.findall(r"\b(q\d+)\.check\(", text))) >= 3
    assert "____" in text


def test_cells_are_short(nb):
    long = [i for i, c in enumerate(code_cells(nb)) if len(c.source.splitlines()) > 40]
    assert not long, f"code cells over 40 lines: {long}"


def test_ends_with_takeaways(nb):
    assert "## Key takeaways" in "".join(c.source for c in nb.cells[-2:])
