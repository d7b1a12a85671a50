"""Bluesky's Jetstream as a listing: ``bluesky:stream`` (every post) or
``bluesky:stream/<did>,<did>…`` (those accounts' posts only, Jetstream's ``wantedDids``).

A poll is one slice of the stream: ``GET wss://…/subscribe?wantedCollections=app.bsky.feed.post
[&wantedDids=…][&cursor=<time_us>]``, read by the transport until ``STREAM_SLICE_EVENTS`` frames
or the stream goes quiet, and logged as one answer whose body holds every frame read, one JSON
object a line, byte for byte (so every event is in the evidence log). The next slice resumes
from the last frame's ``time_us`` (Jetstream replays from a cursor), after a restart too.

What a slice says: a ``create`` of a post is a new post (its URI, author DID, ``createdAt``
and text, as the record has them); a ``delete`` of a known post is that post's
``author_deleted`` (code ``commit-delete``: only the author's repo deletes a record; a
moderation takedown leaves the record and deletes nothing). Account events (``takendown``,
``deactivated``…) name an account, not a post: they are in the slice's logged bytes and its
detail, and each known visible post of that account is checked at once
(``Discovery.accounts_gone``): the posts' own checks (``getProfile``) attribute them. A
frame that cannot be read is counted unreadable, never skipped in silence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from memoryhole.model import Capture, Discovery, Notice, Request, SeenPost, Status, Target
from memoryhole.platforms._shared import parse_iso8601
from memoryhole.platforms.base import listing

JETSTREAM = "wss://jetstream2.us-east.bsky.network"
STREAM_PATH = "/subscribe"
#: Frames read in one slice; a full slice is read on at once (``more``).
STREAM_SLICE_EVENTS = 500
POST_COLLECTION = "app.bsky.feed.post"


def stream_url(base_url: str, local: bool) -> str:
    """Jetstream's address: a local simulator plays it at its own address (as WebSocket)."""
    if not local:
        return JETSTREAM
    if base_url.startswith("https://"):
        return "wss://" + base_url.removeprefix("https://")
    return "ws://" + base_url.removeprefix("http://")


def stream_request(url: str, target: Target, cursor: str | None) -> Request:
    params: list[tuple[str, str]] = [("wantedCollections", POST_COLLECTION)]
    params += [("wantedDids", did) for did in target.key.split(",") if did]
    if cursor:
        params.append(("cursor", cursor))
    return Request("GET", f"{url}{STREAM_PATH}", tuple(params))


def parse_stream(capture: Capture, parse_event: Callable[[bytes], Any]) -> Discovery:
    """A slice of the stream as a listing (``parse_event``: ``bluesky.parse_jetstream_event``,
    a ``JetstreamEvent`` or ``ValueError``)."""
    if capture.error or capture.status not in (101, 200):
        said = capture.error or f"HTTP {capture.status}"
        return Discovery((), None, Status.UNREACHABLE, f"the stream did not open ({said})")
    asked = dict(capture.request.params).get("cursor")
    posts: list[SeenPost] = []
    notices: list[Notice] = []
    unreadable: list[str] = []
    accounts: Counter[str] = Counter()
    gone: set[str] = set()
    last: int | None = None
    lines = [line for line in capture.body.split(b"\n") if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            event = parse_event(line)
        except ValueError as exc:
            unreadable.append(f"frame {number}: {exc}")
            continue
        last = event.time_us if last is None else max(last, event.time_us)
        if event.kind == "account" and event.active is False:
            accounts[event.status or "inactive"] += 1
            gone.add(event.did)
        if event.kind != "commit" or event.collection != POST_COLLECTION or event.uri is None:
            continue
        if event.operation == "create":
            seen = _created(event.uri, event.did, event.record, event.at)
            if seen is None:
                unreadable.append(f"frame {number}: a post record without its text")
            else:
                posts.append(seen)
        notice = event.notice()
        if notice is not None:
            notices.append(notice)
    cursor = str(last) if last is not None else asked
    found = listing(
        posts,
        cursor,
        unreadable=unreadable,
        notices=notices,
        more=len(lines) >= STREAM_SLICE_EVENTS,
    )
    if found.status is not Status.LIVE:
        return found
    said = f"{len(lines)} events: {len(posts)} posts created, {len(notices)} deleted"
    if accounts:
        said += "; accounts made inactive: " + ", ".join(
            f"{count} {status}" for status, count in sorted(accounts.items())
        )
        said += " (their known posts are checked now)"
    if unreadable:
        said += f"; {len(unreadable)} unreadable"
    return replace(found, detail=said, accounts_gone=tuple(sorted(gone)))


def _created(uri: str, did: str, record: object, at: float) -> SeenPost | None:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return None
    created = parse_iso8601(record.get("createdAt"))
    return SeenPost(uri, did, created if created is not None else at, record["text"])
