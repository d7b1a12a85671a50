"""Bluesky, through the AT Protocol's public HTTP APIs (no login: the AppView serves reads).

Modelled shapes (docs/adapters.md has the table; each is held against a real captured answer in
tests/data/real, ``tests/platforms/test_real_bluesky.py``; error names are those of
bluesky-social/atproto's source, listed with their sources in the shared ``REASONS.md``):

- A listing: ``GET /xrpc/app.bsky.feed.getAuthorFeed?actor=…&filter=posts_with_replies``
  (``bluesky:actor/<handle or did>``): ``{"feed": [feedViewPost…], "cursor": …}``, newest first;
  ``cursor`` asks for the next, older page. A repost (``reason`` ``#reasonRepost``) shows
  another author's post: skipped on purpose (counted in the detail). A post is known by its
  ``at://`` URI, its author by its DID.
- One post: ``GET /xrpc/app.bsky.feed.getPostThread?uri=…&depth=0&parentHeight=0``: the
  thread's ``post`` while visible; ``400 {"error": "NotFound", "message": "Post not found:
  …"}`` once the AppView no longer serves it (deleted, taken down, or its account
  deactivated, taken down or deleted: it does not say which); a ``#notFoundPost`` is the same,
  a ``#blockedPost`` is about who asks (never a removal).
- Many posts at once: ``GET /xrpc/app.bsky.feed.getPosts?uris=…`` (at most 25): the visible
  ones (``posts_request``/``parse_posts``: a wide view; a post missing from it is only
  confirmed by its own check).
- Why a post went, asked at its next checks (each request's URL carries ``#after=<signal>``,
  never sent): the moderation service's labels (``com.atproto.label.queryLabels`` on
  ``mod.bsky.app``: ``!takedown`` on the post → ``censored``, on the account →
  ``account_suspended``; a label with ``"neg": true`` reverses an earlier one), the account
  (``app.bsky.actor.getProfile``: ``AccountTakedown`` → ``account_suspended``,
  ``AccountDeactivated`` → ``author_deleted``, the author's own choice, ``Profile not found``
  → unattributed), then the author's own repository on its PDS (found from its DID document):
  ``com.atproto.repo.getRecord`` finds the record → it was hidden, not deleted:
  ``censored``; it does not (the record was deleted, *or* its PDS withholds it, which reads
  the same) → ``com.atproto.sync.getRecord``, the repo's signed proof: the record in it →
  ``censored`` (withheld by the PDS), not in it → ``author_deleted``.

Anything else (429 ``RateLimitExceeded``, 5xx, 401, 403, another XRPC error, HTML, malformed
JSON, an answer about another post) is UNREACHABLE. Jetstream's events are read by
``parse_jetstream_event``; the stream as a listing (``bluesky:stream``) is
``platforms/bluesky_stream.py``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from memoryhole.errors import TargetError
from memoryhole.model import (
    Capture,
    Discovery,
    Notice,
    Observation,
    PostRef,
    Request,
    SeenPost,
    Status,
    Target,
    content_hash,
)
from memoryhole.platforms._shared import (
    answer_problem,
    join_detail,
    looks_like_html,
    media_detail,
    parse_iso8601,
    url_path,
    with_note,
)
from memoryhole.platforms.base import PostsView, json_body, listing, transient
from memoryhole.platforms.bluesky_stream import parse_stream, stream_request, stream_url
from memoryhole.platforms.weibo import is_local

APPVIEW = "https://public.api.bsky.app"
PLC_DIRECTORY = "https://plc.directory"
MODERATION_SERVICE = "https://mod.bsky.app"
#: Bluesky's moderation service (the labeler the AppView takes takedowns from); it also names
#: itself in answers' ``atproto-content-labelers`` header.
MODERATION_DID = "did:plc:ar7c4by46qjdydhdevvrndac"
POST_COLLECTION = "app.bsky.feed.post"
#: Label values the AppView treats as takedowns (packages/bsky/src/hydration/label.ts).
TAKEDOWN_LABELS = frozenset({"!takedown", "!suspend"})
PAGE_SIZE = 100  # getAuthorFeed's largest page
MAX_POSTS_PER_REQUEST = 25  # getPosts' limit
#: Older pages read in one catch-up of an author feed before giving up (said in the detail).
MAX_CATCH_UP_PAGES = 20
#: The simulator's complete public feed (``bluesky:all``): no such endpoint exists on Bluesky,
#: whose public stream is the firehose (Jetstream).
SIM_ALL_POSTS = "memoryhole.sim.getAllPosts"

REPOST = "app.bsky.feed.defs#reasonRepost"
PIN = "app.bsky.feed.defs#reasonPin"
THREAD_POST = "app.bsky.feed.defs#threadViewPost"
NOT_FOUND_POST = "app.bsky.feed.defs#notFoundPost"
BLOCKED_POST = "app.bsky.feed.defs#blockedPost"

_HANDLE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_DID = re.compile(r"^did:(plc:[a-z2-7]{24}|web:[A-Za-z0-9.%-]+(:[A-Za-z0-9.%-]+)*)$")
_AT_URI = re.compile(r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/([A-Za-z0-9.-]+)/([A-Za-z0-9._:~-]+)$")
#: How a post record starts being itself in DAG-CBOR: the key ``$type`` (a 5-byte text) and the
#: value ``app.bsky.feed.post`` (an 18-byte text). Only a post record's block holds it: the
#: commit and the tree's nodes key their entries with byte strings.
_POST_RECORD_CBOR = b"\x65$type\x72" + POST_COLLECTION.encode()
_DAY = 86400.0
_MEMORY = 100_000


def is_did(text: str) -> bool:
    return bool(_DID.match(text))


def is_handle(text: str) -> bool:
    return bool(_HANDLE.match(text))


def post_uri_parts(uri: str) -> tuple[str, str, str] | None:
    """``at://did:plc:…/app.bsky.feed.post/3k…`` → (did, collection, rkey), else None."""
    match = _AT_URI.match(uri)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def xrpc_error(capture: Capture) -> tuple[str, str] | None:
    """An XRPC error answer ``{"error": NAME, "message": TEXT}`` (not a proxy's page), or None."""
    if capture.status is None or looks_like_html(capture):
        return None
    try:
        body = json.loads(capture.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return None
    message = body.get("message")
    return body["error"], message if isinstance(message, str) else ""


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- post views -----------------------------------------------------------------------------


def published_time(post: dict[str, Any]) -> float | None:
    """When the post was published, from its record's ``createdAt`` (the author's client
    sets it) and the AppView's ``indexedAt``: the earlier of the two (as the AppView sorts
    feeds), except that a ``createdAt`` over a day before ``indexedAt`` (an imported or
    back-dated post) is not when Bluesky first showed it: ``indexedAt`` then."""
    record = post.get("record")
    created = parse_iso8601(record.get("createdAt")) if isinstance(record, dict) else None
    indexed = parse_iso8601(post.get("indexedAt"))
    if created is None:
        return indexed
    if indexed is None:
        return created
    if indexed - created > _DAY:
        return indexed
    return min(created, indexed)


def post_media(post: dict[str, Any]) -> list[tuple[str, str]]:
    """A post view's images (full size) and video (its playlist), as (kind, url)."""
    embed = post.get("embed")
    if not isinstance(embed, dict):
        return []
    inner = embed.get("media")
    media: dict[str, Any] = inner if isinstance(inner, dict) else embed
    refs: list[tuple[str, str]] = []
    kind = str(media.get("$type") or "")
    if kind.startswith("app.bsky.embed.images"):
        for image in media.get("images") or ():
            url = image.get("fullsize") or image.get("thumb") if isinstance(image, dict) else None
            if isinstance(url, str) and url:
                refs.append(("image", url))
    elif kind.startswith("app.bsky.embed.video"):
        url = media.get("playlist")
        if isinstance(url, str) and url:
            refs.append(("video", url))
    return refs


def post_labels(post: dict[str, Any]) -> str:
    """``labels: porn (did:plc:…)`` for a visible post's labels, or ``""``."""
    labels = []
    for label in post.get("labels") or ():
        if isinstance(label, dict) and isinstance(label.get("val"), str):
            labels.append(f"{label['val']} ({label.get('src', '?')})")
    return "labels: " + ", ".join(labels) if labels else ""


def read_post_view(post: Any) -> tuple[SeenPost | None, str]:
    """A ``postView`` as the post it shows, or (None, why it cannot be read)."""
    if not isinstance(post, dict):
        return None, "post is not a JSON object"
    uri = post.get("uri")
    parts = post_uri_parts(uri) if isinstance(uri, str) else None
    if parts is None or parts[1] != POST_COLLECTION:
        return None, f"no post URI ({uri!r})"
    author = post.get("author")
    did = author.get("did") if isinstance(author, dict) else None
    if not isinstance(did, str) or not is_did(did):
        return None, f"post {uri}: no author DID"
    record = post.get("record")
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return None, f"post {uri}: no record text"
    published = published_time(post)
    if published is None:
        return None, f"post {uri}: createdAt {record.get('createdAt')!r} is not a time"
    return SeenPost(str(uri), did, published, record["text"]), ""


def visible(post: dict[str, Any], seen: SeenPost) -> Observation:
    return Observation(
        Status.LIVE,
        content_hash=content_hash(seen.text),
        text=seen.text,
        detail=join_detail("visible", post_labels(post), media_detail(post_media(post))),
        published_at=seen.published_at,
    )


# -- moderation labels ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Label:
    """One label (``com.atproto.label.defs#label``): ``src`` says ``val`` of ``uri`` at ``at``
    (``cts``); ``neg`` takes an earlier such label back. Its signature (``sig``) is kept in the
    answer, not verified here."""

    src: str
    uri: str
    val: str
    at: float
    neg: bool = False
    expires: float | None = None

    def active(self, now: float) -> bool:
        return not self.neg and (self.expires is None or self.expires > now)


def parse_label(value: Any) -> Label | None:
    """A label object, or None when it is not one (no source, subject, value or time)."""
    if not isinstance(value, dict):
        return None
    src, uri, val = value.get("src"), value.get("uri"), value.get("val")
    at = parse_iso8601(value.get("cts"))
    if not (isinstance(src, str) and isinstance(uri, str) and isinstance(val, str)) or at is None:
        return None
    return Label(src, uri, val, at, value.get("neg") is True, parse_iso8601(value.get("exp")))


def takedown_events(labels: Sequence[Label], subject: str, source: str) -> list[tuple[float, bool]]:
    """The takedowns of ``subject`` by ``source`` over time: ``[(at, taken_down), …]`` oldest
    first; a negation is a dated reversal (``False``), like a post that came back."""
    found = sorted(
        (label for label in labels if label.src == source and label.uri == subject),
        key=lambda label: label.at,
    )
    return [(label.at, not label.neg) for label in found if label.val in TAKEDOWN_LABELS]


def takedown_since(labels: Sequence[Label], subject: str, source: str, now: float) -> float | None:
    """When ``source``'s takedown of ``subject`` in force at ``now`` began, or None."""
    latest: Label | None = None
    for label in labels:
        mine = label.src == source and label.uri == subject and label.val in TAKEDOWN_LABELS
        if mine and (latest is None or label.at >= latest.at):
            latest = label
    return latest.at if latest is not None and latest.active(now) else None


def _reversals(labels: Sequence[Label], subjects: Sequence[str], source: str) -> str:
    said = []
    for subject in subjects:
        events = takedown_events(labels, subject, source)
        for (start, down), (end, up) in itertools.pairwise(events):
            if down and not up:
                said.append(f"a takedown of {subject} at {iso(start)} was reversed at {iso(end)}")
    return "; ".join(said)


# -- the author's repository ----------------------------------------------------------------


def pds_endpoint(did_document: Any, did: str | None = None) -> str | None:
    """The PDS a DID document names (``service`` ``#atproto_pds``), or None."""
    if not isinstance(did_document, dict):
        return None
    if did is not None and did_document.get("id") != did:
        return None
    for service in did_document.get("service") or ():
        if not isinstance(service, dict):
            continue
        if (
            str(service.get("id", "")).endswith("#atproto_pds")
            and service.get("type") == "AtprotoPersonalDataServer"
        ):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
                return endpoint.rstrip("/")
    return None


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def car_blocks(data: bytes) -> list[tuple[bytes, bytes]] | None:
    """The blocks of a CAR v1 file as (sha-256 digest of the CID, block), each checked against
    its CID; None when ``data`` is not a whole, intact CAR (``application/vnd.ipld.car``)."""
    try:
        size, pos = _varint(data, 0)
        header = data[pos : pos + size]
        if len(header) < size or b"roots" not in header or b"version" not in header:
            return None
        pos += size
        blocks = []
        while pos < len(data):
            size, pos = _varint(data, pos)
            end = pos + size
            if size == 0 or end > len(data):
                return None
            if data[pos : pos + 2] == b"\x12\x20":  # CIDv0: a bare sha2-256 multihash
                code, digest, start = 0x12, data[pos + 2 : pos + 34], pos + 34
            else:
                _, at = _varint(data, pos)  # version
                _, at = _varint(data, at)  # codec
                code, at = _varint(data, at)
                length, at = _varint(data, at)
                digest, start = data[at : at + length], at + length
            block = data[start:end]
            if start > end or code != 0x12 or hashlib.sha256(block).digest() != digest:
                return None
            blocks.append((digest, block))
            pos = end
        return blocks
    except ValueError:
        return None


def car_holds_post(data: bytes) -> bool | None:
    """Whether a ``com.atproto.sync.getRecord`` proof holds a post record (None: not a CAR).
    The proof carries the commit, the tree's nodes on the way to the key, and the record's
    block when the repo still holds it."""
    blocks = car_blocks(data)
    if blocks is None or not blocks:
        return None
    return any(_POST_RECORD_CBOR in block for _, block in blocks)


# -- Jetstream ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JetstreamEvent:
    """One Jetstream event (``wss://jetstream….bsky.network/subscribe``, v1 JSON frames).

    ``kind``: ``commit`` (a repo operation: ``operation`` ``create``/``update``/``delete`` of
    ``collection``/``rkey``; a delete has no ``record``), ``account`` (hosting status:
    ``active``, and when inactive a ``status``: ``takendown``, ``suspended``, ``deleted``,
    ``deactivated``, ``desynchronized``, ``throttled``) or ``identity`` (a handle or DID
    document change). ``time_us`` is Jetstream's cursor (microseconds)."""

    did: str
    time_us: int
    kind: str
    operation: str | None = None
    collection: str | None = None
    rkey: str | None = None
    record: dict[str, Any] | None = None
    active: bool | None = None
    status: str | None = None
    handle: str | None = None
    seq: int | None = None

    @property
    def at(self) -> float:
        return self.time_us / 1_000_000

    @property
    def uri(self) -> str | None:
        if self.collection is None or self.rkey is None:
            return None
        return f"at://{self.did}/{self.collection}/{self.rkey}"

    def notice(self) -> Notice | None:
        """What the event says of a post: its author's repo deleted it (``author_deleted``,
        code ``commit-delete``); nothing for any other event."""
        if self.kind != "commit" or self.operation != "delete":
            return None
        if self.collection != POST_COLLECTION or self.uri is None:
            return None
        return Notice(
            self.uri,
            Status.AUTHOR_DELETED,
            code="commit-delete",
            detail="the author's repo deleted the record (Jetstream commit delete)",
            author_id=self.did,
        )

    def account_status(self) -> tuple[Status, str] | None:
        """What an account event says of every post of the account, or None (active again, or
        a hosting state that hides nothing for good): (status, code)."""
        if self.kind != "account" or self.active is not False:
            return None
        if self.status in ("takendown", "suspended"):
            return Status.ACCOUNT_SUSPENDED, self.status
        if self.status in ("deactivated", "deleted"):
            return Status.AUTHOR_DELETED, self.status  # the account holder's own choice
        return None


def parse_jetstream_event(body: bytes | str) -> JetstreamEvent:
    """One Jetstream frame as an event; ``ValueError`` saying why when it is not one."""
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    did, time_us, kind = value.get("did"), value.get("time_us"), value.get("kind")
    if not isinstance(did, str) or not is_did(did):
        raise ValueError(f"no DID ({did!r})")
    if not isinstance(time_us, int) or isinstance(time_us, bool):
        raise ValueError(f"no time_us ({time_us!r})")
    if kind == "commit":
        commit = value.get("commit")
        if not isinstance(commit, dict):
            raise ValueError("a commit event without its commit")
        operation, collection, rkey = (commit.get(k) for k in ("operation", "collection", "rkey"))
        if operation not in ("create", "update", "delete"):
            raise ValueError(f"commit operation {operation!r} not understood")
        if not isinstance(collection, str) or not isinstance(rkey, str):
            raise ValueError("a commit without its collection and rkey")
        record = commit.get("record")
        return JetstreamEvent(
            did,
            time_us,
            "commit",
            operation=str(operation),
            collection=collection,
            rkey=rkey,
            record=record if isinstance(record, dict) else None,
        )
    if kind == "account":
        account = value.get("account")
        if not isinstance(account, dict) or not isinstance(account.get("active"), bool):
            raise ValueError("an account event without its active flag")
        status = account.get("status")
        seq = account.get("seq")
        return JetstreamEvent(
            did,
            time_us,
            "account",
            active=account["active"],
            status=status if isinstance(status, str) else None,
            seq=seq if isinstance(seq, int) else None,
        )
    if kind == "identity":
        identity = value.get("identity")
        if not isinstance(identity, dict):
            raise ValueError("an identity event without its identity")
        handle, seq = identity.get("handle"), identity.get("seq")
        return JetstreamEvent(
            did,
            time_us,
            "identity",
            handle=handle if isinstance(handle, str) else None,
            seq=seq if isinstance(seq, int) else None,
        )
    raise ValueError(f"event kind {kind!r} not understood")


# -- the author feed's cursor ---------------------------------------------------------------

_CURSOR_NOTE = "cursor="


class _Cursor:
    """An author feed's cursor: ``top`` is the newest sort time seen (epoch milliseconds); a
    catch-up in progress also has ``stop`` (the top of the poll before, where it ends), the
    older page's cursor as Bluesky gave it, and how many pages it has read. Text:
    ``top`` or ``top,stop,<page, percent-encoded>,depth``."""

    def __init__(
        self, top: int | None, stop: int | None = None, page: str | None = None, depth: int = 0
    ) -> None:
        self.top, self.stop, self.page, self.depth = top, stop, page, depth

    @property
    def text(self) -> str | None:
        if self.page is None:
            return str(self.top) if self.top is not None else None
        top = "" if self.top is None else str(self.top)
        stop = "" if self.stop is None else str(self.stop)
        return f"{top},{stop},{quote(self.page, safe='')},{self.depth}"

    @classmethod
    def parse(cls, text: str | None) -> _Cursor:
        if not text:
            return cls(None)
        parts = text.split(",")
        if len(parts) == 4 and parts[3].isdigit():
            return cls(_int(parts[0]), _int(parts[1]), unquote(parts[2]) or None, int(parts[3]))
        return cls(_int(text))


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _cursor_of(request: Request) -> str | None:
    fragment = urlsplit(request.url).fragment
    return fragment[len(_CURSOR_NOTE) :] if fragment.startswith(_CURSOR_NOTE) else None


@dataclass(slots=True)
class _Page:
    posts: list[SeenPost] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    times: list[int] = field(default_factory=list)  # sort times (ms) of the items in order
    reposts: int = 0
    _seen: set[str] = field(default_factory=set)

    def item(self, index: int, item: Any) -> None:
        if not isinstance(item, dict):
            self.unreadable.append(f"item {index}: not a JSON object")
            return
        reason = item.get("reason")
        kind = reason.get("$type") if isinstance(reason, dict) else None
        if reason is not None and kind not in (REPOST, PIN):
            self.unreadable.append(f"item {index}: reason {kind!r} not understood")
            return
        if kind == REPOST:  # another author's post, shown again: not a post of this feed
            self.reposts += 1
            at = parse_iso8601(reason.get("indexedAt")) if isinstance(reason, dict) else None
            if at is not None:
                self.times.append(round(at * 1000))
            return
        seen, problem = read_post_view(item.get("post"))
        if seen is None:
            self.unreadable.append(f"item {index}: {problem}")
            return
        if seen.post_id not in self._seen:
            self._seen.add(seen.post_id)
            self.posts.append(seen)
        if kind != PIN:  # a pinned post heads the feed out of order
            self.times.append(round(seen.published_at * 1000))


# -- attribution of a post that is gone ------------------------------------------------------

#: The steps that attribute a post the AppView no longer serves, in order.
LABELS, PROFILE, DID_DOC, RECORD, SYNC = "labels", "profile", "did", "record", "sync"


@dataclass(slots=True)
class _Step:
    signal: str  # what the post's check said (``NotFound``), noted in each request's URL
    step: str
    gone_at: float  # when the post was first answered gone: a cause must come before it
    failures: int = 0
    #: The account was taken down only after ``gone_at`` (its label's date): not the cause.
    account_later: float | None = None
    #: The account was seen in good standing after ``gone_at``: a later takedown or
    #: deactivation (a repository refusing) is not why the post went either.
    account_fine_at: float | None = None
    #: When the labels were last read, and (after them) what said the account is taken down
    #: now: the labels are then read again, to date the takedown.
    labels_read_at: float | None = None
    taken_down: str | None = None


class _Attributions:
    """Per post: the attribution step its next check asks for, and what attribution said.
    Bounded, in memory: after a restart a gone post is attributed again from the start."""

    def __init__(self, limit: int = _MEMORY) -> None:
        self.limit = limit
        self.pending: OrderedDict[str, _Step] = OrderedDict()
        self.done: OrderedDict[str, Observation | None] = OrderedDict()
        self.pds: OrderedDict[str, str] = OrderedDict()  # DID → PDS endpoint

    def start(self, post_id: str, signal: str, gone_at: float) -> None:
        if post_id not in self.done and post_id not in self.pending:
            self._put(self.pending, post_id, _Step(signal, LABELS, gone_at))

    def forget(self, post_id: str) -> None:
        """The post was seen visible: a later disappearance is attributed afresh."""
        self.pending.pop(post_id, None)
        self.done.pop(post_id, None)

    def finish(self, post_id: str, observation: Observation | None) -> None:
        self.pending.pop(post_id, None)
        self._put(self.done, post_id, observation)

    def remember_pds(self, did: str, endpoint: str) -> None:
        self._put(self.pds, did, endpoint)

    def _put(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.limit:
            table.popitem(last=False)


class BlueskyPlatform:
    name = "bluesky"
    max_posts_per_request = MAX_POSTS_PER_REQUEST  # getPosts' limit (ManyPosts)

    def __init__(
        self,
        base_url: str = APPVIEW,
        *,
        plc_url: str | None = None,
        labeler_url: str | None = None,
        labeler_did: str = MODERATION_DID,
    ) -> None:
        """``base_url``: the AppView. Against a local simulator (loopback, a private address, a
        ``.invalid`` name) the simulator also plays the PLC directory and the moderation
        service, unless ``plc_url``/``labeler_url`` say otherwise."""
        self.base_url = base_url.rstrip("/")
        local = is_local(self.base_url)
        self.plc_url = (plc_url or (self.base_url if local else PLC_DIRECTORY)).rstrip("/")
        self.labeler_url = (labeler_url or (self.base_url if local else MODERATION_SERVICE)).rstrip(
            "/"
        )
        self.labeler_did = labeler_did
        self.stream_url = stream_url(self.base_url, local)
        self._attributions = _Attributions()

    # -- targets and listings ---------------------------------------------------------------

    def parse_target(self, text: str) -> Target:
        kind, _, key = text.partition("/")
        if kind == "all" and not key:
            if not is_local(self.base_url):
                raise TargetError(
                    "bluesky:all is the simulator's complete public feed; Bluesky's is the "
                    "firehose (Jetstream), not a listing. Watch bluesky:actor/<handle or did>"
                )
            return Target(self.name, "all")
        if kind == "stream":
            dids = [did.strip() for did in key.split(",") if did.strip()]
            bad = [did for did in dids if not is_did(did)]
            if bad:
                raise TargetError(
                    f"bluesky:stream/{key} names {bad[0]!r}, not a DID; use "
                    "bluesky:stream (every post) or bluesky:stream/did:plc:…,did:plc:…"
                )
            return Target(self.name, "stream", ",".join(dids))
        actor = key.strip().removeprefix("@")
        if kind == "actor" and (is_did(actor) or is_handle(actor.lower())):
            return Target(self.name, "actor", actor if is_did(actor) else actor.lower())
        raise TargetError(
            f"bluesky target {text!r} not understood; use bluesky:actor/<handle> "
            "(alice.bsky.social), bluesky:actor/<did> (did:plc:…) or bluesky:stream[/<did>,…]"
        )

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        if target.kind == "stream":
            return stream_request(self.stream_url, target, cursor)
        if target.kind == "all":
            params: list[tuple[str, str]] = [("limit", str(PAGE_SIZE))]
            if cursor:
                params.append(("cursor", cursor))
            return Request("GET", f"{self.base_url}/xrpc/{SIM_ALL_POSTS}", tuple(params))
        url = f"{self.base_url}/xrpc/app.bsky.feed.getAuthorFeed"
        params = [
            ("actor", target.key),
            ("limit", str(PAGE_SIZE)),
            ("filter", "posts_with_replies"),
        ]
        page = _Cursor.parse(cursor).page
        if page is not None:
            params.append(("cursor", page))
        if cursor:  # kept in the recorded URL (a fragment is never sent): parse_discover reads it
            url += f"#{_CURSOR_NOTE}{cursor}"
        return Request("GET", url, tuple(params))

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        if target.kind == "stream":
            return parse_stream(capture, parse_jetstream_event)
        refused = self._refused_listing(target, capture)
        if refused is not None:
            return refused
        body, problem = json_body(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        feed = body.get("feed") if isinstance(body, dict) else None
        if not isinstance(feed, list):
            return Discovery((), None, Status.UNREACHABLE, "answer is not a feed (no feed list)")
        page = _Page()
        for index, item in enumerate(feed):
            page.item(index, item)
        answered = body.get("cursor")
        token = answered if isinstance(answered, str) and answered else None
        if target.kind == "all":
            found = listing(
                page.posts, token, unreadable=page.unreadable, more=len(feed) >= PAGE_SIZE
            )
            return found
        cursor, more = self._next(capture, page, token)
        found = listing(page.posts, cursor, unreadable=page.unreadable, more=more)
        if found.status is not Status.LIVE:
            return found
        detail = found.detail
        if page.reposts:
            detail += f"; {page.reposts} repost(s) skipped (another author's post)"
        if more:
            detail += "; older pages are read now, back to the newest post of the last poll"
        return replace(found, detail=detail, newest_first=True, last_page=token is None)

    @staticmethod
    def _next(capture: Capture, page: _Page, token: str | None) -> tuple[str | None, bool]:
        """The cursor after this page (as Weibo's timelines): a feed is read newest first;
        when a poll finds only items newer than the newest of the poll before, the older pages
        are read at once until it reaches that item (``more``), so nothing is skipped."""
        asked = _Cursor.parse(_cursor_of(capture.request))
        newest = max(page.times, default=None)
        if asked.page is None:  # a first page
            tops = [t for t in (newest, asked.top) if t is not None]
            top = max(tops) if tops else None
            if asked.top is None or newest is None or min(page.times) <= asked.top:
                return _Cursor(top).text, False
            if token is None:
                return _Cursor(top).text, False
            return _Cursor(top, asked.top, token, 1).text, True
        reached = not page.times or min(page.times) <= (asked.stop or 0)
        if reached or token is None or asked.depth >= MAX_CATCH_UP_PAGES:
            return _Cursor(asked.top).text, False
        return _Cursor(asked.top, asked.stop, token, asked.depth + 1).text, True

    def _refused_listing(self, target: Target, capture: Capture) -> Discovery | None:
        if capture.status != 400:
            return None
        error = xrpc_error(capture)
        if error is None:
            return None
        name, message = error
        said = f"400 {name} {message!r}"
        if message == "Profile not found":
            return Discovery(
                (),
                None,
                Status.UNREACHABLE,
                f"the actor's profile is not found ({said}): its account was taken down, "
                "deactivated or deleted, or never existed; every known post of it is checked now",
                confirm_all=target.kind == "actor",
            )
        if name in ("BlockedActor", "BlockedByActor"):
            detail = f"refused ({said}): a block between this account and the actor, not a removal"
            return Discovery((), None, Status.UNREACHABLE, detail)
        return Discovery((), None, Status.UNREACHABLE, f"refused ({said}): not a removal")

    # -- checks -----------------------------------------------------------------------------

    def check_request(self, post: PostRef) -> Request:
        step = self._attributions.pending.get(post.post_id)
        parts = post_uri_parts(post.post_id)
        if step is not None and parts is not None:
            return self._step_request(post.post_id, parts, step)
        return self.thread_request(post.post_id)

    def thread_request(self, uri: str) -> Request:
        url = f"{self.base_url}/xrpc/app.bsky.feed.getPostThread"
        return Request("GET", url, (("uri", uri), ("depth", "0"), ("parentHeight", "0")))

    def posts_request(self, posts: Sequence[PostRef]) -> Request:
        """``getPosts`` for up to ``MAX_POSTS_PER_REQUEST`` posts: one request, a wide view."""
        if not posts or len(posts) > MAX_POSTS_PER_REQUEST:
            raise ValueError(f"getPosts takes 1 to {MAX_POSTS_PER_REQUEST} posts")
        url = f"{self.base_url}/xrpc/app.bsky.feed.getPosts"
        return Request("GET", url, tuple(("uris", post.post_id) for post in posts))

    def _step_request(self, uri: str, parts: tuple[str, str, str], step: _Step) -> Request:
        did, collection, rkey = parts
        if step.step == LABELS:
            url = with_note(f"{self.labeler_url}/xrpc/com.atproto.label.queryLabels", step.signal)
            params = (("uriPatterns", did), ("uriPatterns", uri), ("sources", self.labeler_did))
            return Request("GET", url, (*params, ("limit", "250")))
        if step.step == PROFILE:
            url = with_note(f"{self.base_url}/xrpc/app.bsky.actor.getProfile", step.signal)
            return Request("GET", url, (("actor", did),))
        if step.step == DID_DOC:
            if did.startswith("did:web:"):
                host = unquote(did.removeprefix("did:web:").split(":")[0])
                return Request(
                    "GET", with_note(f"https://{host}/.well-known/did.json", step.signal)
                )
            return Request("GET", with_note(f"{self.plc_url}/{did}", step.signal))
        pds = self._attributions.pds.get(did, self.base_url)
        method = (
            "com.atproto.repo.getRecord" if step.step == RECORD else "com.atproto.sync.getRecord"
        )
        subject = ("repo", did) if step.step == RECORD else ("did", did)
        params = (subject, ("collection", collection), ("rkey", rkey))
        return Request("GET", with_note(f"{pds}/xrpc/{method}", step.signal), params)

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        path = url_path(capture.request.url)
        method = path.rsplit("/", 1)[-1]
        step = self._attributions.pending.get(post.post_id)
        if method == "app.bsky.feed.getPostThread":
            return self._parse_thread(post, capture)
        if method == "app.bsky.feed.getPosts":
            view = self.parse_posts([post], capture)
            if view.status is Status.UNREACHABLE:
                return transient(view.detail)
            if post.post_id in view.seen:
                self._attributions.forget(post.post_id)
                return view.seen[post.post_id]
            return transient(
                "not in getPosts' answer: a post missing from a wide view is confirmed by its "
                "own check (getPostThread), never a removal by itself"
            )
        expected = {
            "com.atproto.label.queryLabels": LABELS,
            "app.bsky.actor.getProfile": PROFILE,
            "com.atproto.repo.getRecord": RECORD,
            "com.atproto.sync.getRecord": SYNC,
        }.get(method, DID_DOC if method.startswith("did:") or method == "did.json" else None)
        if expected is None:
            return transient(f"not an answer this adapter asked for ({path})")
        if step is None or step.step != expected:
            return transient(f"an attribution answer ({method}) no longer asked for")
        if expected == LABELS:
            return self._parse_labels(post, capture, step)
        if expected == PROFILE:
            return self._parse_profile(post, capture, step)
        if expected == DID_DOC:
            return self._parse_did(post, capture, step)
        return self._parse_repo(post, capture, step)

    def _parse_thread(self, post: PostRef, capture: Capture) -> Observation:
        if capture.status == 400 and answer_problem(capture) is None:
            error = xrpc_error(capture)
            if error is not None and error[0] == "NotFound":
                return self._gone(post, capture, "NotFound", f"400 NotFound {error[1]!r}")
            if error is not None:
                return transient(f"refused (400 {error[0]} {error[1]!r}): not a removal")
        body, problem = json_body(capture)
        if problem is not None:
            return transient(problem)
        thread = body.get("thread") if isinstance(body, dict) else None
        if not isinstance(thread, dict):
            return transient("answer is not a thread")
        kind = thread.get("$type")
        uri = thread.get("uri") or (
            thread["post"].get("uri") if isinstance(thread.get("post"), dict) else None
        )
        if uri != post.post_id:
            return transient(f"answer about another post ({uri!r})")
        if kind == NOT_FOUND_POST or thread.get("notFound") is True:
            return self._gone(post, capture, "notFound", "the thread's post is a notFoundPost")
        if kind == BLOCKED_POST or thread.get("blocked") is True:
            return transient(
                "blocked (a blockedPost: a block between the author and whoever asks): "
                "about who asks, not a removal"
            )
        seen, problem = read_post_view(thread.get("post"))
        if seen is None:
            return transient(f"the thread's post cannot be read: {problem}")
        self._attributions.forget(post.post_id)
        return visible(thread["post"], seen)

    def _gone(self, post: PostRef, capture: Capture, signal: str, said: str) -> Observation:
        known = self._attributions.done.get(post.post_id)
        if known is not None:
            return replace(known, detail=f"{known.detail} (attributed earlier)")
        attributed = post.post_id in self._attributions.done
        if post_uri_parts(post.post_id) is not None:
            self._attributions.start(post.post_id, signal, capture.fetched_at)
        then = (
            "attribution found nothing more earlier"
            if attributed
            else "its next checks ask why: the moderation labels, the account, the author's repo"
        )
        return Observation(
            Status.REMOVED_UNKNOWN,
            code=signal,
            detail=f"the AppView no longer serves the post ({said}): deleted by its author, taken "
            f"down, or its account deactivated, suspended or deleted; {then}",
        )

    def parse_posts(self, posts: Sequence[PostRef], capture: Capture) -> PostsView:
        """A ``getPosts`` answer for ``posts`` (``posts_request``)."""
        body, problem = json_body(capture)
        if problem is not None:
            return PostsView(Status.UNREACHABLE, problem)
        shown = body.get("posts") if isinstance(body, dict) else None
        if not isinstance(shown, list):
            return PostsView(Status.UNREACHABLE, "answer is not a getPosts answer (no posts list)")
        asked = {post.post_id for post in posts}
        seen: dict[str, Observation] = {}
        for item in shown:
            read, _ = read_post_view(item)
            if read is not None and read.post_id in asked and isinstance(item, dict):
                seen[read.post_id] = visible(item, read)
        missing = tuple(post.post_id for post in posts if post.post_id not in seen)
        detail = f"{len(seen)} of {len(asked)} posts visible"
        if missing:
            detail += f"; {len(missing)} not shown, each confirmed by its own check"
        return PostsView(Status.LIVE, detail, seen, missing)

    # -- attribution steps ------------------------------------------------------------------

    def _retry(self, step: _Step, why: str) -> Observation:
        """A step's answer said nothing: the same step is asked at the post's next check. The
        labels are never passed over: they alone date a takedown, and an account suspended
        only after the post went must not be blamed for it."""
        step.failures += 1
        return transient(f"{why} (attribution step {step.step}, attempt {step.failures})")

    def _advance(self, step: _Step, to: str, detail: str) -> Observation:
        step.step, step.failures = to, 0
        return transient(detail, code=step.signal)

    def _finish(self, post: PostRef, observation: Observation | None, detail: str) -> Observation:
        """The end of a post's attribution: ``observation`` says why it went, or (None) the
        answers could not say: the post stays ``unknown``."""
        self._attributions.finish(post.post_id, observation)
        if observation is not None:
            return observation
        return transient(detail + ": the removal stays unattributed")

    def _parse_labels(self, post: PostRef, capture: Capture, step: _Step) -> Observation:
        body, problem = json_body(capture)
        raw = body.get("labels") if isinstance(body, dict) and problem is None else None
        if not isinstance(raw, list):
            return self._retry(step, problem or "answer is not a queryLabels answer")
        labels = [label for label in map(parse_label, raw) if label is not None]
        did = (post_uri_parts(post.post_id) or ("",))[0]
        now = capture.fetched_at
        source = self.labeler_did
        on_post = takedown_since(labels, post.post_id, source, now)
        on_account = takedown_since(labels, did, source, now)
        reversed_ = _reversals(labels, (post.post_id, did), source)
        # A takedown dated after the post was first answered gone is not why it went.
        later = []
        if on_post is not None and on_post > step.gone_at:
            later.append(f"the post's takedown label ({iso(on_post)}) came after it went")
            on_post = None
        if on_account is not None and on_account > step.gone_at:
            later.append(f"the account's takedown label ({iso(on_account)}) came after it went")
            step.account_later, on_account = on_account, None
        if later:
            reversed_ = join_detail(
                reversed_, "; ".join(later) + f" (first answered gone {iso(step.gone_at)})"
            )
        if on_post is not None and (on_account is None or on_post <= on_account):
            return self._finish(
                post,
                Observation(
                    Status.CENSORED,
                    code="takedown-label",
                    detail=join_detail(
                        f"post gone ({step.signal}); the moderation service {source} labelled it "
                        f"!takedown at {iso(on_post)}: taken down by Bluesky's moderation",
                        reversed_,
                    ),
                ),
                "",
            )
        if on_account is not None:
            return self._finish(
                post,
                Observation(
                    Status.ACCOUNT_SUSPENDED,
                    code="takedown-label",
                    detail=join_detail(
                        f"post gone ({step.signal}); the moderation service {source} labelled "
                        f"the author's account !takedown at {iso(on_account)}",
                        reversed_,
                    ),
                ),
                "",
            )
        step.labels_read_at = capture.alive_at
        if step.taken_down is not None and step.account_later is not None:
            return self._finish(
                post,
                None,
                f"post gone ({step.signal}); the author's account is taken down "
                f"({step.taken_down}), since {iso(step.account_later)}, after the post was "
                f"first answered gone ({iso(step.gone_at)}): not why it went",
            )
        if step.taken_down is not None:
            return self._finish(
                post,
                Observation(
                    Status.ACCOUNT_SUSPENDED,
                    code="AccountTakedown",
                    detail=join_detail(
                        f"post gone ({step.signal}); the author's account is taken down or "
                        f"suspended ({step.taken_down}); no label of the moderation service "
                        "dates it",
                        reversed_,
                    ),
                ),
                "",
            )
        said = "no takedown label in force"
        return self._advance(
            step,
            PROFILE,
            join_detail(f"post gone ({step.signal}); {said}", reversed_)
            + "; the account is asked next",
        )

    def _parse_profile(self, post: PostRef, capture: Capture, step: _Step) -> Observation:
        did = (post_uri_parts(post.post_id) or ("",))[0]
        if capture.status == 400 and answer_problem(capture) is None:
            error = xrpc_error(capture)
            if error is not None:
                return self._account_error(post, step, error, "getProfile")
        body, problem = json_body(capture)
        if problem is not None or not isinstance(body, dict):
            return self._retry(step, problem or "answer is not a profile")
        profiles = body.get("profiles")
        profile = profiles[0] if isinstance(profiles, list) and len(profiles) == 1 else body
        if not isinstance(profile, dict) or profile.get("did") != did:
            return self._retry(step, "answer is not the author's profile")
        to = RECORD if did in self._attributions.pds else DID_DOC
        step.account_fine_at = capture.alive_at
        return self._advance(
            step,
            to,
            f"post gone ({step.signal}); the author's account is in good standing: its own "
            "repository is asked next (a record still there was hidden, not deleted)",
        )

    def _account_error(
        self, post: PostRef, step: _Step, error: tuple[str, str], method: str
    ) -> Observation:
        name, message = error
        said = f"{method}: 400 {name} {message!r}"
        taken_down = name in ("AccountTakedown", "RepoTakendown", "RepoSuspended")
        closed = taken_down or name in ("AccountDeactivated", "RepoDeactivated")
        if closed and step.account_fine_at is not None:
            return self._finish(
                post,
                None,
                f"post gone ({step.signal}); the author's account is closed now ({said}), but "
                f"it was in good standing at {iso(step.account_fine_at)}, after the post was "
                f"first answered gone ({iso(step.gone_at)}): not why it went",
            )
        if taken_down and step.account_later is not None:
            return self._finish(
                post,
                None,
                f"post gone ({step.signal}); the author's account is taken down ({said}), but "
                f"only since {iso(step.account_later)}, after the post was first answered gone "
                f"({iso(step.gone_at)}): not why it went",
            )
        if taken_down and step.labels_read_at is not None and step.taken_down is None:
            step.taken_down = said
            return self._advance(
                step,
                LABELS,
                f"post gone ({step.signal}); the author's account is taken down ({said}), and "
                f"was not labelled so at {iso(step.labels_read_at)}: the labels are read again "
                "to date the takedown (one after the post went is not why it went)",
            )
        if taken_down:
            return self._finish(
                post,
                Observation(
                    Status.ACCOUNT_SUSPENDED,
                    code=name,
                    detail=f"post gone ({step.signal}); the author's account is taken down or "
                    f"suspended ({said})",
                ),
                "",
            )
        if name in ("AccountDeactivated", "RepoDeactivated"):
            return self._finish(
                post,
                Observation(
                    Status.AUTHOR_DELETED,
                    code=name,
                    detail=f"post gone ({step.signal}); the author deactivated the account "
                    f"({said}): the author's own choice, reversible, not a removal by the "
                    "platform",
                ),
                "",
            )
        if message == "Profile not found" or name == "RepoNotFound" or "find repo" in message:
            return self._finish(
                post,
                None,
                f"post gone ({step.signal}); the author's account is not found ({said}): "
                "deleted, or not known here",
            )
        return self._retry(step, f"refused ({said}): not an answer about the account")

    def _parse_did(self, post: PostRef, capture: Capture, step: _Step) -> Observation:
        did = (post_uri_parts(post.post_id) or ("",))[0]
        problem = answer_problem(capture)
        if problem is None and capture.status in (404, 410) and not looks_like_html(capture):
            gone = (
                "not registered" if capture.status == 404 else "tombstoned (deactivated for good)"
            )
            return self._finish(
                post,
                None,
                f"post gone ({step.signal}); the author's DID is {gone} ({capture.status})",
            )
        body, problem = json_body(capture)
        endpoint = pds_endpoint(body, did) if problem is None else None
        if endpoint is None:
            return self._retry(step, problem or "answer is not the author's DID document")
        self._attributions.remember_pds(did, endpoint)
        return self._advance(
            step, RECORD, f"post gone ({step.signal}); the author's repository is at {endpoint}"
        )

    def _parse_repo(self, post: PostRef, capture: Capture, step: _Step) -> Observation:
        problem = answer_problem(capture)
        if problem is not None:
            return self._retry(step, problem)
        error = xrpc_error(capture) if capture.status == 400 else None
        if error is not None:
            name, message = error
            if name == "RecordNotFound" or message.startswith("Could not locate record"):
                if step.step == RECORD:
                    return self._advance(
                        step,
                        SYNC,
                        f"post gone ({step.signal}); its PDS does not serve the record (400 "
                        f"{name} {message!r}: deleted, or withheld by the PDS): the repo's own "
                        "proof is asked next",
                    )
                return self._finish(
                    post,
                    None,
                    f"post gone ({step.signal}); the repo's proof was refused (400 {name})",
                )
            return self._account_error(post, step, error, step.step)
        if step.step == SYNC:
            return self._parse_proof(post, capture, step)
        body, problem = json_body(capture)
        value = body.get("value") if isinstance(body, dict) else None
        if problem is not None or not isinstance(value, dict) or body.get("uri") != post.post_id:
            return self._retry(step, problem or "answer is not the post's record")
        return self._finish(
            post,
            Observation(
                Status.CENSORED,
                code="appview-hidden",
                detail=f"post gone ({step.signal}); its record is still in the author's "
                "repository (com.atproto.repo.getRecord found it) while the AppView hides it, "
                "with no takedown label from the moderation service: taken down",
            ),
            "",
        )

    def _parse_proof(self, post: PostRef, capture: Capture, step: _Step) -> Observation:
        if capture.status != 200:
            return self._retry(step, f"unexpected HTTP status {capture.status}")
        holds = car_holds_post(capture.body)
        if holds is None:
            return self._retry(step, "answer is not an intact CAR (the repo's proof)")
        if holds:
            return self._finish(
                post,
                Observation(
                    Status.CENSORED,
                    code="pds-takedown",
                    detail=f"post gone ({step.signal}); the repo's signed proof still holds the "
                    "record, which its PDS and the AppView withhold: taken down",
                ),
                "",
            )
        return self._finish(
            post,
            Observation(
                Status.AUTHOR_DELETED,
                code="record-deleted",
                detail=f"post gone ({step.signal}); the record is no longer in the author's "
                "repository (com.atproto.sync.getRecord's proof): the author deleted it",
            ),
            "",
        )
