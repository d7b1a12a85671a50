"""Small helpers shared by the Reddit, Mastodon, RSS and generic JSON adapters (all sans-IO).

- ``html_text``: the text a reader sees in an HTML fragment (tags out, entities decoded).
- ``answer_problem``: why an answer that is not JSON (a feed, a web page) is not definitive.
- ``media_detail``: image/video references, kept in an observation's detail (never fetched here).
- ``with_note`` / ``note_of``: a client-side note in a request URL's fragment. Fragments are never
  sent (HTTP clients strip them) but stay in the recorded URL, so a capture says by itself why it
  was asked for: an account lookup that follows a post's removal carries ``#after=<signal>``.
- ``AccountFollowUps``: the posts whose next check asks about their author's account first.
- ``legal_block``: a 451 Unavailable For Legal Reasons (RFC 7725) as ``withheld``.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from memoryhole.model import Capture, Observation, Status, withheld_detail

_V = TypeVar("_V")

_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6])\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NOTE_KEY = "after="

#: At most this many media references in one observation's detail.
MAX_MEDIA = 8


def html_text(raw: str) -> str:
    """What a reader sees: block ends become line breaks, other tags go, entities are decoded."""
    text = html.unescape(_TAG.sub("", _BREAK.sub("\n", raw)))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def answer_problem(capture: Capture) -> str | None:
    """Why an answer is not a definitive HTTP answer at all, or None (any status may follow)."""
    if capture.status is None:
        return f"no response: {capture.error or 'unknown transport error'}"
    if capture.status == 429:
        retry = capture.header("Retry-After")
        return f"rate limited (429, Retry-After {retry})" if retry else "rate limited (429)"
    if capture.status >= 500:
        return f"server error {capture.status}"
    return None


def looks_like_html(capture: Capture) -> bool:
    content_type = (capture.header("Content-Type") or "").lower()
    head = capture.body[:256].lstrip().lower()
    return "html" in content_type or head.startswith((b"<!doctype html", b"<html"))


def media_detail(refs: Iterable[tuple[str, str]]) -> str:
    """``"media: image https://…, video https://…"`` (at most ``MAX_MEDIA``), or ``""``."""
    items = [f"{kind} {url}" for kind, url in refs if url]
    if not items:
        return ""
    extra = f", +{len(items) - MAX_MEDIA} more" if len(items) > MAX_MEDIA else ""
    return "media: " + ", ".join(items[:MAX_MEDIA]) + extra


def media_refs(detail: str) -> list[tuple[str, str]]:
    """The references ``media_detail`` wrote into an observation's detail: ``[(kind, url)]``
    (the inverse; at most ``MAX_MEDIA``, the ``+N more`` are not named)."""
    for part in detail.split("; "):
        if part.startswith("media: "):
            refs = []
            for item in part[len("media: ") :].split(", "):
                kind, _, url = item.partition(" ")
                if url and not kind.startswith("+"):
                    refs.append((kind, url))
            return refs
    return []


def join_detail(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def parse_iso8601(value: object) -> float | None:
    """``2024-11-23T06:05:00.000Z`` (or any ISO 8601 with an offset) → epoch seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # a time without a zone is not a point in time
    return parsed.timestamp()


_BLOCKED_BY = re.compile(r'<([^>]*)>\s*;[^,]*rel="?blocked-by"?', re.IGNORECASE)


def legal_block(capture: Capture) -> Observation | None:
    """A ``451 Unavailable For Legal Reasons`` (RFC 7725) as ``withheld`` (code ``451``): a
    legal block where the request came from (the platform's, or a network's on a state's
    order), not a removal of the post. The blocker its ``Link: rel="blocked-by"`` names is kept
    in the detail. None for any other answer."""
    if capture.status != 451:
        return None
    said = "451 Unavailable For Legal Reasons"
    blocker = _BLOCKED_BY.search(capture.header("Link") or "")
    if blocker is not None:
        said += f" (blocked by {blocker.group(1)})"
    return Observation(Status.WITHHELD, code="451", detail=withheld_detail(said))


def with_note(url: str, note: str) -> str:
    return f"{url}#{_NOTE_KEY}{note}"


def note_of(url: str) -> str | None:
    fragment = urlsplit(url).fragment
    return unquote(fragment[len(_NOTE_KEY) :]) if fragment.startswith(_NOTE_KEY) else None


def url_path(url: str) -> str:
    return urlsplit(url).path


class AccountFollowUps:
    """Which posts' next check asks about their author's account first, and what it said.

    A post gone with a signal that an account suspension also gives is followed up once per
    signal: ``want`` queues the lookup, ``take`` (the next ``check_request``) dequeues it,
    ``remember`` keeps the lookup's answer, so that later checks of the post, which give the
    same signal again, repeat the attributed answer (``answer``) instead of ``unknown``.
    ``retry`` queues it again after a failed lookup. Bounded (oldest entries go first) and in
    memory only: after a restart the post's next check asks again, one request lost at most.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._pending: OrderedDict[str, str] = OrderedDict()
        self._done: OrderedDict[str, tuple[str, Observation | None]] = OrderedDict()

    def want(self, post_id: str, note: str) -> None:
        done = self._done.get(post_id)
        if done is None or done[0] != note:
            self._put(self._pending, post_id, note)

    def take(self, post_id: str) -> str | None:
        note = self._pending.pop(post_id, None)
        if note is not None:
            self._put(self._done, post_id, (note, None))
        return note

    def retry(self, post_id: str, note: str) -> None:
        self._done.pop(post_id, None)
        self._put(self._pending, post_id, note)

    def remember(self, post_id: str, note: str, observation: Observation) -> None:
        self._put(self._done, post_id, (note, observation))

    def answer(self, post_id: str, note: str) -> Observation | None:
        done = self._done.get(post_id)
        return done[1] if done is not None and done[0] == note else None

    def _put(self, table: OrderedDict[str, _V], key: str, value: _V) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._limit:
            table.popitem(last=False)
