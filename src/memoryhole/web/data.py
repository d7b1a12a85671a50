"""What the dashboard reads per request: the removals feed and one post's full record.

The feed is an in-memory index of every detected removal (newest first), rebuilt by the figure
cache when the store changes, so filtering a million-post study is a few numpy masks and one
primary-key query for the page shown. A post's record is read from the store on each request:
its observations, the text of every snapshot (parsed from the raw responses by the platform's
adapter) and a character diff between consecutive texts. Posts of authors taken down are never
returned.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select

from memoryhole.analysis.overview import REMOVAL_KINDS, shown_authors
from memoryhole.analysis.tokens import han_only
from memoryhole.model import Capture, PostRef, Request, Status
from memoryhole.store.blobs import BlobCorruptError
from memoryhole.store.queries import redacted_authors
from memoryhole.store.schema import authors, observations, posts, verdicts
from memoryhole.study import Study

_HAN_ONLY = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+$")


# --------------------------------------------------------------------------- removals feed


@dataclass
class _Haystack:
    """Many texts joined into one string, so a substring search over all of them is one pass
    of ``str.find`` in C, not a Python loop over the texts."""

    joined: str
    starts: npt.NDArray[np.int64]

    @classmethod
    def build(cls, texts: list[str]) -> _Haystack:
        # NUL never occurs in a search term (it is stripped), so no match spans two texts.
        cleaned = [text.replace("\x00", "") for text in texts]
        lengths = np.fromiter((len(t) + 1 for t in cleaned), dtype=np.int64, count=len(cleaned))
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if cleaned else lengths
        return cls("\x00".join(cleaned), starts.astype(np.int64))

    def containing(self, needle: str, size: int) -> npt.NDArray[np.bool_]:
        """Mask of the texts containing ``needle``."""
        found = np.zeros(size, dtype=bool)
        needle = needle.replace("\x00", "")
        if not needle:
            return ~found
        hits = [m.start() for m in re.finditer(re.escape(needle), self.joined)]
        if hits:
            found[np.searchsorted(self.starts, np.asarray(hits), side="right") - 1] = True
        return found


@dataclass
class RemovalIndex:
    """Every shown removal, newest detection first, as parallel arrays."""

    at: npt.NDArray[np.float64]
    post_pk: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int8]
    platform: npt.NDArray[np.int16]
    platforms: list[str]
    texts: _Haystack  # casefolded texts
    han: _Haystack  # Han characters only, for n-gram terms

    @classmethod
    def build(cls, engine: Engine) -> RemovalIndex:
        query = (
            select(
                verdicts.c.first_seen_removed_at,
                posts.c.id,
                verdicts.c.status,
                posts.c.platform,
                posts.c.text,
            )
            .select_from(
                verdicts.join(posts, posts.c.id == verdicts.c.post_pk).join(
                    authors, authors.c.id == posts.c.author_pk
                )
            )
            .where(
                verdicts.c.status.in_(REMOVAL_KINDS),
                verdicts.c.first_seen_removed_at.is_not(None),
                shown_authors(),
            )
            .order_by(verdicts.c.first_seen_removed_at.desc(), posts.c.id.desc())
        )
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        platforms = sorted({str(row[3]) for row in rows})
        platform_code = {name: i for i, name in enumerate(platforms)}
        kind_code = {name: i for i, name in enumerate(REMOVAL_KINDS)}
        texts = [str(row[4]) for row in rows]
        return cls(
            at=np.array([float(row[0]) for row in rows], dtype=np.float64),
            post_pk=np.array([int(row[1]) for row in rows], dtype=np.int64),
            kind=np.array([kind_code[str(row[2])] for row in rows], dtype=np.int8),
            platform=np.array([platform_code[str(row[3])] for row in rows], dtype=np.int16),
            platforms=platforms,
            texts=_Haystack.build([text.casefold() for text in texts]),
            han=_Haystack.build([han_only(text) for text in texts]),
        )

    def __len__(self) -> int:
        return int(self.at.size)

    def select(self, query: FeedQuery) -> tuple[npt.NDArray[np.int64], int]:
        """The post pks of page ``query.page`` (newest first) and the number of matches."""
        mask = np.ones(self.at.size, dtype=bool)
        if query.platform:
            if query.platform not in self.platforms:
                return np.zeros(0, dtype=np.int64), 0
            mask &= self.platform == self.platforms.index(query.platform)
        if query.kind:
            mask &= self.kind == REMOVAL_KINDS.index(query.kind)
        if query.since is not None:
            mask &= self.at >= query.since
        if query.until is not None:
            mask &= self.at < query.until
        if query.term:
            needle = query.term_text
            haystack = self.han if _HAN_ONLY.match(needle) else self.texts
            mask &= haystack.containing(needle, self.at.size)
        matches = np.flatnonzero(mask)
        start = (query.page - 1) * query.per_page
        return self.post_pk[matches[start : start + query.per_page]], int(matches.size)


def _day(value: str | None, end: bool = False) -> float | None:
    """``YYYY-MM-DD`` or an ISO datetime (UTC unless it says otherwise) → epoch seconds.
    A bare date as the end of a range means the end of that day."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment.timestamp() + (86400.0 if end else 0.0)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass(frozen=True)
class FeedQuery:
    """Filters of the removals feed and the Atom feed (all optional)."""

    platform: str = ""
    kind: str = ""
    term: str = ""
    since_text: str = ""
    until_text: str = ""
    page: int = 1
    per_page: int = 50

    @classmethod
    def parse(
        cls,
        platform: str | None,
        kind: str | None,
        term: str | None,
        since: str | None,
        until: str | None,
        page: int | None = 1,
        per_page: int = 50,
    ) -> FeedQuery:
        kind = kind if kind in REMOVAL_KINDS else ""
        return cls(
            platform=(platform or "").strip()[:64],
            kind=kind or "",
            term=(term or "").strip()[:100],
            since_text=(since or "").strip()[:40],
            until_text=(until or "").strip()[:40],
            page=max(1, min(page or 1, 100_000)),
            per_page=per_page,
        )

    @property
    def since(self) -> float | None:
        return _day(self.since_text)

    @property
    def until(self) -> float | None:
        return _day(self.until_text, end=True)

    @property
    def term_text(self) -> str:
        """The term without its view prefix (``c2:六四`` → ``六四``), casefolded."""
        view, sep, text = self.term.partition(":")
        if sep and re.fullmatch(r"w|c[1-9]", view):
            return text.casefold()
        return self.term.casefold()

    def params(self, **changes: Any) -> dict[str, str]:
        values = {
            "platform": self.platform,
            "kind": self.kind,
            "term": self.term,
            "since": self.since_text,
            "until": self.until_text,
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class FeedItem:
    post_pk: int
    platform: str
    post_id: str
    author: str  # pseudonym
    author_raw_id: str
    published_at: float
    text: str
    kind: str
    last_seen_alive_at: float | None
    first_seen_removed_at: float
    signal: str
    checks: int


def feed_items(engine: Engine, pks: npt.NDArray[np.int64]) -> list[FeedItem]:
    """The rows of these posts, in the order given (re-checked against takedowns)."""
    if pks.size == 0:
        return []
    wanted = [int(pk) for pk in pks]
    query = (
        select(
            posts.c.id,
            posts.c.platform,
            posts.c.post_id,
            authors.c.pseudonym,
            authors.c.raw_id,
            posts.c.published_at,
            posts.c.text,
            verdicts.c.status,
            verdicts.c.last_seen_alive_at,
            verdicts.c.first_seen_removed_at,
            verdicts.c.signal,
            verdicts.c.checks,
        )
        .select_from(
            posts.join(verdicts, verdicts.c.post_pk == posts.c.id).join(
                authors, authors.c.id == posts.c.author_pk
            )
        )
        .where(posts.c.id.in_(wanted), shown_authors())
    )
    with engine.connect() as conn:
        found = {int(row[0]): row for row in conn.execute(query)}
    items = []
    for pk in wanted:
        row = found.get(pk)
        if row is None or row[7] not in REMOVAL_KINDS:
            continue
        items.append(
            FeedItem(
                post_pk=pk,
                platform=str(row[1]),
                post_id=str(row[2]),
                author=str(row[3]),
                author_raw_id=str(row[4]),
                published_at=float(row[5]),
                text=str(row[6]),
                kind=str(row[7]),
                last_seen_alive_at=None if row[8] is None else float(row[8]),
                first_seen_removed_at=float(row[9]),
                signal=str(row[10]),
                checks=int(row[11]),
            )
        )
    return items


# --------------------------------------------------------------------------- one post


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

    @property
    def interval(self) -> float | None:
        """Width of the removal interval (seconds), when the post was seen alive and removed."""
        alive = self.verdict.get("last_seen_alive_at")
        removed = self.verdict.get("first_seen_removed_at")
        if alive is None or removed is None:
            return None
        return float(removed) - float(alive)


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
