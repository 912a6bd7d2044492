"""FastAPI application: the chat API, pages and health checks (DESIGN.md, "Chat API")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text as sql_text
from starlette.concurrency import run_in_threadpool

from bot.core.config import Settings, load_settings
from bot.core.logs import install_log_scrubbing
from bot.db import session as db
from bot.db.session import session_scope
from bot.gateway.chat import ChatService
from bot.gateway.errors import install_error_handler
from bot.gateway.guard import Guard
from bot.gateway.hub import make_hub
from bot.gateway.metrics import GatewayMetrics, may_read
from bot.gateway.rasa_client import RasaClient
from bot.gateway.routes.articles import invalid_handler
from bot.gateway.routes.articles import router as articles_router
from bot.gateway.routes.citizen import add_cors, allowed_origins
from bot.gateway.routes.citizen import router as citizen_router
from bot.gateway.routes.insight import router as insight_router
from bot.gateway.routes.legal import router as legal_router
from bot.gateway.routes.staff import router as staff_router
from bot.gateway.security import FrontDoorMiddleware
from bot.services.articles import ArticleInvalid
from bot.services.notify import Notifier, send_reminders
from bot.services.privacy import purge
from bot.services.staff_auth import StaffPolicy

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, rasa: RasaClient | None = None) -> FastAPI:
    """The gateway; uvicorn's factory call builds the settings here, once, from the
    environment (a bad BORGER_* value stops it at start). Tests pass their own settings and
    a stand-in for Rasa (anything with RasaClient's methods) to run it in-process."""
    settings = settings or load_settings()
    install_log_scrubbing()
    db.configure(settings)
    origins = allowed_origins(settings)
    guard = Guard(settings, origins)

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
        app.state.chat = ChatService(settings, client, app.state.hub, app.state.metrics)
        await guard.limiter.start()
        workers = [
            asyncio.create_task(
                _periodic(
                    "retention purge", settings.purge_every_hours, lambda: _purge_job(settings)
                )
            ),
            asyncio.create_task(
                _periodic(
                    "booking reminders", _REMINDERS_EVERY_HOURS, lambda: _reminder_job(settings)
                )
            ),
        ]
        yield
        for worker in workers:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await app.state.hub.stop()
        await guard.limiter.stop()
        await client.close()

    app = FastAPI(
        title="Borgerservice-assistenten", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.staff_policy = StaffPolicy.from_settings(settings)
    app.state.guard = guard
    app.state.metrics = GatewayMetrics.create()

    install_error_handler(app)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if not may_read(request, settings.metrics_token):
            return JSONResponse({"detail": "Ingen adgang."}, status_code=403)
        queued = await run_in_threadpool(request.app.state.chat.handoff.queue_length)
        body, content_type = request.app.state.metrics.render(queued)
        return Response(body, media_type=content_type)

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
        # Without Rasa or the action server the gateway still serves the staff console, live
        # handoffs and the citizens' "try again shortly": degraded, not down. Still 503, so
        # that the runner and tests waiting for 200 wait for the whole assistant.
        status = "ok" if healthy else "degraded" if checks["database"] else "unavailable"
        python = {
            "gateway": platform.python_version(),
            "actions": await rasa.actions_python(),
            "rasa": await rasa.rasa_python(),
        }
        return JSONResponse(
            {"status": status, "checks": checks, "python": python},
            status_code=200 if healthy else 503,
        )

    @app.get("/livez")
    async def livez() -> JSONResponse:
        """For load balancers: this gateway and its database answer. Rasa is left out: it is
        shared, and when it is down every gateway still serves staff and live handoffs."""
        alive = await run_in_threadpool(_database_ok, settings)
        return JSONResponse(
            {"status": "ok" if alive else "unavailable"}, status_code=200 if alive else 503
        )

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.include_router(citizen_router)
    app.include_router(legal_router)
    app.include_router(staff_router)
    app.include_router(articles_router)
    app.include_router(insight_router)
    app.add_exception_handler(ArticleInvalid, invalid_handler)
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
