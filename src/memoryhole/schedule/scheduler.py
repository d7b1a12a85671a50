"""memoryhole's scheduler: spend a request budget where it buys the most detection delay.

What a check is worth. A post of relative risk ``rr`` (``RiskModel``: its text and author,
learnt online) at age ``a`` is removed at the rate ``rr · h(a)`` (``RemovalHazard``: the
average post's hazard by age, learnt online from the removal intervals observed). Checking
posts so as to minimise the mean of (detection delay)^p over all removals, for a given number
of requests, puts checks at a density proportional to ``(rr · h)^e`` with ``e = 1/(p+1)``: the
square-root rule (``e`` = 1/2) for the mean delay, an equal share of removal probability per
check (``e`` → 1) for the log delay. With ``exponent`` = 3/4 (the default, between the two:
the targets are the median and the 90th percentile) a post is checked when ``rr^e ∫ h^e``
since it was last seen alive reaches a threshold ``c``, the price of one request.

The budget. Under threshold ``c`` a post (or a timeline, below) of weight ``w`` costs
``w^e / c`` requests a second, within its shortest and longest gaps. Every control period the
scheduler sums that over everything it watches (vectorised) and solves for the ``c`` that
spends ``headroom`` × ``budget_per_second`` less what it does not plan (feed polls and
confirmations, measured); while checks run late (a backlog in the token bucket) ``c`` is
raised in proportion to the lateness. So the plan, not the token bucket, paces the checks.

Recall. A post's gap never exceeds ``max(max_gap_floor, max_gap_ratio × age)`` (at most
``max_gap``): every post keeps being checked, more and more rarely, and its last check is at
the horizon, never dropped. A removed post is checked ``confirmations`` more times (ghosts),
then left alone; failed requests back off.

The wide view. When another listing (the platform's feed) discovers posts, an author's
timeline is polled when the weight its youngest ``page_size`` live posts have built up,
summed, reaches ``c``: one request looks at all of them. Posts a timeline covers have no
checks of their own but the last, at the horizon; a post missing from the timeline is
confirmed at once by a single-post request (a missing post is never a removal by itself). A
post seen removed because its account is suspended makes every other live post of that author
due at once. Everything is deterministic (no clock, no hash order); ``seed`` only staggers
checks that would otherwise fall on the same instant. ``explain`` says why a post is checked
when it is.

Where the parts live: ``records.py`` (settings, each post's record, the plan's slots),
``budget.py`` (the threshold's control), ``state.py`` (the saved state), ``explanation.py``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import numpy.typing as npt

from memoryhole.model import Discovery, Status, Verdict
from memoryhole.schedule.base import (
    ListingPlan,
    ListingRequest,
    PostView,
    TargetView,
    retry_time,
)
from memoryhole.schedule.budget import BudgetControl
from memoryhole.schedule.explanation import Explanation, explain_post
from memoryhole.schedule.hazard import RemovalHazard
from memoryhole.schedule.records import (
    PARKED,
    SINGLE,
    WEEK,
    PlanSlots,
    PostRecord,
    SchedulerSettings,
)
from memoryhole.schedule.risk import RiskModel
from memoryhole.schedule.state import SavedState
from memoryhole.schedule.timelines import Author, AuthorIndex, TrackedPost

__all__ = ["PARKED", "SINGLE", "WEEK", "Explanation", "Scheduler", "SchedulerSettings"]


class Scheduler:
    """The budget-aware scheduler (a ``Policy`` and a ``WideView``)."""

    def __init__(self, settings: SchedulerSettings | None = None, **overrides: Any) -> None:
        base = settings or SchedulerSettings()
        self.settings = SchedulerSettings(**{**asdict(base), **overrides})
        if self.settings.budget_per_second <= 0:
            raise ValueError("budget_per_second must be positive")
        self.hazard = RemovalHazard(
            self.settings.horizon,
            exponent=self.settings.exponent,
            half_life=self.settings.half_life,
        )
        self.risk = RiskModel()
        self.index = AuthorIndex()
        self.posts: dict[int, PostRecord] = {}
        self.slots = PlanSlots()
        self.budget = BudgetControl(self.settings, self.slots, self.hazard, self.risk)
        self.wide_view = False  # set once a feed is seen: timelines are then only a wide view
        self.pending: dict[int, float | None] = {}  # checks to hand over at the next listing
        self.parked: dict[str, set[int]] = {}  # each author's posts its timeline covers
        self.dirty: dict[str, None] = {}  # authors whose timeline poll is to be planned again
        self.updates = 0
        self.request_cache: tuple[int, float, ListingRequest] | None = None
        self.saved = SavedState()  # the state as last taken, and what changed since
        self._touched = self.saved.touched
        self._touched_authors = self.saved.touched_authors

    # -- bookkeeping --------------------------------------------------------------------------

    @property
    def horizon(self) -> float:
        return self.settings.horizon

    @property
    def threshold(self) -> float:
        """The price of one request (``budget.py``): a post is checked when the weight it has
        built up since it was last seen alive reaches it."""
        return self.budget.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.budget.threshold = value

    @property
    def requests(self) -> int:
        return self.budget.requests

    @property
    def trace(self) -> list[tuple[float, float, float]]:
        return self.budget.trace

    def plan_threshold(self, now: float, rate: float) -> float:
        """The threshold that spends ``rate`` requests per second (``BudgetControl``)."""
        return self.budget.plan_threshold(now, rate)

    def demand(self, now: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The plan's units now, as (weight, longest gap) (``PlanSlots.demand``)."""
        return self.slots.demand(now, self.settings, self.hazard)

    def _slot(self, record: PostRecord) -> None:
        if self.slots.add(record):
            self._touched_authors.add(record.author_id)

    def _mode(self, record: PostRecord) -> None:
        self.slots.set_mode(record)

    def _record(self, post: PostView, text: str, now: float) -> PostRecord:
        features = self.risk.features(text, post.author_id)
        tracked = TrackedPost(post.pk, post.post_id, post.published_at)
        age = max(now - post.published_at, 0.0)
        record = PostRecord(
            self._touched,
            post.pk,
            post.post_id,
            post.author_id,
            post.published_at,
            features,
            tracked,
            rr=self.risk.risk(features),
            first_age=age,
            alive_age=age,
            credited=self.hazard.cumulative(age),
        )
        self.posts[post.pk] = record
        self.index.author(post.author_id).add(tracked)
        self._slot(record)
        return record

    def _get(self, post: PostView | None, published_at: float, now: float) -> PostRecord | None:
        if post is None:
            return None
        record = self.posts.get(post.pk)
        if record is None:  # not seen at discovery (a resumed run): no text, author only
            record = self._record(post, "", post.verdict.first_seen_at)
            last = post.verdict.last_seen_alive_at
            if last is not None:
                self._alive(record, last - published_at)
        return record

    def _alive(self, record: PostRecord, age: float) -> None:
        if age <= record.alive_age:
            return
        hazard = self.hazard
        hazard.observe_alive(record.alive_age, age)
        record.alive_age = age
        self.slots.alive_ages[record.slot] = age
        cumulative = hazard.cumulative(age)
        credited = record.credited
        if cumulative - credited > credited:  # credit the features by doublings
            self.risk.expose(record.features, cumulative - credited)
            record.credited = cumulative
        self.updates += 1
        if self.updates % 256 == 0:
            hazard.refresh()

    def _tick(self) -> None:
        self.updates += 1
        if self.updates % 256 == 0:
            self.hazard.refresh()

    def _removed(self, record: PostRecord, verdict: Verdict, now: float) -> None:
        removed_at = verdict.first_seen_removed_at if verdict.first_seen_removed_at else now
        removed_age = removed_at - record.published_at
        self.hazard.observe_removal(record.alive_age, removed_age)
        middle = (record.alive_age + removed_age) / 2
        self.risk.expose(record.features, self.hazard.cumulative(middle) - record.credited)
        record.credited = self.hazard.cumulative(middle)
        self.risk.removed(record.features)
        record.removed = True
        record.tracked.live = False
        if record.parked:
            record.parked = False
            self.parked.get(record.author_id, set()).discard(record.pk)
        self._mode(record)
        self._tick()
        if verdict.status is Status.ACCOUNT_SUSPENDED:
            author = self.index.author(record.author_id)
            author.suspended = True
            self._touched_authors.add(author.author_id)
            for other in author.live_since(now - self.horizon):
                self.pending[other.pk] = now
                self.posts[other.pk].due = now

    # -- when -------------------------------------------------------------------------------

    def _jitter(self, record: PostRecord, gap: float) -> float:
        mixed = (record.pk * 2654435761 + record.confirmations * 40503) ^ (self.settings.seed * 97)
        return gap * 0.02 * ((mixed % 1000) / 1000.0)

    def _next_check(self, record: PostRecord, now: float) -> float | None:
        settings = self.settings
        end = record.published_at + self.horizon
        if now >= end - 1e-6:
            return None
        age = now - record.published_at
        wanted = record.published_at + self.hazard.next_age(
            record.alive_age, record.rr, self.threshold
        )
        floor = now + settings.min_gap
        cap = now + min(settings.max_gap, max(settings.max_gap_floor, settings.max_gap_ratio * age))
        record.floored = wanted <= floor
        when = min(max(wanted, floor), cap)
        when += self._jitter(record, when - now)
        self.budget.planned += 1
        self.budget.floored += record.floored
        return min(when, end)

    def _plan(self, record: PostRecord, now: float) -> float | None:
        if record.parked:  # its author's timeline covers it: one single-post check, at the end
            end = record.published_at + self.horizon
            record.due = end if now < end - 1e-6 else None
            return record.due
        record.rr = self.risk.risk(record.features)
        self._mode(record)
        record.due = self._next_check(record, now)
        return record.due

    # -- Policy -----------------------------------------------------------------------------

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        if post is None:
            return min(now + self.settings.min_gap, published_at + self.horizon)
        record = self.posts.get(post.pk) or self._record(post, text, now)
        self.dirty[record.author_id] = None
        return self._plan(record, now)

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        record = self._get(post, published_at, now)
        if record is None:
            self.budget.count(now, None)
            end = published_at + self.horizon
            return None if verdict.status.is_removal or now >= end else min(now + 3600, end)
        self.budget.count(
            now,
            None if record.due is None else now - record.due,
            planned=not (record.confirming or record.removed),
        )
        record.confirming = False
        if verdict.status.is_removal:
            if not record.removed:
                if verdict.last_seen_alive_at is not None:
                    self._alive(record, verdict.last_seen_alive_at - published_at)
                self._removed(record, verdict, now)
            if record.confirmations < self.settings.confirmations:
                record.confirmations += 1
                age = now - record.published_at
                record.due = now + max(3600.0, age / 2)
                return record.due if age < self.horizon else None
            record.due = None
            return None
        if record.removed:  # visible again: a ghost, watched like any live post
            record.removed = False
            record.tracked.live = True
        if verdict.last_seen_alive_at is not None:
            self._alive(record, verdict.last_seen_alive_at - published_at)
        self.dirty[record.author_id] = None
        return self._plan(record, now)

    def after_failure(
        self,
        published_at: float,
        now: float,
        failures: int,
        retry_after: float | None,
        *,
        post: PostView | None = None,
    ) -> float | None:
        self.budget.count(now, None)
        retry = retry_time(published_at, now, failures, retry_after, horizon=self.horizon)
        record = self._get(post, published_at, now)
        if record is not None:
            record.due = retry
        return retry

    def after_other_request(self, platform: str, now: float) -> None:
        """A request on this budget the plan did not ask for (a media download): the plan
        measures them, with feed polls, and leaves them room."""
        self.budget.count(now, None, planned=False)

    # -- WideView ---------------------------------------------------------------------------

    def _covered(self, author: Author, now: float) -> list[TrackedPost]:
        """The live posts one timeline page shows: the youngest ``page_size`` in the horizon."""
        return author.live_since(now - self.horizon)[-self.settings.page_size :]

    def _author_poll_time(self, author: Author, covered: list[TrackedPost], now: float) -> float:
        """When the weight the timeline's posts have built up since each was last seen alive,
        summed, reaches the threshold (solved by Newton's method: the sum grows ever more
        slowly, as hazards fall with age). No later than any of them may wait."""
        settings, hazard = self.settings, self.hazard
        exponent = settings.exponent
        # hazard.powered_integral and hazard_at(...) ** e, inlined: this runs for every
        # timeline poll, for each of its posts, several times.
        edges, power_cum, powered = hazard.edges, hazard.power_cum, hazard.powered
        last, horizon, bisect_right = hazard._last, hazard.horizon, bisect.bisect_right
        max_gap, floor, ratio = settings.max_gap, settings.max_gap_floor, settings.max_gap_ratio
        posts: list[tuple[float, float, float]] = []  # (published, rr^e, ∫h^e at last sighting)
        cap = math.inf
        records = self.posts
        for tracked in covered:
            record = records[tracked.pk]
            if record.confirming:
                continue  # missing from the last listing: its own check comes first
            alive_age = record.alive_age
            posts.append(
                (record.published_at, record.rr**exponent, hazard.powered_integral(alive_age))
            )
            longest = max(floor, ratio * alive_age)
            cap = min(cap, record.published_at + alive_age + min(max_gap, longest))
        if not posts:
            return now + settings.min_gap

        def built(at: float) -> tuple[float, float]:
            total = slope = 0.0
            for published, weight, since in posts:
                age = at - published
                clamped = min(max(age, 0.0), horizon)
                b = bisect_right(edges, clamped) - 1
                if b > last:
                    b = last
                total += weight * (power_cum[b] + powered[b] * (clamped - edges[b]) - since)
                slope += weight * powered[b]
            return total, slope

        when = now
        for _ in range(3):
            total, slope = built(when)
            if total >= self.threshold or slope <= 0 or when >= cap:
                break
            when = min(when + (self.threshold - total) / slope, cap)
        when = max(min(when, cap), now)
        if author.last_poll is not None:
            when = max(when, author.last_poll + settings.min_gap)
        return when

    def _refresh_author(self, author: Author, now: float) -> float | None:
        """The author's next timeline poll (None: no polls), and the posts it no longer covers
        get single-post checks of their own again."""
        polled = (
            self.settings.timelines
            and self.wide_view
            and not author.suspended
            and author.target_pk is not None
        )
        covered = self._covered(author, now) if polled else []
        when = self._author_poll_time(author, covered, now) if len(covered) >= 2 else None
        parked = self.parked.get(author.author_id)
        if parked:
            keep = {tracked.pk for tracked in covered} if when is not None else set()
            for pk in sorted(parked - keep):
                record = self.posts[pk]
                record.parked = False
                self._mode(record)
                if not record.removed and now < record.published_at + self.horizon - 1e-6:
                    self.pending[pk] = self._plan(record, now)
            parked &= keep
        return when

    def _deliver(self, plan: ListingPlan, now: float) -> None:
        """Checks due since the last listing, and timeline polls now due earlier."""
        for pk, when in self.pending.items():
            plan.checks[pk] = when if when is None else max(when, now)
        self.pending.clear()
        for author_id in self.dirty:
            author = self.index.authors.get(author_id)
            if author is None or author.target_pk is None:
                continue
            poll = self._refresh_author(author, now)
            if poll is not None and (author.poll_at is None or poll < author.poll_at - 1.0):
                author.poll_at = poll
                self._touched_authors.add(author_id)
                plan.polls[author.target_pk] = poll
        self.dirty.clear()
        for pk, when in self.pending.items():  # unparked by the refreshes just made
            plan.checks[pk] = when if when is None else max(when, now)
        self.pending.clear()

    def check_early(self, post: PostView, now: float) -> bool:
        """The collector has a token that would go to waste before this post's check is due:
        may it run now? Yes, unless the post was seen alive less than ``min_gap`` ago
        (``after_check`` plans the next check from whenever this one ran)."""
        record = self.posts.get(post.pk)
        if record is None or not self.budget.within_budget(now):
            return False
        return now >= record.published_at + record.alive_age + self.settings.min_gap

    def poll_early(self, target: TargetView, now: float) -> bool:
        """``check_early`` for a planned timeline poll: yes, unless the timeline was polled
        less than ``min_gap`` ago; its poll is then planned for now."""
        author = self.index.by_target.get(target.pk)
        if target.target.kind != "user" or not self.wide_view or author is None:
            return False
        if not self.budget.within_budget(now):
            return False
        if author.last_poll is not None and now < author.last_poll + self.settings.min_gap:
            return False
        if author.poll_at is not None and author.poll_at > now:
            author.poll_at = now
            self._touched_authors.add(author.author_id)
            self.request_cache = None
        return True

    def listing_request(self, target: TargetView, now: float) -> ListingRequest:
        cached = self.request_cache
        if cached is not None and cached[0] == target.pk and cached[1] == now:
            return cached[2]
        request = self._listing_request(target, now)
        self.request_cache = (target.pk, now, request)
        return request

    def _listing_request(self, target: TargetView, now: float) -> ListingRequest:
        if target.target.kind == "all":
            self.wide_view = True
            return ListingRequest(target.cursor)
        if target.target.kind != "user" or not self.wide_view:
            return ListingRequest(target.cursor)  # the listing discovers posts: its own rhythm
        author = self.index.bind_target(target.target.key, target.pk)
        self._touched_authors.add(author.author_id)
        if author.poll_at is not None:  # planned when it was last polled, or woken since
            if author.poll_at > now + 1e-6:
                return ListingRequest(None, postpone_until=author.poll_at)
            covered = self._covered(author, now)
            if covered:
                return ListingRequest(author.cursor_before(covered[0]))
        when = self._refresh_author(author, now)
        author.poll_at = when
        if when is None:
            return ListingRequest(None, postpone_until=now + 10 * self.horizon)
        if when > now + 1.0:
            return ListingRequest(None, postpone_until=when)
        covered = self._covered(author, now)
        return ListingRequest(author.cursor_before(covered[0]))

    def on_listing(
        self,
        target: TargetView,
        request: ListingRequest,
        discovery: Discovery,
        listed: Sequence[PostView],
        now: float,
    ) -> ListingPlan:
        self.budget.count(now, None, planned=target.target.kind == "user" and self.wide_view)
        plan = ListingPlan()
        if target.target.kind != "user" or not self.wide_view:
            for post in listed:  # a listing that shows known posts shows them alive
                record = self.posts.get(post.pk)
                if record is not None and not record.removed:
                    self._alive(record, now - record.published_at)
            self._deliver(plan, now)
            return plan
        author = self.index.bind_target(target.target.key, target.pk)
        self._touched_authors.add(author.author_id)
        author.last_poll = now
        if discovery.status.is_removal:  # the account is gone: confirm each of its posts
            author.suspended = True
            for tracked in author.live_since(now - self.horizon):
                plan.checks[tracked.pk] = now
                self.posts[tracked.pk].due = now
        else:
            for tracked in author.missing(request.cursor, discovery):
                plan.checks[tracked.pk] = now  # confirmed by a single-post request
                self.posts[tracked.pk].due = now
                self.posts[tracked.pk].confirming = True
            parked = self.parked.setdefault(author.author_id, set())
            for post in listed:
                record = self.posts.get(post.pk)
                if record is None:
                    continue
                if record.removed:
                    plan.checks[post.pk] = now  # listed again after a removal: look closely
                    record.due = now
                    continue
                self._alive(record, now - record.published_at)
                if not record.parked and post.pk not in plan.checks:
                    record.parked = True
                    parked.add(post.pk)
                    plan.checks[post.pk] = self._plan(record, now)
                    self._mode(record)
        self.dirty.pop(author.author_id, None)
        when = self._refresh_author(author, now)
        author.poll_at = when
        plan.next_poll_at = when if when is not None else now + 10 * self.horizon
        self._deliver(plan, now)
        return plan

    # -- explaining and keeping -------------------------------------------------------------

    def explain(self, pk: int, now: float, next_check_at: float | None = None) -> Explanation:
        """Why the post ``pk`` is checked when it is, as of ``now`` (``explanation.py``)."""
        return explain_post(self, pk, now, next_check_at)

    def remember(
        self,
        post: PostView,
        text: str,
        *,
        due: float | None,
        learn_hazard: bool,
        seen_alive_at: float | None = None,
    ) -> None:
        """Take a post as the store has it (rebuilding the scheduler for ``explain``): its
        features, when it was seen alive or removed, its next check."""
        verdict = post.verdict
        record = self._record(post, text, verdict.first_seen_at)
        hazard = self.hazard
        last = verdict.last_seen_alive_at
        if seen_alive_at is not None and not verdict.status.is_removal:
            last = max(last or seen_alive_at, seen_alive_at)
        if last is not None and last - post.published_at > record.alive_age:
            if learn_hazard:
                hazard.observe_alive(record.alive_age, last - post.published_at)
            record.alive_age = last - post.published_at
            self.slots.alive_ages[record.slot] = record.alive_age
        if verdict.status.is_removal:
            removed_at = verdict.first_seen_removed_at or record.published_at + record.alive_age
            middle = (record.alive_age + removed_at - post.published_at) / 2
            if learn_hazard:
                hazard.observe_removal(record.alive_age, removed_at - post.published_at)
            self.risk.expose(record.features, hazard.cumulative(middle) - record.credited)
            self.risk.removed(record.features)
            record.removed = True
            record.tracked.live = False
        else:
            self.risk.expose(record.features, hazard.cumulative(record.alive_age) - record.credited)
        record.credited = hazard.cumulative(record.alive_age)
        record.rr = self.risk.risk(record.features)
        record.due = due
        self._mode(record)

    def snapshot(self, *, full: bool = False) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """Everything its decisions depend on, exactly (``state.py``; ``restore`` takes it
        back): committed with each batch of observations by the collector."""
        return self.saved.take(self, full=full)

    def restore(
        self,
        meta: dict[str, Any],
        arrays: dict[str, npt.NDArray[Any]],
        posts: Mapping[int, PostView],
    ) -> None:
        """Take back a ``snapshot`` (``posts``: the collector's posts, by pk, for their ids)."""
        self.saved.restore(self, meta, arrays, posts)

    def take_back(
        self,
        *,
        slots: PlanSlots,
        index: AuthorIndex,
        posts: dict[int, PostRecord],
        parked: dict[str, set[int]],
        wide_view: bool,
        pending: dict[int, float | None],
        dirty: dict[str, None],
        updates: int,
        request_cache: tuple[int, float, ListingRequest] | None,
    ) -> None:
        """The parts of a restored state that are the scheduler's own (``state.py``)."""
        self.slots = self.budget.slots = slots
        self.index, self.posts, self.parked = index, posts, parked
        self.wide_view, self.pending, self.dirty = wide_view, pending, dirty
        self.updates, self.request_cache = updates, request_cache
