"""FastAPI application: the chat API, pages and health checks (DESIGN.md, "Chat API")."""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text as sql_text
from starlette.concurrency import run_in_threadpool

from bot.core.config import Settings, get_settings
from bot.db.session import session_scope
from bot.gateway.chat import SESSION_ID_PATTERN, ChatService
from bot.gateway.hub import Hub, make_hub
from bot.gateway.rasa_client import RasaClient
from bot.gateway.routes.articles import invalid_handler
from bot.gateway.routes.articles import router as articles_router
from bot.gateway.routes.citizen import add_cors
from bot.gateway.routes.citizen import router as citizen_router
from bot.gateway.routes.insight import router as insight_router
from bot.gateway.routes.staff import router as staff_router
from bot.gateway.sockets import forward_events
from bot.services.articles import ArticleInvalid
from bot.services.transcripts import messages_after

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


class BadChatRequest(Exception):
    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def parse_chat_request(raw: bytes, max_chars: int) -> tuple[str, str]:
    """Validate the body by hand so every rejection gets a clear Danish reason."""
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadChatRequest("Forespørgslen er ikke gyldig JSON.", 400) from exc
    if not isinstance(body, dict):
        raise BadChatRequest("Forespørgslen skal være et JSON-objekt med session_id og text.", 400)
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise BadChatRequest("session_id mangler.")
    if not SESSION_ID_PATTERN.match(session_id):
        raise BadChatRequest(
            "session_id må kun indeholde bogstaver, tal, - og _ og højst være 64 tegn."
        )
    text = body.get("text")
    if not isinstance(text, str):
        raise BadChatRequest("text mangler: skriv en besked.")
    if not text.strip():
        raise BadChatRequest("Beskeden er tom. Skriv dit spørgsmål, og prøv igen.")
    if len(text) > max_chars:
        raise BadChatRequest(
            f"Beskeden er for lang ({len(text)} tegn). Skriv højst {max_chars} tegn ad gangen.",
            413,
        )
    return session_id, text


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

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
        yield
        await app.state.hub.stop()
        await rasa.close()

    app = FastAPI(
        title="Borgerservice-assistenten", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings

    @app.exception_handler(BadChatRequest)
    async def _bad_request(request: Request, exc: BadChatRequest) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": "Forespørgslen er ikke gyldig."}, status_code=422)

    @app.post("/api/chat")
    async def chat(request: Request) -> JSONResponse:
        session_id, text = parse_chat_request(await request.body(), settings.max_message_chars)
        reply = await request.app.state.chat.handle(session_id, text)
        return JSONResponse(reply.to_json(), status_code=reply.status_code)

    @app.get("/api/conversation/{session_id}")
    async def conversation(session_id: str, after: int = 0) -> JSONResponse:
        """The citizen's own transcript, e.g. to restore the chat after a page reload."""
        _check_session_id(session_id)
        messages = await run_in_threadpool(
            messages_after, settings.database_url, session_id, after
        )
        return JSONResponse({"session_id": session_id, "messages": messages})

    @app.websocket("/api/ws/{session_id}")
    async def citizen_socket(websocket: WebSocket, session_id: str, after: int = 0) -> None:
        """Live messages of one conversation: first everything after `after`, then new ones."""
        if not SESSION_ID_PATTERN.match(session_id):
            await websocket.close(code=4400)
            return
        await websocket.accept()
        hub: Hub = websocket.app.state.hub
        queue = hub.subscribe(session_id)
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

            await forward_events(websocket, queue, send)
        except WebSocketDisconnect:
            pass
        finally:
            hub.unsubscribe(session_id, queue)

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
    app.include_router(staff_router)
    app.include_router(articles_router)
    app.include_router(insight_router)
    app.add_exception_handler(ArticleInvalid, invalid_handler)
    add_cors(app, settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _check_session_id(session_id: str) -> None:
    if not SESSION_ID_PATTERN.match(session_id):
        raise BadChatRequest("Ugyldigt session_id.")


def _database_ok(settings: Settings) -> bool:
    try:
        with session_scope(settings.database_url) as session:
            session.execute(sql_text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", reported as such
        log.exception("database health check failed")
        return False
