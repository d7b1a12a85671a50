"""A removal one answer is too weak to state (an RSS item page's 404: a deploy or a cache
gives one for a moment) is stated only when the next check says it again; a 404 that passes
is never a removal."""

from __future__ import annotations

import asyncio
from pathlib import Path

from memoryhole.clock import VirtualClock
from memoryhole.collect.checks import CONFIRM_AFTER
from memoryhole.collect.collector import Collector
from memoryhole.collect.transport import RawResponse
from memoryhole.model import Request
from memoryhole.platforms import registry
from memoryhole.scenario import ScenarioPost
from memoryhole.schedule.policy import AgeProportional
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.replay import REPLAY_BASE_URL
from memoryhole.sim.shapes import WATCH
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.study import Study
from tests.conftest import fixture_bytes

T0 = 1_717_200_000.0
HTML = (("content-type", "text/html; charset=utf-8"),)


class PagesGone:
    """The simulator, with every item page answering 404 while ``down(now)`` holds."""

    def __init__(self, inner: InProcessTransport, clock: VirtualClock, down: object) -> None:
        self.inner, self.clock, self.down = inner, clock, down

    async def send(self, request: Request) -> RawResponse:
        is_page = "/feeds/" not in request.url
        if is_page and self.down(self.clock.now()):  # type: ignore[operator]
            return RawResponse(404, HTML, fixture_bytes("rss_item_gone.html"))
        return await self.inner.send(request)

    async def close(self) -> None:
        return None


def run(
    tmp_path: Path, down: object, max_interval: float = 600.0
) -> tuple[list[dict[str, object]], Collector]:
    posts = [
        ScenarioPost(str(1000 + i), "author", T0 + 60.0 * i, f"note {i}", None, None, ())
        for i in range(3)
    ]
    study = Study.init(tmp_path / "study")
    add_targets(study.engine, [WATCH["rss"]], T0)
    clock = VirtualClock(T0)
    transport = PagesGone(InProcessTransport(SimPlatform(posts, clock, "rss")), clock, down)
    collector = Collector(
        study,
        {"rss": registry.get("rss", REPLAY_BASE_URL)},
        transport,
        clock,
        budget_per_second=10.0,
        policy=AgeProportional(first_check_after=60.0, max_interval=max_interval, horizon=86400.0),
    )
    asyncio.run(collector.run(until=T0 + 4 * 3600.0))
    return list(iter_verdicts(study.engine)), collector


def test_a_404_that_passes_is_never_a_removal(tmp_path: Path) -> None:
    # Down for a few minutes (a deploy): every post is checked in it, some more than once.
    checked: list[float] = []

    def down(now: float) -> bool:
        gone = T0 + 3600.0 <= now < T0 + 3600.0 + 0.9 * CONFIRM_AFTER
        if gone:
            checked.append(now)
        return gone

    verdicts, collector = run(tmp_path, down, max_interval=120.0)
    assert len(checked) >= 3  # the pages did answer 404
    assert len(verdicts) == 3
    assert {v["verdict"] for v in verdicts} == {"live"}
    assert not collector.stats.removals  # not even for a moment ("visible again" after)
    assert all(
        post.verdict.history == post.verdict.history[:1] for post in collector.state.posts.values()
    )


def test_a_404_said_twice_is_a_removal(tmp_path: Path) -> None:
    gone_from = T0 + 3600.0
    verdicts, _ = run(tmp_path, lambda now: now >= gone_from)
    assert {v["verdict"] for v in verdicts} == {"unknown"}
    for verdict in verdicts:
        removed = verdict["first_seen_removed_at"]
        assert isinstance(removed, float) and removed > gone_from
        alive = verdict["last_seen_alive_at"]
        assert isinstance(alive, float) and alive < gone_from < removed
