"""Rate limits per chat session and per client address, and the number of open WebSockets
per address, shared by every gateway instance through Redis when BORGER_REDIS_URL is set
(in-process otherwise).

Limits are messages per minute (BORGER_RATE_LIMIT_SESSION, BORGER_RATE_LIMIT_ADDRESS; 0 turns
one off, for benchmarks). They are set so that a person never meets them — a whole library's
public network may share one address — but a script does.

In-process: a sliding log of the last minute per key. Redis: a fixed one-minute window per key
(INCR + EXPIRE), which lets at most twice the limit through at a window edge; good enough to
stop a flood, and one round trip per check.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict, deque
from typing import Any

WINDOW_SECONDS = 60.0
_PREFIX = "borgerservice:rl:"
_SOCKETS_PREFIX = "borgerservice:ws:"
# An open-socket counter lives this long without a change (a crashed instance's sockets).
_SOCKET_TTL_SECONDS = 3600


class RateLimited(Exception):
    """Over a limit; ``retry_after`` whole seconds until the next message is allowed."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
        self.message = message


class Limiter:
    """In-process limits: enough for one gateway instance."""

    def __init__(self) -> None:
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._sockets: defaultdict[str, int] = defaultdict(int)
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Nothing to connect in-process."""

    async def stop(self) -> None:
        """Nothing to disconnect in-process."""

    async def hit(self, key: str, per_minute: int) -> float:
        """Count one message; 0.0 when allowed, else seconds until one is allowed again."""
        if per_minute <= 0:
            return 0.0
        now = time.monotonic()
        async with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= per_minute:
                return hits[0] + WINDOW_SECONDS - now
            hits.append(now)
            if len(self._hits) > 100_000:
                self._forget_idle(now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - WINDOW_SECONDS]:
            del self._hits[key]

    async def open_socket(self, address: str, maximum: int) -> bool:
        if maximum <= 0:
            return True
        async with self._lock:
            if self._sockets[address] >= maximum:
                return False
            self._sockets[address] += 1
            return True

    async def close_socket(self, address: str, maximum: int) -> None:
        if maximum <= 0:
            return
        async with self._lock:
            self._sockets[address] -= 1
            if self._sockets[address] <= 0:
                del self._sockets[address]


class RedisLimiter(Limiter):
    """The same limits across gateway instances."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._redis: Any = None

    async def start(self) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self._url)

    async def stop(self) -> None:
        if self._redis is not None:
            await self._redis.close()

    async def hit(self, key: str, per_minute: int) -> float:
        if per_minute <= 0:
            return 0.0
        now = time.time()
        window = math.floor(now / WINDOW_SECONDS)
        name = f"{_PREFIX}{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(name).expire(name, int(WINDOW_SECONDS) + 5).execute()
        if count > per_minute:
            return (window + 1) * WINDOW_SECONDS - now
        return 0.0

    async def open_socket(self, address: str, maximum: int) -> bool:
        if maximum <= 0:
            return True
        name = f"{_SOCKETS_PREFIX}{address}"
        async with self._redis.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(name).expire(name, _SOCKET_TTL_SECONDS).execute()
        if count > maximum:
            await self._redis.decr(name)
            return False
        return True

    async def close_socket(self, address: str, maximum: int) -> None:
        if maximum > 0:
            await self._redis.decr(f"{_SOCKETS_PREFIX}{address}")


def make_limiter(redis_url: str) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else Limiter()


TOO_FAST = (
    "Du sender beskeder meget hurtigt. Vent et øjeblik, og prøv så igen – så svarer jeg dig."
)
TOO_MANY_SOCKETS = "Der er for mange åbne forbindelser fra din netværksadresse. Prøv igen om lidt."


async def check(
    limiter: Limiter, bucket: str, limits: list[tuple[str, int]], message: str = TOO_FAST
) -> None:
    """Count one message against each (key, per-minute limit); raise RateLimited when any
    is over. Every limit is counted, so a flood on one session also uses up its address."""
    waits = [await limiter.hit(f"{bucket}:{key}", limit) for key, limit in limits]
    wait = max(waits, default=0.0)
    if wait > 0:
        raise RateLimited(math.ceil(wait), message)
