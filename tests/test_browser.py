"""The explorers in a real browser: JupyterLab on 127.0.0.1, driven by Playwright with Debian's Chromium.

The test writes a small notebook that builds notebook 01's digit toy and notebook 07's latent explorer from tiny
fixed models, runs it in JupyterLab, then toggles a pixel, moves a slider and clicks the latent plane; each time it
checks that the state in the kernel (written to a file by the notebook) and the image on the page both changed. At
1100 px and 1400 px it checks that every control is visible, and it fails on any error in the browser's console.
Everything it starts (the server, its kernel, the browser) is shut down at the end.

Needs ``chromium`` (Debian: ``apt-get install chromium``) and ``playwright`` (pip; no browser download): ``.ci/run``
installs both. The browser plumbing it shares with tests/test_site.py is in tests/browser_helpers.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from browser_helpers import chromium_page, free_port, skip_without_browser, stop_group, wait_for_http, wait_until

TOKEN = "aeutils-browser-test"
WIDTHS = (1100, 1400)
SETTINGS = {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
            "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}

SETUP = '''\
import json
from pathlib import Path

import numpy as np
from aeutils import widgets

rng = np.random.default_rng(0)
W_ENC, W_TOY, W_DEC = rng.normal(size=(64, 2)), rng.normal(size=(2, 64)), rng.normal(size=(2, 784))
encoder = lambda x: np.asarray(x) @ W_ENC
toy_decoder = lambda z: 1 / (1 + np.exp(-np.asarray(z) @ W_TOY))
decoder = lambda z: 1 / (1 + np.exp(-np.asarray(z) @ W_DEC))
codes, labels = rng.normal(size=(300, 2)), rng.integers(0, 10, 300)


def logged(obj, method):
    """Wrap obj.method so that every call writes the kernel's state to state.json (read by the test)."""
    original = getattr(obj, method)

    def wrapper(*args):
        out = original(*args)
        Path("state.json").write_text(json.dumps({"grid": toy.grid.tolist(), "z": explorer.z.tolist()}))
        return out

    setattr(obj, method, wrapper)
'''
TOY = "toy_app, toy = widgets.digit_toy_widget(encoder, toy_decoder, codes, labels)\ntoy_app"
EXPLORER = '''\
explorer_app, explorer = widgets.latent_explorer_widget(decoder, codes, labels, limit=3.0)
logged(toy, "toggle")
logged(explorer, "move_to")
explorer_app'''

pytestmark = skip_without_browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a folder with the explorers' notebook; stopped afterwards."""
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (SETUP, TOY, EXPLORER)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "explorers.ipynb")
    for plugin, settings in SETTINGS.items():  # every cell rendered (not only those on screen); no news pop-up
        path = root / ".settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True", f"--LabApp.workspaces_dir={root / '.ws'}",
               f"--LabApp.user_settings_dir={root / '.settings'}"] + (["--allow-root"] if os.geteuid() == 0 else [])
    log = open(root / "lab.log", "w")
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/api/status?token={TOKEN}", process)
        yield url, root
    finally:
        stop_group(process)  # the server and every kernel it started (they share its process group)
        log.close()


def _state(root: Path) -> dict | None:
    try:
        return json.loads((root / "state.json").read_text())
    except (OSError, ValueError):
        return None


TOY_IMAGE = ".widget-output img"  # the toy's figure: a PNG in an ipywidgets Output
PLANE = ".jupyter-matplotlib-canvas-div"  # the explorer's figure: ipympl's canvas widget


def _image_src(page, selector: str) -> str:
    """The source (a data or blob URL) of the first image the selector finds: what the page shows."""
    return page.locator(selector).first.get_attribute("src") or ""


def _pixels(page) -> bytes:
    """What the explorer's canvas shows, as a PNG screenshot of it."""
    canvas = page.locator(PLANE).first
    canvas.scroll_into_view_if_needed()
    return canvas.screenshot()


def _controls_visible(page, width: int) -> list[str]:
    """The controls that are not fully visible at this viewport width (empty when all are)."""
    page.set_viewport_size({"width": width, "height": 1000})
    page.wait_for_timeout(500)
    hidden = []
    controls = page.locator(".widget-toggle-button, .widget-button, .widget-slider, .widget-readout")
    for i in range(controls.count()):
        control = controls.nth(i)
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        if box is None or box["width"] < 10 or box["height"] < 10 or box["x"] < 0 or box["x"] + box["width"] > width:
            hidden.append(f"{control.get_attribute('class')} at {box}")
    for i in range(page.locator(".widget-slider").count()):  # a slider squeezed to a stub is not usable
        box = page.locator(".widget-slider").nth(i).bounding_box()
        if box["width"] < 250:
            hidden.append(f"slider {i} only {box['width']:.0f} px wide")
    panel = page.locator(".jp-NotebookPanel-notebook").first.bounding_box()
    plane = page.locator(PLANE).first.bounding_box()
    if plane["x"] + plane["width"] > panel["x"] + panel["width"]:
        hidden.append(f"the plane's right edge at {plane['x'] + plane['width']:.0f} px, past the notebook's")
    return hidden


def test_explorers_respond_in_a_real_browser(lab, tmp_path):
    url, root = lab
    with chromium_page(tmp_path) as (page, errors):
        page.goto(f"{url}/lab/tree/explorers.ipynb?token={TOKEN}")
        page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        page.wait_for_timeout(1000)
        page.locator(".jp-Cell .jp-InputArea-prompt").first.click()
        for _ in range(3):  # run the three cells as a learner does
            page.keyboard.press("Shift+Enter")
        page.locator(".widget-toggle-button").nth(63).wait_for(timeout=90_000)
        wait_until(lambda: _image_src(page, TOY_IMAGE), "the toy's image", 60)
        page.locator(PLANE).first.wait_for(timeout=60_000)

        # toggle pixel (2, 4) of the toy: the kernel's grid and the drawn image change
        before = _image_src(page, TOY_IMAGE)
        page.locator(".widget-toggle-button").nth(2 * 8 + 4).click()
        state = wait_until(lambda: (s := _state(root)) and s["grid"][2][4] == 1.0 and s, "the toggled pixel")
        wait_until(lambda: _image_src(page, TOY_IMAGE) not in ("", before), "the toy's image to change")

        # move the explorer's z1 slider by typing into its readout
        page.wait_for_timeout(1000)  # the canvas's first drawing
        before = _pixels(page)
        readout = page.locator(".widget-readout").first
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("1.5")
        page.keyboard.press("Enter")
        state = wait_until(lambda: (s := _state(root)) and abs(s["z"][0] - 1.5) < 1e-6 and s, "z1 = 1.5")
        wait_until(lambda: _pixels(page) != before, "the explorer's picture to change")
        assert state["grid"][2][4] == 1.0

        # click the plane left of the centre of its axes: the point moves there, and so does the picture
        before = _pixels(page)
        box = page.locator(PLANE).first.bounding_box()
        page.mouse.click(box["x"] + 0.22 * box["width"], box["y"] + 0.35 * box["height"])
        state = wait_until(lambda: (s := _state(root)) and s["z"][0] < 0 < s["z"][1] and s, "a click's point")
        wait_until(lambda: _pixels(page) != before, "the explorer's picture to change after a click")
        assert page.get_by_text("Click the plane").is_visible()
        for width in WIDTHS:
            assert not _controls_visible(page, width), f"controls hidden at {width} px"
            page.locator(PLANE).first.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / f"explorers_{width}.png"))
    assert not errors, f"errors in the browser console: {errors}"
