"""The foyer kiosk in a real browser (headless Debian chromium) against the real assistant.

Tiles, large touch targets, the inactivity warning and reset (the server session is closed and
nothing stays in the browser), "Start forfra", "Kald en medarbejder", booking references shown
large, and axe-core. Idle timings come from the page's query string, a few seconds here.
"""

from __future__ import annotations

import json
import os
import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot.db.models import Conversation
from bot.db.session import session_scope
from tests.fixtures_browser import DOCS, serious_violations

pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
]
BRANCH = "hovedbiblioteket"
TILES = ["MitID", "Flytning", "Kørekort", "Skole og dagtilbud", "Book it-hjælp", "Kurser"]


def open_kiosk(live, page: Page, warn: float = 60, reset: float = 120) -> None:
    page.goto(f"{live.url}/kiosk?branch={BRANCH}&idle_warn={warn}&idle_reset={reset}")
    expect(page.locator(".k-tile")).to_have_count(len(TILES))


def tap_tile(page: Page, title: str) -> None:
    before = page.locator(".bc-bot").count()
    page.locator(".k-tile", has_text=title).click()
    expect(page.locator(".bc-bot")).to_have_count(before + 1)
    expect(page.locator(".bc-send")).to_have_attribute("aria-disabled", "false")  # turn over


def kiosk_session(page: Page) -> str | None:
    return page.evaluate(
        "(JSON.parse(sessionStorage.getItem('borgerkiosk') || 'null') || {}).id || null"
    )


def storage_sizes(page: Page) -> list[int]:
    return page.evaluate("[sessionStorage.length, localStorage.length]")


def conversation_state(live, session_id: str) -> str | None:
    with session_scope(live.settings.database_url) as session:
        conversation = session.get(Conversation, session_id)
        return conversation.state if conversation else None


def wait_for_state(live, session_id: str, state: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while conversation_state(live, session_id) != state:
        assert time.monotonic() < deadline, conversation_state(live, session_id)
        time.sleep(0.1)


def text_size(page: Page) -> float:
    return page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.bc-bubble')).fontSize)"
    )


# --- tests ---------------------------------------------------------------------------------


def test_tiles_up_front_large_targets_and_an_answer(live, page: Page) -> None:
    open_kiosk(live, page)
    expect(page.locator(".k-tile .k-tile-title")).to_have_text(TILES)
    expect(page.get_by_role("button", name="Start forfra")).to_be_visible()
    expect(page.get_by_role("button", name="Kald en medarbejder")).to_be_visible()
    for target in [*page.locator(".k-tile").all(), page.locator("#k-restart"),
                   page.locator("#k-call"), page.locator(".bc-send")]:
        box = target.bounding_box()
        assert box["height"] >= 64 and box["width"] >= 64, box  # well above 44 px
    assert text_size(page) >= 22
    assert storage_sizes(page) == [0, 0]  # nothing stored before anyone touches it

    tap_tile(page, "Kørekort")
    # The tile shows what it covers; a choice gives the answer.
    page.get_by_role("button", name="Forny dit kørekort").click()
    answer = page.locator(".bc-bot").last
    expect(answer).to_contain_text("kørekort")
    # At the kiosk a web address is written out, not a link that would open a new tab.
    expect(answer.locator(".bc-url")).to_contain_text("https://")
    assert answer.locator("a").count() == 0
    expect(page.locator(".bc-citizen .bc-bubble")).to_have_text(
        ["Kørekort", "Forny dit kørekort"]
    )
    assert conversation_state(live, kiosk_session(page)) == "bot"


def test_idle_warning_then_reset_clears_screen_server_and_browser(live, page: Page) -> None:
    open_kiosk(live, page, warn=1.5, reset=3.5)
    tap_tile(page, "MitID")
    page.get_by_role("textbox", name="Skriv dit spørgsmål").fill("et halvt spørgsmål")
    dialog = page.get_by_role("alertdialog", name="Er du der stadig?")
    expect(dialog).to_be_visible(timeout=5000)
    expect(dialog.get_by_role("button", name="Ja, fortsæt")).to_be_focused()
    dialog.get_by_role("button", name="Ja, fortsæt").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".bc-citizen")).to_have_count(1)  # the conversation is still there

    first = kiosk_session(page)
    expect(dialog).to_be_visible(timeout=5000)
    # Nobody answers: the screen is cleared and everything forgotten.
    expect(page.locator(".bc-citizen")).to_have_count(0, timeout=5000)
    expect(dialog).to_be_hidden()
    expect(page.locator(".k-tile")).to_have_count(len(TILES))
    expect(page.get_by_role("textbox", name="Skriv dit spørgsmål")).to_have_value("")
    expect(page.locator(".bc-bot")).to_have_count(1)  # only a fresh welcome
    assert storage_sizes(page) == [0, 0]
    wait_for_state(live, first, "closed")
    tracker = httpx.get(
        f"{live.settings.rasa_url}/conversations/{first}/tracker",
        params={"token": live.settings.rasa_token, "include_events": "ALL"},
    ).json()
    assert tracker["events"][-1]["event"] == "restart"

    tap_tile(page, "Flytning")  # the next person gets a new session
    second = kiosk_session(page)
    assert second and second != first
    assert conversation_state(live, second) == "bot"


def test_start_forfra_clears_at_once(live, page: Page) -> None:
    open_kiosk(live, page)
    tap_tile(page, "Kurser")
    session = kiosk_session(page)
    page.get_by_role("button", name="Start forfra").click()
    expect(page.locator(".bc-citizen")).to_have_count(0)
    assert storage_sizes(page) == [0, 0]
    wait_for_state(live, session, "closed")
    expect(page.get_by_role("heading", name="Hvad vil du have hjælp til?")).to_be_focused()


def test_call_staff_reaches_the_staff_side(live, page: Page) -> None:
    from bot.db.models import HandoffTicket, local_now
    from bot.services.library import is_staffed_open, load_library

    open_kiosk(live, page)
    with page.expect_response(re.compile(r"/api/kiosk/call$")) as response_info:
        page.get_by_role("button", name="Kald en medarbejder").click()
    response = response_info.value
    message = response.json().get("message")
    expect(page.locator("#k-call-status")).to_have_text(message)
    session = kiosk_session(page)
    with session_scope(live.settings.database_url) as db:
        tickets = db.query(HandoffTicket).filter_by(conversation_id=session, kind="kiosk").all()
        staffed = is_staffed_open(local_now(), BRANCH, load_library())
        assert bool(tickets) == staffed  # queued for staff while they are in the building
        assert db.get(Conversation, session).branch_id == BRANCH


def test_call_staff_falls_back_to_a_clear_message_when_it_fails(live, page: Page) -> None:
    page.route(re.compile(r"/api/kiosk/call$"), lambda route: route.fulfill(status=500, body=""))
    open_kiosk(live, page)
    page.get_by_role("button", name="Kald en medarbejder").click()
    status = page.locator("#k-call-status")
    expect(status).to_contain_text("Gå hen til skranken")
    expect(status).to_contain_text("70 20 30 40")


def test_booking_reference_is_shown_large_and_axe_is_clean(live, page: Page) -> None:
    sockets = []

    def route(ws) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/api/ws/"), route)
    open_kiosk(live, page)
    assert serious_violations(page) == []  # the start screen
    tap_tile(page, "Book it-hjælp")
    seq = int(page.locator(".bc-msg[data-seq]").last.get_attribute("data-seq")) + 1
    confirmation = (
        "Din tid er booket: torsdag 3. december kl. 10.00 på Hovedbiblioteket. "
        "Dit bookingnummer er KQ7-X4M. Husk det, hvis du vil aflyse."
    )
    sockets[-1].send(json.dumps({"type": "message", "message": {
        "seq": seq, "sender": "bot", "text": confirmation, "buttons": [], "created_at": None}}))
    code = page.locator(".bc-refcode")
    expect(code).to_have_text("KQ7-X4M")
    size = code.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 2.5 * text_size(page)
    expect(page.locator(".bc-refbox")).to_contain_text("tag et billede")
    assert serious_violations(page) == []  # with a conversation and the reference
    if os.environ.get("BORGER_UPDATE_SCREENSHOTS"):
        page.screenshot(path=str(DOCS / "kiosk.png"))


def test_idle_warning_dialog_is_accessible(live, page: Page) -> None:
    open_kiosk(live, page, warn=1, reset=30)
    page.get_by_role("textbox", name="Skriv dit spørgsmål").fill("hej")
    expect(page.get_by_role("alertdialog", name="Er du der stadig?")).to_be_visible(timeout=5000)
    page.keyboard.press("Tab")  # focus stays in the dialog
    expect(page.get_by_role("button", name="Ja, fortsæt")).to_be_focused()
    assert serious_violations(page) == []
    page.keyboard.press("Enter")
    expect(page.get_by_role("alertdialog")).to_be_hidden()
    expect(page.get_by_role("textbox", name="Skriv dit spørgsmål")).to_have_value("hej")


def test_slet_samtalen_at_the_kiosk_deletes_and_clears(live, page: Page) -> None:
    open_kiosk(live, page)
    tap_tile(page, "Kurser")
    session = kiosk_session(page)
    page.get_by_role("button", name="Slet samtalen").click()
    page.get_by_role("button", name="Ja, slet samtalen").click()
    expect(page.locator("#k-call-status")).to_contain_text("Samtalen er slettet")
    expect(page.locator(".bc-citizen")).to_have_count(0)
    assert storage_sizes(page) == [0, 0]
    with session_scope(live.settings.database_url) as db:
        conversation = db.get(Conversation, session)
        assert conversation.ended_at is not None and conversation.messages == []
    # The legal pages open in the kiosk window, with a way back to the screen.
    page.get_by_role("link", name="Sådan behandler vi dine oplysninger").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sådan behandler vi")
    assert not serious_violations(page)
    page.get_by_role("link", name="Tilbage til skærmen").click()
    expect(page.get_by_role("heading", name="Hvad vil du have hjælp til?")).to_be_visible()
