"""Reading request bodies by hand, so that every rejection gets a clear Danish reason."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from bot.gateway.errors import GatewayError

SMALL_BODY_BYTES = 16_000  # staff and handoff requests carry a few fields at most


async def json_object(
    request: Request, *, max_bytes: int | None = None, empty_is_object: bool = False
) -> dict[str, Any]:
    raw = await request.body()
    if max_bytes is not None and len(raw) > max_bytes:
        raise GatewayError("Forespørgslen er for stor.", 413)
    try:
        body = json.loads(raw or (b"{}" if empty_is_object else b""))
    except (ValueError, UnicodeDecodeError) as exc:
        raise GatewayError("Forespørgslen er ikke gyldig JSON.", 400) from exc
    if not isinstance(body, dict):
        raise GatewayError("Forespørgslen skal være et JSON-objekt.", 400)
    return body
