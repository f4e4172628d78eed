"""End to end in a real headless Chromium (Debian's, driven by Playwright): a reviewer signs
in, opens the queue and a flag, records a decision and sees the flag leave the queue; an
auditor then finds that decision in the access log. Charts must render under the strict
Content-Security-Policy with no console errors. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from openeis.web.app import create_app
from support.web_world import KEY, WEB_CONFIG, PASSWORD, build_world

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags from the machine notes: without the background-networking ones Chromium keeps trying
# to reach Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("OPENEIS_REQUIRE_BROWSER") == "1":
            pytest.fail("OPENEIS_REQUIRE_BROWSER=1 but chromium is not installed", pytrace=False)
        pytest.skip("chromium not installed (Debian package chromium; .ci/run installs it)")
    work = tmp_path_factory.mktemp("browser")
    world = build_world(str(work / "web.duckdb"), work)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(world.url, KEY, WEB_CONFIG, vault_key_file=world.vault_key_file), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    yield world, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _page(browser, problems: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return page


def _sign_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def _charts_rendered(page) -> None:
    charts = page.locator(".vega[data-spec]")
    for i in range(charts.count()):
        page.wait_for_function("(el) => el.dataset.rendered", arg=charts.nth(i).element_handle(), timeout=15000)
        assert charts.nth(i).get_attribute("data-rendered") == "true"
        assert charts.nth(i).locator("svg").count() == 1


def test_reviewer_decides_a_flag_and_the_auditor_sees_it_logged(site, browser):
    world, base = site
    problems: list[str] = []
    page = _page(browser, problems)

    _sign_in(page, base, "rita")
    assert page.url.endswith("/queue")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == len(world.flags_a)  # rita covers unit A only
    page.screenshot(path=str(ARTIFACTS / "1-queue.png"), full_page=True)

    flag_id = rows.first.get_attribute("data-flag")
    rows.first.get_by_role("link", name="Open").click()
    page.wait_for_load_state("networkidle")
    assert f"/flags/{flag_id}" in page.url
    assert page.get_by_role("heading", name="Why this officer was flagged").is_visible()
    _charts_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "2-flag.png"), full_page=True)

    page.get_by_label("Supervisory conversation").check()
    page.get_by_label("Rationale (required)").fill("Spoke with the line manager; the complaints share a pattern "
                                                   "worth a conversation.")
    for agree in page.get_by_label("Agree", exact=True).all():
        agree.check()
    page.get_by_label("Intervention").fill("Supervisory conversation within two weeks")
    page.get_by_label("Follow-up date").fill("2031-03-01")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state("networkidle")
    assert "/queue" in page.url
    assert page.get_by_role("status").inner_text().startswith("Decision recorded")
    assert page.locator(f'tr[data-flag="{flag_id}"]').count() == 0  # it left the queue
    assert page.locator("table.queue tbody tr").count() == len(world.flags_a) - 1
    page.screenshot(path=str(ARTIFACTS / "3-queue-after-decision.png"), full_page=True)

    # The officer's profile: timeline, score history chart, the decision and what followed.
    officer = world.officer_self
    page.goto(f"{base}/officers/{officer}")
    _charts_rendered(page)
    assert page.get_by_role("heading", name="Timeline").is_visible()
    page.screenshot(path=str(ARTIFACTS / "4-officer.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("networkidle")
    _sign_in(page, base, "aude")
    page.goto(f"{base}/access-log?verify=true")
    assert "access log intact" in page.locator("#verification").inner_text()
    decision_row = page.locator("table.log tbody tr", has_text="record a review decision").first
    assert "rita" in decision_row.inner_text() and flag_id in decision_row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "5-access-log.png"), full_page=True)
    assert problems == []  # every page so far loaded all it asked for, and no script failed

    # An auditor may not open a flag: refused, and the refusal is itself logged.
    page.goto(f"{base}/flags/{flag_id}")
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    page.goto(f"{base}/access-log?outcome=denied")
    assert page.locator("table.log tbody tr", has_text="aude").count() >= 1


def test_pages_refuse_a_form_post_without_the_csrf_token(site, browser):
    world, base = site
    page = _page(browser, [])
    _sign_in(page, base, "rita")
    flag_id = world.flags_a[1]
    response = page.request.post(f"{base}/flags/{flag_id}/review",
                                 form={"decision": "no_action", "rationale": "no token sent with this", "version": "1"})
    assert response.status == 403
    page.goto(f"{base}/flags/{flag_id}")
    assert "new" in page.locator("dl.facts").inner_text()
