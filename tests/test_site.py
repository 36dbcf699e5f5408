"""Reading the series without running it: the executed notebooks the full-mode harness saves in docs/notebooks/,
the README's "read with outputs" links to them, and the static site built from them by ``python -m aeutils.site``,
opened page by page in Debian's Chromium (tests/browser_helpers.py).

The site is built from a tiny executed notebook made here plus every notebook in docs/notebooks/ (or in the folder
``AEUTILS_SITE_NOTEBOOKS`` names), without running any of them, and served on 127.0.0.1 by the test itself.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from browser_helpers import chromium_page, skip_without_browser
from test_results_and_harness import make_notebook, repo  # noqa: F401  (repo: a fixture)

from aeutils import run, site

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "docs" / "notebooks"
NOISE = re.compile(r'"(papermill|iopub\.execute_input|shell\.execute_reply)"')


def published_notebooks() -> list[Path]:
    return sorted(PUBLISHED.glob("*.ipynb"))


def test_full_mode_publishes_each_notebook_cleaned_and_quick_mode_does_not(repo):  # noqa: F811
    nb = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 7, extra="import ipywidgets\nipywidgets.IntSlider()")
    assert run.main(["--quick", "--root", str(repo), str(nb)]) == 0
    assert not (repo / "docs" / "notebooks").exists()
    assert run.main(["--full", "--root", str(repo), str(nb)]) == 0
    text = (repo / "docs" / "notebooks" / "99_demo.ipynb").read_text()
    assert not NOISE.search(text), "execution metadata left in the published notebook"
    executed = nbformat.reads(text, as_version=4)
    assert "nb99.x = 3" in str(executed.cells[1].outputs)  # the full value, not the mock
    assert executed.cells[2].outputs[0]["data"] == {"text/plain": site.WIDGET_NOTE}
    assert "widgets" not in executed.metadata and executed.cells[0].metadata["tags"] == ["parameters"]


@pytest.mark.parametrize("path", published_notebooks(), ids=lambda p: p.name)
def test_published_notebooks_are_executed_clean_and_small(path):
    assert path.stat().st_size <= site.MAX_NOTEBOOK_BYTES, f"{path.name} is over 3 MB: figures too large?"
    text = path.read_text()
    assert not NOISE.search(text), f"{path.name} holds execution metadata: publish it with aeutils.site.publish"
    assert site.WIDGET_VIEW not in text, f"{path.name} holds a widget no page can show"
    cells = nbformat.reads(text, as_version=4).cells
    assert any(c.cell_type == "code" and c.outputs for c in cells), f"{path.name} has no outputs"


def test_readme_links_every_notebook_with_its_outputs():
    """Each notebook's README row links its executed copy; once docs/notebooks/ is populated (by the full-mode
    harness), every linked copy must exist."""
    rows = {line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("|")}
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for nb in notebooks:
        row = [r for r in rows if f"(notebooks/{nb.name})" in r]
        link = f"[read with outputs](docs/notebooks/{nb.name})"
        assert row and link in row[0], f"no 'read with outputs' link in {nb.name}'s row"
    if not published_notebooks():
        pytest.skip("docs/notebooks/ is not populated yet: python -m aeutils.run --full saves the executed notebooks")
    missing = [nb.name for nb in notebooks if not (PUBLISHED / nb.name).is_file()]
    assert not missing, f"not in docs/notebooks/ (run them in full mode): {missing}"


# ---- the site ----------------------------------------------------------------------------------------------------

def _png() -> str:
    """A small figure as base64 PNG, as Jupyter embeds it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    ax.plot([0, 1, 2], [1, 0, 2])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


MATH = ("Inline math, $\\lVert x - \\hat x \\rVert^2$, and display math:\n\n"
        "$$\\mathcal{L}(\\theta) = \\mathbb{E}_{q}[\\log p(x|z)] - \\mathrm{KL}(q \\,\\|\\, p)$$")
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.example/nb)"


def tiny_executed_notebook(path: Path) -> Path:
    """An executed notebook with what the real ones have: a title, a Colab badge, inline and display math, printed
    lines, a figure."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# A tiny executed notebook\n\n{BADGE}\n\n{MATH}\n\n### A section"),
        nbformat.v4.new_code_cell("print('AE epoch 1: loss 0.03')\nplot()", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="AE epoch 1: loss 0.03\n"),
            nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
        ]),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The site built (warnings are errors) from the tiny notebook and the published ones; its folder."""
    pytest.importorskip("myst_nb", reason="the docs extra: pip install -e '.[docs]'")
    tmp = tmp_path_factory.mktemp("site")
    source = tmp / "notebooks"
    source.mkdir()
    tiny_executed_notebook(source / "00_tiny.ipynb")
    published = Path(os.environ.get("AEUTILS_SITE_NOTEBOOKS") or PUBLISHED)
    for nb in sorted(published.glob("*.ipynb")):
        shutil.copy2(nb, source / nb.name)
    out = tmp / "build" / "site"
    assert site.build(source, out, ROOT / "docs" / "site", strict=True) == 0
    return out


def test_site_pages_and_local_mathjax(built_site):
    pages = sorted(p.name for p in built_site.glob("*.html"))
    assert {"index.html", "00_tiny.html"} <= set(pages)
    assert (built_site / "_static" / "mathjax" / "tex-svg-full.js").stat().st_size > 1_000_000
    html = (built_site / "00_tiny.html").read_text()
    assert "AE epoch 1: loss 0.03" in html and "_images/" in html
    assert 'href="https://colab.example/nb"' in html and "colab-badge.svg" not in html  # the badge: a plain link
    for page in pages:  # every script and stylesheet comes from the site itself
        text = (built_site / page).read_text()
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:)?//[^"]+"', text)
        assert not remote, f"{page} loads {remote}"


@pytest.fixture(scope="module")
def served(built_site):
    """The built site on a local HTTP server (127.0.0.1, a free port), shut down afterwards; its URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


MATH_REPORT = """async () => {
    if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
    const math = document.querySelectorAll('.math');
    return {math: math.length, rendered: document.querySelectorAll('.math mjx-container').length,
            errors: document.querySelectorAll('[data-mjx-error], mjx-merror').length};
}"""
IMAGES = """() => Array.from(document.images).map(i => ({src: i.src.slice(0, 80), complete: i.complete,
                                                       width: i.naturalWidth}))"""


@skip_without_browser
def test_every_site_page_in_a_real_browser(built_site, served, tmp_path):
    pages = sorted(p.name for p in built_site.glob("*.html") if p.name not in ("genindex.html", "search.html"))
    with chromium_page(tmp_path) as (page, errors):
        outside, math_on = [], {}
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((served, "data:", "blob:"))
                else None)
        for name in pages:
            page.goto(f"{served}/{name}", wait_until="load")
            assert page.title().strip() and page.locator("h1").first.inner_text().strip(), f"{name}: no title"
            page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
            broken = [i for i in page.evaluate(IMAGES) if i["width"] == 0]
            assert not broken, f"{name}: images not loaded: {broken}"
            math = math_on[name] = page.evaluate(MATH_REPORT)
            assert math["rendered"] == math["math"] and not math["errors"], f"{name}: math not rendered: {math}"
            if name == "00_tiny.html":
                assert math["math"] >= 2 and page.evaluate(IMAGES), "the tiny page lost its math or its figure"
        most = max(pages, key=lambda name: math_on[name]["math"])  # a picture of the page with the most math
        page.goto(f"{served}/{most}", wait_until="load")
        page.evaluate(MATH_REPORT)
        page.locator(".math").first.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "site_page.png"))
    assert not outside, f"the site asked for something not on it: {outside[:5]}"
    assert not errors, f"errors in the browser console: {errors}"
