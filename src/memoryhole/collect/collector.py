"""The collector: claims due checks and listing polls, fetches, classifies, writes.

One dispatcher pops events (a post's check, a listing's poll) from a heap ordered by time,
waits for the platform's rate budget and sends them through the transport; results go to a
batching single writer (``writer.commit_batch``) that commits in a worker thread.

The same code runs on a real clock (many requests in flight) and on a virtual clock (one at a
time, in order), which makes a replay deterministic: every event runs at exactly its scheduled
time, and every scheduling decision depends only on committed state, so a run that is killed
and resumed produces the same verdicts as one that never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from memoryhole.classify import first_verdict, fold
from memoryhole.clock import AcceleratedClock, Clock, VirtualClock
from memoryhole.collect.durable import DurableState
from memoryhole.collect.limiter import PlatformBudgets, TokenBucket
from memoryhole.collect.media import MEDIA_KIND, media_fetcher
from memoryhole.collect.redirects import MAX_HOPS, REDIRECT_STATUSES, next_hop, redirect_policy
from memoryhole.collect.state import CollectorState, PostState, TargetState, load_state
from memoryhole.collect.transport import BodyTooLarge, Transport, send_capped, strip_secrets
from memoryhole.collect.writer import Batch, commit_batch
from memoryhole.errors import EvidenceError, TransportError
from memoryhole.evidence.heads import Head, extend_chain, extension_line, sorted_heads
from memoryhole.evidence.leaf import (
    POST_KIND,
    author_commitment,
    facts_json,
    row_leaf_hash,
    text_digest,
)
from memoryhole.evidence.log import checkpoint_row, latest_checkpoint, load_log, sign_checkpoint
from memoryhole.model import (
    Capture,
    Discovery,
    Observation,
    PostRef,
    Request,
    SeenPost,
    Status,
    Verdict,
    content_hash,
)
from memoryhole.platforms.base import Platform
from memoryhole.schedule.base import (
    ListingRequest,
    Policy,
    WideView,
    counts_requests,
    spends_idle_tokens,
    wide_view,
)
from memoryhole.schedule.policy import AgeProportional
from memoryhole.study import Study

POLL, CHECK = 0, 1  # event kinds; polls first at equal times, so new posts exist before checks


@dataclass
class CollectorStats:
    started_wall: float = field(default_factory=time.time)
    checks: int = 0
    polls: int = 0
    transient: int = 0
    discovered: int = 0
    removals: Counter[str] = field(default_factory=Counter)
    committed_observations: int = 0
    unreadable: int = 0  # listing items that could not be read (each logged with its listing)
    notices: int = 0  # removal notices a listing showed about a known post

    @property
    def checks_per_second(self) -> float:
        elapsed = time.time() - self.started_wall
        return self.checks / elapsed if elapsed > 0 else 0.0


def wall_to_platform_seconds(clock: Clock, seconds: float) -> float:
    if isinstance(clock, AcceleratedClock):
        return seconds * clock.speed
    return seconds


def retry_after_seconds(capture: Capture) -> float | None:
    value = capture.header("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Collector:
    #: Each post's latest sighting in a listing not yet logged (see ``_log_sighting``): the
    #: listing's capture, its target's spec and its observation id.
    _sightings: dict[int, tuple[Capture, str, int]] | None = None

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
        self.budgets = PlatformBudgets(
            clock, budget_per_second or settings.budget_per_second, platform_budgets
        )
        self._park = len(adapters) > 1  # one platform: workers simply wait for its tokens
        self.media = media_fetcher(study, adapters)  # None unless [collector] media = "download"
        # The study's configured schedule comes from the caller (``runner.study_policy``: the
        # budget-aware scheduler by default); without one, the age-proportional schedule.
        self.policy: Policy = policy or AgeProportional(
            first_check_after=settings.first_check_after,
            max_interval=settings.max_interval,
            horizon=settings.horizon,
        )
        self.poll_interval = settings.poll_interval
        self.check_cap, self.listing_cap = settings.check_max_bytes, settings.listing_max_bytes
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.on_removal = on_removal
        #: Told at once, once per platform, when a platform cannot be reached at all (a wrong
        #: base URL: connection refused, no such host), so a run does not end with "0 checks".
        self.on_problem = on_problem
        self._unreachable_platforms: set[str] = set()
        self.stats = CollectorStats()
        self.state: CollectorState = load_state(study.engine)
        self._heap: list[tuple[float, int, int]] = []
        # Listings polled on the collector's own rhythm (a feed: not planned by the policy),
        # per platform, by due time: a poll of one due takes the next token ahead of checks.
        self._own_rhythm: dict[str, list[tuple[float, int]]] = {}
        self._planned_polls: set[int] = set()  # listings whose polls the policy plans
        self._early = spends_idle_tokens(self.policy)
        self._polling: set[int] = set()  # listings being polled now (workers run several)
        self._batch = Batch()
        self._flush_lock = asyncio.Lock()
        self._headers_cache: dict[tuple[tuple[str, str], ...], str] = {}
        self._refs: dict[int, PostRef] = {}  # each post's, for its checks
        self._chained: set[int] = set()  # posts whose chain grew since the last flush
        self.log = load_log(study.engine)
        if self.log.size != self.state.next_observation_id - 1:
            raise EvidenceError(
                f"the evidence log holds {self.log.size} leaves but the store "
                f"{self.state.next_observation_id - 1} observations; run `memoryhole verify`"
            )
        self.checkpoint_interval = checkpoint_interval
        self._signing_key = study.signing_key()
        self._log_origin = study.log_origin
        latest = latest_checkpoint(study.engine)
        self._checkpointed_size = latest.size if latest is not None else 0
        self._last_checkpoint_at = time.time()
        self._wake = asyncio.Event()
        for post in self.state.posts.values():
            if post.next_check_at is not None:
                self._heap.append((post.next_check_at, CHECK, post.pk))
        for target in self.state.targets.values():
            self._heap.append((target.next_poll_at, POLL, target.pk))
            self._own_rhythm.setdefault(target.target.platform, []).append(
                (target.next_poll_at, target.pk)
            )
        heapq.heapify(self._heap)
        for waiting in self._own_rhythm.values():
            heapq.heapify(waiting)
        # Platform time of the last commit taken back (a virtual replay resumes its clock there).
        self.committed_at: float | None = None
        # The schedule's learnt state and pending sightings, as committed with the last batch.
        self.durable = DurableState(self)
        self.durable.restore()

    def restore_planned_polls(self, planned: Iterable[int]) -> None:
        """The listings whose polls the policy plans, as committed (``collect/durable.py``):
        they leave the queue of listings polled on the collector's own rhythm."""
        self._planned_polls = {pk for pk in planned if pk in self.state.targets}
        for waiting in self._own_rhythm.values():
            waiting[:] = [(at, pk) for at, pk in waiting if pk not in self._planned_polls]
            heapq.heapify(waiting)

    # -- public -------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._heap) + self.budgets.parked

    def next_event_at(self) -> float | None:
        parked = self.budgets.earliest_parked()
        times = [self._heap[0][0]] if self._heap else []
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
        heap, clock = self._heap, self.clock
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
                if event is None or not self._is_current(*event):
                    continue
                _, kind, key = event
                platform = self._platform_of(kind, key)
            else:
                when, kind, key = heap[0]
                if kind == CHECK:
                    # _is_current and _platform_of in one look-up: this runs for every check.
                    post = self.state.posts.get(key)
                    current = post is not None and post.next_check_at == when
                else:
                    current = self._is_current(when, kind, key)
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
                    if self._postponed(key):
                        continue
                    platform = self._platform_of(kind, key)
                if self._park and self.budgets.bucket(platform).ready_in() > 0:
                    self.budgets.park(platform, (when, kind, key))  # other platforms go on
                    continue
            bucket = self.budgets.bucket(platform)
            if not bucket.take():
                await bucket.acquire()
            kind, key = self._discovery_first(kind, key, platform)
            await self._execute(kind, key)
            if len(self._batch) >= self.batch_size:
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
        if early is None or (kind == POLL and key not in self._planned_polls):
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
        feed = self._feed_head(platform)
        if feed is not None and feed[0] < refilled:
            return when
        if post is not None and early.check_early(post, full):
            return full
        if target is not None and early.poll_early(target, full):
            return full
        return when

    def _feed_head(self, platform: str) -> tuple[float, int] | None:
        """The platform's next poll on the collector's own rhythm (due time, target), after
        dropping the entries rescheduled since, being polled, or planned by the policy."""
        waiting = self._own_rhythm.get(platform)
        while waiting:
            when, pk = waiting[0]
            if self._is_current(when, POLL, pk) and pk not in self._planned_polls:
                return when, pk
            heapq.heappop(waiting)
        return None

    def _discovery_first(self, kind: int, key: int, platform: str | None = None) -> tuple[int, int]:
        """The event to spend a token just taken on: this one, unless a poll of a listing on
        the collector's own rhythm (a feed) of the same platform has come due meanwhile; that
        poll goes first, and the check or planned timeline poll, still due, comes next.
        Waiting behind them would push the feed's rhythm back by every wait and discover
        posts later: posts removed before they are discovered are lost to every schedule.
        ``platform``: the event's, when the caller has it already."""
        if kind == POLL and key not in self._planned_polls:
            return kind, key
        if platform is None:
            platform = self._platform_of(kind, key)
        waiting = self._own_rhythm.get(platform)
        if not waiting:
            return kind, key
        now = self.clock.now()
        while (head := self._feed_head(platform)) is not None and head[0] <= now:
            _, pk = heapq.heappop(waiting)
            if self._postponed(pk):
                continue  # the policy plans it after all (and has put it off)
            self._requeue(kind, key)
            self._polling.add(pk)  # taken: no other worker polls it meanwhile
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
                self._wake.set()

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
            if self._is_current(*parked):
                return self._taken(parked[1], parked[2])
        while self._heap:
            when, kind, key = self._heap[0]
            if until is not None and when > until:
                return self._parked_delay(0.25)
            now = self.clock.now()
            if when > now and (
                self._early is None or self._idle_token_at(when, kind, key, real=True) > now
            ):
                return self._parked_delay(self._wall_delay(when))
            heapq.heappop(self._heap)
            if self._is_current(when, kind, key) and not (kind == POLL and self._postponed(key)):
                platform = self._platform_of(kind, key)
                if self._park and self.budgets.bucket(platform).ready_in() > 0:
                    self.budgets.park(platform, (when, kind, key))  # other platforms go on
                    continue
                return self._taken(kind, key)
        return self._parked_delay(0.25)

    def _taken(self, kind: int, key: int) -> tuple[int, int]:
        """A listing a worker has taken is being polled from now, while it waits for its
        token too: another worker that takes its feed poll first (``_discovery_first``) or
        meets it in the queue leaves it alone."""
        if kind == POLL:
            self._polling.add(key)
        return kind, key

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

    def _platform_of(self, kind: int, key: int) -> str:
        if kind == CHECK:
            return self.state.posts[key].platform
        return self.state.targets[key].target.platform

    def _limiter(self, kind: int, key: int) -> TokenBucket:
        return self.budgets.bucket(self._platform_of(kind, key))

    async def _worker(self, halt: asyncio.Event, until: float | None) -> None:
        while not halt.is_set():
            due = self._take_due(until)
            if isinstance(due, float):
                await self._idle(due, halt)
                continue
            await self._limiter(*due).acquire()
            if halt.is_set():
                self._requeue(*due)
                return
            await self._execute(*self._discovery_first(*due))
            if len(self._batch) >= self.batch_size:
                await self.flush()

    def _requeue(self, kind: int, key: int) -> None:
        """Put back an event taken but not run (the run is stopping, or a feed poll took its
        token): it stays scheduled."""
        if kind == CHECK:
            post = self.state.posts[key]
            if post.next_check_at is not None:
                heapq.heappush(self._heap, (post.next_check_at, CHECK, key))
        else:
            self._polling.discard(key)
            target = self.state.targets[key]
            heapq.heappush(self._heap, (target.next_poll_at, POLL, key))

    async def flush(self, *, final: bool = False) -> None:
        """Commit what is staged; with a signed checkpoint at intervals and when ``final``."""
        async with self._flush_lock:
            self._settle_chains()
            batch, self._batch = self._batch, Batch()
            batch.state = self.durable.rows()  # the schedule's state as of exactly this batch
            due = time.time() - self._last_checkpoint_at >= self.checkpoint_interval
            if (final or due) and self.log.size > self._checkpointed_size:
                heads = sorted_heads(
                    Head(p.platform, p.post_id, p.chain_length, p.chain)
                    for p in self.state.posts.values()
                )
                size, root, note = sign_checkpoint(
                    self._signing_key, self._log_origin, self.log, (extension_line(heads),)
                )
                batch.checkpoint = checkpoint_row(size, root, note)
                self._checkpointed_size = size
                self._last_checkpoint_at = time.time()
            if (
                not batch.observations
                and not batch.targets
                and batch.checkpoint is None
                and not batch.state
            ):
                return
            commit = asyncio.ensure_future(
                asyncio.to_thread(commit_batch, self.study.engine, self.study.blobs, batch)
            )
            try:
                await asyncio.shield(commit)
            except asyncio.CancelledError:
                # The commit runs on in its thread whatever happens here: finish it, under the
                # lock, before giving up, or a later flush would commit around it (and a signed
                # checkpoint could cover leaves not yet in the store).
                await commit
                raise
            self.stats.committed_observations += len(batch.observations)

    # -- scheduling ---------------------------------------------------------------------------

    def _is_current(self, when: float, kind: int, key: int) -> bool:
        if kind == CHECK:
            post = self.state.posts.get(key)
            return post is not None and post.next_check_at == when
        target = self.state.targets.get(key)
        return target is not None and target.next_poll_at == when and key not in self._polling

    def _schedule_check(self, post: PostState, when: float | None) -> None:
        post.next_check_at = when
        self._batch.schedule[post.pk] = when
        if when is not None:
            heapq.heappush(self._heap, (when, CHECK, post.pk))
            self._wake.set()

    def _schedule_poll(self, target: TargetState, when: float, *, planned: bool = False) -> None:
        """``planned``: the policy set this time (its wide view), not the collector's rhythm."""
        target.next_poll_at = when
        heapq.heappush(self._heap, (when, POLL, target.pk))
        if planned:
            self._planned_polls.add(target.pk)
        else:
            self._planned_polls.discard(target.pk)
            waiting = self._own_rhythm.setdefault(target.target.platform, [])
            heapq.heappush(waiting, (when, target.pk))
            if len(waiting) > 64 + 2 * len(self.state.targets):
                # Checks drain it; on a platform without checks stale entries would pile up.
                waiting[:] = [(at, pk) for at, pk in waiting if self._is_current(at, POLL, pk)]
                heapq.heapify(waiting)
        self._batch.targets[target.pk] = {
            "cursor": target.cursor,
            "next_poll_at": when,
            "unreadable": target.unreadable,
            "last_unreadable": target.last_unreadable,
        }
        self._wake.set()

    def _wall_delay(self, when: float) -> float:
        delay = when - self.clock.now()
        if isinstance(self.clock, AcceleratedClock):
            delay /= self.clock.speed
        return max(0.0, min(delay, 0.25))

    async def _idle(self, seconds: float, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # -- work ---------------------------------------------------------------------------------

    async def _execute(self, kind: int, key: int) -> None:
        if kind == CHECK:
            await self._check(self.state.posts[key])
            return
        self._polling.add(key)
        try:
            await self._poll(self.state.targets[key])
        finally:
            self._polling.discard(key)

    async def _fetch(self, request: Request, platform: str, cap: int) -> Capture:
        """One request. An answer larger than ``cap`` (decompressed) is cut there and captured
        with its status and an ``error`` saying so: what it leads to is never a removal."""
        # ``Timer.start`` and ``Timer.capture``, inline: a frozen Timer per request costs.
        clock = self.clock
        sent_at, wall_start = clock.now(), time.time()
        try:
            raw = await send_capped(self.transport, request, cap, keep_partial=True)
            status: int | None = raw.status
            headers, body, error = strip_secrets(raw.headers), raw.body, None
        except TransportError as exc:
            status, headers, body, error = None, (), b"", str(exc)
            self._cannot_connect(platform, request, error)
        except BodyTooLarge as exc:
            status, headers, body = exc.status, strip_secrets(exc.headers), exc.partial
            declared = f", Content-Length {exc.declared:,}" if exc.declared is not None else ""
            error = f"{TOO_LARGE}: over the {cap:,}-byte cap{declared}; cut there"
        received = time.time()
        capture = Capture(
            request=request,
            status=status,
            headers=headers,
            body=body,
            fetched_at=clock.now(),
            received_at=received,
            elapsed=received - wall_start,
            error=error,
            sent_at=sent_at,
        )
        if status == 429:
            wait = retry_after_seconds(capture) or 1.0
            self.budgets.bucket(platform).pause_until(
                capture.fetched_at + wall_to_platform_seconds(self.clock, wait)
            )
        return capture

    async def _fetch_following(
        self,
        request: Request,
        platform: str,
        *,
        post: PostState | None = None,
        target: TargetState | None = None,
    ) -> tuple[Capture, int]:
        """``_fetch``, then the redirects the adapter allows (``collect/redirects.py``): each
        hop on the platform's budget and logged as its own observation. Returns the last
        answer and how many hops led to it."""
        cap = self.check_cap if target is None else self.listing_cap
        capture = await self._fetch(request, platform, cap)
        hops = 0
        if capture.status not in REDIRECT_STATUSES:
            return capture, hops
        policy = redirect_policy(self.adapters[platform])
        base_url = self.study.base_url(platform)
        while capture.status in REDIRECT_STATUSES:
            follow, why = next_hop(capture, policy, base_url) if hops < MAX_HOPS else (None, "")
            self._record_hop(capture, platform, post, target, why or "followed")
            if follow is None:
                break
            await self.budgets.bucket(platform).acquire()
            hops += 1
            capture = await self._fetch(follow, platform, cap)
        if hops and capture.status in REDIRECT_STATUSES:
            capture = replace(capture, error=f"more than {MAX_HOPS} redirects", status=None)
        return capture, hops

    def _record_hop(
        self,
        capture: Capture,
        platform: str,
        post: PostState | None,
        target: TargetState | None,
        why: str,
    ) -> None:
        """A redirect, as its own observation: never a removal, never another post's answer."""
        if why != "followed":  # the answer itself is the check's or listing's observation
            return
        location = capture.header("Location") or ""
        if post is not None:
            post.checks += 1
        self._record(
            capture,
            kind="check" if post is not None else "discover",
            status=Status.UNREACHABLE,
            platform=platform,
            post=post,
            target_pk=target.pk if target is not None else None,
            code=f"redirect_{capture.status}",
            detail=f"{capture.status} redirect to {location}, followed",
        )

    def _record(
        self,
        capture: Capture,
        *,
        kind: str,
        status: Status,
        platform: str,
        post: PostState | None = None,
        target_pk: int | None = None,
        content: str | None = None,
        code: str | None = None,
        detail: str = "",
        facts: dict[str, Any] | None = None,
    ) -> int:
        observation_id = self.state.next_observation_id
        self.state.next_observation_id += 1
        sha256 = capture.body_sha256
        self._batch.blobs[sha256] = capture.body
        row: dict[str, Any] = {
            "id": observation_id,
            "kind": kind,
            "post_pk": post.pk if post else None,
            "target_pk": target_pk,
            "seq": post.checks if post and kind == "check" else None,
            "status": status.value,
            "sent_at": capture.alive_at,
            "observed_at": capture.fetched_at,
            "received_at": capture.received_at,
            "elapsed": capture.elapsed,
            "method": capture.request.method,
            "url": capture.request.full_url(),
            "http_status": capture.status,
            "response_headers": self._headers_json(capture.headers),
            "body_sha256": sha256,
            "body_size": len(capture.body),
            "content_hash": content,
            "code": code,
            "detail": detail,
            "error": capture.error,
            "facts": facts_json(facts) if facts else None,
        }
        row["leaf_hash"] = row_leaf_hash(
            row, platform, post.post_id if post else None, capture.headers
        )
        self.log.append(row["leaf_hash"])
        self._batch.observations.append(row)
        if post is not None:  # the post's chain of observations (evidence/heads.py)
            post.chain = extend_chain(post.chain, observation_id - 1)
            post.chain_length += 1
            self._chained.add(post.pk)
        return observation_id

    def _headers_json(self, headers: tuple[tuple[str, str], ...]) -> str:
        # Responses repeat the same headers (the Date changes once a second): encode each once.
        encoded = self._headers_cache.get(headers)
        if encoded is None:
            if len(self._headers_cache) > 4096:
                self._headers_cache.clear()
            encoded = json.dumps(headers, ensure_ascii=False)
            self._headers_cache[headers] = encoded
        return encoded

    def _settle_chains(self) -> None:
        """Every post whose chain grew in this batch has it in its staged verdict row (a media
        download or a long text can follow the check that staged it)."""
        staged = self._batch.verdicts
        for pk in self._chained:
            post = self.state.posts.get(pk)
            if post is None:
                continue
            row = staged.get(pk)
            if row is None:
                self._stage_verdict(post, self.clock.now())
            else:
                row["chain"], row["chain_length"] = post.chain.hex(), post.chain_length
        self._chained.clear()

    def _stage_verdict(self, post: PostState, now: float) -> None:
        verdict = post.verdict
        self._batch.verdicts[post.pk] = {
            "post_pk": post.pk,
            "status": verdict.status.value,
            "first_seen_at": verdict.first_seen_at,
            "last_seen_alive_at": verdict.last_seen_alive_at,
            "first_seen_removed_at": verdict.first_seen_removed_at,
            "signal": verdict.signal,
            "edited": verdict.edited,
            "content_hash": verdict.content_hash,
            "checks": post.checks,
            "failures": post.failures,
            "history": json.dumps(verdict.history),
            "updated_at": now,
            "chain": post.chain.hex() if post.chain_length else None,
            "chain_length": post.chain_length,
        }

    async def _check(self, post: PostState) -> None:
        if self._sightings:  # without a pending sighting there is nothing to log
            self._log_sighting(post)
        platform = post.platform
        adapter = self.adapters[platform]
        ref = self._refs.get(post.pk)
        if ref is None:  # a post's platform, id and author never change: one ref per post
            ref = self._refs[post.pk] = PostRef(platform, post.post_id, post.author_id)
        capture, hops = await self._fetch_following(adapter.check_request(ref), platform, post=post)
        observation = adapter.parse_check(ref, capture)
        if capture.status is not None and capture.error is not None:  # cut at the size cap
            observation = Observation(Status.UNREACHABLE, code="too_large", detail=capture.error)
        if hops and observation.status.is_removal:
            observation = Observation(
                Status.UNREACHABLE,
                code=observation.code,
                detail=f"through {hops} redirect(s): never a removal ({observation.detail})",
            )
        if observation.follow_up is not None:
            observation = await self._follow_up(post, ref, observation)
        status = observation.status
        post.checks += 1
        self.stats.checks += 1
        facts = self._refine_post(post, observation) if status.is_visible else None
        self._record(
            capture,
            kind="check",
            status=status,
            platform=platform,
            post=post,
            content=observation.content_hash,
            code=observation.code,
            detail=observation.detail,
            facts=facts,
        )
        now = capture.fetched_at
        if status.is_definitive:
            next_at = self._fold_check(post, observation, capture.alive_at, now)
        else:
            post.failures += 1
            self.stats.transient += 1
            retry = retry_after_seconds(capture) if capture.status == 429 else None
            retry_platform = wall_to_platform_seconds(self.clock, retry) if retry else None
            next_at = self.policy.after_failure(
                post.published_at, now, post.failures, retry_platform, post=post
            )
        self._stage_verdict(post, now)
        self._schedule_check(post, next_at)
        if self.media is not None and status.is_visible:
            await self._fetch_media(post, observation.detail)

    async def _follow_up(self, post: PostState, ref: PostRef, first: Observation) -> Observation:
        """A check that needs one more request (Weibo's long text): sent at once on the
        platform's budget, its answer logged (kind ``text``: not folded by itself), and the
        check completed by the adapter from both answers."""
        assert first.follow_up is not None
        adapter = self.adapters[post.platform]
        complete = getattr(adapter, "complete_check", None)
        if complete is None:
            return first
        await self.budgets.bucket(post.platform).acquire()
        planner = counts_requests(self.policy)
        if planner is not None:
            planner.after_other_request(post.platform, self.clock.now())
        capture = await self._fetch(first.follow_up, post.platform, self.check_cap)
        completed: Observation = complete(ref, first, capture)
        self._record(
            capture,
            kind=TEXT_KIND,
            status=completed.status if completed.content_hash else Status.UNREACHABLE,
            platform=post.platform,
            post=post,
            content=completed.content_hash,
            detail="the whole text, for this post's check that follows"
            if completed.content_hash
            else "the whole text could not be read",
        )
        return completed

    def _refine_post(self, post: PostState, observation: Observation) -> dict[str, Any] | None:
        """What a visible answer says more exactly than the listing did: the publication time
        (a listing may give only the day or hour) and, the first time the text is hashed (a
        long post listed cut short), the whole text. Returns the facts its leaf states (so the
        post's row stays checked against the log), or None."""
        update: dict[str, Any] = {}
        exact = observation.published_at
        if (
            post.published_until is not None
            and exact is not None
            and post.published_at - 1.0 <= exact <= post.published_until + 1.0
        ):
            post.published_at, post.published_until = exact, None
            update.update(published_at=exact, published_until=None)
        if (
            post.verdict.content_hash is None
            and observation.content_hash is not None
            and observation.text is not None
        ):
            update["text"] = observation.text
        if not update:
            return None
        self._batch.post_updates.setdefault(post.pk, {}).update(update)
        facts: dict[str, Any] = {key: value for key, value in update.items() if key != "text"}
        if "text" in update:
            facts["text_sha256"] = text_digest(update["text"])
        return facts

    def _cannot_connect(self, platform: str, request: Request, error: str) -> None:
        if platform in self._unreachable_platforms or not _is_connection_failure(error):
            return
        self._unreachable_platforms.add(platform)
        if self.on_problem is not None:
            self.on_problem(
                f"{platform}: cannot connect to {_origin(request.url)} ({error}). If that is "
                f"not the platform's address, set it: memoryhole watch {platform}:… "
                f"--base-url URL, or [platforms.{platform}] base_url in memoryhole.toml"
            )

    def _fold_check(
        self, post: PostState, observation: Observation, alive_at: float, now: float
    ) -> float | None:
        """Fold a definitive answer to a check into the post's verdict; its next check."""
        post.failures = 0
        verdict = post.verdict
        was_removed = verdict.status.is_removal
        fold(verdict, observation, alive_at, now)
        if not was_removed and verdict.status.is_removal:
            self.stats.removals[verdict.status.value] += 1
            if self.on_removal is not None:
                self.on_removal(post)
        return self.policy.after_check(verdict, post.published_at, now, post=post)

    async def _fetch_media(self, post: PostState, detail: str) -> None:
        """Each media reference of a visible post not fetched yet, once, on the platform's
        budget; logged as a ``media`` observation, never folded into the verdict (media.py)."""
        assert self.media is not None
        bucket = self.budgets.bucket(post.platform)
        label = f"{post.platform} post {post.post_id}"
        planner = counts_requests(self.policy)
        for kind, url in self.media.wanted(post.pk, post.platform, detail):
            await bucket.acquire()
            if planner is not None:
                planner.after_other_request(post.platform, self.clock.now())
            result = await self.media.fetch(self.transport, self.clock, post.pk, kind, url, label)
            capture = result.capture
            if capture.status == 429 and self.media.same_host(post.platform, url):
                wait = retry_after_seconds(capture) or 1.0
                bucket.pause_until(capture.fetched_at + wall_to_platform_seconds(self.clock, wait))
            self._record(
                capture,
                kind=MEDIA_KIND,
                status=result.status,
                platform=post.platform,
                post=post,
                code=result.code,
                detail=result.detail,
            )

    async def _poll(self, target: TargetState) -> None:
        adapter = self.adapters[target.target.platform]
        wide = wide_view(self.policy)
        request = wide.listing_request(target, self.clock.now()) if wide is not None else None
        cursor = request.cursor if request is not None else target.cursor
        capture, _ = await self._fetch_following(
            adapter.discover_request(target.target, cursor), target.target.platform, target=target
        )
        discovery = adapter.parse_discover(target.target, capture)
        if capture.status is not None and capture.error is not None:  # cut at the size cap
            discovery = Discovery((), None, Status.UNREACHABLE, capture.error)
        self.stats.polls += 1
        observation_id = self._record(
            capture,
            kind="discover",
            status=discovery.status,
            platform=target.target.platform,
            target_pk=target.pk,
            detail=discovery.detail or f"{len(discovery.posts)} posts listed",
        )
        now = capture.fetched_at
        if discovery.confirm_all:
            self._confirm_all(target, now)
        if discovery.status is Status.UNREACHABLE:
            if discovery.unreadable:
                self.stats.unreadable += len(discovery.unreadable)
                target.unreadable += len(discovery.unreadable)
                target.last_unreadable = discovery.unreadable[-1][:500]
            self.stats.transient += 1
            # A refusal that said what happened (a banned community) is not retried sooner.
            retry = self.poll_interval if discovery.confirm_all else min(self.poll_interval, 30.0)
            self._schedule_poll(target, now + retry, planned=target.pk in self._planned_polls)
            return
        platform = target.target.platform
        for seen in discovery.posts:
            if (platform, seen.post_id) in self.state.post_keys:
                continue
            post = PostState(
                pk=self.state.next_post_pk,
                platform=platform,
                post_id=seen.post_id,
                author_id=seen.author_id,
                published_at=seen.published_at,
                verdict=first_verdict(
                    capture.alive_at, None if seen.truncated else content_hash(seen.text)
                ),
                published_until=seen.published_until,
                target_pk=target.pk,
            )
            self.state.next_post_pk += 1
            self.state.posts[post.pk] = post
            self.state.post_keys[(platform, seen.post_id)] = post.pk
            self._batch.posts.append(
                {
                    "id": post.pk,
                    "platform": platform,
                    "post_id": seen.post_id,
                    "author_pk": self._author_pk(platform, seen.author_id),
                    "target_pk": target.pk,
                    "published_at": seen.published_at,
                    "published_until": seen.published_until,
                    "first_seen_at": capture.alive_at,
                    "text": seen.text,
                    "discovered_by": observation_id,
                }
            )
            self.stats.discovered += 1
            self._record_post_facts(capture, target, post, seen, observation_id)
            self._stage_verdict(post, now)
            next_at = self.policy.after_discovery(seen.published_at, now, post=post, text=seen.text)
            self._schedule_check(post, next_at)
        if discovery.unreadable:
            self.stats.unreadable += len(discovery.unreadable)
            target.unreadable += len(discovery.unreadable)
            target.last_unreadable = discovery.unreadable[-1][:500]
        if discovery.notices:
            self._apply_notices(discovery, capture, platform)
        if wide is not None and request is not None:
            next_poll = self._apply_listing(
                wide, target, request, discovery, capture, observation_id
            )
            if next_poll is not None:
                self._schedule_poll(target, next_poll, planned=True)
                return
        if discovery.next_cursor:
            target.cursor = discovery.next_cursor
        self._schedule_poll(target, now if discovery.more else now + self.poll_interval)

    def _record_post_facts(
        self,
        capture: Capture,
        target: TargetState,
        post: PostState,
        seen: SeenPost,
        listing_id: int,
    ) -> None:
        """A new post's facts as its listing gave them, as a leaf of the post (``post``: format
        2), so that what exports say of it (author, times, text) is checked against the log."""
        pseudonym = self.study.pseudonym(post.platform, seen.author_id)
        self._record(
            capture,
            kind=POST_KIND,
            status=Status.LIVE,
            platform=post.platform,
            post=post,
            content=post.verdict.content_hash,
            detail=f"listed by {target.target.spec}",
            facts={
                "author": author_commitment(pseudonym),
                "published_at": seen.published_at,
                "published_until": seen.published_until,
                "first_seen_at": capture.alive_at,
                "text_sha256": text_digest(seen.text),
                "discovered_by": listing_id,
            },
        )

    def _apply_notices(self, discovery: Discovery, capture: Capture, platform: str) -> None:
        """A listing's notice about a known post (a repost's original shown as removed) is an
        observation of that post, folded like a check: dated by the listing, attributed by the
        notice's own words. Notices about posts the study does not hold are in the listing's
        logged answer (its body) and nowhere else: there is no post to date them against."""
        keys, posts = self.state.post_keys, self.state.posts
        for notice in discovery.notices:
            pk = keys.get((platform, notice.post_id))
            if pk is None:
                continue
            post = posts[pk]
            self.stats.notices += 1
            if self._sightings:
                self._log_sighting(post)
            observation = Observation(notice.status, code=notice.code, detail=notice.detail)
            post.checks += 1
            self._record(
                capture,
                kind="check",
                status=notice.status,
                platform=platform,
                post=post,
                code=notice.code,
                detail=notice.detail,
            )
            self._fold_check(post, observation, capture.alive_at, capture.fetched_at)
            self._stage_verdict(post, capture.fetched_at)

    def _confirm_all(self, target: TargetState, now: float) -> None:
        """The listing says every post of its target went at once (an account suspended, a
        community banned): each known visible post of it gets its own check now, which is what
        states its removal (a listing never does)."""
        for post in self.state.posts.values():
            if post.verdict.status.is_visible and self._of_target(post, target):
                self._schedule_check(post, now)

    def _of_target(self, post: PostState, target: TargetState) -> bool:
        spec = target.target
        if post.platform != spec.platform:
            return False
        if spec.kind == "user":
            return post.author_id == spec.key
        return post.target_pk == target.pk

    def _postponed(self, target_pk: int) -> bool:
        """A wide-view policy may put a listing poll off (no request, no token spent)."""
        wide = wide_view(self.policy)
        if wide is None:
            return False
        target = self.state.targets[target_pk]
        later = wide.listing_request(target, self.clock.now()).postpone_until
        if later is None:
            return False
        self._schedule_poll(target, later, planned=True)
        return True

    def _apply_listing(
        self,
        wide: WideView,
        target: TargetState,
        request: ListingRequest,
        discovery: Discovery,
        capture: Capture,
        observation_id: int,
    ) -> float | None:
        """A listing shows known posts visible: the policy plans checks (``now`` confirms a
        post missing from it: a missing post is never a removal by itself) and polls."""
        now, platform = capture.fetched_at, target.target.platform
        if self._sightings is None:
            self._sightings = {}
        sightings, keys, posts = self._sightings, self.state.post_keys, self.state.posts
        sighting = (capture, target.target.spec, observation_id)
        listed: list[PostState] = []
        for seen in discovery.posts:
            pk = keys.get((platform, seen.post_id))
            if pk is not None:
                listed.append(posts[pk])
                sightings[pk] = sighting  # logged, if still news, before the post's next check
        plan = wide.on_listing(target, request, discovery, listed, now)
        for pk, when in plan.checks.items():
            if pk in self.state.posts:
                self._schedule_check(self.state.posts[pk], when)
        for pk, when in plan.polls.items():
            other = self.state.targets.get(pk)
            if other is not None and when < other.next_poll_at:
                self._schedule_poll(other, when, planned=True)
        return plan.next_poll_at

    def _log_sighting(self, post: PostState) -> None:
        """Before a post's next check: its latest sighting in a listing, logged as an
        observation of the post (so its verdict still follows from its own observations) and
        folded into its verdict. Logging only the latest, and only then, keeps the log from
        growing by a row per post per listing; the removal interval is the same."""
        pending = self._sightings.pop(post.pk, None) if self._sightings else None
        if pending is None or not post.verdict.status.is_visible:
            return
        capture, spec, _ = pending
        if capture.alive_at <= (post.verdict.last_seen_alive_at or -math.inf):
            return
        observation = Observation(Status.LIVE, detail=f"listed by {spec}")
        post.checks += 1
        self._record(
            capture,
            kind="check",
            status=Status.LIVE,
            platform=post.platform,
            post=post,
            detail=observation.detail,
        )
        fold(post.verdict, observation, capture.alive_at, capture.fetched_at)

    def _author_pk(self, platform: str, raw_id: str) -> int:
        key = (platform, raw_id)
        pk = self.state.author_keys.get(key)
        if pk is None:
            pk = self.state.next_author_pk
            self.state.next_author_pk += 1
            self.state.author_keys[key] = pk
            self._batch.authors.append(
                {
                    "id": pk,
                    "platform": platform,
                    "raw_id": raw_id,
                    "pseudonym": self.study.pseudonym(platform, raw_id),
                }
            )
        return pk


TEXT_KIND = "text"  # an observation holding a long post's whole text (``_follow_up``)
TOO_LARGE = "answer too large"
_CONNECTION_FAILURES = (
    "connection refused",
    "cannot connect",
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "network is unreachable",
    "no route to host",
    "connect call failed",
)


def _is_connection_failure(error: str) -> bool:
    lowered = error.lower()
    return any(words in lowered for words in _CONNECTION_FAILURES)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def verdict_summary(verdicts: list[Verdict]) -> dict[str, Any]:
    counts = Counter(v.export_value for v in verdicts)
    return dict(counts)
