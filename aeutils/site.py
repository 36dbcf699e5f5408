"""The series to read without running it: ``python -m aeutils.site`` builds a static website from the executed
notebooks in ``docs/notebooks/`` (needs the ``docs`` extra: ``pip install -e ".[docs]"``).

* :func:`publish` is how those notebooks get there: the full-mode harness (``python -m aeutils.run --full``)
  saves each notebook it ran, outputs and figures embedded, with the execution metadata stripped
  (:func:`clean_executed`). GitHub renders them as they are; the README links each one.
* :func:`build` reads them with Sphinx and myst-nb, execution off, into ``build/site/`` (git-ignored). The
  configuration is ``docs/site/conf.py``. Everything a page loads is on the site itself: MathJax 3.2's
  ``tex-svg-full.js`` comes from the ``django-static-mathjax`` wheel (MathJax packaged on PyPI; nothing of Django
  is used) and is copied into ``_static/``, because a MathJax from a CDN loads neither offline nor in CI. The SVG
  output is one self-contained file: no web fonts to fetch.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

MAX_NOTEBOOK_BYTES = 3_000_000  # an executed notebook in docs/notebooks/ (tests/test_site.py enforces it)
NOTEBOOK_NOISE = ("papermill", "widgets")  # notebook metadata: papermill's run record, saved widget state
CELL_NOISE = ("papermill", "execution")  # cell metadata: papermill's and Jupyter's timings
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "(an interactive widget: it needs a running kernel; open the notebook in Jupyter or Colab to use it)"
LINKED_REMOTE_IMAGE = re.compile(r"\[!\[([^\]]*)\]\(https?://[^)]*\)\]\(([^)]*)\)")  # [![alt](http…)](target)
REMOTE_IMAGE = re.compile(r"!\[([^\]]*)\]\(https?://[^)]*\)")  # ![alt](http…)
SITE_TITLE = "Autoencoders, built and measured"
SITE_INTRO = """\
Notebooks that teach autoencoders by building them in Keras 3 and measuring them. These pages show each notebook
with the outputs of its last full-mode run (`python -m aeutils.run --full`); nothing here was run to make the site.
To run the notebooks yourself, on your machine or on Colab, see the repository's README.
"""


def clean_executed(nb: dict) -> dict:
    """Strip what changes at every run but says nothing to a reader: papermill's and Jupyter's timing metadata,
    papermill's empty tag lists and the saved widget state; a widget's output becomes a one-line note, since no
    page can run it (execution counts stay). Returns ``nb``, changed in place."""
    for key in NOTEBOOK_NOISE:
        nb["metadata"].pop(key, None)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        for key in CELL_NOISE:
            meta.pop(key, None)
        if meta.get("tags") == []:
            del meta["tags"]
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                output["data"] = {"text/plain": WIDGET_NOTE}
    return nb


def publish(executed: Path, folder: Path) -> Path:
    """Save a cleaned copy of the executed notebook ``executed`` into ``folder`` (same name); return its path.

    Called by the full-mode harness for ``docs/notebooks/``; warns when the copy is over the size limit."""
    nb = clean_executed(json.loads(Path(executed).read_text(encoding="utf-8")))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(executed).name
    target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    size = target.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        print(f"   warning: {target} is {size / 1e6:.1f} MB, over the {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB limit")
    return target


def mathjax_file() -> Path:
    """MathJax 3's self-contained TeX-to-SVG bundle, from the installed ``django-static-mathjax`` wheel."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('MathJax is not installed: pip install -e ".[docs]" (it brings django-static-mathjax)')
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "es5" / "tex-svg-full.js"


def index_page(notebooks: list[Path]) -> str:
    """The site's front page: the title, a short introduction and the notebooks in order (their own titles)."""
    toc = "\n".join(nb.stem for nb in notebooks)
    return f"# {SITE_TITLE}\n\n{SITE_INTRO}\n```{{toctree}}\n:maxdepth: 1\n:caption: Notebooks\n\n{toc}\n```\n"


def without_remote_images(nb: dict) -> dict:
    """The site's copy of a notebook loads nothing from elsewhere: a remote image in markdown (the Colab badge)
    becomes its alt text, still a link where it was one. Returns ``nb``, changed in place."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            cell["source"] = REMOTE_IMAGE.sub(r"\1", LINKED_REMOTE_IMAGE.sub(r"[\1](\2)", text))
    return nb


def stage(notebooks: list[Path], conf_dir: Path, src: Path) -> None:
    """Lay out Sphinx's source folder ``src``: the configuration folder's files (``conf.py``, the icon), the front
    page, the notebooks, MathJax."""
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(conf_dir, src)
    (src / "_static" / "mathjax").mkdir(parents=True)
    shutil.copy2(mathjax_file(), src / "_static" / "mathjax" / "tex-svg-full.js")
    (src / "index.md").write_text(index_page(notebooks), encoding="utf-8")
    for nb in notebooks:
        text = json.dumps(without_remote_images(json.loads(nb.read_text(encoding="utf-8"))), ensure_ascii=False)
        (src / nb.name).write_text(text, encoding="utf-8")


def folder_bytes(folder: Path) -> int:
    """The size of every file under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build(source: Path, out: Path, conf_dir: Path, strict: bool = False) -> int:
    """Build the site from the executed notebooks in ``source`` into ``out``, without running them, with the
    configuration in ``conf_dir`` (``docs/site``); return Sphinx's exit status (``strict``: warnings are errors)."""
    from sphinx.cmd.build import build_main

    notebooks = sorted(Path(source).glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no executed notebooks in {source}: python -m aeutils.run --full saves them there")
    src = out.parent / f"{out.name}-src"  # staging and Sphinx's cache, beside the site, never inside it
    stage(notebooks, conf_dir, src)
    shutil.rmtree(out, ignore_errors=True)
    args = ["-b", "html", "-q", "-d", str(src / ".doctrees"), *(["-W", "--keep-going"] if strict else [])]
    status = build_main([*args, str(src), str(out)])
    if status == 0:
        print(f"site: {len(notebooks)} notebook(s), {folder_bytes(out) / 1e6:.1f} MB in {out} "
              f"(open {out / 'index.html'})")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aeutils.site", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository root (default: .)")
    parser.add_argument("--notebooks", type=Path, help="the executed notebooks (default: ROOT/docs/notebooks)")
    parser.add_argument("--out", type=Path, help="where the site goes (default: ROOT/build/site)")
    parser.add_argument("--strict", action="store_true", help="fail on any Sphinx warning")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    return build(args.notebooks or root / "docs" / "notebooks", (args.out or root / "build" / "site").resolve(),
                 root / "docs" / "site", strict=args.strict)


if __name__ == "__main__":
    sys.exit(main())
