"""The citizen API around the widget and kiosk, against the real assistant.

Widget assets, the kiosk page, CORS, the welcome stored at session start, feedback on bot
answers, and ending a session (conversation closed, Rasa tracker reset).
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from bot.db.models import ChatMessage, Conversation
from bot.db.session import session_scope
from bot.gateway.routes.citizen import topic_buttons

pytestmark = pytest.mark.live


def new_session() -> str:
    return uuid.uuid4().hex


def post(live, path: str, body) -> httpx.Response:
    if isinstance(body, (bytes, str)):
        return httpx.post(
            f"{live.url}{path}", content=body, headers={"Content-Type": "application/json"}
        )
    return httpx.post(f"{live.url}{path}", json=body, timeout=60)


def stored(live, session_id: str, seq: int) -> ChatMessage:
    with session_scope(live.settings.database_url) as session:
        message = (
            session.query(ChatMessage)
            .filter_by(conversation_id=session_id, seq=seq)
            .one()
        )
        session.expunge(message)
        return message


def conversation_state(live, session_id: str) -> str | None:
    with session_scope(live.settings.database_url) as session:
        conversation = session.get(Conversation, session_id)
        return conversation.state if conversation else None


# --- assets and pages ----------------------------------------------------------------------


def test_widget_assets_are_served_with_their_content_types(live) -> None:
    js = httpx.get(f"{live.url}/widget.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    # Messages are rendered as text nodes only: no HTML parsing anywhere in the widget.
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", js.text)
    css = httpx.get(f"{live.url}/widget.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_demo_page_embeds_the_widget_with_one_script_tag(live) -> None:
    page = httpx.get(f"{live.url}/").text
    assert "Kildeby Bibliotekerne" in page
    assert page.count("<script") == 1
    assert 'src="/widget.js"' in page


def test_kiosk_page_carries_branch_and_idle_timings(live) -> None:
    response = httpx.get(f"{live.url}/kiosk?branch=hovedbiblioteket&idle_warn=5&idle_reset=9")
    assert response.status_code == 200
    assert "Hovedbiblioteket" in response.text
    assert '"idleWarnSeconds": 5.0' in response.text
    assert '"idleResetSeconds": 9.0' in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    default = httpx.get(f"{live.url}/kiosk?branch=nord").text
    assert '"idleWarnSeconds": 90.0' in default and '"idleResetSeconds": 120.0' in default


def test_unknown_kiosk_branch_lists_the_real_ones(live) -> None:
    response = httpx.get(f"{live.url}/kiosk?branch=atlantis")
    assert response.status_code == 404
    assert "/kiosk?branch=hovedbiblioteket" in response.text


# --- CORS ---------------------------------------------------------------------------------


def test_cors_allows_the_gateways_own_origin_and_no_stranger(live) -> None:
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    own = f"http://localhost:{live.settings.gateway_port}"
    ok = httpx.options(f"{live.url}/api/chat", headers={"Origin": own, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == own
    evil = httpx.options(
        f"{live.url}/api/chat", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in evil.headers
    plain = httpx.get(f"{live.url}/api/widget/config", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


# --- welcome and session start -----------------------------------------------------------


def test_widget_config_offers_the_topics_with_a_fallback_for_booking(live) -> None:
    config = httpx.get(f"{live.url}/api/widget/config").json()
    titles = [b["title"] for b in config["welcome"]["buttons"]]
    assert titles == [
        "MitID", "Flytning", "Kørekort", "Skole og dagtilbud", "Book it-hjælp", "Kurser",
        "Tal med en medarbejder",
    ]
    booking = config["welcome"]["buttons"][4]["payload"]
    assert booking in ("/book_it_help", "/ask_it_help")
    kiosk = httpx.get(f"{live.url}/api/widget/config?channel=kiosk").json()
    assert "Tal med en medarbejder" not in [b["title"] for b in kiosk["welcome"]["buttons"]]


def test_topic_buttons_fall_back_only_when_the_model_lacks_the_intent() -> None:
    payloads = {b["payload"] for b in topic_buttons({"book_it_help"})}
    assert "/book_it_help" in payloads
    assert "/ask_it_help" in {b["payload"] for b in topic_buttons({"ask_mitid"})}


def test_session_start_stores_the_welcome_once_and_button_titles_resolve(live) -> None:
    session = new_session()
    first = post(live, "/api/session/start", {"session_id": session})
    assert first.status_code == 200
    assert [m["seq"] for m in first.json()["messages"]] == [1]
    again = post(live, "/api/session/start", {"session_id": session})
    assert again.json()["messages"] == []
    live.chat(session, "/ask_koerekort")
    messages = httpx.get(f"{live.url}/api/conversation/{session}").json()["messages"]
    assert messages[1]["sender"] == "citizen"
    assert messages[1]["text"] == "Kørekort"  # the welcome's button title, not the payload


def test_kiosk_session_start_records_channel_and_branch(live) -> None:
    session = new_session()
    body = {"session_id": session, "channel": "kiosk", "branch_id": "hovedbiblioteket"}
    assert post(live, "/api/session/start", body).status_code == 200
    with session_scope(live.settings.database_url) as db:
        conversation = db.get(Conversation, session)
        assert (conversation.channel, conversation.branch_id) == ("kiosk", "hovedbiblioteket")
    bad = post(live, "/api/session/start", {**body, "branch_id": "atlantis"})
    assert bad.status_code == 422
    assert "Filialen" in bad.json()["detail"]


# --- feedback ------------------------------------------------------------------------------


def test_feedback_is_stored_on_the_bot_message_and_can_be_changed(live) -> None:
    session = new_session()
    live.chat(session, "Hvordan fornyer jeg mit kørekort?")
    response = post(live, "/api/feedback", {"session_id": session, "seq": 2, "rating": "up"})
    assert response.status_code == 200, response.text
    message = stored(live, session, 2)
    assert message.payload["feedback"] == "up"
    assert message.payload["buttons"]  # the rest of the payload is kept
    post(live, "/api/feedback", {"session_id": session, "seq": 2, "rating": "down"})
    assert stored(live, session, 2).payload["feedback"] == "down"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"seq": 1, "rating": "up"}, 422, "Du kan kun bedømme assistentens svar"),
        ({"seq": 99, "rating": "up"}, 404, "findes ikke"),
        ({"seq": 2, "rating": "meh"}, 422, "rating"),
        ({"seq": "2", "rating": "up"}, 422, "seq"),
        ({"seq": 2, "rating": "up", "session_id": "no such/session"}, 422, "session_id"),
        ({"seq": 2, "rating": "up", "session_id": "someone-else-0123456789"}, 404, "findes ikke"),
    ],
)
def test_feedback_rejections_are_explained_in_danish(
    live, body: dict, status: int, words: str
) -> None:
    session = new_session()
    live.chat(session, "hej")  # seq 1 citizen, seq 2 bot
    response = post(live, "/api/feedback", {"session_id": session, **body})
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_feedback_with_broken_json_is_a_400(live) -> None:
    response = post(live, "/api/feedback", b"{nope")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


# --- ending a session ---------------------------------------------------------------------


def test_session_end_closes_the_conversation_and_resets_rasa(live) -> None:
    session = new_session()
    live.chat(session, "Hvordan fornyer jeg mit kørekort?")
    tracker_url = f"{live.settings.rasa_url}/conversations/{session}/tracker"
    auth = {"token": live.settings.rasa_token}
    assert httpx.get(tracker_url, params=auth).json()["slots"]["topic"] == "koerekort"

    response = post(live, "/api/session/end", {"session_id": session})
    assert response.status_code == 200
    assert response.json()["assistant_reset"] is True
    assert conversation_state(live, session) == "closed"
    tracker = httpx.get(tracker_url, params={**auth, "include_events": "ALL"}).json()
    assert tracker["events"][-1]["event"] == "restart"
    assert tracker["slots"]["topic"] is None
    # A closed conversation is not restarted by the widget: it must begin a new one.
    assert post(live, "/api/session/start", {"session_id": session}).status_code == 409


def test_ending_an_unknown_session_is_a_404(live) -> None:
    response = post(live, "/api/session/end", {"session_id": new_session()})
    assert response.status_code == 404
    assert "findes ikke" in response.json()["detail"]
