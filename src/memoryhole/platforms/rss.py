"""RSS, Atom and JSON Feed: items known by their guid or id, confirmed at their own page.

A feed is a window onto a site's latest items; an item that leaves it has usually just aged
out, so a missing item is never a removal. RSS 0.9x-2.0, RSS 1.0 (RDF) and Atom are read with
feedparser (text, authors, media), their items' identities and links again from the XML itself
(feedparser drops ``isPermaLink`` and resolves a guid such as ``1559104147038`` as if it were a
relative link); JSON Feed 1.0 and 1.1 are read here (feedparser does not read them).

**Identity.** An item is its guid (RSS ``<guid>``, RSS 1.0 ``rdf:about``, Atom ``<id>``, JSON
Feed ``id``), never its link: in a link-blog the link is someone else's article. An item with
no guid is known by its link, and the listing's detail counts them.

**Its own page** is what is checked: a guid the feed declares a permalink (RSS ``isPermaLink``,
true when absent, and an absolute URL), else the RSS ``<link>``, the Atom ``rel="alternate"``
link or the JSON Feed ``url``, never a JSON Feed ``external_url``. A page is the item's own only
on the feed's site (the host the feed was fetched from, or one the feed names as its own: its
home page, its ``self`` link, its ``xml:base``; or a subdomain of one of these): a link to
another site may be a link-blog's target, whose deletion is not the feed's. An item without a
page of its own there is checked in the feed itself: ``live`` while the feed lists it, never a
removal once it does not.

**Post ids** (a post's id must say where to check it): the page's URL when the guid is that URL
(or there is no guid); ``<page URL>#guid=<guid>`` when the guid is something else;
``<feed URL>#feed-item=<guid>`` when the item is checked in the feed. Posts stored by earlier
versions, whose id is the item's link, are still checked at that link.

**Never silent.** An item with no guid and no link, a date not understood (``_feed_time.py``),
or a guid another, different item of the feed already has is ``unreadable``, named; an item
with no date is dated when the feed was read, and the listing's detail counts those.

Checks of a page:

- ``404 Not Found`` or ``410 Gone`` → ``unknown``: the item is gone, and a web page does not say
  who removed it (the author, the site, a court order).
- ``451 Unavailable For Legal Reasons`` (RFC 7725) → ``censored``.
- Either of these at another address than the item's, where a redirect led: UNREACHABLE.
- ``2xx`` → ``live`` when the page is the item: its canonical URL (``<link rel="canonical">``,
  else ``og:url``) is the item's URL, or the URL a redirect within the site led to; a page with
  no canonical URL is the item unless it is a bot challenge (read from structure: ``_page.py``)
  or was reached through a redirect (a soft 404 sends readers elsewhere).
- Anything else (401/403 paywalls and blocks, 429, 5xx, no answer) is UNREACHABLE.

A feed answer that is not a well-formed feed (HTML such as a captcha page, a truncated or
malformed document) is UNREACHABLE as a whole: a half-parsed feed could invent items. Edits
are not tracked (an item page's HTML changes with every rendering), so live checks carry no
content hash. Targets: ``rss:feed/<absolute URL>``, or ``rss:feed/<path>`` resolved against
the configured base URL (how the simulator is watched).
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.etree import ElementTree

import feedparser

from memoryhole.errors import TargetError
from memoryhole.model import (
    Capture,
    Discovery,
    Observation,
    PostRef,
    Request,
    SeenPost,
    Status,
    Target,
)
from memoryhole.platforms._feed_time import Interval, feed_time
from memoryhole.platforms._page import (
    challenge,
    is_root,
    read_page,
    same_site,
    same_url,
    site,
)
from memoryhole.platforms._shared import (
    answer_problem,
    html_text,
    join_detail,
    looks_like_html,
    media_detail,
)
from memoryhole.platforms.base import listing, transient

USER_AGENT = "memoryhole/0.1 (censorship research)"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, application/json;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
FEED_CACHE = 32  # feeds whose last parse is kept, by URL and body hash
GONE = {404: "404 Not Found", 410: "410 Gone"}
#: In a post id, what follows names the item's guid (the id is its page's URL).
GUID_MARK = "#guid="
#: In a post id, what follows names an item checked in the feed (the id is the feed's URL).
FEED_ITEM_MARK = "#feed-item="
#: The code of a check of an item with no page of its own once its feed no longer lists it:
#: nothing more can be learnt about it.
LEFT_FEED = "left_feed"
JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")

_FRAGMENT_SAFE = "/:@!$&'()*+,;=?-._~"
#: feedparser's "bozo" notes that do not make a feed unreadable.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_ATOM = ("{http://www.w3.org/2005/Atom}", "{http://purl.org/atom/ns#}")
_RSS1 = ("{http://purl.org/rss/1.0/}", "{http://my.netscape.com/rdf/simple/0.9/}")
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_HTML_TYPES = ("", "text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class Where:
    """Where a post is checked: a page (``item`` None) or a feed that should list ``item``."""

    url: str
    item: str | None = None


def locate(post_id: str) -> Where:
    """Where the post with this id is checked (any id this adapter ever gave, old ones too)."""
    feed, mark, key = post_id.rpartition(FEED_ITEM_MARK)
    if mark:
        return Where(feed.partition("#")[0], unquote(key))
    page, mark, _ = post_id.rpartition(GUID_MARK)
    return Where((page if mark else post_id).partition("#")[0])


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a feed, as the feed declares it, before it becomes a post."""

    label: str  # "item 3"
    guid: str | None  # the identity the feed gives it
    guid_url: str | None  # that guid resolved like a link (to tell whether it is the page)
    page: str | None  # its own page as the format declares it (absolute http(s))
    title: str
    text: str
    author: str | None
    time: str | None  # as written
    media: tuple[tuple[str, str], ...] = ()
    problem: str | None = None  # why it cannot be read at all


@dataclass(frozen=True, slots=True)
class Declared:
    """What the XML itself says of an item's identity and links."""

    guid: str | None
    guid_url: str | None
    permalink: str | None
    link: str | None


@dataclass(frozen=True, slots=True)
class Parsed:
    """A feed read once: what the listing says, and each item by its guid (or link)."""

    discovery: Discovery
    items: dict[str, tuple[SeenPost, tuple[tuple[str, str], ...]]]


class RssPlatform:
    name = "rss"
    #: An item's page may redirect; the hops are logged and the page judged where it ended
    #: (a page reached on another site is never the item, and never a removal).
    redirects: Literal["public"] = "public"

    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = (("User-Agent", USER_AGENT),)
        self._parsed: OrderedDict[tuple[str, str], Parsed] = OrderedDict()

    def parse_target(self, text: str) -> Target:
        kind, _, key = text.partition("/")
        if kind == "feed" and key and not key.startswith("/"):
            scheme = urlsplit(key).scheme
            if scheme in ("http", "https") or (not scheme and "://" not in key):
                return Target(self.name, "feed", key)
        raise TargetError(
            f"rss target {text!r} not understood; use rss:feed/<http(s) URL of the feed> "
            "or rss:feed/<path under the configured base URL>"
        )

    def feed_url(self, target: Target) -> str:
        if urlsplit(target.key).scheme:
            return target.key
        return f"{self.base_url}/{target.key}"

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        return Request("GET", self.feed_url(target), (), self._feed_headers())

    def _feed_headers(self) -> tuple[tuple[str, str], ...]:
        return (*self._headers, ("Accept", FEED_ACCEPT))

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        return self._read_feed(target.key, capture).discovery

    def _read_feed(self, feed_name: str, capture: Capture) -> Parsed:
        problem = answer_problem(capture)
        if problem is None and not 200 <= (capture.status or 0) < 300:
            problem = f"feed answered HTTP {capture.status} (never a removal of its items)"
        if problem is None and _html_instead(capture):
            problem = "HTML page instead of a feed (captcha, login wall or error page)"
        if problem is not None:
            return Parsed(Discovery((), None, Status.UNREACHABLE, problem), {})
        key = (capture.request.url, capture.body_sha256)
        cached = self._parsed.get(key)
        if cached is not None:  # an unchanged feed (most polls): parsing it again is slow
            return cached
        parsed = self._parse_feed(feed_name, capture)
        if parsed.discovery.status is Status.LIVE:
            self._parsed[key] = parsed
            while len(self._parsed) > FEED_CACHE:
                self._parsed.popitem(last=False)
        return parsed

    def _parse_feed(self, feed_name: str, capture: Capture) -> Parsed:
        url = capture.request.url.partition("#")[0]
        read = _read_json_feed(capture, url) if _json_body(capture) else _read_xml_feed(capture)
        if isinstance(read, str):
            return Parsed(Discovery((), None, Status.UNREACHABLE, read), {})
        entries, homes, notes = read
        return _listed(entries, url, homes, feed_name, capture.fetched_at, notes)

    def check_request(self, post: PostRef) -> Request:
        where = locate(post.post_id)
        if where.item is not None:
            return Request("GET", where.url, (), self._feed_headers())
        return Request("GET", where.url, (), (*self._headers, ("Accept", PAGE_ACCEPT)))

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        problem = answer_problem(capture)
        if problem is not None:
            return transient(problem)
        where = locate(post.post_id)
        if where.item is not None:
            return self._in_feed(where, capture)
        status = capture.status or 0
        reached = capture.request.url.partition("#")[0]
        if (status in GONE or status == 451) and not same_url(reached, where.url):
            return transient(
                f"{reached}, where the item's page led, answered HTTP {status}: a page reached "
                "through a redirect is never a removal"
            )
        if status in GONE:
            return Observation(
                Status.REMOVED_UNKNOWN,
                code=str(status),
                detail=f"item page answers {GONE[status]}: gone, and a page does not say "
                "who removed it",
                confirm_first=True,  # a page's 404 can be a moment's (a deploy, a cache)
            )
        if status == 451:
            return Observation(
                Status.CENSORED,
                code="451",
                detail="item page answers 451 Unavailable For Legal Reasons (RFC 7725)",
            )
        if not 200 <= status < 300:
            return transient(f"item page answered HTTP {status} (not a removal signal)")
        return _page(where.url, capture)

    def _in_feed(self, where: Where, capture: Capture) -> Observation:
        """An item with no page of its own: live while its feed lists it."""
        assert where.item is not None
        parsed = self._read_feed(where.url, capture)
        if parsed.discovery.status is not Status.LIVE:
            return transient(f"its feed could not be read: {parsed.discovery.detail}")
        found = parsed.items.get(where.item)
        if found is None:
            return transient(
                "no longer in its feed (it has no page of its own to check): a feed lists only "
                "its latest items, so this is never a removal",
                code=LEFT_FEED,
            )
        detail = join_detail("listed in its feed (no page of its own)", media_detail(found[1]))
        return Observation(Status.LIVE, detail=detail)


def _page(url: str, capture: Capture) -> Observation:
    """A 2xx answer for the item's page: is it the item?"""
    content_type = (capture.header("Content-Type") or "").lower()
    if "json" in content_type or _start(capture).startswith((b"{", b"[", b"null")):
        return transient(f"JSON instead of a web page ({content_type or 'no Content-Type'})")
    reached = capture.request.url.partition("#")[0]
    redirected = not same_url(reached, url)
    if redirected and not same_site(reached, url):
        return transient(f"the item's page led to another site ({reached}): not the item")
    if redirected and is_root(reached) and not is_root(url):
        return transient(f"the item's page led to the site's home page ({reached}): not the item")
    page = read_page(capture)
    blocked = challenge(page, capture)
    if blocked is not None:
        return transient(blocked)
    media = media_detail(page.media)
    if page.canonical is not None:
        if same_url(page.canonical, url):
            detail = f"item page answers; its canonical URL ({page.canonical_from}) is the item's"
            return Observation(Status.LIVE, detail=join_detail(detail, media))
        if redirected and same_url(page.canonical, reached):
            detail = (
                f"item page answers at {reached}, where the item's URL led within the site; "
                f"its canonical URL ({page.canonical_from}) is that address"
            )
            return Observation(Status.LIVE, detail=join_detail(detail, media))
        return transient(
            f"page names another canonical URL ({page.canonical}, {page.canonical_from}): "
            "not the item"
        )
    if page.empty:
        return transient("item page answered with an empty body")
    if redirected:
        return transient(
            f"the item's page led to {reached}, which names no canonical URL: not proof that "
            "it is the item"
        )
    return Observation(
        Status.LIVE, detail=join_detail("item page answers (it names no canonical URL)", media)
    )


# -- from entries to a listing ----------------------------------------------------------------


def _listed(
    entries: list[Entry],
    feed_url: str,
    homes: list[str],
    feed_name: str,
    fetched_at: float,
    notes: list[str],
) -> Parsed:
    posts: list[SeenPost] = []
    unreadable: list[str] = []
    items: dict[str, tuple[SeenPost, tuple[tuple[str, str], ...]]] = {}
    first: dict[str, tuple[str, SeenPost]] = {}  # post id → the label and post that gave it
    undated = by_link = in_feed = repeated = 0
    for entry in entries:
        key = entry.guid or entry.page
        if entry.problem is not None:
            unreadable.append(f"{entry.label}: {entry.problem}")
            continue
        if key is None:
            unreadable.append(
                f"{entry.label} ({entry.title[:60]!r}): no guid/id and no link, nothing "
                "identifies it"
            )
            continue
        if entry.time is None:
            interval: Interval | None = (fetched_at, None)
        else:
            interval = feed_time(entry.time)
        if interval is None:
            unreadable.append(f"{entry.label} ({key}): date {entry.time!r} not understood")
            continue
        own = entry.page is not None and any(
            same_site(entry.page, home) for home in (feed_url, *homes)
        )
        if own:
            assert entry.page is not None
            plain = entry.guid is None or entry.page in (entry.guid, entry.guid_url)
            post_id = entry.page if plain else entry.page + GUID_MARK + _quoted(entry.guid)
        else:
            post_id = feed_url + FEED_ITEM_MARK + _quoted(key)
        text = "\n".join(part for part in (entry.title, entry.text) if part)
        post = SeenPost(
            post_id, entry.author or feed_name, interval[0], text, published_until=interval[1]
        )
        if post_id in first:
            label, earlier = first[post_id]
            if earlier == post:
                repeated += 1  # the same item listed twice: one post
            else:
                unreadable.append(
                    f"{entry.label} ({key}): another item with the id of {label}, "
                    "which alone is watched"
                )
            continue
        first[post_id] = (entry.label, post)
        undated += entry.time is None
        by_link += entry.guid is None
        in_feed += not own
        posts.append(post)
        items.setdefault(key, (post, entry.media))
    discovery = listing(posts, None, unreadable=unreadable)
    if discovery.status is Status.LIVE:
        counted = [
            f"{undated} undated (dated when the feed was read)" if undated else "",
            f"{by_link} without a guid or id (known by their link)" if by_link else "",
            f"{in_feed} checked in the feed (no page of their own on the feed's site)"
            if in_feed
            else "",
            f"{repeated} listed twice" if repeated else "",
        ]
        detail = join_detail(discovery.detail, *counted, *notes)
        discovery = dataclasses.replace(discovery, detail=detail)
    return Parsed(discovery, items)


def _quoted(text: str | None) -> str:
    return quote(text or "", safe=_FRAGMENT_SAFE)


# -- RSS, RDF and Atom ---------------------------------------------------------------------------


def _read_xml_feed(capture: Capture) -> tuple[list[Entry], list[str], list[str]] | str:
    url = capture.request.url.partition("#")[0]
    parsed = feedparser.parse(
        capture.body,
        response_headers={
            "content-location": url,
            "content-type": capture.header("Content-Type") or "application/xml",
        },
    )
    error = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(error, _HARMLESS):
        name = type(error).__name__ if error is not None else "unknown"
        return f"not a well-formed feed ({name})"
    version = str(parsed.get("version") or "")
    if not version:
        return "not an RSS, Atom or JSON feed"
    notes: list[str] = []
    root = _xml(capture.body, str(parsed.get("encoding") or "utf-8"))
    declared = _declared(root, url) if root is not None else None
    if declared is None or len(declared) != len(parsed.entries):
        notes.append("guids and links as feedparser reads them (the XML could not be re-read)")
        declared = [_declared_by_feedparser(entry) for entry in parsed.entries]
    feed = parsed.get("feed") or {}
    inherited = _name(feed) if version.startswith("atom") else None
    homes = [str(feed.get("link") or "")]
    homes += [
        str(link.get("href") or "") for link in feed.get("links") or () if link.get("rel") == "self"
    ]
    homes += [_based(url, root)] if root is not None else []
    entries = []
    for index, (entry, ids) in enumerate(zip(parsed.entries, declared, strict=True), start=1):
        page = ids.permalink or ids.link
        author = _name(entry)
        if author is None and version.startswith("atom"):
            author = _name(entry.get("source") or {}) or inherited
        entries.append(
            Entry(
                label=f"item {index}",
                guid=ids.guid,
                guid_url=ids.guid_url,
                page=page,
                title=html_text(str(entry.get("title") or "")),
                text=_entry_text(entry),
                author=author,
                time=_entry_time(entry),
                media=tuple(_entry_media(entry, url)),
            )
        )
    return entries, [home for home in homes if _absolute(home)], notes


def _entry_time(entry: Any) -> str | None:
    for key in ("published", "created", "updated"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _entry_text(entry: Any) -> str:
    """The item's full content, else its summary (cloudblog.rss has an empty content beside
    its description)."""
    contents = [str(content.get("value") or "") for content in entry.get("content") or ()]
    raw = next((text for text in contents if text.strip()), None)
    return html_text(raw if raw is not None else str(entry.get("summary") or ""))


def _entry_media(entry: Any, base: str) -> Iterator[tuple[str, str]]:
    for item in entry.get("enclosures") or ():
        kind = str(item.get("type") or "").split("/")[0]
        if item.get("href") and kind in ("image", "video"):
            yield kind, urljoin(base, str(item["href"]))
    for item in entry.get("media_content") or ():
        kind = str(item.get("medium") or item.get("type") or "").split("/")[0]
        if item.get("url") and kind in ("image", "video"):
            yield kind, urljoin(base, str(item["url"]))


def _name(holder: Any) -> str | None:
    """An author's name (else e-mail, else what the feed wrote) as feedparser reads it."""
    detail = holder.get("author_detail") or {}
    for value in (detail.get("name"), detail.get("email"), holder.get("author")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _declared_by_feedparser(entry: Any) -> Declared:
    guid = _stripped(entry.get("id"))
    return Declared(guid, guid, None, _absolute(str(entry.get("link") or "")))


def _xml(body: bytes, encoding: str) -> ElementTree.Element | None:
    """The feed's XML, decoded as feedparser decoded it (expat alone reads no GB2312)."""
    try:
        return ElementTree.fromstring(body.decode(encoding).lstrip("\ufeff"))
    except (LookupError, UnicodeDecodeError, ElementTree.ParseError):
        return None


def _declared(root: ElementTree.Element, url: str) -> list[Declared] | None:
    """Each item's guid, whether it is a permalink, and its link, from the XML itself."""
    if root.tag == "rss" or root.tag.endswith("}rss"):  # Userland's RSS 2 had a namespace
        namespace = root.tag[: -len("rss")]
        found = _found(root, url, {f"{namespace}item"})
        return [_rss_item(item, base, namespace) for item, base in found]
    if root.tag == f"{_RDF}RDF":
        tags = {f"{namespace}item" for namespace in _RSS1}
        return [_rdf_item(item, base) for item, base in _found(root, url, tags)]
    if root.tag in {f"{namespace}feed" for namespace in _ATOM}:
        namespace = root.tag[: -len("feed")]
        found = _found(root, url, {f"{namespace}entry"})
        return [_atom_entry(entry, base, namespace) for entry, base in found]
    return None


def _found(
    root: ElementTree.Element, url: str, tags: set[str]
) -> list[tuple[ElementTree.Element, str]]:
    """The elements named ``tags`` in document order, each with its ``xml:base``."""
    found = []
    stack = [(root, url)]
    while stack:
        element, base = stack.pop()
        base = _based(base, element)
        if element.tag in tags:
            found.append((element, base))
            continue
        stack.extend((child, base) for child in reversed(element))
    return found


def _based(base: str, element: ElementTree.Element | None) -> str:
    declared = element.get(_XML_BASE) if element is not None else None
    return urljoin(base, declared.strip()) if declared else base


def _rss_item(item: ElementTree.Element, base: str, namespace: str) -> Declared:
    guid_element = item.find(f"{namespace}guid")
    guid = _stripped(guid_element.text if guid_element is not None else None)
    permalink = None
    guid_url = None
    if guid is not None and guid_element is not None:
        flag = next(
            (v for k, v in guid_element.attrib.items() if k.lower() == "ispermalink"), "true"
        )
        if flag.strip().lower() != "false":
            permalink = _absolute(guid)  # a relative "permalink" is no address: never fetched
        guid_url = urljoin(_based(base, guid_element), guid)
    link = _linked(base, item.find(f"{namespace}link"))
    return Declared(guid, guid_url, permalink, link)


def _rdf_item(item: ElementTree.Element, base: str) -> Declared:
    guid = _stripped(item.get(f"{_RDF}about"))
    link_element = next(
        (found for ns in _RSS1 if (found := item.find(f"{ns}link")) is not None), None
    )
    return Declared(guid, urljoin(base, guid) if guid else None, None, _linked(base, link_element))


def _atom_entry(entry: ElementTree.Element, base: str, namespace: str) -> Declared:
    id_element = entry.find(f"{namespace}id")
    guid = _stripped(id_element.text if id_element is not None else None)
    alternates = []
    for link in entry.findall(f"{namespace}link"):
        rel = (link.get("rel") or "alternate").strip().lower().rsplit("/", 1)[-1]
        href = (link.get("href") or "").strip()
        resolved = _absolute(urljoin(_based(base, link), href)) if href else None
        if rel == "alternate" and resolved is not None:
            kind = (link.get("type") or "").strip().lower()
            alternates.append((kind not in _HTML_TYPES, resolved))
    page = min(alternates, key=lambda found: found[0])[1] if alternates else None
    guid_url = urljoin(_based(base, id_element), guid) if guid else None
    return Declared(guid, guid_url, None, page)


def _linked(base: str, element: ElementTree.Element | None) -> str | None:
    text = _stripped(element.text if element is not None else None)
    return _absolute(urljoin(_based(base, element), text)) if text else None


def _stripped(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None


def _absolute(url: str) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host, else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and site(url) else None


# -- JSON Feed -----------------------------------------------------------------------------------


def _json_body(capture: Capture) -> bool:
    return _start(capture).startswith((b"{", b"["))


def _start(capture: Capture) -> bytes:
    return capture.body[:256].lstrip(b"\xef\xbb\xbf \t\r\n").lower()


def _html_instead(capture: Capture) -> bool:
    """An HTML page (a captcha, a login wall, an error page) where a feed was asked for; a feed
    a server labels ``text/html`` is still read."""
    start = _start(capture)
    if start.startswith((b"<!doctype html", b"<html")):
        return True
    feed_like = start.startswith((b"{", b"[", b"<?xml", b"<rss", b"<feed", b"<rdf:rdf"))
    return looks_like_html(capture) and not feed_like


def _read_json_feed(capture: Capture, url: str) -> tuple[list[Entry], list[str], list[str]] | str:
    """JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    try:
        feed = json.loads(capture.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"malformed JSON ({type(exc).__name__}: {exc})"
    if not isinstance(feed, dict):
        return f"JSON {type(feed).__name__} instead of a JSON Feed object"
    version = feed.get("version")
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSIONS):
        keys = ", ".join(sorted(str(key) for key in feed)[:8])
        return f"JSON but not a JSON Feed: no jsonfeed.org version (top-level keys: {keys})"
    items = feed.get("items")
    if not isinstance(items, list):
        return "JSON Feed without an items list"
    inherited = _json_author(feed)
    homes = [urljoin(url, feed[key]) for key in ("home_page_url", "feed_url") if _text(feed, key)]
    entries = []
    for index, item in enumerate(items, start=1):
        label = f"item {index}"
        if not isinstance(item, dict):
            problem = f"a JSON {type(item).__name__} instead of an item object"
            entries.append(Entry(label, None, None, None, "", "", None, None, (), problem))
            continue
        guid = _json_id(item.get("id"))
        page = _absolute(urljoin(url, item["url"])) if _text(item, "url") else None
        body = _text(item, "content_html")
        text = html_text(body) if body else _text(item, "content_text") or _text(item, "summary")
        media = [("image", item.get("image")), ("image", item.get("banner_image"))]
        for attachment in item.get("attachments") or ():
            if isinstance(attachment, dict):
                kind = str(attachment.get("mime_type") or "").split("/")[0]
                media.append((kind, attachment.get("url")))
        entries.append(
            Entry(
                label=label,
                guid=guid,
                guid_url=urljoin(url, guid) if guid else None,
                page=page,
                title=html_text(_text(item, "title") or ""),
                text=(text or "").strip(),
                author=_json_author(item) or inherited,
                time=_text(item, "date_published") or _text(item, "date_modified"),
                media=tuple(
                    (kind, urljoin(url, ref))
                    for kind, ref in media
                    if kind in ("image", "video") and isinstance(ref, str) and ref.strip()
                ),
            )
        )
    return entries, [home for home in homes if _absolute(home)], []


def _json_id(value: object) -> str | None:
    """JSON Feed: an ``id`` given as a number is read as a string."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _stripped(value)


def _json_author(holder: dict[str, Any]) -> str | None:
    """JSON Feed 1.1 ``authors`` (the first), else 1.0 ``author``: its name, else its URL."""
    authors = holder.get("authors")
    candidates = [authors[0]] if isinstance(authors, list) and authors else []
    candidates.append(holder.get("author"))
    for author in candidates:
        if isinstance(author, dict):
            name = _text(author, "name") or _text(author, "url")
            if name:
                return name
    return None


def _text(holder: dict[str, Any], key: str) -> str | None:
    return _stripped(holder.get(key))
