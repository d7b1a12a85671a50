"""The schedules memoryhole's scheduler is measured against (``memoryhole bench detect``).

- ``RoundRobin``: every post still being checked, in turn, at a constant request rate: a post
  is checked again after N/rate seconds, N the posts currently being checked (known, not seen
  removed, not past the horizon), which the policy counts as it is told of them.
- ``FixedCadence``: every 5 minutes while a post is younger than 3 hours, then never
  (Weiboscope 3.0).
- ``Geometric``: 1 minute after discovery, then doubling gaps, up to the horizon.
- ``OracleStatic``: the same check ages for every post, chosen *knowing* the scenario's true
  distribution of removal ages (not any post's own): ``optimal_static_ages`` minimises the
  expected detection delay for a number of checks exactly (dynamic programming); the benchmark
  picks the number the request budget sustains. A reference line, not a competitor.
- ``PerAuthor``: each author's timeline polled at a fixed interval (Zhu et al., USENIX Security
  2013, polled watched users once a minute), as many pages as it takes to cover the author's
  posts within the horizon; a post missing from its timeline is confirmed by one single-post
  request. Posts get no other checks.

None of them rechecks a removed post; failures are retried with back-off (``retry_time``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from memoryhole.model import Discovery, Verdict
from memoryhole.schedule.base import (
    ListingPlan,
    ListingRequest,
    PostView,
    TargetView,
    retry_time,
)
from memoryhole.schedule.timelines import AuthorIndex, TrackedPost, order_key

WEEK = 7 * 86400.0


@dataclass
class _Failures:
    horizon: float = WEEK

    def after_failure(
        self,
        published_at: float,
        now: float,
        failures: int,
        retry_after: float | None,
        *,
        post: PostView | None = None,
    ) -> float | None:
        return retry_time(published_at, now, failures, retry_after, horizon=self.horizon)


@dataclass
class RoundRobin(_Failures):
    rate: float = 1.0  # checks per second
    active: int = 0
    _done: set[int] = field(default_factory=set)

    def _next(self, published_at: float, now: float) -> float | None:
        end = published_at + self.horizon
        if now >= end:
            return None
        return min(now + max(1.0, self.active / self.rate), end)

    def _finish(self, post: PostView | None) -> None:
        if post is not None and post.pk not in self._done:
            self._done.add(post.pk)
            self.active -= 1

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        self.active += 1
        return self._next(published_at, now)

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        next_at = None if verdict.status.is_removal else self._next(published_at, now)
        if next_at is None:
            self._finish(post)
        return next_at


@dataclass
class FixedCadence(_Failures):
    interval: float = 300.0
    until_age: float = 3 * 3600.0

    def _next(self, published_at: float, now: float) -> float | None:
        next_at = now + self.interval
        return next_at if next_at - published_at <= self.until_age else None

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        return self._next(published_at, now)

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        return None if verdict.status.is_removal else self._next(published_at, now)


@dataclass
class Geometric(_Failures):
    first: float = 60.0
    factor: float = 2.0

    def _next(self, published_at: float, now: float, checks: int) -> float | None:
        end = published_at + self.horizon
        if now >= end:
            return None
        return min(now + self.first * self.factor ** min(checks, 40), end)

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        return self._next(published_at, now, 0)

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        if verdict.status.is_removal:
            return None
        return self._next(published_at, now, post.checks if post is not None else 0)


@dataclass
class OracleStatic(_Failures):
    ages: Sequence[float] = ()  # check ages, ascending; the last is normally the horizon

    def _next(self, published_at: float, now: float) -> float | None:
        index = bisect.bisect_right(self.ages, now - published_at + 1e-6)
        return published_at + self.ages[index] if index < len(self.ages) else None

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        return self._next(published_at, now)

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        return None if verdict.status.is_removal else self._next(published_at, now)


def optimal_static_ages(
    removal_ages: Sequence[float],
    checks: int,
    horizon: float,
    *,
    start: float = 0.0,
    grid: int = 320,
) -> list[float]:
    """The ``checks`` ages (the last one the horizon) minimising the mean detection delay of
    removals at ``removal_ages``, over a log-spaced grid of candidate ages (exact DP).

    The delay of a removal at age t is the first check age at or after t minus t; removals
    before ``start`` (before a post is first seen) are not counted.
    """
    if checks < 1:
        raise ValueError("at least one check")
    ages = np.sort(np.asarray([a for a in removal_ages if start < a <= horizon], dtype=float))
    lo = max(start, 1.0)
    points = np.unique(
        np.concatenate([[start], np.geomspace(lo, horizon, grid), [horizon]]).clip(start, horizon)
    )
    if len(ages) == 0:
        return [horizon]
    # Q(g) = removals at ages ≤ g, T(g) = sum of those ages; cost(i, j) = Σ (g_j − t), t in
    # (g_i, g_j] = g_j·(Q_j − Q_i) − (T_j − T_i).
    sums = np.concatenate([[0.0], np.cumsum(ages)])
    counts = np.searchsorted(ages, points, side="right")
    q, t = counts.astype(float), sums[counts]
    g = points
    cost = g[None, :] * (q[None, :] - q[:, None]) - (t[None, :] - t[:, None])
    cost = np.where(np.arange(len(g))[:, None] < np.arange(len(g))[None, :], cost, np.inf)
    best = cost[0].copy()  # one check at g_j, starting from g_0
    choice: list[np.ndarray] = []
    for _ in range(1, checks):
        total = best[:, None] + cost
        arg = np.argmin(total, axis=0)
        best = total[arg, np.arange(len(g))]
        choice.append(arg)
    end = len(g) - 1
    path = [end]
    for arg in reversed(choice):
        path.append(int(arg[path[-1]]))
    result = sorted({float(g[i]) for i in path if i > 0 or start > 0})
    return [a for a in result if a > start] or [horizon]


def expected_delay(removal_ages: Sequence[float], check_ages: Sequence[float]) -> float:
    """Mean delay of the removals caught by checks at these ages (those after the last one
    are not caught and not counted)."""
    checks = sorted(check_ages)
    delays = []
    for age in removal_ages:
        index = bisect.bisect_left(checks, age)
        if index < len(checks):
            delays.append(checks[index] - age)
    return sum(delays) / len(delays) if delays else math.nan


class PerAuthor(_Failures):
    """Zhu et al.: every author's timeline every ``interval`` seconds, all pages."""

    def __init__(self, interval: float, *, horizon: float = WEEK, page_size: int = 50) -> None:
        super().__init__(horizon)
        self.interval = interval
        self.page_size = page_size
        self.index = AuthorIndex()
        self.tracked: dict[int, tuple[str, TrackedPost]] = {}
        self._woken: list[str] = []

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        if post is not None:
            tracked = TrackedPost(post.pk, post.post_id, published_at)
            self.tracked[post.pk] = (post.author_id, tracked)
            author = self.index.author(post.author_id)
            author.add(tracked)
            if author.poll_at is None and not author.suspended:
                self._woken.append(post.author_id)
        return None  # no single-post checks: the timeline covers it

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        found = self.tracked.get(post.pk) if post is not None else None
        if found is not None and verdict.status.is_removal:
            found[1].live = False
        return None

    def listing_request(self, target: TargetView, now: float) -> ListingRequest:
        if target.target.kind != "user":
            return ListingRequest(target.cursor)
        author = self.index.bind_target(target.target.key, target.pk)
        if author.page_cursor is not None:
            return ListingRequest(author.page_cursor)
        live = [] if author.suspended else author.live_since(now - self.horizon)
        if not live:
            author.poll_at = None
            return ListingRequest(None, postpone_until=now + 10 * self.horizon)
        if author.poll_at is not None and author.poll_at > now + 1e-6:
            return ListingRequest(None, postpone_until=author.poll_at)
        author.round_started = now
        return ListingRequest(author.cursor_before(live[0]))

    def on_listing(
        self,
        target: TargetView,
        request: ListingRequest,
        discovery: Discovery,
        listed: Sequence[PostView],
        now: float,
    ) -> ListingPlan:
        plan = ListingPlan()
        if target.target.kind != "user":
            for author_id in self._woken:
                author = self.index.authors[author_id]
                if author.target_pk is not None and author.poll_at is None:
                    author.poll_at = now + self.interval
                    plan.polls[author.target_pk] = author.poll_at
            self._woken.clear()
            return plan
        author = self.index.bind_target(target.target.key, target.pk)
        if discovery.status.is_removal:  # the account is gone: confirm each post
            author.suspended = True
            for post in author.live_since(now - self.horizon):
                plan.checks[post.pk] = now
            author.poll_at, author.page_cursor = None, None
            plan.next_poll_at = now + 10 * self.horizon
            return plan
        for post in author.missing(request.cursor, discovery):
            plan.checks[post.pk] = now
        live = author.live_since(now - self.horizon)
        if discovery.newest_first and discovery.more and live:
            author.page_cursor = discovery.next_cursor  # older pages, down to the round's start
            plan.next_poll_at = now
            return plan
        if discovery.more and discovery.posts and live:
            last = max(discovery.posts, key=lambda s: order_key(s.published_at, s.post_id))
            if live[-1].key > order_key(last.published_at, last.post_id):
                author.page_cursor = last.post_id  # the round goes on: the next page at once
                plan.next_poll_at = now
                return plan
        author.page_cursor = None
        started = author.round_started if author.round_started is not None else now
        author.poll_at = max(started + self.interval, now + 1.0)
        plan.next_poll_at = author.poll_at
        return plan
