"""What one leaf of the evidence log says: an observation's canonical record.

Every observation (one check or one listing poll) becomes the bytes of a canonical JSON object
(keys sorted, no spaces, UTF-8), and its RFC 9162 leaf hash ``SHA-256(0x00 ‖ bytes)`` is stored
with the row in the same transaction. The leaf index of observation ``id`` is ``id - 1``.

The record holds everything needed to judge the observation without the store: which post (by
platform and post id), what was asked (method, URL), when (sent, answered: platform clock;
received: local wall clock), what came back (HTTP status, headers, the sha256 and size of the
raw body) and how it was classified (status, code, detail). It holds no author id, so a
takedown can remove an author's content while every leaf still verifies.

Format version 1 (a contract; docs/evidence.md):
``{"v": 1, "id", "kind", "platform", "post_id", "seq", "status", "sent_at", "observed_at",
"received_at", "elapsed", "method", "url", "http_status", "headers", "body_sha256",
"body_size", "content_hash", "code", "detail", "error"}``

Format version 2 adds ``"facts"``: what the leaf states about its post (a ``post`` leaf when a
post is first listed: ``author`` (a commitment to its pseudonym, ``author_commitment``),
``published_at``, ``published_until``, ``first_seen_at``, ``text_sha256``, ``discovered_by``;
a check that gives the exact publication time or a long post's whole text: those keys). A row
whose ``facts`` is null is a version 1 record, byte for byte as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from memoryhole.evidence.merkle import leaf_hash

LEAF_FORMAT_VERSION = 1
FACTS_FORMAT_VERSION = 2

#: Kinds whose record names its post (``platform``, ``post_id``): a check of the post, a
#: fetch of one of its media files (``collect/media.py``), and the whole text of a long post
#: that completes a check (``text``). Other kinds (a listing poll, an import) name the platform
#: of their target and no post.
POST_LEAF_KINDS = frozenset({"check", "media", "text", "post", "vantage"})
#: A new post's facts as first listed (``facts``), named by the post (format version 2).
POST_KIND = "post"

#: Observation columns copied into the record as they are.
ROW_FIELDS = (
    "id",
    "kind",
    "seq",
    "status",
    "sent_at",
    "observed_at",
    "received_at",
    "elapsed",
    "method",
    "url",
    "http_status",
    "body_sha256",
    "body_size",
    "content_hash",
    "code",
    "detail",
    "error",
)


def leaf_record(
    row: Mapping[str, Any],
    platform: str,
    post_id: str | None,
    headers: list[Any] | tuple[Any, ...] | None = None,
) -> dict[str, Any]:
    """The record of an observation row (as stored: ``response_headers`` is JSON text).

    ``headers``, if given, are the decoded ``response_headers`` (saves decoding them again).
    """
    record = {name: row[name] for name in ROW_FIELDS}
    record["v"] = LEAF_FORMAT_VERSION
    record["platform"] = platform
    record["post_id"] = post_id
    record["headers"] = json.loads(row["response_headers"]) if headers is None else headers
    facts = row.get("facts")
    if facts is not None:
        record["v"] = FACTS_FORMAT_VERSION
        record["facts"] = json.loads(facts) if isinstance(facts, str) else facts
    return record


def author_commitment(pseudonym: str) -> str:
    """What a leaf says of a post's author: a hash of its pseudonym (the leaf never holds the
    pseudonym or the platform's id, so a takedown leaves nothing of the author in it)."""
    return hashlib.sha256(f"memoryhole/author\n{pseudonym}".encode()).hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def facts_json(facts: Mapping[str, Any]) -> str:
    """The ``facts`` column: canonical JSON (the leaf holds it parsed)."""
    return _CANONICAL.encode(dict(facts))


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    return _CANONICAL.encode(record).encode()


def record_leaf_hash(record: Mapping[str, Any]) -> bytes:
    return leaf_hash(canonical_bytes(record))


def row_leaf_hash(
    row: Mapping[str, Any],
    platform: str,
    post_id: str | None,
    headers: list[Any] | tuple[Any, ...] | None = None,
) -> bytes:
    return record_leaf_hash(leaf_record(row, platform, post_id, headers))
