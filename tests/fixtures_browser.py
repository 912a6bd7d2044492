"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.handoff_support import STAFF_PASSWORD

CHROMIUM = shutil.which("chromium")
# Without the background-networking flags Chromium keeps calling out, which this closed
# network refuses; the rest make a root-run headless browser start reliably.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DOCS = Path(__file__).resolve().parent.parent / "docs"
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser per test module; each test opens its own context."""
    if CHROMIUM is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: the browser tests must run in CI")
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def open_page(browser: Browser, width: int = 1280, height: int = 800) -> Iterator[Page]:
    """A page in a fresh context (no cookies or storage shared between tests); a JavaScript
    error on the page fails the test."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="da-DK")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(TIMEOUT)
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with open_page(browser) as page:
        yield page


def serious_violations(page: Page) -> list[str]:
    """axe's serious and critical findings on the page as it is now (WCAG 2.1 AA)."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def staff_sign_in(
    page: Page, base_url: str, username: str, password: str = STAFF_PASSWORD
) -> None:
    """Sign in on the console's login page; lands on the console."""
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    expect(page).to_have_url(f"{base_url}/staff")
