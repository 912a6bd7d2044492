"""The console's "Indsigt" and "Artikler" pages over the demo data (`python -m bot seed
--conversations 400`, as `make run` seeds a new database), in headless Debian chromium against
the real gateway app served by uvicorn on 127.0.0.1 (these pages need no Rasa).

It prints the insight figures of the demo data (in the test summary), checks the pages with
axe, and with BORGER_UPDATE_SCREENSHOTS=1 retakes docs/insight.png and docs/article-editor.png.
The whole story against the real assistant is tests/test_insight_browser.py.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, expect

from bot.cli import main as cli_main
from bot.gateway.app import create_app
from bot.services.staff_auth import create_staff
from tests.console_support import console_settings
from tests.fixtures_browser import DOCS, open_page, serious_violations, staff_sign_in
from tests.handoff_support import STAFF_PASSWORD

pytestmark = [pytest.mark.browser]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("console-pages")
    url = f"sqlite:///{tmp / 'app.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BORGER_STAFF_COOKIE_SECURE", "0")
        patch.setenv("BORGER_DATABASE_URL", url)
        for command in (["db", "upgrade"], ["knowledge", "import"],
                        ["seed", "--conversations", "400"]):
            assert cli_main(["--database-url", url, *command]) == 0
        create_staff(url, "erik", "Erik Berg", STAFF_PASSWORD, role="editor")
        create_staff(url, "sofie", "Sofie Hansen", STAFF_PASSWORD)
        port = free_port()
        config = uvicorn.Config(
            create_app(console_settings(url, Path(tmp))), host="127.0.0.1", port=port,
            ws="wsproto", log_level="warning",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.05)
        try:
            yield base
        finally:
            server.should_exit = True
            thread.join(15)


def test_insight_page_over_the_demo_data(
    browser: Browser, gateway: str, report_figure: Any
) -> None:
    with open_page(browser, width=1360, height=1000) as page:
        staff_sign_in(page, gateway, "erik")
        page.goto(f"{gateway}/staff/insight")
        expect(page.locator("#summary p").first).to_contain_text("samtaler")
        expect(page.locator(".missed-item").first).to_be_visible()
        # Both charts load on their own: wait for each to be drawn (CI once looked at the
        # heat map while it was still loading); a chart that fails to load times out here.
        for chart in ("chart-per-day", "chart-heat"):
            page.wait_for_function(f"document.getElementById('{chart}').naturalWidth > 0")
        assert not serious_violations(page)
        if os.environ.get("BORGER_UPDATE_SCREENSHOTS"):
            DOCS.mkdir(exist_ok=True)
            page.screenshot(path=str(DOCS / "insight.png"), full_page=True)
        csrf = page.request.get(f"{gateway}/api/staff/me").json()["csrf"]
        figures = page.request.get(f"{gateway}/api/staff/insights?days=30").json()
        assert figures["conversations"] == 400 and csrf
        outcomes, handoffs = figures["outcomes"], figures["handoffs"]
        report_figure("insight_demo", (
            f"insight, demo data (400 conversations, last 30 days): {figures['messages']} "
            f"messages; outcomes {outcomes}; containment {figures['containment']:.1%}; "
            f"outside staffed hours {figures['outside_staffed_hours']:.1%}; handoffs "
            f"{handoffs['count']} (median wait {handoffs['median_wait_seconds']} s, p90 "
            f"{handoffs['p90_wait_seconds']} s, taken in time {handoffs['taken_in_time']:.0%}); "
            f"{len(figures['missed'])} missed-question groups"
        ))
        csv = httpx.get(f"{gateway}/api/staff/insights/topics.csv",
                        cookies={c["name"]: c["value"] for c in page.context.cookies()})
        assert csv.status_code == 200 and csv.text.lstrip("\ufeff").startswith("emne;samtaler")


def test_article_editor_with_preview(browser: Browser, gateway: str) -> None:
    with open_page(browser, width=1360, height=1000) as page:
        staff_sign_in(page, gateway, "erik")
        page.goto(f"{gateway}/staff/articles?id=koerekort-mistet")
        expect(page.locator("#editor-title")).to_have_text("Mistet eller stjålet kørekort")
        expect(page.locator("#body-words")).to_contain_text("ord")
        page.get_by_role("button", name="Vis som borgeren ser det").click()
        expect(page.locator("#preview .bubble")).to_contain_text("duplikatkørekort")
        expect(page.locator("#versions li")).to_have_count(1)
        assert not serious_violations(page)
        if os.environ.get("BORGER_UPDATE_SCREENSHOTS"):
            page.screenshot(path=str(DOCS / "article-editor.png"), full_page=True)

    with open_page(browser) as page:  # a plain staff account reads, and cannot save
        staff_sign_in(page, gateway, "sofie")
        page.goto(f"{gateway}/staff/articles?id=koerekort-mistet")
        expect(page.locator("#readonly")).to_be_visible()
        expect(page.get_by_role("button", name="Gem", exact=True)).to_be_hidden()
        expect(page.locator("#body")).to_be_disabled()
        assert not serious_violations(page)
