"""A token bucket on the injected clock, so budgets mean the same in real and virtual time.

(pyrate-limiter and stamina keep their own wall-clock time; a replay on a virtual clock needs
the limiter and the back-off to wait on the same clock as everything else.)
"""

from __future__ import annotations

import math

from memoryhole.clock import Clock


class TokenBucket:
    def __init__(self, clock: Clock, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.clock = clock
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.updated = clock.now()
        self.paused_until = float("-inf")

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def pause_until(self, when: float) -> None:
        """The platform asked us to slow down (Retry-After): no requests before ``when``."""
        self.paused_until = max(self.paused_until, when)
        self.tokens = 0.0

    async def acquire(self) -> None:
        while True:
            now = self.clock.now()
            if now < self.paused_until:
                await self.clock.sleep_until(self.paused_until)
                continue
            self._refill(now)
            # The tolerance keeps a float deficit of ~1e-16 from asking for a sleep too short to
            # move a virtual clock at all (which would spin forever).
            if self.tokens >= 1.0 - 1e-9:
                self.tokens = max(0.0, self.tokens - 1.0)
                return
            wake = now + (1.0 - self.tokens) / self.rate
            # A deficit too small to move a clock at ~1.7e9 s would never refill: wake later.
            await self.clock.sleep_until(wake if wake > now else math.nextafter(now, math.inf))
