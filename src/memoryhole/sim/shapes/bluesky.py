"""Bluesky's shapes (``sim serve --platform bluesky``), as the real AppView, PDS, PLC directory
and moderation service answer (held against tests/data/real: ``test_real_bluesky.py``). The
simulator plays all four on one address:

- ``GET /xrpc/app.bsky.feed.getAuthorFeed?actor=…&limit=…&cursor=…``: an author's visible
  posts, newest first (``feedViewPost``s), ``cursor`` the sort time of the page's last item
  when the page is full; an unknown or suspended actor: ``400 InvalidRequest "Profile not
  found"``.
- ``GET /xrpc/memoryhole.sim.getAllPosts?cursor=…&limit=…``: **the simulator's** complete public
  feed (``bluesky:all``), oldest first after the post ``cursor`` names; no such endpoint
  exists on Bluesky (its public stream is the firehose).
- ``GET /xrpc/app.bsky.feed.getPostThread?uri=…``: ``{"thread": threadViewPost}``; once gone,
  whatever the reason, ``400 NotFound "Post not found: …"``.
- ``GET /xrpc/app.bsky.feed.getPosts?uris=…``: the visible posts among those asked (the
  simulator reads one ``uris``: its routes see one value per parameter).
- ``GET /xrpc/app.bsky.actor.getProfile?actor=…``: ``profileViewDetailed``; ``400
  AccountTakedown "Account has been suspended"`` once suspended; ``400 InvalidRequest "Profile
  not found"`` for an unknown actor.
- ``GET /did:plc:…``: the DID document (the PLC directory's answer), naming the simulator as
  the account's PDS.
- ``GET /xrpc/com.atproto.repo.getRecord?repo=…&collection=…&rkey=…`` (the PDS): the record,
  or ``400 RecordNotFound "Could not locate record: …"`` when its author deleted it or the PDS
  withholds it; ``GET /xrpc/com.atproto.sync.getRecord?did=…``: the repo's proof as a CAR
  (DAG-CBOR blocks: the commit, the tree node, and the record while the repo holds it).
- ``GET /xrpc/com.atproto.label.queryLabels?uriPatterns=…``: the moderation service's labels
  (``!takedown``) of the post the pattern names and of its author's account.

How each scenario removal shows: ``author_deleted``: the record leaves the repository.
``account_suspended``: ``AccountTakedown``, and a ``!takedown`` label on the account.
``censored``, one of three ways chosen per post: a ``!takedown`` label on the post (half of
them); hidden by the AppView alone (the PDS still serves the record); or withheld by the PDS
too (only the repo's proof still holds it). Every post reads ``NotFound`` once gone.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from memoryhole.platforms._shared import parse_iso8601
from memoryhole.sim.shapes import (
    Answer,
    iso,
    json_answer,
    limit_of,
    media_of,
    newest,
    pick,
    published_until,
)

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

POST = "app.bsky.feed.post"
STREAM_SLICE = 500  # Jetstream frames in one in-process answer (the transport reads as many)
STREAM_HEADERS = (("content-type", "application/x-ndjson; charset=utf-8"),)
MODERATION_DID = "did:plc:ar7c4by46qjdydhdevvrndac"  # as Bluesky's moderation service
HANDLE_SUFFIX = ".bsky.sim.invalid"
#: How a censored post is hidden (``pick`` per post): by a label, by the AppView, by the PDS.
CENSOR_WAYS = ("label", "label", "appview", "pds")

_NOT_IMPLEMENTED: dict[str, str] = {
    "error": "MethodNotImplemented",
    "message": "Method Not Implemented",
}


def _error(name: str, message: str, status: int = 400) -> Answer:
    return json_answer({"error": name, "message": message}, status)


def _frame(did: str, time_us: int, kind: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
    """One Jetstream frame as Jetstream writes it, with its time and account."""
    frame = {"did": did, "time_us": time_us, "kind": kind, kind: body}
    return time_us, did, json.dumps(frame, ensure_ascii=False).encode()


def did_of(author_id: str) -> str:
    """A did:plc for a scenario author: 24 base32 characters, as PLC's."""
    digest = hashlib.sha256(f"memoryhole-sim:{author_id}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def handle_of(author_id: str) -> str:
    return f"u{author_id}{HANDLE_SUFFIX}"


def uri_of(post: ScenarioPost) -> str:
    return f"at://{did_of(post.author_id)}/{POST}/{post.post_id}"


# -- DAG-CBOR and CIDs (what the repo's proof is made of) --------------------------------------


class Link(bytes):
    """A CID (binary) linked from a DAG-CBOR block (tag 42)."""


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | extra]) + value.to_bytes(size, "big")
    raise ValueError("integer too large")


def cbor(value: Any) -> bytes:
    """DAG-CBOR: map keys in length-then-bytes order, CIDs as tag 42."""
    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, Link):
        raw = b"\x00" + bytes(value)
        return b"\xd8\x2a" + _head(2, len(raw)) + raw
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode()
        return _head(3, len(data)) + data
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(cbor(item) for item in value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return _head(5, len(keys)) + b"".join(cbor(key) + cbor(value[key]) for key in keys)
    raise TypeError(f"cannot encode {type(value).__name__}")


def cid_bytes(block: bytes) -> Link:
    """CIDv1, dag-cbor, sha2-256 of ``block``."""
    return Link(b"\x01\x71\x12\x20" + hashlib.sha256(block).digest())


def cid_text(link: bytes) -> str:
    return "b" + base64.b32encode(link).decode().lower().rstrip("=")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def car(root: Link, blocks: list[bytes]) -> bytes:
    header = cbor({"roots": [root], "version": 1})
    parts = [_varint(len(header)), header]
    for block in blocks:
        link = bytes(cid_bytes(block))
        parts += [_varint(len(link) + len(block)), link, block]
    return b"".join(parts)


# -- views ------------------------------------------------------------------------------------


class BlueskyShape:
    name = "bluesky"

    def __init__(self) -> None:
        self._authors: dict[str, str] | None = None  # DID → scenario author
        self._events: list[tuple[int, str, bytes]] | None = None  # Jetstream's, by time

    # -- the scenario as Bluesky's records ----------------------------------------------------

    def author_of(self, sim: SimPlatform, actor: str) -> str | None:
        if self._authors is None:
            self._authors = {did_of(author): author for author in sim.by_author}
        if actor.startswith("did:"):
            return self._authors.get(actor)
        if actor.startswith("u") and actor.endswith(HANDLE_SUFFIX):
            author = actor[1 : -len(HANDLE_SUFFIX)]
            return author if author in sim.by_author else None
        return None

    def post_of(self, sim: SimPlatform, uri: str) -> ScenarioPost | None:
        did, _, rest = uri.removeprefix("at://").partition("/")
        collection, _, rkey = rest.partition("/")
        post = sim.by_id.get(rkey) if collection == POST else None
        return post if post is not None and did_of(post.author_id) == did else None

    def record(self, sim: SimPlatform, post: ScenarioPost, now: float) -> dict[str, Any]:
        _, text = sim.text_at(post, now)
        record: dict[str, Any] = {
            "$type": POST,
            "createdAt": iso(post.published_at),
            "langs": ["zh"],
            "text": text,
        }
        images = [url for kind, url in media_of(post, sim.media_base) if kind == "image"]
        if images:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": "",
                        "image": {
                            "$type": "blob",
                            "ref": {"$link": cid_text(cid_bytes(url.encode()))},
                            "mimeType": "image/jpeg",
                            "size": 65536,
                        },
                    }
                    for url in images
                ],
            }
        return record

    def author_view(self, sim: SimPlatform, author: str) -> dict[str, Any]:
        did = did_of(author)
        return {
            "did": did,
            "handle": handle_of(author),
            "displayName": f"用户{author[-6:]}",
            "avatar": f"{sim.media_base}/img/avatar/plain/{did}/avatar@jpeg",
            "associated": {"chat": {"allowIncoming": "following"}},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": iso(sim.posts[sim.by_author[author][0]].published_at - 86400.0 * 400),
        }

    def post_view(self, sim: SimPlatform, post: ScenarioPost, now: float) -> dict[str, Any]:
        record = self.record(sim, post, now)
        view: dict[str, Any] = {
            "uri": uri_of(post),
            "cid": cid_text(cid_bytes(cbor(record))),
            "author": self.author_view(sim, post.author_id),
            "record": record,
        }
        embed = self.embed_view(sim, post)
        if embed is not None:
            view["embed"] = embed
        view |= {
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": iso(post.published_at),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        return view

    def embed_view(self, sim: SimPlatform, post: ScenarioPost) -> dict[str, Any] | None:
        media = media_of(post, sim.media_base)
        images = [url for kind, url in media if kind == "image"]
        if images:
            return {
                "$type": "app.bsky.embed.images#view",
                "images": [
                    {
                        "thumb": url,
                        "fullsize": url,
                        "alt": "",
                        "aspectRatio": {"height": 600, "width": 800},
                    }
                    for url in images
                ],
            }
        for kind, url in media:
            if kind == "video":
                return {
                    "$type": "app.bsky.embed.video#view",
                    "cid": cid_text(cid_bytes(url.encode())),
                    "playlist": url,
                    "aspectRatio": {"height": 720, "width": 1280},
                }
        return None

    def profile(self, sim: SimPlatform, author: str) -> dict[str, Any]:
        view = self.author_view(sim, author)
        view["associated"] = {
            "lists": 0,
            "feedgens": 0,
            "starterPacks": 0,
            "labeler": False,
            "chat": {"allowIncoming": "following"},
        }
        return view | {
            "description": "",
            "indexedAt": view["createdAt"],
            "followersCount": 0,
            "followsCount": 0,
            "postsCount": len(sim.by_author[author]),
        }

    def did_document(self, sim: SimPlatform, author: str) -> dict[str, Any]:
        did = did_of(author)
        key = base64.b32encode(hashlib.sha256(did.encode()).digest()).decode().lower()[:44]
        return {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1",
            ],
            "id": did,
            "alsoKnownAs": [f"at://{handle_of(author)}"],
            "verificationMethod": [
                {
                    "id": f"{did}#atproto",
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": f"zQ3sh{key}",
                }
            ],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": sim.media_base,
                }
            ],
        }

    # -- what happened to a post ----------------------------------------------------------------

    def shown(self, sim: SimPlatform, post: ScenarioPost | None, now: float) -> bool:
        return post is not None and post.published_at <= now and sim.removal_at(post, now) is None

    def in_repo(self, sim: SimPlatform, post: ScenarioPost, now: float) -> bool:
        """The repository still holds the record (all but an author's deletion)."""
        return post.published_at <= now and sim.removal_at(post, now) != "author_deleted"

    def pds_serves(self, sim: SimPlatform, post: ScenarioPost, now: float) -> bool:
        if not self.in_repo(sim, post, now):
            return False
        return sim.removal_at(post, now) != "censored" or pick(post.post_id, CENSOR_WAYS) != "pds"

    def labels(self, sim: SimPlatform, post: ScenarioPost, now: float) -> list[dict[str, Any]]:
        found: list[tuple[float, str]] = []
        gone = sim.gone.get(post.post_id)
        labelled = pick(post.post_id, CENSOR_WAYS) == "label"
        if gone is not None and gone[1] == "censored" and gone[0] <= now and labelled:
            found.append((gone[0], uri_of(post)))
        suspended = sim.suspended_at.get(post.author_id)
        if suspended is not None and suspended <= now:
            found.append((suspended, did_of(post.author_id)))
        return [self.label(subject, at) for at, subject in sorted(found)]

    @staticmethod
    def label(subject: str, at: float) -> dict[str, Any]:
        sig = hashlib.sha512(f"{subject}!takedown{at}".encode()).digest()
        return {
            "ver": 1,
            "src": MODERATION_DID,
            "uri": subject,
            "val": "!takedown",
            "cts": iso(at),
            "sig": {"$bytes": base64.b64encode(sig).decode().rstrip("=")},
        }

    # -- requests ---------------------------------------------------------------------------------

    def handle(
        self, sim: SimPlatform, method: str, path: str, query: Mapping[str, str], now: float
    ) -> Answer:
        if method != "GET":
            return _error("InvalidRequest", "Incorrect HTTP method", 405)
        if path == "/subscribe":
            return self.subscribe(sim, query, now)
        if path.startswith("/did:"):
            author = self.author_of(sim, path[1:])
            if author is None:
                return json_answer({"message": f"DID not registered: {path[1:]}"}, 404)
            return json_answer(self.did_document(sim, author))
        name = path.removeprefix("/xrpc/")
        route = {
            "app.bsky.feed.getAuthorFeed": self.author_feed,
            "memoryhole.sim.getAllPosts": self.all_posts,
            "app.bsky.feed.getPostThread": self.thread,
            "app.bsky.feed.getPosts": self.posts,
            "app.bsky.actor.getProfile": self.get_profile,
            "com.atproto.repo.getRecord": self.get_record,
            "com.atproto.sync.getRecord": self.sync_record,
            "com.atproto.label.queryLabels": self.query_labels,
        }.get(name)
        if route is None:
            return json_answer(_NOT_IMPLEMENTED, 501)
        return route(sim, query, now)

    def subscribe(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        """Jetstream: the events after ``cursor`` (time_us) up to now, one JSON frame a line
        (over WebSocket, ``sim/server.py`` sends each line as a frame): a post's ``create``
        when published, its ``delete`` when its author deletes it, an account's
        ``takendown`` when suspended (a moderation takedown of a post deletes nothing)."""
        events = self._events if self._events is not None else self._jetstream(sim)
        self._events = events
        try:
            after = int(query.get("cursor") or 0)
        except ValueError:
            return json_answer({"error": "InvalidCursor"}, 400)
        wanted = {did for did in (query.get("wantedDids") or "").split(",") if did}
        until = int(now * 1_000_000)
        start = bisect.bisect_right(events, (after, "\uffff", b""))
        lines: list[bytes] = []
        for time_us, did, frame in events[start:]:
            if time_us > until or len(lines) >= STREAM_SLICE:
                break
            if not wanted or did in wanted:
                lines.append(frame)
        return 200, STREAM_HEADERS, b"\n".join(lines)

    def _jetstream(self, sim: SimPlatform) -> list[tuple[int, str, bytes]]:
        frames: list[tuple[int, str, bytes]] = []
        for index, post in enumerate(sim.posts):
            did, at, tie = did_of(post.author_id), post.published_at, index % 1000
            record = self.record(sim, post, at)
            create: dict[str, Any] = {"rev": f"r{index}", "operation": "create"}
            create |= {"collection": POST, "rkey": post.post_id, "record": record}
            create["cid"] = cid_text(cid_bytes(cbor(record)))
            frames.append(_frame(did, int(at * 1e6) + tie, "commit", create))
            gone = sim.gone.get(post.post_id)
            if gone is not None and gone[1] == "author_deleted":
                delete = {"rev": f"d{index}", "operation": "delete", "collection": POST}
                delete["rkey"] = post.post_id
                frames.append(_frame(did, int(gone[0] * 1e6) + tie, "commit", delete))
        for number, (author, at) in enumerate(sorted(sim.suspended_at.items())):
            did = did_of(author)
            account = {"active": False, "did": did, "seq": number + 1, "status": "takendown"}
            frames.append(_frame(did, int(at * 1e6), "account", account | {"time": iso(at)}))
        return sorted(frames, key=lambda frame: frame[0])

    def author_feed(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        author = self.author_of(sim, query.get("actor", ""))
        if author is None or sim.is_suspended(author, now):
            return _error("InvalidRequest", "Profile not found")
        limit = limit_of(query, 50, 100)
        before = query.get("cursor")
        indices = sim.by_author[author]
        if before:
            until = parse_iso8601(before)
            if until is None:
                return _error("InvalidRequest", "Malformed cursor")
            indices = [i for i in indices if sim.posts[i].published_at < until]
        chosen = newest(sim, indices, now, limit)
        feed = [{"post": self.post_view(sim, sim.posts[i], now)} for i in chosen]
        answer: dict[str, Any] = {"feed": feed}
        if len(chosen) >= limit:
            answer["cursor"] = iso(sim.posts[chosen[-1]].published_at)
        return json_answer(answer)

    def all_posts(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        limit = limit_of(query, 50, 100)
        since = query.get("cursor") or None
        start = sim.position[since] + 1 if since in sim.position else 0
        feed: list[dict[str, Any]] = []
        cursor = since
        for index in range(start, published_until(sim, now)):
            post = sim.posts[index]
            cursor = post.post_id
            if sim.removal_at(post, now) is None:
                feed.append({"post": self.post_view(sim, post, now)})
                if len(feed) >= limit:
                    break
        answer: dict[str, Any] = {"feed": feed}
        if cursor:
            answer["cursor"] = cursor
        return json_answer(answer)

    def thread(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        uri = query.get("uri", "")
        post = self.post_of(sim, uri)
        if post is None or not self.shown(sim, post, now):
            return _error("NotFound", f"Post not found: {uri}")
        view = {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": self.post_view(sim, post, now),
            "replies": [],
        }
        return json_answer({"thread": view})

    def posts(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        post = self.post_of(sim, query.get("uris", ""))
        shown = [self.post_view(sim, post, now)] if post and self.shown(sim, post, now) else []
        return json_answer({"posts": shown})

    def get_profile(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        author = self.author_of(sim, query.get("actor", ""))
        if author is None:
            return _error("InvalidRequest", "Profile not found")
        if sim.is_suspended(author, now):
            return _error("AccountTakedown", "Account has been suspended")
        return json_answer(self.profile(sim, author))

    def _repo_post(
        self, sim: SimPlatform, repo: str, query: Mapping[str, str], now: float
    ) -> tuple[str | None, ScenarioPost | None, str]:
        author = self.author_of(sim, repo)
        did = did_of(author) if author is not None else repo
        uri = f"at://{did}/{query.get('collection', '')}/{query.get('rkey', '')}"
        return author, self.post_of(sim, uri), uri

    def get_record(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        repo = query.get("repo", "")
        author, post, uri = self._repo_post(sim, repo, query, now)
        if author is None or sim.is_suspended(author, now):
            return _error("InvalidRequest", f"Could not find repo: {repo}")
        if post is None or not self.pds_serves(sim, post, now):
            return _error("RecordNotFound", f"Could not locate record: {uri}")
        record = self.record(sim, post, now)
        return json_answer({"uri": uri, "cid": cid_text(cid_bytes(cbor(record))), "value": record})

    def sync_record(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        did = query.get("did", "")
        author, post, _ = self._repo_post(sim, did, query, now)
        if author is None:
            return _error("RepoNotFound", f"Could not find repo for DID: {did}")
        if sim.is_suspended(author, now):
            return _error("RepoTakendown", f"Repo has been takendown: {did}")
        blocks: list[bytes] = []
        entries: list[dict[str, Any]] = []
        if post is not None and self.in_repo(sim, post, now):
            record = cbor(self.record(sim, post, now))
            key = f"{POST}/{post.post_id}".encode()
            entries.append({"k": key, "p": 0, "t": None, "v": cid_bytes(record)})
            blocks.append(record)
        node = cbor({"e": entries, "l": None})
        commit = cbor(
            {
                "did": did,
                "version": 3,
                "data": cid_bytes(node),
                "rev": f"3sim{int(now)}",
                "prev": None,
                "sig": hashlib.sha512(node).digest(),
            }
        )
        body = car(cid_bytes(commit), [commit, node, *blocks])
        return 200, (("content-type", "application/vnd.ipld.car"),), body

    def query_labels(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        pattern = query.get("uriPatterns", "")
        post = self.post_of(sim, pattern)
        labels: list[dict[str, Any]] = []
        if post is not None:
            labels = self.labels(sim, post, now)
        else:
            author = self.author_of(sim, pattern)
            suspended = sim.suspended_at.get(author) if author is not None else None
            if suspended is not None and suspended <= now:
                labels = [self.label(pattern, suspended)]
        sources = query.get("sources")
        if sources and sources != MODERATION_DID:
            labels = []
        return json_answer({"cursor": str(len(labels)), "labels": labels})
