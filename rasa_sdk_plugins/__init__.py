"""rasa-sdk's plugin hook (it imports a top-level package of this name when it starts): the
action server also answers ``GET /version`` with its Python and rasa-sdk versions, which the
gateway's /healthz reports, and starts building the answer engine as soon as it listens."""

from __future__ import annotations

import logging
import platform
import sys
import threading
import time
import warnings
from importlib import metadata
from typing import Any

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

hookimpl = pluggy.HookimplMarker("rasa_sdk")
log = logging.getLogger(__name__)
# Set once the answer engine is built: before that, the embedding model is not loaded, and a
# prefetch would load it on the event loop.
_engine_ready = threading.Event()

# rasa-sdk warns on every call that Rasa 3.6 is not its own minor version. This pairing (Rasa
# 3.6 server, rasa-sdk 3.21 action server, HTTP webhook, no events Rasa 3.6 does not know) is
# checked form by form in the live tests, so the warning would only drown the log.
warnings.filterwarnings("ignore", message=r".*not be compatible with this version of rasa_sdk")
warnings.filterwarnings("ignore", message=r".*rasa_sdk.*compatib", module=r"rasa_sdk\.utils")


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "rasa_sdk": metadata.version("rasa-sdk"),
        "answer_engine": "ready" if _engine_ready.is_set() else "building",
    }


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    async def version(request: Request) -> HTTPResponse:
        return response.json(versions())

    async def prefetch(request: Request) -> HTTPResponse:
        """The gateway's "a question is coming" (see bot.services.answers.prefetch). Only
        ever a head start: whatever goes wrong here, the answer embeds the text itself."""
        try:
            body = request.json if request.body else None
        except Exception:  # noqa: BLE001 - Sanic's "not JSON": no head start, nothing else
            body = None
        text = body.get("text") if isinstance(body, dict) else None
        started = False
        if isinstance(text, str) and _engine_ready.is_set():
            from actions import config
            from bot.services.answers import prefetch as start_prefetch

            settings = config.settings
            started = start_prefetch(text, settings.cache_dir, settings.max_message_chars)
        return response.json({"started": started}, status=202)

    app.add_route(version, "/version", methods=["GET"], name="borger_version")
    app.add_route(prefetch, "/prefetch", methods=["POST"], name="borger_prefetch")
    app.register_listener(_build_answer_engine, "after_server_start")


async def _build_answer_engine(app: Sanic, _loop: Any) -> None:
    """Started as soon as the server listens, so the first citizen's question finds the engine
    built: a few seconds with the article vectors cached, about a minute on a fresh machine,
    where every article is embedded once (longer than Sanic lets a worker take to start)."""
    threading.Thread(target=_engine, name="build-answer-engine", daemon=True).start()


def _engine() -> None:
    from actions import config

    started = time.monotonic()
    try:
        engine = config.engine
    except Exception:  # noqa: BLE001 - the first question builds it again and reports why
        log.exception("could not build the answer engine at start")
        return
    _engine_ready.set()
    # Printed, not logged: Sanic's worker process, where this runs, has no log handler set up
    # below warnings.
    print(
        f"Answer engine ready: {len(engine.articles)} articles in "
        f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True,
    )


def init_hooks(manager: Any) -> None:
    """Called by rasa_sdk.plugin with its plugin manager."""
    manager.register(sys.modules[__name__])
