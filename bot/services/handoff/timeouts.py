"""The worker that turns queued chats nobody took within BORGER_HANDOFF_TIMEOUT_SECONDS into
callback requests (the TIMEOUT transition of bot/core/handoff_states.py).

It sleeps until the next deadline in the database, or until a chat joins the queue (``woken``),
so it needs no polling and picks up where it left off after a restart. The gateway starts one
per instance (bot/gateway/routes/staff.py); several instances are safe, because every expiry is
a conditional update that only one of them wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from bot.db.models import utc_now

log = logging.getLogger(__name__)
MAX_SLEEP_SECONDS = 30.0


async def run_timeout_worker(
    next_expiry: Callable[[], datetime | None],
    expire: Callable[[], Awaitable[object]],
    woken: asyncio.Event,
) -> None:
    """Until cancelled: wait for the earliest deadline (``next_expiry``), then ``expire()``."""
    while True:
        try:
            due = await run_in_threadpool(next_expiry)
            delay = MAX_SLEEP_SECONDS
            if due is not None:
                delay = min(max((due - utc_now()).total_seconds(), 0.0), MAX_SLEEP_SECONDS)
            if delay > 0:
                woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), delay)
                continue
            await expire()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the worker alive through a database hiccup
            log.exception("handoff timeout worker failed; retrying")
            await asyncio.sleep(5)
