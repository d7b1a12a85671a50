"""Injected time. Nothing in memoryhole calls ``time.time()`` for platform time directly.

Three clocks share one protocol:
- ``SystemClock``: the wall clock, for real platforms;
- ``AcceleratedClock``: the simulator's clock, ``speed`` platform seconds per real second,
  shared by the simulator and a collector on the same machine through its origin;
- ``VirtualClock``: advances only when told; a replay of a week runs in seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Current time, epoch seconds on the platform's clock."""
        ...

    async def sleep_until(self, when: float) -> None:
        """Return once ``now() >= when``."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep_until(self, when: float) -> None:
        delay = when - time.time()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass(frozen=True)
class AcceleratedClock:
    """``platform_origin`` at wall time ``wall_origin``, then ``speed`` platform s per wall s."""

    platform_origin: float
    wall_origin: float
    speed: float = 1.0

    def now(self) -> float:
        return self.platform_origin + (time.time() - self.wall_origin) * self.speed

    def to_wall_delay(self, platform_seconds: float) -> float:
        return platform_seconds / self.speed

    async def sleep_until(self, when: float) -> None:
        delay = (when - self.now()) / self.speed
        if delay > 0:
            await asyncio.sleep(delay)


class VirtualClock:
    """A clock that moves only when ``advance_to`` or ``sleep_until`` moves it."""

    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance_to(self, when: float) -> None:
        if when > self._now:
            self._now = when

    async def sleep_until(self, when: float) -> None:
        self.advance_to(when)
