"""The staff console in a real browser (headless Debian chromium) against the real assistant.

The staff side is driven in the browser; the citizen side through the chat API and the citizen
WebSocket (the widget has its own browser tests). With BORGER_UPDATE_SCREENSHOTS=1 it also
retakes docs/staff-console.png.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import websockets
from playwright.sync_api import Browser, Page, expect

from tests.fixtures_browser import DOCS, open_page, serious_violations
from tests.handoff_support import (
    STAFF_PASSWORD,
    avoid_midnight_gap,
    configured_stack,
    end_open_handoffs,
    ensure_staff,
    sign_everyone_out,
    write_library,
)

pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
]
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def stack(live: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    library = write_library(tmp_path_factory.mktemp("staff-browser") / "library.yml", "always")
    env = {
        "BORGER_LIBRARY_CONFIG": str(library),
        "BORGER_STAFF_COOKIE_SECURE": "0",
        "BORGER_LOGIN_MAX_FAILURES_PER_IP": "1000",
    }
    with configured_stack(live, ("actions", "gateway"), **env):
        ensure_staff(live.settings.database_url, "anna", "Anna Holm")
        end_open_handoffs(live.settings.database_url)
        yield live
        sign_everyone_out(live.settings.database_url)
        end_open_handoffs(live.settings.database_url)


@pytest.fixture
def page(browser: Browser, stack: Any) -> Iterator[Page]:
    avoid_midnight_gap()
    try:
        with open_page(browser, width=1360, height=900) as page:
            yield page
    finally:
        sign_everyone_out(stack.settings.database_url)


class CitizenSocket:
    """The citizen's WebSocket, read in a background thread."""

    def __init__(self, url: str) -> None:
        self.events: queue.Queue[dict] = queue.Queue()
        self.last_seq = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._run(url),), daemon=True
        )
        self._thread.start()
        assert self._ready.wait(10), "citizen socket did not connect"

    async def _run(self, url: str) -> None:
        async with websockets.connect(url) as socket:
            self._socket = socket
            self._ready.set()
            with contextlib.suppress(websockets.exceptions.ConnectionClosed):
                async for raw in socket:
                    event = json.loads(raw)
                    if event.get("type") == "message":
                        self.last_seq = max(self.last_seq, event["message"]["seq"])
                    self.events.put(event)

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 20) -> dict:
        while True:
            event = self.events.get(timeout=timeout)
            if predicate(event):
                return event

    def close(self) -> None:
        if self._thread.is_alive():  # else the server already closed it (a restart)
            closing = asyncio.run_coroutine_threadsafe(self._socket.close(), self._loop)
            # websockets 15 waits for the server's side of the closing handshake, which a
            # socket that lived through a gateway restart may never get; the thread is a
            # daemon and everything the test checks was checked before this.
            with contextlib.suppress(TimeoutError):
                closing.result(10)
        self._thread.join(10)


def sign_in(page: Page, base_url: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{base_url}/staff")
    expect(page).to_have_url(f"{base_url}/staff/login")
    page.get_by_label("Brugernavn").fill("anna")
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()


def test_wrong_password_is_told_in_the_page(page: Page, stack: Any) -> None:
    sign_in(page, stack.url, password="forkert-kodeord")
    expect(page.get_by_role("alert")).to_have_text("Forkert brugernavn eller adgangskode.")
    expect(page).to_have_url(f"{stack.url}/staff/login")


def test_staff_answers_a_chat_in_the_console(page: Page, stack: Any) -> None:
    base = stack.url
    sign_in(page, base)
    expect(page).to_have_url(f"{base}/staff")
    expect(page.locator("#connection")).to_have_text("Forbundet")
    expect(page.locator("#me-name")).to_have_text("Anna Holm")

    # A citizen asks the bot something, then asks for a person.
    session = uuid.uuid4().hex
    stack.chat(session, "Hvordan fornyer jeg mit kørekort?")
    ws_base = base.replace("http", "ws", 1)
    citizen = CitizenSocket(f"{ws_base}/api/ws/{session}?after=2")
    try:
        queued = stack.chat(session, "kan jeg tale med en medarbejder")
        assert queued["handoff"]["state"] == "queued"
        ticket_id = queued["handoff"]["ticket_id"]

        # The console rings: a visual notice, and the chat in the queue with its topic.
        expect(page.locator("#notice")).to_contain_text("Ny chat i køen – Kørekort")
        item = page.locator(f'button[data-ticket-id="{ticket_id}"]')
        expect(item).to_contain_text("Kørekort")
        expect(item).to_contain_text("venter")
        expect(page).to_have_title("(1) Medarbejderkonsol – Borgerservice-assistenten")

        item.click()
        transcript = page.get_by_role("log")
        expect(transcript).to_contain_text("Hvordan fornyer jeg mit kørekort?")
        expect(transcript).to_contain_text("Du er nummer 1 i køen")
        # What the citizen asked about, in words: topic and article title, no intent names.
        summary = page.locator("#summary")
        expect(summary).to_contain_text("Spurgte omKørekort")
        expect(summary).to_contain_text("Viste svarForny dit kørekort")
        expect(summary).to_contain_text("Sidste artikel: Forny dit kørekort")
        expect(summary).not_to_contain_text("ask_")
        page.get_by_role("button", name="Tag samtalen").click()
        expect(page.get_by_label("Svar til borgeren")).to_be_visible()
        citizen.wait_for(lambda e: e.get("type") == "handoff"
                         and e["handoff"]["state"] == "with_staff")

        # Staff reply reaches the citizen live.
        page.get_by_label("Svar til borgeren").fill("Hej, det er Anna. Hvad drejer det sig om?")
        page.get_by_role("button", name="Send svar").click()
        reply = citizen.wait_for(lambda e: e.get("type") == "message"
                                 and e["message"]["sender"] == "staff")
        assert reply["message"]["text"] == "Hej, det er Anna. Hvad drejer det sig om?"

        # The citizen answers; the console shows it live. Markup in it stays text.
        answer = stack.chat(session, "Mit kørekort udløber snart, og jeg er 72")
        assert answer["messages"] == [] and answer["handoff"]["staff_name"] == "Anna Holm"
        expect(transcript).to_contain_text("Mit kørekort udløber snart, og jeg er 72")
        stack.chat(session, XSS)
        expect(transcript.locator(".msg-citizen .msg-text").last).to_have_text(XSS)
        assert page.evaluate("window.__xss") is None
        assert transcript.locator("img, script").count() == 0

        # An internal note, and more requests arriving meanwhile, for the screenshot.
        page.get_by_label("Ny note (ses kun af personalet)").fill(
            "Over 70: husk helbredsattest fra lægen."
        )
        page.get_by_role("button", name="Gem note").click()
        expect(page.locator("#notes")).to_contain_text("husk helbredsattest")
        other = uuid.uuid4().hex
        stack.chat(other, "Jeg har problemer med Digital Post")
        stack.chat(other, "jeg vil gerne tale med et menneske")
        httpx.post(f"{base}/api/kiosk/call",
                   json={"session_id": uuid.uuid4().hex, "branch_id": "strandby"})
        expect(page.locator("#notice")).to_contain_text("kiosken på Strandby Bibliotek")
        expect(page.locator("#queue > li")).to_have_count(3)
        if os.environ.get("BORGER_UPDATE_SCREENSHOTS"):
            # Only on request, like the widget and kiosk tests: a test run must not dirty docs/.
            DOCS.mkdir(exist_ok=True)
            page.screenshot(path=str(DOCS / "staff-console.png"), full_page=True)

        # Accessibility of the console as staff see it.
        assert not serious_violations(page)

        # The gateway restarts mid-chat: the console reconnects and loses nothing, and the
        # citizen's new socket catches up from the last message it had.
        stack.restart("gateway")
        citizen.close()
        expect(page.locator("#connection")).to_have_text("Forbundet", timeout=30_000)
        page.get_by_label("Svar til borgeren").fill("Jeg er her stadig.")
        page.get_by_role("button", name="Send svar").click()
        citizen = CitizenSocket(f"{ws_base}/api/ws/{session}?after={citizen.last_seq}")
        missed = citizen.wait_for(lambda e: e.get("type") == "message")
        assert (missed["message"]["sender"], missed["message"]["text"]) == (
            "staff", "Jeg er her stadig."
        )
        stack.chat(session, "Er I der stadig?")
        expect(transcript).to_contain_text("Er I der stadig?")
        expect(transcript.locator(".msg-text")).to_have_count(
            len(httpx.get(f"{base}/api/conversation/{session}").json()["messages"])
        )

        # Staff hand the chat back; the citizen is told and the bot answers again.
        page.get_by_role("button", name="Giv tilbage til assistenten").click()
        citizen.wait_for(lambda e: e.get("type") == "handoff"
                         and e["handoff"]["state"] == "returned_to_bot")
        expect(transcript).to_contain_text("har givet samtalen tilbage")
        expect(page.locator(f'button[data-ticket-id="{ticket_id}"]')).to_have_count(0)
    finally:
        citizen.close()
    bot = stack.chat(session, "Hvordan fornyer jeg mit kørekort?")
    assert bot["topic"] == "koerekort" and bot["handoff"] is None
    assert "forny" in bot["messages"][0]["text"].lower()


def test_callback_tickets_are_listed_and_closed(page: Page, stack: Any) -> None:
    session = uuid.uuid4().hex
    stack.chat(session, "ring mig op")
    stack.chat(session, "Inge Hansen")
    stack.chat(session, "inge@example.dk")
    done = stack.chat(session, "Jeg skal have hjælp til at søge om ny skole til mit barn")
    ticket_id = done["handoff"]["ticket_id"]
    sign_in(page, stack.url)
    item = page.locator(f'#callbacks button[data-ticket-id="{ticket_id}"]')
    expect(item).to_contain_text("Inge Hansen")
    expect(item).to_contain_text("Åben")
    item.click()
    expect(page.locator("#ticket-meta")).to_contain_text("inge@example.dk")
    expect(page.locator("#ticket-meta")).to_contain_text("søge om ny skole")
    page.get_by_label("Resultat").select_option("callback_agreed")
    page.get_by_role("button", name="Afslut").click()
    expect(item).to_contain_text("Afsluttet")


def test_logout_ends_the_session(page: Page, stack: Any) -> None:
    sign_in(page, stack.url)
    expect(page.locator("#connection")).to_have_text("Forbundet")
    page.get_by_role("button", name="Log ud").click()
    expect(page).to_have_url(f"{stack.url}/staff/login")
    page.goto(f"{stack.url}/staff")
    expect(page).to_have_url(f"{stack.url}/staff/login")
