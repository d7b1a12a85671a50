"""Small virtual-time replays for the scheduler's tests: a scenario from the shipped policy and
a lean collector (no store), with what was sent recorded."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memoryhole.bench.detect import KnownAnswers, _prepare_study, lean_collector
from memoryhole.collect.collector import Collector, CollectorStats
from memoryhole.model import Target, Verdict
from memoryhole.scenario import ScenarioPost
from memoryhole.schedule.base import Policy
from memoryhole.sim.generate import generate
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy
from memoryhole.sim.replay import replay
from memoryhole.store.queries import add_targets
from memoryhole.store.state import PostState, TargetState

HORIZON = 2 * 86400.0
POLL_INTERVAL = 120.0


def small_scenario(posts: int = 500, seed: int = 3) -> list[ScenarioPost]:
    return generate(load_policy(DEFAULT_POLICY_PATH), seed, posts=posts)


def budget(posts: list[ScenarioPost], per_post: float = 20.0) -> float:
    return per_post * len(posts) / HORIZON


@dataclass
class Recorded:
    collector: Collector
    stats: CollectorStats
    requests: list[float] = field(default_factory=list)  # platform time of each request
    lateness: list[float] = field(default_factory=list)  # of each check, vs its schedule
    # post pk → (time run, time it was due) of each of its checks
    checks: dict[int, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    end: float = 0.0
    feed_lateness: list[float] = field(default_factory=list)  # of each poll of weibo:all


@dataclass
class Post:
    """A ``PostView`` for tests that call a policy directly."""

    pk: int
    post_id: str
    author_id: str
    published_at: float
    verdict: Verdict
    platform: str = "weibo"
    checks: int = 0
    failures: int = 0


def lean_replay(
    tmp_path: Path,
    posts: list[ScenarioPost],
    policy: Policy,
    *,
    rate: float,
    timelines: bool,
    until: float | None = None,
) -> Recorded:
    study = _prepare_study(tmp_path / "study", None, POLL_INTERVAL)
    targets = [Target("weibo", "all")]
    if timelines:
        targets += [Target("weibo", "user", a) for a in sorted({p.author_id for p in posts})]
    add_targets(study.engine, targets, 0.0)
    holder: list[Collector] = []
    recorded: dict[str, Any] = {
        "requests": [],
        "lateness": [],
        "checks": defaultdict(list),
        "feed": [],
        "sent": 0,
    }

    def watch(collector: Collector) -> None:
        holder.append(collector)
        send = collector.transport.send
        check, poll = collector.checks.check, collector.listings.poll

        async def counted_send(request: Any) -> Any:
            recorded["sent"] += 1
            return await send(request)

        # Each check and each poll is one request; a check the lean collector folds from
        # the post's repeated answer (``bench.detect.KnownAnswers``) sends nothing.
        async def timed_check(post: PostState) -> None:
            now = collector.clock.now()
            recorded["requests"].append(now)
            due = post.next_check_at if post.next_check_at is not None else now
            recorded["lateness"].append(now - due)
            recorded["checks"][post.pk].append((now, due))
            await check(post)

        async def timed_poll(target: TargetState) -> None:
            recorded["requests"].append(collector.clock.now())
            if target.target.kind == "all":
                recorded["feed"].append(collector.clock.now() - target.next_poll_at)
            await poll(target)

        collector.transport.send = counted_send  # type: ignore[method-assign]
        collector.checks.check = timed_check  # type: ignore[method-assign]
        collector.listings.poll = timed_poll  # type: ignore[method-assign]

    end = until or max(p.published_at for p in posts) + HORIZON + 600.0
    stats, stopped = replay(
        study,
        posts,
        until=end,
        budget_per_second=rate,
        policy=policy,
        build=lean_collector,
        on_start=watch,
    )
    study.close()
    collector = holder[0]
    shortcut = collector.checks.shortcut
    repeated = shortcut.repeated if isinstance(shortcut, KnownAnswers) else 0
    assert recorded["sent"] + repeated == len(recorded["requests"])
    return Recorded(
        holder[0],
        stats,
        recorded["requests"],
        recorded["lateness"],
        recorded["checks"],
        stopped,
        recorded["feed"],
    )


def verdict_rows(collector: Collector) -> list[tuple[object, ...]]:
    return [
        (
            post.post_id,
            post.verdict.status.value,
            post.verdict.last_seen_alive_at,
            post.verdict.first_seen_removed_at,
            post.checks,
        )
        for _, post in sorted(collector.state.posts.items())
    ]
