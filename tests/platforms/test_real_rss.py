"""Real feeds and pages (tests/data/real/feeds, from Ranchero-Software/RSParser's test resources):
every item of every RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed file listed with the id, author,
time and text the file gives it (expectations read from the files, not from the adapter); each
item checked only at its own page or in its feed, never at a link-blog's target; the broken
files unreachable; each HTML page read as what it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from memoryhole.model import Capture, Discovery, Observation, PostRef, Request, Status, Target
from memoryhole.platforms.rss import RssPlatform
from tests.platforms.helpers import FAULTS, Fault
from tests.platforms.real_samples import ANSWERED_AT, feed, feed_names

HOUR = 3600.0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Item:
    post_id: str
    author: str
    published: tuple[float, float | None]
    text: str  # how the post's text begins


@dataclass(frozen=True)
class Feed:
    url: str  # where the feed lives (from its self link, home page or feed_url where it names it)
    content_type: str
    posts: int
    first: Item
    sites: tuple[str, ...]  # the hosts the feed's own pages are on
    in_feed: int = 0  # items with no page of their own on the feed's site
    by_link: int = 0  # items without a guid/id
    unreadable: int = 0


RSS = "application/rss+xml"
ATOM = "application/atom+xml"
RDF = "application/rdf+xml"
JSON_FEED = "application/feed+json"

FEEDS: dict[str, Feed] = {
    "3960.json": Feed(
        "https://journal.3960.org/feed.json", JSON_FEED, 20,
        Item(
            "https://journal.3960.org/posts/2020-02-21-lecker-lecker/"
            "#guid=user/posts/2020-02-21-lecker-lecker/index.md",
            "Frank Boës", (utc(2020, 2, 21, 17, 8, 6), None),
            "Lecker, lecker\nDa ist es zwar nicht ganz billig,\ndafür schmeckt's aber auch nicht.",
        ),
        ("journal.3960.org",),
    ),
    "489.rss": Feed(
        "https://medium.com/feed/@hodlhodl", RSS, 10,
        Item(
            "https://medium.com/@hodlhodl/hodl-hodl-closes-funding-round-417d97952d42"
            "?source=rss-b1f3d322dadf------2#guid=https://medium.com/p/417d97952d42",
            "Hodl Hodl", (utc(2018, 11, 19, 8, 10, 26), None),
            "Hodl Hodl closes funding round\nFor a long time Hodl Hodl remained self-funded.",
        ),
        ("medium.com",),
    ),
    "4fsodonline.atom": Feed(
        "http://4fsodonline.blogspot.com/feeds/posts/default", ATOM, 25,
        Item(
            "http://4fsodonline.blogspot.com/2007/12/4fsod-documentary-bloopers-and-stuff.html"
            "#guid=tag:blogger.com,1999:blog-3905741845175603023.post-425541125763448592",
            "Anthony", (utc(2007, 12, 15, 7, 15), None),
            "4FSOD Documentary: Bloopers and Stuff\nEven the 4 Fighting Serpents of Death don't "
            "always get it right on the first take!",
        ),
        ("4fsodonline.blogspot.com",),
    ),
    "EMarley.rss": Feed(
        "https://medium.com/feed/@emarley", RSS, 10,
        Item(
            "https://medium.com/@emarley/ui-automation-screenshots-c44a41af38d1"
            "?source=rss-b4981c59ffa5------2#guid=https://medium.com/p/c44a41af38d1",
            "Liz Marley", (utc(2016, 5, 7, 23, 53, 30), None),
            "UI Automation & screenshots\nHere’s a partial collection of links from my talk today…",
        ),
        ("medium.com",),
    ),
    "KatieFloyd.rss": Feed(  # every link goes through feedpress's tracker: no page of its own
        "http://feed.katiefloyd.com/", RSS, 20,
        Item(
            "http://feed.katiefloyd.com/#feed-item="
            "50c628b3e4b07b56461546c5:50c658a6e4b0cc9aa9ce4405:57bcbe83e4fcb567fdffc020",
            "Katie Floyd", (utc(2016, 8, 25, 22, 20), None),
            # the description's &nbsp; are no-break spaces
            "Special Mac Power Users for Relay FM Members\nRelay\xa0FM\xa0has created",
        ),
        ("katiefloyd.com",), in_feed=20,
    ),
    "OneFootTsunami.atom": Feed(  # a link-blog: 15 entries link elsewhere, 3 to nothing
        "http://onefoottsunami.com/feed/atom/", ATOM, 25,
        Item(
            "http://onefoottsunami.com/feed/atom/#feed-item=http://onefoottsunami.com/?p=14863",
            "Paul Kafasis", (utc(2015, 9, 8, 14, 21, 41), None),
            "Link: Pillow Fight Leaves 24 Concussed\nAt West Point, freshman cadets",
        ),
        ("onefoottsunami.com",), in_feed=18,
    ),
    "aktuality.rss": Feed(
        "https://www.aktuality.sk/rss/", RSS, 30,
        Item(
            "https://www.aktuality.sk/clanok/856577/analytici-goldman-sachs-zvysili-odhad-rastu-ekonomiky-usa/",
            "https://www.aktuality.sk/rss/", (utc(2021, 1, 17, 18, 27), None),
            "Analytici Goldman Sachs zvýšili odhad rastu ekonomiky USA\nOčakávajú",
        ),
        ("aktuality.sk",), by_link=30,
    ),
    "allthis.atom": Feed(  # RSS 2.0, whatever its name says
        "http://leancrew.com/all-this/feed/", RSS, 12,
        Item(
            "http://leancrew.com/all-this/2017/11/last-thoughts-on-modifier-keys/",
            "Dr. Drang", (utc(2017, 11, 23, 21, 8, 29), None),
            "Last thoughts on modifier keys\nWhen I wrote the post about ordering Mac modifier "
            "keys a few days ago",
        ),
        ("leancrew.com",),
    ),
    "allthis.json": Feed(
        "http://leancrew.com/all-this/feed.json", JSON_FEED, 12,
        Item(
            "http://leancrew.com/all-this/2017/11/last-thoughts-on-modifier-keys/",
            "Dr. Drang", (utc(2017, 11, 23, 21, 8, 29), None),
            "Last thoughts on modifier keys\nWhen I wrote the post about ordering Mac modifier "
            "keys a few days ago",
        ),
        ("leancrew.com",),
    ),
    "atp.rss": Feed(
        "http://atp.fm/rss", RSS, 100,
        Item(
            "http://atp.fm/episodes/311"
            "#guid=513abd71e4b0fe58c655c105:513abd71e4b0fe58c655c111:5c5273baf950b7d24bfdcb28",
            "Marco Arment", (utc(2019, 1, 31, 16, 58, 12), None),
            "311: Mutually Assured Destruction",
        ),
        ("atp.fm",),
    ),
    "authors.json": Feed(
        "https://jsonfeed.example/authors.json", JSON_FEED, 4,
        Item(
            "https://jsonfeed.example/authors.json#feed-item=Item%20without%20authors",
            "Root Author 1", (ANSWERED_AT, None), "",
        ),
        ("jsonfeed.example",), in_feed=4,
    ),
    "bio.rdf": Feed(
        "http://connect.biorxiv.org/biorxiv_xml/plant_biology", RDF, 30,
        Item(
            "http://biorxiv.org/cgi/content/short/743294v1?rss=1",
            "Kaur, M., Shukla, A., Kanwar, S., Shukla, V., Kaur, G., Sharma, S., Kumar, A., "
            "Aggarwal, S., Bhati, K. K., Pandey, P., Mazumder, K., Rishi, V., Pandey, A. K.",
            (utc(2019, 8, 26, 10), utc(2019, 8, 28, 12)),  # dc:date 2019-08-27, a day
            "Wheat inositol pyrophosphate kinase (TaVIH2-3B) interacts with Fasciclin-like "
            "arabinogalactan",
        ),
        ("biorxiv.org",),
    ),
    "cloudblog.rss": Feed(
        "https://cloudblog.withgoogle.com/rss/", RSS, 20,
        Item(
            "https://cloud.google.com/blog/products/productivity-collaboration/"
            "want-to-keep-your-employees-productive-pay-attention-to-shadow-it-clues/",
            "Diane Chaleff", (utc(2019, 9, 3, 18), None),
            "Want to keep your employees productive? Pay attention to shadow IT clues\n"
            "Employees use tools at their disposal to get work done",
        ),
        ("cloud.google.com", "cloudblog.withgoogle.com"),
    ),
    "curt.json": Feed(
        "http://curtclifton.net/feed.json", JSON_FEED, 26,
        Item(
            "http://www.curtclifton.net/twitter-quitter#guid=twitter-quitter",
            "Curt Clifton",  # the feed's author (JSON Feed 1.0): the item names none
            (utc(2018, 1, 6, 8) - 14 * HOUR, utc(2018, 1, 6, 8) + 12 * HOUR),  # no zone
            "Twitter Quitter\nI’ve decided to close my Twitter account.",
        ),
        ("curtclifton.net",),
    ),
    "dcrainmaker.xml": Feed(
        "https://www.dcrainmaker.com/feed", RSS, 8,
        Item(
            "https://www.dcrainmaker.com/2017/11/trainers-power-meters-fenix5-sale.html"
            "#guid=https://www.dcrainmaker.com/?p=81603",
            "DC Rainmaker", (utc(2017, 11, 9, 5), None),
            "Huge Fall Sale: 20% of All Trainers & Most Power Meters, $100 off Fenix 5, "
            "GoPro Hero6 deal!\n",
        ),
        ("dcrainmaker.com",),
    ),
    "donthitsave.xml": Feed(
        "https://donthitsave.com/feed.xml", RSS, 10,
        Item(
            "https://donthitsave.com/comic/2019/05/24/skipping-around",
            "https://donthitsave.com/feed.xml", (utc(2019, 5, 24, 7), None),
            "Skipping Around\nI was nearly murdered by a coconut today.\nFor real.",
        ),
        ("donthitsave.com",), by_link=10,
    ),
    "expertopinionent.atom": Feed(
        "http://expertopinionent.typepad.com/my-blog/atom.xml", ATOM, 43,
        Item(
            "http://expertopinionent.typepad.com/my-blog/2017/04/"
            "advances-and-testing-in-vestibular-pathology.html"
            "#guid=tag:typepad.com,2003:post-6a017d3e79c482970c01bb098db7b9970d",
            "ENTexpertopinion", (utc(2017, 4, 7, 1, 50, 50), None),  # 12:20:50+10:30
            "Advances and Testing in Vestibular Pathology\nDr Nicholas Jufas interviews Dr Dave "
            "Pothier, a Staff Otologist",
        ),
        ("expertopinionent.typepad.com",),
    ),
    "inessential.json": Feed(
        "http://inessential.com/feed.json", JSON_FEED, 20,
        Item(
            "http://inessential.com/2017/06/02/james_dempsey_and_the_breakpoints_benefi",
            "Brent Simmons", (utc(2017, 6, 3, 5, 5, 47), None),
            "James Dempsey and the Breakpoints Benefit App Camp for Girls\nOn Wednesday night I "
            "know where I’ll be",
        ),
        ("inessential.com",),
    ),
    "jsonfeed-extension.json": Feed(
        "https://jsonfeed.example/jsonfeed-extension.json", JSON_FEED, 3,
        Item(
            "https://jsonfeed.example/jsonfeed-extension.json#feed-item=2",
            "https://jsonfeed.example/jsonfeed-extension.json",
            (utc(2021, 3, 5, 11, 4, 4), None),
            "Second item.",
        ),
        ("jsonfeed.example",), in_feed=3,
    ),
    "kc0011.rss": Feed(  # GB2312, dates without a zone
        "http://www.kc0011.net/rss.asp", RSS, 20,
        Item(
            "http://www.kc0011.net/dispbbs.asp?BoardID=10&ID=25164257&Page=1",
            "大鱼儿",
            (utc(2020, 1, 10, 14, 33) - 14 * HOUR, utc(2020, 1, 10, 14, 33) + 12 * HOUR),
            "建国35周年纪念，华表，和平鸽\n建国35周年纪念，华表，和平鸽\n35周年1套520，华表60一个，和平鸽20一个",
        ),
        ("kc0011.net",), by_link=20,
    ),
    "livemint.xml": Feed(
        "https://www.livemint.com/rss/News", RSS, 25,
        Item(
            "https://www.livemint.com/news/india/"
            "pm-modi-xi-jinping-informal-summit-in-varanasi-this-october-report-1559104147038.html"
            "#guid=1559104147038",
            "Elizabeth Roche", (utc(2019, 5, 29, 10, 16), None),
            "PM Modi-Xi Jinping informal summit in Varanasi this October: Report\nPM Modi "
            "hosting Xi in Varanasi",
        ),
        ("livemint.com",),
    ),
    "macworld.rss": Feed(  # five items are TechHive's articles
        "https://www.macworld.com/index.rss", RSS, 30,
        Item(
            "https://www.macworld.com/index.rss#feed-item="
            "https://www.techhive.com/article/3212828/connected-home/best-smart-lock.html%23tk.rss_all",
            "Christopher Null", (utc(2017, 11, 28, 23, 40), None),
            "Best smart lock\nKeys are yesterday’s tech, your smart home needs a smart lock.",
        ),
        ("macworld.com",), in_feed=5, by_link=30,
    ),
    "manton.rss": Feed(
        "http://www.manton.org/feed", RSS, 10,
        Item(
            "http://www.manton.org/2015/09/3071.html#guid=http://www.manton.org/?p=3071",
            "manton", (utc(2015, 9, 25, 14, 26, 40), None),
            "This week’s Core Intuition is out with a discussion about new and old iPhones",
        ),
        ("manton.org",),
    ),
    "monkeydom.rss": Feed(  # two items link elsewhere (GitHub, useyourloaf.com)
        "https://coding.monkeydom.de/posts.rss", RSS, 13,
        Item(
            "https://coding.monkeydom.de/posts.rss#feed-item=cocoa-dom:tcmportmapper",
            "https://coding.monkeydom.de/posts.rss", (utc(2018, 9, 6, 13, 27), None),
            "TCMPortMapper 2018 Edition\nAbout 10 years ago, I released one of my first pieces "
            "of open source software.",
        ),
        ("coding.monkeydom.de",), in_feed=2,
    ),
    "natasha.xml": Feed(
        "https://www.natashatherobot.com/feed/", RSS, 10,
        Item(
            "https://www.natashatherobot.com/url-apple-wallet-passkit-pass/"
            "#guid=https://www.natashatherobot.com/?p=6602",
            "Natasha Murashev", (utc(2017, 7, 7, 11, 6, 10), None),
            "The Easiest Way to Get a URL for your Apple Wallet Passkit Pass\nFor try! Swift NYC",
        ),
        ("natashatherobot.com",),
    ),
    "phpxml.rss": Feed(
        "https://www.fcutrecht.net/rss.php", RSS, 20,
        Item(
            "https://www.fcutrecht.net/nieuws/serdar-g-z-b-y-k-scheidsrechter-bij-fc-twente-fc-utrecht~8805",
            "webmaster@fcutrecht.net", (utc(2021, 9, 6, 10, 17), None),
            "Serdar Gözübüyük scheidsrechter bij FC Twente - FC Utrecht\n1️⃣ Serdar Gözübüyük",
        ),
        ("fcutrecht.net",), by_link=20,
    ),
    "pxlnv.json": Feed(  # a link-blog: 19 items have an external_url, never checked
        "https://pxlnv.com/feed/json/", JSON_FEED, 20,
        Item(
            "https://pxlnv.com/linklog/uber-losses-2017/",
            "Nick Heer", (utc(2018, 2, 13, 23, 23, 12), None),
            "Uber Lost $4.5 Billion in 2017\nEric Newcomer, Bloomberg:",
        ),
        ("pxlnv.com",),
    ),
    "rose.json": Feed(
        "https://www.rosemaryorchard.com/blog.json", JSON_FEED, 84,
        Item(
            "https://www.rosemaryorchard.com/blog/workflow-add-task-sub-tasks-to-omnifocus"
            "#guid=workflow-add-task-sub-tasks-to-omnifocus",
            "Rosemary Orchard", (utc(2018, 8, 24, 5), None),
            "Workflow: Add Task & Sub Tasks To OmniFocus\n",
        ),
        ("rosemaryorchard.com",),
    ),
    "rubenerd.rss": Feed(
        "https://rubenerd.com/feed/", RSS, 10,
        Item(
            "https://rubenerd.com/the-commodore-atari-engineer-swap/",
            "Ruben Schade", (utc(2023, 1, 10, 21, 53, 1), None),
            "The great Commodore/Atari engineer swap\nSpend any time reading about the history "
            "of 1980s home computers",
        ),
        ("rubenerd.com",),
    ),
    "russcox.atom": Feed(
        "http://research.swtch.com/feed.atom", ATOM, 19,
        Item(
            "http://research.swtch.com/tlog#guid=tag:research.swtch.com,2012:research.swtch.com/tlog",
            "Russ Cox",  # the feed's author: RFC 4287 gives it to entries that name none
            (utc(2019, 3, 1, 16), None),
            "Transparent Logs for Skeptical Clients\nSuppose we want to maintain and publish a "
            "public, append-only log of data.",
        ),
        ("research.swtch.com",),
    ),
    "scriptingNews.rss": Feed(  # 50 items, two of them reuse an earlier item's guid
        "http://scripting.com/rss.xml", RSS, 48,
        Item(
            "http://scripting.com/2017/06/26.html#a080605",
            "http://scripting.com/rss.xml", (utc(2017, 6, 26, 12, 20, 5), None),
            "Good morning students and teachers! 🍏",
        ),
        ("scripting.com",), unreadable=2,
    ),
    "theomnishow.rss": Feed(
        "https://theomnishow.omnigroup.com/rss/", RSS, 4,
        Item(
            "https://theomnishow.omnigroup.com/episode/andrea-mcvittie-user-experience-designer/",
            "The Omni Group", (utc(2017, 12, 6, 14), None),
            "Andrea McVittie, User Experience Designer\nFull transcript and show notes at "
            "theomnishow.omnigroup.com",
        ),
        ("theomnishow.omnigroup.com",),
    ),
}  # fmt: skip
#: Files that are not a feed that can be read: unreachable, with what they are.
BROKEN = {
    "ScriptingNews.json": "JSON but not a JSON Feed",  # Dave Winer's RSS-in-JSON
    "allthis-partial.json": "malformed JSON",  # cut in the middle of an item
}
#: Article and home pages: (the URL the page is at, what it is).
PAGES = {
    "coco.html": (
        "https://www.theatlantic.com/entertainment/archive/2017/11/"
        "coco-is-among-pixars-best-movies-in-years/546695/",
        "article",
    ),
    "YouTubeTheVolvoRocks.html": (
        "https://www.youtube.com/channel/UCct7QF2jcWRY6dhXWMSq9LQ",
        "channel",
    ),
    "furbo.html": ("http://furbo.org/", "home"),
    "inessential.html": ("http://inessential.com/", "home"),
    "sixcolors.html": ("https://sixcolors.com/", "home"),
}
CLAIMS = frozenset(FEEDS) | frozenset(BROKEN) | frozenset(PAGES)


def test_every_feed_file_is_claimed() -> None:
    assert set(feed_names()) == CLAIMS


def answer(url: str, body: bytes, content_type: str, status: int = 200) -> Capture:
    headers = (("Content-Type", f"{content_type}; charset=utf-8"),)
    request = Request("GET", url)
    return Capture(request, status, headers, body, ANSWERED_AT, ANSWERED_AT, sent_at=ANSWERED_AT)


def read(name: str, platform: RssPlatform | None = None) -> Discovery:
    expected = FEEDS[name]
    platform = platform or RssPlatform()
    target = platform.parse_target(f"feed/{expected.url}")
    request = platform.discover_request(target, None)
    capture = answer(request.url, feed(name), expected.content_type)
    return platform.parse_discover(target, capture)


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_each_real_feed_lists_its_items(name: str) -> None:
    expected = FEEDS[name]
    discovery = read(name)
    assert discovery.status is Status.LIVE, discovery.detail
    assert len(discovery.posts) == expected.posts
    assert len(discovery.unreadable) == expected.unreadable
    first = discovery.posts[0]
    assert first.post_id == expected.first.post_id
    assert first.author_id == expected.first.author
    assert (first.published_at, first.published_until) == expected.first.published
    assert first.text.startswith(expected.first.text), first.text[:200]
    counts = {
        "checked in the feed": expected.in_feed,
        "without a guid or id": expected.by_link,
    }
    for words, count in counts.items():
        if count:
            assert f"{count} {words}" in discovery.detail
        else:
            assert words not in discovery.detail
    assert len({post.post_id for post in discovery.posts}) == len(discovery.posts)
    assert all(post.author_id and post.published_at > 0 for post in discovery.posts)


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_each_real_item_is_checked_on_the_feeds_site_only(name: str) -> None:
    """Never a link-blog's target, a tracker or another site: the item's page or its feed."""
    expected = FEEDS[name]
    platform = RssPlatform()
    for post in read(name, platform).posts:
        request = platform.check_request(PostRef("rss", post.post_id, post.author_id))
        host = (urlsplit(request.url).hostname or "").removeprefix("www.")
        assert request.url == expected.url or host.endswith(expected.sites), request.url


@pytest.mark.parametrize(("name", "why"), sorted(BROKEN.items()))
def test_the_broken_feed_files_are_unreachable(name: str, why: str) -> None:
    platform = RssPlatform()
    target = Target("rss", "feed", f"http://scripting.example/{name}")
    discovery = platform.parse_discover(target, answer(target.key, feed(name), JSON_FEED))
    assert discovery.status is Status.UNREACHABLE and discovery.posts == ()
    assert why in discovery.detail


@pytest.mark.parametrize("name", sorted(FEEDS))
@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_a_real_feed_lists_anything(name: str, fault_name: str, fault: Fault) -> None:
    expected = FEEDS[name]
    platform = RssPlatform()
    target = platform.parse_target(f"feed/{expected.url}")
    request = platform.discover_request(target, None)
    headers = (("Content-Type", expected.content_type),)
    broken = fault(request, feed(name), headers)
    discovery = platform.parse_discover(target, broken)
    assert discovery.status is Status.UNREACHABLE and discovery.posts == (), fault_name


def test_the_same_blogs_rss_and_json_feed_give_the_same_posts() -> None:
    rss, json_feed = read("allthis.atom").posts, read("allthis.json").posts
    assert [(p.post_id, p.author_id, p.published_at) for p in rss] == [
        (p.post_id, p.author_id, p.published_at) for p in json_feed
    ]
    assert rss[-1].post_id == "http://leancrew.com/all-this/2017/10/feed-reading/"


@pytest.mark.parametrize(
    ("name", "index", "post_id", "never"),
    [
        ("pxlnv.json", 0, "https://pxlnv.com/linklog/uber-losses-2017/", "bloomberg.com"),
        (
            "3960.json", 12,
            "https://journal.3960.org/posts/2019-09-13-programmierung-zurueck-zur-werkbank/"
            "#guid=user/posts/2019-09-13-programmierung-zurueck-zur-werkbank/index.md",
            "bastianallgeier.com",
        ),
        (
            "rose.json", 1,
            "https://www.rosemaryorchard.com/elsewhere/fusion-september-is-coming"
            "#guid=fusion-september-is-coming",
            "relay.fm",
        ),
        (
            "OneFootTsunami.atom", 0,
            "http://onefoottsunami.com/feed/atom/#feed-item=http://onefoottsunami.com/?p=14863",
            "nytimes.com",
        ),
        (
            "OneFootTsunami.atom", 1,
            "http://onefoottsunami.com/2015/09/07/perverse-incentives-2/"
            "#guid=http://onefoottsunami.com/?p=14861",
            "slate.com",
        ),
        (
            "monkeydom.rss", 10,
            "https://coding.monkeydom.de/posts.rss"
            "#feed-item=cocoa-dom:new-objective-c-language-features-in-xcode-4-4",
            "useyourloaf.com",
        ),
    ],
)  # fmt: skip
def test_a_link_blogs_target_is_never_what_is_checked(
    name: str, index: int, post_id: str, never: str
) -> None:
    platform = RssPlatform()
    post = read(name, platform).posts[index]
    assert post.post_id == post_id
    request = platform.check_request(PostRef("rss", post.post_id, post.author_id))
    assert never not in request.url


def test_json_feed_authors_1_1_before_1_0_and_the_feeds_before_none() -> None:
    posts = read("authors.json").posts
    assert [(p.post_id.rsplit("=", 1)[1], p.author_id) for p in posts] == [
        ("Item%20without%20authors", "Root Author 1"),  # the feed's 1.1 authors
        ("Item%20with%20legacy%20author", "Legacy Item Author"),  # 1.0 author
        ("Item%20with%20modern%20authors", "Item Author 1"),  # 1.1 authors: the first
        ("Item%20with%20both", "Item Author 1"),  # 1.1 authors win over 1.0
    ]
    assert all(p.published_at == ANSWERED_AT and p.text == "" for p in posts)  # undated, empty
    assert "4 undated (dated when the feed was read)" in read("authors.json").detail


def test_a_reused_guid_is_said_not_merged() -> None:
    discovery = read("scriptingNews.rss")
    assert discovery.unreadable == (
        "item 13 (http://scripting.com/2017/06/25.html#a080631): another item with the id of "
        "item 9, which alone is watched",
        "item 25 (http://scripting.com/2017/06/24.html#a100632): another item with the id of "
        "item 23, which alone is watched",
    )


def test_an_item_with_no_page_of_its_own_is_live_while_its_feed_lists_it() -> None:
    platform = RssPlatform()
    tracked = read("KatieFloyd.rss", platform).posts[0]
    post = PostRef("rss", tracked.post_id, tracked.author_id)
    request = platform.check_request(post)
    assert request.url == "http://feed.katiefloyd.com/"  # never tracking.feedpress.it
    listed = platform.parse_check(post, answer(request.url, feed("KatieFloyd.rss"), RSS))
    assert listed.status is Status.LIVE
    other = answer(request.url, feed("EMarley.rss"), RSS)  # a feed without it
    assert platform.parse_check(post, other).status is Status.UNREACHABLE
    gone = answer(request.url, b"<html><body>Not Found</body></html>", "text/html", 404)
    assert platform.parse_check(post, gone).status is Status.UNREACHABLE  # never a removal


# -- pages ------------------------------------------------------------------------------------

COCO = PAGES["coco.html"][0]
CHANNEL = PAGES["YouTubeTheVolvoRocks.html"][0]


def check(
    item: str, name: str, reached: str | None = None, body: bytes | None = None
) -> Observation:
    platform = RssPlatform()
    post = PostRef("rss", item, "someone")
    request = platform.check_request(post)
    if reached is not None:  # where the redirects the collector followed ended
        request = Request("GET", reached, (), request.headers)
    capture = answer(request.url, feed(name) if body is None else body, "text/html")
    return platform.parse_check(post, capture)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_real_page_is_live_at_its_own_address(name: str) -> None:
    url, _ = PAGES[name]
    observation = check(url, name)
    assert observation.status is Status.LIVE, observation.detail


@pytest.mark.parametrize(
    "item",
    [
        COCO,
        COCO + "?utm_source=feed&utm_medium=rss",
        COCO.replace("https://", "http://"),
        COCO.rstrip("/"),
        COCO.replace("www.theatlantic.com", "WWW.TheAtlantic.com:443"),
    ],
)
def test_the_atlantics_article_is_the_item_by_its_canonical_url(item: str) -> None:
    observation = check(item, "coco.html")
    assert observation.status is Status.LIVE
    assert "link rel=canonical in the head" in observation.detail
    assert "media: image https://cdn.theatlantic.com/" in observation.detail


def test_the_atlantics_article_is_not_another_item_and_a_short_url_to_it_is() -> None:
    other = "https://www.theatlantic.com/entertainment/archive/2017/11/other-article/546700/"
    assert check(other, "coco.html").status is Status.UNREACHABLE
    short = "https://www.theatlantic.com/546695/"
    assert check(short, "coco.html", reached=COCO).status is Status.LIVE
    assert check(short, "coco.html").status is Status.UNREACHABLE


def test_youtubes_canonical_link_after_400_kb_and_its_captcha_scripts() -> None:
    """The channel page names its canonical URL in its body, 421 KB in, after inline scripts
    that mention captchas (``RECAPTCHA_V3_SITEKEY``, ``.grecaptcha-badge``)."""
    body = feed("YouTubeTheVolvoRocks.html")
    assert body.find(b'rel="canonical"') > 400_000 and b"captcha" in body[: 256 * 1024].lower()
    observation = check(CHANNEL, "YouTubeTheVolvoRocks.html")
    assert observation.status is Status.LIVE
    assert "link rel=canonical in the body" in observation.detail
    alias = "https://www.youtube.com/user/TheVolvorocks"
    assert check(alias, "YouTubeTheVolvoRocks.html").status is Status.UNREACHABLE
    redirected = check(alias, "YouTubeTheVolvoRocks.html", reached=CHANNEL)
    assert redirected.status is Status.LIVE
    # Without its canonical link and og:url, the page is still no challenge: the word is in
    # scripts and styles only.
    bare = re.sub(rb'<link rel="canonical"[^>]*>|<meta property="og:url"[^>]*>', b"", body)
    assert b'rel="canonical"' not in bare and b"captcha" in bare.lower()
    observation = check(CHANNEL, "YouTubeTheVolvoRocks.html", body=bare)
    assert observation.status is Status.LIVE
    assert observation.detail.startswith("item page answers (it names no canonical URL)")


@pytest.mark.parametrize("name", ["furbo.html", "inessential.html", "sixcolors.html"])
def test_a_home_page_an_item_led_to_is_not_the_item(name: str) -> None:
    home, _ = PAGES[name]
    item = home + "2017/06/02/some-post"
    observation = check(item, name, reached=home)
    assert observation.status is Status.UNREACHABLE
    assert "home page" in observation.detail
