"""The Weibo adapter classifies every fixture (named by scenario) to the right status."""

from __future__ import annotations

from pathlib import Path

import pytest

from memoryhole.model import Capture, PostRef, Request, Status, Target, content_hash
from memoryhole.platforms.weibo import WeiboPlatform

DATA = Path(__file__).parents[1] / "data"
POST = PostRef("weibo", "4900000000000001", "1234567")
ADAPTER = WeiboPlatform("http://127.0.0.1:9")
JSON = (("Content-Type", "application/json; charset=utf-8"),)


def capture(body: bytes, status: int | None = 200, headers=JSON, error=None) -> Capture:
    request = ADAPTER.check_request(POST)
    return Capture(request, status, headers, body, 100.0, 100.0, error=error, sent_at=99.0)


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("weibo_status_visible.json", Status.LIVE),
        ("weibo_permission_denied.json", Status.CENSORED),
        ("weibo_does_not_exist.json", Status.AUTHOR_DELETED),
        ("weibo_account_suspended.json", Status.ACCOUNT_SUSPENDED),
        ("weibo_unknown_errno.json", Status.UNREACHABLE),
        ("weibo_truncated.json", Status.UNREACHABLE),
        ("weibo_captcha_page.html", Status.UNREACHABLE),
    ],
)
def test_check_fixtures(name: str, expected: Status) -> None:
    assert ADAPTER.parse_check(POST, capture(fixture(name))).status is expected


def test_visible_post_has_text_without_markup_and_a_content_hash() -> None:
    observation = ADAPTER.parse_check(POST, capture(fixture("weibo_status_visible.json")))
    assert observation.text == "今天天气很好 @小明 & 朋友"
    assert observation.content_hash == content_hash("今天天气很好 @小明 & 朋友")


def test_edit_changes_the_content_hash() -> None:
    before = ADAPTER.parse_check(POST, capture(fixture("weibo_status_visible.json")))
    after = ADAPTER.parse_check(POST, capture(fixture("weibo_status_edited.json")))
    assert before.content_hash != after.content_hash


@pytest.mark.parametrize("status", [429, 418, 403, 404, 500, 502, 503, 504])
def test_non_2xx_is_never_a_removal_even_with_a_removal_body(status: int) -> None:
    body = fixture("weibo_permission_denied.json")
    assert ADAPTER.parse_check(POST, capture(body, status=status)).status is Status.UNREACHABLE


def test_no_response_is_transient() -> None:
    observation = ADAPTER.parse_check(POST, capture(b"", status=None, error="timeout"))
    assert observation.status is Status.UNREACHABLE
    assert "timeout" in observation.detail


def test_html_served_as_json_is_transient() -> None:
    body = fixture("weibo_captcha_page.html")
    assert ADAPTER.parse_check(POST, capture(body)).status is Status.UNREACHABLE


def test_answer_about_another_post_is_transient() -> None:
    other = PostRef("weibo", "4900000000000999", "1234567")
    assert ADAPTER.parse_check(other, capture(fixture("weibo_status_visible.json"))).status is (
        Status.UNREACHABLE
    )


def test_feed_page_lists_only_post_cards() -> None:
    discovery = ADAPTER.parse_discover(
        Target("weibo", "all"), capture(fixture("weibo_feed_page.json"))
    )
    assert discovery.status is Status.LIVE
    assert [p.post_id for p in discovery.posts] == ["4900000000000001", "4900000000000002"]
    assert discovery.posts[1].author_id == "7654321"
    assert discovery.posts[1].text == "第二条 换行"
    assert discovery.next_cursor == "4900000000000002"
    # Sat Nov 23 14:06:30 +0800 2024
    assert discovery.posts[1].published_at == 1732341990.0
    assert discovery.more is False


def test_suspended_user_timeline_is_reported() -> None:
    target = ADAPTER.parse_target("user/1234567")
    discovery = ADAPTER.parse_discover(target, capture(fixture("weibo_account_suspended.json")))
    assert discovery.status is Status.ACCOUNT_SUSPENDED
    assert discovery.posts == ()


def test_broken_listing_is_transient() -> None:
    for name in ("weibo_truncated.json", "weibo_captcha_page.html", "weibo_unknown_errno.json"):
        discovery = ADAPTER.parse_discover(Target("weibo", "all"), capture(fixture(name)))
        assert discovery.status is Status.UNREACHABLE, name


def test_requests() -> None:
    request = ADAPTER.check_request(POST)
    assert request.full_url() == "http://127.0.0.1:9/statuses/show?id=4900000000000001"
    listing = ADAPTER.discover_request(ADAPTER.parse_target("user/42"), "77")
    assert listing.full_url() == (
        "http://127.0.0.1:9/api/container/getIndex?containerid=10760342&count=50&since_id=77"
    )


@pytest.mark.parametrize("spec", ["user/", "user/abc", "search/x", ""])
def test_bad_targets_say_what_works(spec: str) -> None:
    from memoryhole.errors import TargetError

    with pytest.raises(TargetError, match="weibo:user/"):
        ADAPTER.parse_target(spec)


def test_request_is_plain_data() -> None:
    assert Request("GET", "http://x/y").full_url() == "http://x/y"
