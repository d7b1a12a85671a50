"""A study of the simulator whose scenario withholds posts in CN (tests of vantage points and
of the ``region`` of a ``withheld`` verdict)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.config import update_config
from memoryhole.platforms import registry
from memoryhole.scenario import ScenarioPost, effective_removal, suspension_times
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.replay import REPLAY_BASE_URL
from memoryhole.sim.shapes import WATCH
from memoryhole.store.queries import add_targets
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_717_200_000.0
UNTIL = T0 + 3 * 3600.0


def blocked_scenario() -> list[ScenarioPost]:
    """``known_removals`` with every 4th post withheld in CN 6 minutes after publication: the
    ones never removed stay visible elsewhere; the censored ones go everywhere later."""
    posts = known_removals(T0)
    return [
        replace(p, withhold=((p.published_at + 360.0, "CN"),)) if i % 4 == 0 else p
        for i, p in enumerate(posts)
    ]


def watched(tmp: Path, platform: str, *, vantages: bool) -> Study:
    study = Study.init(tmp / "study")
    if vantages:
        update_config(study.config_path, (), "region", "CN")
        update_config(study.config_path, ("vantages", "frankfurt"), "region", "DE")
        update_config(study.config_path, ("vantages", "frankfurt"), "budget_per_second", 5.0)
    study = Study.open(study.path)
    with study.writer_lock():
        add_targets(study.engine, [WATCH[platform]], T0)
        clock = VirtualClock(T0)
        sim = SimPlatform(blocked_scenario(), clock, platform)
        sim.home_region = "CN"  # the study's own connection asks from CN
        adapters = {platform: registry.get(platform, REPLAY_BASE_URL)}
        collector = Collector(study, adapters, InProcessTransport(sim), clock, budget_per_second=50)
        asyncio.run(collector.run(until=UNTIL))
    return study


def truth() -> tuple[set[str], set[str]]:
    """(posts only withheld by UNTIL, posts removed by UNTIL) of the scenario."""
    posts = blocked_scenario()
    suspended = suspension_times(posts)
    removed = {
        p.post_id for p in posts if (effective_removal(p, suspended) or (UNTIL + 1,))[0] <= UNTIL
    }
    blocked = {p.post_id for p in posts if p.withhold and p.post_id not in removed}
    return blocked, removed
