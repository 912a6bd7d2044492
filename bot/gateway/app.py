"""FastAPI application: the chat API, pages and health checks (DESIGN.md, "Chat API")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text as sql_text
from starlette.concurrency import run_in_threadpool

from bot.core.config import Settings, get_settings
from bot.core.logs import install_log_scrubbing
from bot.db.session import session_scope
from bot.gateway.chat import ENDED_STATES, ChatService
from bot.gateway.guard import Guard
from bot.gateway.hub import Hub, citizen_channel, make_hub
from bot.gateway.rasa_client import RasaClient
from bot.gateway.ratelimit import TOO_MANY_SOCKETS, RateLimited
from bot.gateway.routes.citizen import add_cors, allowed_origins
from bot.gateway.routes.citizen import router as citizen_router
from bot.gateway.routes.legal import router as legal_router
from bot.gateway.routes.staff import router as staff_router
from bot.gateway.security import (
    MAX_INT,
    BadInput,
    FrontDoorMiddleware,
    bounded_int,
    check_session_id,
    deny,
    parse_json_object,
)
from bot.gateway.sockets import forward_events
from bot.services.notify import Notifier, send_reminders
from bot.services.privacy import purge
from bot.services.transcripts import messages_after

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


def parse_chat_request(raw: bytes, max_chars: int) -> tuple[str, str]:
    """Validate the body by hand so every rejection gets a clear Danish reason."""
    body = parse_json_object(raw, "Forespørgslen skal være et JSON-objekt med session_id og text.")
    session_id = check_session_id(body.get("session_id"))
    text = body.get("text")
    if not isinstance(text, str):
        raise BadInput("text mangler: skriv en besked.", 422)
    if not text.strip():
        raise BadInput("Beskeden er tom. Skriv dit spørgsmål, og prøv igen.", 422)
    if len(text) > max_chars:
        raise BadInput(
            f"Beskeden er for lang ({len(text)} tegn). Skriv højst {max_chars} tegn ad gangen.",
            413,
        )
    return session_id, text


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_log_scrubbing()
    origins = allowed_origins(settings)
    guard = Guard(settings, origins)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        rasa = RasaClient(
            settings.rasa_url,
            settings.actions_url,
            settings.rasa_timeout_seconds,
            settings.rasa_token,
        )
        app.state.rasa = rasa
        # Redis pub/sub when several gateway instances share the conversations.
        app.state.hub = make_hub(settings.redis_url)
        await app.state.hub.start()
        app.state.chat = ChatService(settings, rasa, app.state.hub)
        await guard.limiter.start()
        workers = [
            asyncio.create_task(
                _periodic("retention purge", settings.purge_every_hours,
                          lambda: _purge_job(settings))
            ),
            asyncio.create_task(
                _periodic("booking reminders", _REMINDERS_EVERY_HOURS,
                          lambda: _reminder_job(settings))
            ),
        ]
        yield
        for worker in workers:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await app.state.hub.stop()
        await guard.limiter.stop()
        await rasa.close()

    app = FastAPI(
        title="Borgerservice-assistenten", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.guard = guard

    @app.exception_handler(BadInput)
    async def _bad_request(request: Request, exc: BadInput) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RateLimited)
    async def _too_fast(request: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message, "retry_after": exc.retry_after},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": "Forespørgslen er ikke gyldig."}, status_code=422)

    @app.post("/api/chat")
    async def chat(request: Request) -> JSONResponse:
        guard.check_origin(request)
        session_id, text = parse_chat_request(await request.body(), settings.max_message_chars)
        await guard.limit(request, "chat", session_id)
        await guard.require_open(session_id)
        reply = await request.app.state.chat.handle(session_id, text)
        return JSONResponse(reply.to_json(), status_code=reply.status_code)

    @app.get("/api/conversation/{session_id}")
    async def conversation(
        request: Request, session_id: str, after: int = Query(0, ge=0, le=MAX_INT)
    ) -> JSONResponse:
        """The citizen's own transcript, e.g. to restore the chat after a page reload."""
        guard.check_origin(request)
        check_session_id(session_id)
        await guard.require_open(session_id)
        messages = await run_in_threadpool(
            messages_after, settings.database_url, session_id, after
        )
        return JSONResponse({"session_id": session_id, "messages": messages})

    @app.websocket("/api/ws/{session_id}")
    async def citizen_socket(websocket: WebSocket, session_id: str, after: str = "0") -> None:
        """Live messages of one conversation: first everything after `after`, then new ones."""
        address = guard.address(websocket)
        try:
            guard.check_origin(websocket)
            check_session_id(session_id)
            start = bounded_int(int(after) if after.isdigit() else -1, "after er ugyldigt.")
            await guard.limit(websocket, "ws", session_id)
            await guard.require_open(session_id)
        except BadInput as exc:
            await deny(websocket, exc.status_code, exc.message)
            return
        except RateLimited as exc:
            await deny(websocket, 429, exc.message, exc.retry_after)
            return
        if not await guard.limiter.open_socket(address, settings.max_sockets_per_address):
            await deny(websocket, 429, TOO_MANY_SOCKETS, 60)
            return
        try:
            await websocket.accept()
            await _citizen_feed(websocket, session_id, start)
        except WebSocketDisconnect:
            pass
        finally:
            await guard.limiter.close_socket(address, settings.max_sockets_per_address)

    async def _citizen_feed(websocket: WebSocket, session_id: str, after: int) -> None:
        hub: Hub = websocket.app.state.hub
        queue = hub.subscribe(citizen_channel(session_id))
        try:
            # Subscribe before reading the backlog, so nothing falls between the two.
            backlog = await run_in_threadpool(
                messages_after, settings.database_url, session_id, after
            )
            sent = after
            for message in backlog:
                await websocket.send_json({"type": "message", "message": message})
                sent = message["seq"]
            # The handoff state as it is now: it may have changed while the client was away.
            handoff = await run_in_threadpool(websocket.app.state.chat.handoff.latest, session_id)
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
            hub.unsubscribe(citizen_channel(session_id), queue)

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        rasa: RasaClient = request.app.state.rasa
        checks: dict[str, Any] = {
            "gateway": True,
            "database": await run_in_threadpool(_database_ok, settings),
            "rasa": await rasa.rasa_ready(),
            "actions": await rasa.actions_ready(),
        }
        healthy = all(checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status_code=200 if healthy else 503,
        )

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.include_router(citizen_router)
    app.include_router(legal_router)
    app.include_router(staff_router)
    add_cors(app, origins)
    # Outermost: the body limit and the headers cover every route, CORS answers included.
    app.add_middleware(FrontDoorMiddleware, frame_ancestors=origins)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# The first run waits a little, so that a restart loop does not purge or mail in a loop.
_FIRST_RUN_DELAY_SECONDS = 300.0
_REMINDERS_EVERY_HOURS = 1


async def _periodic(name: str, every_hours: float, job: Callable[[], str]) -> None:
    """Run ``job`` in the thread pool every ``every_hours`` (never when 0). Several gateway
    instances may each run it: both jobs are safe to run twice (see their docstrings)."""
    if every_hours <= 0:
        return
    delay = _FIRST_RUN_DELAY_SECONDS
    while True:
        await asyncio.sleep(delay)
        delay = every_hours * 3600.0
        try:
            log.info("%s: %s", name, await run_in_threadpool(job))
        except Exception:  # noqa: BLE001 - try again at the next run
            log.exception("%s failed", name)


def _purge_job(settings: Settings) -> str:
    return purge(settings).summary()


def _reminder_job(settings: Settings) -> str:
    notifier = Notifier(settings)
    with session_scope(settings.database_url) as session:
        return f"{send_reminders(session, notifier)} sent"


def _database_ok(settings: Settings) -> bool:
    try:
        with session_scope(settings.database_url) as session:
            session.execute(sql_text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", reported as such
        log.exception("database health check failed")
        return False
