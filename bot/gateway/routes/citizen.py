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
- :func:`add_cors`: CORS for the citizen chat API, for the origins in BORGER_ALLOWED_ORIGINS.
"""

from __future__ import annotations

import html
import json
import logging
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.core.config import Settings
from bot.db.models import ChatMessage, Conversation
from bot.db.session import session_scope
from bot.db.transcripts import add_message, get_or_create_conversation
from bot.gateway.chat import SESSION_ID_PATTERN, ChatService
from bot.gateway.errors import GatewayError
from bot.gateway.hub import Hub
from bot.gateway.rasa_client import AssistantUnavailable
from bot.gateway.requests import SMALL_BODY_BYTES, json_object
from bot.gateway.sockets import forward_events
from bot.services.library import load_library
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
KIOSK_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'self'; form-action 'self'"
)

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


def add_cors(app: FastAPI, settings: Settings) -> None:
    origins = allowed_origins(settings)
    log.info("citizen API allows the origins %s", origins)
    app.add_middleware(CitizenCORSMiddleware, origins=origins)


# --- helpers ------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _session_id(body: dict[str, Any]) -> str:
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise GatewayError("session_id mangler.", 422)
    if not SESSION_ID_PATTERN.match(session_id):
        raise GatewayError(
            "session_id må kun indeholde bogstaver, tal, - og _ og højst være 64 tegn.", 422
        )
    return session_id


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
    idle_warn: str | None = None,
    idle_reset: str | None = None,
) -> HTMLResponse:
    library = load_library(_settings(request).library_config)
    chosen = library.branch(branch)
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
    body = await json_object(request)
    session_id = _session_id(body)
    channel = _channel(body.get("channel"))
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
        await request.app.state.hub.publish(session_id, {"type": "message", "message": message})
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
    body = await json_object(request)
    session_id = _session_id(body)
    seq = body.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise GatewayError("seq skal være nummeret på en besked i samtalen.", 422)
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
        return True


@router.post("/api/session/end")
async def end_session(request: Request) -> JSONResponse:
    body = await json_object(request)
    session_id = _session_id(body)
    if not await run_in_threadpool(_close, _settings(request), session_id):
        raise GatewayError("Samtalen findes ikke.", 404)
    assistant_reset = True
    try:
        await request.app.state.rasa.restart(session_id)
    except AssistantUnavailable as exc:
        # The conversation is closed either way; the stale tracker is never used again.
        log.warning("could not reset Rasa's tracker of an ended session: %s", exc)
        assistant_reset = False
    await request.app.state.hub.publish(session_id, {"type": "session", "state": "closed"})
    return JSONResponse(
        {"session_id": session_id, "state": "closed", "assistant_reset": assistant_reset}
    )


# --- the chat itself --------------------------------------------------------------------------


def parse_chat_request(raw: bytes, max_chars: int) -> tuple[str, str]:
    """Validate the body by hand so every rejection gets a clear Danish reason."""
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise GatewayError("Forespørgslen er ikke gyldig JSON.", 400) from exc
    if not isinstance(body, dict):
        raise GatewayError("Forespørgslen skal være et JSON-objekt med session_id og text.", 400)
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise GatewayError("session_id mangler.")
    if not SESSION_ID_PATTERN.match(session_id):
        raise GatewayError(
            "session_id må kun indeholde bogstaver, tal, - og _ og højst være 64 tegn."
        )
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
    session_id, text = parse_chat_request(await request.body(), settings.max_message_chars)
    reply = await _chat(request).handle(session_id, text)
    return JSONResponse(reply.to_json(), status_code=reply.status_code)


@router.get("/api/conversation/{session_id}")
async def conversation(request: Request, session_id: str, after: int = 0) -> JSONResponse:
    """The citizen's own transcript, e.g. to restore the chat after a page reload."""
    if not SESSION_ID_PATTERN.match(session_id):
        raise GatewayError("Ugyldigt session_id.")
    messages = await run_in_threadpool(
        messages_after, _settings(request).database_url, session_id, after
    )
    return JSONResponse({"session_id": session_id, "messages": messages})


@router.websocket("/api/ws/{session_id}")
async def citizen_socket(websocket: WebSocket, session_id: str, after: int = 0) -> None:
    """Live messages of one conversation: first everything after `after`, then new ones."""
    if not SESSION_ID_PATTERN.match(session_id):
        await websocket.close(code=4400)
        return
    await websocket.accept()
    hub: Hub = websocket.app.state.hub
    queue = hub.subscribe(session_id)
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

        await forward_events(websocket, queue, send)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(session_id, queue)


# --- handing the chat to a person -------------------------------------------------------------


def _citizen_session(body: dict[str, Any]) -> str:
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.match(session_id):
        raise GatewayError(
            "session_id mangler eller er ugyldigt (bogstaver, tal, - og _, højst 64 tegn).", 422
        )
    return session_id


async def _small_body(request: Request) -> dict[str, Any]:
    return await json_object(request, max_bytes=SMALL_BODY_BYTES, empty_is_object=True)


@router.post("/api/handoff/cancel")
async def cancel_handoff(request: Request) -> JSONResponse:
    """The citizen leaves the queue; their session id is their only key, to this chat only."""
    session_id = _citizen_session(await _small_body(request))
    change = await _chat(request).cancel_handoff(session_id)
    if change is None:
        raise GatewayError("Samtalen venter ikke på en medarbejder.", 409)
    return JSONResponse({"session_id": session_id, "handoff": change.handoff})


@router.post("/api/kiosk/call")
async def kiosk_call(request: Request) -> JSONResponse:
    """"Kald en medarbejder" at a kiosk: a ticket in the staff queue with the branch named."""
    body = await _small_body(request)
    session_id = _citizen_session(body)
    branch_id = body.get("branch_id")
    library = load_library(_settings(request).library_config)
    if not isinstance(branch_id, str) or library.branch(branch_id) is None:
        raise GatewayError("Filialen findes ikke.", 422)
    chat = _chat(request)
    ok, message, change = await run_in_threadpool(chat.handoff.kiosk_call, session_id, branch_id)
    if change is not None:
        await chat.publish_change(change, positions=False)
    return JSONResponse({"ok": ok, "message": message})
