"""Notebook hygiene (see ../shared/CONVENTIONS.md): every committed notebook is clean, runnable in quick mode,
badged, set up the same way, exercised, and made of short cells."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from aeutils.notebook import colab_badge_url, install_spec

ROOT = Path(__file__).resolve().parent.parent
NAMES = [
    "01_autoencoder_basics", "02_convolutional_autoencoders", "03_denoising_autoencoders",
    "04_sparse_and_contractive_autoencoders", "05_anomaly_detection", "06_variational_autoencoders",
    "07_exploring_the_latent_space", "08_compression", "A1_training_on_many_devices",
    "09_conditional_and_vector_quantized_autoencoders",
    "10_latent_diffusion",
    "11_molecules",
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


def test_kernel_and_language_declared(nb):
    """Jupyter, Colab and papermill (which needs the language to inject quick-mode parameters) read these."""
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "no python3 kernelspec"
    assert nb.metadata.get("language_info", {}).get("name") == "python", "no language_info"


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


def test_setup_cell_installs_this_release_and_upgrades_nothing(nb):
    """The Colab install names the tag of aeutils.__version__ (bump both together: README, "Releases"), and does not
    upgrade what Colab already has (no -U/--upgrade: pip then upgrades only what the bounds require)."""
    line = next(x for x in code_cells(nb)[0].source.splitlines() if x.lstrip().startswith("%pip install"))
    assert line.strip() == f'%pip install -q "{install_spec()}"', line


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


# Markdown states no result as a literal number (CONVENTIONS.md, "Integrity: claims"): results are printed by
# the code and compared by claims. The rule, applied to markdown cells with inline code, LaTeX math, links and
# addresses removed first:
#   flagged  a decimal number ("0.81", "24.5") and any number with a result's unit ("3 dB", "12 nats", a factor
#            such as "2×"): the shapes in which "0.95 → 0.81"-style results are written;
#   allowed  whole numbers (section numbers, code sizes, image counts, years), sizes such as 28×28 or 7×7×64,
#            settings and bounds written after =, <, >, ≤ or ≥ ("σ = 0.3", "ratio ≤ 0.55"), version numbers after
#            a library's name, and published figures, in a sentence that names its source ("et al.", "published").
# Write an input as a setting ("σ = 0.3", or in math: $x = 0.3$), and a result as what to look for in the output.
_HIDDEN = [r"`[^`]*`", r"\$\$.*?\$\$", r"\$[^$]*\$", r"\]\([^)]*\)", r"https?://\S+"]
_LITERAL = re.compile(r"(?<![\w.])\d*\.\d+(?!\d|\.\d)"  # a decimal number
                      r"|(?<![\w.])\d+(?:\.\d+)?\s*(?:dB|nats)\b"  # a number with a result's unit
                      r"|(?<![\w.])\d+(?:\.\d+)?\s*×(?!\s*\d)")  # a factor (not a size such as 7×7)
_SETTING = re.compile(r"(?:[=<>≤≥](?:\s*[\d.]+\s*,)*|\b(?:Keras|TensorFlow|Python|scikit-learn|version))\s*$")
_SOURCED = re.compile(r"et al\.|published", re.I)
LITERALS_PENDING: set[str] = set()  # notebooks whose prose still states literal results (none today)


def result_literals(markdown: str) -> list[str]:
    """The literal numbers in ``markdown`` that read as results, by the rule above (with some context)."""
    text = markdown
    for pattern in _HIDDEN:
        text = re.sub(pattern, " ", text, flags=re.S)
    found = []
    for sentence in re.split(r"(?<=[.!?])(?<!al\.)\s+|\n\n", text):
        if _SOURCED.search(sentence):
            continue
        found += [sentence[max(0, m.start() - 25):m.end() + 5].replace("\n", " ")
                  for m in _LITERAL.finditer(sentence) if not _SETTING.search(sentence[:m.start()])]
    return found


def test_result_literal_rule():
    assert len(result_literals("bags (0.95 → 0.81) lost most")) == 2
    assert len(result_literals("it gains 4.2 dB and is 2× faster.")) == 2
    assert result_literals("the DAE gains 5 dB over the filter") == ["the DAE gains 5 dB over"]
    assert result_literals("a pixel whose true value is 0.3.")[0].endswith("is 0.3.")
    allowed = ("## 3 · At σ = 0.3 and σ=0.1, σ = 0.1, 0.3, 0.5, with $x = 0.3$ and `lr=3e-3`, "
               "a 7×7×64 map of 28 × 28 images, ratio ≤ 0.55, Keras 3.14, 55 000 images in 2016. "
               "Burda et al. report 86.8 nats.")
    assert result_literals(allowed) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_states_no_literal_results(path):
    notebook = nbformat.read(path, as_version=4)
    found = {i: result_literals(c.source) for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"}
    found = {i: f for i, f in found.items() if f}
    if path.stem[:2] in LITERALS_PENDING:
        pytest.xfail(f"known literal results, to be rewritten: {found}") if found else pytest.fail(
            f"{path.stem} has no literal results any more: remove it from LITERALS_PENDING")
    assert not found, f"markdown cells state results as literal numbers (cell: snippets): {found}"


# issue "Every number earns its place" (the appendix A1: issue 22); others follow
CLAIMS_REQUIRED = {"01": 8, "02": 8, "03": 8, "04": 8, "05": 8, "06": 8, "07": 8, "08": 8, "A1": 8,
                   "09": 8, "10": 8, "11": 8}


def test_notebooks_check_their_comparisons_with_claims(nb):
    source = "\n".join(c.source for c in code_cells(nb))
    names = re.findall(r"\bclaim\(\s*f?[\"']([^\"']+)[\"']", source)
    prefix = f"nb{nb.path.stem[:2]}."
    assert all(n.startswith(prefix) for n in names), f"claim names must start with {prefix}: {names}"
    assert len(set(names)) == len(names), f"a claim name is used twice: {names}"
    assert len(names) >= CLAIMS_REQUIRED.get(nb.path.stem[:2], 0), f"{len(names)} claims: {names}"
