"""Forwarding hub events to a WebSocket until the client goes away."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import WebSocket

from bot.gateway import metrics
from bot.gateway.hub import Event


async def forward_events(
    websocket: WebSocket,
    queue: asyncio.Queue[Event],
    send: Callable[[Event], Awaitable[None]],
    on_message: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """Send queued events until the client disconnects.

    We listen to the socket at the same time: without a pending receive, a client that left is
    only noticed at the next event, and the handler (and a server shutdown) waits until then.
    Text the client sends (pings, or commands for `on_message`) is passed on.
    """
    receive: asyncio.Future = asyncio.ensure_future(websocket.receive())
    get: asyncio.Future = asyncio.ensure_future(queue.get())
    figures = metrics.of(websocket)
    if figures is not None:
        figures.websockets.inc()
    try:
        while True:
            done, _ = await asyncio.wait({receive, get}, return_when=asyncio.FIRST_COMPLETED)
            if get in done:
                await send(get.result())
                get = asyncio.ensure_future(queue.get())
            if receive in done:
                message = receive.result()
                if message["type"] == "websocket.disconnect":
                    return
                if on_message is not None and message.get("text") is not None:
                    await on_message(message["text"])
                receive = asyncio.ensure_future(websocket.receive())
    finally:
        receive.cancel()
        get.cancel()
        if figures is not None:
            figures.websockets.dec()
