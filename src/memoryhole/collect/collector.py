"""The collector: decides what to request and when; its parts do the requests.

One dispatcher takes events (a post's check, a listing's poll) from the event queue
(``collect/events.py``) in order of time, waits for the platform's rate budget and hands each to
``Checks`` or ``Listings``, which fetch (``collect/fetch.py``), classify and plan the next
event; what they learn goes to the ``Recorder`` (``collect/recorder.py``: the store's, or the
lab's counting one), which commits it in batches on one writer thread.

The same code runs on a real clock (many requests in flight) and on a virtual clock (one at a
time, in order), which makes a replay deterministic: every event runs at exactly its scheduled
time, and every scheduling decision depends only on committed state, so a run that is killed
and resumed produces the same verdicts as one that never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from memoryhole.clock import AcceleratedClock, Clock, VirtualClock
from memoryhole.collect.checks import Checks, Shortcut
from memoryhole.collect.durable import DurableState
from memoryhole.collect.events import CHECK, POLL, EventQueue
from memoryhole.collect.fetch import Fetcher
from memoryhole.collect.limiter import PlatformBudgets, TokenBucket
from memoryhole.collect.listings import Listings
from memoryhole.collect.media import media_fetcher
from memoryhole.collect.parts import CollectorStats, Parts
from memoryhole.collect.recorder import Recorder, StoreRecorder
from memoryhole.collect.transport import Transport
from memoryhole.model import Verdict
from memoryhole.platforms.base import Platform
from memoryhole.schedule.base import Policy, spends_idle_tokens
from memoryhole.schedule.policy import AgeProportional
from memoryhole.store.state import CollectorState, PostState, load_state
from memoryhole.study import Study

__all__ = ["Collector", "CollectorStats", "verdict_summary"]

#: Builds the recorder for a collector's state: ``StoreRecorder`` by default; the lab's fast
#: replays pass ``CountingRecorder``.
RecorderFactory = Callable[[CollectorState], Recorder]


class Collector:
    def __init__(
        self,
        study: Study,
        adapters: dict[str, Platform],
        transport: Transport,
        clock: Clock,
        *,
        budget_per_second: float | None = None,
        platform_budgets: dict[str, float] | None = None,
        concurrency: int | None = None,
        policy: Policy | None = None,
        batch_size: int = 2000,
        flush_interval: float = 0.25,
        checkpoint_interval: float = 300.0,
        on_removal: Callable[[PostState], None] | None = None,
        on_problem: Callable[[str], None] | None = None,
        recorder: RecorderFactory | None = None,
        shortcut: Shortcut | None = None,
        state: CollectorState | None = None,
        budgets: PlatformBudgets | None = None,
    ) -> None:
        settings = study.config.collector
        self.study = study
        self.adapters = adapters
        self.transport = transport
        self.clock = clock
        self.virtual = isinstance(clock, VirtualClock)
        self.concurrency = 1 if self.virtual else (concurrency or settings.concurrency)
        if platform_budgets is None:
            platform_budgets = study.config.platform_budgets()
        # (A worker of a shared study passes its partition's state and the database's
        # budgets: collect/shared.py.)
        self.budgets = (
            budgets
            if budgets is not None
            else PlatformBudgets(
                clock, budget_per_second or settings.budget_per_second, platform_budgets
            )
        )
        self._park = len(adapters) > 1  # one platform: workers simply wait for its tokens
        # The study's configured schedule comes from the caller (``runner.study_policy``: the
        # budget-aware scheduler by default); without one, the age-proportional schedule.
        self.policy: Policy = policy or AgeProportional(
            first_check_after=settings.first_check_after,
            max_interval=settings.max_interval,
            horizon=settings.horizon,
        )
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.stats = CollectorStats()
        self.state: CollectorState = state if state is not None else load_state(study.engine)
        self.queue = EventQueue(self.state)
        self._early = spends_idle_tokens(self.policy)
        if recorder is None:
            self.recorder: Recorder = StoreRecorder(
                study, self.state, now=clock.now, checkpoint_interval=checkpoint_interval
            )
        else:
            self.recorder = recorder(self.state)
        parts = Parts(
            study,
            self.state,
            adapters,
            clock,
            self.budgets,
            self.policy,
            self.recorder,
            self.queue,
            self.stats,
            on_removal=on_removal,
        )
        self.fetcher = Fetcher(
            parts,
            transport,
            check_cap=settings.check_max_bytes,
            listing_cap=settings.listing_max_bytes,
            on_problem=on_problem,
        )
        #: The two kinds of work (public, so that a test or a benchmark can time them).
        self.checks = Checks(
            parts, self.fetcher, media=media_fetcher(study, adapters), shortcut=shortcut
        )
        self.listings = Listings(parts, self.fetcher, poll_interval=settings.poll_interval)
        # The schedule's learnt state and pending sightings, as committed with the last batch.
        self.durable = DurableState(parts)
        self.recorder.state_rows = self.durable.rows
        self.durable.restore()

    @property
    def committed_at(self) -> float | None:
        """Platform time of the last commit taken back (a virtual replay resumes there)."""
        return self.durable.committed_at

    @property
    def pending(self) -> int:
        return len(self.queue.heap) + self.budgets.parked

    def next_event_at(self) -> float | None:
        parked = self.budgets.earliest_parked()
        times = [self.queue.heap[0][0]] if self.queue.heap else []
        return min([*times, parked] if parked is not None else times, default=None)

    async def run(
        self,
        *,
        stop: asyncio.Event | None = None,
        until: float | None = None,
        wall_deadline: float | None = None,
    ) -> CollectorStats:
        """Run until ``stop`` is set, platform time ``until``, the wall deadline, or no work.

        On a virtual clock events run one at a time, each at exactly its time (deterministic).
        In real time a fixed pool of ``concurrency`` workers takes due events off the heap: no
        task per check, which matters at thousands of checks per second.
        """
        stop = stop or asyncio.Event()
        try:
            if self.virtual:
                await self._run_virtual(stop, until, wall_deadline)
            else:
                await self._run_workers(stop, until, wall_deadline)
        finally:
            await self.flush(final=True)
        return self.stats

    async def _run_virtual(
        self, stop: asyncio.Event, until: float | None, wall_deadline: float | None
    ) -> None:
        heap, clock = self.queue.heap, self.clock
        assert isinstance(clock, VirtualClock)
        while (heap or self.budgets.parked) and not stop.is_set():
            if wall_deadline is not None and time.time() >= wall_deadline:
                break
            # Only several platforms park events (``_park``): with one, nothing is parked.
            parked_at = self._parked_ready_at() if self._park else None
            if parked_at is not None and (not heap or parked_at <= heap[0][0]):
                # A platform whose events were parked has a token again (several platforms).
                if until is not None and parked_at > until:
                    break
                clock.advance_to(parked_at)
                event = self.budgets.take_ready()
                if event is None or not self.queue.is_current(*event):
                    continue
                _, kind, key = event
                platform = self.queue.platform_of(kind, key)
            else:
                when, kind, key = heap[0]
                if kind == CHECK:
                    # _is_current and _platform_of in one look-up: this runs for every check.
                    post = self.state.posts.get(key)
                    current = post is not None and post.next_check_at == when
                else:
                    current = self.queue.is_current(when, kind, key)
                if not current:  # stale: dropped without moving the clock (as a resumed
                    heapq.heappop(heap)  # run, which has none, would not move it either)
                    continue
                at = when if self._early is None else self._idle_token_at(when, kind, key, until)
                if until is not None and at > until:
                    break
                clock.advance_to(at)
                heapq.heappop(heap)
                if kind == CHECK:
                    assert post is not None
                    platform = post.platform
                else:
                    if self.listings.postponed(key):
                        continue
                    platform = self.queue.platform_of(kind, key)
                if self._park and self.budgets.bucket(platform).ready_in() > 0:
                    self.budgets.park(platform, (when, kind, key))  # other platforms go on
                    continue
            bucket = self.budgets.bucket(platform)
            if not bucket.take():
                await bucket.acquire()
            kind, key = self._discovery_first(kind, key, platform)
            await self._execute(kind, key)
            if self.recorder.staged() >= self.batch_size:
                await self.flush()

    def _idle_token_at(
        self, when: float, kind: int, key: int, until: float | None = None, *, real: bool = False
    ) -> float:
        """When to run an event due at ``when`` of a policy that spends idle tokens
        (``schedule.base.SpendsIdleTokens``): earlier, from when its platform's bucket is
        full, if more than a token would otherwise go to waste before ``when``; a check or a
        timeline poll the policy planned, never a feed poll, and only if no feed poll of the
        platform is due before the bucket has a token again. Else ``when``."""
        early = self._early
        if early is None or (kind == POLL and key not in self.queue.planned):
            return when
        post = self.state.posts.get(key) if kind == CHECK else None
        target = self.state.targets.get(key) if kind == POLL else None
        if post is not None:
            platform, due = post.platform, post.next_check_at
        elif target is not None:
            platform, due = target.target.platform, target.next_poll_at
        else:
            return when
        if due != when:
            return when  # rescheduled since: the queue drops it
        bucket = self.budgets.bucket(platform)
        full, now = bucket.full_at(), self.clock.now()
        if real:  # (a worker looks now: the bucket is full, or it waits)
            if full > now:
                return when
            full = now
        elif full < now:
            return when  # the clock has passed it (a poll put off): the event's own time
        refilled = full + 1.0 / bucket.rate
        if refilled > when or (until is not None and full > until):
            return when  # (past ``until``: the run stops first, the policy not told)
        feed = self.queue.feed_head(platform)
        if feed is not None and feed[0] < refilled:
            return when
        if post is not None and early.check_early(post, full):
            return full
        if target is not None and early.poll_early(target, full):
            return full
        return when

    def _discovery_first(self, kind: int, key: int, platform: str | None = None) -> tuple[int, int]:
        """The event to spend a token just taken on: this one, unless a poll of a listing on
        the collector's own rhythm (a feed) of the same platform has come due meanwhile; that
        poll goes first, and the check or planned timeline poll, still due, comes next.
        Waiting behind them would push the feed's rhythm back by every wait and discover
        posts later: posts removed before they are discovered are lost to every schedule.
        ``platform``: the event's, when the caller has it already."""
        if kind == POLL and key not in self.queue.planned:
            return kind, key
        if platform is None:
            platform = self.queue.platform_of(kind, key)
        if not self.queue.feeds.get(platform):
            return kind, key
        now = self.clock.now()
        while (head := self.queue.feed_head(platform)) is not None and head[0] <= now:
            pk = self.queue.pop_feed(platform)
            if self.listings.postponed(pk):
                continue  # the policy plans it after all (and has put it off)
            self.queue.requeue(kind, key)
            self.queue.polling.add(pk)  # taken: no other worker polls it meanwhile
            return POLL, pk
        return kind, key

    async def _run_workers(
        self, stop: asyncio.Event, until: float | None, wall_deadline: float | None
    ) -> None:
        halt = asyncio.Event()

        async def watch() -> None:
            waiter = asyncio.ensure_future(stop.wait())
            timeout = None if wall_deadline is None else max(0.0, wall_deadline - time.time())
            try:
                await asyncio.wait([waiter], timeout=timeout)
            finally:
                waiter.cancel()
                halt.set()
                self.queue.wake.set()

        async def flush_periodically() -> None:
            while not halt.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(halt.wait(), self.flush_interval)
                await self.flush()

        watcher = asyncio.create_task(watch())
        flusher = asyncio.create_task(flush_periodically())
        workers = [asyncio.create_task(self._worker(halt, until)) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            halt.set()
            for task in (watcher, *workers):
                task.cancel()
            await asyncio.gather(watcher, *workers, return_exceptions=True)
            await asyncio.gather(flusher, return_exceptions=True)  # it stops on its own at halt

    def _take_due(self, until: float | None) -> tuple[int, int] | float:
        """The next due event, or how long (wall seconds) to wait before looking again."""
        while (parked := self.budgets.take_ready()) is not None:
            if self.queue.is_current(*parked):
                return self.queue.taken(parked[1], parked[2])
        while self.queue.heap:
            when, kind, key = self.queue.heap[0]
            if until is not None and when > until:
                return self._parked_delay(0.25)
            now = self.clock.now()
            if when > now and (
                self._early is None or self._idle_token_at(when, kind, key, real=True) > now
            ):
                return self._parked_delay(self._wall_delay(when))
            self.queue.pop()
            if self.queue.is_current(when, kind, key) and not (
                kind == POLL and self.listings.postponed(key)
            ):
                platform = self.queue.platform_of(kind, key)
                if self._park and self.budgets.bucket(platform).ready_in() > 0:
                    self.budgets.park(platform, (when, kind, key))  # other platforms go on
                    continue
                return self.queue.taken(kind, key)
        return self._parked_delay(0.25)

    def _parked_ready_at(self) -> float | None:
        """Platform time at which a parked event's platform has a token again (or None)."""
        wait = self.budgets.next_ready_in()
        if wait is None:
            return None
        now = self.clock.now()
        ready = now + wait
        return ready if ready > now or wait == 0 else math.nextafter(now, math.inf)

    def _parked_delay(self, delay: float) -> float:
        wait = self.budgets.next_ready_in()
        if wait is None:
            return delay
        if isinstance(self.clock, AcceleratedClock):
            wait /= self.clock.speed
        return max(0.0, min(delay, wait, 0.25))

    def _limiter(self, kind: int, key: int) -> TokenBucket:
        return self.budgets.bucket(self.queue.platform_of(kind, key))

    async def _worker(self, halt: asyncio.Event, until: float | None) -> None:
        while not halt.is_set():
            due = self._take_due(until)
            if isinstance(due, float):
                await self._idle(due, halt)
                continue
            try:
                await self._limiter(*due).acquire()
                if halt.is_set():
                    self.queue.requeue(*due)
                    return
                due = self._discovery_first(*due)
                await self._execute(*due)
            except asyncio.CancelledError:
                # The run stopped with this event taken and not done: it stays scheduled (a
                # worker of a shared study runs this collector again next term).
                self.queue.requeue(*due)
                raise
            if self.recorder.staged() >= self.batch_size:
                await self.flush()

    def _wall_delay(self, when: float) -> float:
        delay = when - self.clock.now()
        if isinstance(self.clock, AcceleratedClock):
            delay /= self.clock.speed
        return max(0.0, min(delay, 0.25))

    async def _idle(self, seconds: float, stop: asyncio.Event) -> None:
        self.queue.wake.clear()
        waiters = [
            asyncio.ensure_future(self.queue.wake.wait()),
            asyncio.ensure_future(stop.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def flush(self, *, final: bool = False) -> None:
        """Commit what is staged; with a signed checkpoint at intervals and when ``final``."""
        committed = await self.recorder.flush(final=final)  # (awaited first: flushes overlap)
        self.stats.committed_observations += committed

    async def _execute(self, kind: int, key: int) -> None:
        if kind == CHECK:
            await self.checks.check(self.state.posts[key])
            return
        self.queue.polling.add(key)
        try:
            await self.listings.poll(self.state.targets[key])
        finally:
            self.queue.polling.discard(key)


def verdict_summary(verdicts: list[Verdict]) -> dict[str, Any]:
    counts = Counter(v.export_value for v in verdicts)
    return dict(counts)
