"""A tiny Rasa input channel that only answers which Python and Rasa the server runs on.

Mounted by credentials.yml at ``GET /webhooks/version/``; the gateway's /healthz reports it
next to its own and the action server's versions (Rasa's own /version names no interpreter).
It receives no messages.
"""

from __future__ import annotations

import platform
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "rasa": metadata.version("rasa")}


class VersionInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "version"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = Blueprint("borger_version", __name__)

        @blueprint.route("/", methods=["GET"])
        async def version(request: Request) -> HTTPResponse:
            return response.json(versions())

        return blueprint
