"""The parts several collectors share on PostgreSQL, on the real server: partition leases,
budgets in the database, id blocks and the sequencer's fence."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from memoryhole.clock import VirtualClock
from memoryhole.collect.budgets import SharedBucket, SharedBudgets
from memoryhole.collect.claims import Claims
from memoryhole.collect.limiter import Identity
from memoryhole.collect.sequencer import IdBlocks
from memoryhole.model import Target
from memoryhole.store.queries import add_targets
from memoryhole.study import Study


@pytest.fixture
def study(tmp_path: Path, postgres_url: str) -> Study:
    opened = Study.init(tmp_path / "study", database_url=postgres_url)
    add_targets(opened.engine, [Target("weibo", "user", str(1000 + i)) for i in range(6)], 0.0)
    return opened


def test_workers_split_the_partitions_and_a_newcomer_gets_its_share(study: Study) -> None:
    first, second = Claims(study.engine, "a"), Claims(study.engine, "b")
    assert len(first.acquire()) == 6  # alone: everything
    assert second.acquire() == frozenset()  # all leased; it waits for the next term
    assert len(first.acquire()) == 3  # two workers alive: it gives half back
    assert len(second.acquire()) == 3
    assert first.held.isdisjoint(second.held)
    assert len(first.held | second.held) == 6
    with study.engine.begin() as connection:
        assert first.holds(connection, first.held)
        assert not first.holds(connection, second.held)  # the fence: not its partitions


def test_a_dead_workers_leases_expire_and_are_taken_over(study: Study) -> None:
    dead = Claims(study.engine, "dead", lease=1.0)
    assert len(dead.acquire()) == 6
    survivor = Claims(study.engine, "survivor", lease=30.0)
    assert survivor.acquire() == frozenset()
    time.sleep(1.3)  # the dead worker renews nothing
    assert len(survivor.acquire()) == 6  # and it no longer counts as alive
    with study.engine.begin() as connection:
        assert not dead.holds(connection, dead.held)  # its late batch would be refused


def test_a_released_worker_gives_everything_back(study: Study) -> None:
    leaving = Claims(study.engine, "leaving")
    leaving.acquire()
    leaving.release()
    assert len(Claims(study.engine, "next").acquire()) == 6


def test_the_budget_is_shared_never_exceeded(study: Study) -> None:
    clock = VirtualClock(1000.0)
    rate = 5.0
    buckets = [SharedBucket(clock, rate, study.engine, "weibo") for _ in range(3)]
    taken = [0, 0, 0]
    for step in range(2000):  # 100 platform seconds in steps of 0.05
        clock.advance_to(1000.0 + step * 0.05)
        for i in (step % 3, (step + 1) % 3, (step + 2) % 3):  # in turn, as workers would
            while buckets[i].take():  # each takes all it is given
                taken[i] += 1
    # Capacity max(1, rate) at the start, then the rate: never more, whoever asks.
    assert sum(taken) <= rate + rate * 100.0
    assert sum(taken) >= rate * 100.0 - 1
    assert all(t > 0 for t in taken)


def test_id_blocks_never_hand_out_the_same_id(study: Study) -> None:
    first, second = IdBlocks(study.engine, size=4), IdBlocks(study.engine, size=4)
    ids = [first.take("posts") for _ in range(6)] + [second.take("posts") for _ in range(6)]
    ids += [first.take("posts") for _ in range(3)]
    assert len(set(ids)) == len(ids)
    with study.engine.connect() as connection:
        largest = connection.execute(text("SELECT next_id FROM id_blocks")).scalar_one()
    assert max(ids) < largest


def test_a_batch_from_a_worker_that_lost_its_lease_is_refused(study: Study) -> None:
    from memoryhole.collect.sequencer import LeaseLostError, Sequencer
    from memoryhole.store.state import load_state
    from memoryhole.store.writer import Batch

    stalled = Claims(study.engine, "stalled", lease=1.0)
    held = stalled.acquire()
    sequencer = Sequencer(study, stalled)
    state = load_state(study.engine, held)
    batch = Batch(targets={pk: {"cursor": "mine"} for pk in held})
    assert sequencer.commit(batch, state, checkpoint=lambda size: False).observations == 0
    time.sleep(1.3)
    Claims(study.engine, "new owner").acquire()
    late = Batch(targets={pk: {"cursor": "late"} for pk in held})
    with pytest.raises(LeaseLostError):
        sequencer.commit(late, state, checkpoint=lambda size: False)
    with study.engine.connect() as connection:
        cursors = set(connection.execute(text("SELECT cursor FROM targets")).scalars())
    assert cursors == {"mine"}  # the late batch wrote nothing


def test_a_batch_of_partitions_given_back_while_the_collector_ran_is_refused(
    study: Study,
) -> None:
    """A renewal gives partitions back to a newcomer while the collector still works on them
    (it goes on between renewals): its next commit is refused, though every lease the worker
    still holds is good."""
    from memoryhole.collect.sequencer import LeaseLostError, Sequencer
    from memoryhole.store.state import load_state
    from memoryhole.store.writer import Batch

    first = Claims(study.engine, "first")
    held = first.acquire()
    sequencer = Sequencer(study, first)
    state = load_state(study.engine, held)  # the collector's partitions: all six
    Claims(study.engine, "newcomer").acquire()
    assert len(first.acquire()) == 3  # the renewal gives half back
    late = Batch(targets={pk: {"cursor": "late"} for pk in held})
    with pytest.raises(LeaseLostError):
        sequencer.commit(late, state, checkpoint=lambda size: False)
    with study.engine.connect() as connection:
        cursors = set(connection.execute(text("SELECT cursor FROM targets")).scalars())
    assert "late" not in cursors


def test_accounts_have_their_own_budgets_and_an_egress_address_bounds_them_all(
    study: Study,
) -> None:
    """Workers asking as two accounts spend each account's budget; the address they share
    caps their sum; a worker of account ``a`` and another of ``a`` share ``a``'s."""
    clock = VirtualClock(1000.0)
    on_host = (("host", 6.0),)

    def budgets(account: str) -> SharedBudgets:
        identity = Identity({"weibo": (account, 4.0)}, on_host[0])
        return SharedBudgets(clock, 100.0, {}, study.engine, identity)

    workers = [budgets("a"), budgets("a"), budgets("b")]
    taken = [0, 0, 0]
    for step in range(2000):  # 100 platform seconds
        clock.advance_to(1000.0 + step * 0.05)
        for i in (step % 3, (step + 1) % 3, (step + 2) % 3):
            while workers[i].bucket("weibo").take():
                taken[i] += 1
    seconds = 100.0
    assert taken[0] + taken[1] <= 4.0 + 4.0 * seconds  # account a: its budget, however many
    assert sum(taken) <= 6.0 + 6.0 * seconds  # the address: the sum of both accounts
    assert sum(taken) >= 6.0 * seconds - 2  # and the address's budget is what limits it
    assert taken[2] > seconds  # b is not starved by a's two workers
    assert workers[0].rate("weibo") == 4.0  # what the worker's schedule plans on
    with study.engine.connect() as connection:
        names = set(connection.execute(text("SELECT name FROM collect_budgets")).scalars())
    assert names == {"weibo/account/a", "weibo/account/b", "weibo/egress/host"}


def test_a_worker_keeps_its_collector_while_its_partitions_stay_the_same(
    study: Study,
) -> None:
    """Terms renew the leases; the collector (and its schedule's learning) goes on over them,
    nothing taken and not done is lost between terms (every post found is checked), and the
    schedule plans on the worker's share of a platform budget, not on all of it."""
    import asyncio

    from memoryhole.clock import AcceleratedClock
    from memoryhole.collect.runner import build_adapters
    from memoryhole.collect.shared import Worker
    from memoryhole.collect.transport import RawResponse
    from memoryhole.model import Request
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.inprocess import InProcessTransport
    from memoryhole.sim.platform import SimPlatform

    start = 1_700_000_000.0
    posts = [
        ScenarioPost(
            post_id=str(4_900_000_000_000_000 + i),
            author_id=str(1000 + i % 6),
            published_at=start + 20.0 * i,
            text=f"第{i}条",
        )
        for i in range(30)
    ]
    from memoryhole.config import update_config

    update_config(study.config_path, ("collector",), "scheduler", "age")  # checks every post
    study.config = Study.open(study.path).config
    clock = AcceleratedClock(start, time.time(), 60.0)
    study.set_base_url("weibo", "http://weibo.sim")
    simulator = InProcessTransport(SimPlatform(posts, clock, "weibo"))

    class Slow:  # answers take 0.25 s: every term ends with requests in flight
        async def send(self, request: Request) -> RawResponse:
            await asyncio.sleep(0.25)
            return await simulator.send(request)

        async def close(self) -> None:
            await simulator.close()

    transport = Slow()
    worker = Worker(study, build_adapters(study), transport, clock, term=0.6, lease=1.5)
    asyncio.run(worker.run(asyncio.Event(), time.time() + 4.0))
    ended = clock.now()
    assert worker.terms >= 4
    assert worker.rebuilt == 1  # one collector for every term
    assert worker.plan_rates({"weibo"}) == {"weibo": 5.0}  # alone: all of the budget
    worker.claims.live = 2
    assert worker.plan_rates({"weibo"}) == {"weibo": 2.5}  # one of two: half
    with study.engine.connect() as connection:
        found = connection.execute(text("SELECT count(*) FROM posts")).scalar_one()
        # An event taken and not done at a term's end, if lost, leaves its post overdue for
        # good: its committed next check long past when the worker stopped.
        overdue = connection.execute(
            text("SELECT count(*) FROM schedule WHERE next_check_at < :long_ago"),
            {"long_ago": ended - 60.0},
        ).scalar_one()
        checks = connection.execute(
            text("SELECT count(*) FROM observations WHERE kind = 'check'")
        ).scalar_one()
    assert worker.collector is not None
    lost = [
        post.pk
        for post in worker.collector.state.posts.values()
        if post.next_check_at is None or post.next_check_at < ended - 60.0  # horizon: 7 days
    ]
    assert found >= 8
    assert checks > 0
    assert overdue == 0
    assert lost == []
