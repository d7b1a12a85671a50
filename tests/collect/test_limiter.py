from __future__ import annotations

import asyncio
from pathlib import Path

from memoryhole.clock import VirtualClock
from memoryhole.collect.limiter import Identity, PlatformBudgets, TokenBucket


def test_bucket_spends_at_most_its_rate_on_the_injected_clock() -> None:
    clock = VirtualClock(0.0)
    bucket = TokenBucket(clock, rate=10.0)

    async def take(n: int) -> None:
        for _ in range(n):
            await bucket.acquire()

    asyncio.run(take(110))
    # 10 tokens of burst, then 100 more at 10/s → 10 seconds of virtual time.
    assert abs(clock.now() - 10.0) < 1e-6


def test_pause_until_blocks_every_request_until_then() -> None:
    clock = VirtualClock(0.0)
    bucket = TokenBucket(clock, rate=100.0)
    bucket.pause_until(30.0)
    asyncio.run(bucket.acquire())
    assert clock.now() >= 30.0


def test_an_account_and_its_address_are_both_spent_and_the_scarcer_paces() -> None:
    """A request as account ``a`` from address ``host`` takes a token of each; while one has
    none, the other keeps its token (nothing is spent for a request not sent)."""
    clock = VirtualClock(0.0)
    budgets = PlatformBudgets(clock, 50.0, {}, Identity({"weibo": ("a", 2.0)}, ("host", 10.0)))
    assert budgets.rate("weibo") == 2.0  # the account is the scarcer
    assert budgets.rate("rss") == 10.0  # no account there: the platform's, under the address's

    async def take(platform: str, n: int) -> None:
        for _ in range(n):
            await budgets.bucket(platform).acquire()

    asyncio.run(take("weibo", 22))  # 2 of burst, then 20 at the account's 2/s
    assert abs(clock.now() - 10.0) < 1e-6
    levels = budgets.levels()
    assert set(levels) == {"weibo/account/a", "weibo/egress/host"}
    assert levels["weibo/egress/host"][0] == 9.0  # full but for the last request: 22 in 10 s
    asyncio.run(take("rss", 10))  # its own address bucket (per platform) and the platform's
    assert set(budgets.levels()) == {
        "weibo/account/a",
        "weibo/egress/host",
        "rss",
        "rss/egress/host",
    }
    budgets.bucket("weibo").pause_until(20.0)  # a 429 pauses the account and the address
    assert budgets.levels()["weibo/account/a"][2] == 20.0
    assert budgets.levels()["weibo/egress/host"][2] == 20.0


def test_a_resumed_run_goes_on_with_the_budget_it_had_left(tmp_path: Path) -> None:
    """The token bucket's level is committed with the collector's state: a restart does not
    start with a full bucket (a burst the budget did not allow), and the policy's planned
    listings stay planned."""
    from memoryhole.collect.collector import Collector
    from memoryhole.model import Target
    from memoryhole.schedule.scheduler import Scheduler, SchedulerSettings
    from memoryhole.sim.replay import replay
    from memoryhole.store.queries import add_targets
    from memoryhole.study import Study
    from tests.scenarios import known_removals

    posts = known_removals(1_700_000_000.0)
    study = Study.init(tmp_path / "study")
    authors = sorted({p.author_id for p in posts})
    add_targets(study.engine, [Target("weibo", "all")], 0.0)
    add_targets(study.engine, [Target("weibo", "user", a) for a in authors], 0.0)
    seen: list[Collector] = []
    at_start: list[tuple[list[float | None], set[int]]] = []

    def started(collector: Collector) -> None:
        seen.append(collector)
        at_start.append((collector.budgets.levels().get("weibo", []), set(collector.queue.planned)))

    def policy() -> Scheduler:
        return Scheduler(SchedulerSettings(budget_per_second=0.05, horizon=6 * 3600.0))

    stop = posts[-1].published_at + 600.0
    replay(study, posts, until=stop, budget_per_second=0.05, policy=policy(), on_start=started)
    first = seen[0]
    left = first.budgets.levels()["weibo"]
    assert left[0] is not None and left[0] < 1.0  # the budget is the limit: no token to spare
    replay(study, posts, until=stop + 60, budget_per_second=0.05, policy=policy(),
           on_start=started)  # fmt: skip
    assert seen[1].durable.restored
    # as the first run left it at its last commit (the one taken at its end)
    levels, planned = at_start[1]
    assert levels == left
    assert first.queue.planned  # the timelines' polls are the scheduler's to plan
    assert planned == first.queue.planned
