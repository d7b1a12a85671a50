"""The whole loop over real HTTP on loopback: simulator process, collector, store, export."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from memoryhole.collect.collector import Collector
from memoryhole.collect.runner import run_study
from memoryhole.config import update_config
from memoryhole.model import Status, Target
from memoryhole.scenario import (
    effective_removal,
    load_scenario,
    suspension_times,
    write_scenario,
)
from memoryhole.sim.process import SimulatorProcess
from memoryhole.sim.truth import evaluate
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.store.schema import observations
from memoryhole.study import Study
from tests.scenarios import known_removals

SPEED = 600.0


def watch_simulator(
    tmp_path: Path, *, seconds: float, faults: str | None = None, timeout: float = 5.0
) -> tuple[list[dict[str, object]], float, Path]:
    scenario_path = tmp_path / "scenario.jsonl"
    write_scenario(known_removals(time.time() - 86400.0), scenario_path)
    study = Study.init(tmp_path / "study")
    update_config(study.config_path, ("collector",), "budget_per_second", 2.0)
    update_config(study.config_path, ("collector",), "timeout", timeout)
    study = Study.open(study.path)
    holder: list[Collector] = []
    with SimulatorProcess(scenario_path, speed=SPEED, faults=faults) as simulator:
        study.set_base_url("weibo", simulator.base_url)
        add_targets(study.engine, [Target("weibo", "all")], time.time())
        asyncio.run(run_study(study, for_seconds=seconds, on_start=holder.append))
        end = holder[0].clock.now()
    return list(iter_verdicts(study.engine)), end, scenario_path


def listings_answered_between(study_path: Path, start: float, stop: float) -> list[float]:
    """When the feed was read successfully while a post was on it: the simulator answered
    between the request's sending and its arrival, both inside the post's life (with a margin
    for the two processes' clocks)."""
    margin = 15.0  # platform seconds: 25 ms of real time at 600x
    study = Study.open(study_path)
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(observations.c.observed_at).where(
                observations.c.kind == "discover",
                observations.c.status == Status.LIVE.value,
                observations.c.sent_at > start + margin,
                observations.c.observed_at < stop - margin,
            )
        )
        return [float(at) for (at,) in rows]


def assert_everything_caught_and_nothing_invented(
    verdicts: list[dict[str, object]],
    end: float,
    scenario_path: Path,
    *,
    study_path: Path,
    faults: bool = False,
) -> None:
    scenario = load_scenario(scenario_path)
    suspended = suspension_times(scenario)
    last_removal = max(r[0] for p in scenario if (r := effective_removal(p, suspended)))
    assert end > last_removal + 3600, "the run must outlast the last removal by an hour"
    result = evaluate(scenario, verdicts, until=end, platform="weibo")
    assert result.false_removals == []
    assert result.interval_misses == []
    assert result.true_removals >= 20
    assert result.caught == result.true_removals_of_watched, "every removal of a seen post found"
    assert result.attribution == 1.0, "every removal of the kind Weibo's answers say"
    assert result.misattributed == []
    never_removed = {p.post_id for p in scenario if effective_removal(p, suspended) is None}
    by_post = {str(v["post_id"]): v for v in verdicts}
    assert never_removed <= set(by_post), "every post was discovered"
    if faults:
        # A post removed 5 platform-minutes after publication is gone before the feed is read
        # again when listings time out (a 0.5 s timeout is 5 minutes at 600x): nobody could see
        # it. Everything seen alive must still be found, and a removed post the collector never
        # saw must be one that no listing answered while it was visible.
        unseen = [
            p
            for p in scenario
            if (r := effective_removal(p, suspended)) and r[0] <= end and p.post_id not in by_post
        ]
        assert len(unseen) == result.true_removals - result.true_removals_of_watched
        for post in unseen:
            removed_at = effective_removal(post, suspended)[0]  # type: ignore[index]
            answered = listings_answered_between(study_path, post.published_at, removed_at)
            assert answered == [], f"post {post.post_id} was listable yet never seen"
    else:
        assert result.caught == result.true_removals, "every removal found"
    assert all(by_post[post_id]["verdict"] == "live" for post_id in never_removed)
    # Weibo answers an author's deletion with 20101, which some removals get too: "unknown"
    assert set(result.caught_by_kind) == {"censored", "unknown", "account_suspended"}


@pytest.mark.slow
def test_every_removal_found_with_its_kind_and_an_interval_containing_it(tmp_path: Path) -> None:
    verdicts, end, scenario_path = watch_simulator(tmp_path, seconds=22.0)
    assert_everything_caught_and_nothing_invented(
        verdicts, end, scenario_path, study_path=tmp_path / "study"
    )


@pytest.mark.slow
def test_faults_at_a_high_rate_cause_no_false_removal_and_hide_no_removal(tmp_path: Path) -> None:
    faults = "5xx=0.15,slow=0.03,truncate=0.1,captcha=0.1,reset=0.05,slow_seconds=1.5"
    verdicts, end, scenario_path = watch_simulator(
        tmp_path, seconds=30.0, faults=faults, timeout=0.5
    )
    assert_everything_caught_and_nothing_invented(
        verdicts, end, scenario_path, study_path=tmp_path / "study", faults=True
    )
    study = Study.open(tmp_path / "study")
    from memoryhole.store.queries import summarise

    summary = summarise(study.engine)
    assert summary.transient > 0.2 * summary.observations, "faults were really injected"
