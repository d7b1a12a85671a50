"""Budgets several collectors share: token buckets in the database, one per platform, account
or egress address (``limiter.Identity``).

Each worker of a shared study (``collect/shared.py``) spends tokens it was granted from the
study's bucket (``collect_budgets``): a grant refills the bucket to the platform clock's now
and takes up to ``chunk`` whole tokens, in one row-locked ``UPDATE … RETURNING``. A token
exists once, in the database, so the sum of all workers' requests never exceeds the budget
(capacity ``max(1, rate)``, as ``TokenBucket``); a worker's unspent grant is part of that sum.
The grant is small (a twentieth of a second's budget) so that an idle worker holds little.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy import Engine, text

from memoryhole.clock import Clock
from memoryhole.collect.limiter import Identity, PlatformBudgets, TokenBucket

GRANT_SECONDS = 0.05  # of budget taken per grant (at least one token)

_GRANT = text(
    """
    WITH b AS (
        SELECT name,
               LEAST(:capacity, tokens + GREATEST(0, :now - updated) * :rate) AS level,
               GREATEST(updated, :now) AS at
        FROM collect_budgets WHERE name = :name FOR UPDATE
    )
    UPDATE collect_budgets AS c
    SET tokens = GREATEST(0, b.level - LEAST(FLOOR(b.level + 1e-9), :chunk)), updated = b.at
    FROM b WHERE c.name = b.name
    RETURNING LEAST(FLOOR(b.level + 1e-9), :chunk) AS granted, b.level AS level
    """
)
_CREATE = text(
    "INSERT INTO collect_budgets (name, tokens, updated) VALUES (:name, :capacity, :now) "
    "ON CONFLICT (name) DO NOTHING"
)


class SharedBucket(TokenBucket):
    """A ``TokenBucket`` whose tokens come from the study's bucket in the database."""

    def __init__(self, clock: Clock, rate: float, engine: Engine, name: str) -> None:
        super().__init__(clock, rate)
        self.engine, self.name = engine, name
        self.tokens = 0.0  # granted, not spent yet
        self.chunk = max(1.0, math.floor(rate * GRANT_SECONDS))
        self.granted = 0.0  # in all (a benchmark's count)
        self._wait = 0.0  # platform seconds until the database's bucket has a token
        with engine.begin() as connection:
            connection.execute(_CREATE, {"name": name, "capacity": self.capacity, "now": 0.0})

    def has_token(self, now: float) -> bool:
        if now < self.paused_until:
            return False
        if self.tokens < 1.0 - 1e-9:
            self._grant(now)
        return self.tokens >= 1.0 - 1e-9

    def _take(self, now: float) -> bool:
        if self.has_token(now):
            self.spend()
            return True
        return False

    def _grant(self, now: float) -> None:
        with self.engine.begin() as connection:
            granted, level = connection.execute(
                _GRANT,
                {
                    "name": self.name,
                    "capacity": self.capacity,
                    "now": now,
                    "rate": self.rate,
                    "chunk": self.chunk,
                },
            ).one()
        self.tokens += float(granted)
        self.granted += float(granted)
        self._wait = max(0.0, (1.0 - (float(level) - float(granted))) / self.rate)

    def _refill(self, now: float) -> None:
        return None  # only the database's bucket refills

    async def acquire(self) -> None:
        while True:
            now = self.clock.now()
            if self._take(now):
                return
            if now < self.paused_until:
                await self.clock.sleep_until(self.paused_until)
                continue
            wake = now + max(self._wait, 1e-3 / self.rate)
            await self.clock.sleep_until(wake if wake > now else math.nextafter(now, math.inf))

    def ready_in(self) -> float:
        now = self.clock.now()
        if now < self.paused_until:
            return self.paused_until - now
        return 0.0 if self.tokens >= 1.0 - 1e-9 else self._wait


class SharedBudgets(PlatformBudgets):
    """``PlatformBudgets`` whose buckets are the study's, in its database: a platform's, or an
    account's and an egress address's (``Identity``), each shared by every worker that spends
    it."""

    def __init__(
        self,
        clock: Clock,
        default_rate: float,
        rates: Mapping[str, float],
        engine: Engine,
        identity: Identity | None = None,
    ) -> None:
        super().__init__(clock, default_rate, rates, identity)
        self.engine = engine

    def make_bucket(self, name: str, rate: float) -> TokenBucket:
        return SharedBucket(self.clock, rate, self.engine, name)
