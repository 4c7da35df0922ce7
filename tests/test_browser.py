"""What the user sees: a real JupyterLab in a real headless Chromium runs a notebook whose
live widgets are refreshed in the background, and the page shows them finish."""

import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from .jupyter_server import SERVER_START_SECONDS, JupyterServer
from .live_notebooks import BUSY_ACTOR, STEPS_ACTOR, SUPERVISOR_ACTOR, live_notebook

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_CANDIDATES = ("chromium-headless-shell", "chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WIDGETS_DONE_MS = 120_000
ALL_WORKERS_DONE = """() => {
    const table = document.querySelector('table.ray-magics-table');
    const cells = table ? [...table.querySelectorAll('tbody td:nth-child(2)')] : [];
    return cells.length === 3 && cells.every(cell => cell.textContent === 'DONE');
}"""
BAR_WIDTH = """label => {
    const box = [...document.querySelectorAll('.widget-hbox')].find(
        row => row.querySelector('.widget-html-content')?.textContent === label);
    const bar = box?.querySelector('.progress-bar');
    return bar ? parseFloat(bar.style.width) : null;
}"""
MOVING = f"label => {{ const width = ({BAR_WIDTH})(label); return width > 0 && width < 100 ? width : null; }}"
PAYLOAD = """<img src=x onerror="__pwned=1"><script>__pwned=1</script>' " onmouseover='__pwned=1'"""
HOSTILE_ACTOR = """%%actor
class Hostile:
    def get_progress(self):
        return {"done": 1, "total": 1, "parts": {PAYLOAD: 1.0}}

    def state(self):
        return {PAYLOAD: "DONE"}"""
PAYLOAD_SHOWN_AS_TEXT = """payload => {
    const shows = selector => [...document.querySelectorAll(selector)].filter(
        element => element.textContent.includes(payload)).length;
    return shows('.widget-html-content') >= 3 && shows('table.ray-magics-table td') === 1
        && shows('table.ray-magics-actors td') === 1;
}"""
PAYLOAD_RAN = "() => [window.__pwned ?? null, document.querySelectorAll('img[src=x], [onmouseover]').length]"

NOTEBOOK_CELLS = [
    "%load_ext ray_magics",
    "%ray_init --num-cpus 2",
    STEPS_ACTOR,
    "steps = Steps.remote(20)",
    "%actor_progress steps --interval 0.1 --unit steps --description Training",
    BUSY_ACTOR,
    "busy = Busy.remote()\nworking = busy.work.remote(60)\n%actor_progress busy --interval 0.1 --description Busy",
    SUPERVISOR_ACTOR,
    "sup = Supervisor.remote()",
    "%actor_table sup.state --interval 0.1 --until DONE",
    f"PAYLOAD = {PAYLOAD!r}",
    HOSTILE_ACTOR,
    "hostile = Hostile.options(name=PAYLOAD).remote()",
    "import ray_magics\nray_magics.progress(hostile, description=PAYLOAD, unit=PAYLOAD)",
    "%actor_table hostile.state --until DONE",
    "%actors --class Hostile",
]


def chromium_path() -> str | None:
    return next(filter(None, map(shutil.which, CHROMIUM_CANDIDATES)), None)


@pytest.fixture
def chromium():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("no headless Chromium: `python3 run.py test` installs Debian's chromium-headless-shell")
        pytest.skip("no headless Chromium here (CI installs it and never skips this test)")
    return path


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab on 127.0.0.1 (random port, token) serving a notebook of `NOTEBOOK_CELLS`."""
    nbformat.write(live_notebook(NOTEBOOK_CELLS), tmp_path / "live.ipynb")
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    server = JupyterServer(tmp_path, app="jupyterlab", JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
    try:
        yield f"{server.url}/lab/tree/live.ipynb?token={server.token}"
    finally:
        server.stop()


def run_first_cell_once_the_kernel_listens(page) -> None:
    """Run the first cell, again until it runs: a request sent while the kernel's
    connection is still starting is dropped by the front end."""
    first_prompt_numbered = "() => /\\[\\d+\\]/.test(document.querySelector('.jp-InputPrompt').textContent)"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        page.click(".jp-Cell .jp-InputArea-editor >> nth=0")
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(first_prompt_numbered, timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the kernel never ran the first cell")


def test_live_widgets_finish_and_show_hostile_values_as_text_in_jupyterlab(chromium, jupyterlab):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1700})
        try:
            page.goto(jupyterlab)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=SERVER_START_SECONDS * 1000)
            run_first_cell_once_the_kernel_listens(page)
            page.click(".lm-MenuBar-itemLabel:text-is('Run')")
            page.click(".lm-Menu-itemLabel:text-is('Run Selected Cell and All Below')")
            busy_moving = page.wait_for_function(MOVING, arg="Busy", timeout=WIDGETS_DONE_MS).json_value()
            page.wait_for_function(f"() => ({BAR_WIDTH})('Training') === 100", timeout=WIDGETS_DONE_MS)
            info = page.inner_text(".widget-hbox:has(.widget-html-content:text-is('Training')) .widget-html >> nth=1")
            page.wait_for_function(f"() => ({BAR_WIDTH})('Busy') === 100", timeout=WIDGETS_DONE_MS)
            page.wait_for_function(ALL_WORKERS_DONE, timeout=WIDGETS_DONE_MS)
            states = page.locator("table.ray-magics-table >> nth=0").locator("tbody td:nth-child(2)").all_inner_texts()
            page.wait_for_function(PAYLOAD_SHOWN_AS_TEXT, arg=PAYLOAD, timeout=WIDGETS_DONE_MS)
            pwned, hostile_elements = page.evaluate(PAYLOAD_RAN)
        finally:
            page.screenshot(path=str(ARTIFACTS / "progress_in_jupyterlab.png"), full_page=True)
            browser.close()
    assert 0 < busy_moving < 100  # the bar moved while its actor was inside `work`
    assert info.startswith("100% · 20/20 steps")
    assert states == ["DONE", "DONE", "DONE"]
    assert pwned is None and hostile_elements == 0
