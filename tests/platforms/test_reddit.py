"""The Reddit adapter: every fixture (named by scenario) classifies to the right status, the
finer reason stays in ``code``, and no fault is ever a removal."""

from __future__ import annotations

import json

import pytest

from memoryhole.errors import TargetError
from memoryhole.model import PostRef, Status, Target, content_hash
from memoryhole.platforms.reddit import NEWEST, RedditPlatform
from tests.platforms.helpers import FAULTS, HTML, JSON, Fault, capture, fixture

POST = PostRef("reddit", "1gx7k2p", "some_user_42")


def adapter() -> RedditPlatform:
    return RedditPlatform("http://127.0.0.1:9", token="")


def check(platform: RedditPlatform, name: str, status: int = 200, post: PostRef = POST):
    request = platform.check_request(post)
    headers = HTML if name.endswith(".html") else JSON
    return platform.parse_check(post, capture(request, fixture(name), status, headers))


@pytest.mark.parametrize(
    ("name", "expected", "code"),
    [
        ("reddit_post_visible.json", Status.LIVE, None),
        ("reddit_post_edited.json", Status.LIVE, None),
        ("reddit_removed_by_moderator.json", Status.CENSORED, "moderator"),
        # held for the moderators' review: not a decision yet
        ("reddit_filtered_by_automod.json", Status.REMOVED_UNKNOWN, "automod_filtered"),
        ("reddit_copyright_takedown.json", Status.CENSORED, "copyright_takedown"),
        ("reddit_deleted_by_author.json", Status.AUTHOR_DELETED, "deleted"),
        ("reddit_removed_by_reddit.json", Status.REMOVED_UNKNOWN, "reddit"),
        ("reddit_removed_by_anti_evil_ops.json", Status.REMOVED_UNKNOWN, "anti_evil_ops"),
        ("reddit_unknown_category.json", Status.REMOVED_UNKNOWN, "some_future_reason"),
        ("reddit_removed_no_category.json", Status.REMOVED_UNKNOWN, "[removed]"),
        ("reddit_text_reads_removed.json", Status.LIVE, None),
        ("reddit_empty_listing.json", Status.UNREACHABLE, None),
        ("reddit_blocked_page.html", Status.UNREACHABLE, None),
    ],
)
def test_post_fixtures(name: str, expected: Status, code: str | None) -> None:
    observation = check(adapter(), name)
    assert observation.status is expected
    assert observation.code == code


def test_visible_post_text_flags_and_media() -> None:
    observation = check(adapter(), "reddit_post_visible.json")
    assert observation.text == "今天的新闻\nhttps://i.redd.it/abc123def.jpg"
    assert observation.content_hash == content_hash(observation.text)
    assert "locked" in observation.detail
    assert "edited at 1732345500" in observation.detail
    assert "image https://i.redd.it/abc123def.jpg" in observation.detail


def test_an_edit_changes_the_hash() -> None:
    before = check(adapter(), "reddit_text_reads_removed.json")
    after = check(adapter(), "reddit_post_edited.json")
    assert before.content_hash != after.content_hash


def test_removal_by_reddit_asks_for_the_account_then_attributes_a_suspension() -> None:
    platform = adapter()
    first = check(platform, "reddit_removed_by_reddit.json")
    assert first.status is Status.REMOVED_UNKNOWN
    request = platform.check_request(POST)
    assert request.url == "http://127.0.0.1:9/user/some_user_42/about.json#after=reddit"
    assert request.params == ()
    answer = capture(request, fixture("reddit_account_suspended.json"))
    second = platform.parse_check(POST, answer)
    assert (second.status, second.code) == (Status.ACCOUNT_SUSPENDED, "reddit")
    # The post again: same signal, so the attributed answer is repeated, not "unknown".
    assert platform.check_request(POST).url.endswith("/by_id/t3_1gx7k2p.json")
    third = check(platform, "reddit_removed_by_reddit.json")
    assert third.status is Status.ACCOUNT_SUSPENDED
    assert "checked earlier" in third.detail


def test_removal_by_admins_of_an_account_in_good_standing_is_censorship() -> None:
    platform = adapter()
    check(platform, "reddit_removed_by_anti_evil_ops.json")
    request = platform.check_request(POST)
    observation = platform.parse_check(
        POST, capture(request, fixture("reddit_account_active.json"))
    )
    assert (observation.status, observation.code) == (Status.CENSORED, "anti_evil_ops")


def test_a_profile_not_found_leaves_the_removal_unattributed() -> None:
    platform = adapter()
    check(platform, "reddit_removed_by_reddit.json")
    request = platform.check_request(POST)
    observation = platform.parse_check(
        POST, capture(request, fixture("reddit_account_not_found.json"), 404)
    )
    assert observation.status is Status.UNREACHABLE
    assert "shadowbanned" in observation.detail
    assert platform.check_request(POST).url.endswith("/by_id/t3_1gx7k2p.json")
    assert check(platform, "reddit_removed_by_reddit.json").status is Status.REMOVED_UNKNOWN
    assert "about.json" not in platform.check_request(POST).url, "asked once per signal"


def test_a_failed_account_lookup_is_asked_again() -> None:
    platform = adapter()
    check(platform, "reddit_removed_by_reddit.json")
    request = platform.check_request(POST)
    failed = platform.parse_check(POST, capture(request, b"", 503))
    assert failed.status is Status.UNREACHABLE
    assert "about.json" in platform.check_request(POST).url


def test_an_account_capture_reparsed_alone_still_reads() -> None:
    # The web view re-parses stored captures with a fresh adapter and an empty author id.
    platform = adapter()
    url = "http://127.0.0.1:9/user/some_user_42/about.json#after=anti_evil_ops"
    from memoryhole.model import Request

    blank = PostRef("reddit", "1gx7k2p", "")
    answer = capture(Request("GET", url), fixture("reddit_account_suspended.json"))
    assert platform.parse_check(blank, answer).status is Status.ACCOUNT_SUSPENDED


def test_answer_about_another_post_is_transient() -> None:
    other = PostRef("reddit", "zzzzzz", "x")
    assert check(adapter(), "reddit_removed_by_moderator.json", post=other).status is (
        Status.UNREACHABLE
    )


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("reddit_private_subreddit.json", 403),
        ("reddit_rate_limited.json", 429),
        ("reddit_account_not_found.json", 404),
    ],
)
def test_refusals_are_transient(name: str, status: int) -> None:
    assert check(adapter(), name, status).status is Status.UNREACHABLE


REMOVALS = [
    "reddit_removed_by_moderator.json",
    "reddit_deleted_by_author.json",
    "reddit_removed_by_reddit.json",
    "reddit_copyright_takedown.json",
]


@pytest.mark.parametrize("name", REMOVALS)
@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_is_ever_a_removal(name: str, fault_name: str, fault: Fault) -> None:
    platform = adapter()
    observation = platform.parse_check(
        POST, fault(platform.check_request(POST), fixture(name), JSON)
    )
    assert observation.status is Status.UNREACHABLE, fault_name
    listing = platform.parse_discover(
        Target("reddit", "r", "all"),
        fault(platform.discover_request(Target("reddit", "r", "all"), None), fixture(name), JSON),
    )
    assert listing.status is Status.UNREACHABLE


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_the_account_lookup_is_a_removal(fault_name: str, fault: Fault) -> None:
    platform = adapter()
    check(platform, "reddit_removed_by_reddit.json")
    request = platform.check_request(POST)
    answer = fault(request, fixture("reddit_account_suspended.json"), JSON)
    assert platform.parse_check(POST, answer).status is Status.UNREACHABLE


def test_new_page_lists_posts_newest_first_and_sets_the_anchor() -> None:
    platform = adapter()
    target = platform.parse_target("r/China_irl")
    request = platform.discover_request(target, None)
    assert request.full_url() == "http://127.0.0.1:9/r/China_irl/new.json?limit=100&raw_json=1"
    discovery = platform.parse_discover(target, capture(request, fixture("reddit_new_page.json")))
    assert discovery.status is Status.LIVE
    assert [p.post_id for p in discovery.posts] == ["1gx9aa1", "1gx8zz0", "1gx7k2p"]
    assert discovery.posts[0].text == "第三个\nhttps://example.org/article"
    assert discovery.posts[1].text == "第二个\n内容 &amp; 更多"  # raw_json: text as written
    assert discovery.posts[2].author_id == "some_user_42"
    assert discovery.posts[2].published_at == 1732341900.0
    assert discovery.next_cursor == "t3_1gx9aa1"
    assert discovery.more is False  # a newest page without anchor is never "more"


def test_anchored_polls_page_forward_and_an_empty_anchored_page_resets() -> None:
    platform = adapter()
    target = Target("reddit", "r", "all")
    request = platform.discover_request(target, "t3_1gx7k2p")
    assert ("before", "t3_1gx7k2p") in request.params
    empty = platform.parse_discover(target, capture(request, fixture("reddit_empty_listing.json")))
    assert (empty.status, empty.next_cursor) == (Status.LIVE, NEWEST)
    assert "before" not in dict(platform.discover_request(target, NEWEST).params)


def test_user_listing_and_targets() -> None:
    platform = adapter()
    target = platform.parse_target("user/some_user_42")
    assert target == Target("reddit", "user", "some_user_42")
    assert platform.discover_request(target, None).url.endswith("/user/some_user_42/submitted.json")
    assert platform.parse_target("all") == Target("reddit", "r", "all")
    for bad in ("r/", "user/x", "search/cats", "", "r/a b"):
        with pytest.raises(TargetError, match="reddit:r/"):
            platform.parse_target(bad)


def test_token_goes_in_a_header_only() -> None:
    platform = RedditPlatform("https://oauth.reddit.com", token="s3cret")
    request = platform.check_request(POST)
    assert ("Authorization", "bearer s3cret") in request.headers
    assert "s3cret" not in request.full_url()


def test_comment_targets_and_their_listings() -> None:
    platform = adapter()
    stream = Target("reddit", "comments", "China_irl")
    mine = Target("reddit", "user-comments", "some_user_42")
    assert platform.parse_target("comments/China_irl") == stream
    assert platform.parse_target("r/China_irl/comments") == stream
    assert platform.parse_target("user-comments/some_user_42") == mine
    assert platform.parse_target("u/some_user_42/comments") == mine
    assert platform.parse_target(mine.spec.removeprefix("reddit:")) == mine
    assert platform.discover_request(stream, None).full_url() == (
        "http://127.0.0.1:9/r/China_irl/comments.json?limit=100&raw_json=1"
    )
    assert platform.discover_request(mine, "t1_abc").full_url() == (
        "http://127.0.0.1:9/user/some_user_42/comments.json"
        "?sort=new&limit=100&raw_json=1&before=t1_abc"
    )
    for bad in ("comments/", "r/China_irl/hot", "user/x/comments", "user-comments/a b"):
        with pytest.raises(TargetError, match="reddit:comments/<subreddit>"):
            platform.parse_target(bad)


def test_a_cursor_that_is_a_bare_post_id_is_sent_as_its_fullname() -> None:
    # A timeline view hands the adapter the id of the post to page from, not its fullname.
    platform = adapter()
    request = platform.discover_request(Target("reddit", "user", "some_user_42"), "1gx7k2p")
    assert ("before", "t3_1gx7k2p") in request.params


def test_a_post_held_by_automoderator_is_not_followed_up_with_the_account() -> None:
    platform = adapter()
    observation = check(platform, "reddit_filtered_by_automod.json")
    assert "review" in observation.detail
    assert platform.check_request(POST).url.endswith("/by_id/t3_1gx7k2p.json")


def test_a_removal_without_a_category_asks_for_the_account_which_tells_only_a_suspension() -> None:
    platform = adapter()
    assert check(platform, "reddit_removed_no_category.json").status is Status.REMOVED_UNKNOWN
    request = platform.check_request(POST)
    assert request.url.endswith("/user/some_user_42/about.json#after=%5Bremoved%5D")
    fine = platform.parse_check(POST, capture(request, fixture("reddit_account_active.json")))
    assert (fine.status, fine.code) == (Status.REMOVED_UNKNOWN, "[removed]")
    assert "good standing" in fine.detail


def comment_answer(platform: RedditPlatform, ref: PostRef, **data: object):
    child = {"id": ref.post_id.removeprefix("t1_"), "created_utc": 1.0, "author": "x", **data}
    body = json.dumps({"kind": "Listing", "data": {"children": [{"kind": "t1", "data": child}]}})
    return platform.parse_check(ref, capture(platform.check_request(ref), body.encode()))


def test_a_comment_reading_removed_under_a_named_author_is_its_text() -> None:
    ref = PostRef("reddit", "t1_abc", "x")
    observation = comment_answer(adapter(), ref, author="x", body="[removed]")
    assert (observation.status, observation.text) == (Status.LIVE, "[removed]")


def test_a_comment_a_moderators_token_sees_removed_is_a_removal() -> None:
    ref = PostRef("reddit", "t1_abc", "x")
    observation = comment_answer(
        adapter(), ref, body="rude words", removed=True, banned_by="a_moderator"
    )
    assert (observation.status, observation.code) == (Status.REMOVED_UNKNOWN, "[removed]")
    assert "a_moderator" in observation.detail


def test_an_item_without_its_text_is_not_read_as_visible() -> None:
    ref = PostRef("reddit", "t1_abc", "x")
    assert comment_answer(adapter(), ref).status is Status.UNREACHABLE  # no body
    untitled = fixture("reddit_post_visible.json").replace(b'"title"', b'"headline"')
    assert check_body(adapter(), untitled).status is Status.UNREACHABLE


def check_body(platform: RedditPlatform, body: bytes):
    return platform.parse_check(POST, capture(platform.check_request(POST), body))


def test_an_account_answer_that_is_neither_suspended_nor_whole_is_asked_again() -> None:
    platform = adapter()
    check(platform, "reddit_removed_by_reddit.json")
    request = platform.check_request(POST)
    stub = b'{"kind": "t2", "data": {"name": "some_user_42"}}'
    assert platform.parse_check(POST, capture(request, stub)).status is Status.UNREACHABLE
    assert "about.json" in platform.check_request(POST).url
