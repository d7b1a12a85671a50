"""The first, simple schedule: check a post at gaps of half its age (``schedule/base.py`` has
the interface, ``schedule/scheduler.py`` the budget-aware scheduler).

``AgeProportional``: the gap between checks grows with the post's age (half its age, clamped
between ``first_check_after`` and ``max_interval``), so young posts, which are removed most
often, are checked often, and every post keeps being checked until the horizon: when the next
gap would pass the horizon, the last check is placed at the horizon itself, never dropped.
After a removal a post is checked ``confirmations`` more times (to catch "ghost" posts that
come back), then left alone. Transient failures are retried with exponential back-off (and at
least the server's Retry-After), never later than the regular check would have been.

Every decision is a function of persisted state (times and counters in the store), so a
collector that resumes after a crash schedules exactly as one that never stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from memoryhole.model import Verdict
from memoryhole.schedule.base import PostView


@dataclass(frozen=True, slots=True)
class AgeProportional:
    first_check_after: float = 60.0
    max_interval: float = 6 * 3600.0
    horizon: float = 7 * 86400.0
    retry_base: float = 5.0
    confirmations: int = 2

    def regular_gap(self, age: float) -> float:
        return min(self.max_interval, max(self.first_check_after, age / 2))

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        return self._bounded(published_at, now, now + self.first_check_after)

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        """Next check after a definitive answer, or None when the post needs no more checks."""
        removed_at = verdict.first_seen_removed_at
        if verdict.status.is_removal and removed_at is not None:
            gap = self.regular_gap(removed_at - published_at)
            if now >= removed_at + self.confirmations * gap - 1e-9:
                return None
            return self._bounded(published_at, now, now + gap)
        return self._bounded(published_at, now, now + self.regular_gap(now - published_at))

    def after_failure(
        self,
        published_at: float,
        now: float,
        failures: int,
        retry_after: float | None,
        *,
        post: PostView | None = None,
    ) -> float | None:
        backoff: float = self.retry_base * 2.0 ** min(failures - 1, 16)
        gap = min(backoff, self.regular_gap(now - published_at))
        if retry_after is not None:
            gap = max(gap, retry_after)
        # A failed check at or near the horizon is retried past it: the last check is kept.
        if now >= published_at + self.horizon + self.max_interval:
            return None
        return now + gap

    def _bounded(self, published_at: float, now: float, when: float) -> float | None:
        end = published_at + self.horizon
        if now >= end:
            return None
        return min(when, end)
