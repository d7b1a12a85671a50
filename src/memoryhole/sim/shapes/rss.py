"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds with item pages (``sim serve --platform rss``).

- ``GET /feeds/all.rss``, ``/feeds/all.atom`` and ``/feeds/all.json``: the 50 newest visible
  items, newest first; ``/feeds/user/{id}.rss``, ``.atom`` and ``.json``: one author's (404
  once the account is suspended).
- ``GET /posts/{id}``: the item's HTML page (with ``<link rel="canonical">`` and ``og:image``
  when it has media). Once the item is removed: ``410 Gone`` if it was censored, ``404 Not
  Found`` if its author deleted it or the account was suspended (a web site says no more).

As real feeds do: RSS items carry a ``<guid isPermaLink="true">`` that is the item's page (as
cloudblog.rss, rubenerd.rss and theomnishow.rss in tests/data/real/feeds do), a ``pubDate`` in
RFC 822 and a ``dc:creator``; Atom entries a ``tag:`` id that is not a URL (as Blogger's and
TypePad's do), a ``rel="alternate"`` link and ``published``/``updated``; JSON Feed items an
``id`` that is not a URL, a ``url`` and 1.1 ``authors`` (as 3960.json does).

Item links (and the RSS guids that repeat them) are relative (``/posts/{id}``): the simulator
does not know the address it is reached at; feed readers (and feedparser) resolve them
against the feed's URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from memoryhole.sim.shapes import HTML_HEADERS, Answer, iso, media_of, newest

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

FEED_SIZE = 50
RSS_HEADERS = (("content-type", "application/rss+xml; charset=utf-8"),)
ATOM_HEADERS = (("content-type", "application/atom+xml; charset=utf-8"),)
JSON_FEED_HEADERS = (("content-type", "application/feed+json; charset=utf-8"),)

_FEED = re.compile(r"^/feeds/(?:all|user/([^/]+))\.(rss|atom|json)$")
_POST = re.compile(r"^/posts/([^/]+)$")

GONE_PAGE = (
    "<!DOCTYPE html><html><head><title>410 Gone</title></head>"
    "<body><h1>Gone</h1><p>This post has been removed.</p></body></html>"
)
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    "<body><h1>Not Found</h1></body></html>"
)


def rfc822(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


def title_of(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:40]


def rss(items: list[tuple[ScenarioPost, str]], title: str, media_base: str) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>{escape(title)}</title><link>/</link>",
        "<description>memoryhole simulator</description>",
    ]
    for post, text in items:
        enclosures = "".join(
            f'<enclosure url={quoteattr(url)} type={quoteattr(_mime(kind))} length="0"/>'
            for kind, url in media_of(post, media_base)
        )
        page = f"/posts/{escape(post.post_id)}"
        parts.append(
            f"<item><title>{escape(title_of(text))}</title><link>{page}</link>"
            f'<guid isPermaLink="true">{page}</guid>'
            f"<pubDate>{rfc822(post.published_at)}</pubDate>"
            f"<dc:creator>{escape(post.author_id)}</dc:creator>"
            f"<description>{escape(escape(text))}</description>{enclosures}</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def atom(items: list[tuple[ScenarioPost, str]], title: str, now: float, media_base: str) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><id>urn:memoryhole-sim:feed</id>",
        f"<updated>{iso(now)}</updated>",
    ]
    for post, text in items:
        media = "".join(
            f'<link rel="enclosure" href={quoteattr(url)} type={quoteattr(_mime(kind))}/>'
            for kind, url in media_of(post, media_base)
        )
        parts.append(
            f"<entry><title>{escape(title_of(text))}</title>"
            f'<link rel="alternate" href="/posts/{escape(post.post_id)}"/>{media}'
            f"<id>tag:memoryhole-sim,2024:post-{escape(post.post_id)}</id>"
            f"<published>{iso(post.published_at)}</published>"
            f"<updated>{iso(post.published_at)}</updated>"
            f"<author><name>{escape(post.author_id)}</name></author>"
            f'<content type="html">{escape(escape(text))}</content></entry>'
        )
    parts.append("</feed>")
    return "".join(parts).encode()


def json_feed(
    items: list[tuple[ScenarioPost, str]], title: str, path: str, media_base: str
) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    entries = []
    for post, text in items:
        entry: dict[str, object] = {
            "id": post.post_id,
            "url": f"/posts/{post.post_id}",
            "title": title_of(text),
            "content_text": text,
            "date_published": iso(post.published_at),
            "authors": [{"name": post.author_id}],
        }
        attachments = [
            {"url": url, "mime_type": _mime(kind)} for kind, url in media_of(post, media_base)
        ]
        if attachments:
            entry["attachments"] = attachments
        entries.append(entry)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": "/",
        "feed_url": path,
        "items": entries,
    }
    return json.dumps(feed, ensure_ascii=False).encode()


def page(post: ScenarioPost, text: str, media_base: str) -> bytes:
    url = f"/posts/{post.post_id}"
    meta = "".join(
        f"<meta property={quoteattr('og:' + kind)} content={quoteattr(media)}>"
        for kind, media in media_of(post, media_base)
    )
    body = "".join(f"<p>{escape(line)}</p>" for line in text.split("\n"))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title_of(text))}</title>"
        f'<link rel="canonical" href={quoteattr(url)}>{meta}</head>'
        f"<body><article><h1>{escape(title_of(text))}</h1>{body}"
        f"<footer>{escape(post.author_id)}</footer></article></body></html>"
    ).encode()


def _mime(kind: str) -> str:
    return "video/mp4" if kind == "video" else "image/jpeg"


class RssShape:
    name = "rss"

    def handle(
        self, sim: SimPlatform, method: str, path: str, query: Mapping[str, str], now: float
    ) -> Answer:
        if method != "GET":
            return 405, HTML_HEADERS, b"<html><body>405 Method Not Allowed</body></html>"
        if match := _FEED.match(path):
            author, kind = match.group(1), match.group(2)
            if author is not None and (
                author not in sim.by_author or sim.is_suspended(author, now)
            ):
                return 404, HTML_HEADERS, NOT_FOUND_PAGE.encode()
            indices = sim.by_author[author] if author is not None else range(len(sim.posts))
            chosen = [sim.posts[i] for i in newest(sim, indices, now, FEED_SIZE)]
            items = [(post, sim.text_at(post, now)[1]) for post in chosen]
            title = f"memoryhole simulator: {author or 'all posts'}"
            if kind == "rss":
                return 200, RSS_HEADERS, rss(items, title, sim.media_base)
            if kind == "json":
                return 200, JSON_FEED_HEADERS, json_feed(items, title, path, sim.media_base)
            return 200, ATOM_HEADERS, atom(items, title, now, sim.media_base)
        if match := _POST.match(path):
            post = sim.by_id.get(match.group(1))
            if post is None or post.published_at > now:
                return 404, HTML_HEADERS, NOT_FOUND_PAGE.encode()
            removal = sim.removal_at(post, now)
            if removal == "censored":
                return 410, HTML_HEADERS, GONE_PAGE.encode()
            if removal is not None:
                return 404, HTML_HEADERS, NOT_FOUND_PAGE.encode()
            return 200, HTML_HEADERS, page(post, sim.text_at(post, now)[1], sim.media_base)
        return 404, HTML_HEADERS, NOT_FOUND_PAGE.encode()
