"""The rows an observation and a verdict become: built here, for the collector and the imports.

``observation_row`` gives the stored row of one observation with its leaf hash (the record of
``evidence/leaf.py``); ``verdict_row`` the stored row of a post's verdict with its chain
(``evidence/heads.py``). Both writers (``collect/recorder.py``, ``imports/writer.py``) build
their rows only through these, so a leaf written by one verifies like one written by the other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from memoryhole.evidence.leaf import POST_LEAF_KINDS, facts_json, row_leaf_hash
from memoryhole.store.state import PostState

Headers = tuple[tuple[str, str], ...]


class HeadersJson:
    """Response headers as stored (JSON text), each distinct set encoded once: answers repeat
    the same headers (their Date changes once a second)."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._encoded: dict[Headers, str] = {}

    def __call__(self, headers: Headers) -> str:
        encoded = self._encoded.get(headers)
        if encoded is None:
            if len(self._encoded) > self.limit:
                self._encoded.clear()
            encoded = json.dumps(headers, ensure_ascii=False)
            self._encoded[headers] = encoded
        return encoded


def observation_row(
    observation_id: int,
    *,
    kind: str,
    status: str,
    platform: str,
    post_pk: int | None,
    post_id: str | None,
    target_pk: int | None,
    seq: int | None,
    sent_at: float,
    observed_at: float,
    received_at: float,
    elapsed: float,
    method: str,
    url: str,
    http_status: int | None,
    headers: Headers | Sequence[Any],
    headers_json: str,
    body_sha256: str,
    body_size: int,
    content_hash: str | None,
    code: str | None,
    detail: str,
    error: str | None,
    facts: dict[str, Any] | None,
) -> dict[str, Any]:
    """One observation's row, its ``leaf_hash`` included. ``post_id`` is named in the leaf only
    for the kinds that are about one post (``POST_LEAF_KINDS``); ``headers_json`` is
    ``headers`` as stored (``HeadersJson``)."""
    row: dict[str, Any] = {
        "id": observation_id,
        "kind": kind,
        "post_pk": post_pk,
        "target_pk": target_pk,
        "seq": seq,
        "status": status,
        "sent_at": sent_at,
        "observed_at": observed_at,
        "received_at": received_at,
        "elapsed": elapsed,
        "method": method,
        "url": url,
        "http_status": http_status,
        "response_headers": headers_json,
        "body_sha256": body_sha256,
        "body_size": body_size,
        "content_hash": content_hash,
        "code": code,
        "detail": detail,
        "error": error,
        "facts": facts_json(facts) if facts else None,
    }
    named = post_id if post_pk is not None and kind in POST_LEAF_KINDS else None
    row["leaf_hash"] = row_leaf_hash(row, platform, named, tuple(headers))
    return row


def history_json(history: Sequence[tuple[float, str]]) -> str:
    """``json.dumps(history)``, faster (it runs once per verdict written)."""
    return "[" + ", ".join(f'[{float(at)!r}, "{status}"]' for at, status in history) + "]"


def verdict_row(post: PostState, updated_at: float) -> dict[str, Any]:
    """A post's verdict row: its state machine's state and its chain of observations."""
    verdict = post.verdict
    return {
        "post_pk": post.pk,
        "status": verdict.status.value,
        "first_seen_at": verdict.first_seen_at,
        "last_seen_alive_at": verdict.last_seen_alive_at,
        "first_seen_removed_at": verdict.first_seen_removed_at,
        "signal": verdict.signal,
        "edited": verdict.edited,
        "content_hash": verdict.content_hash,
        "checks": post.checks,
        "failures": post.failures,
        "history": history_json(verdict.history),
        "updated_at": updated_at,
        "chain": post.chain.hex() if post.chain_length else None,
        "chain_length": post.chain_length,
    }
