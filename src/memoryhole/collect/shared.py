"""A worker of a study several collectors share (PostgreSQL): one collector on claimed partitions.

``memoryhole run`` on a PostgreSQL study runs this. Every *term* (``term`` seconds) the worker
renews its leases and takes its fair share of the partitions (``Claims``). While the partitions
it holds stay the same, one collector runs on them without a break (``Collector``, with the
study's shared budgets and a ``SharedRecorder`` whose commits go through the sequencer), and its
schedule goes on learning. When they change (one given back to a worker that joined, one taken
over from a worker that died) that collector stops, flushing everything, and a new one starts
from what is committed for the partitions held now. Nothing but the database URL, the study's
configuration and its blob store is shared between workers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from memoryhole.clock import Clock
from memoryhole.collect.budgets import SharedBudgets
from memoryhole.collect.claims import Claims, shared_writer_lock, worker_name
from memoryhole.collect.collector import Collector
from memoryhole.collect.limiter import Identity
from memoryhole.collect.parts import CollectorStats
from memoryhole.collect.runner import plan_rates, study_policy
from memoryhole.collect.sequencer import IdBlocks, LeaseLostError, Sequencer
from memoryhole.collect.shared_recorder import SharedRecorder
from memoryhole.collect.transport import Transport
from memoryhole.errors import ConfigError
from memoryhole.platforms.base import Platform
from memoryhole.store.state import CollectorState, load_state
from memoryhole.study import Study

log = logging.getLogger(__name__)
SETTLING_TERMS, SETTLING_TERM = 5, 1.0  # how many short terms a worker starts with, how long


def add_stats(total: CollectorStats, more: CollectorStats) -> None:
    total.checks += more.checks
    total.polls += more.polls
    total.transient += more.transient
    total.discovered += more.discovered
    total.removals.update(more.removals)
    total.committed_observations += more.committed_observations
    total.unreadable += more.unreadable
    total.notices += more.notices
    total.shared_checks += more.shared_checks


class Worker:
    def __init__(
        self,
        study: Study,
        adapters: dict[str, Platform],
        transport: Transport,
        clock: Clock,
        identity: Identity | None = None,
        *,
        term: float = 10.0,
        lease: float = 30.0,
    ) -> None:
        self.study, self.adapters, self.transport, self.clock = study, adapters, transport, clock
        self.identity = identity or Identity()
        if lease < 2 * term:
            raise ConfigError(
                f"a lease of {lease:g} s with terms of {term:g} s: a worker renews its leases "
                "once a term, so give a lease at least twice the term (e.g. --lease 30s --term 10s)"
            )
        self.term = term
        self.name = worker_name()
        self.claims = Claims(study.engine, self.name, lease=lease)
        self.sequencer = Sequencer(study, self.claims)
        self.ids = IdBlocks(study.engine)
        self.stats = CollectorStats()
        self.terms = 0
        self.leases_lost = 0
        self.rebuilt = 0  # collectors built (a new one only when the partitions changed)
        self._last = False  # whether the worker is stopping
        self._collector: Collector | None = None
        self._running: asyncio.Future[CollectorStats] | None = None
        self._halt = asyncio.Event()
        self._held: frozenset[int] = frozenset()
        self._recorder: SharedRecorder | None = None

    async def run(
        self,
        stop: asyncio.Event,
        deadline: float | None,
        on_start: Callable[[Collector], None] | None = None,
    ) -> CollectorStats:
        """Renew the claims every term; run one collector on the partitions held for as long
        as they stay the same (its schedule goes on learning), a new one on what is committed
        when they change."""
        with shared_writer_lock(self.study):
            try:
                while not stop.is_set() and (deadline is None or time.time() < deadline):
                    held = await asyncio.to_thread(self.claims.acquire)
                    self.terms += 1
                    if (
                        held != self._held
                        or self._running is None
                        or self._running.done()
                        or (self._recorder is not None and self._recorder.lost)
                    ):
                        await self._stop_collector()
                        if held:
                            collector = await self._start_collector(held, stop, deadline)
                            if on_start is not None and self.rebuilt == 1:
                                on_start(collector)
                    # The first terms are short: workers started together settle their shares
                    # in seconds (the first to claim takes everything), not in terms.
                    term_end = time.time() + (
                        min(self.term, SETTLING_TERM) if self.terms <= SETTLING_TERMS else self.term
                    )
                    if deadline is not None:
                        term_end = min(term_end, deadline)
                    waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
                    if self._running is not None:
                        waiters.append(self._running)
                    await asyncio.wait(
                        waiters,
                        timeout=max(0.0, term_end - time.time()),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    waiters[0].cancel()
            finally:
                self._last = True  # the collector's last flush signs a checkpoint
                await self._stop_collector()
                await asyncio.to_thread(self._close)
        return self.stats

    @property
    def collector(self) -> Collector | None:
        """The collector running on the partitions held, or the last one (None before any)."""
        return self._collector

    async def _start_collector(
        self, held: frozenset[int], stop: asyncio.Event, deadline: float | None
    ) -> Collector:
        collector = await self._collector_for(held, lambda: self._last or stop.is_set())
        self._collector, self._held = collector, held
        self._halt = asyncio.Event()
        self._running = asyncio.ensure_future(
            collector.run(stop=self._halt, wall_deadline=deadline)
        )
        self.rebuilt += 1
        return collector

    async def _stop_collector(self) -> None:
        """Stop the running collector (it flushes what it staged) and count what it did."""
        collector, running = self._collector, self._running
        self._running, self._held = None, frozenset()
        if collector is None or running is None:
            return
        self._halt.set()
        try:
            await running
        except LeaseLostError as exc:
            self.leases_lost += 1
            log.warning("%s: the batch is left to the partition's new owner", exc)
        add_stats(self.stats, collector.stats)

    def plan_rates(self, platforms: set[str]) -> dict[str, float]:
        """What this worker's schedule plans to spend per platform: its account's budget, else
        its share of the platform's (the platform's budget over the live workers)."""
        return plan_rates(self.study, self.identity, platforms, self.claims.live)

    async def _collector_for(self, held: frozenset[int], final: Callable[[], bool]) -> Collector:
        study, settings = self.study, self.study.config.collector
        state: CollectorState = await asyncio.to_thread(load_state, study.engine, held)
        state.ids = self.ids
        platforms = {t.target.platform for t in state.targets.values()}
        budgets = SharedBudgets(
            self.clock,
            settings.budget_per_second,
            study.config.platform_budgets(),
            study.engine,
            self.identity,
        )
        adapters = {
            name: adapter
            for name, adapter in self.adapters.items()
            if any(t.target.platform == name for t in state.targets.values())
        }
        return Collector(
            study,
            adapters or self.adapters,
            self.transport,
            self.clock,
            policy=study_policy(study, self.plan_rates(platforms)),
            recorder=functools.partial(self._new_recorder, final),
            state=state,
            budgets=budgets,
        )

    def _new_recorder(self, final: Callable[[], bool], state: CollectorState) -> SharedRecorder:
        self._recorder = SharedRecorder(
            self.study, state, self.sequencer, now=self.clock.now, final=final
        )
        return self._recorder

    def _close(self) -> None:
        """Sign what every worker committed, and give the partitions back."""
        try:
            self.sequencer.sign_if_grown()
        finally:
            self.claims.release()
