"""The collector through its seams: the same decisions whichever recorder it writes to, every
answer recorded by the recorder alone, and the lab's shortcut folded like a sent check."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.recorder import CountingRecorder, StoreRecorder
from memoryhole.evidence.leaf import row_leaf_hash
from memoryhole.evidence.log import load_log
from memoryhole.model import Observation, Status
from memoryhole.platforms import registry
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.store.schema import observations, posts
from memoryhole.store.state import PostState
from memoryhole.study import Study
from tests.scenarios import known_removals

START = 1_717_200_000.0


def run(tmp_path: Path, name: str, **options: Any) -> tuple[Study, Collector]:
    study = Study.init(tmp_path / name)
    holder: list[Collector] = []
    posts_ = known_removals(START)
    end = max(p.published_at for p in posts_) + 6 * 3600.0
    replay(
        study,
        posts_,
        until=end,
        build=functools.partial(Collector, **options),
        on_start=holder.append,
    )
    return study, holder[0]


def verdicts(collector: Collector) -> list[tuple[str, str, float | None, int]]:
    return [
        (p.post_id, p.verdict.status.value, p.verdict.first_seen_removed_at, p.checks)
        for p in sorted(collector.state.posts.values(), key=lambda p: p.pk)
    ]


def test_the_counting_recorder_gives_the_same_decisions_and_writes_nothing(
    tmp_path: Path,
) -> None:
    stored_study, stored = run(tmp_path, "stored")
    counted_study, counted = run(tmp_path, "counted", recorder=CountingRecorder)
    assert isinstance(stored.recorder, StoreRecorder)
    assert isinstance(counted.recorder, CountingRecorder)
    assert verdicts(counted) == verdicts(stored)
    assert any(v[1] == "censored" for v in verdicts(stored))
    assert counted.state.next_observation_id == stored.state.next_observation_id
    with counted_study.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(posts)).scalar() == 0
    with stored_study.engine.connect() as conn:
        written = conn.execute(select(func.count()).select_from(observations)).scalar()
    assert written == stored.state.next_observation_id - 1 == stored.stats.committed_observations


def test_every_stored_row_re_hashes_to_its_leaf_and_the_log_is_whole(tmp_path: Path) -> None:
    study, _ = run(tmp_path, "stored")
    with study.engine.connect() as conn:
        rows = conn.execute(
            select(observations, posts.c.post_id)
            .outerjoin(posts, posts.c.id == observations.c.post_pk)
            .order_by(observations.c.id)
        ).mappings()
        hashes = [
            (
                row["leaf_hash"],
                row_leaf_hash(row, "weibo", row["post_id"] if row["post_pk"] else None),
            )
            for row in rows
        ]
    assert hashes and all(stored == again for stored, again in hashes)
    assert load_log(study.engine).size == len(hashes)


def test_a_shortcut_answer_is_folded_like_a_sent_check(tmp_path: Path) -> None:
    asked: list[str] = []

    def always_censored(post: PostState, now: float) -> Observation | None:
        asked.append(post.post_id)
        return Observation(Status.CENSORED, code="20112")

    _, collector = run(tmp_path, "shortcut", recorder=CountingRecorder, shortcut=always_censored)
    checked = [p for p in collector.state.posts.values() if p.checks]
    assert asked and checked
    assert all(p.verdict.status is Status.CENSORED for p in checked)
    assert collector.stats.checks == len(asked)
    assert collector.stats.removals["censored"] == len(checked)


def test_every_committed_observation_is_counted_when_flushes_overlap(tmp_path: Path) -> None:
    """A worker flushes a full batch while the periodic flusher's commit is still running:
    the count of committed observations adds both, never loses one to the other."""

    class SlowRecorder(CountingRecorder):
        async def flush(self, *, final: bool = False) -> int:
            await asyncio.sleep(0.01)  # a commit in its thread
            return 7

    study = Study.init(tmp_path / "study")
    collector = Collector(
        study,
        {"weibo": registry.get("weibo", REPLAY_BASE_URL)},
        InProcessTransport(SimPlatform(known_removals(START), VirtualClock(START), "weibo")),
        VirtualClock(START),
        recorder=SlowRecorder,
    )

    async def overlapping() -> None:
        await asyncio.gather(collector.flush(), collector.flush(), collector.flush())

    asyncio.run(overlapping())
    assert collector.stats.committed_observations == 21
