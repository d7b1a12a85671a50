"""Replaying a scenario through the real collector on a virtual clock: no sockets, no sleeping.

The whole path is the production one (adapter, verdict state machine, schedule, writer, store);
only the transport (in-process calls into the simulator) and the clock (virtual) differ. Every
event runs at exactly its scheduled time, so a replay is deterministic, and a replay that is
killed and resumed ends with the same observations and verdicts as one that never stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector, CollectorStats
from memoryhole.model import Target
from memoryhole.platforms import registry
from memoryhole.scenario import ScenarioPost
from memoryhole.schedule.base import Policy
from memoryhole.sim.faults import FaultSpec
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.shapes import WATCH
from memoryhole.store.queries import add_targets
from memoryhole.study import Study

REPLAY_BASE_URL = "http://simulator.invalid"


def replay(
    study: Study,
    scenario: Sequence[ScenarioPost],
    *,
    until: float | None = None,
    faults: str | None = None,
    seed: int = 0,
    budget_per_second: float | None = None,
    policy: Policy | None = None,
    build: Callable[..., Collector] = Collector,
    on_start: Callable[[Collector], None] | None = None,
    platform: str = "weibo",
    watch: Sequence[Target] | None = None,
) -> tuple[CollectorStats, float]:
    """Watch ``weibo:all`` (and any targets already added) of the scenario until platform
    time ``until``; resumable.

    Returns the run's statistics and the virtual time it stopped at. ``build`` (the collector's
    constructor, or a function with its signature) and ``on_start`` let benchmarks run a
    variant of the collector and look at it. ``platform``
    picks the simulator's shapes and the adapter (``sim.shapes.WATCH`` says what is watched,
    unless ``watch`` names the targets).
    """
    start = min(post.published_at for post in scenario)
    end = until if until is not None else max(post.published_at for post in scenario) + 86400.0
    with study.writer_lock():
        add_targets(study.engine, list(watch or [WATCH[platform]]), time.time())
        clock = VirtualClock(start)
        simulated = SimPlatform(list(scenario), clock, platform)
        transport = InProcessTransport(
            simulated, faults=FaultSpec.parse(faults) if faults else None, seed=seed
        )
        collector = build(
            study,
            {platform: registry.get(platform, REPLAY_BASE_URL)},
            transport,
            clock,
            budget_per_second=budget_per_second or 1e9,
            policy=policy,
        )
        if on_start is not None:
            on_start(collector)
        # Resuming: where the run that stopped was when it committed (so "is the token bucket
        # full yet?" is asked at the same time as in a run never stopped); else, or for a
        # study committed before that was kept, the earliest pending event.
        first = collector.next_event_at()
        if collector.committed_at is not None:
            clock.advance_to(max(float(collector.committed_at), start))
        elif first is not None:
            clock.advance_to(first)
        stats = asyncio.run(collector.run(until=end))
        return stats, clock.now()
