from __future__ import annotations

import asyncio

from memoryhole.clock import VirtualClock
from memoryhole.collect.limiter import TokenBucket


def test_bucket_spends_at_most_its_rate_on_the_injected_clock() -> None:
    clock = VirtualClock(0.0)
    bucket = TokenBucket(clock, rate=10.0)

    async def take(n: int) -> None:
        for _ in range(n):
            await bucket.acquire()

    asyncio.run(take(110))
    # 10 tokens of burst, then 100 more at 10/s → 10 seconds of virtual time.
    assert abs(clock.now() - 10.0) < 1e-6


def test_pause_until_blocks_every_request_until_then() -> None:
    clock = VirtualClock(0.0)
    bucket = TokenBucket(clock, rate=100.0)
    bucket.pause_until(30.0)
    asyncio.run(bucket.acquire())
    assert clock.now() >= 30.0
