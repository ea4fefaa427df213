"""The edge editor in a real browser: JupyterLab + headless Chromium (Playwright), mouse drags on the canvas.

The test starts JupyterLab on a free loopback port with a temporary root folder (nothing in the repository is
touched; settings, workspaces and runtime files go to the temporary folder too), opens a copy of lesson 10 without
its stored outputs, runs all its cells (Run > Run All Cells), then, on the lesson's live
:class:`edgeconnect_lib.editor.EdgeEditor`, with the mouse: draws an edge across the hole, paints a second hole,
presses Inpaint, and checks that the status line (edge pixels, hole ratio) and the
result image shown changed. A screenshot is written to the test's tmp folder and to ``executed/browser_test.png``.

Needs Debian's ``/usr/bin/chromium`` (``make browser`` installs it; ``playwright install`` cannot download
here) and the ``playwright`` package; skipped, saying which is missing, otherwise.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("EDGECONNECT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTEFACT = REPO / "executed" / "browser_test.png"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason=f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium "
                                       "chromium-driver) or set EDGECONNECT_CHROMIUM")

LESSON = REPO / "notebooks" / "10_edge_editing.ipynb"
#: Where lesson 10's hole lies (fractions of the editor's canvas): over the ladybird, image pixels x 184-240,
#: y 106-161 of 256 (section 1 of the lesson).
EDGE_DRAG = [(0.74, 0.50), (0.83, 0.53), (0.92, 0.57)]
HOLE_DRAG = [(0.08, 0.08), (0.22, 0.10), (0.22, 0.20)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


def _wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as err:  # noqa: BLE001 - keep polling; report the last error on timeout
            last_error = err
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" +
                         (f" (last error: {last_error})" if last_error else ""))


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a free port, rooted in a temporary folder holding the editor notebook."""
    root = tmp_path / "root"
    root.mkdir()
    lesson = nbformat.read(LESSON, as_version=4)
    for cell in lesson.cells:  # a clean copy: no stored outputs, so everything shown comes from this run
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(lesson, root / LESSON.name)
    # no "Jupyter news?" toast over the widgets: the announcements plugin is off in this server's own config folder
    (tmp_path / "config" / "labconfig").mkdir(parents=True)
    (tmp_path / "config" / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    # render every cell (no windowing), so the widget's elements exist wherever the notebook is scrolled
    tracker = tmp_path / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port = _free_port()
    jupyter = Path(sys.executable).with_name("jupyter")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"),
               OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    log = open(tmp_path / "jupyter.log", "w")
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.token=", "--ServerApp.password=",
         "--no-browser", "--allow-root", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: proc.poll() is None and _get(f"{base}/api/status"), 90, "JupyterLab to start")
        yield base, root, tmp_path
    finally:
        try:  # shut our kernels down, then the server we started (its whole process group: it and its kernels)
            for k in _get(f"{base}/api/kernels"):
                req = urllib.request.Request(f"{base}/api/kernels/{k['id']}", method="DELETE")
                urllib.request.urlopen(req, timeout=10).close()
        except Exception:  # noqa: BLE001 - the server may already be gone
            pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def _kernels_idle(base: str) -> bool:
    kernels = _get(f"{base}/api/kernels")
    return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


def _image_of(locator) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"), dtype=np.float32)


def _drag(page, box, points, steps: int = 12) -> None:
    """Press at the first point (fractions of the canvas box), move through the others, release."""
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def _settled(base: str, locator, timeout: float = 60) -> str:
    """The locator's text once the kernel is idle and the text stays the same for a second (the mouse events of
    a drag arrive one by one)."""
    seen = []

    def same_twice():
        if not _kernels_idle(base):
            return None
        seen.append(locator.inner_text())
        return seen[-1] if len(seen) > 1 and seen[-1] == seen[-2] else None

    return _wait_for(same_twice, timeout, "the editor to settle", interval=1.0)


def _edge_count(text: str) -> int:
    return int(re.search(r"edge pixels: (\d+) in the hole", text).group(1))


def _hole_percent(text: str) -> float:
    return float(re.search(r"hole: ([\d.]+)%", text).group(1))


def test_editor_in_jupyterlab_with_chromium(lab):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                                   "(pip install -c constraints.txt playwright)")
    base, root, tmp = lab
    started = time.monotonic()
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1500, "height": 1100})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{base}/lab/tree/{LESSON.name}?reset", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            _wait_for(lambda: _kernels_idle(base), 90, "the kernel to start and be idle")
            page.locator(".jp-Notebook").first.click()  # focus the notebook, then Run > Run All Cells
            page.get_by_text("Run", exact=True).first.click()
            page.get_by_text("Run All Cells", exact=True).first.click()

            status = page.locator(".ec-editor-status")
            status.wait_for(state="attached", timeout=180_000)
            _wait_for(lambda: "edge pixels:" in status.inner_text(), 60, "the editor's status line")
            _wait_for(lambda: _kernels_idle(base), 180, "the lesson to finish running")
            stderr = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
            assert stderr.count() == 0, f"the lesson wrote an error or a warning: {stderr.first.inner_text()[:2000]}"
            canvas = page.locator("canvas.ec-editor-canvas")
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            assert box and box["width"] > 400, f"the editor's canvas is not shown at its size: {box}"
            text0 = status.inner_text()
            edges0, hole0 = _edge_count(text0), _hole_percent(text0)
            result = page.locator(".ec-editor-result")
            shown0 = _image_of(result)

            # 1. draw an edge (the default tool) across the hole
            _drag(page, box, EDGE_DRAG)
            _wait_for(lambda: _edge_count(status.inner_text()) > edges0, 30, "the edge count to grow")
            text1 = _settled(base, status)
            assert _edge_count(text1) >= edges0 + 40, f"a drag across ~45 px of hole drew too few pixels: {text1}"

            # 2. paint a second hole in the top-left corner with the brush
            page.locator(".widget-toggle-button", has_text="paint hole").click()
            _drag(page, box, HOLE_DRAG)
            _wait_for(lambda: _hole_percent(status.inner_text()) > hole0 + 0.5, 30, "the hole ratio to grow")
            shown1 = _image_of(result)
            assert np.abs(shown1 - shown0).mean() > 0.5, "the input view shows the new hole"

            # 3. inpaint with the edited edges: the result beside the input changes
            page.locator(".ec-editor-inpaint").click()
            message = page.locator(".ec-editor-message")
            _wait_for(lambda: "inpainted" in message.inner_text(), 60, "the Inpaint button's result")
            _wait_for(lambda: np.abs(_image_of(result) - shown1).mean() > 1.0, 30, "the result image to change")
            text2 = _settled(base, status)
            assert _edge_count(text2) == _edge_count(text1), "painting a hole elsewhere kept the drawn edge"

            canvas.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp / "browser_test.png"))
            ARTEFACT.parent.mkdir(exist_ok=True)
            shutil.copyfile(tmp / "browser_test.png", ARTEFACT)
        finally:
            context.close()
    elapsed = time.monotonic() - started
    print(f"browser test: {text0!r} -> {text2!r}; screenshot {ARTEFACT} ({elapsed:.0f} s)")
