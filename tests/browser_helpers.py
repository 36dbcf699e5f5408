"""What the browser tests share (tests/test_browser.py, tests/test_site.py): Debian's Chromium driven by
Playwright's Python API (no browser download), a free port on 127.0.0.1, waiting, stopping what a test started,
and a page that records every console error.

Needs ``chromium`` (Debian: ``apt-get install chromium``) and ``playwright`` (pip): ``.ci/run`` installs both.
``AEUTILS_CHROMIUM`` overrides the browser's path; ``AEUTILS_SKIP_BROWSER=1`` skips every browser test;
``AEUTILS_SCREENSHOTS=DIR`` keeps the screenshots a test took.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("AEUTILS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
skip_without_browser = pytest.mark.skipif(os.environ.get("AEUTILS_SKIP_BROWSER") == "1",
                                          reason="AEUTILS_SKIP_BROWSER=1")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what: str, timeout: float = 30.0):
    """Poll ``predicate`` until it returns something true (returned); fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_for_http(url: str, process=None, timeout: float = 90.0) -> None:
    """Wait until ``url`` answers; fail early if the server ``process`` (when given) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"nothing answered at {url} within {timeout:.0f} s")


def stop_group(process) -> None:
    """Stop a server started with ``start_new_session=True`` and every process it started (its group)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def chromium_page(tmp_path: Path, width: int = 1400, height: int = 1000):
    """Yield ``(page, errors)``: a Chromium page whose console errors and uncaught exceptions are appended to
    ``errors``. A failure saves ``failure.png`` in ``tmp_path``; the browser is closed in any case."""
    if CHROMIUM is None:
        pytest.fail("no Chromium found: apt-get install chromium (or set AEUTILS_CHROMIUM)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            page.set_default_timeout(60_000)  # no step may wait forever
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
            yield page, errors
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise
        finally:
            if os.environ.get("AEUTILS_SCREENSHOTS"):  # a folder to keep what the test saw
                for shot in tmp_path.glob("*.png"):
                    shutil.copy(shot, os.environ["AEUTILS_SCREENSHOTS"])
            browser.close()
