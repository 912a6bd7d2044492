"""The chat widget in a real browser (headless Debian chromium) against the real assistant.

A tiny "library website" on another origin embeds the widget with one script tag, so every
test also proves cross-origin embedding (CORS allow-list) works. One browser for the module,
a fresh context (empty sessionStorage) per test.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot.db.models import ChatMessage
from bot.db.session import session_scope
from bot.db.transcripts import add_message
from tests.fixtures_browser import DOCS, TIMEOUT, serious_violations
from tests.fixtures_live import free_port

pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
]
# A light custom colour on purpose: the widget must still keep every text at >= 4.5:1.
HOST_COLOR = "#ffcc00"
HOST_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1><p><a href="{other}">Gå til {other}</a></p></main>
<script src="{gateway}/widget.js" data-gateway="{gateway}" data-color="{color}" defer></script>
</body></html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@pytest.fixture(scope="module")
def host_site(live, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another origin that embeds the widget; the gateway is restarted to allow it."""
    root = tmp_path_factory.mktemp("host-site")
    for name, title, other in (
        ("index.html", "Kildeby Kommune", "andet.html"),
        ("andet.html", "Kildeby Kommune – en anden side", "index.html"),
    ):
        page = HOST_PAGE.format(title=title, other=other, gateway=live.url, color=HOST_COLOR)
        (root / name).write_text(page, encoding="utf-8")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    server = ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    previous = os.environ.get("BORGER_ALLOWED_ORIGINS")
    os.environ["BORGER_ALLOWED_ORIGINS"] = origin
    try:
        live.restart("gateway")
        yield origin
    finally:
        server.shutdown()
        if previous is None:
            os.environ.pop("BORGER_ALLOWED_ORIGINS", None)
        else:
            os.environ["BORGER_ALLOWED_ORIGINS"] = previous


# --- helpers --------------------------------------------------------------------------------


def open_widget(page: Page) -> None:
    page.get_by_role("button", name="Spørg biblioteket").click()
    expect(page.get_by_role("dialog", name="Digital hjælp")).to_be_visible()
    expect(page.locator(".bc-bot").first).to_contain_text("digitale assistent")


def ask(page: Page, text: str) -> None:
    before = page.locator(".bc-bot").count()
    page.get_by_role("textbox", name="Skriv dit spørgsmål").fill(text)
    page.get_by_role("textbox", name="Skriv dit spørgsmål").press("Enter")
    expect(page.locator(".bc-bot")).to_have_count(before + 1, timeout=TIMEOUT)
    idle(page)


def idle(page: Page) -> None:
    """The turn is over (the answer may show a moment before the request completes)."""
    expect(page.locator(".bc-send")).to_have_attribute("aria-disabled", "false")


def focused(page: Page) -> dict:
    """What has focus, looking into the widget's shadow root."""
    return page.evaluate(
        """() => {
          let el = document.activeElement;
          while (el && el.shadowRoot && el.shadowRoot.activeElement) {
            el = el.shadowRoot.activeElement;
          }
          const style = getComputedStyle(el);
          return {tag: el.tagName, cls: el.className || "", text: el.textContent.trim(),
                  label: el.getAttribute("aria-label") || "",
                  outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
        }"""
    )


def session_id(page: Page) -> str:
    return page.evaluate("JSON.parse(sessionStorage.getItem('borgerchat')).id")


def transcript(live, session: str) -> list[dict]:
    return httpx.get(f"{live.url}/api/conversation/{session}").json()["messages"]


# --- tests ---------------------------------------------------------------------------------


def test_embedded_widget_answers_a_question_with_a_link(live, host_site, page: Page) -> None:
    page.goto(host_site)
    assert not host_site.startswith(live.url)  # really another origin
    open_widget(page)
    assert focused(page)["tag"] == "INPUT"  # focus moved into the dialog
    # Watch the typing indicator: it must show while the assistant works.
    page.evaluate(
        """() => {
          const typing = document.querySelector('.borgerchat-host').shadowRoot
            .querySelector('.bc-typing');
          window.__typingSeen = false;
          new MutationObserver(() => { if (!typing.hidden) window.__typingSeen = true; })
            .observe(typing, {attributes: true});
        }"""
    )
    ask(page, "Hvordan fornyer jeg mit kørekort?")
    answer = page.locator(".bc-bot").last
    expect(answer).to_contain_text("forny")
    link = answer.locator("a").first
    assert link.get_attribute("href").startswith("https://")
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel")
    assert page.evaluate("window.__typingSeen") is True
    expect(page.locator(".bc-typing")).to_be_hidden()
    expect(page.locator(".bc-citizen")).to_have_text(re.compile("Hvordan fornyer jeg"))


def test_button_click_sends_once_even_when_double_clicked(live, host_site, page: Page) -> None:
    page.goto(host_site)
    open_widget(page)
    page.locator(".bc-choice", has_text="Kørekort").dblclick()
    expect(page.locator(".bc-bot")).to_have_count(2)
    expect(page.locator(".bc-citizen .bc-bubble")).to_have_text(["Kørekort"])
    page.wait_for_timeout(500)  # a second turn would have arrived by now
    citizen = [m["text"] for m in transcript(live, session_id(page)) if m["sender"] == "citizen"]
    assert citizen == ["Kørekort"]  # once, and stored with the button's title


def test_reload_and_navigation_keep_the_conversation(live, host_site, page: Page) -> None:
    page.goto(host_site)
    open_widget(page)
    ask(page, "Hvordan fornyer jeg mit kørekort?")
    texts = page.locator(".bc-msg").all_inner_texts()
    session = session_id(page)

    page.reload()
    expect(page.get_by_role("dialog", name="Digital hjælp")).to_be_visible()  # reopened
    expect(page.locator(".bc-msg")).to_have_count(len(texts))
    assert page.locator(".bc-msg").all_inner_texts() == texts
    assert page.locator(".bc-msg").first.locator(".bc-feedback").count() == 0  # welcome

    page.get_by_role("link", name="Gå til andet.html").click()
    page.wait_for_url("**/andet.html")
    expect(page.locator(".bc-msg")).to_have_count(len(texts))
    assert session_id(page) == session
    ask(page, "Jeg har mistet min telefon med MitID")
    assert [m["seq"] for m in transcript(live, session)] == [1, 2, 3, 4, 5]


def test_keyboard_only(live, host_site, page: Page) -> None:
    page.goto(host_site)
    for _ in range(6):
        page.keyboard.press("Tab")
        if focused(page)["text"].startswith("Spørg biblioteket"):
            break
    launcher = focused(page)
    assert launcher["text"].startswith("Spørg biblioteket")
    assert launcher["outline"] != "none" and launcher["outlineWidth"] >= 2  # visible focus

    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Digital hjælp")).to_be_visible()
    assert focused(page)["tag"] == "INPUT"
    page.keyboard.type("Hvordan fornyer jeg mit kørekort?")
    page.keyboard.press("Enter")
    expect(page.locator(".bc-bot")).to_have_count(2)
    idle(page)

    # Tab from the close button into the conversation until the welcome's "MitID" button.
    page.get_by_role("button", name="Luk chatten").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if focused(page)["text"] == "MitID":
            break
    assert focused(page)["text"] == "MitID"
    assert focused(page)["outlineWidth"] >= 2
    page.keyboard.press("Space")
    expect(page.locator(".bc-bot")).to_have_count(3)
    expect(page.locator(".bc-citizen").last).to_contain_text("MitID")

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Digital hjælp")).to_be_hidden()
    assert focused(page)["text"].startswith("Spørg biblioteket")  # focus is back


def test_demo_page_with_open_widget_has_no_serious_axe_violations(live, page: Page) -> None:
    page.goto(live.url + "/")
    expect(page.get_by_role("heading", name="Få hjælp til det digitale")).to_be_visible()
    open_widget(page)
    ask(page, "Hvordan fornyer jeg mit kørekort?")
    page.locator(".bc-thumb").first.click()
    expect(page.locator(".bc-thanks").first).to_have_text("Tak for din vurdering.")
    assert serious_violations(page) == []
    if os.environ.get("BORGER_UPDATE_SCREENSHOTS"):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator(".bc-citizen").last.evaluate(
            "el => el.parentElement.scrollTop = el.offsetTop - 12"
        )
        page.screenshot(path=str(DOCS / "widget.png"))


def test_light_custom_colour_keeps_contrast_and_axe_clean(host_site, page: Page) -> None:
    page.goto(host_site)
    open_widget(page)
    ask(page, "Hvordan fornyer jeg mit kørekort?")
    ratios = page.evaluate(
        """() => {
          const host = document.querySelector('.borgerchat-host');
          const v = (name) => host.style.getPropertyValue(name);
          const c = window.BorgerChat.contrast;
          return {onAccent: c(v('--bc-accent'), v('--bc-on-accent')),
                  inkOnWhite: c(v('--bc-ink'), '#ffffff'),
                  inkOnBubble: c(v('--bc-ink'), '#eef1f4')};
        }"""
    )
    assert min(ratios.values()) >= 4.5, ratios
    assert serious_violations(page) == []


def test_text_resizes_to_200_percent(live, page: Page) -> None:
    page.goto(live.url + "/")
    open_widget(page)

    def measure() -> dict:
        return page.evaluate(
            """() => {
              const root = document.querySelector('.borgerchat-host').shadowRoot;
              const input = root.querySelector('.bc-input');
              const panel = root.querySelector('.bc-panel');
              const send = root.querySelector('.bc-send').getBoundingClientRect();
              return {font: parseFloat(getComputedStyle(input).fontSize),
                      overflow: panel.scrollWidth - panel.clientWidth,
                      sendVisible: send.right <= innerWidth && send.bottom <= innerHeight};
            }"""
        )

    normal = measure()
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    large = measure()
    assert large["font"] >= 1.95 * normal["font"]
    assert large["overflow"] <= 1 and large["sendVisible"]
    ask(page, "Hvordan fornyer jeg mit kørekort?")  # still usable


def test_html_stays_text_and_rejections_show_the_reason(live, host_site, page: Page) -> None:
    page.goto(host_site)
    open_widget(page)
    payload = '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>'
    ask(page, payload)
    expect(page.locator(".bc-citizen .bc-bubble")).to_have_text(payload)
    assert page.evaluate("window.__xss") is None
    assert page.locator(".bc-citizen img, .bc-citizen script").count() == 0

    box = page.get_by_role("textbox", name="Skriv dit spørgsmål")
    box.fill("x" * 2500)
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("for lang")
    assert box.input_value() == "x" * 2500  # kept, so it can be shortened
    box.fill("   ")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Skriv dit spørgsmål")


def test_thumbs_store_feedback_on_the_bot_message(live, host_site, page: Page) -> None:
    page.goto(host_site)
    open_widget(page)
    ask(page, "Hvordan fornyer jeg mit kørekort?")
    answer = page.locator(".bc-bot").last
    seq = int(answer.get_attribute("data-seq"))
    answer.get_by_role("button", name="Nej, svaret hjalp ikke").click()
    expect(answer.get_by_role("button", name="Nej, svaret hjalp ikke")).to_have_attribute(
        "aria-pressed", "true"
    )
    with session_scope(live.settings.database_url) as session:
        message = session.query(ChatMessage).filter_by(
            conversation_id=session_id(page), seq=seq
        ).one()
        assert message.sender == "bot"
        assert message.payload["feedback"] == "down"


def test_handoff_events_and_staff_messages(live, host_site, page: Page) -> None:
    sockets = []

    def route(ws) -> None:
        ws.connect_to_server()  # pass everything through; the test adds staff events
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/api/ws/"), route)
    cancels: list[dict] = []

    def cancel(route) -> None:
        cors = {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type",
        }
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
            return
        cancels.append(json.loads(route.request.post_data or "{}"))
        route.fulfill(status=200, headers=cors, json={"state": "returned_to_bot"})

    page.route(re.compile(r"/api/handoff/cancel$"), cancel)
    page.goto(host_site)
    open_widget(page)
    ask(page, "kan jeg tale med en medarbejder")
    assert sockets

    def push(event: dict) -> None:
        sockets[-1].send(json.dumps(event))

    push({"type": "handoff", "handoff": {"state": "queued", "position": 2,
                                          "estimated_wait_minutes": 4}})
    banner = page.locator(".bc-handoff")
    expect(banner).to_contain_text("nummer 2 i køen")
    expect(banner).to_contain_text("ca. 4 minutter")
    banner.get_by_role("button", name="Annuller køen til en medarbejder").click()
    expect(banner).to_be_hidden()
    expect(page.locator(".bc-note")).to_contain_text("digitale assistent")
    assert cancels == [{"session_id": session_id(page)}]

    push({"type": "handoff", "handoff": {"state": "with_staff", "staff_name": "Anna"}})
    expect(banner).to_contain_text("Du skriver nu med Anna")
    seq = int(page.locator(".bc-msg[data-seq]").last.get_attribute("data-seq")) + 1
    push({"type": "message", "message": {
        "seq": seq, "sender": "staff", "text": "Hej, det er Anna. <b>Hvad</b> kan jeg gøre?",
        "buttons": [], "created_at": None}})
    staff = page.locator(".bc-staff")
    expect(staff.locator(".bc-who")).to_have_text("Anna, medarbejder")
    expect(staff.locator(".bc-bubble")).to_have_text("Hej, det er Anna. <b>Hvad</b> kan jeg gøre?")


def test_gateway_restart_reconnects_and_catches_up(live, host_site, page: Page) -> None:
    page.goto(host_site)
    open_widget(page)
    ask(page, "hej")
    session = session_id(page)
    started = time.monotonic()
    live.stack.stop_one("gateway")
    try:
        expect(page.locator(".bc-notice")).to_contain_text("afbrudt")
        with session_scope(live.settings.database_url) as db:
            add_message(db, session, "staff", "Hej, det er Anna fra biblioteket.")
    finally:
        live.stack.start(only=("gateway",))
        live.stack.wait_healthy()
    # Caught up from the last seq after reconnecting (backoff is at most 10 s).
    expect(page.locator(".bc-staff .bc-bubble")).to_have_text(
        "Hej, det er Anna fra biblioteket.", timeout=30_000
    )
    expect(page.locator(".bc-notice")).not_to_contain_text("afbrudt")
    assert time.monotonic() - started < 45
    ask(page, "Hvordan fornyer jeg mit kørekort?")


def test_slet_samtalen_deletes_it_on_the_server(live, host_site: str, page: Page) -> None:
    page.goto(f"{host_site}/index.html")
    open_widget(page)
    ask(page, "Hvordan fornyer jeg mit kørekort?")
    session = session_id(page)
    assert transcript(live, session)
    page.get_by_role("button", name="Slet samtalen").click()
    expect(page.get_by_text("Vil du slette hele samtalen?")).to_be_visible()
    assert not serious_violations(page)
    page.get_by_role("button", name="Ja, slet samtalen").click()
    expect(page.locator(".bc-note")).to_contain_text("Samtalen er slettet")
    expect(page.locator(".bc-citizen")).to_have_count(0)
    assert httpx.get(f"{live.url}/api/conversation/{session}").status_code == 409
    # A new conversation starts with a new id.
    ask(page, "hej")
    assert session_id(page) != session


def test_legal_pages_are_linked_and_accessible(live, host_site: str, page: Page) -> None:
    page.goto(f"{host_site}/index.html")
    open_widget(page)
    for name, path, heading in (
        ("Sådan behandler vi dine oplysninger", "/privatliv", "Sådan behandler vi"),
        ("Tilgængelighedserklæring", "/tilgaengelighed", "Tilgængelighedserklæring"),
    ):
        link = page.get_by_role("link", name=re.compile(name))
        expect(link).to_have_attribute("href", f"{live.url}{path}")
        with page.context.expect_page() as opened:
            link.click()
        legal = opened.value
        expect(legal.get_by_role("heading", level=1)).to_contain_text(heading)
        assert not serious_violations(legal), path
        legal.close()
    page.goto(live.url + "/")
    expect(page.get_by_role("link", name="Tilgængelighedserklæring")).to_be_visible()
