"""FastAPI application: the chat API, pages and health checks (DESIGN.md, "Chat API")."""

from __future__ import annotations

import logging
import platform
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text as sql_text
from starlette.concurrency import run_in_threadpool

from bot.core.config import Settings, load_settings
from bot.db import session as db
from bot.db.session import session_scope
from bot.gateway.chat import ChatService
from bot.gateway.errors import install_error_handler
from bot.gateway.hub import make_hub
from bot.gateway.rasa_client import RasaClient
from bot.gateway.routes.articles import invalid_handler
from bot.gateway.routes.articles import router as articles_router
from bot.gateway.routes.citizen import add_cors
from bot.gateway.routes.citizen import router as citizen_router
from bot.gateway.routes.insight import router as insight_router
from bot.gateway.routes.staff import router as staff_router
from bot.services.articles import ArticleInvalid
from bot.services.staff_auth import StaffPolicy

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, rasa: RasaClient | None = None) -> FastAPI:
    """The gateway; uvicorn's factory call builds the settings here, once, from the
    environment (a bad BORGER_* value stops it at start). Tests pass their own settings and
    a stand-in for Rasa (anything with RasaClient's methods) to run it in-process."""
    settings = settings or load_settings()
    db.configure(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        client = rasa or RasaClient(
            settings.rasa_url,
            settings.actions_url,
            settings.rasa_timeout_seconds,
            settings.rasa_token,
        )
        app.state.rasa = client
        # Redis pub/sub when several gateway instances share the conversations.
        app.state.hub = make_hub(settings.redis_url)
        await app.state.hub.start()
        app.state.chat = ChatService(settings, client, app.state.hub)
        yield
        await app.state.hub.stop()
        await client.close()

    app = FastAPI(
        title="Borgerservice-assistenten", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.staff_policy = StaffPolicy.from_settings(settings)

    install_error_handler(app)

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
        python = {
            "gateway": platform.python_version(),
            "actions": await rasa.actions_python(),
            "rasa": await rasa.rasa_python(),
        }
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": checks, "python": python},
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


def _database_ok(settings: Settings) -> bool:
    try:
        with session_scope(settings.database_url) as session:
            session.execute(sql_text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", reported as such
        log.exception("database health check failed")
        return False
