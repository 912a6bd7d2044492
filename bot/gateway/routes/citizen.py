"""The citizen's side of the gateway, in one router: the chat, the widget and kiosk pages and
their small APIs.

- ``POST /api/chat``, ``GET /api/conversation/{session_id}`` and the WebSocket
  ``/api/ws/{session_id}``: the chat itself (DESIGN.md, "Chat API");
- ``POST /api/handoff/cancel`` (leave the staff queue), ``POST /api/kiosk/call``;
- ``/widget.js`` and ``/widget.css``: the embeddable chat widget (one ``<script>`` tag).
- ``/kiosk?branch=<id>``: the touch-screen kiosk page, with its idle timings served into it.
- ``GET /api/widget/config``: the welcome message and its topic buttons.
- ``POST /api/session/start``: creates the conversation and stores the welcome message, so the
  transcript shows what the citizen saw (and button presses are stored with their titles).
- ``POST /api/feedback``: thumbs up/down on one bot message, kept in its ``payload["feedback"]``.
- ``POST /api/session/end``: closes the conversation and resets Rasa's tracker (kiosk reset).
- ``POST /api/session/delete``: "Slet samtalen": deletes the transcript and Rasa's tracker.
- :func:`add_cors`: CORS for the citizen chat API, for the origins in BORGER_ALLOWED_ORIGINS.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.core.config import Settings
from bot.db.models import ChatMessage, Conversation, utc_now
from bot.db.session import session_scope
from bot.db.transcripts import add_message, get_or_create_conversation
from bot.gateway.chat import ENDED_STATES, ChatService
from bot.gateway.errors import GatewayError
from bot.gateway.guard import Guard
from bot.gateway.hub import STAFF_CHANNEL, Hub, citizen_channel
from bot.gateway.rasa_client import AssistantUnavailable
from bot.gateway.ratelimit import TOO_MANY_SOCKETS, RateLimited
from bot.gateway.requests import SMALL_BODY_BYTES, json_object
from bot.gateway.security import (
    CONSOLE_CSP,
    MAX_INT,
    bounded_int,
    check_session_id,
    deny,
    parse_json_object,
)
from bot.gateway.sockets import forward_events
from bot.services.library import load_library
from bot.services.privacy import delete_conversation
from bot.services.transcripts import message_to_dict, messages_after

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
router = APIRouter()

# --- welcome message and topic buttons ----------------------------------------------------

WELCOME_TEXT = {
    "web": (
        "Hej! Jeg er bibliotekets digitale assistent. Vælg et emne herunder, "
        "eller skriv dit spørgsmål med dine egne ord."
    ),
    "kiosk": (
        "Hej! Jeg er bibliotekets digitale assistent. Tryk på et emne, "
        "eller skriv dit spørgsmål med dine egne ord."
    ),
}
TOPIC_BUTTONS: tuple[tuple[str, str], ...] = (
    ("MitID", "/ask_mitid"),
    ("Flytning", "/ask_flytning"),
    ("Kørekort", "/ask_koerekort"),
    ("Skole og dagtilbud", "/ask_skole"),
    ("Book it-hjælp", "/book_it_help"),
    ("Kurser", "/ask_courses"),
    ("Tal med en medarbejder", "/request_human"),
)
# A payload whose intent the loaded model does not know yet falls back to its neighbour.
FALLBACK_PAYLOADS = {"/book_it_help": "/ask_it_help"}
# At the kiosk "Kald en medarbejder" fetches a person in the foyer instead.
KIOSK_LEFT_OUT = {"/request_human"}
CHANNELS = ("web", "kiosk")
_INTENTS_TTL_SECONDS = 60.0

# --- kiosk ----------------------------------------------------------------------------------

_KIOSK_IDLE_MAX = 3600.0
# Nothing may frame the kiosk (a framing page could read over the citizen's shoulder).
KIOSK_CSP = CONSOLE_CSP
KIOSK_NOT_SET_UP = "Denne kiosk er ikke sat op. Bed personalet om at tjekke kioskens adresse."

# --- CORS -------------------------------------------------------------------------------------

# Only the citizen chat API is readable from other origins; the staff console is not.
CORS_PATH_PREFIXES = (
    "/api/chat",
    "/api/conversation/",
    "/api/widget/",
    "/api/feedback",
    "/api/session/",
    "/api/handoff/cancel",
)


def allowed_origins(settings: Settings) -> list[str]:
    """The gateway's own origins (the demo page) plus BORGER_ALLOWED_ORIGINS.

    BORGER_ALLOWED_ORIGINS lists the library websites that embed the widget, separated by
    commas or spaces, e.g. "https://kildeby-bib.dk https://www.kildeby-bib.dk"; "*" allows
    any origin (the API has no cookies, but the allow-list keeps the chat on known sites).
    The same list is the Origin check of the citizen API and WebSocket and the CSP's
    frame-ancestors of the citizen pages.
    """
    if "*" in settings.allowed_origins:
        return ["*"]
    port = settings.gateway_port
    own = [f"http://{settings.host}:{port}", f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    return list(dict.fromkeys(own + list(settings.allowed_origins)))


class CitizenCORSMiddleware:
    """Starlette's CORSMiddleware, applied to the citizen chat API paths only."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CORS_PATH_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def add_cors(app: FastAPI, origins: list[str]) -> None:
    log.info("citizen API allows the origins %s", origins)
    app.add_middleware(CitizenCORSMiddleware, origins=origins)


# --- helpers ------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _session_id(body: dict[str, Any]) -> str:
    return check_session_id(body.get("session_id"))


def _guard(request: Request | WebSocket) -> Guard:
    return request.app.state.guard


async def _citizen_call(
    request: Request, bucket: str, *, small: bool = False
) -> tuple[dict[str, Any], str]:
    """What every citizen POST checks first: Origin, the JSON body (``small``: a few fields
    at most, as the handoff calls), the session id and the rate limit of ``bucket``;
    returns (body, session id)."""
    guard = _guard(request)
    guard.check_origin(request)
    body = await json_object(
        request, max_bytes=SMALL_BODY_BYTES if small else None, empty_is_object=small
    )
    session_id = _session_id(body)
    await guard.limit(request, bucket, session_id)
    return body, session_id


def kiosk_branch(settings: Settings, key: Any) -> str | None:
    """The branch of a kiosk key; None when kiosk keys are configured and this is not one.
    Without BORGER_KIOSK_KEYS (development, one machine) every caller may be a kiosk."""
    keys = settings.kiosk_key_map
    if not keys:
        return ""
    if not isinstance(key, str):
        return None
    for known, branch in keys.items():
        if secrets.compare_digest(known.encode(), key.encode()):
            return branch
    return None


async def _known_intents(request: Request) -> set[str] | None:
    """The model's intents, cached for a minute; None while Rasa cannot tell."""
    cached = getattr(request.app.state, "citizen_intents", None)
    if cached and time.monotonic() - cached[0] < _INTENTS_TTL_SECONDS:
        return cached[1]
    try:
        intents = await request.app.state.rasa.intents()
    except AssistantUnavailable:
        return None
    request.app.state.citizen_intents = (time.monotonic(), intents)
    return intents


def topic_buttons(intents: set[str] | None, channel: str = "web") -> list[dict[str, str]]:
    buttons = []
    for title, payload in TOPIC_BUTTONS:
        if channel == "kiosk" and payload in KIOSK_LEFT_OUT:
            continue
        if intents is not None and payload[1:] not in intents and payload in FALLBACK_PAYLOADS:
            payload = FALLBACK_PAYLOADS[payload]
        buttons.append({"title": title, "payload": payload})
    return buttons


async def _welcome(request: Request, channel: str) -> dict[str, Any]:
    intents = await _known_intents(request)
    return {"text": WELCOME_TEXT[channel], "buttons": topic_buttons(intents, channel)}


def _channel(value: Any) -> str:
    if value in (None, ""):
        return "web"
    if value not in CHANNELS:
        raise GatewayError("channel skal være 'web' eller 'kiosk'.", 422)
    return value


# --- assets and pages -----------------------------------------------------------------------


def _asset(name: str, media_type: str) -> FileResponse:
    # Short caching: library websites pick up a new widget version within minutes.
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> FileResponse:
    return _asset("widget.js", "text/javascript; charset=utf-8")


@router.get("/widget.css", include_in_schema=False)
async def widget_css() -> FileResponse:
    return _asset("widget.css", "text/css; charset=utf-8")


def _seconds(value: str | None, default: float) -> float:
    try:
        seconds = float(value) if value not in (None, "") else None
    except ValueError:
        seconds = None
    return seconds if seconds is not None and 1 <= seconds <= _KIOSK_IDLE_MAX else default


def kiosk_timing(
    idle_warn: str | None, idle_reset: str | None, settings: Settings
) -> tuple[float, float]:
    """Seconds of inactivity before the warning and before the reset: the query's (a kiosk
    set up for testing), else BORGER_KIOSK_IDLE_WARN/RESET."""
    warn = _seconds(idle_warn, settings.kiosk_idle_warn)
    reset = _seconds(idle_reset, settings.kiosk_idle_reset)
    if reset <= warn:
        reset = warn + max(10.0, warn / 3)
    return warn, reset


def _branch_chooser(
    library_name: str, branches: list[tuple[str, str]], status: int
) -> HTMLResponse:
    links = "\n".join(
        f'<li><a href="/kiosk?branch={html.escape(b_id)}">{html.escape(name)}</a></li>'
        for b_id, name in branches
    )
    page = f"""<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Vælg filial – {html.escape(library_name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Vælg filial til kiosken</h1>
<p>Filialen findes ikke. Vælg en af disse:</p><ul>{links}</ul></main></body></html>"""
    return HTMLResponse(page, status_code=status)


@router.get("/kiosk", include_in_schema=False)
async def kiosk(
    request: Request,
    branch: str = "",
    key: str | None = None,
    idle_warn: str | None = None,
    idle_reset: str | None = None,
) -> HTMLResponse:
    settings = _settings(request)
    library = load_library(settings.library_config)
    chosen = library.branch(branch)
    key_branch = kiosk_branch(settings, key)
    if key_branch is None or (key_branch and chosen is not None and key_branch != chosen.id):
        return HTMLResponse(
            f'<!doctype html><html lang="da"><head><meta charset="utf-8"><title>Kiosk</title>'
            f"</head><body><main><h1>{KIOSK_NOT_SET_UP}</h1></main></body></html>",
            status_code=403,
        )
    if chosen is None and key_branch:
        chosen = library.branch(key_branch)  # a kiosk's key says where it stands
    if chosen is None:
        choices = [(b.id, b.name) for b in library.branches]
        return _branch_chooser(library.name, choices, 404 if branch else 200)
    warn, reset = kiosk_timing(idle_warn, idle_reset, _settings(request))
    config = {
        "branchId": chosen.id,
        "branchName": chosen.name,
        "libraryName": library.name,
        "phone": library.phone,
        "idleWarnSeconds": warn,
        "idleResetSeconds": reset,
        "kioskKey": key or "",
    }
    # "<" escaped so the JSON can never close its <script> element.
    config_json = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    page = (
        (STATIC_DIR / "kiosk.html")
        .read_text(encoding="utf-8")
        .replace("__KIOSK_CONFIG__", config_json)
        .replace("__LIBRARY_NAME__", html.escape(library.name))
        .replace("__BRANCH_NAME__", html.escape(chosen.name))
    )
    return HTMLResponse(
        page, headers={"Content-Security-Policy": KIOSK_CSP, "Cache-Control": "no-store"}
    )


# --- citizen API ---------------------------------------------------------------------------


@router.get("/api/widget/config")
async def widget_config(request: Request, channel: str = "web") -> JSONResponse:
    channel = _channel(channel)
    library = load_library(_settings(request).library_config)
    return JSONResponse(
        {
            "welcome": await _welcome(request, channel),
            "max_chars": _settings(request).max_message_chars,
            "library": {"name": library.name, "phone": library.phone},
        }
    )


def _start(
    settings: Settings,
    session_id: str,
    channel: str,
    branch_id: str | None,
    welcome: dict[str, Any],
) -> list[dict[str, Any]] | None:
    """Create the conversation and store the welcome once; None if the session is closed."""
    try:
        with session_scope(settings.database_url) as session:
            conversation = get_or_create_conversation(
                session, session_id, channel=channel, branch_id=branch_id
            )
            if conversation.state == "closed":
                return None
            if branch_id and not conversation.branch_id:
                conversation.branch_id = branch_id
            has_messages = session.execute(
                select(ChatMessage.id).where(ChatMessage.conversation_id == session_id).limit(1)
            ).first()
            if has_messages:
                return []
            payload = {"buttons": welcome["buttons"], "welcome": True}
            welcome_message = add_message(session, session_id, "bot", welcome["text"], payload)
            return [message_to_dict(welcome_message)]
    except IntegrityError:
        # A second start of the same session won the race; its welcome is the one kept.
        return []


@router.post("/api/session/start")
async def start_session(request: Request) -> JSONResponse:
    guard = _guard(request)
    guard.check_origin(request)
    body = await json_object(request)
    session_id = _session_id(body)
    channel = _channel(body.get("channel"))
    key_branch = kiosk_branch(_settings(request), body.get("kiosk_key"))
    if channel == "kiosk" and key_branch is None:
        raise GatewayError(KIOSK_NOT_SET_UP, 403)
    # A kiosk is known by its key: the foyer shares the public network's address.
    await guard.limit(request, "start", session_id, client_key=key_branch or None)
    branch_id = body.get("branch_id") or None
    if branch_id is not None:
        library = load_library(_settings(request).library_config)
        if not isinstance(branch_id, str) or library.branch(branch_id) is None:
            raise GatewayError("Filialen findes ikke.", 422)
    welcome = await _welcome(request, channel)
    stored = await run_in_threadpool(
        _start, _settings(request), session_id, channel, branch_id, welcome
    )
    if stored is None:
        raise GatewayError("Samtalen er afsluttet. Start en ny samtale.", 409)
    for message in stored:
        await request.app.state.hub.publish(
            citizen_channel(session_id), {"type": "message", "message": message})
    return JSONResponse({"session_id": session_id, "messages": stored})


def _rate(settings: Settings, session_id: str, seq: int, rating: str) -> bool:
    """Store the rating on the bot message, or raise a 4xx with the reason in Danish.

    True when this makes two thumbs-down in a row: the citizen is then offered a person."""
    with session_scope(settings.database_url) as session:
        message = session.execute(
            select(ChatMessage).where(
                ChatMessage.conversation_id == session_id, ChatMessage.seq == seq
            )
        ).scalar_one_or_none()
        if message is None:
            raise GatewayError("Beskeden findes ikke i denne samtale.", 404)
        if message.sender != "bot":
            raise GatewayError("Du kan kun bedømme assistentens svar.", 422)
        # A new dict, so SQLAlchemy sees the JSON column change.
        message.payload = {**(message.payload or {}), "feedback": rating}
        session.flush()
        rated = session.execute(
            select(ChatMessage.payload)
            .where(ChatMessage.conversation_id == session_id, ChatMessage.sender == "bot")
            .order_by(ChatMessage.seq.desc())
        ).scalars()
        ratings = [p["feedback"] for p in rated if isinstance(p, dict) and p.get("feedback")]
        return rating == "down" and ratings[:2] == ["down", "down"] and ratings[2:3] != ["down"]


@router.post("/api/feedback")
async def feedback(request: Request) -> JSONResponse:
    body, session_id = await _citizen_call(request, "feedback")
    seq = bounded_int(body.get("seq"), "seq skal være nummeret på en besked i samtalen.", 1)
    await _guard(request).require_open(session_id)
    rating = body.get("rating")
    if rating not in ("up", "down"):
        raise GatewayError("rating skal være 'up' eller 'down'.", 422)
    twice_down = await run_in_threadpool(_rate, _settings(request), session_id, seq, rating)
    messages: list[dict[str, Any]] = []
    if twice_down:
        # Two answers in a row did not help: apologise and offer a person (the reply is also
        # published on the citizen's WebSocket like any bot message).
        messages = await request.app.state.chat.offer_person(session_id)
    return JSONResponse(
        {"session_id": session_id, "seq": seq, "rating": rating, "messages": messages}
    )


def _close(settings: Settings, session_id: str) -> bool:
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, session_id)
        if conversation is None:
            return False
        conversation.state = "closed"
        conversation.ended_at = conversation.ended_at or utc_now()
        return True


@router.post("/api/session/end")
async def end_session(request: Request) -> JSONResponse:
    _, session_id = await _citizen_call(request, "end")
    if not await run_in_threadpool(_close, _settings(request), session_id):
        raise GatewayError("Samtalen findes ikke.", 404)
    assistant_reset = True
    try:
        await request.app.state.rasa.restart(session_id)
    except AssistantUnavailable as exc:
        # The conversation is closed either way; the stale tracker is never used again.
        log.warning("could not reset Rasa's tracker of an ended session: %s", exc)
        assistant_reset = False
    await request.app.state.hub.publish(
        citizen_channel(session_id), {"type": "session", "state": "closed"}
    )
    return JSONResponse(
        {"session_id": session_id, "state": "closed", "assistant_reset": assistant_reset}
    )


DELETED_TEXT = (
    "Samtalen er slettet. Hverken beskederne eller assistentens notater om samtalen er gemt "
    "længere. Du kan starte en ny samtale, når du vil."
)


@router.post("/api/session/delete")
async def delete_session(request: Request) -> JSONResponse:
    """"Slet samtalen": the transcript and Rasa's tracker are deleted on the server."""
    _, session_id = await _citizen_call(request, "delete")
    settings = _settings(request)
    if not await run_in_threadpool(delete_conversation, settings, session_id):
        raise GatewayError("Samtalen findes ikke.", 404)
    hub = request.app.state.hub
    await hub.publish(citizen_channel(session_id), {"type": "session", "state": "deleted"})
    # A chat that was waiting for staff has left the queue.
    await hub.publish(STAFF_CHANNEL, {"type": "queue_changed", "new_ticket_id": None})
    return JSONResponse({"deleted": True, "message": DELETED_TEXT})


# --- the chat itself --------------------------------------------------------------------------


def parse_chat_request(raw: bytes, max_chars: int) -> tuple[str, str]:
    """Validate the body by hand so every rejection gets a clear Danish reason."""
    body = parse_json_object(raw, "Forespørgslen skal være et JSON-objekt med session_id og text.")
    session_id = check_session_id(body.get("session_id"))
    text = body.get("text")
    if not isinstance(text, str):
        raise GatewayError("text mangler: skriv en besked.")
    if not text.strip():
        raise GatewayError("Beskeden er tom. Skriv dit spørgsmål, og prøv igen.")
    if len(text) > max_chars:
        raise GatewayError(
            f"Beskeden er for lang ({len(text)} tegn). Skriv højst {max_chars} tegn ad gangen.",
            413,
        )
    return session_id, text


def _chat(request: Request | WebSocket) -> ChatService:
    return request.app.state.chat


@router.post("/api/chat")
async def chat(request: Request) -> JSONResponse:
    settings = _settings(request)
    guard = _guard(request)
    guard.check_origin(request)
    session_id, text = parse_chat_request(await request.body(), settings.max_message_chars)
    await guard.limit(request, "chat", session_id)
    # An ended conversation is refused by handle(), inside the transaction that stores the text.
    reply = await _chat(request).handle(session_id, text)
    return JSONResponse(reply.to_json(), status_code=reply.status_code)


@router.get("/api/conversation/{session_id}")
async def conversation(
    request: Request, session_id: str, after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0
) -> JSONResponse:
    """The citizen's own transcript, e.g. to restore the chat after a page reload."""
    guard = _guard(request)
    guard.check_origin(request)
    check_session_id(session_id)
    await guard.require_open(session_id)
    messages = await run_in_threadpool(
        messages_after, _settings(request).database_url, session_id, after
    )
    return JSONResponse({"session_id": session_id, "messages": messages})


@router.websocket("/api/ws/{session_id}")
async def citizen_socket(websocket: WebSocket, session_id: str, after: str = "0") -> None:
    """Live messages of one conversation: first everything after `after`, then new ones."""
    guard = _guard(websocket)
    address = guard.address(websocket)
    maximum = websocket.app.state.settings.max_sockets_per_address
    try:
        guard.check_origin(websocket)
        check_session_id(session_id)
        start = bounded_int(int(after) if after.isdigit() else -1, "after er ugyldigt.")
        await guard.limit(websocket, "ws", session_id)
        await guard.require_open(session_id)
    except GatewayError as exc:
        await deny(websocket, exc.status_code, exc.message)
        return
    except RateLimited as exc:
        await deny(websocket, 429, exc.message, exc.retry_after)
        return
    if not await guard.limiter.open_socket(address, maximum):
        await deny(websocket, 429, TOO_MANY_SOCKETS, 60)
        return
    try:
        await websocket.accept()
        await _citizen_feed(websocket, session_id, start)
    except WebSocketDisconnect:
        pass
    finally:
        await guard.limiter.close_socket(address, maximum)


async def _citizen_feed(websocket: WebSocket, session_id: str, after: int) -> None:
    hub: Hub = websocket.app.state.hub
    channel = citizen_channel(session_id)
    queue = hub.subscribe(channel)
    url = websocket.app.state.settings.database_url
    try:
        # Subscribe before reading the backlog, so nothing falls between the two.
        backlog = await run_in_threadpool(messages_after, url, session_id, after)
        sent = after
        for message in backlog:
            await websocket.send_json({"type": "message", "message": message})
            sent = message["seq"]
        # The handoff state as it is now: it may have changed while the client was away.
        handoff = await run_in_threadpool(_chat(websocket).handoff.latest, session_id)
        if handoff is not None:
            await websocket.send_json({"type": "handoff", "handoff": handoff})

        async def send(event: dict[str, Any]) -> None:
            nonlocal sent
            message = event.get("message")
            if message is not None:
                if message["seq"] <= sent:
                    return  # already sent as part of the backlog
                sent = message["seq"]
            await websocket.send_json(event)
            if event.get("type") == "session" and event.get("state") in ENDED_STATES:
                await websocket.close(code=4410)  # an ended session answers nothing more

        await forward_events(websocket, queue, send)
    finally:
        hub.unsubscribe(channel, queue)


# --- handing the chat to a person -------------------------------------------------------------


@router.post("/api/handoff/cancel")
async def cancel_handoff(request: Request) -> JSONResponse:
    """The citizen leaves the queue; their session id is their only key, to this chat only."""
    _, session_id = await _citizen_call(request, "cancel", small=True)
    await _guard(request).require_open(session_id)
    change = await _chat(request).cancel_handoff(session_id)
    if change is None:
        raise GatewayError("Samtalen venter ikke på en medarbejder.", 409)
    return JSONResponse({"session_id": session_id, "handoff": change.handoff})


@router.post("/api/kiosk/call")
async def kiosk_call(request: Request) -> JSONResponse:
    """"Kald en medarbejder" at a kiosk: a ticket in the staff queue with the branch named."""
    guard = _guard(request)
    guard.check_origin(request)
    body = await json_object(request, max_bytes=SMALL_BODY_BYTES, empty_is_object=True)
    session_id = _session_id(body)
    branch_id = body.get("branch_id")
    settings = _settings(request)
    library = load_library(settings.library_config)
    if not isinstance(branch_id, str) or library.branch(branch_id) is None:
        raise GatewayError("Filialen findes ikke.", 422)
    key_branch = kiosk_branch(settings, body.get("kiosk_key"))
    if key_branch is None or (key_branch and key_branch != branch_id):
        raise GatewayError(KIOSK_NOT_SET_UP, 403)
    # Counted per kiosk (its key) when kiosks have keys: a foyer shares its address.
    await guard.limit(request, "kiosk_call", session_id, client_key=key_branch or None)
    await guard.require_open(session_id)
    chat = _chat(request)
    ok, message, change = await run_in_threadpool(chat.handoff.kiosk_call, session_id, branch_id)
    if change is not None:
        await chat.publish_change(change, positions=False)
    return JSONResponse({"ok": ok, "message": message})
