"""A token bucket on the injected clock, so budgets mean the same in real and virtual time.

(pyrate-limiter and stamina keep their own wall-clock time; a replay on a virtual clock needs
the limiter and the back-off to wait on the same clock as everything else.)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

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

    def take(self) -> bool:
        """Take a token if one is there now: what ``acquire`` does when it need not wait
        (``if not bucket.take(): await bucket.acquire()`` saves a coroutine per request)."""
        return self._take(self.clock.now())

    def has_token(self, now: float) -> bool:
        """Whether a token is there at ``now`` (without taking it: ``AllBuckets``)."""
        if now < self.paused_until:
            return False
        self._refill(now)
        return self.tokens >= 1.0 - 1e-9

    def spend(self) -> None:
        """Take the token ``has_token`` found."""
        self.tokens = max(0.0, self.tokens - 1.0)

    def _take(self, now: float) -> bool:
        if now < self.paused_until:
            return False
        if now > self.updated:  # _refill, inline: this runs for every request
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        # The tolerance keeps a float deficit of ~1e-16 from asking for a sleep too short to
        # move a virtual clock at all (which would spin forever).
        if self.tokens >= 1.0 - 1e-9:
            self.tokens = max(0.0, self.tokens - 1.0)
            return True
        return False

    async def acquire(self) -> None:
        while True:
            now = self.clock.now()
            if self._take(now):
                return
            if now < self.paused_until:
                await self.clock.sleep_until(self.paused_until)
                continue
            wake = now + (1.0 - self.tokens) / self.rate
            # A deficit too small to move a clock at ~1.7e9 s would never refill: wake later.
            await self.clock.sleep_until(wake if wake > now else math.nextafter(now, math.inf))

    def full_at(self) -> float:
        """Platform time from which the bucket is full: a token not taken by then is lost.
        From the bucket's own counts only (not the clock), so a resumed run, whose clock
        starts behind, computes it alike."""
        full = self.updated + max(self.capacity - self.tokens, 0.0) / self.rate
        if self.paused_until > full:
            return self.paused_until + self.capacity / self.rate
        return full

    def ready_in(self) -> float:
        """Platform seconds until ``acquire`` would return at once (0.0: a token is there)."""
        now = self.clock.now()
        if now < self.paused_until:
            return self.paused_until - now
        self._refill(now)
        if self.tokens >= 1.0 - 1e-9:
            return 0.0
        return (1.0 - self.tokens) / self.rate


class AllBuckets(TokenBucket):
    """A request that must spend a token of each of several buckets: an account's and its
    egress address's (``Identity``). It waits for the scarcest; a token is taken of each only
    when every one has one, so none is spent for a request that is not sent."""

    def __init__(self, clock: Clock, leaves: list[TokenBucket]) -> None:
        super().__init__(clock, min(leaf.rate for leaf in leaves))
        self.leaves = leaves
        self.capacity = min(leaf.capacity for leaf in leaves)

    def has_token(self, now: float) -> bool:
        return all(leaf.has_token(now) for leaf in self.leaves)

    def spend(self) -> None:
        for leaf in self.leaves:
            leaf.spend()

    def _take(self, now: float) -> bool:
        if self.has_token(now):
            self.spend()
            return True
        return False

    def pause_until(self, when: float) -> None:
        for leaf in self.leaves:
            leaf.pause_until(when)

    async def acquire(self) -> None:
        while True:
            now = self.clock.now()
            if self._take(now):
                return
            wait = max(self.ready_in(), 1e-3 / self.rate)
            await self.clock.sleep_until(
                now + wait if now + wait > now else math.nextafter(now, math.inf)
            )

    def full_at(self) -> float:
        return max(leaf.full_at() for leaf in self.leaves)

    def ready_in(self) -> float:
        return max(leaf.ready_in() for leaf in self.leaves)


@dataclass(frozen=True)
class Identity:
    """Whom a collector asks as: an account per platform (``[accounts.NAME]``) and the address
    its requests leave from (``[egress.NAME]``), each with its budget. A request to a platform
    spends a token of the account's bucket (else the platform's) and of the address's."""

    #: platform -> (account name, its budget)
    accounts: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    egress: tuple[str, float] | None = None

    def buckets(self, platform: str, platform_rate: float) -> list[tuple[str, float]]:
        """The buckets (name, rate) a request to ``platform`` spends."""
        account = self.accounts.get(platform)
        found = [
            (f"{platform}/account/{account[0]}", account[1])
            if account
            else (platform, platform_rate)
        ]
        if self.egress is not None:
            found.append((f"{platform}/egress/{self.egress[0]}", self.egress[1]))
        return found


class PlatformBudgets:
    """One token bucket per platform: ``[platforms.NAME] budget_per_second`` where the study
    sets one, else the collector-wide ``[collector] budget_per_second``.

    With several platforms the collector *parks* an event whose platform has no token yet
    instead of letting a worker wait for it, so a slow platform's backlog never holds up the
    others (``park`` / ``take_ready``). Parked events are kept in time order per platform; an
    event that was rescheduled meanwhile is dropped by the collector when it comes out.
    """

    def __init__(
        self,
        clock: Clock,
        default_rate: float,
        rates: Mapping[str, float],
        identity: Identity | None = None,
    ) -> None:
        self.clock = clock
        self.default_rate = default_rate
        self.rates = dict(rates)
        self.identity = identity or Identity()
        self._buckets: dict[str, TokenBucket] = {}  # by platform
        self._leaves: dict[str, TokenBucket] = {}  # by bucket name (a platform, an account...)
        self._levels: dict[str, list[float | None]] = {}  # restored, for leaves not made yet
        self._parked: dict[str, list[tuple[float, int, int]]] = {}

    def rate(self, platform: str) -> float:
        """The rate a request to ``platform`` can be sent at (the scarcest of its buckets)."""
        return min(
            rate for _, rate in self.identity.buckets(platform, self.platform_rate(platform))
        )

    def platform_rate(self, platform: str) -> float:
        return self.rates.get(platform, self.default_rate)

    def bucket(self, platform: str) -> TokenBucket:
        bucket = self._buckets.get(platform)
        if bucket is None:
            wanted = self.identity.buckets(platform, self.platform_rate(platform))
            leaves = [self._leaf(name, rate) for name, rate in wanted]
            bucket = leaves[0] if len(leaves) == 1 else AllBuckets(self.clock, leaves)
            self._buckets[platform] = bucket
        return bucket

    def _leaf(self, name: str, rate: float) -> TokenBucket:
        leaf = self._leaves.get(name)
        if leaf is None:
            leaf = self._leaves[name] = self.make_bucket(name, rate)
            if name in self._levels:
                _set_level(leaf, self._levels.pop(name))
        return leaf

    def make_bucket(self, name: str, rate: float) -> TokenBucket:
        return TokenBucket(self.clock, rate)

    def levels(self) -> dict[str, list[float | None]]:
        """Each bucket's tokens, when they were counted and any pause (JSON-able), for the
        collector's durable state: a resumed run goes on with the budget it had left."""
        made = {
            name: [b.tokens, b.updated, b.paused_until if b.paused_until > -math.inf else None]
            for name, b in self._leaves.items()
        }
        return dict(sorted({**self._levels, **made}.items()))  # restored, not made yet: as is

    def restore_levels(self, levels: Mapping[str, list[float | None]]) -> None:
        for name, level in levels.items():
            leaf = self._leaves.get(name)
            if leaf is None:
                self._levels[name] = list(level)  # taken when the bucket is made
            else:
                _set_level(leaf, level)

    def park(self, platform: str, event: tuple[float, int, int]) -> None:
        heapq.heappush(self._parked.setdefault(platform, []), event)

    @property
    def parked(self) -> int:
        return sum(len(events) for events in self._parked.values())

    def earliest_parked(self) -> float | None:
        heads = [events[0][0] for events in self._parked.values() if events]
        return min(heads) if heads else None

    def take_ready(self) -> tuple[float, int, int] | None:
        """The earliest parked event whose platform has a token now, or None."""
        best: tuple[float, int, int] | None = None
        best_platform = ""
        for platform, events in self._parked.items():
            if (
                events
                and (best is None or events[0] < best)
                and not self.bucket(platform).ready_in()
            ):
                best, best_platform = events[0], platform
        if best is None:
            return None
        heapq.heappop(self._parked[best_platform])
        return best

    def next_ready_in(self) -> float | None:
        """Platform seconds until some parked event's platform has a token (None: none parked)."""
        waits = [self.bucket(p).ready_in() for p, events in self._parked.items() if events]
        return min(waits) if waits else None


def _set_level(bucket: TokenBucket, level: list[float | None]) -> None:
    tokens, updated, paused = level
    bucket.tokens = min(float(tokens or 0.0), bucket.capacity)
    bucket.updated = float(updated or bucket.updated)
    bucket.paused_until = float(paused) if paused is not None else -math.inf
