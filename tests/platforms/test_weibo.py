"""The Weibo adapter: checks, listings, notices, long posts and paging, on fixtures named by
scenario (the real captured answers are in test_real_weibo.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memoryhole.errors import TargetError
from memoryhole.model import Capture, PostRef, Request, Status, Target, content_hash
from memoryhole.platforms.weibo import WeiboPlatform, mid_to_bid
from tests.platforms.helpers import FAULTS, Fault

DATA = Path(__file__).parents[1] / "data"
POST = PostRef("weibo", "4900000000000001", "1234567")
ADAPTER = WeiboPlatform("http://127.0.0.1:9")
JSON = (("Content-Type", "application/json; charset=utf-8"),)
USER = Target("weibo", "user", "1234567")


def capture(
    body: bytes,
    status: int | None = 200,
    headers: Any = JSON,
    error: str | None = None,
    request: Request | None = None,
    at: float = 1_732_342_000.0,
) -> Capture:
    request = request or ADAPTER.check_request(POST)
    return Capture(request, status, headers, body, at, at, error=error, sent_at=at - 1.0)


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def mblog(mid: str, text: str = "正文", created_at: str = "刚刚", **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "mid": mid,
        "created_at": created_at,
        "text": text,
        "user": {"id": 1234567, "screen_name": "某人"},
        **extra,
    }


def page(*cards: dict[str, Any], since_id: int | None = None) -> bytes:
    info: dict[str, Any] = {"containerid": "1076031234567"}
    if since_id is not None:
        info["since_id"] = since_id
    return json.dumps({"ok": 1, "data": {"cardlistInfo": info, "cards": list(cards)}}).encode()


def card(post: dict[str, Any]) -> dict[str, Any]:
    return {"card_type": 9, "mblog": post}


def listed(body: bytes, cursor: str | None = None, target: Target = USER) -> Any:
    request = ADAPTER.discover_request(target, cursor)
    return ADAPTER.parse_discover(target, capture(body, request=request))


# -- checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "code"),
    [
        ("weibo_status_visible.json", Status.LIVE, None),
        ("weibo_permission_denied.json", Status.CENSORED, "20112"),
        # "does not exist or no permission": an author's deletion and a removal alike
        ("weibo_does_not_exist.json", Status.REMOVED_UNKNOWN, "20101"),
        # the message says the account was blocked
        ("weibo_account_suspended.json", Status.ACCOUNT_SUSPENDED, "20003"),
        ("weibo_unknown_errno.json", Status.UNREACHABLE, "10001"),
        ("weibo_truncated.json", Status.UNREACHABLE, None),
        ("weibo_captcha_page.html", Status.UNREACHABLE, None),
    ],
)
def test_check_fixtures(name: str, expected: Status, code: str | None) -> None:
    observation = ADAPTER.parse_check(POST, capture(fixture(name)))
    assert observation.status is expected
    assert observation.code == code


def test_an_account_that_does_not_exist_is_not_said_to_be_suspended() -> None:
    body = json.dumps({"ok": 0, "errno": "20003", "msg": "用户不存在"}).encode()
    observation = ADAPTER.parse_check(POST, capture(body))
    assert observation.status is Status.REMOVED_UNKNOWN
    timeline = listed(body)
    assert timeline.status is Status.REMOVED_UNKNOWN
    assert timeline.confirm_all


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"ok": 0, "errno": "100005", "msg": "请求过于频繁"}, "rate limited"),
        ({"ok": -100, "msg": "请先登录", "url": "https://passport.weibo.cn/signin"}, "login wall"),
        ({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}, "empty container"),
    ],
)
def test_refusals_that_say_nothing_about_the_post_are_transient(
    body: dict[str, Any], words: str
) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode()
    observation = ADAPTER.parse_check(POST, capture(raw))
    assert observation.status is Status.UNREACHABLE
    discovery = listed(raw)
    assert discovery.status is Status.UNREACHABLE
    assert words in discovery.detail


def test_visible_post_has_text_without_markup_a_content_hash_and_its_exact_time() -> None:
    observation = ADAPTER.parse_check(POST, capture(fixture("weibo_status_visible.json")))
    assert observation.text == "今天天气很好 @小明 & 朋友"
    assert observation.content_hash == content_hash("今天天气很好 @小明 & 朋友")
    assert observation.published_at == 1732341900.0  # Sat Nov 23 14:05:00 +0800 2024


def test_emoticons_keep_their_words() -> None:
    raw = '好<span class="url-icon"><img alt=[偷笑] src="//h5.sinaimg.cn/x.png" /></span>!'
    body = json.dumps({"ok": 1, "data": mblog(POST.post_id, raw)}).encode()
    assert ADAPTER.parse_check(POST, capture(body)).text == "好[偷笑]!"


def test_edit_changes_the_content_hash() -> None:
    before = ADAPTER.parse_check(POST, capture(fixture("weibo_status_visible.json")))
    after = ADAPTER.parse_check(POST, capture(fixture("weibo_status_edited.json")))
    assert before.content_hash != after.content_hash


@pytest.mark.parametrize("status", [429, 418, 403, 404, 500, 502, 503, 504])
def test_non_2xx_is_never_a_removal_even_with_a_removal_body(status: int) -> None:
    body = fixture("weibo_permission_denied.json")
    assert ADAPTER.parse_check(POST, capture(body, status=status)).status is Status.UNREACHABLE


@pytest.mark.parametrize(("fault_name", "make"), FAULTS, ids=[name for name, _ in FAULTS])
@pytest.mark.parametrize(
    "name",
    ["weibo_permission_denied.json", "weibo_does_not_exist.json", "weibo_account_suspended.json"],
)
def test_no_fault_is_ever_a_removal(fault_name: str, make: Fault, name: str) -> None:
    request = ADAPTER.check_request(POST)
    faulty = make(request, fixture(name), JSON)
    assert not ADAPTER.parse_check(POST, faulty).status.is_removal, fault_name
    timeline = ADAPTER.discover_request(USER, None)
    assert not ADAPTER.parse_discover(USER, make(timeline, fixture(name), JSON)).confirm_all


def test_answer_about_another_post_is_transient() -> None:
    other = PostRef("weibo", "4900000000000999", "1234567")
    observation = ADAPTER.parse_check(other, capture(fixture("weibo_status_visible.json")))
    assert observation.status is Status.UNREACHABLE


def test_a_check_by_the_short_id_is_answered_about_that_post() -> None:
    assert mid_to_bid("4383411844046171") == "HyZVegYAP"  # real pairs, from real answers
    assert mid_to_bid("4383183661430868") == "HyTZc60ew"
    short = PostRef("weibo", mid_to_bid(POST.post_id) or "", "")
    body = json.dumps({"ok": 1, "data": mblog(POST.post_id)}).encode()
    assert ADAPTER.parse_check(short, capture(body)).status is Status.LIVE


def test_a_post_page_showing_a_removal_notice_is_attributed_by_its_words() -> None:
    data = {"id": POST.post_id, "mid": POST.post_id, "text": "抱歉，此微博已被作者删除。查看帮助"}
    body = json.dumps({"ok": 1, "data": data}, ensure_ascii=False).encode()
    observation = ADAPTER.parse_check(POST, capture(body))
    assert observation.status is Status.AUTHOR_DELETED
    assert observation.code == "notice_author_deleted"


# -- long posts ---------------------------------------------------------------------------------


LONG = "很长的微博" * 40


def test_a_long_post_cut_short_asks_for_its_whole_text_then_hashes_that() -> None:
    cut = mblog(POST.post_id, LONG[:140] + '...<a href="/status/x">全文</a>', isLongText=True)
    shown = ADAPTER.parse_check(POST, capture(json.dumps({"ok": 1, "data": cut}).encode()))
    assert shown.status is Status.LIVE
    assert shown.content_hash is None  # a cut text is never hashed: it would look like an edit
    assert shown.follow_up is not None
    assert shown.follow_up.full_url().endswith(f"/statuses/extend?id={POST.post_id}")
    extend = json.dumps({"ok": 1, "data": {"ok": 1, "longTextContent": LONG}}).encode()
    whole = ADAPTER.complete_check(POST, shown, capture(extend, request=shown.follow_up))
    assert whole.status is Status.LIVE
    assert whole.text == LONG
    assert whole.content_hash == content_hash(LONG)
    # the extend answer alone names no post: it is never a check's answer by itself
    alone = ADAPTER.parse_check(POST, capture(extend, request=shown.follow_up))
    assert alone.status is Status.UNREACHABLE


def test_a_failed_long_text_leaves_the_check_visible_and_unhashed() -> None:
    cut = mblog(POST.post_id, "开头…全文", isLongText=True)
    shown = ADAPTER.parse_check(POST, capture(json.dumps({"ok": 1, "data": cut}).encode()))
    assert shown.follow_up is not None
    failed = ADAPTER.complete_check(POST, shown, capture(b"", status=502, request=shown.follow_up))
    assert failed.status is Status.LIVE
    assert failed.content_hash is None
    assert "full text not read" in failed.detail


def test_a_long_post_with_its_long_text_needs_nothing_more() -> None:
    whole = mblog(POST.post_id, "开头…", isLongText=True, longText={"longTextContent": LONG})
    observation = ADAPTER.parse_check(POST, capture(json.dumps({"ok": 1, "data": whole}).encode()))
    assert observation.follow_up is None
    assert observation.content_hash == content_hash(LONG)


def test_a_long_post_is_listed_as_cut_short() -> None:
    discovery = listed(page(card(mblog("4900000000000009", "开头…全文", isLongText=True))))
    assert discovery.posts[0].truncated


# -- listings -----------------------------------------------------------------------------------


def test_the_simulators_feed_lists_only_post_cards() -> None:
    discovery = listed(fixture("weibo_feed_page.json"), target=Target("weibo", "all"))
    assert discovery.status is Status.LIVE
    assert [p.post_id for p in discovery.posts] == ["4900000000000001", "4900000000000002"]
    assert discovery.posts[1].author_id == "7654321"
    assert discovery.posts[1].text == "第二条 \n换行"
    assert discovery.next_cursor == "4900000000000002"
    assert discovery.posts[1].published_at == 1732341990.0  # Sat Nov 23 14:06:30 +0800 2024
    assert discovery.posts[1].published_until is None  # the full form is exact
    assert discovery.more is False


def test_a_relative_time_is_an_interval() -> None:
    discovery = listed(page(card(mblog("4900000000000005", created_at="3小时前"))))
    post = discovery.posts[0]
    assert post.published_until is not None
    assert post.published_until - post.published_at == pytest.approx(3600.0 + 1.0)


def test_grouped_cards_are_read_and_cards_without_posts_skipped() -> None:
    body = page(
        {"card_type": 11, "card_group": [card(mblog("4900000000000003")), {"card_type": 4}]},
        {"card_type": 58, "name": "暂无微博"},
        card(mblog("4900000000000002")),
    )
    discovery = listed(body)
    assert [p.post_id for p in discovery.posts] == ["4900000000000003", "4900000000000002"]
    assert discovery.unreadable == ()


def test_a_repost_lists_the_repost_and_turns_a_removed_original_into_a_dated_notice() -> None:
    # The shape of a removed original, as Weibo's answers carry it (no user, the notice's words)
    original = {
        "created_at": "Mon Oct 19 01:08:38 +0800 2015",
        "id": 3899463959387300,
        "mid": "3899463959387300",
        "idstr": "3899463959387300",
        "text": "抱歉，此微博已被作者删除。查看帮助：http://t.cn/zWSudZc",
        "deleted": "1",
    }
    censored = {**original, "id": 3899463959387301, "mid": "3899463959387301", "idstr": ""}
    censored["text"] = "该微博因被多人举报，根据《微博社区公约》，已被删除。"
    body = page(
        card(mblog("4900000000000004", "转发微博", retweeted_status=original)),
        card(mblog("4900000000000003", "//@某人:", retweeted_status=censored)),
    )
    discovery = listed(body)
    assert [p.post_id for p in discovery.posts] == ["4900000000000004", "4900000000000003"]
    notices = {n.post_id: n for n in discovery.notices}
    assert notices["3899463959387300"].status is Status.AUTHOR_DELETED
    assert notices["3899463959387300"].published_at == 1445188118.0
    assert notices["3899463959387300"].author_id is None
    assert notices["3899463959387301"].status is Status.CENSORED
    assert "多人举报" in notices["3899463959387301"].detail


def test_a_visible_original_is_not_a_post_of_the_listing() -> None:
    original = mblog("4800000000000001", "原文", created_at="06-14")
    discovery = listed(page(card(mblog("4900000000000004", "转发", retweeted_status=original))))
    assert [p.post_id for p in discovery.posts] == ["4900000000000004"]
    assert discovery.notices == ()


def test_items_that_cannot_be_read_are_named_never_dropped() -> None:
    body = page(
        card(mblog("4900000000000002")),
        card(mblog("4900000000000001", created_at="2019年6月14日")),
        card({"mid": "4900000000000000", "created_at": "刚刚", "text": "没有作者"}),
    )
    discovery = listed(body)
    assert discovery.status is Status.LIVE
    assert [p.post_id for p in discovery.posts] == ["4900000000000002"]
    assert len(discovery.unreadable) == 2
    assert "2019年6月14日" in discovery.unreadable[0]
    assert "no author" in discovery.unreadable[1]
    assert "2 unreadable" in discovery.detail


def test_a_listing_of_items_none_of_which_can_be_read_is_not_an_empty_success() -> None:
    body = page(card(mblog("4900000000000001", created_at="前天")))
    discovery = listed(body)
    assert discovery.status is Status.UNREACHABLE
    assert "none could be read" in discovery.detail
    assert "前天" in discovery.detail


def test_a_pinned_post_is_listed_but_does_not_move_the_timeline_cursor() -> None:
    pinned = mblog("4100000000000001", created_at="2017-03-02", isTop=1)
    discovery = listed(page(card(pinned), card(mblog("4900000000000002"))))
    assert {p.post_id for p in discovery.posts} == {"4100000000000001", "4900000000000002"}
    assert discovery.next_cursor == "4900000000000002"


# -- paging -------------------------------------------------------------------------------------


def test_a_timeline_is_read_newest_first_and_caught_up_to_the_last_poll() -> None:
    first = listed(page(card(mblog("105")), card(mblog("104")), since_id=104))
    assert (first.next_cursor, first.more) == ("105", False)  # a first poll: its first page
    # later, 3 new posts: the first page holds only new ones, so older pages are read at once
    second = listed(page(card(mblog("108")), card(mblog("107")), since_id=107), "105")
    assert second.more
    request = ADAPTER.discover_request(USER, second.next_cursor)
    assert ("since_id", "107") in request.params
    third = ADAPTER.parse_discover(
        USER, capture(page(card(mblog("106")), card(mblog("105")), since_id=105), request=request)
    )
    assert (third.next_cursor, third.more) == ("108", False)  # reached the last poll's newest
    again = ADAPTER.discover_request(USER, third.next_cursor)
    assert "since_id" not in dict(again.params)  # the next poll starts at the top again


def test_a_poll_that_reaches_known_posts_on_its_first_page_stops_there() -> None:
    discovery = listed(page(card(mblog("107")), card(mblog("105")), since_id=105), "105")
    assert (discovery.next_cursor, discovery.more) == ("107", False)


def test_search_and_hot_read_their_first_page_each_poll() -> None:
    search = ADAPTER.parse_target("search/#话题#")
    assert search == Target("weibo", "search", "#话题#")
    request = ADAPTER.discover_request(search, None)
    assert dict(request.params)["containerid"] == "100103type=1&q=#话题#"
    discovery = listed(page(card(mblog("105")), since_id=105), target=search)
    assert (discovery.next_cursor, discovery.more) == (None, False)
    hot = ADAPTER.parse_target("hot")
    assert dict(ADAPTER.discover_request(hot, None).params)["containerid"] == "102803"


# -- targets and requests -----------------------------------------------------------------------


def test_requests() -> None:
    request = ADAPTER.check_request(POST)
    assert request.full_url() == "http://127.0.0.1:9/statuses/show?id=4900000000000001"
    timeline = ADAPTER.discover_request(ADAPTER.parse_target("user/42"), None)
    assert timeline.full_url() == "http://127.0.0.1:9/api/container/getIndex?containerid=10760342"
    feed = ADAPTER.discover_request(ADAPTER.parse_target("all"), "77")
    assert feed.full_url() == (
        "http://127.0.0.1:9/api/container/getIndex?containerid=memoryhole_sim_all"
        "&count=50&since_id=77"
    )


def test_a_cursor_is_kept_in_the_recorded_url_but_never_sent() -> None:
    request = ADAPTER.discover_request(USER, "105:100:s104:1")
    assert request.full_url().endswith("&since_id=104#cursor=105:100:s104:1")
    assert "#" in request.url and "cursor" not in dict(request.params)


def test_weibo_all_is_the_simulators_feed_and_refused_on_weibo_itself() -> None:
    assert ADAPTER.parse_target("all") == Target("weibo", "all")
    with pytest.raises(TargetError, match=r"weibo:user/<uid>.*weibo:search.*weibo:hot"):
        WeiboPlatform().parse_target("all")
    with pytest.raises(TargetError):
        WeiboPlatform("https://weibo.example.org").parse_target("all")


@pytest.mark.parametrize("spec", ["user/", "user/abc", "search/", "hot/x", ""])
def test_bad_targets_say_what_works(spec: str) -> None:
    with pytest.raises(TargetError, match="weibo:user/"):
        ADAPTER.parse_target(spec)


def test_request_is_plain_data() -> None:
    assert Request("GET", "http://x/y").full_url() == "http://x/y"
