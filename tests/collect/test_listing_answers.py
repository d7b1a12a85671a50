"""What the collector does with what real listings and checks carry beyond posts: items it
cannot read (counted per target, named, never an empty success), a repost's removal notice
about a known post (a dated observation), an account gone at once (each post checked now), a
long post's whole text (one more request, logged), a publication time known only to the day
(refined by the first check), and a platform that cannot be reached at all (said at once).

Weibo's real shapes, answered in process on a virtual clock by a scripted platform."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.transport import RawResponse
from memoryhole.errors import TransportError
from memoryhole.evidence.verify import verify_study
from memoryhole.model import Request, Target
from memoryhole.platforms.weibo import WeiboPlatform
from memoryhole.schedule.policy import AgeProportional
from memoryhole.store.queries import add_targets, iter_verdicts, summarise
from memoryhole.store.schema import observations, posts, targets
from memoryhole.study import Study

T0 = 1_560_560_400.0  # 2019-06-15 09:00 in Beijing
WEEK = 7 * 86400.0
BASE = "http://weibo.invalid"
JSON = (("content-type", "application/json; charset=utf-8"),)
USER = Target("weibo", "user", "1669879400")
Answer = Callable[[Request, float], RawResponse]


class Scripted:
    """A platform answering each request from a function of (request, now)."""

    def __init__(self, clock: VirtualClock, answer: Answer) -> None:
        self.clock, self.answer, self.sent = clock, answer, []

    async def send(self, request: Request) -> RawResponse:
        self.sent.append(request)
        return self.answer(request, self.clock.now())

    async def close(self) -> None:
        return None


def body(payload: object, status: int = 200) -> RawResponse:
    return RawResponse(status, JSON, json.dumps(payload, ensure_ascii=False).encode())


def mblog(mid: str, created_at: str, text: str = "正文", **extra: Any) -> dict[str, Any]:
    user = {"id": 1669879400, "screen_name": "某人"}
    return {"id": mid, "mid": mid, "created_at": created_at, "text": text, "user": user, **extra}


def timeline(*blogs: dict[str, Any]) -> RawResponse:
    cards = [{"card_type": 9, "mblog": blog} for blog in blogs]
    return body({"ok": 1, "data": {"cardlistInfo": {"total": len(cards)}, "cards": cards}})


def run(tmp_path: Path, answer: Answer, hours: float = 2.0, **kwargs: Any) -> tuple[Study, Any]:
    study = Study.init(tmp_path / "study")
    add_targets(study.engine, [USER], T0)
    clock = VirtualClock(T0)
    transport = Scripted(clock, answer)
    collector = Collector(
        study, {"weibo": WeiboPlatform(BASE)}, transport, clock, budget_per_second=10.0, **kwargs
    )
    asyncio.run(collector.run(until=T0 + hours * 3600))
    return study, collector


def path(request: Request) -> str:
    return request.url.split("#")[0].rsplit("/", 2)[-1]


def test_unreadable_items_are_counted_per_target_and_named_in_the_listing(tmp_path: Path) -> None:
    def answer(request: Request, now: float) -> RawResponse:
        if path(request) == "getIndex":
            return timeline(mblog("4383183661430868", "刚刚"), mblog("4383183661430867", "前天"))
        return body({"ok": 1, "data": mblog("4383183661430868", "Sat Jun 15 09:00:00 +0800 2019")})

    study, collector = run(tmp_path, answer, hours=0.5)
    assert collector.stats.unreadable > 0
    with study.engine.connect() as connection:
        count, latest = connection.execute(
            select(targets.c.unreadable, targets.c.last_unreadable)
        ).one()
        details = connection.execute(
            select(observations.c.detail).where(observations.c.kind == "discover")
        ).scalars()
        first = next(iter(details))
    assert count == collector.stats.unreadable and "前天" in latest
    assert "1 posts listed; 1 unreadable" in first and "前天" in first
    summary = summarise(study.engine)
    assert summary.unreadable == [("weibo:user/1669879400", count, latest)]


def test_a_listing_of_nothing_readable_is_an_unreachable_observation(tmp_path: Path) -> None:
    def answer(request: Request, now: float) -> RawResponse:
        return timeline(mblog("4383183661430868", "2019年6月15日"))

    study, collector = run(tmp_path, answer, hours=0.2)
    assert collector.stats.discovered == 0 and collector.stats.transient > 0
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(observations.c.status, observations.c.detail).where(
                observations.c.kind == "discover"
            )
        ).all()
    assert rows and all(status == "unreachable" for status, _ in rows)
    assert "none could be read" in rows[0][1] and "2019年6月15日" in rows[0][1]


def test_a_day_precise_time_is_an_interval_until_a_check_gives_the_instant(tmp_path: Path) -> None:
    def answer(request: Request, now: float) -> RawResponse:
        if path(request) == "getIndex":
            return timeline(mblog("4383183661430868", "06-14"))
        return body({"ok": 1, "data": mblog("4383183661430868", "Fri Jun 14 21:13:09 +0800 2019")})

    study, _ = run(tmp_path, answer, hours=0.01)  # the listing only: no check yet
    with study.engine.connect() as connection:
        listed = connection.execute(select(posts.c.published_at, posts.c.published_until)).one()
    day = 1_560_441_600.0  # 2019-06-14 00:00 in Beijing
    assert tuple(listed) == (day, day + 86400.0)
    study, _ = run(tmp_path / "later", answer, hours=2.0)
    with study.engine.connect() as connection:
        checked = connection.execute(select(posts.c.published_at, posts.c.published_until)).one()
    assert tuple(checked) == (1_560_517_989.0, None)


def test_a_long_post_is_hashed_on_its_whole_text_fetched_and_logged_once_a_check(
    tmp_path: Path,
) -> None:
    whole = "长文" * 200
    cut = mblog("4383183661430868", "刚刚", whole[:140] + "...全文", isLongText=True)

    def answer(request: Request, now: float) -> RawResponse:
        name = path(request)
        if name == "getIndex":
            return timeline(cut)
        if name == "show":
            return body({"ok": 1, "data": {**cut, "created_at": "Sat Jun 15 09:00:00 +0800 2019"}})
        return body({"ok": 1, "data": {"ok": 1, "longTextContent": whole}})

    study, collector = run(tmp_path, answer, hours=3.0)
    sent = [path(request) for request in collector.transport.sent]
    assert sent.count("extend") == sent.count("show") > 2  # one more request per check
    with study.engine.connect() as connection:
        kinds = connection.execute(select(observations.c.kind, observations.c.content_hash)).all()
        text = connection.execute(select(posts.c.text)).scalar_one()
    assert text == whole  # the whole text replaced the listing's cut one
    assert sum(kind == "text" for kind, _ in kinds) == sent.count("extend")
    (verdict,) = iter_verdicts(study.engine)
    assert verdict["verdict"] == "live" and not verdict["edited"]  # a cut text is no edit
    assert verify_study(study).failures == []


def test_a_reposts_notice_is_a_dated_observation_of_the_known_post(tmp_path: Path) -> None:
    original = "4383000000000001"
    notice = {"id": original, "mid": original, "text": "抱歉，此微博已被作者删除。查看帮助"}

    def answer(request: Request, now: float) -> RawResponse:
        blogs = [mblog(original, "1小时前", "原文")]
        if now > T0 + 1800:  # half an hour in, a repost shows the original deleted
            blogs.insert(0, mblog("4383000000000009", "刚刚", "转发", retweeted_status=notice))
        if path(request) == "getIndex":
            return timeline(*blogs)
        return body({"ok": 0, "errno": "20101", "msg": "微博不存在或暂无查看权限!"})

    study, collector = run(tmp_path, answer, hours=1.0, policy=never_check())
    assert collector.stats.notices > 0
    verdicts = {row["post_id"]: row for row in iter_verdicts(study.engine)}
    gone = verdicts[original]
    assert gone["verdict"] == "author_deleted"  # what the notice's words say
    assert T0 + 1800 <= gone["first_seen_removed_at"] <= T0 + 1800 + 120
    assert verify_study(study).failures == []


def test_an_account_gone_at_once_has_each_of_its_posts_checked_now(tmp_path: Path) -> None:
    blocked = "该账号因被投诉违反法律法规和《微博社区公约》的相关规定，现已无法查看。"

    def answer(request: Request, now: float) -> RawResponse:
        gone = now > T0 + 1800
        if path(request) == "getIndex":
            if gone:
                return body({"ok": 0, "errno": "20003", "msg": blocked})
            return timeline(mblog("4383000000000002", "刚刚"), mblog("4383000000000001", "刚刚"))
        if gone:
            return body({"ok": 0, "errno": "20003", "msg": blocked})
        mid = dict(request.params)["id"]
        return body({"ok": 1, "data": mblog(mid, "Sat Jun 15 09:00:00 +0800 2019")})

    study, _ = run(tmp_path, answer, hours=1.0, policy=never_check())
    verdicts = list(iter_verdicts(study.engine))
    assert [row["verdict"] for row in verdicts] == ["account_suspended"] * 2
    for row in verdicts:  # checked as soon as the timeline said so, not at their next check
        assert row["first_seen_removed_at"] <= T0 + 1800 + 120


def test_a_platform_that_cannot_be_reached_is_said_at_once(tmp_path: Path) -> None:
    said: list[str] = []

    def answer(request: Request, now: float) -> RawResponse:
        raise TransportError("connection error (ClientConnectorError: Cannot connect to host)")

    _, collector = run(tmp_path, answer, hours=0.2, on_problem=said.append)
    assert len(said) == 1  # once, not per request
    assert "weibo.invalid" in said[0] and "--base-url" in said[0]
    assert collector.stats.transient > 1


def never_check() -> AgeProportional:
    """A schedule that leaves posts to their listings: a check only when the collector must."""
    return AgeProportional(first_check_after=10 * 86400.0, max_interval=86400.0, horizon=WEEK)


def test_a_listing_that_says_more_without_moving_on_waits_for_its_next_poll(
    tmp_path: Path,
) -> None:
    """ "More" with the cursor the listing was asked with would ask for the same page again at
    once, for ever: on a budget of 10 requests/s, some 72,000 times in two hours."""
    from dataclasses import replace

    from memoryhole.model import Capture, Discovery

    class StuckPaging(WeiboPlatform):
        def parse_discover(self, target: Target, capture: Capture) -> Discovery:
            found = super().parse_discover(target, capture)
            return replace(found, more=True, next_cursor="page-2")

    def answer(request: Request, now: float) -> RawResponse:
        return timeline(mblog("4900000000000001", "刚刚"))

    study = Study.init(tmp_path / "study")
    add_targets(study.engine, [USER], T0)
    clock = VirtualClock(T0)
    transport = Scripted(clock, answer)
    collector = Collector(
        study, {"weibo": StuckPaging(BASE)}, transport, clock, budget_per_second=10.0
    )
    asyncio.run(collector.run(until=T0 + 2 * 3600))
    listings = [r for r in transport.sent if "containerid" in dict(r.params)]
    interval = study.config.collector.poll_interval
    assert 2 <= len(listings) <= 2 * (2 * 3600 / interval) + 2
    cursors = {dict(r.params).get("since_id") for r in listings}
    assert len(cursors) <= 2  # the first page, then the page it said came next
