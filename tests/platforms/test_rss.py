"""The RSS/Atom/JSON Feed adapter: items are known by their guid or id and checked at their own
page (a permalink guid, the RSS link, the Atom alternate link, the JSON Feed url; never a
link-blog's target), or in the feed when they have none; 404/410 → unknown, 451 → censored,
the item's page → live; a page is the item by its canonical URL, compared as a site compares
URLs; a challenge is recognised by its structure; faults never remove."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.errors import TargetError
from memoryhole.model import Capture, Discovery, Observation, PostRef, Request, Status, Target
from memoryhole.platforms._feed_time import feed_time
from memoryhole.platforms._page import comparable, same_url
from memoryhole.platforms.rss import FEED_ACCEPT, LEFT_FEED, RssPlatform, Where, locate
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.platform import SimPlatform
from tests.platforms.helpers import FAULTS, HTML, JSON, XML, Fault, capture, fixture

FEED = Target("rss", "feed", "https://blog.example/feed.xml")
ITEM = PostRef("rss", "https://blog.example/2024/11/third-note", "editor")
FETCHED = 100.0  # when helpers.capture says an answer arrived
HOUR = 3600.0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def adapter() -> RssPlatform:
    return RssPlatform("http://127.0.0.1:9")


def listing(
    platform: RssPlatform,
    name: str,
    target: Target = FEED,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] | None = None,
) -> Discovery:
    return read(platform, fixture(name), target, status, headers)


def read(
    platform: RssPlatform,
    body: bytes,
    target: Target = FEED,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] | None = None,
) -> Discovery:
    request = platform.discover_request(target, None)
    if headers is None:
        headers = HTML if body.lstrip().startswith(b"<!DOCTYPE html") else XML
    return platform.parse_discover(target, capture(request, body, status, headers))


def check(
    post: PostRef,
    body: bytes,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = HTML,
    reached: str | None = None,
    platform: RssPlatform | None = None,
) -> Observation:
    """The answer to the post's check, reached at ``reached`` (after redirects) if given."""
    platform = platform or adapter()
    request = platform.check_request(post)
    if reached is not None:
        request = Request("GET", reached, (), request.headers)
    return platform.parse_check(post, capture(request, body, status, headers))


def page(name: str, status: int = 200, post: PostRef = ITEM) -> Observation:
    return check(post, fixture(name), status)


def rss(*items: str, channel_link: str = "https://blog.example/") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>{channel_link}</link><description>d</description>{''.join(items)}"
        "</channel></rss>"
    ).encode()


def html(head: str, body: str = "<p>An article.</p>") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


# -- identity: the guid, the item's own page, the feed ----------------------------------------


def test_rss_items_are_known_by_their_guid_and_checked_at_their_own_page() -> None:
    discovery = listing(adapter(), "rss_feed.xml")
    assert discovery.status is Status.LIVE
    assert [p.post_id for p in discovery.posts] == [
        # a permalink guid that is the link: the URL alone
        "https://blog.example/2024/11/third-note",
        # a guid that is not a URL (isPermaLink="false"): the page (a relative link, resolved)
        # with the guid
        "https://blog.example/2024/11/second-note#guid=post-2",
        # no link and a guid that is no address: checked in the feed
        "https://blog.example/feed.xml#feed-item=post-0",
        # no guid: known by its link, and the listing says so
        "https://blog.example/2024/11/first-note",
    ]
    third, _, linkless, _ = discovery.posts
    assert third.author_id == "editor"
    assert (third.published_at, third.published_until) == (utc(2024, 11, 23, 8), None)
    assert third.text == "Third note\nThe square was closed this morning & nobody said why."
    assert discovery.posts[1].author_id == FEED.key  # no author: the feed stands for it
    assert linkless.published_at == FETCHED  # no date: when the feed was read
    assert discovery.unreadable == ()
    assert "1 without a guid or id (known by their link)" in discovery.detail
    assert "1 undated (dated when the feed was read)" in discovery.detail
    assert "1 checked in the feed" in discovery.detail
    assert discovery.next_cursor is None and discovery.more is False


def test_each_kind_of_post_id_is_checked_where_it_says() -> None:
    platform = adapter()
    page = "https://blog.example/2024/11/second-note"
    old = "https://www.macworld.com/article/3235804/x.html"
    for post_id, url, in_feed in [
        (ITEM.post_id, ITEM.post_id, False),
        (f"{page}#guid=post-2", page, False),
        ("https://blog.example/feed.xml#feed-item=post-0", FEED.key, True),
        # a post stored by an earlier version: its link, with the link's own fragment
        (f"{old}#tk.rss_all", old, False),
    ]:
        request = platform.check_request(PostRef("rss", post_id, "a"))
        assert (request.method, request.url) == ("GET", url), post_id
        assert (("Accept", FEED_ACCEPT) in request.headers) == in_feed, post_id
    assert locate("https://x.example/p#guid=tag%3Aa%23b") == Where("https://x.example/p")
    assert locate("https://x.example/f.json#feed-item=a%20b%23c") == Where(
        "https://x.example/f.json", "a b#c"
    )


def test_a_link_blog_item_is_checked_at_its_permalink_never_at_its_link() -> None:
    """Daring Fireball's shape: the link is the article linked to, the guid the blog's post."""
    body = rss(
        "<item><title>Linked</title><link>https://news.example/story</link>"
        "<guid>https://blog.example/linked/2024/11/story</guid>"
        "<pubDate>Sat, 23 Nov 2024 08:00:00 GMT</pubDate></item>"
    )
    (post,) = read(adapter(), body).posts
    assert post.post_id == "https://blog.example/linked/2024/11/story"
    request = adapter().check_request(PostRef("rss", post.post_id, post.author_id))
    assert request.url == "https://blog.example/linked/2024/11/story"  # never news.example


def test_a_link_to_another_site_without_a_permalink_is_checked_in_the_feed() -> None:
    body = rss(
        "<item><title>Linked</title><link>https://github.com/someone/project</link>"
        "<guid>blog:project</guid><pubDate>Sat, 23 Nov 2024 08:00:00 GMT</pubDate></item>",
        "<item><title>Own</title><link>https://www.blog.example/2024/own</link>"
        "<guid>blog:own</guid><pubDate>Sat, 23 Nov 2024 07:00:00 GMT</pubDate></item>",
    )
    linked, own = read(adapter(), body).posts
    assert linked.post_id == "https://blog.example/feed.xml#feed-item=blog:project"
    assert own.post_id == "https://www.blog.example/2024/own#guid=blog:own"  # www.: same site


def test_a_relative_guid_is_an_identity_never_an_address() -> None:
    """livemint.xml's guid ``1559104147038`` has no isPermaLink (so "true"): resolving it, as
    feedparser does, would make a URL that was never a page, whose 404 would be a removal."""
    body = rss(
        "<item><title>News</title><link>https://blog.example/news/a-1559104147038.html</link>"
        "<guid><![CDATA[1559104147038]]></guid>"
        "<pubDate>Wed, 29 May 2019 10:16:00 GMT</pubDate></item>"
    )
    (post,) = read(adapter(), body).posts
    assert post.post_id == "https://blog.example/news/a-1559104147038.html#guid=1559104147038"
    assert adapter().check_request(PostRef("rss", post.post_id, "")).url.endswith(".html")


def test_atom_entries_are_known_by_their_id_and_a_link_blogs_target_is_not_their_page() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/feed/atom/">
  <title>t</title><id>https://blog.example/feed/atom/</id><updated>2015-09-08T14:21:41Z</updated>
  <link rel="alternate" type="text/html" href="https://blog.example"/>
  <author><name>Feed Author</name></author>
  <entry><title>Link: elsewhere</title>
    <link rel="alternate" type="text/html" href="http://www.nytimes.example/2015/09/05/story.html"/>
    <id>https://blog.example/?p=14863</id><published>2015-09-08T14:21:41Z</published></entry>
  <entry><title>Link: blank</title><link rel="alternate" type="text/html" href="" />
    <id>https://blog.example/?p=14848</id><published>2015-08-31T15:37:47Z</published></entry>
  <entry><title>Own</title><link rel="related" href="https://other.example/"/>
    <link href="../../2015/09/07/own/"/>
    <id>https://blog.example/?p=14861</id><published>2015-09-07T12:21:01Z</published>
    <author><name>Paul</name></author></entry>
</feed>"""
    linked, blank, own = read(adapter(), body).posts
    assert linked.post_id == "https://blog.example/feed.xml#feed-item=https://blog.example/?p=14863"
    assert blank.post_id == "https://blog.example/feed.xml#feed-item=https://blog.example/?p=14848"
    assert own.post_id == "https://blog.example/2015/09/07/own/#guid=https://blog.example/?p=14861"
    assert (linked.author_id, own.author_id) == ("Feed Author", "Paul")  # RFC 4287 4.2.1


def test_atom_feed_with_xml_base_and_an_undated_entry() -> None:
    discovery = listing(adapter(), "rss_atom_feed.xml")
    assert discovery.status is Status.LIVE
    first, undated = discovery.posts
    assert first.post_id == "https://journal.example/entries/42#guid=tag:journal.example,2024:42"
    assert first.author_id == "Wang"
    assert first.published_at == utc(2024, 11, 23, 0, 30)  # 08:30 +08:00
    assert first.text == "Report & analysis\nFull text of the report."
    assert undated.published_at == FETCHED  # no date: when the feed was read
    assert undated.post_id.endswith("#guid=tag:journal.example,2024:43")


def test_json_feed_items_by_id_at_their_url_never_their_external_url() -> None:
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "t",
      "home_page_url": "https://blog.example/", "authors": [{"name": "Root"}],
      "items": [
        {"id": "https://blog.example/linklog/a/", "url": "https://blog.example/linklog/a/",
         "external_url": "https://news.example/a", "title": "Linked",
         "content_html": "<p>Quote</p>",
         "date_published": "2018-02-13T23:23:12+00:00", "author": {"name": "Nick"}},
        {"id": 42, "url": "/posts/42", "content_text": "No title",
         "date_published": "2018-01-06T08:00", "authors": [{"url": "https://x.example/me"}]},
        {"id": "only-external", "external_url": "https://news.example/b", "content_text": "x",
         "date_modified": "2018-01-07T08:00:00Z"},
        ["not", "an", "item"],
        {"url": "https://blog.example/no-id", "content_text": "y", "date_published": "2018"}
      ]}"""
    discovery = read(adapter(), body, headers=JSON)
    linked, numbered, external = discovery.posts
    assert linked.post_id == "https://blog.example/linklog/a/"
    assert (linked.author_id, linked.text) == ("Nick", "Linked\nQuote")
    assert numbered.post_id == "https://blog.example/posts/42#guid=42"  # a number is a string
    assert numbered.author_id == "https://x.example/me"  # 1.1 authors: a name, else a URL
    local = utc(2018, 1, 6, 8)  # no zone: anywhere from UTC+14 to UTC-12
    assert (numbered.published_at, numbered.published_until) == (
        local - 14 * HOUR,
        local + 12 * HOUR,
    )
    assert external.post_id == "https://blog.example/feed.xml#feed-item=only-external"
    assert external.author_id == "Root"  # the feed's authors are the item's (JSON Feed 1.1)
    assert external.published_at == utc(2018, 1, 7, 8)  # no date_published: date_modified
    assert discovery.unreadable == (
        "item 4: a JSON list instead of an item object",
        "item 5 (https://blog.example/no-id): date '2018' not understood",
    )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"rss": {"version": "2.0", "channel": {}}}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "without an items list"),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "con',
            "malformed",
        ),
        (b"[1, 2]", "JSON list instead of a JSON Feed object"),
    ],
)
def test_what_is_not_a_json_feed_is_unreachable(body: bytes, why: str) -> None:
    discovery = read(adapter(), body, headers=JSON)
    assert discovery.status is Status.UNREACHABLE and discovery.posts == ()
    assert why in discovery.detail


def test_a_repeated_item_is_one_post_and_a_reused_guid_is_said() -> None:
    item = "<item><title>{}</title><link>https://blog.example/{}</link><guid>g{}</guid></item>"
    body = rss(item.format("A", "a", 1), item.format("A", "a", 1), item.format("B", "b", 1))
    discovery = read(adapter(), body)
    assert [p.post_id for p in discovery.posts] == [
        "https://blog.example/a#guid=g1",
        "https://blog.example/b#guid=g1",
    ]
    assert "1 listed twice" in discovery.detail
    body = rss(
        "<item><title>A</title><link>https://blog.example/a</link><guid>https://blog.example/a</guid></item>",
        "<item><title>B</title><link>https://blog.example/a</link><guid>https://blog.example/a</guid></item>",
    )  # fmt: skip
    discovery = read(adapter(), body)
    assert len(discovery.posts) == 1
    assert discovery.unreadable == (
        "item 2 (https://blog.example/a): another item with the id of item 1, which alone is "
        "watched",
    )


def test_items_that_cannot_be_read_are_said_and_none_read_is_no_listing() -> None:
    body = rss(
        "<item><title>Dated oddly</title><link>https://blog.example/odd</link>"
        "<pubDate>the third of May</pubDate></item>",
        "<item><title>Nothing to know it by</title><description>text</description></item>",
    )
    discovery = read(adapter(), body)
    assert discovery.status is Status.UNREACHABLE  # never an empty success
    assert discovery.unreadable == (
        "item 1 (https://blog.example/odd): date 'the third of May' not understood",
        "item 2 ('Nothing to know it by'): no guid/id and no link, nothing identifies it",
    )
    body = rss(
        "<item><title>Fine</title><link>https://blog.example/fine</link></item>",
        "<item><title>Dated oddly</title><link>https://blog.example/odd</link>"
        "<pubDate>the third of May</pubDate></item>",
    )
    discovery = read(adapter(), body)
    assert discovery.status is Status.LIVE
    assert [p.post_id for p in discovery.posts] == ["https://blog.example/fine"]
    assert "1 unreadable: item 2" in discovery.detail


def test_an_item_leaving_the_feed_is_not_a_removal() -> None:
    platform = adapter()
    before = listing(platform, "rss_feed.xml")
    after = listing(platform, "rss_feed_item_gone.xml")
    assert after.status is Status.LIVE
    assert {p.post_id for p in before.posts} - {p.post_id for p in after.posts} == {
        "https://blog.example/2024/11/second-note#guid=post-2"
    }


def test_an_unchanged_feed_is_parsed_once() -> None:
    platform = adapter()
    first = listing(platform, "rss_feed.xml")
    assert listing(platform, "rss_feed.xml") is first


# -- publication times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 19 Nov 2018 08:10:26 GMT", (utc(2018, 11, 19, 8, 10, 26), None)),
        ("Sun, 17 Jan 2021 19:27:00 +0100", (utc(2021, 1, 17, 18, 27), None)),
        ("Tue, 03 Sep 2019 18:00:00 -0000", (utc(2019, 9, 3, 18), None)),  # UTC, zone unsaid
        ("Thu, 6 Sep 2018 13:27:00 +0000", (utc(2018, 9, 6, 13, 27), None)),
        ("06 Sep 21 12:17 EST", (utc(2021, 9, 6, 17, 17), None)),
        ("Mon, 06 Sep 2021 12:17:00 CEST", (utc(2021, 9, 6, 10, 17), None)),
        ("2007-12-14T23:15:00.000-08:00", (utc(2007, 12, 15, 7, 15), None)),
        ("2018-11-19T08:42:59Z", (utc(2018, 11, 19, 8, 42, 59), None)),
        # a clock without a zone: every instant it can be (UTC+14 to UTC-12)
        ("Mon, 06 Sep 2021 12:17:00", (utc(2021, 9, 5, 22, 17), utc(2021, 9, 7, 0, 17))),
        ("Mon, 06 Sep 2021 12:17:00 IST", (utc(2021, 9, 5, 22, 17), utc(2021, 9, 7, 0, 17))),
        ("2018-01-06T08:00", (utc(2018, 1, 5, 18), utc(2018, 1, 6, 20))),
        ("2020/1/10 14:33:00", (utc(2020, 1, 10, 0, 33), utc(2020, 1, 11, 2, 33))),
        # a day: from its start at UTC+14 to its end at UTC-12
        ("2019-08-27", (utc(2019, 8, 26, 10), utc(2019, 8, 28, 12))),
        ("the third of May", None),
        ("2019-02-30T10:00:00Z", None),
        ("32 Jan 2020 10:00 GMT", None),
        ("", None),
    ],
)
def test_feed_times(raw: str, expected: tuple[float, float | None] | None) -> None:
    assert feed_time(raw) == expected


# -- the item's page ----------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("item", "canonical"),
    [
        ("https://blog.example/a/b", "https://blog.example/a/b/"),
        ("http://blog.example/a/b", "https://blog.example/a/b"),
        ("https://blog.example:443/a/b", "https://BLOG.example/a/b"),
        ("http://blog.example:80/a/b", "https://www.blog.example/a/b"),
        ("https://blog.example/a/b?utm_source=rss&utm_medium=feed", "https://blog.example/a/b"),
        ("https://blog.example/a/b?fbclid=x1&gclid=y2&msclkid=z", "https://blog.example/a/b"),
        ("https://medium.example/@a/post-417d?source=rss-b1f3d3------2", "https://medium.example/@a/post-417d"),
        ("https://blog.example/a/%E2%80%99b#comments", "https://blog.example/a/\u2019b"),
        ("https://blog.example/p?id=5&page=2", "https://blog.example/p?page=2&id=5"),
    ],
)  # fmt: skip
def test_a_canonical_url_is_the_items_as_a_site_compares_urls(item: str, canonical: str) -> None:
    observation = check(
        PostRef("rss", item, "a"), html(f'<link rel="canonical" href="{canonical}">')
    )
    assert observation.status is Status.LIVE, observation.detail


@pytest.mark.parametrize(
    ("item", "canonical"),
    [
        ("https://blog.example/p?id=5", "https://blog.example/p?id=6"),
        ("https://blog.example/p?id=5", "https://blog.example/p"),
        ("https://blog.example/a/b", "https://blog.example/a"),
        ("https://blog.example/a/b", "https://other.example/a/b"),
        ("https://blog.example/a/b", "https://blog.example:8443/a/b"),
        ("https://blog.example/p?source=newsletter", "https://blog.example/p"),
    ],
)
def test_another_canonical_url_is_not_the_item(item: str, canonical: str) -> None:
    observation = check(
        PostRef("rss", item, "a"), html(f'<link rel="canonical" href="{canonical}">')
    )
    assert observation.status is Status.UNREACHABLE
    assert "another canonical URL" in observation.detail
    assert not same_url(item, canonical)
    assert comparable(item) != comparable(canonical)


def test_a_redirect_within_the_site_to_the_pages_canonical_is_the_item() -> None:
    """WordPress's ``/?p=14863`` leads to the post's permalink, which names itself."""
    post = PostRef("rss", "http://blog.example/?p=14863", "a")
    reached = "https://blog.example/2015/09/08/pillow-fight/"
    body = html('<link rel="canonical" href="https://blog.example/2015/09/08/pillow-fight/">')
    observation = check(post, body, reached=reached)
    assert observation.status is Status.LIVE
    assert "led within the site" in observation.detail
    for status in (404, 410, 451):  # gone where a redirect led: never the item's removal
        observation = check(post, b"", status, reached=reached)
        assert observation.status is Status.UNREACHABLE and "redirect" in observation.detail
    assert check(post, b"", 404, reached="https://blog.example/?p=14863").code == "404"
    for where, why in [
        ("https://other.example/2015/09/08/pillow-fight/", "another site"),
        ("https://blog.example/", "home page"),
    ]:
        moved = body.replace(reached.encode(), where.encode())
        observation = check(post, moved, reached=where)
        assert observation.status is Status.UNREACHABLE and why in observation.detail
    # a page reached by a redirect that does not say what it is proves nothing
    observation = check(post, html("<title>Search</title>"), reached=reached)
    assert observation.status is Status.UNREACHABLE and "names no canonical" in observation.detail
    # nor does a canonical elsewhere on the site
    elsewhere = html('<link rel="canonical" href="https://blog.example/search">')
    assert check(post, elsewhere, reached=reached).status is Status.UNREACHABLE


def test_the_canonical_of_the_head_wins_and_scripts_are_not_markup() -> None:
    item = PostRef("rss", "https://blog.example/a", "x")
    decoy = '<script>var s = \'<link rel="canonical" href="https://blog.example/a">\';</script>'
    assert check(item, html(decoy)).detail == "item page answers (it names no canonical URL)"
    head = (
        '<meta property="og:url" content="https://blog.example/b">'
        '<link rel="canonical" href="https://blog.example/a">'
    )
    assert check(item, html(head)).status is Status.LIVE  # the link, not og:url
    assert check(item, html('<meta property="og:url" content="/a">')).status is Status.LIVE
    in_body = html("<title>A</title>", '<link rel="canonical" href="https://blog.example/a">')
    assert "in the body" in check(item, in_body).detail
    commented = html("<!-- <link rel='canonical' href='https://blog.example/b'> -->")
    assert check(item, commented).status is Status.LIVE


def test_a_canonical_link_after_megabytes_of_inline_script_is_found_quickly() -> None:
    item = PostRef("rss", "https://blog.example/a", "x")
    script = "<script>" + "var x = 'captcha';" * 300_000 + "</script>"  # 5.4 MB in the head
    body = html(f"<title>A</title>{script}<link rel='canonical' href='https://blog.example/b'>")
    assert len(body) > 5_000_000
    started = time.perf_counter()
    observation = check(item, body)
    assert time.perf_counter() - started < 1.0
    assert observation.status is Status.UNREACHABLE
    assert "https://blog.example/b" in observation.detail  # found, and not the item


@pytest.mark.parametrize(
    ("head", "body", "headers"),
    [
        ("<title>Just a moment...</title>", "<p>x</p>", HTML),
        ("<title>Just a moment…</title>", "<p>x</p>", HTML),
        ("<title>Attention Required! | Cloudflare</title>", "", HTML),
        ("<title>安全验证</title>", "", HTML),
        ("<title>example.org</title>", "<h1>Checking your browser before accessing</h1>", HTML),
        ("<title>YouTube</title>", '<form action="/das_captcha?fw=1" method="POST"></form>', HTML),
        ("<title>x</title>", '<form id="challenge-form" action="/?__cf_chl_f_tk=1"></form>', HTML),
        ("<title>x</title>", '<iframe src="https://geo.captcha-delivery.com/c/1"></iframe>', HTML),
        ("<title>Post</title>", "<p>x</p>", (*HTML, ("cf-mitigated", "challenge"))),
    ],
)
def test_a_challenge_is_recognised_by_its_structure(
    head: str, body: str, headers: tuple[tuple[str, str], ...]
) -> None:
    observation = check(ITEM, html(head, body), headers=headers)
    assert observation.status is Status.UNREACHABLE
    assert "challenge" in observation.detail


@pytest.mark.parametrize(
    "head",
    [
        "<title>Why every CAPTCHA is a challenge</title>",
        "<title>Post</title><script>grecaptcha.execute('captcha'); // Just a moment...</script>",
        "<title>Post</title><script>document.title = '<title>Just a moment...</title>'</script>",
        "<title>Post</title><style>.g-recaptcha{display:none}</style>",
        "<title>Post</title><!-- <form id='challenge-form'></form> -->",
    ],
)
def test_a_word_in_a_script_or_a_title_is_not_a_challenge(head: str) -> None:
    observation = check(ITEM, html(head, "<article><h1>Post</h1><p>captcha</p></article>"))
    assert observation.status is Status.LIVE, observation.detail


def test_a_challenge_form_on_a_page_that_names_the_item_is_the_item() -> None:
    """A comment form protected by a captcha is part of the article."""
    head = '<link rel="canonical" href="https://blog.example/2024/11/third-note">'
    form = '<form action="/wp-comments-post.php" class="captcha-protected"></form>'
    assert check(ITEM, html(head, form)).status is Status.LIVE


@pytest.mark.parametrize(
    ("body", "headers"),
    [(b"", HTML), (b"  \n", HTML), (b"null", JSON), (b'{"error": "x"}', HTML), (b"[]", ())],
)
def test_an_empty_or_json_answer_is_not_the_page(
    body: bytes, headers: tuple[tuple[str, str], ...]
) -> None:
    assert check(ITEM, body, headers=headers).status is Status.UNREACHABLE


# -- items checked in the feed --------------------------------------------------------------------


def test_an_item_without_a_page_of_its_own_is_live_while_the_feed_lists_it() -> None:
    platform = adapter()
    post = PostRef("rss", "https://blog.example/feed.xml#feed-item=post-0", FEED.key)
    request = platform.check_request(post)
    assert request.url == FEED.key
    listed = platform.parse_check(post, capture(request, fixture("rss_feed.xml"), 200, XML))
    assert listed.status is Status.LIVE and "listed in its feed" in listed.detail
    other = PostRef("rss", "https://blog.example/feed.xml#feed-item=post-9", FEED.key)
    gone = platform.parse_check(other, capture(request, fixture("rss_feed.xml"), 200, XML))
    assert gone.status is Status.UNREACHABLE and "never a removal" in gone.detail
    assert gone.code == LEFT_FEED
    for status in (404, 410, 451):
        answer = capture(request, fixture("rss_item_gone.html"), status, HTML)
        assert platform.parse_check(post, answer).status is Status.UNREACHABLE
    broken = capture(request, fixture("rss_truncated.xml"), 200, XML)
    assert platform.parse_check(post, broken).status is Status.UNREACHABLE


def test_a_json_feed_item_in_its_feed_keeps_its_media() -> None:
    platform = adapter()
    feed = fixture("rss_feed.xml")  # unused body, to show the cache holds per body
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "7", '
        b'"content_text": "x", "attachments": [{"url": "https://cdn.example/7.jpg", '
        b'"mime_type": "image/jpeg"}, {"url": "https://cdn.example/7.mp3", '
        b'"mime_type": "audio/mpeg"}]}]}'
    )
    post = PostRef("rss", "https://blog.example/feed.xml#feed-item=7", "")
    request = platform.check_request(post)
    assert platform.parse_check(post, capture(request, feed, 200, XML)).status is Status.UNREACHABLE
    observation = platform.parse_check(post, capture(request, body, 200, JSON))
    assert observation.status is Status.LIVE
    assert observation.detail.endswith("media: image https://cdn.example/7.jpg")


# -- faults -------------------------------------------------------------------------------------

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


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_but_a_cut_page_is_ever_the_item(fault_name: str, fault: Fault) -> None:
    platform = adapter()
    answer = fault(platform.check_request(ITEM), fixture("rss_item_page.html"), HTML)
    observation = platform.parse_check(ITEM, answer)
    if fault_name == "200 truncated body":  # the page's head, naming the item, still came
        assert observation.status is Status.LIVE
    else:
        assert observation.status is Status.UNREACHABLE, fault_name
    in_feed = PostRef("rss", "https://blog.example/feed.xml#feed-item=post-0", FEED.key)
    answer = fault(platform.check_request(in_feed), fixture("rss_feed.xml"), XML)
    assert platform.parse_check(in_feed, answer).status is Status.UNREACHABLE, fault_name


@pytest.mark.parametrize("name", ["rss_truncated.xml", "rss_challenge_page.html"])
def test_broken_feeds_are_transient(name: str) -> None:
    discovery = listing(adapter(), name)
    assert discovery.status is Status.UNREACHABLE
    assert discovery.posts == ()


@pytest.mark.parametrize("status", [404, 410, 451, 403])
def test_a_feed_that_is_gone_removes_nothing(status: int) -> None:
    assert listing(adapter(), "rss_item_gone.html", status=status).status is Status.UNREACHABLE


def test_a_feed_labelled_html_is_still_read_and_an_html_page_is_not() -> None:
    platform = adapter()
    assert listing(platform, "rss_feed.xml", headers=HTML).status is Status.LIVE
    page_labelled_xml = listing(platform, "rss_challenge_page.html", headers=XML)
    assert page_labelled_xml.status is Status.UNREACHABLE
    assert "HTML page instead of a feed" in page_labelled_xml.detail


def test_targets_and_requests() -> None:
    platform = adapter()
    assert platform.parse_target("feed/https://blog.example/feed.xml") == FEED
    relative = platform.parse_target("feed/feeds/all.rss")
    assert platform.discover_request(relative, None).url == "http://127.0.0.1:9/feeds/all.rss"
    assert platform.discover_request(FEED, None).url == FEED.key
    assert ("Accept", FEED_ACCEPT) in platform.discover_request(FEED, None).headers
    request = platform.check_request(ITEM)
    assert (request.method, request.url, request.params) == ("GET", ITEM.post_id, ())
    assert platform.redirects == "public"  # judged where they end (a page elsewhere is not it)
    for bad in ("feed/", "feed//x", "feed/ftp://x/y", "blog/https://x", ""):
        with pytest.raises(TargetError, match="rss:feed/"):
            platform.parse_target(bad)


# -- the simulator speaks what real feeds carry -------------------------------------------------

T0 = 1_700_000_000.0
BASE = "http://simulator.invalid"


def simulated() -> SimPlatform:
    posts = [
        ScenarioPost("101", "7001", T0, "First\nbody", removed_at=T0 + 600, removal="censored"),
        ScenarioPost(
            "102", "7002", T0 + 10, "Second", removed_at=T0 + 900, removal="author_deleted"
        ),
        ScenarioPost("103", "7002", T0 + 20, "Third post"),
    ]
    return SimPlatform(posts, VirtualClock(T0 + 1000), "rss")


def sim_answer(sim: SimPlatform, request: Request) -> Capture:
    path = request.url.removeprefix(BASE)
    status, headers, body = sim.handle(request.method, path, dict(request.params))
    return Capture(request, status, headers, body, T0 + 1000, T0 + 1000)


@pytest.mark.parametrize(
    ("path", "ids"),
    [
        ("feeds/all.rss", ["/posts/103"]),
        ("feeds/all.atom", ["/posts/103#guid=tag:memoryhole-sim,2024:post-103"]),
        ("feeds/all.json", ["/posts/103#guid=103"]),
        ("feeds/user/7002.json", ["/posts/103#guid=103"]),
    ],
)
def test_the_simulators_feeds_are_read_as_real_ones(path: str, ids: list[str]) -> None:
    sim = simulated()
    platform = RssPlatform(BASE)
    target = platform.parse_target(f"feed/{path}")
    discovery = platform.parse_discover(
        target, sim_answer(sim, platform.discover_request(target, None))
    )
    assert discovery.status is Status.LIVE and discovery.unreadable == ()
    assert [p.post_id for p in discovery.posts] == [BASE + post_id for post_id in ids]
    (post,) = discovery.posts
    assert (post.author_id, post.published_at, post.text) == (
        "7002",
        T0 + 20,
        "Third post\nThird post",
    )
    ref = PostRef("rss", post.post_id, post.author_id)
    observation = platform.parse_check(ref, sim_answer(sim, platform.check_request(ref)))
    assert observation.status is Status.LIVE and "canonical URL" in observation.detail


def test_the_simulators_rss_items_carry_a_permalink_guid_and_its_json_feed_is_1_1() -> None:
    sim = simulated()
    _, headers, body = sim.handle("GET", "/feeds/all.rss", {})
    assert b'<guid isPermaLink="true">/posts/103</guid><pubDate>' in body
    assert b"<dc:creator>7002</dc:creator>" in body
    status, headers, body = sim.handle("GET", "/feeds/all.json", {})
    assert status == 200 and dict(headers)["content-type"].startswith("application/feed+json")
    assert body.startswith(b'{"version": "https://jsonfeed.org/version/1.1"')
    assert sim.handle("GET", "/feeds/user/7009.json", {})[0] == 404
    platform = RssPlatform(BASE)
    for post_id, expected in [("101", Status.CENSORED), ("102", Status.AUTHOR_DELETED)]:
        ref = PostRef("rss", f"{BASE}/posts/{post_id}#guid={post_id}", "x")
        answer = sim_answer(sim, platform.check_request(ref))
        observation = platform.parse_check(ref, answer)
        assert observation.status is Status.REMOVED_UNKNOWN  # a page does not say who
        assert answer.status == (410 if expected is Status.CENSORED else 404)
