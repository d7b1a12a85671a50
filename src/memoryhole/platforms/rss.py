"""RSS and Atom feeds (parsed with feedparser): items that disappear, confirmed at their URL.

A feed is a window onto a site's latest items; an item that leaves it has usually just aged
out, so a missing item is never a removal. Each item is identified by its link and checked by
fetching that URL:

- ``404 Not Found`` or ``410 Gone`` → ``unknown``: the item is gone, and a web page does not say
  who removed it (the author, the site, a court order).
- ``451 Unavailable For Legal Reasons`` (RFC 7725) → ``censored``: the site says a legal demand
  made it unavailable.
- ``2xx`` → ``live`` when the page is the item: if it names a canonical URL (``<link
  rel="canonical">`` or ``og:url``) that must be the item's; without one, a page that looks like a
  bot challenge (captcha, "verify you are human") is not proof of anything.
- Anything else (401/403 paywalls and blocks, 429, 5xx, no answer) is UNREACHABLE.

A feed answer that is not a well-formed feed (HTML such as a captcha page, a truncated or
malformed document) is UNREACHABLE as a whole: a half-parsed feed could invent item links.
Edits are not tracked for feeds (an item page's HTML changes with every rendering), so live
checks carry no content hash. Targets: ``rss:feed/<absolute URL>``, or ``rss:feed/<path>``
resolved against the configured base URL (how the simulator is watched).
"""

from __future__ import annotations

import calendar
import re
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urljoin, urlsplit

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
from memoryhole.platforms._shared import (
    answer_problem,
    html_text,
    join_detail,
    looks_like_html,
    media_detail,
)
from memoryhole.platforms.base import transient

USER_AGENT = "memoryhole/0.1 (censorship research)"
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
FEED_CACHE = 32  # feeds whose last parse is kept, by URL and body hash
GONE = {404: "404 Not Found", 410: "410 Gone"}
#: Bodies past this size are only searched in their head for canonical links and challenges.
PAGE_HEAD = 256 * 1024

_CANONICAL = re.compile(
    rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical[\"']?[^>]*>|<meta\b[^>]*\bproperty\s*=\s*"
    rb"[\"']og:url[\"'][^>]*>",
    re.IGNORECASE,
)
_OG_MEDIA = re.compile(
    rb"<meta\b[^>]*\bproperty\s*=\s*[\"']og:(image|video)(?::url)?[\"'][^>]*>", re.IGNORECASE
)
_URL_ATTRIBUTE = re.compile(rb"\b(?:href|content)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_CHALLENGES = (
    b"captcha",
    "验证码".encode(),
    "安全验证".encode(),
    b"verify you are human",
    b"are you a robot",
    b"cf-challenge",
    b"challenge-platform",
    b"just a moment...",
    b"attention required",
)
#: feedparser's "bozo" notes that do not make a feed unreadable.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _comparable(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.netloc.lower(), parts.path.rstrip("/") or "/", parts.query


def _entry_time(entry: Any, fallback: float) -> float:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            return float(calendar.timegm(value))
    return fallback


def _entry_text(entry: Any) -> str:
    title = html_text(str(entry.get("title") or ""))
    contents = entry.get("content") or ()
    raw = contents[0].get("value", "") if contents else entry.get("summary", "")
    body = html_text(str(raw or ""))
    return f"{title}\n{body}" if body else title


def _entry_media(entry: Any, base: str) -> list[tuple[str, str]]:
    refs = []
    for item in entry.get("enclosures") or ():
        href = item.get("href")
        if href:
            kind = str(item.get("type") or "media").split("/")[0]
            refs.append((kind, urljoin(base, str(href))))
    for item in entry.get("media_content") or ():
        url = item.get("url")
        if url:
            kind = str(item.get("medium") or item.get("type") or "media").split("/")[0]
            refs.append((kind, urljoin(base, str(url))))
    return refs


class RssPlatform:
    name = "rss"

    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = (("User-Agent", USER_AGENT),)
        self._parsed: OrderedDict[tuple[str, str], Discovery] = OrderedDict()

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
        headers = (*self._headers, ("Accept", FEED_ACCEPT))
        return Request("GET", self.feed_url(target), (), headers)

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        problem = answer_problem(capture)
        if problem is None and not 200 <= (capture.status or 0) < 300:
            problem = f"feed answered HTTP {capture.status} (never a removal of its items)"
        if problem is None and looks_like_html(capture):
            problem = "HTML page instead of a feed (captcha, login wall or error page)"
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        url = capture.request.url
        key = (url, capture.body_sha256)
        cached = self._parsed.get(key)
        if cached is not None:  # an unchanged feed (most polls): parsing it again is slow
            return cached
        discovery = self._parse_feed(target, capture, url)
        if discovery.status is Status.LIVE:
            self._parsed[key] = discovery
            while len(self._parsed) > FEED_CACHE:
                self._parsed.popitem(last=False)
        return discovery

    def _parse_feed(self, target: Target, capture: Capture, url: str) -> Discovery:
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
            return Discovery((), None, Status.UNREACHABLE, f"not a well-formed feed ({name})")
        if not parsed.get("version"):
            return Discovery((), None, Status.UNREACHABLE, "not an RSS or Atom feed")
        posts = []
        skipped = 0
        for entry in parsed.entries:
            link = entry.get("link")
            if not link or urlsplit(str(link)).scheme not in ("http", "https"):
                skipped += 1  # an item without a URL cannot be confirmed: not watched
                continue
            author = str(entry.get("author") or target.key)
            published = _entry_time(entry, capture.fetched_at)
            posts.append(SeenPost(str(link), author, published, _entry_text(entry)))
        detail = f"{len(posts)} items listed" + (f", {skipped} without a link" if skipped else "")
        return Discovery(tuple(posts), None, detail=detail)

    def check_request(self, post: PostRef) -> Request:
        return Request("GET", post.post_id, (), self._headers)

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        problem = answer_problem(capture)
        if problem is not None:
            return transient(problem)
        status = capture.status or 0
        if status in GONE:
            return Observation(
                Status.REMOVED_UNKNOWN,
                code=str(status),
                detail=f"item page answers {GONE[status]}: gone, and a page does not say "
                "who removed it",
            )
        if status == 451:
            return Observation(
                Status.CENSORED,
                code="451",
                detail="item page answers 451 Unavailable For Legal Reasons (RFC 7725)",
            )
        if not 200 <= status < 300:
            return transient(f"item page answered HTTP {status} (not a removal signal)")
        return self._page(capture)

    def _page(self, capture: Capture) -> Observation:
        head = capture.body[:PAGE_HEAD]
        url = capture.request.url
        canonical = None
        for tag in _CANONICAL.finditer(head):
            found = _URL_ATTRIBUTE.search(tag.group(0))
            if found:
                canonical = urljoin(url, found.group(1).decode("utf-8", "replace").strip())
                break
        media = media_detail(_page_media(head, url))
        if canonical is not None:
            if _comparable(canonical) != _comparable(url):
                return transient(f"page names another canonical URL ({canonical}): not the item")
            detail = join_detail("item page answers; canonical URL matches", media)
            return Observation(Status.LIVE, detail=detail)
        lowered = head.lower()
        marker = next((m for m in _CHALLENGES if m in lowered), None)
        if marker is not None:
            return transient(f"page looks like a bot challenge ({marker.decode()!r})")
        return Observation(Status.LIVE, detail=join_detail("item page answers", media))


def _page_media(head: bytes, base: str) -> list[tuple[str, str]]:
    """The page's Open Graph image and video references (``og:image``, ``og:video``)."""
    refs = []
    for tag in _OG_MEDIA.finditer(head):
        found = _URL_ATTRIBUTE.search(tag.group(0))
        if found:
            url = urljoin(base, found.group(1).decode("utf-8", "replace").strip())
            refs.append((tag.group(1).decode().lower(), url))
    return refs
