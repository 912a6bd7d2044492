"""rasa-sdk's plugin hook (it imports a top-level package of this name when it starts): the
action server also answers ``GET /version`` with its Python and rasa-sdk versions, which the
gateway's /healthz reports."""

from __future__ import annotations

import platform
import sys
import warnings
from importlib import metadata
from typing import Any

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

hookimpl = pluggy.HookimplMarker("rasa_sdk")

# rasa-sdk warns on every call that Rasa 3.6 is not its own minor version. This pairing (Rasa
# 3.6 server, rasa-sdk 3.21 action server, HTTP webhook, no events Rasa 3.6 does not know) is
# checked form by form in the live tests, so the warning would only drown the log.
warnings.filterwarnings("ignore", message=r".*not be compatible with this version of rasa_sdk")
warnings.filterwarnings("ignore", message=r".*rasa_sdk.*compatib", module=r"rasa_sdk\.utils")


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "rasa_sdk": metadata.version("rasa-sdk")}


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    async def version(request: Request) -> HTTPResponse:
        return response.json(versions())

    app.add_route(version, "/version", methods=["GET"], name="borger_version")


def init_hooks(manager: Any) -> None:
    """Called by rasa_sdk.plugin with its plugin manager."""
    manager.register(sys.modules[__name__])
