"""Telegram and YouTube end to end against the simulator speaking their shapes: the real
collector, store and verdict machine on a virtual clock (``sim.replay``), with and without a
high rate of faults. Zero false removals always; every removal found; each attributed as far as
the platform can tell (YouTube tells all three kinds; Telegram a suspension and, for some
censored messages, Telegram's notice; "Post not found" only ``unknown``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.model import Capture, PostRef, Status
from memoryhole.platforms import registry
from memoryhole.scenario import ScenarioPost, effective_removal, suspension_times
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.sim.shapes import WATCH, get_shape, pick
from memoryhole.sim.shapes.telegram import CENSOR_WAYS, post_id_of
from memoryhole.sim.truth import Evaluation, evaluate, scenario_post_id
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.scenarios import known_removals
from tests.test_end_to_end import listings_answered_between

T0 = 1_700_000_000.0
FAULTS = "5xx=0.15,slow=0.03,truncate=0.1,captcha=0.1,reset=0.05"
PLATFORMS = ["telegram", "youtube"]


def run(
    tmp_path: Path, platform: str, faults: str | None
) -> tuple[Evaluation, list[ScenarioPost], list[dict[str, Any]]]:
    scenario = known_removals(T0)
    study = Study.init(tmp_path / "study")
    stats, end = replay(
        study, scenario, until=T0 + 3 * 3600, faults=faults, seed=7, platform=platform
    )
    if faults:
        assert stats.transient > 0.2 * (stats.checks + stats.polls), "faults were injected"
    verdicts = list(iter_verdicts(study.engine))
    return evaluate(scenario, verdicts, until=end, platform=platform), scenario, verdicts


@pytest.mark.parametrize("faults", [None, FAULTS], ids=["clean", "faults"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_removal_found_none_invented(
    tmp_path: Path, platform: str, faults: str | None
) -> None:
    result, scenario, verdicts = run(tmp_path, platform, faults)
    assert result.false_removals == [] and result.misattributed == []
    assert result.interval_misses == []
    assert result.true_removals >= 20
    assert result.caught == result.true_removals_of_watched
    suspended = suspension_times(scenario)
    unseen = [
        p
        for p in scenario
        if effective_removal(p, suspended) is not None
        and p.post_id not in {scenario_post_id(str(v["post_id"])) for v in verdicts}
    ]
    assert len(unseen) == result.true_removals - result.true_removals_of_watched
    if faults is None:
        assert unseen == []
    for post in unseen:  # with faults: gone before any listing answered while it was up
        removed_at = effective_removal(post, suspended)[0]  # type: ignore[index]
        answered = listings_answered_between(tmp_path / "study", post.published_at, removed_at)
        assert answered == [], f"post {post.post_id} was listable yet never seen"
    truth = {p.post_id: effective_removal(p, suspended) for p in scenario}
    by_post = {scenario_post_id(str(v["post_id"])): str(v["verdict"]) for v in verdicts}
    assert {post for post, removal in truth.items() if removal is None} <= {
        post for post, verdict in by_post.items() if verdict == "live"
    }
    removed = {post: removal[1] for post, removal in truth.items() if removal is not None}
    if platform == "youtube":
        assert result.attribution == 1.0
        assert set(result.caught_by_kind) == {"censored", "author_deleted", "account_suspended"}
    else:
        for post, kind in removed.items():
            if kind == "account_suspended":
                assert by_post[post] == "account_suspended", post
            elif kind == "censored" and pick(post, CENSOR_WAYS) == "notice":
                assert by_post[post] == "censored", post
            else:
                assert by_post[post] == "unknown", post


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_shape_answers_each_removal_kind(platform: str) -> None:
    """At one moment, each post's checks through the adapter (with its confirmation)."""
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
        ScenarioPost("106", "7001", T0 + 50, "第二条"),
    ]
    sim = SimPlatform(posts, VirtualClock(T0 + 1300), platform)
    adapter = registry.get(platform, REPLAY_BASE_URL)
    censored = "censored" if pick("101", CENSOR_WAYS) == "notice" else "unknown"
    expected = {
        "telegram": [censored, "unknown", "live", "account_suspended", "account_suspended"],
        "youtube": ["censored", "author_deleted", "live", "account_suspended", "account_suspended"],
    }[platform]
    seen = []
    for post in posts[:5]:
        post_id = post_id_of(post) if platform == "telegram" else post.post_id
        ref = PostRef(platform, post_id, post.author_id)
        status = Status.UNREACHABLE
        for _ in range(3):  # the post, then (if it asks) its confirmation
            request = adapter.check_request(ref)
            path = urlsplit(request.url).path
            code, headers, body = sim.handle(request.method, path, dict(request.params))
            capture = Capture(request, code, headers, body, T0 + 1300, T0 + 1300)
            observation = adapter.parse_check(ref, capture)
            if observation.status is not Status.UNREACHABLE:
                status = observation.status
                break
        seen.append(status.value)
    assert seen == expected


def test_every_platform_has_a_shape_and_a_watch_target() -> None:
    for platform in PLATFORMS:
        target = WATCH[platform]
        assert registry.parse_target(target.spec, REPLAY_BASE_URL) == target
        assert get_shape(platform) is not None


def test_the_feed_never_moves_past_a_message_it_could_not_read() -> None:
    """A page cut short ends in a message without its time: the next poll asks again from
    the last message read. A closed, empty page after the newest message is nothing new yet,
    not a fault; a page cut short before its list closes is never that."""
    posts = [ScenarioPost(str(200 + i), "7001", T0 + i, f"第{i}条") for i in range(3)]
    sim = SimPlatform(posts, VirtualClock(T0 + 100), "telegram")
    adapter = registry.get("telegram", REPLAY_BASE_URL)
    target = WATCH["telegram"]

    def poll(cursor: str | None, cut: int | None = None) -> Any:
        request = adapter.discover_request(target, cursor)
        code, headers, body = sim.handle("GET", urlsplit(request.url).path, dict(request.params))
        capture = Capture(request, code, headers, body[:cut], T0 + 100, T0 + 100)
        return adapter.parse_discover(target, capture)

    whole = poll(None)
    assert [p.post_id for p in whole.posts] == ["u7001/200", "u7001/201", "u7001/202"]
    assert whole.next_cursor == "202"
    body = sim.handle("GET", urlsplit(adapter.discover_request(target, None).url).path, {})[2]
    cut = body.rindex(b"<time")  # the last message loses its time
    short = poll(None, cut)
    assert [p.post_id for p in short.posts] == ["u7001/200", "u7001/201"]
    assert short.unreadable and short.next_cursor == "201"
    after = poll("202")
    assert after.status is Status.LIVE and after.posts == () and after.next_cursor is None
    empty = sim.handle("GET", urlsplit(adapter.discover_request(target, "202").url).path,
                       {"after": "202"})[2]  # fmt: skip
    unclosed = empty[: empty.index(b"</section>")]
    request = adapter.discover_request(target, "202")
    capture = Capture(request, 200, (), unclosed, T0 + 100, T0 + 100)
    assert adapter.parse_discover(target, capture).status is Status.UNREACHABLE
