"""The simulator's own rate limit: past it, requests are refused with 429 and Retry-After."""

from __future__ import annotations

import math

from memoryhole.clock import Clock


class RefusingBucket:
    """A token bucket that refuses instead of waiting (what a platform does to a client)."""

    def __init__(self, rate: float, clock: Clock, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.clock = clock
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.updated = clock.now()

    def admit(self) -> float | None:
        """None if the request may go ahead, else whole seconds to wait (for Retry-After)."""
        now = self.clock.now()
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return float(max(1, math.ceil((1.0 - self.tokens) / self.rate)))
