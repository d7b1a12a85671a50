"""One post's full record as its page shows it, read from the store on each request: its
observations, the text of every snapshot (parsed from the raw responses by the platform's
adapter) and a character diff between consecutive texts; and a raw response by its id. Posts of
authors taken down are never returned.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from memoryhole.analysis.overview import shown_authors
from memoryhole.model import Capture, PostRef, Request, Status
from memoryhole.store.blobs import BlobCorruptError
from memoryhole.store.queries import redacted_authors
from memoryhole.store.schema import authors, observations, posts, verdicts
from memoryhole.study import Study


@dataclass(frozen=True)
class DiffPiece:
    op: str  # "equal" | "insert" | "delete"
    text: str


@dataclass
class Snapshot:
    """One distinct text the post showed, from the first check that saw it."""

    observation_id: int | None  # None: the listing that discovered the post
    at: float
    text: str | None  # None when the raw response is no longer stored
    note: str = ""
    diff: list[DiffPiece] = field(default_factory=list)  # against the previous snapshot


@dataclass
class PostRecord:
    pk: int
    platform: str
    post_id: str
    author: str
    author_raw_id: str
    published_at: float
    first_seen_at: float
    text: str
    verdict: dict[str, Any]
    history: list[tuple[float, str]]
    observations: list[dict[str, Any]]
    snapshots: list[Snapshot]
    discovered_at: float | None
    target_pk: int | None = None

    @property
    def url(self) -> str | None:
        """Where the post is on the platform: the URL its checks asked (None before one)."""
        for row in self.observations:
            if row["kind"] == "check" and str(row["url"]).startswith(("http://", "https://")):
                return str(row["url"])
        return None

    @property
    def checks(self) -> int:
        """Looks at the post's state (the timeline's marks): checks and imported sightings."""
        return sum(1 for o in self.observations if o["kind"] in ("check", "import"))

    @property
    def interval(self) -> float | None:
        """Width of the removal interval (seconds), when the post was seen alive and removed."""
        alive = self.verdict.get("last_seen_alive_at")
        removed = self.verdict.get("first_seen_removed_at")
        if alive is None or removed is None:
            return None
        return float(removed) - float(alive)

    @property
    def removed_after(self) -> tuple[float, float] | None:
        """How long after publication it went: (at least, at most) seconds, from its last
        sighting alive and its first sighting removed (None unless both are known)."""
        alive = self.verdict.get("last_seen_alive_at")
        removed = self.verdict.get("first_seen_removed_at")
        if alive is None or removed is None:
            return None
        return max(0.0, float(alive) - self.published_at), float(removed) - self.published_at


def char_diff(before: str, after: str) -> list[DiffPiece]:
    """A character diff (Chinese has no spaces to split words on)."""
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    pieces: list[DiffPiece] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(DiffPiece("equal", before[a0:a1]))
            continue
        if a1 > a0:
            pieces.append(DiffPiece("delete", before[a0:a1]))
        if b1 > b0:
            pieces.append(DiffPiece("insert", after[b0:b1]))
    return pieces


def _snapshot_text(study: Study, row: dict[str, Any], platform: str, post_id: str) -> Snapshot:
    at = float(row["sent_at"])
    try:
        body = study.blobs.get(row["body_sha256"])
    except FileNotFoundError:
        return Snapshot(row["id"], at, None, "raw response no longer stored (taken down)")
    except BlobCorruptError:
        return Snapshot(row["id"], at, None, "raw response does not match its hash: altered")
    try:
        from memoryhole.platforms import registry

        adapter = registry.get(platform, study.base_url(platform), study_dir=study.path)
        capture = Capture(
            request=Request(str(row["method"]), str(row["url"])),
            status=row["http_status"],
            headers=tuple((str(k), str(v)) for k, v in json.loads(row["response_headers"])),
            body=body,
            fetched_at=float(row["observed_at"]),
            received_at=float(row["received_at"]),
            sent_at=float(row["sent_at"]),
        )
        seen = adapter.parse_check(PostRef(platform, post_id, ""), capture)
    except Exception as exc:  # an adapter that cannot read its own capture: say so, go on
        return Snapshot(row["id"], at, None, f"could not parse the raw response ({exc})")
    return Snapshot(row["id"], at, seen.text)


def post_record(study: Study, platform: str, post_id: str) -> PostRecord | None:
    """The post's full record, or None when it is unknown or its author was taken down."""
    with study.engine.connect() as conn:
        post = (
            conn.execute(
                select(posts, authors.c.pseudonym, authors.c.raw_id)
                .join(authors, authors.c.id == posts.c.author_pk)
                .where(posts.c.platform == platform, posts.c.post_id == post_id)
            )
            .mappings()
            .first()
        )
        if post is None or post["pseudonym"] in redacted_authors(study.engine):
            return None
        verdict = (
            conn.execute(select(verdicts).where(verdicts.c.post_pk == post["id"]))
            .mappings()
            .first()
        )
        rows = [
            dict(row)
            for row in conn.execute(
                select(observations)
                .where(observations.c.post_pk == post["id"])
                .order_by(observations.c.id)
            ).mappings()
        ]
        discovered_at = None
        if post["discovered_by"] is not None:
            discovered_at = conn.execute(
                select(observations.c.sent_at).where(observations.c.id == post["discovered_by"])
            ).scalar()
    verdict_dict: dict[str, Any] = dict(verdict) if verdict is not None else {}
    if verdict_dict:
        status = verdict_dict["status"]
        verdict_dict["verdict"] = "live" if status == "edited" else status
    history = [(float(at), str(s)) for at, s in json.loads(verdict_dict.get("history") or "[]")]
    snapshots = [Snapshot(None, float(post["first_seen_at"]), str(post["text"]), "as listed")]
    seen_hashes: set[str] = set()
    for row in rows:
        status = Status(row["status"])
        if status.is_visible and row["content_hash"] and row["content_hash"] not in seen_hashes:
            seen_hashes.add(row["content_hash"])
            snapshot = _snapshot_text(study, row, platform, post_id)
            if snapshot.text is not None and snapshot.text == snapshots[-1].text:
                continue
            snapshots.append(snapshot)
    previous: str | None = None
    for snapshot in snapshots:
        if previous is not None and snapshot.text is not None and snapshot.text != previous:
            snapshot.diff = char_diff(previous, snapshot.text)
        if snapshot.text is not None:
            previous = snapshot.text
    for row in rows:
        row.pop("leaf_hash", None)
        row["headers"] = json.loads(row.pop("response_headers") or "[]")
    return PostRecord(
        pk=int(post["id"]),
        platform=platform,
        post_id=post_id,
        author=str(post["pseudonym"]),
        author_raw_id=str(post["raw_id"]),
        published_at=float(post["published_at"]),
        first_seen_at=float(post["first_seen_at"]),
        text=str(post["text"]),
        verdict=verdict_dict,
        history=history,
        observations=rows,
        snapshots=snapshots,
        discovered_at=None if discovered_at is None else float(discovered_at),
        target_pk=None if post["target_pk"] is None else int(post["target_pk"]),
    )


MAX_ID = 2**63 - 1


def raw_response(study: Study, observation_id: int) -> bytes | None:
    """The raw body of a check of a post that may be shown (None otherwise, or if gone)."""
    if not 1 <= observation_id <= MAX_ID:  # no such row; a database integer cannot hold it
        return None
    query = (
        select(observations.c.body_sha256)
        .select_from(
            observations.join(posts, posts.c.id == observations.c.post_pk).join(
                authors, authors.c.id == posts.c.author_pk
            )
        )
        .where(
            observations.c.id == observation_id,
            observations.c.kind.in_(("check", "text")),  # the post's own answers
            shown_authors(),
        )
    )
    with study.engine.connect() as conn:
        sha256 = conn.execute(query).scalar()
    if sha256 is None:
        return None
    try:
        return study.blobs.get(str(sha256))
    except (FileNotFoundError, BlobCorruptError):
        return None
