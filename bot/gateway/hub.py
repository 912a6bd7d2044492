"""Fan-out of conversation events (new messages, handoff changes) to live WebSockets.

The transcript in the database is the source of truth; the hub only says "something new".
A subscriber that reconnects catches up from the database by sequence number, so a dropped
connection or a gateway restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

log = logging.getLogger(__name__)

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

    async def start(self) -> None:
        """Nothing to connect for the in-process hub."""

    async def stop(self) -> None:
        """Nothing to disconnect for the in-process hub."""


class RedisHub(Hub):
    """Hub shared by several gateway instances through Redis pub/sub.

    Every event goes through Redis, also to subscribers of this instance, so all instances
    see events in the same order. Local delivery is the in-process hub's.
    """

    PREFIX = "borgerservice:events:"

    def __init__(self, url: str, queue_size: int = 100) -> None:
        super().__init__(queue_size)
        self._url = url
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self._url)
        pubsub = self._redis.pubsub()
        await pubsub.psubscribe(f"{self.PREFIX}*")
        self._listener = asyncio.create_task(self._listen(pubsub))

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, channel: str, event: Event) -> None:
        await self._redis.publish(f"{self.PREFIX}{channel}", json.dumps(event))

    async def _listen(self, pubsub: Any) -> None:
        while True:
            try:
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    channel = message["channel"].decode()[len(self.PREFIX):]
                    await Hub.publish(self, channel, json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep listening; clients catch up from the DB
                log.exception("Redis event listener failed; reconnecting")
                await asyncio.sleep(1)
                await pubsub.psubscribe(f"{self.PREFIX}*")


def make_hub(redis_url: str) -> Hub:
    return RedisHub(redis_url) if redis_url else Hub()
