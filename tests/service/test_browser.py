"""The desk in a real browser: Playwright drives Debian's chromium (/usr/bin/chromium) against `tranche serve`
on 127.0.0.1.

Sign in, open the Peru dashboard, read the memo's figures (6,100,000.00 of 9,000,000.00) from the compare page,
approve a review case as a reviewer, be refused as a viewer.  Screenshots are kept in
``$TRANCHE_ARTIFACTS/browser`` (default ``test-artifacts/browser``).  Without chromium or Playwright the test
skips, unless TRANCHE_REQUIRE_BROWSER is set (`.ci/run`), where it fails.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tranche.service.app import create_app

from .conftest import PASSWORD, Desk, make_desk

CHROMIUM = Path(os.environ.get("TRANCHE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("TRANCHE_ARTIFACTS", Path(__file__).parent.parent.parent / "test-artifacts")) / "browser"


def _unavailable(reason: str) -> None:
    if os.environ.get("TRANCHE_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (TRANCHE_REQUIRE_BROWSER is set)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Desk]]:
    import uvicorn

    folder = tmp_path_factory.mktemp("browser")
    mp = pytest.MonkeyPatch()
    mp.setenv("TRANCHE_AUDIT_KEY", str(folder / "audit.key"))
    desk = make_desk(f"sqlite:///{folder / 'browser.db'}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(desk.url), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", desk
    finally:
        server.should_exit = True
        thread.join(10)
        mp.undo()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu",
                                                                     "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


def sign_in(browser: Any, base: str, name: str, width: int = 1280) -> Any:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/scenarios/peru-1962")
    assert "/login" in page.url
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/scenarios/peru-1962$"))
    return page


def test_reviewer_signs_in_reads_the_figures_and_approves(browser: Any, served: tuple[str, Desk]) -> None:
    base, _ = served
    page = sign_in(browser, base, "reviewer")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Military assistance to Peru")
    assert page.locator("#timeline-chart svg").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="Compare").first.click()
    page.wait_for_url(re.compile(r"/compare"))
    limited = page.locator("#option-limited tbody tr", has_text="FY1962").first
    cells = limited.locator("td").all_inner_texts()
    assert cells[:2] == ["9,000,000.00", "6,100,000.00"]
    assert page.locator("#compare-chart svg rect").count() > 4
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)

    page.goto(f"{base}/reviews")
    first = page.locator("section.case").first
    title = first.locator("h2").inner_text()
    case = re.search(r"Case (\d+)", title)
    assert case is not None
    first.get_by_label(f"Justification for case {case.group(1)}").fill("urgent necessity shown")
    first.get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(r"/reviews\?done="))
    assert f"case {case.group(1)} approved" in page.get_by_role("status").inner_text()
    page.screenshot(path=str(ARTIFACTS / "approved.png"), full_page=True)


def test_viewer_is_refused(browser: Any, served: tuple[str, Desk]) -> None:
    base, _ = served
    page = sign_in(browser, base, "viewer", width=800)  # tablet width
    page.goto(f"{base}/reviews")
    assert page.get_by_role("button", name="Approve").count() == 0
    assert "needs the reviewer role" in page.content()
    page.screenshot(path=str(ARTIFACTS / "viewer-reviews.png"), full_page=True)
    # a forged approval with the viewer's own session is refused (403) by the server
    csrf = page.locator('form[action="/logout"] input[name="csrf"]').get_attribute("value")
    response = page.request.post(f"{base}/reviews/1/approve", form={"justification": "x", "csrf": csrf or ""},
                                 headers={"Accept": "text/html"})
    assert response.status == 403
    page.set_content(response.text())
    assert "needs the reviewer role" in page.content()
    page.screenshot(path=str(ARTIFACTS / "viewer-refused.png"), full_page=True)
