"""The staff console: pages, its JSON API, its WebSocket, and the citizen's handoff endpoints.

Pages: ``/staff`` (the console; redirects to ``/staff/login`` without a session) and
``/staff/login``. Everything under ``/api/staff/`` answers 401 without a valid session, and
every state-changing request needs the session's CSRF token in ``X-CSRF-Token`` and, when the
browser sends one, an Origin equal to the console's own (bot/services/staff_auth.py has the
details).

WebSocket ``/api/staff/ws`` (real time both ways, no polling). The handshake needs the session
cookie and a same-origin Origin (else HTTP 401/403); the first client message must be
``{"type": "hello", "csrf": ...}``. Then:

- server → client: ``queue`` (the lists, after every change; ``new_ticket_id`` rings the bell),
  ``message``/``handoff``/``activity``/``session`` events of watched conversations, ``ack``;
- client → server: ``watch {conversation_id, after}`` (catch-up by sequence number, then live:
  a reconnect loses nothing), ``unwatch``, ``reply {ticket_id, text, client_id}``, ``ping``.

The handoff timeout worker (bot/services/handoff/timeouts.py) starts and stops with the app
through this router's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi import Path as FastAPIPath
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.gateway.chat import ChatService
from bot.gateway.errors import GatewayError
from bot.gateway.hub import STAFF_CHANNEL, Event, Hub, citizen_channel
from bot.gateway.rasa_client import AssistantUnavailable
from bot.gateway.requests import SMALL_BODY_BYTES, json_object
from bot.gateway.security import CONSOLE_CSP, MAX_INT, SESSION_ID_PATTERN, deny
from bot.gateway.sockets import forward_events
from bot.services import staff_auth
from bot.services.articles import ArticleService
from bot.services.handoff import TOPIC_LABELS, HandoffError, HandoffService
from bot.services.handoff.timeouts import run_timeout_worker
from bot.services.staff_auth import StaffIdentity
from bot.services.transcripts import conversation_subjects

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[1] / "static" / "staff"
LOGIN_COOKIE = "borger_staff_login"
CSRF_HEADER = "X-CSRF-Token"
NOT_SIGNED_IN = "Du er ikke logget ind."
BAD_CSRF = "Sikkerhedstjekket fejlede. Genindlæs siden, og prøv igen."
_MAX_BODY = 16_000
_NO_STORE = {"Cache-Control": "no-store"}
_RECHECK_SECONDS = 5.0

# Strict: the console runs only its own files; nothing from elsewhere, no inline script.
PAGE_HEADERS = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# Internal slots the summary leaves out, and Danish labels for the ones staff care about.
_HIDDEN_SLOTS = {
    "requested_slot", "form_attempts", "form_outcome", "session_started_metadata", "topic",
    "when_text", "not_day",
}  # fmt: skip
SLOT_LABELS = {
    "article_id": "Sidste artikel",
    "branch": "Filial",
    "help_topic": "Emne for it-hjælp",
    "help_slot": "Valgt tid",
    "citizen_name": "Navn",
    "citizen_contact": "Kontakt",
    "course_session": "Kursushold",
    "lookup_reference": "Bookingnummer",
    "callback_description": "Beskrivelse",
}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    chat: ChatService = app.state.chat
    worker = asyncio.create_task(
        run_timeout_worker(chat.handoff.next_expiry, chat.expire_handoffs, chat.queue_changed)
    )
    try:
        yield
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


router = APIRouter(lifespan=_lifespan)
# A ticket id in a path: a number the database can hold, else a clear 422 (not a 500).
TicketId = Annotated[int, FastAPIPath(ge=1, le=MAX_INT)]


# --- helpers ------------------------------------------------------------------------------


def _url(request: Request | WebSocket) -> str:
    return request.app.state.settings.database_url


def _policy(request: Request | WebSocket) -> staff_auth.StaffPolicy:
    return request.app.state.staff_policy


def _chat(request: Request | WebSocket) -> ChatService:
    return request.app.state.chat


def _service(request: Request | WebSocket) -> HandoffService:
    return _chat(request).handoff


def _ip(request: Request | WebSocket) -> str | None:
    # Through the guard: X-Forwarded-For counts only from a configured trusted proxy, so a
    # spoofed header neither gets a fresh login budget nor lands in the audit log.
    return request.app.state.guard.address(request)


def _same_origin(request: Request | WebSocket) -> bool:
    """No Origin (same-origin GETs, non-browser clients) or one naming this very host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


async def _identity(request: Request | WebSocket) -> StaffIdentity | None:
    token = request.cookies.get(_policy(request).cookie_name)
    if not token:
        return None
    return await run_in_threadpool(staff_auth.identify, _url(request), token)


async def signed_in(request: Request) -> StaffIdentity:
    """Dependency: the signed-in staff member, else 401."""
    identity = await _identity(request)
    if identity is None:
        raise GatewayError(NOT_SIGNED_IN, 401)
    return identity


async def writing(
    request: Request, identity: Annotated[StaffIdentity, Depends(signed_in)]
) -> StaffIdentity:
    """Dependency for every change: signed in, same Origin and the session's CSRF token."""
    if not _same_origin(request) or not staff_auth.csrf_ok(
        identity, request.headers.get(CSRF_HEADER)
    ):
        raise GatewayError(BAD_CSRF, 403)
    return identity


ROLE_REFUSED = {
    "editor": "Kun redaktører kan rette artikler. Bed en administrator om rollen redaktør.",
    "admin": "Kun administratorer kan ændre medarbejderkonti.",
}


def require(role: str, *, write: bool = False) -> Any:
    """A FastAPI dependency for the console's role-bound routes: :func:`signed_in` (or, with
    ``write``, :func:`writing`), and the staff member must hold ``role`` (staff, editor,
    admin; bot/db/models.py ROLES), else 403. The role is read from the account on every
    request, so a changed role counts at once."""
    base = writing if write else signed_in

    # A default, not Annotated[...]: the annotations are strings (postponed), resolved in the
    # module's globals, where ``base`` is not.
    async def dependency(identity: StaffIdentity = Depends(base)) -> StaffIdentity:
        if not identity.may(role):
            raise GatewayError(ROLE_REFUSED.get(role, "Det har du ikke adgang til."), 403)
        return identity

    return dependency


SignedIn = Annotated[StaffIdentity, Depends(signed_in)]
Writing = Annotated[StaffIdentity, Depends(writing)]


async def _body(request: Request) -> dict[str, Any]:
    return await json_object(request, max_bytes=SMALL_BODY_BYTES, empty_is_object=True)


def _json(data: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status_code, headers={"Cache-Control": "no-store"})


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=_policy(request).cookie_secure,
        httponly=True,
        samesite="strict",
    )


def _staff_json(identity: StaffIdentity) -> dict[str, Any]:
    return {
        "staff": {
            "id": identity.staff_id,
            "username": identity.username,
            "name": identity.name,
            "role": identity.role,
            "role_label": staff_auth.ROLE_LABELS.get(identity.role, identity.role),
        },
        "csrf": identity.csrf_token,
    }


# --- pages ----------------------------------------------------------------------------------


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html", headers=PAGE_HEADERS)


@router.get("/staff", include_in_schema=False)
async def console_page(request: Request) -> Response:
    if await _identity(request) is None:
        return RedirectResponse("/staff/login", status_code=303, headers=_NO_STORE)
    return _page("console.html")


@router.get("/staff/login", include_in_schema=False)
async def login_page(request: Request) -> Response:
    if await _identity(request) is not None:
        return RedirectResponse("/staff", status_code=303, headers=_NO_STORE)
    return _page("login.html")


# --- sign-in --------------------------------------------------------------------------------


@router.get("/api/staff/csrf")
async def login_csrf(request: Request) -> JSONResponse:
    """A token for the sign-in form (double submit: cookie and header must match)."""
    token = secrets.token_urlsafe(32)
    response = _json({"csrf": token})
    _set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/api/staff/login")
async def login(request: Request) -> JSONResponse:
    presented = request.headers.get(CSRF_HEADER) or ""
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    if not _same_origin(request) or not expected or not secrets.compare_digest(
        presented.encode(), expected.encode()
    ):
        raise GatewayError(BAD_CSRF, 403)
    body = await _body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise GatewayError("Skriv brugernavn og adgangskode.", 422)
    token, identity = await run_in_threadpool(
        staff_auth.login, _url(request), username, password, _ip(request), _policy(request)
    )
    response = _json(_staff_json(identity))
    policy = _policy(request)
    _set_cookie(request, response, policy.cookie_name, token, policy.session_hours * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/api/staff/logout")
async def logout(request: Request, identity: Writing) -> JSONResponse:
    await run_in_threadpool(staff_auth.logout, _url(request), identity, _ip(request))
    # The console's open WebSockets of this session close at once.
    await request.app.state.hub.publish(
        STAFF_CHANNEL, {"type": "staff_signed_out", "session": identity.session_id}
    )
    response = _json({"ok": True})
    policy = _policy(request)
    response.delete_cookie(
        policy.cookie_name, path="/", secure=policy.cookie_secure, httponly=True,
        samesite="strict",
    )
    return response


@router.get("/api/staff/me")
async def me(identity: SignedIn) -> JSONResponse:
    return _json(_staff_json(identity))


# --- tickets --------------------------------------------------------------------------------


@router.get("/api/staff/tickets")
async def tickets(request: Request, _: SignedIn) -> JSONResponse:
    return _json(await run_in_threadpool(_service(request).tickets))


@router.get("/api/staff/tickets/{ticket_id}")
async def ticket_detail(request: Request, ticket_id: TicketId, identity: SignedIn) -> JSONResponse:
    detail = await run_in_threadpool(
        _service(request).ticket_detail, ticket_id, identity.staff_id, identity.username,
        _ip(request),
    )
    return _json(detail)


@router.get("/api/staff/tickets/{ticket_id}/summary")
async def ticket_summary(request: Request, ticket_id: TicketId, _: SignedIn) -> JSONResponse:
    """What the bot learned before the handoff: topic, intents, filled slots (Rasa tracker)."""
    ticket = await run_in_threadpool(_service(request).ticket, ticket_id)
    summary: dict[str, Any] = {
        "topic": ticket["topic"],
        "topic_label": ticket["topic_label"],
        "reason_label": ticket["reason_label"],
        "intents": [],
        "slots": [],
        "available": False,
        "asked_about": [],
        "articles": [],
    }
    if ticket["conversation_id"]:
        # In words (topics and article titles), from the transcript: works without Rasa.
        subjects = await run_in_threadpool(
            conversation_subjects, _url(request), ticket["conversation_id"], TOPIC_LABELS
        )
        summary["asked_about"], summary["articles"] = subjects["topics"], subjects["articles"]
        try:
            tracker = await request.app.state.rasa.tracker(ticket["conversation_id"])
        except AssistantUnavailable:
            return _json(summary)
        summary.update(tracker_summary(tracker))
        summary["available"] = True
        titles = ArticleService.from_settings(request.app.state.settings)
        for slot in summary["slots"]:
            if slot["name"] == "article_id":  # staff read the article's title, not its id
                slot["value"] = await run_in_threadpool(titles.title, slot["value"])
        if not summary["topic"] and summary.get("last_topic"):
            summary["topic"] = summary["last_topic"]
            summary["topic_label"] = TOPIC_LABELS.get(summary["last_topic"], summary["last_topic"])
    return _json(summary)


def tracker_summary(tracker: dict[str, Any]) -> dict[str, Any]:
    """Intents in order (with confidence) and the filled slots with Danish labels."""
    intents = []
    for event in tracker.get("events") or []:
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name"):
            confidence = round(float(intent.get("confidence") or 0), 2)
            intents.append({"name": intent["name"], "confidence": confidence})
    slots = tracker.get("slots") or {}
    filled = [
        {"name": name, "label": SLOT_LABELS.get(name, name), "value": str(value)}
        for name, value in slots.items()
        if value not in (None, "", [], {}) and name not in _HIDDEN_SLOTS
    ]
    return {"intents": intents[-10:], "slots": filled, "last_topic": slots.get("topic")}


@router.post("/api/staff/tickets/{ticket_id}/take")
async def take(request: Request, ticket_id: TicketId, identity: Writing) -> JSONResponse:
    service, ip = _service(request), _ip(request)
    change = await run_in_threadpool(service.take, ticket_id, identity.staff_id, ip)
    await _chat(request).publish_change(change)
    return _json({"ticket": change.ticket})


@router.post("/api/staff/tickets/{ticket_id}/reply")
async def reply(request: Request, ticket_id: TicketId, identity: Writing) -> JSONResponse:
    text = (await _body(request)).get("text")
    if not isinstance(text, str):
        raise GatewayError("Skriv en besked.", 422)
    change = await run_in_threadpool(_service(request).reply, ticket_id, identity.staff_id, text)
    await _chat(request).publish_change(change, positions=False)
    return _json({"ticket": change.ticket, "message": change.messages[0]})


@router.post("/api/staff/tickets/{ticket_id}/return")
async def return_to_bot(request: Request, ticket_id: TicketId, identity: Writing) -> JSONResponse:
    service, ip = _service(request), _ip(request)
    change = await run_in_threadpool(service.return_to_bot, ticket_id, identity.staff_id, ip)
    await _chat(request).publish_change(change)
    return _json({"ticket": change.ticket})


@router.post("/api/staff/tickets/{ticket_id}/close")
async def close(request: Request, ticket_id: TicketId, identity: Writing) -> JSONResponse:
    outcome = (await _body(request)).get("outcome")
    service, ip = _service(request), _ip(request)
    change = await run_in_threadpool(
        service.close, ticket_id, identity.staff_id, str(outcome or ""), ip
    )
    await _chat(request).publish_change(change)
    return _json({"ticket": change.ticket})


@router.post("/api/staff/tickets/{ticket_id}/notes")
async def add_note(request: Request, ticket_id: TicketId, identity: Writing) -> JSONResponse:
    text = (await _body(request)).get("text")
    if not isinstance(text, str):
        raise GatewayError("Skriv en note.", 422)
    note = await run_in_threadpool(_service(request).add_note, ticket_id, identity.staff_id, text)
    return _json({"note": note})


# --- the console's WebSocket ----------------------------------------------------------------


class _ConsoleSocket:
    """One console connection: a merged queue fed by the hub channels it listens to."""

    def __init__(self, websocket: WebSocket, identity: StaffIdentity) -> None:
        self.websocket = websocket
        self.identity = identity
        self.hub: Hub = websocket.app.state.hub
        self.service = _service(websocket)
        self.url = _url(websocket)
        self.out: asyncio.Queue[Event] = asyncio.Queue(500)
        self.watched: dict[str, tuple[asyncio.Queue[Event], asyncio.Task[None]]] = {}
        self.sent: dict[str, int] = {}  # highest message seq sent per conversation
        self.staff_feed: tuple[asyncio.Queue[Event], asyncio.Task[None]] | None = None

    def _listen(self, channel: str, tag: str | None) -> tuple[asyncio.Queue[Event], asyncio.Task]:
        queue = self.hub.subscribe(channel)

        async def pump() -> None:
            while True:
                event = await queue.get()
                if tag is not None:
                    event = {**event, "conversation_id": tag}
                if self.out.full():
                    self.out.get_nowait()  # a stuck console catches up on reconnect
                self.out.put_nowait(event)

        return queue, asyncio.create_task(pump())

    async def run(self) -> None:
        self.staff_feed = self._listen(STAFF_CHANNEL, None)
        watchdog = asyncio.create_task(self._watchdog())
        try:
            await self.websocket.send_json(
                {"type": "hello", "staff": _staff_json(self.identity)["staff"]}
            )
            await self._send_queue(None)
            await forward_events(self.websocket, self.out, self._deliver, self._command)
        finally:
            watchdog.cancel()
            self.close()

    async def _valid(self) -> bool:
        """Whether the session still holds (not logged out, not disabled, not expired);
        if not, the console is told and the socket closed."""
        if await run_in_threadpool(staff_auth.still_valid, self.url, self.identity.session_id):
            return True
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.websocket.send_json({"type": "signed_out"})
            await self.websocket.close(code=4401)
        return False

    async def _watchdog(self) -> None:
        # A disable from the CLI or an expiry happens elsewhere: look every few seconds.
        while True:
            await asyncio.sleep(_RECHECK_SECONDS)
            try:
                if not await self._valid():
                    return
            except Exception:  # noqa: BLE001 - a database hiccup: look again next time
                log.exception("could not re-check a console session")

    def close(self) -> None:
        channels = [(STAFF_CHANNEL, self.staff_feed)] if self.staff_feed else []
        channels += [(citizen_channel(c), feed) for c, feed in self.watched.items()]
        for channel, (queue, task) in channels:
            task.cancel()
            self.hub.unsubscribe(channel, queue)
        self.watched.clear()

    async def _send_queue(self, new_ticket_id: Any) -> None:
        lists = await run_in_threadpool(self.service.tickets)
        await self.websocket.send_json({"type": "queue", "new_ticket_id": new_ticket_id, **lists})

    async def _deliver(self, event: Event) -> None:
        kind = event.get("type")
        if kind == "staff_signed_out":
            if event.get("session") == self.identity.session_id:
                await self._valid()  # closes the socket
            return
        if kind == "queue_changed":
            await self._send_queue(event.get("new_ticket_id"))
            return
        conversation_id = event.get("conversation_id")
        message = event.get("message")
        if message is not None and conversation_id:
            if message["seq"] <= self.sent.get(conversation_id, 0):
                return  # already sent with the catch-up
            self.sent[conversation_id] = message["seq"]
        await self.websocket.send_json(event)

    async def _command(self, text: str) -> None:
        try:
            command = json.loads(text)
        except ValueError:
            return
        if not isinstance(command, dict):
            return
        # Every command re-checks the session: a logged-out, disabled or expired session
        # can neither watch a chat nor write to a citizen.
        if not await self._valid():
            return
        kind = command.get("type")
        if kind == "ping":
            await run_in_threadpool(staff_auth.touch, self.url, self.identity.session_id)
            await self.websocket.send_json({"type": "pong"})
        elif kind == "watch":
            await self._watch(command.get("conversation_id"), command.get("after"))
        elif kind == "unwatch":
            conversation_id = command.get("conversation_id")
            if conversation_id in self.watched:
                queue, task = self.watched.pop(conversation_id)
                task.cancel()
                self.hub.unsubscribe(citizen_channel(conversation_id), queue)
        elif kind == "reply":
            await self._reply(command)

    async def _watch(self, conversation_id: Any, after: Any) -> None:
        if not isinstance(conversation_id, str) or not SESSION_ID_PATTERN.match(conversation_id):
            return
        after = after if isinstance(after, int) and 0 <= after <= MAX_INT else 0
        if conversation_id not in self.watched:
            # Subscribe before reading the catch-up, so nothing falls between the two.
            self.watched[conversation_id] = self._listen(
                citizen_channel(conversation_id), conversation_id
            )
        try:
            backlog = await run_in_threadpool(
                self.service.messages_after, conversation_id, after, self.identity.staff_id,
                self.identity.username, _ip(self.websocket),
            )
        except HandoffError as exc:
            await self.websocket.send_json(
                {"type": "error", "conversation_id": conversation_id, "detail": exc.message}
            )
            return
        self.sent[conversation_id] = max(self.sent.get(conversation_id, 0), after)
        for message in backlog:
            await self._deliver(
                {"type": "message", "conversation_id": conversation_id, "message": message}
            )
        await self.websocket.send_json({"type": "watching", "conversation_id": conversation_id})

    async def _reply(self, command: dict[str, Any]) -> None:
        client_id = command.get("client_id")
        ticket_id, text = command.get("ticket_id"), command.get("text")
        if not isinstance(ticket_id, int) or not 1 <= ticket_id <= MAX_INT or not isinstance(
            text, str
        ):
            await self.websocket.send_json(
                {"type": "ack", "client_id": client_id, "ok": False, "detail": "Ugyldig besked."}
            )
            return
        try:
            change = await run_in_threadpool(
                self.service.reply, ticket_id, self.identity.staff_id, text
            )
        except HandoffError as exc:
            await self.websocket.send_json(
                {"type": "ack", "client_id": client_id, "ok": False, "detail": exc.message}
            )
            return
        await _chat(self.websocket).publish_change(change, positions=False)
        await self.websocket.send_json(
            {"type": "ack", "client_id": client_id, "ok": True, "seq": change.messages[0]["seq"]}
        )


@router.websocket("/api/staff/ws")
async def console_socket(websocket: WebSocket) -> None:
    if not _same_origin(websocket):
        await deny(websocket, 403, "Forkert oprindelse.")
        return
    identity = await _identity(websocket)
    if identity is None:
        await deny(websocket, 401, NOT_SIGNED_IN)
        return
    await websocket.accept()
    try:
        # The CSRF token as the first message: a page on another site that somehow got the
        # cookie sent along still cannot speak on this socket.
        hello = await asyncio.wait_for(websocket.receive_json(), 10)
        if not isinstance(hello, dict) or not staff_auth.csrf_ok(identity, hello.get("csrf")):
            await websocket.close(code=4403)
            return
        await run_in_threadpool(staff_auth.touch, _url(websocket), identity.session_id)
        await _ConsoleSocket(websocket, identity).run()
    except (TimeoutError, WebSocketDisconnect, ValueError):
        with contextlib.suppress(RuntimeError):
            await websocket.close()


# /openapi.json lists the citizen API only: the console's routes are nobody else's business.
for _route in router.routes:
    if getattr(_route, "path", "").startswith(("/api/staff", "/staff")):
        _route.include_in_schema = False
