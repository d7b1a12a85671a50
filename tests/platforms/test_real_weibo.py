"""Weibo's real captured answers (tests/data/real, README "expected"): what the adapter must
conclude from each, and the simulator's answers held against their shapes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.model import Capture, PostRef, Status, Target, content_hash
from memoryhole.platforms.weibo import WeiboPlatform
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.platform import SimPlatform
from tests.platforms.real_samples import sample, sample_names, shape_differences

ADAPTER = WeiboPlatform()
BEIJING = timezone(timedelta(hours=8))

CHECKS = {
    "wb_200_rate_limited": Status.UNREACHABLE,  # errno 100005 请求过于频繁 inside a 200
    "wb_403_rate_limited": Status.UNREACHABLE,
    "wb_418_empty": Status.UNREACHABLE,
    "wb_login_redirect_m100": Status.UNREACHABLE,  # ok -100: the login wall
    "wb_20101_thirdparty_fixture": Status.REMOVED_UNKNOWN,  # does not exist *or* no permission
    "wb_extend_longtext_2019": Status.UNREACHABLE,  # names no post: only completes a check
    "wb_show_retweet_2019": Status.LIVE,
}
LISTINGS = {"wb_timeline_2019_dilireba": 10}
CLAIMS = frozenset(CHECKS) | frozenset(LISTINGS)


def beijing(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING).timestamp()


def test_every_weibo_sample_is_claimed() -> None:
    assert set(sample_names("wb_")) == CLAIMS


@pytest.mark.parametrize(("name", "expected"), sorted(CHECKS.items()))
def test_each_real_check_answer_concludes_what_it_says(name: str, expected: Status) -> None:
    real = sample(name)
    post_id = real.meta["url"].split("id=")[1]
    post = PostRef("weibo", post_id, "")
    observation = ADAPTER.parse_check(post, real.capture(ADAPTER.check_request(post)))
    assert observation.status is expected, observation.detail
    assert not (expected is Status.UNREACHABLE and observation.status.is_removal)


def test_the_20101_answer_is_kept_ambiguous_with_its_code() -> None:
    real = sample("wb_20101_thirdparty_fixture")
    post = PostRef("weibo", "4383411844046171", "")
    observation = ADAPTER.parse_check(post, real.capture(ADAPTER.check_request(post)))
    assert observation.code == "20101"
    assert "does not exist or no permission" in observation.detail


def test_the_repost_checked_by_its_short_id_is_visible_with_its_exact_time() -> None:
    real = sample("wb_show_retweet_2019")  # asked as statuses/show?id=HyZVegYAP
    post = PostRef("weibo", "HyZVegYAP", "")
    observation = ADAPTER.parse_check(post, real.capture(ADAPTER.check_request(post)))
    assert observation.text == "转发微博"
    assert observation.content_hash == content_hash("转发微博")
    assert observation.published_at == beijing("2019-06-15 11:44:46")


def test_the_real_long_text_answer_completes_a_long_posts_check() -> None:
    real = sample("wb_extend_longtext_2019")
    post = PostRef("weibo", "4383487819465288", "")
    cut = {
        "id": post.post_id,
        "mid": post.post_id,
        "created_at": "Sat Jun 15 16:46:12 +0800 2019",
        "text": "😄😆😊…全文",
        "isLongText": True,
        "user": {"id": 5349576923},
    }
    body = json.dumps({"ok": 1, "data": cut}).encode()
    request = ADAPTER.check_request(post)
    shown = ADAPTER.parse_check(post, Capture(request, 200, real.headers, body, 1.0, 1.0))
    assert shown.follow_up is not None and shown.content_hash is None
    whole = ADAPTER.complete_check(post, shown, real.capture(shown.follow_up))
    expected = json.loads(real.body)["data"]["longTextContent"]
    assert whole.text is not None and whole.text.startswith("😄😆😊")
    assert "<br />" not in whole.text and "\nNature \n" in whole.text
    assert len(whole.text) > 0.9 * len(expected.replace("<br />", ""))
    assert whole.content_hash == content_hash(whole.text)


def test_the_real_timeline_lists_its_ten_posts_with_ids_authors_times_and_texts() -> None:
    real = sample("wb_timeline_2019_dilireba")
    target = Target("weibo", "user", "1669879400")
    answered = beijing("2019-06-15 12:00:00")  # the day the answers were captured
    discovery = ADAPTER.parse_discover(
        target, real.capture(ADAPTER.discover_request(target, None), at=answered)
    )
    assert discovery.status is Status.LIVE
    assert len(discovery.posts) == LISTINGS["wb_timeline_2019_dilireba"]
    assert discovery.unreadable == ()
    assert {post.author_id for post in discovery.posts} == {"1669879400"}
    first = discovery.posts[0]
    assert first.post_id == "4383183661430868"
    assert first.text.startswith("搬完这块砖，就可以吃好吃的了[偷笑]")
    # "06-14": a day, not an instant
    assert (first.published_at, first.published_until) == (
        beijing("2019-06-14 00:00:00"),
        beijing("2019-06-15 00:00:00"),
    )
    last = discovery.posts[-1]
    assert (last.post_id, last.published_at) == ("4378514142544199", beijing("2019-06-01 00:00"))
    assert last.text.startswith("27岁♥️第一次有这么多人陪我一起过生日")
    # every listed post is inside the day its card names, and the ids fall with the days
    ids = [int(post.post_id) for post in discovery.posts]
    assert ids == sorted(ids, reverse=True)
    assert discovery.next_cursor == "4383183661430868"  # newest first: the top of the timeline
    assert discovery.more is False  # a first poll reads its first page only
    assert ADAPTER.discover_request(target, discovery.next_cursor).params == (
        ("containerid", "1076031669879400"),
    )


def test_the_real_timelines_next_page_is_asked_by_its_number() -> None:
    real = sample("wb_timeline_2019_dilireba")  # cardlistInfo.page = 2
    target = Target("weibo", "user", "1669879400")
    # the last poll's newest post is older than all ten: there may be more between them
    older = ADAPTER.discover_request(target, "4370000000000000")
    discovery = ADAPTER.parse_discover(target, real.capture(older))
    assert discovery.more
    assert ("page", "2") in ADAPTER.discover_request(target, discovery.next_cursor).params


# -- the simulator speaks the same shapes ---------------------------------------------------------

T0 = 1_560_000_000.0
#: What the adapter reads of a listing and of a post (the paths of weibo.py).
MBLOG_PATHS = ["mid", "id", "idstr", "created_at", "text", "user", "user.id", "isLongText"]
LISTING_PATHS = [
    "ok",
    "data",
    "data.cardlistInfo",
    "data.cardlistInfo.page",
    "data.cards",
    "data.cards[].card_type",
    "data.cards[].mblog",
    *(f"data.cards[].mblog.{path}" for path in MBLOG_PATHS),
    "data.cards[].mblog.pics[].url",
    "data.cards[].mblog.pics[].large.url",
]
SHOW_PATHS = ["ok", "data", *(f"data.{path}" for path in MBLOG_PATHS), "data.bid"]


def simulator() -> SimPlatform:
    long_text = "这是一条很长的微博，" * 30
    posts = [
        ScenarioPost(str(4383000000000000 + i), "1669879400", T0 + i * 3600.0, f"第{i}条")
        for i in range(14)
    ]
    posts.append(ScenarioPost("4383000000000099", "1669879400", T0 + 20 * 3600.0, long_text))
    posts.append(
        ScenarioPost(
            "4383000000000098", "1669879400", T0 + 10.0, "删掉的", T0 + 60.0, "author_deleted"
        )
    )
    return SimPlatform(posts, VirtualClock(T0 + 30 * 3600.0))


def test_the_simulators_timeline_has_the_real_timelines_shape() -> None:
    sim = simulator()
    _, _, body = sim.handle("GET", "/api/container/getIndex", {"containerid": "1076031669879400"})
    real = json.loads(sample("wb_timeline_2019_dilireba").body)
    optional = frozenset({"data.cards[].mblog.idstr", "data.cards[].mblog.bid"})
    assert shape_differences(json.loads(body), [real], LISTING_PATHS, optional=optional) == []


def test_the_simulators_post_has_the_real_posts_shape() -> None:
    sim = simulator()
    _, _, body = sim.handle("GET", "/statuses/show", {"id": "4383000000000003"})
    real = json.loads(sample("wb_show_retweet_2019").body)
    optional = frozenset({"data.idstr", "data.bid"})
    assert shape_differences(json.loads(body), [real], SHOW_PATHS, optional=optional) == []


def test_the_simulators_errors_and_long_text_have_the_real_shapes() -> None:
    sim = simulator()
    _, _, gone = sim.handle("GET", "/statuses/show", {"id": "4383000000000098"})
    real_gone = json.loads(sample("wb_20101_thirdparty_fixture").body)
    assert shape_differences(json.loads(gone), [real_gone], ["ok", "errno", "msg"]) == []
    _, _, extend = sim.handle("GET", "/statuses/extend", {"id": "4383000000000099"})
    real_extend = json.loads(sample("wb_extend_longtext_2019").body)
    paths = ["ok", "data", "data.ok", "data.longTextContent"]
    assert shape_differences(json.loads(extend), [real_extend], paths) == []


def test_the_simulators_answers_read_back_as_the_real_ones_do() -> None:
    """Relative times, pages and long text: what the adapter concludes from the simulator is
    what the scenario holds."""
    sim = simulator()
    target = Target("weibo", "user", "1669879400")
    request = ADAPTER.discover_request(target, None)
    status, headers, body = sim.handle("GET", "/api/container/getIndex", dict(request.params))
    now = sim.clock.now()
    discovery = ADAPTER.parse_discover(target, Capture(request, status, headers, body, now, now))
    assert len(discovery.posts) == 10 and discovery.unreadable == ()
    for seen in discovery.posts:
        truth = sim.by_id[seen.post_id]
        top = seen.published_until if seen.published_until is not None else seen.published_at
        assert seen.published_at <= truth.published_at <= top
        assert seen.truncated == (len(truth.text) > 140)
    long_post = PostRef("weibo", "4383000000000099", "1669879400")
    show = sim.handle("GET", "/statuses/show", {"id": long_post.post_id})
    request = ADAPTER.check_request(long_post)
    observation = ADAPTER.parse_check(long_post, Capture(request, *show, now, now))
    assert observation.content_hash == content_hash(sim.by_id[long_post.post_id].text)
    assert observation.published_at == T0 + 20 * 3600.0
