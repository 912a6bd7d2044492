"""Fan-out of conversation events (new messages, handoff changes) to live WebSockets.

The transcript in the database is the source of truth; the hub only says "something new".
A subscriber that reconnects catches up from the database by sequence number, so a dropped
connection or a gateway restart loses nothing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

Event = dict[str, Any]


class Hub:
    """In-process hub: enough for one gateway instance."""

    def __init__(self, queue_size: int = 100) -> None:
        self._subscribers: defaultdict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._queue_size = queue_size

    def subscribe(self, channel: str) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers[channel].add(queue)
        return queue

    def unsubscribe(self, channel: str, queue: asyncio.Queue[Event]) -> None:
        subscribers = self._subscribers.get(channel)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[channel]

    async def publish(self, channel: str, event: Event) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():
                # A stuck client must not block everyone; it will catch up on reconnect.
                queue.get_nowait()
            queue.put_nowait(event)

    def subscriber_count(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))
