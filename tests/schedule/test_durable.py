"""The scheduler's state survives a restart exactly: a run whose scheduler is replaced, again and
again, by one restored from its snapshot (through the store's row encoding) sends the same
requests at the same times and ends with the same verdicts as a run never interrupted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from memoryhole.model import Discovery, Verdict
from memoryhole.scenario import ScenarioPost
from memoryhole.schedule import snapshot
from memoryhole.schedule.base import ListingPlan, ListingRequest, PostView, TargetView
from memoryhole.schedule.scheduler import Scheduler, SchedulerSettings
from tests.schedule.replays import HORIZON, budget, lean_replay, small_scenario, verdict_rows


def settings_for(posts: list[ScenarioPost], half_life: float | None = None) -> SchedulerSettings:
    return SchedulerSettings(budget_per_second=budget(posts), horizon=HORIZON, half_life=half_life)


def through_rows(scheduler: Scheduler) -> tuple[dict[str, Any], dict[str, Any]]:
    """The snapshot as the store would give it back: encoded to rows, decoded from them."""
    meta, arrays = scheduler.snapshot()
    written: dict[str, bytes] = {}
    rows = snapshot.encode("policy", meta, arrays, written)
    decoded = snapshot.decode("policy", rows)
    assert decoded is not None
    return decoded


def restored(scheduler: Scheduler) -> Scheduler:
    meta, arrays = through_rows(scheduler)
    posts = {pk: SimpleNamespace(post_id=r.post_id) for pk, r in scheduler.posts.items()}
    fresh = Scheduler(scheduler.settings)
    fresh.restore(meta, arrays, posts)  # type: ignore[arg-type]
    return fresh


class Restarting:
    """A scheduler that is swapped for a copy restored from its snapshot every ``every``
    calls: what a collector killed and resumed there would run with."""

    def __init__(self, settings: SchedulerSettings, every: int) -> None:
        self.inner = Scheduler(settings)
        self.every, self.calls, self.restarts = every, 0, 0

    def _tick(self) -> None:
        self.calls += 1
        if self.calls % self.every == 0:
            # The snapshot redoes only the rows of what changed since the last one: it must
            # be the snapshot taken from scratch.
            meta, arrays = self.inner.snapshot()
            full_meta, full_arrays = self.inner.snapshot(full=True)
            assert meta == full_meta and arrays.keys() == full_arrays.keys()
            for name, array in arrays.items():
                assert np.array_equal(array, full_arrays[name], equal_nan=True), name
            self.inner = restored(self.inner)
            self.restarts += 1

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        self._tick()
        return self.inner.after_discovery(published_at, now, post=post, text=text)

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        self._tick()
        return self.inner.after_check(verdict, published_at, now, post=post)

    def after_failure(
        self,
        published_at: float,
        now: float,
        failures: int,
        retry_after: float | None,
        *,
        post: PostView | None = None,
    ) -> float | None:
        self._tick()
        return self.inner.after_failure(published_at, now, failures, retry_after, post=post)

    def check_early(self, post: PostView, now: float) -> bool:
        self._tick()
        return self.inner.check_early(post, now)

    def poll_early(self, target: TargetView, now: float) -> bool:
        self._tick()
        return self.inner.poll_early(target, now)

    def listing_request(self, target: TargetView, now: float) -> ListingRequest:
        self._tick()
        return self.inner.listing_request(target, now)

    def on_listing(
        self,
        target: TargetView,
        request: ListingRequest,
        discovery: Discovery,
        listed: Sequence[PostView],
        now: float,
    ) -> ListingPlan:
        self._tick()
        return self.inner.on_listing(target, request, discovery, listed, now)


@pytest.fixture(scope="module")
def scenario() -> list[ScenarioPost]:
    return small_scenario(posts=300, seed=5)


@pytest.mark.parametrize("half_life", [None, HORIZON / 8], ids=["learning", "fading"])
def test_a_scheduler_restored_again_and_again_runs_as_one_never_stopped(
    tmp_path: Path, scenario: list[ScenarioPost], half_life: float | None
) -> None:
    rate = budget(scenario)
    end = max(p.published_at for p in scenario) + HORIZON / 2
    clean = lean_replay(
        tmp_path / "clean", scenario, Scheduler(settings_for(scenario, half_life)), rate=rate,
        timelines=True, until=end,
    )  # fmt: skip
    # An odd period, so restarts fall at every kind of call (discoveries, checks, listings).
    restarting = Restarting(settings_for(scenario, half_life), every=997)
    run = lean_replay(
        tmp_path / "restarted", scenario, restarting, rate=rate,  # type: ignore[arg-type]
        timelines=True, until=end,
    )  # fmt: skip
    assert restarting.restarts >= 10, "the test must really restart the scheduler"
    assert run.requests == clean.requests
    assert verdict_rows(run.collector) == verdict_rows(clean.collector)
    removed = [row for row in verdict_rows(clean.collector) if row[3] is not None]
    assert len(removed) >= 10  # removals were caught, so the learning mattered
    # ... and what it learnt is the same, to the last bit.
    final, reference = restarting.inner, clean.collector.policy
    assert isinstance(reference, Scheduler)
    assert final.threshold == reference.threshold
    assert final.hazard.hazard == reference.hazard.hazard
    size = reference.risk.size
    assert np.array_equal(final.risk.observed[:size], reference.risk.observed[:size])
    assert final.risk.scale == reference.risk.scale
    assert final.hazard.forgotten_at == reference.hazard.forgotten_at
    if half_life is not None:  # the counts did fade, and by as much
        assert reference.risk.scale < 0.5 and final.hazard.removals == reference.hazard.removals


def test_the_snapshot_of_a_restored_scheduler_is_the_snapshot_it_came_from(
    tmp_path: Path, scenario: list[ScenarioPost]
) -> None:
    end = min(p.published_at for p in scenario) + 6 * 3600
    run = lean_replay(
        tmp_path, scenario, Scheduler(settings_for(scenario)), rate=budget(scenario),
        timelines=True, until=end,
    )  # fmt: skip
    original = run.collector.policy
    assert isinstance(original, Scheduler) and len(original.posts) > 50
    assert original.wide_view and any(a.poll_at for a in original.index.authors.values())
    meta, arrays = through_rows(original)
    again_meta, again_arrays = through_rows(restored(original))
    assert again_meta == meta
    assert again_arrays.keys() == arrays.keys()
    for name, array in arrays.items():
        assert np.array_equal(again_arrays[name], array, equal_nan=True), name
    # Every attribute of the scheduler and its parts is either in the snapshot or rebuilt from
    # it: one added later without either would make a resumed run drift, so it is listed here.
    assert set(vars(original)) == {
        "settings", "hazard", "risk", "index", "posts", "slots", "budget", "wide_view",
        "pending", "parked", "dirty", "updates", "request_cache", "saved", "_touched",
        "_touched_authors",
    }  # fmt: skip
    assert set(vars(original.budget)) == {
        "settings", "slots", "hazard", "risk", "threshold", "requests", "backlog",
        "plan_gain", "asked", "other_rate", "other", "period_start", "spent", "late",
        "late_checks", "planned", "floored", "trace",
    }  # fmt: skip
    assert set(vars(original.slots)) == {
        "count", "published", "risks", "modes", "author_of", "alive_ages", "author_slots",
    }  # fmt: skip
    assert set(vars(original.saved)) == {
        "features_flat", "feature_offsets", "author_ids", "author_count", "touched",
        "touched_authors", "post_floats", "post_ints", "author_floats", "author_ints",
        "author_rows",
    }  # fmt: skip


def test_a_state_that_does_not_fit_leaves_the_scheduler_as_it_was(
    tmp_path: Path, scenario: list[ScenarioPost]
) -> None:
    end = min(p.published_at for p in scenario) + 3 * 3600
    run = lean_replay(
        tmp_path, scenario, Scheduler(settings_for(scenario)), rate=budget(scenario),
        timelines=True, until=end,
    )  # fmt: skip
    original = run.collector.policy
    assert isinstance(original, Scheduler)
    meta, arrays = through_rows(original)
    other = Scheduler(SchedulerSettings(budget_per_second=1.0, horizon=3 * HORIZON))
    with pytest.raises(ValueError, match="horizon"):
        other.restore(meta, arrays, run.collector.state.posts)
    assert other.posts == {} and other.risk.size == 0
