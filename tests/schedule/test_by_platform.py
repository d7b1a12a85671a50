"""One scheduler per platform (``schedule/by_platform.py``): each on its platform's budget, with
its own removal hazard and authors; durable; explained per platform. Runs in process on a
virtual clock: Reddit and the generic JSON API, each a simulator of its own."""

from __future__ import annotations

import asyncio
import math
import random
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from sqlalchemy import select

from memoryhole.classify import first_verdict
from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.runner import build_adapters, study_policy
from memoryhole.errors import MemoryholeError
from memoryhole.model import Status
from memoryhole.scenario import ScenarioPost
from memoryhole.schedule.base import Policy
from memoryhole.schedule.by_platform import PlatformSchedulers
from memoryhole.schedule.explain import explain_post
from memoryhole.schedule.scheduler import Scheduler, SchedulerSettings
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.shapes import WATCH
from memoryhole.store.queries import add_targets
from memoryhole.store.schema import observations, posts, verdicts
from memoryhole.study import Study
from tests.collect.test_platform_settings import ByHost, configure
from tests.schedule.replays import Post

T0 = 1_700_000_000.0
HORIZON = 12 * 3600.0
BUDGETS = {"reddit": 0.4, "json": 0.1}
FAST, SLOW = 600.0, 6 * 3600.0  # median removal age on Reddit, on the JSON API


def scenario(seed: int, median: float) -> list[ScenarioPost]:
    """300 posts in the first hour by 40 authors; 2 in 5 censored, log-normal around
    ``median``. Both platforms use the same post and author ids."""
    rng = random.Random(seed)
    out = []
    for i in range(300):
        published = T0 + 12.0 * i
        removed = published + rng.lognormvariate(math.log(median), 0.8) if i % 5 < 2 else None
        out.append(
            ScenarioPost(
                str(7_000_000 + i),
                str(500 + i % 40),
                published,
                f"post {i} 文字",
                removed,
                "censored" if removed is not None else None,
            )
        )
    return out


@dataclass
class Run:
    study: Study
    policy: Policy
    requests: Counter[str]
    delays: dict[str, list[float]]
    missed: dict[str, int]  # removals an hour or more before the end, never seen


def run(tmp_path: Path, one_scheduler: bool = False) -> Run:
    study = Study.init(tmp_path / "study")
    configure(study, ("collector",), budget_per_second=50.0, poll_interval="60s", horizon="12h")
    for name, budget in BUDGETS.items():
        configure(
            study, ("platforms", name), base_url=f"http://{name}.sim", budget_per_second=budget
        )
    study.close()
    study = Study.open(tmp_path / "study")
    add_targets(study.engine, [WATCH["reddit"], WATCH["json"]], T0)
    clock = VirtualClock(T0)
    truth = {"reddit": scenario(1, FAST), "json": scenario(2, SLOW)}
    transport = ByHost(
        {
            f"{name}.sim": InProcessTransport(SimPlatform(posted, clock, name))
            for name, posted in truth.items()
        }
    )
    policy: Policy | None
    if one_scheduler:  # what studies had before: one scheduler on the collector-wide budget
        policy = Scheduler(SchedulerSettings(budget_per_second=50.0, horizon=HORIZON))
    else:
        policy = study_policy(study)
    assert policy is not None
    collector = Collector(study, build_adapters(study), transport, clock, policy=policy)
    asyncio.run(collector.run(until=T0 + HORIZON))
    with study.engine.connect() as connection:
        sent = connection.execute(select(observations.c.url, observations.c.sent_at)).all()
        seen = connection.execute(
            select(posts.c.platform, posts.c.post_id, verdicts.c.first_seen_removed_at).join(
                verdicts, verdicts.c.post_pk == posts.c.id
            )
        ).all()
    # A listing's sightings are logged as observations of its posts, at the listing's time.
    requests = Counter(urlsplit(url).hostname or "" for url, _ in set(sent))
    delays: dict[str, list[float]] = {name: [] for name in truth}
    missed = dict.fromkeys(truth, 0)
    for platform, post_id, removed_at in seen:
        true = next(p.removed_at for p in truth[platform] if p.post_id == post_id)
        if removed_at is not None and true is not None:
            delays[platform].append(removed_at - true)
        elif true is not None and true < T0 + HORIZON - 3600:
            missed[platform] += 1
    return Run(study, policy, requests, delays, missed)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    return run(tmp_path_factory.mktemp("per")), run(tmp_path_factory.mktemp("one"), True)


def test_each_platform_is_planned_on_its_own_budget(runs: tuple[Run, Run]) -> None:
    per_platform, one = runs
    policy = per_platform.policy
    assert isinstance(policy, PlatformSchedulers)
    assert {name: s.settings.budget_per_second for name, s in policy.schedulers.items()} == BUDGETS
    for name, budget in BUDGETS.items():
        spent = per_platform.requests[f"{name}.sim"]
        assert spent <= budget * HORIZON + 1  # the bucket's: never above the budget ...
        assert spent >= 0.6 * budget * HORIZON  # ... and the plan uses it
    # A request costs more where the budget is tighter (and the posts are no riskier).
    assert policy.scheduler("json").threshold > 3 * policy.scheduler("reddit").threshold
    # One scheduler planned both platforms' posts against one platform's budget (50/s): its
    # demand far above what either bucket lets through, checks ran late and removals were
    # seen late. Planned per platform, Reddit's removals are seen several times sooner.
    fast, late = (
        statistics.median(per_platform.delays["reddit"]),
        statistics.median(one.delays["reddit"]),
    )
    assert fast <= 5 * 60 and late >= 3 * fast
    for name in BUDGETS:
        assert len(per_platform.delays[name]) >= len(one.delays[name])
    # (On the JSON API a post old enough may wait up to 12 h, the longest gap's floor, for
    # its next check: its last is at the horizon, after this run ends.)
    assert per_platform.missed["reddit"] == 0


def test_each_platform_learns_its_own_removal_times(runs: tuple[Run, Run]) -> None:
    policy = runs[0].policy
    assert isinstance(policy, PlatformSchedulers)
    reddit = policy.scheduler("reddit").hazard.quantiles()[0.5]
    json_api = policy.scheduler("json").hazard.quantiles()[0.5]
    assert reddit < 3 * FAST  # true median 10 min
    assert json_api > SLOW / 3  # true median 6 h
    # One scheduler for both learnt one distribution in between.
    one = runs[1].policy
    assert isinstance(one, Scheduler)
    assert reddit < one.hazard.quantiles()[0.5] < json_api


def _equal_states(a: PlatformSchedulers, b: PlatformSchedulers) -> None:
    meta_a, arrays_a = a.snapshot()
    meta_b, arrays_b = b.snapshot()
    assert meta_a == meta_b
    assert arrays_a.keys() == arrays_b.keys()
    for name, array in arrays_a.items():
        np.testing.assert_array_equal(array, arrays_b[name], err_msg=name)


def test_the_state_of_every_platform_is_taken_back(runs: tuple[Run, Run]) -> None:
    policy = runs[0].policy
    assert isinstance(policy, PlatformSchedulers)
    meta, arrays = policy.snapshot()
    assert set(meta["platforms"]) == {"reddit", "json"}
    assert any(name.endswith("@json") for name in arrays)
    collector_posts = _posts_by_pk(runs[0].study)
    fresh = PlatformSchedulers(policy.settings, BUDGETS)
    fresh.restore(meta, arrays, collector_posts)
    _equal_states(policy, fresh)
    assert fresh.scheduler("json").settings.budget_per_second == 0.1
    # A state that does not fit (one platform's posts unknown) leaves the policy as it was.
    partial = {pk: post for pk, post in collector_posts.items() if post.platform == "reddit"}
    with pytest.raises(ValueError, match="not in the store"):
        fresh.restore(meta, arrays, partial)
    _equal_states(policy, fresh)


def test_a_lone_schedulers_state_is_taken_back_for_its_platform(runs: tuple[Run, Run]) -> None:
    policy = runs[0].policy
    assert isinstance(policy, PlatformSchedulers)
    lone = policy.scheduler("reddit")  # as a one-platform study committed it before
    meta, arrays = lone.snapshot(full=True)
    collector_posts = _posts_by_pk(runs[0].study)
    fresh = PlatformSchedulers(policy.settings, BUDGETS)
    fresh.restore(meta, arrays, collector_posts)
    assert list(fresh.schedulers) == ["reddit"]
    again = fresh.scheduler("reddit").snapshot(full=True)
    assert again[0] == lone.snapshot(full=True)[0]
    # The posts of a lone scheduler's state must be of one platform.
    both = runs[1].policy
    assert isinstance(both, Scheduler)
    with pytest.raises(ValueError, match="2 platforms"):
        PlatformSchedulers(policy.settings, BUDGETS).restore(*both.snapshot(), collector_posts)


def _posts_by_pk(study: Study) -> dict[int, Post]:
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.id, posts.c.platform, posts.c.post_id, posts.c.published_at)
        ).all()
    return {
        pk: Post(pk, post_id, "", published, first_verdict(published, None), platform)
        for pk, platform, post_id, published in rows
    }


def test_explain_says_which_platform_and_uses_its_scheduler(runs: tuple[Run, Run]) -> None:
    study = runs[0].study
    with pytest.raises(MemoryholeError, match="is on json, reddit; say which with --platform"):
        explain_post(study, "7000001")
    fast = explain_post(study, "7000001", "reddit")
    slow = explain_post(study, "7000001", "json")
    assert fast.removal_quantiles_hours["50%"] < 0.5 < 2 < slow.removal_quantiles_hours["50%"]
    with pytest.raises(MemoryholeError, match="no post '7000001' on mastodon"):
        explain_post(study, "7000001", "mastodon")


def test_one_author_id_on_two_platforms_is_two_authors() -> None:
    policy = PlatformSchedulers(SchedulerSettings(budget_per_second=1.0, horizon=HORIZON))
    mine = [Post(i, str(i), "7", 0.0, first_verdict(30.0, None), "reddit") for i in range(3)]
    theirs = [Post(10 + i, str(i), "7", 0.0, first_verdict(30.0, None), "json") for i in range(2)]
    for post in [*mine, *theirs]:
        policy.after_discovery(0.0, 30.0, post=post, text="好")
    gone = mine[0].verdict
    gone.status, gone.first_seen_removed_at = Status.ACCOUNT_SUSPENDED, 600.0
    policy.after_check(gone, 0.0, 600.0, post=mine[0])
    assert policy.scheduler("reddit").pending == {1: 600.0, 2: 600.0}
    assert policy.scheduler("json").pending == {}  # the other platform's "7" is someone else
    assert len(policy.scheduler("json").posts) == 2
