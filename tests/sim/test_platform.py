"""The simulated platform answers like Weibo would at each moment, and the adapter agrees."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.errors import ConfigError, TransportError
from memoryhole.model import Capture, PostRef, Request, Status, Target
from memoryhole.platforms.weibo import WeiboPlatform
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.faults import FaultSpec
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform, created_at

T0 = 1_700_000_000.0
ADAPTER = WeiboPlatform("http://sim.invalid")


def scenario() -> list[ScenarioPost]:
    return [
        ScenarioPost("101", "7001", T0, "第一条 <b>&", removed_at=T0 + 600, removal="censored"),
        ScenarioPost(
            "102", "7001", T0 + 10, "作者删了", removed_at=T0 + 900, removal="author_deleted"
        ),
        ScenarioPost("103", "7002", T0 + 20, "一直都在", edits=((T0 + 300, "改过了"),)),
        ScenarioPost(
            "104", "7003", T0 + 30, "账号被封", removed_at=T0 + 1200, removal="account_suspended"
        ),
        ScenarioPost("105", "7003", T0 + 40, "同一个账号的另一条"),
        ScenarioPost("106", "7002", T0 + 5000, "还没发"),
    ]


def capture(answer: tuple[int, tuple[tuple[str, str], ...], bytes]) -> Capture:
    status, headers, body = answer
    return Capture(
        request=Request("GET", "http://sim.invalid/"),
        status=status,
        headers=headers,
        body=body,
        fetched_at=T0,
        received_at=T0,
        elapsed=0.0,
    )


def check(platform: SimPlatform, post_id: str) -> tuple[Status, str]:
    answer = platform.handle("GET", "/statuses/show", {"id": post_id})
    observation = ADAPTER.parse_check(PostRef("weibo", post_id, ""), capture(answer))
    return observation.status, observation.text or ""


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (T0 + 599, {"101": Status.LIVE, "102": Status.LIVE, "104": Status.LIVE}),
        (
            T0 + 1300,
            {
                "101": Status.CENSORED,
                # Weibo answers an author's deletion with 20101, which a removal also gives
                "102": Status.REMOVED_UNKNOWN,
                "104": Status.ACCOUNT_SUSPENDED,
                "105": Status.ACCOUNT_SUSPENDED,
                "103": Status.LIVE,
            },
        ),
    ],
)
def test_single_post_answers_classify_as_the_truth_at_each_time(
    at: float, expected: dict[str, Status]
) -> None:
    clock = VirtualClock(at)
    platform = SimPlatform(scenario(), clock)
    assert {post_id: check(platform, post_id)[0] for post_id in expected} == expected


def test_text_round_trips_through_html_escaping_and_edits_show_after_their_time() -> None:
    clock = VirtualClock(T0 + 100)
    platform = SimPlatform(scenario(), clock)
    assert check(platform, "101") == (Status.LIVE, "第一条 <b>&")
    assert check(platform, "103")[1] == "一直都在"
    clock.advance_to(T0 + 300)
    assert check(platform, "103")[1] == "改过了"
    body = json.loads(platform.handle("GET", "/statuses/show", {"id": "103"})[2])
    assert body["data"]["edit_count"] == 1
    assert body["data"]["created_at"] == created_at(T0 + 20)


def test_feed_pages_oldest_first_hides_removed_and_unpublished_posts() -> None:
    clock = VirtualClock(T0 + 700)
    platform = SimPlatform(scenario(), clock)
    target = Target("weibo", "all")
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        request = ADAPTER.discover_request(target, cursor)
        answer = platform.handle("GET", "/api/container/getIndex", dict(request.params))
        discovery = ADAPTER.parse_discover(target, capture(answer))
        assert discovery.status is None or discovery.status == Status.LIVE
        seen += [post.post_id for post in discovery.posts]
        cursor = discovery.next_cursor or cursor
    # 101 is censored by now; 106 is not published yet; nothing repeats across polls.
    assert seen == ["102", "103", "104", "105"]
    clock.advance_to(T0 + 6000)
    request = ADAPTER.discover_request(target, cursor)
    answer = platform.handle("GET", "/api/container/getIndex", dict(request.params))
    assert [p.post_id for p in ADAPTER.parse_discover(target, capture(answer)).posts] == ["106"]


def test_user_timeline_and_suspended_account() -> None:
    clock = VirtualClock(T0 + 100)
    platform = SimPlatform(scenario(), clock)
    target = Target("weibo", "user", "7003")
    request = ADAPTER.discover_request(target, None)
    answer = platform.handle("GET", "/api/container/getIndex", dict(request.params))
    posts = ADAPTER.parse_discover(target, capture(answer)).posts
    # newest first, as Weibo's timelines are
    assert [(p.post_id, p.author_id) for p in posts] == [("105", "7003"), ("104", "7003")]
    clock.advance_to(T0 + 1200)
    answer = platform.handle("GET", "/api/container/getIndex", dict(request.params))
    suspended = ADAPTER.parse_discover(target, capture(answer))
    assert suspended.status == Status.ACCOUNT_SUSPENDED
    assert suspended.confirm_all  # every post of the account: each checked at once


def test_a_timeline_pages_by_number_and_the_adapter_walks_back_to_the_last_poll() -> None:
    posts = [ScenarioPost(str(5000 + i), "9", T0 + i * 60.0, f"帖子{i}") for i in range(35)]
    clock = VirtualClock(T0 + 10 * 60.0)
    platform = SimPlatform(posts, clock)
    target = Target("weibo", "user", "9")

    def poll(cursor: str | None) -> tuple[list[str], str | None, bool]:
        request = ADAPTER.discover_request(target, cursor)
        answer = platform.handle("GET", "/api/container/getIndex", dict(request.params))
        status, headers, body = answer
        at = clock.now()
        found = ADAPTER.parse_discover(
            target, Capture(request, status, headers, body, at, at, sent_at=at)
        )
        return [p.post_id for p in found.posts], found.next_cursor, found.more

    first, cursor, more = poll(None)
    assert first == [str(5000 + i) for i in range(10, -1, -1)][:10] and not more
    clock.advance_to(T0 + 34 * 60.0)  # 24 new posts: more than two pages
    seen: list[str] = []
    for _ in range(5):
        found, cursor, more = poll(cursor)
        seen += found
        if not more:
            break
    assert not more
    assert {str(5000 + i) for i in range(11, 35)} <= set(seen)  # nothing skipped


def test_page_size_is_honoured_and_the_cursor_resumes_exactly() -> None:
    posts = [ScenarioPost(str(1000 + i), "1", T0 + i, f"帖子{i}") for i in range(130)]
    platform = SimPlatform(posts, VirtualClock(T0 + 1000))
    query = {"containerid": "memoryhole_sim_all", "count": "50"}
    first = json.loads(platform.handle("GET", "/api/container/getIndex", query)[2])
    assert len(first["data"]["cards"]) == 50
    since = first["data"]["cardlistInfo"]["since_id"]
    second = json.loads(
        platform.handle("GET", "/api/container/getIndex", {**query, "since_id": since})[2]
    )
    assert second["data"]["cards"][0]["mblog"]["mid"] == "1050"


def test_fault_spec_parsing_and_errors() -> None:
    spec = FaultSpec.parse("5xx=0.1, captcha=0.2,slow_seconds=2")
    assert (spec.server_error, spec.captcha, spec.slow_seconds) == (0.1, 0.2, 2.0)
    for bad in ("boom=0.1", "5xx=lots", "5xx=1.5", "5xx=0.6,captcha=0.6"):
        with pytest.raises(ConfigError):
            FaultSpec.parse(bad)


def test_fault_draws_follow_their_probabilities() -> None:
    spec = FaultSpec.parse("5xx=0.1,slow=0.05,truncate=0.1,captcha=0.2,reset=0.05")
    rng = random.Random(3)
    counts = Counter(spec.draw(rng) for _ in range(20_000))
    expected = {"5xx": 0.1, "slow": 0.05, "truncate": 0.1, "captcha": 0.2, "reset": 0.05}
    for kind, share in expected.items():
        # 20,000 draws: the standard error of a share p is at most 0.0036; allow ~4 of them.
        assert abs(counts[kind] / 20_000 - share) < 0.015, kind
    assert abs(counts[None] / 20_000 - 0.5) < 0.015


@pytest.mark.parametrize("kind", ["5xx", "slow", "truncate", "captcha", "reset"])
def test_every_injected_fault_is_unreachable_never_a_removal(kind: str) -> None:
    clock = VirtualClock(T0 + 1300)  # every post below is removed by now
    transport = InProcessTransport(
        SimPlatform(scenario(), clock), faults=FaultSpec.parse(f"{kind}=1")
    )
    for post_id in ("101", "102", "104"):
        request = ADAPTER.check_request(PostRef("weibo", post_id, ""))
        try:
            raw = asyncio.run(transport.send(request))
        except TransportError:
            assert kind in {"slow", "reset"}
            continue
        observation = ADAPTER.parse_check(
            PostRef("weibo", post_id, ""), capture((raw.status, raw.headers, raw.body))
        )
        assert observation.status == Status.UNREACHABLE, (kind, post_id)


def test_in_process_rate_limit_answers_429_with_retry_after_on_the_virtual_clock() -> None:
    clock = VirtualClock(T0)
    transport = InProcessTransport(SimPlatform(scenario(), clock), rate_limit=2.0)
    request = ADAPTER.check_request(PostRef("weibo", "103", ""))
    statuses = [asyncio.run(transport.send(request)).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = asyncio.run(transport.send(request))
    assert dict(refused.headers)["retry-after"] == "1"
    clock.advance_to(T0 + 1.0)
    assert asyncio.run(transport.send(request)).status == 200
