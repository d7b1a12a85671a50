"""The Atom feed (RFC 4287) of detected removals.

Built with ElementTree, so every text is escaped by the serialiser; characters XML 1.0 cannot
carry at all (control characters a hostile post may contain) are dropped first, or one post
could make the whole feed unreadable. Entries carry text only (``type="text"``), never HTML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from memoryhole.analysis.overview import KIND_LABELS
from memoryhole.times import utc_datetime
from memoryhole.web.feed import FeedItem

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", value)


def _when(epoch: float) -> str:
    moment = utc_datetime(epoch) or datetime.fromtimestamp(0, UTC)  # never crash the feed
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def atom_feed(
    items: Sequence[FeedItem],
    *,
    feed_id: str,
    title: str,
    self_url: str,
    site_url: str,
    post_url: Callable[[FeedItem], str],
    updated: float,
) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    _add(feed, "updated", _when(max([updated, *(i.first_seen_removed_at for i in items)])))
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=site_url)
    _add(feed, "generator", "memoryhole")
    author = _add(feed, "author")
    _add(author, "name", "memoryhole observatory")
    for item in items:
        entry = _add(feed, "entry")
        label = KIND_LABELS.get(item.kind, item.kind)
        excerpt = " ".join(item.text.split())
        if len(excerpt) > 80:
            excerpt = excerpt[:79] + "…"
        _add(entry, "id", f"{feed_id}/{item.platform}/{item.post_id}")
        _add(entry, "title", f"{label}: {excerpt}")
        _add(entry, "updated", _when(item.first_seen_removed_at))
        _add(entry, "published", _when(item.first_seen_removed_at))
        _add(entry, "link", rel="alternate", type="text/html", href=post_url(item))
        _add(entry, "category", term=item.kind, label=label)
        entry_author = _add(entry, "author")
        _add(entry_author, "name", item.author)
        alive = (
            f"last seen live {_when(item.last_seen_alive_at)}"
            if item.last_seen_alive_at is not None
            else "never seen live by a check"
        )
        summary = (
            f"{label} on {item.platform} (post {item.post_id}, author {item.author}, published "
            f"{_when(item.published_at)}): {alive}, first seen removed "
            f"{_when(item.first_seen_removed_at)}. Platform's answer: {item.signal}.\n\n{item.text}"
        )
        _add(entry, "content", summary, type="text")
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode").encode()
    )
