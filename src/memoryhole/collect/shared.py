"""A worker of a study several collectors share (PostgreSQL): terms of work on claimed partitions.

``memoryhole run`` on a PostgreSQL study runs this. The worker works in *terms* (``term``
seconds): it renews its leases and takes its fair share of the partitions (``Claims``), loads
the committed state of exactly those targets and their posts, and runs the ordinary collector on
them (``Collector``, with the study's shared budgets and a ``SharedRecorder`` whose commits go
through the sequencer); at the term's end the collector flushes everything, and the next term
starts from what is committed, with the partitions it holds then (one given back to a worker
that joined, one taken over from a worker that died). Nothing but the database URL, the study's
configuration and its blob directory is shared between workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable

from memoryhole.clock import Clock
from memoryhole.collect.budgets import SharedBudgets
from memoryhole.collect.claims import Claims, shared_writer_lock, worker_name
from memoryhole.collect.collector import Collector
from memoryhole.collect.parts import CollectorStats
from memoryhole.collect.sequencer import IdBlocks, LeaseLostError, Sequencer
from memoryhole.collect.shared_recorder import SharedRecorder
from memoryhole.collect.transport import Transport
from memoryhole.errors import ConfigError
from memoryhole.platforms.base import Platform
from memoryhole.schedule.base import Policy
from memoryhole.store.state import CollectorState, load_state
from memoryhole.study import Study

log = logging.getLogger(__name__)


def _stopping(last: bool, stop: asyncio.Event) -> bool:
    return last or stop.is_set()


def add_stats(total: CollectorStats, term: CollectorStats) -> None:
    total.checks += term.checks
    total.polls += term.polls
    total.transient += term.transient
    total.discovered += term.discovered
    total.removals.update(term.removals)
    total.committed_observations += term.committed_observations
    total.unreadable += term.unreadable
    total.notices += term.notices


class Worker:
    def __init__(
        self,
        study: Study,
        adapters: dict[str, Platform],
        transport: Transport,
        clock: Clock,
        policy: Callable[[], Policy | None],
        *,
        term: float = 10.0,
        lease: float = 30.0,
    ) -> None:
        self.study, self.adapters, self.transport, self.clock = study, adapters, transport, clock
        self.policy = policy
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

    async def run(
        self,
        stop: asyncio.Event,
        deadline: float | None,
        on_start: Callable[[Collector], None] | None = None,
    ) -> CollectorStats:
        with shared_writer_lock(self.study):
            try:
                while not stop.is_set() and (deadline is None or time.time() < deadline):
                    held = await asyncio.to_thread(self.claims.acquire)
                    term_end = time.time() + self.term
                    if deadline is not None:
                        term_end = min(term_end, deadline)
                    if not held:  # every partition is taken: look again next term
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), max(0.0, term_end - time.time()))
                        continue
                    last = deadline is not None and term_end >= deadline
                    final = functools.partial(_stopping, last, stop)
                    collector = await self._collector(held, final)
                    if on_start is not None and self.terms == 0:
                        on_start(collector)
                    self.terms += 1
                    try:
                        stats = await collector.run(stop=stop, wall_deadline=term_end)
                    except LeaseLostError as exc:
                        self.leases_lost += 1
                        log.warning("%s: the batch is left to the partition's new owner", exc)
                        stats = collector.stats
                    add_stats(self.stats, stats)
            finally:
                await asyncio.to_thread(self._close)
        return self.stats

    async def _collector(self, held: frozenset[int], final: Callable[[], bool]) -> Collector:
        study, settings = self.study, self.study.config.collector
        state: CollectorState = await asyncio.to_thread(load_state, study.engine, held)
        state.ids = self.ids
        budgets = SharedBudgets(
            self.clock, settings.budget_per_second, study.config.platform_budgets(), study.engine
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
            policy=self.policy(),
            recorder=lambda s: SharedRecorder(
                study, s, self.sequencer, now=self.clock.now, final=final
            ),
            state=state,
            budgets=budgets,
        )

    def _close(self) -> None:
        """Sign what every worker committed, and give the partitions back."""
        try:
            self.sequencer.sign_if_grown()
        finally:
            self.claims.release()
