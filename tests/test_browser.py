"""The dashboard in a real browser: ``topicvae app`` as a subprocess, driven by headless Chromium.

Needs the ``playwright`` Python package and Debian's ``chromium`` (``/usr/bin/chromium``, or
``$TOPICVAE_CHROMIUM``); Playwright's own browser download is not used. Every page is
visited; none may show an error box or a traceback; a screenshot of each lands in
``test-output/screenshots/`` (or ``$TOPICVAE_SCREENSHOTS``). ``$TOPICVAE_TEST_EXECUTABLE``
names the ``topicvae`` executable to start (default: this Python's; see app_support.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app_support import PRODLDA_RUN, build_app_data, free_port, start_app, stop_app, wait_healthy

REPO = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("TOPICVAE_SCREENSHOTS", REPO / "test-output" / "screenshots"))
CHROMIUM = os.environ.get("TOPICVAE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
WAIT_MS = 60_000

# page url path → the heading that shows it rendered; the first is opened by its address on
# a fresh server (a deep link must still go through the entry file's navigation)
PAGES = {
    "topics": "Topics",
    "": "Overview",
    "documents": "Documents",
    "infer": "Infer topics of a new text",
    "compare": "Compare runs",
    "drift": "Topic drift",
    "trends": "Trends",
    "downloads": "Downloads",
}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set TOPICVAE_CHROMIUM)",
                allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    corpora, runs = build_app_data(tmp_path_factory.getbasetemp() / "app-data")
    mine = tmp_path_factory.mktemp("browser") / "runs"
    shutil.copytree(runs, mine)
    port = free_port()
    log = mine.parent / "app.log"
    proc = start_app(port, corpora, mine, log, cwd=mine.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url, log
    finally:
        stop_app(proc)  # the launcher and the Streamlit process it started share this new process group


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def settle(page) -> None:
    """Wait until the script has finished and the charts are drawn."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=WAIT_MS)
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=WAIT_MS)
    if page.locator('[data-testid="stPlotlyChart"]').count():
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=WAIT_MS)
    page.wait_for_timeout(700)


def assert_no_error(page, where: str) -> None:
    for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        boxes = page.locator(selector)
        assert boxes.count() == 0, f"{where}: {boxes.first.inner_text()[:1000]}"
    body = page.locator("body").inner_text()
    assert "Traceback" not in body, f"{where}: a traceback is shown"


def test_every_page_in_a_real_browser(server, browser):
    url, log = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1800})
    page.set_default_timeout(WAIT_MS)
    try:
        for path, heading in PAGES.items():
            page.goto(f"{url}/{path}?run={PRODLDA_RUN}", wait_until="domcontentloaded")
            page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=WAIT_MS)
            settle(page)
            assert_no_error(page, path or "overview")
            nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert "Overview" in nav and "streamlit app" not in nav, f"{path}: page menu is {nav!r}"
            page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"), full_page=True)

        # the menu: from the last page to Compare
        page.locator('[data-testid="stSidebarNav"] a', has_text="Compare").first.click()
        page.get_by_role("heading", name="Compare runs", exact=True).first.wait_for(timeout=WAIT_MS)
        settle(page)
        assert_no_error(page, "compare via the menu")

        # one interaction through the real front end: infer a pasted text
        page.goto(f"{url}/infer?run={PRODLDA_RUN}", wait_until="domcontentloaded")
        box = page.get_by_label("Paste a text")
        box.wait_for(timeout=WAIT_MS)
        box.fill("The Australian cricket team won the test match against England in Sydney.")
        box.press("Control+Enter")
        page.get_by_text("The mixture sums to").wait_for(timeout=WAIT_MS)
        settle(page)
        assert_no_error(page, "infer with text")
        assert "sums to 1.000" in page.locator("body").inner_text()
        page.screenshot(path=str(SHOTS / "infer-result.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(SHOTS / "failure.png"), full_page=True)
        print(log.read_text()[-3000:])
        raise
    finally:
        page.close()


def test_the_launcher_prints_the_url_and_stays_on_loopback(server):
    url, log = server
    text = log.read_text()
    assert f"topicvae dashboard: {url}" in text
