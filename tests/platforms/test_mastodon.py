"""The Mastodon adapter: a gone status is ``unknown`` (the API cannot tell censorship from
deletion), a suspended account is told apart, edits change the hash, faults never remove."""

from __future__ import annotations

import json

import pytest

from memoryhole.errors import TargetError
from memoryhole.model import Observation, PostRef, Request, Status, Target, content_hash
from memoryhole.platforms.mastodon import MastodonPlatform, parse_history
from tests.platforms.helpers import FAULTS, HTML, JSON, Fault, capture, fixture

POST = PostRef("mastodon", "113532000000000001", "109876543210")


def adapter() -> MastodonPlatform:
    return MastodonPlatform("http://127.0.0.1:9", token="")


def check(
    platform: MastodonPlatform, name: str, status: int = 200, post: PostRef = POST
) -> Observation:
    request = platform.check_request(post)
    headers = HTML if name.endswith(".html") else JSON
    return platform.parse_check(post, capture(request, fixture(name), status, headers))


def check_body(platform: MastodonPlatform, body: bytes, status: int) -> Observation:
    request = platform.check_request(POST)
    return platform.parse_check(POST, capture(request, body, status))


def test_visible_status_text_and_media() -> None:
    observation = check(adapter(), "mastodon_status_visible.json")
    assert observation.status is Status.LIVE
    assert observation.text == "Protest at the square today & tomorrow.\nStay safe.\n#news"
    assert observation.content_hash == content_hash(observation.text)
    assert "image https://files.mastodon.example/" in observation.detail
    assert "video https://other.example/media/clip.mp4" in observation.detail


def test_edited_status_changes_the_hash_and_says_when() -> None:
    before = check(adapter(), "mastodon_status_visible.json")
    after = check(adapter(), "mastodon_edited.json")
    assert after.status is Status.LIVE
    assert before.content_hash != after.content_hash
    assert "edited at 2024-11-23T07:30:12.441Z" in after.detail


def test_content_warning_is_part_of_the_text() -> None:
    observation = check(adapter(), "mastodon_content_warning.json")
    assert observation.text is not None and observation.text.startswith("police\n")


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_status_is_unknown_and_its_account_is_asked_next(status: int) -> None:
    platform = adapter()
    observation = check(platform, "mastodon_status_not_found.json", status)
    assert (observation.status, observation.code) == (Status.REMOVED_UNKNOWN, str(status))
    request = platform.check_request(POST)
    assert request.url == f"http://127.0.0.1:9/api/v1/accounts/109876543210#after={status}"


def test_account_suspended_attributes_the_removal() -> None:
    platform = adapter()
    check(platform, "mastodon_status_not_found.json", 404)
    request = platform.check_request(POST)
    observation = platform.parse_check(
        POST, capture(request, fixture("mastodon_account_suspended.json"))
    )
    assert (observation.status, observation.code) == (Status.ACCOUNT_SUSPENDED, "suspended")
    # Later checks of the status repeat the attribution instead of "unknown".
    again = check(platform, "mastodon_status_not_found.json", 404)
    assert again.status is Status.ACCOUNT_SUSPENDED


def test_account_gone_410_is_a_suspension_of_older_servers() -> None:
    platform = adapter()
    check(platform, "mastodon_status_not_found.json", 404)
    request = platform.check_request(POST)
    body = b'{"error":"Record not found"}'
    assert platform.parse_check(POST, capture(request, body, 410)).status is (
        Status.ACCOUNT_SUSPENDED
    )


@pytest.mark.parametrize(
    ("name", "status"),
    [("mastodon_account_active.json", 200), ("mastodon_status_not_found.json", 404)],
)
def test_otherwise_the_removal_stays_unknown(name: str, status: int) -> None:
    platform = adapter()
    check(platform, "mastodon_status_not_found.json", 404)
    request = platform.check_request(POST)
    observation = platform.parse_check(POST, capture(request, fixture(name), status))
    assert observation.status is Status.UNREACHABLE  # says nothing new about the status
    assert check(platform, "mastodon_status_not_found.json", 404).status is (Status.REMOVED_UNKNOWN)
    assert "/statuses/" in platform.check_request(POST).url, "the account is asked once"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("mastodon_not_found_page.html", 404),  # a proxy's page, not Mastodon's answer
        ("mastodon_unauthorized.json", 401),  # authorized-fetch instance
        ("mastodon_rate_limited.json", 429),
        ("mastodon_status_not_found.json", 403),
    ],
)
def test_refusals_are_transient(name: str, status: int) -> None:
    assert check(adapter(), name, status).status is Status.UNREACHABLE


def test_answer_about_another_status_is_transient() -> None:
    other = PostRef("mastodon", "1", "2")
    assert check(adapter(), "mastodon_status_visible.json", post=other).status is (
        Status.UNREACHABLE
    )


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
@pytest.mark.parametrize(
    "name", ["mastodon_status_not_found.json", "mastodon_account_suspended.json"]
)
def test_no_fault_is_ever_a_removal(fault_name: str, fault: Fault, name: str) -> None:
    platform = adapter()
    if name == "mastodon_account_suspended.json":
        check(platform, "mastodon_status_not_found.json", 404)  # the next check asks the account
    request = platform.check_request(POST)
    observation = platform.parse_check(POST, fault(request, fixture(name), JSON))
    assert observation.status is Status.UNREACHABLE, fault_name
    target = Target("mastodon", "local")
    listing = fault(platform.discover_request(target, None), fixture(name), JSON)
    assert platform.parse_discover(target, listing).status is Status.UNREACHABLE


def test_public_timeline_skips_boosts_and_pages_forward() -> None:
    platform = adapter()
    target = platform.parse_target("local")
    request = platform.discover_request(target, "113532000000000000")
    assert request.full_url() == (
        "http://127.0.0.1:9/api/v1/timelines/public?limit=40&local=true&min_id=113532000000000000"
    )
    discovery = platform.parse_discover(
        target, capture(request, fixture("mastodon_public_timeline.json"))
    )
    assert [p.post_id for p in discovery.posts] == [
        "113532000000000003",
        "113532000000000002",
        "113532000000000001",
    ]
    assert discovery.posts[1].text == "second link"
    assert discovery.posts[0].author_id == "109000000000000003"
    assert discovery.posts[2].published_at == 1732341900.0
    assert discovery.next_cursor == "113532000000000099"  # the newest id, boost included
    assert discovery.more is False
    assert discovery.unreadable == (), "a boost is skipped on purpose, not unreadable"


def test_ids_that_are_not_numbers_page_by_the_link_header() -> None:
    """Servers that speak Mastodon's API with other ids (Pleroma's are not numbers) name the
    newest in ``Link: <…min_id=…>; rel="prev"``; without the header the first listed is."""
    platform = adapter()
    target = platform.parse_target("tag/news")
    request = platform.discover_request(target, "AbC")
    statuses = [
        {"id": f"Aq{suffix}", "created_at": "2024-11-23T06:05:00.000Z", "content": "<p>x</p>",
         "account": {"id": "9"}}
        for suffix in ("Zz9", "Zz1", "B0")
    ]  # fmt: skip
    body = json.dumps(statuses).encode()
    url = "http://127.0.0.1:9/api/v1/timelines/tag/news"
    link = (("Link", f'<{url}?max_id=AqB0>; rel="next", <{url}?min_id=AqZz1>; rel="prev"'),)
    linked = platform.parse_discover(target, capture(request, body, 200, (*JSON, *link)))
    assert linked.next_cursor == "AqZz1"
    assert platform.parse_discover(target, capture(request, body)).next_cursor == "AqZz9"


def test_a_visible_status_gives_its_exact_publication_time() -> None:
    observation = check(adapter(), "mastodon_status_visible.json")
    assert observation.published_at is not None and observation.published_at > 1.7e9


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, "This API requires an authenticated user"),
        (422, "This method requires an authenticated user"),
        (403, "This action is outside the authorized scopes"),
    ],
)
def test_a_refused_check_says_what_mastodon_said(status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    observation = check_body(adapter(), body, status)
    assert observation.status is Status.UNREACHABLE
    assert error in observation.detail and "not a removal" in observation.detail


def test_refused_listings_say_why_and_never_remove() -> None:
    platform = adapter()
    tag = platform.parse_target("tag/nobodyusesthis")
    missing = b'{"error":"Record not found"}'
    said = platform.parse_discover(tag, capture(platform.discover_request(tag, None), missing, 404))
    assert said.status is Status.UNREACHABLE and "no such hashtag" in said.detail
    account = platform.parse_target("account/42")
    gone = platform.parse_discover(
        account, capture(platform.discover_request(account, None), missing, 404)
    )
    assert gone.status is Status.UNREACHABLE and gone.confirm_all
    assert "account not found" in gone.detail
    app_only = MastodonPlatform("http://127.0.0.1:9", token="app")
    local = app_only.parse_target("local")
    needs_user = b'{"error":"This method requires an authenticated user"}'
    refused = app_only.parse_discover(
        local, capture(app_only.discover_request(local, None), needs_user, 422)
    )
    assert refused.status is Status.UNREACHABLE
    assert "no user" in refused.detail and "read:statuses" in refused.detail


def test_account_listing_410_says_suspended() -> None:
    platform = adapter()
    target = platform.parse_target("account/109876543210")
    request = platform.discover_request(target, None)
    assert ("exclude_reblogs", "true") in request.params
    body = b'{"error":"Record not found"}'
    discovery = platform.parse_discover(target, capture(request, body, 410))
    assert discovery.status is Status.ACCOUNT_SUSPENDED


def test_targets() -> None:
    platform = adapter()
    assert platform.parse_target("public") == Target("mastodon", "public")
    assert platform.parse_target("tag/新闻") == Target("mastodon", "tag", "新闻")
    assert (
        "/api/v1/timelines/tag/"
        in platform.discover_request(Target("mastodon", "tag", "x"), None).url
    )
    for bad in ("account/", "users/1", "", "tag/a b"):
        with pytest.raises(TargetError, match="mastodon:local"):
            platform.parse_target(bad)


def test_edit_history() -> None:
    platform = adapter()
    request = platform.history_request(POST)
    assert request.url.endswith("/api/v1/statuses/113532000000000001/history")
    versions = parse_history(capture(request, fixture("mastodon_edit_history.json")))
    assert versions is not None and len(versions) == 2
    assert versions[1][1].startswith("Protest at the square today & tomorrow (moved to 3 pm)")
    assert parse_history(capture(request, b"<html>", 200, HTML)) is None


def test_token_goes_in_a_header_only() -> None:
    platform = MastodonPlatform("https://mastodon.example", token="s3cret")
    request = platform.check_request(POST)
    assert ("Authorization", "Bearer s3cret") in request.headers
    assert "s3cret" not in request.full_url()
    assert isinstance(request, Request)
