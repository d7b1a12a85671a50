"""Raw platform responses, one per line (the twarc convention), run through the adapter.

Each line is one API response body, a JSON object, with what the archiving tool knew about the
request under a reserved key, ``__memoryhole`` (or twarc's ``__twarc``)::

    {"ok": 1, "data": {...}, "__memoryhole": {"url": "https://m.weibo.cn/statuses/show?id=49…",
     "retrieved_at": "2024-06-04T12:00:03+00:00"}}

``url`` and ``retrieved_at`` (epoch seconds or ISO 8601; naive: UTC unless ``--utc-offset``)
are required; optional: ``sent_at`` (when the request left; default ``retrieved_at``),
``http_status`` (default 200), ``headers`` (``[[name, value], …]``), ``method`` (GET),
``kind`` (``check`` or ``discover``: otherwise told from the URL), ``post_id`` (a check's post:
otherwise the URL's ``id``), ``target`` (a listing's target, e.g. ``user/123``: otherwise the
URL's ``containerid``). The line's bytes are the response body the adapter parses (the extra
key is ignored by it) and the blob kept as evidence.

A listing (``getIndex``) line shows posts: new ones are created (sighted at ``sent_at``), known
ones are logged as seen visible. A check (``statuses/show``) line is one post's answer, logged
and folded like a collector's check; it creates a post only when it shows the post (a removal
answer does not say who wrote it). The adapter decides every status, so an archived captcha
page or rate-limit answer is ``unreachable`` here too, never a removal.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from memoryhole.imports.records import (
    BadRow,
    BadRowError,
    Event,
    NewPost,
    PostFacts,
    Record,
    shown,
)
from memoryhole.imports.source import SourceFile, check_encoding_of_line, check_time, iter_lines
from memoryhole.model import Capture, PostRef, Request, Status, Target
from memoryhole.platforms.base import Platform
from memoryhole.platforms.weibo import (
    HOT_FEED,
    SEARCH_PREFIX,
    SIM_PUBLIC_FEED,
    USER_TIMELINE_PREFIX,
    full_text,
    parse_created_at,
)

KIND = "jsonl"
TIMING = "as archived (retrieved_at of each response)"
META_KEYS = ("__memoryhole", "__twarc")
MAX_DEPTH = 200  # no platform's answer nests deeper; far below Python's recursion limit


class JsonlParser:
    kind = KIND
    timing = TIMING

    def __init__(
        self,
        adapter: Platform,
        platform: str,
        zone: tzinfo | None = None,
        now: float | None = None,
    ) -> None:
        self.adapter = adapter
        self.platform = platform
        self.zone = zone or UTC
        self.now = time.time() if now is None else now  # the import's own time
        self.position = 0
        self.encoding_given = False

    def records(self, source: SourceFile) -> Iterator[Record | BadRow]:
        self.encoding_given = source.encoding_given
        for number, raw in iter_lines(source):
            self.position += len(raw)
            if not raw.strip():
                continue
            try:
                yield self._record(number, raw.rstrip(b"\r\n"), source.encoding)
            except BadRowError as exc:
                yield BadRow(number, exc.column, exc.expected, exc.found, raw)

    def _record(self, number: int, body: bytes, encoding: str) -> Record:
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            bad = body[exc.start : exc.end]
            raise BadRowError(
                f"byte {exc.start + 1}", f"{encoding} text", f"undecodable bytes {bad.hex(' ')}"
            ) from None
        check_encoding_of_line(text, body, encoding, self.encoding_given)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRowError(
                f"column {exc.colno}", "a JSON object", f"invalid JSON ({exc.msg})"
            ) from None
        except RecursionError:
            raise _too_deep() from None
        if _depth_over(value, MAX_DEPTH):
            raise _too_deep()
        # JSON is UTF-8 (RFC 8259): the adapter reads these bytes; the blob keeps the line's.
        answer = body if encoding == "utf-8" else text.encode("utf-8")
        if not isinstance(value, dict):
            raise BadRowError(None, "a JSON object (one API response)", type(value).__name__)
        meta = next((value[k] for k in META_KEYS if isinstance(value.get(k), dict)), None)
        if meta is None:
            raise BadRowError(
                None,
                'the request\'s metadata under "__memoryhole" (or "__twarc"): url, retrieved_at',
                "no such key",
            )
        url = meta.get("url")
        if not isinstance(url, str) or not url:
            raise BadRowError('"__memoryhole.url"', "the request's URL", shown(str(url or "")))
        retrieved = self._time(meta.get("retrieved_at"), "retrieved_at")
        sent = retrieved if meta.get("sent_at") is None else self._time(meta["sent_at"], "sent_at")
        if sent > retrieved:
            raise BadRowError('"__memoryhole.sent_at"', "a time not after retrieved_at", str(sent))
        status = meta.get("http_status", meta.get("status", 200))
        if isinstance(status, bool) or not isinstance(status, int):
            raise BadRowError('"__memoryhole.http_status"', "an integer", shown(str(status)))
        headers = _headers(meta.get("headers"))
        method = str(meta.get("method") or "GET")
        query = parse_qs(urlsplit(url).query)
        kind = meta.get("kind") or _kind_of(url)
        capture = Capture(
            Request(method, url),
            status,
            headers,
            answer,
            fetched_at=retrieved,
            received_at=self.now,
            sent_at=sent,
        )
        common = {
            "line": number, "raw": body, "seen_at": sent, "method": method, "url": url,
            "http_status": status, "headers": headers,
        }  # fmt: skip
        if kind == "check":
            post_id = meta.get("post_id") or (query.get("id") or [""])[0]
            if not post_id:
                raise BadRowError('"__memoryhole.post_id"', "the checked post's id", "nothing")
            return self._check(str(post_id), capture, value, common)
        if kind == "discover":
            target = self._target(meta.get("target"), query)
            return self._listing(target, capture, url, common)
        raise BadRowError(
            '"__memoryhole.url"',
            'a statuses/show or api/container/getIndex URL (or "kind": check/discover)',
            shown(url),
        )

    def _check(
        self, post_id: str, capture: Capture, value: dict[str, Any], common: dict[str, Any]
    ) -> Record:
        ref = PostRef(self.platform, post_id, "")
        observation = _adapter_call(self.platform, lambda: self.adapter.parse_check(ref, capture))
        new = None
        if observation.status.is_visible and self.platform == "weibo":
            new = _weibo_post(value.get("data"))
            if new is not None:
                check_time(new.published_at, '"data.created_at"', str(new.published_at), self)
        event = Event(
            observation.status,
            capture.alive_at,
            capture.fetched_at,
            observation.code,
            observation.detail,
            observation.content_hash,
        )
        return Record(
            posts=(PostFacts(post_id, new, (event,)),),
            detail=observation.detail or observation.status.value,
            **common,
        )

    def _listing(
        self, target: Target, capture: Capture, url: str, common: dict[str, Any]
    ) -> Record:
        discovery = _adapter_call(
            self.platform, lambda: self.adapter.parse_discover(target, capture)
        )
        for seen in discovery.posts:
            for at in (seen.published_at, seen.published_until):
                if at is not None:
                    check_time(at, f"post {seen.post_id}'s publication time", str(at), self)
        facts = tuple(
            PostFacts(
                seen.post_id,
                NewPost(seen.author_id, seen.published_at, seen.text),
                (
                    Event(
                        Status.LIVE,
                        capture.alive_at,
                        capture.fetched_at,
                        detail=f"listed by {target.spec}",
                    ),
                ),
            )
            for seen in discovery.posts
        )
        skipped = None
        if discovery.status is not Status.LIVE:
            skipped = f"listing answered {discovery.status.value}"
        elif not facts:
            skipped = "listing without posts"
        return Record(
            posts=() if skipped else facts,
            detail=discovery.detail or f"{len(facts)} posts listed",
            skipped=skipped,
            **common,
        )

    def _target(self, given: Any, query: dict[str, list[str]]) -> Target:
        if isinstance(given, str) and given:
            try:
                return self.adapter.parse_target(given)
            except Exception as exc:
                raise BadRowError(
                    '"__memoryhole.target"', "a target like user/123", str(exc)
                ) from None
        container = (query.get("containerid") or [""])[0]
        if container == SIM_PUBLIC_FEED:
            return Target(self.platform, "all")
        if container == HOT_FEED:
            return Target(self.platform, "hot")
        if container.startswith(USER_TIMELINE_PREFIX) and container[6:].isdigit():
            return Target(self.platform, "user", container[6:])
        search = parse_qs(container[len(SEARCH_PREFIX) :]).get("q")
        if container.startswith(SEARCH_PREFIX) and search:
            return Target(self.platform, "search", search[0])
        raise BadRowError(
            '"__memoryhole.target"', "the listing's target (or a containerid in the URL)",
            shown(container),
        )  # fmt: skip

    def _time(self, value: Any, key: str) -> float:
        column = f'"__memoryhole.{key}"'
        at: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                at = float(value)
            except OverflowError:  # an integer of hundreds of digits
                at = math.inf
            return check_time(at, column, json.dumps(value)[:60], self)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=self.zone)
                return check_time(moment.timestamp(), column, value, self)
        raise BadRowError(column, "epoch seconds or an ISO 8601 time", shown(str(value)))


def _too_deep() -> BadRowError:
    return BadRowError(None, f"JSON nested at most {MAX_DEPTH} levels deep", "deeper nesting")


def _depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep (walked
    without recursion: the check must not itself overflow)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


T = TypeVar("T")


def _adapter_call(platform: str, call: Callable[[], T]) -> T:
    """The adapter's reading of one archived answer; an answer it cannot read at all is a
    malformed line (named), not a crash of the whole import."""
    try:
        return call()
    except BadRowError:
        raise
    except Exception as exc:
        raise BadRowError(
            None, f"an answer the {platform} adapter can read", f"{type(exc).__name__}: {exc}"
        ) from None


def _kind_of(url: str) -> str | None:
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/statuses/show"):
        return "check"
    if path.endswith("/api/container/getIndex"):
        return "discover"
    return None


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    if isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value):
        return tuple((str(k), str(v)) for k, v in value)
    raise BadRowError('"__memoryhole.headers"', "[[name, value], …]", shown(str(value)))


def _weibo_post(mblog: Any) -> NewPost | None:
    """Author, time and text of a visible ``statuses/show`` answer (the adapter's check answer
    does not carry them)."""
    if not isinstance(mblog, dict) or not isinstance(mblog.get("user"), dict):
        return None
    author = mblog["user"].get("id")
    published = parse_created_at(mblog.get("created_at"))
    if author is None or published is None:
        return None
    return NewPost(str(author), published, full_text(mblog)[0])
