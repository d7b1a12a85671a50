"""The parts several collectors share on PostgreSQL, on the real server: partition leases,
budgets in the database, id blocks and the sequencer's fence."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from memoryhole.clock import VirtualClock
from memoryhole.collect.budgets import SharedBucket
from memoryhole.collect.claims import Claims
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
