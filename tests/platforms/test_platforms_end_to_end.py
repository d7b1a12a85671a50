"""Every adapter end to end against the simulator speaking its platform's shapes: the real
collector, store and verdict machine on a virtual clock (``sim.replay``), with and without a
high rate of faults. Zero false removals always; every removal found; each attributed as far as
the platform can tell (Reddit and the JSON API tell all three kinds, Mastodon only
suspensions, a web page nothing: ``unknown``). And ``sim serve --platform`` over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.collect.transport import AiohttpTransport
from memoryhole.model import Capture, PostRef, Status
from memoryhole.platforms import registry
from memoryhole.scenario import (
    ScenarioPost,
    effective_removal,
    suspension_times,
    write_scenario,
)
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.process import free_port
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.sim.shapes import WATCH, get_shape
from memoryhole.sim.truth import Evaluation, evaluate
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0
FAULTS = "5xx=0.15,slow=0.03,truncate=0.1,captcha=0.1,reset=0.05"
PLATFORMS = ["reddit", "mastodon", "rss", "json"]


def run(
    tmp_path: Path, platform: str, faults: str | None
) -> tuple[Evaluation, list[ScenarioPost], list[dict[str, Any]]]:
    scenario = known_removals(T0)
    study = Study.init(tmp_path / "study")
    # Three hours see every post published and every removal (the last is at about +1.6 h).
    stats, end = replay(
        study, scenario, until=T0 + 3 * 3600, faults=faults, seed=7, platform=platform
    )
    if faults:
        assert stats.transient > 0.2 * (stats.checks + stats.polls), "faults were injected"
    verdicts = list(iter_verdicts(study.engine))
    if platform == "rss":  # items are known by their URL: /posts/{id}
        for row in verdicts:
            row["post_id"] = str(row["post_id"]).rsplit("/", 1)[-1]
    return evaluate(scenario, verdicts, until=end, platform=platform), scenario, verdicts


@pytest.mark.parametrize("faults", [None, FAULTS], ids=["clean", "faults"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_removal_found_none_invented(
    tmp_path: Path, platform: str, faults: str | None
) -> None:
    result, scenario, verdicts = run(tmp_path, platform, faults)
    assert result.false_removals == []
    assert result.interval_misses == []
    assert result.true_removals >= 20
    assert result.caught == result.true_removals
    suspended = suspension_times(scenario)
    truth = {p.post_id: effective_removal(p, suspended) for p in scenario}
    by_post = {str(v["post_id"]): str(v["verdict"]) for v in verdicts}
    assert {post for post, removal in truth.items() if removal is None} <= {
        post for post, verdict in by_post.items() if verdict == "live"
    }
    removed = {post: removal[1] for post, removal in truth.items() if removal is not None}
    if platform in ("reddit", "json"):
        assert result.attribution == 1.0
        assert set(result.caught_by_kind) == {"censored", "author_deleted", "account_suspended"}
    elif platform == "mastodon":
        for post, kind in removed.items():
            if kind == "account_suspended":
                assert by_post[post] == "account_suspended", post
            else:  # a 404 says nothing more; the account, once suspended, may be blamed
                assert by_post[post] in ("unknown", "account_suspended"), post
        assert "censored" not in result.caught_by_kind
        assert "author_deleted" not in result.caught_by_kind
    else:
        assert set(result.caught_by_kind) == {"unknown"}


@pytest.mark.parametrize("platform", ["weibo", *PLATFORMS])
def test_each_shape_answers_each_removal_kind(platform: str) -> None:
    """At one moment, one check per post through the adapter (with its account follow-up)."""
    posts = [
        ScenarioPost("101", "7001", T0, "第一条", removed_at=T0 + 600, removal="censored"),
        ScenarioPost(
            "102", "7001", T0 + 10, "作者删了", removed_at=T0 + 900, removal="author_deleted"
        ),
        ScenarioPost("103", "7002", T0 + 20, "一直都在", edits=((T0 + 300, "改过了"),)),
        ScenarioPost(
            "104", "7003", T0 + 30, "账号被封", removed_at=T0 + 1200, removal="account_suspended"
        ),
        ScenarioPost("105", "7003", T0 + 40, "同一个账号的另一条"),
    ]
    sim = SimPlatform(posts, VirtualClock(T0 + 1300), platform)
    adapter = registry.get(platform, REPLAY_BASE_URL)
    expected = {
        # Weibo's 20101 does not say who deleted a post
        "weibo": ["censored", "unknown", "live", "account_suspended", "account_suspended"],
        "reddit": ["censored", "author_deleted", "live", "account_suspended", "account_suspended"],
        "json": ["censored", "author_deleted", "live", "account_suspended", "account_suspended"],
        "mastodon": ["unknown", "unknown", "live", "account_suspended", "account_suspended"],
        "rss": ["unknown", "unknown", "live", "unknown", "unknown"],
    }[platform]
    seen = []
    for post in posts:
        post_id = f"{REPLAY_BASE_URL}/posts/{post.post_id}" if platform == "rss" else post.post_id
        ref = PostRef(platform, post_id, post.author_id)
        status = Status.UNREACHABLE
        request = adapter.check_request(ref)
        for _ in range(2):  # the post, then (if it asks) its author's account
            path = urlsplit(request.url).path
            code, headers, body = sim.handle(request.method, path, dict(request.params))
            capture = Capture(request, code, headers, body, T0 + 1300, T0 + 1300)
            observation = adapter.parse_check(ref, capture)
            if observation.status is not Status.UNREACHABLE:
                status = observation.status
            request = adapter.check_request(ref)
            if "#" not in request.url:
                break
        seen.append(status.value)
        if platform == "reddit" and post.post_id == "101":
            assert observation.code in (
                "moderator",
                "copyright_takedown",
                "anti_evil_ops",
                "reddit",
                "content_takedown",
            )
    assert seen == expected


def test_every_platform_has_a_shape_and_a_watch_target() -> None:
    for platform in ["weibo", *PLATFORMS]:
        target = WATCH[platform]
        assert registry.parse_target(target.spec, REPLAY_BASE_URL) == target
        assert (get_shape(platform) is None) == (platform == "weibo")


@pytest.mark.slow
def test_sim_serve_platform_over_http(tmp_path: Path) -> None:
    """``memoryhole sim serve --platform reddit`` answers Reddit's shapes on loopback."""
    import subprocess
    import sys

    path = tmp_path / "scenario.jsonl"
    write_scenario(known_removals(time.time() - 86400.0), path)
    port = free_port()
    command = [sys.executable, "-m", "memoryhole", "sim", "serve", "--scenario", str(path)]
    command += ["--port", str(port), "--platform", "reddit"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    adapter = registry.get("reddit", f"http://127.0.0.1:{port}")
    target = WATCH["reddit"]

    async def poll() -> Any:
        transport = AiohttpTransport(timeout=2.0)
        try:
            for _ in range(100):
                try:
                    raw = await transport.send(adapter.discover_request(target, None))
                    return raw
                except Exception:
                    await asyncio.sleep(0.1)
        finally:
            await transport.close()
        return None

    try:
        raw = asyncio.run(poll())
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert raw is not None and raw.status == 200
    body = json.loads(raw.body)
    assert body["kind"] == "Listing" and body["data"]["children"]
    request = adapter.discover_request(target, None)
    capture = Capture(request, raw.status, raw.headers, raw.body, 0.0, 0.0)
    assert adapter.parse_discover(target, capture).posts
