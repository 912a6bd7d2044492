"""Reading request bodies by hand, so that every rejection gets a clear Danish reason."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from bot.gateway.errors import GatewayError
from bot.gateway.security import TOO_LARGE, parse_json_object

SMALL_BODY_BYTES = 16_000  # staff and handoff requests carry a few fields at most


async def json_object(
    request: Request, *, max_bytes: int | None = None, empty_is_object: bool = False
) -> dict[str, Any]:
    """The body as a JSON object, with the depth, surrogate and NUL checks of
    bot/gateway/security.py (every body is also capped by its FrontDoorMiddleware)."""
    raw = await request.body()
    if max_bytes is not None and len(raw) > max_bytes:
        raise GatewayError(TOO_LARGE, 413)
    return parse_json_object(raw or (b"{}" if empty_is_object else b""))
