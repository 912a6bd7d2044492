"""The rate limiter: in-process for one gateway, Redis (a real server) for several — the
limits hold across instances."""

from __future__ import annotations

import asyncio

import pytest

from bot.gateway.ratelimit import Limiter, RateLimited, RedisLimiter, check


def test_in_process_limit_slides_and_zero_is_off() -> None:
    async def run() -> None:
        limiter = Limiter()
        assert [await limiter.hit("k", 3) for _ in range(3)] == [0.0, 0.0, 0.0]
        wait = await limiter.hit("k", 3)
        assert 59 < wait <= 60
        assert await limiter.hit("other", 3) == 0.0
        assert all([await limiter.hit("free", 0) == 0.0 for _ in range(1000)])
        for _ in range(3):
            await check(limiter, "chat", [("k", 3)])  # its own bucket: "chat:k"
        with pytest.raises(RateLimited) as refused:
            await check(limiter, "chat", [("k", 3)])
        assert refused.value.retry_after == 60 and "Vent" in refused.value.message

    asyncio.run(run())


def test_redis_limits_hold_across_two_gateway_instances(redis_url: str) -> None:
    async def run() -> None:
        first, second = RedisLimiter(redis_url), RedisLimiter(redis_url)
        await first.start()
        await second.start()
        try:
            key = "test:across"
            results = [await (first if i % 2 else second).hit(key, 4) for i in range(6)]
            assert results[:4] == [0.0] * 4 and all(r > 0 for r in results[4:])
            assert await first.open_socket("10.0.0.1", 2)
            assert await second.open_socket("10.0.0.1", 2)
            assert not await first.open_socket("10.0.0.1", 2)
            await second.close_socket("10.0.0.1", 2)
            assert await first.open_socket("10.0.0.1", 2)
        finally:
            await first.stop()
            await second.stop()

    asyncio.run(run())
