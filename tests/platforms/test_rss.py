"""The RSS/Atom adapter: feeds list items by link; an item that leaves the feed is confirmed at
its URL (404/410 → unknown, 451 → censored, the item's page → live); faults never remove."""

from __future__ import annotations

import pytest

from memoryhole.errors import TargetError
from memoryhole.model import PostRef, Request, Status, Target
from memoryhole.platforms.rss import RssPlatform
from tests.platforms.helpers import FAULTS, HTML, XML, Fault, capture, fixture

FEED = Target("rss", "feed", "https://blog.example/feed.xml")
ITEM = PostRef("rss", "https://blog.example/2024/11/third-note", "editor")


def adapter() -> RssPlatform:
    return RssPlatform("http://127.0.0.1:9")


def listing(platform: RssPlatform, name: str, target: Target = FEED, status: int = 200):
    request = platform.discover_request(target, None)
    headers = HTML if name.endswith(".html") else XML
    return platform.parse_discover(target, capture(request, fixture(name), status, headers))


def page(name: str, status: int = 200, post: PostRef = ITEM):
    platform = adapter()
    answer = capture(platform.check_request(post), fixture(name), status, HTML)
    return platform.parse_check(post, answer)


def test_rss_feed_lists_items_by_absolute_link() -> None:
    discovery = listing(adapter(), "rss_feed.xml")
    assert discovery.status is Status.LIVE
    assert [p.post_id for p in discovery.posts] == [
        "https://blog.example/2024/11/third-note",
        "https://blog.example/2024/11/second-note",  # relative link, resolved
        "https://blog.example/2024/11/first-note",
    ]
    third = discovery.posts[0]
    assert third.author_id == "editor"
    assert third.published_at == 1732348800.0
    assert third.text == "Third note\nThe square was closed this morning & nobody said why."
    assert discovery.posts[1].author_id == FEED.key  # no author: the feed stands for it
    assert "1 without a link" in discovery.detail
    assert discovery.next_cursor is None and discovery.more is False


def test_atom_feed_with_xml_base_and_an_undated_entry() -> None:
    platform = adapter()
    discovery = listing(platform, "rss_atom_feed.xml")
    assert discovery.status is Status.LIVE
    first, undated = discovery.posts
    assert first.post_id == "https://journal.example/entries/42"
    assert first.author_id == "Wang"
    assert first.published_at == 1732321800.0  # 08:30 +08:00
    assert first.text == "Report & analysis\nFull text of the report."
    assert undated.published_at == 100.0  # no date: when the feed was fetched


def test_an_item_leaving_the_feed_is_not_a_removal() -> None:
    platform = adapter()
    before = listing(platform, "rss_feed.xml")
    after = listing(platform, "rss_feed_item_gone.xml")
    assert after.status is Status.LIVE
    assert {p.post_id for p in before.posts} - {p.post_id for p in after.posts} == {
        "https://blog.example/2024/11/second-note"
    }


def test_an_unchanged_feed_is_parsed_once() -> None:
    platform = adapter()
    first = listing(platform, "rss_feed.xml")
    assert listing(platform, "rss_feed.xml") is first


@pytest.mark.parametrize(
    ("name", "status", "expected", "code"),
    [
        ("rss_item_page.html", 200, Status.LIVE, None),  # canonical (with a slash) matches
        ("rss_item_page_no_canonical.html", 200, Status.LIVE, None),
        ("rss_item_gone.html", 404, Status.REMOVED_UNKNOWN, "404"),
        ("rss_item_gone.html", 410, Status.REMOVED_UNKNOWN, "410"),
        ("rss_item_gone.html", 451, Status.CENSORED, "451"),
        ("rss_soft_404_page.html", 200, Status.UNREACHABLE, None),  # canonical elsewhere
        ("rss_challenge_page.html", 200, Status.UNREACHABLE, None),
        ("rss_challenge_page.html", 403, Status.UNREACHABLE, None),
        ("rss_item_gone.html", 401, Status.UNREACHABLE, None),
    ],
)
def test_item_pages(name: str, status: int, expected: Status, code: str | None) -> None:
    observation = page(name, status)
    assert (observation.status, observation.code) == (expected, code)
    assert observation.content_hash is None  # page HTML is no basis for edit detection


def test_live_page_keeps_its_media_reference() -> None:
    assert "image https://blog.example/media/square.jpg" in page("rss_item_page.html").detail


REMOVALS = [("rss_item_gone.html", 404), ("rss_item_gone.html", 410)]


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_is_ever_a_removal(fault_name: str, fault: Fault) -> None:
    platform = adapter()
    for name, _status in REMOVALS:
        observation = platform.parse_check(
            ITEM, fault(platform.check_request(ITEM), fixture(name), HTML)
        )
        assert not observation.status.is_removal, fault_name
    feed = fault(platform.discover_request(FEED, None), fixture("rss_feed.xml"), XML)
    assert platform.parse_discover(FEED, feed).status is Status.UNREACHABLE, fault_name


def test_a_captcha_page_is_not_proof_the_item_is_up() -> None:
    for fault_name, fault in FAULTS:
        if "captcha" in fault_name:
            answer = fault(adapter().check_request(ITEM), b"", HTML)
            assert adapter().parse_check(ITEM, answer).status is Status.UNREACHABLE


@pytest.mark.parametrize("name", ["rss_truncated.xml", "rss_challenge_page.html"])
def test_broken_feeds_are_transient(name: str) -> None:
    discovery = listing(adapter(), name)
    assert discovery.status is Status.UNREACHABLE
    assert discovery.posts == ()


@pytest.mark.parametrize("status", [404, 410, 451, 403])
def test_a_feed_that_is_gone_removes_nothing(status: int) -> None:
    assert listing(adapter(), "rss_item_gone.html", status=status).status is Status.UNREACHABLE


def test_targets_and_requests() -> None:
    platform = adapter()
    assert platform.parse_target("feed/https://blog.example/feed.xml") == FEED
    relative = platform.parse_target("feed/feeds/all.rss")
    assert platform.discover_request(relative, None).url == "http://127.0.0.1:9/feeds/all.rss"
    assert platform.discover_request(FEED, None).url == FEED.key
    assert platform.check_request(ITEM) == Request("GET", ITEM.post_id, (), platform._headers)
    for bad in ("feed/", "feed//x", "feed/ftp://x/y", "blog/https://x", ""):
        with pytest.raises(TargetError, match="rss:feed/"):
            platform.parse_target(bad)
