"""A study with a collector downtime: a day of the demo's censor policy watched for 6 hours,
not for the next 7 (no collector ran), then again until the day ends. The removals detected
right after the gap span it. Used by the dashboard's tests and ``scripts/screenshots.py``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.platforms import registry
from memoryhole.sim.generate import generate
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.study import Study

HOUR = 3600.0


def downtime_study(path: Path, posts: int = 1500, seed: int = 1) -> Study:
    """The study at ``path`` (created), open."""
    scenario = generate(load_policy(DEFAULT_POLICY_PATH), seed=seed, posts=posts)
    start = min(p.published_at for p in scenario)
    study = Study.init(path)
    replay(study, scenario, until=start + 6 * HOUR)
    with study.writer_lock():
        clock = VirtualClock(start + 13 * HOUR)
        transport = InProcessTransport(SimPlatform(list(scenario), clock, "weibo"))
        adapters = {"weibo": registry.get("weibo", REPLAY_BASE_URL)}
        collector = Collector(study, adapters, transport, clock, budget_per_second=50.0)
        asyncio.run(collector.run(until=start + 24 * HOUR))
    return study


def busy_study(path: Path, start: float = 1_767_225_600.0) -> Study:
    """Posts checked every few minutes for 12 hours (a tight age schedule, one answer in ten
    a 5xx), so each has 100–200 observations: two censored after 10 hours, one edited at 3
    hours then censored at 9, one deleted by its author at 6, two live. Open."""
    from memoryhole.scenario import ScenarioPost
    from memoryhole.schedule.policy import AgeProportional

    def post(i: int, removal: str | None, after: float | None, edit: float | None = None) -> Any:
        published = start + 60.0 * i
        edits = ((published + edit * HOUR, f"编辑过的文字 六四 #{i}"),) if edit else ()
        return ScenarioPost(
            post_id=str(4_700_000_000_000_000 + i),
            author_id=str(1_000_000 + i % 3),
            published_at=published,
            text=f"今天天气很好，六 四 纪念 #{i}",
            removed_at=published + after * HOUR if after else None,
            removal=removal,
            edits=edits,
        )

    scenario = [
        post(0, "censored", 10.0),
        post(1, "censored", 10.0),
        post(2, "censored", 9.0, edit=3.0),
        post(3, "author_deleted", 6.0),
        post(4, None, None),
        post(5, None, None, edit=2.0),
    ]
    study = Study.init(path)
    policy = AgeProportional(first_check_after=30.0, max_interval=240.0)
    replay(study, scenario, until=start + 12 * HOUR, faults="5xx=0.1", seed=3, policy=policy)
    return study
