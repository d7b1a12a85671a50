"""The store side of an import: one transaction per batch of records.

For each record: the posts it shows that the study does not hold yet are created, all sighted by
one leaf (kind ``import``, no post, the record's raw bytes as its body, like a listing that shows
them); then every event it states about a post becomes a leaf of that post (kind ``import``,
``seq`` continuing the post's checks) folded into its verdict by ``evidence.rederive.fold_record``
(the collector's state machine, plus the rule for undated removals). Authors are pseudonymised
like the collector's. Nothing is scheduled: the collector never re-checks an imported post.

Re-importing is harmless (docs/formats.md, "Imports"): a record whose bytes are already logged
for a post is a duplicate and is skipped; events older than what the study already holds for a
post are stale and skipped (folding them would date a removal before a later sighting).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, update

from memoryhole.classify import first_verdict
from memoryhole.errors import EvidenceError
from memoryhole.evidence.heads import EMPTY_CHAIN, extend_chain
from memoryhole.evidence.leaf import POST_KIND, author_commitment, text_digest
from memoryhole.evidence.merkle import MerkleLog
from memoryhole.evidence.rederive import fold_record
from memoryhole.evidence.rows import HeadersJson, observation_row, verdict_row
from memoryhole.imports.records import Counts, Event, PostFacts, Record
from memoryhole.model import Status, content_hash
from memoryhole.store.blobs import BlobStore
from memoryhole.store.queries import verdict_from_row
from memoryhole.store.schema import authors, imports, observations, posts, verdicts
from memoryhole.store.state import PostState
from memoryhole.store.writer import insert_rows
from memoryhole.study import Study

IN_CHUNK = 900  # ids per IN (...) query
BLOB_THREADS = 4  # blob files are written while the batch is built (the file system waits)
BLOB_CHUNK = 256  # blobs per task given to those threads
UNKNOWN_POST = "answers about a post the study does not hold (they do not say who wrote it)"


@dataclass(slots=True)
class ImportedPost(PostState):
    """A post's state (``store.state.PostState``) and what an import keeps of it besides."""

    updated_at: float = 0.0  # its latest event
    bodies: set[str] = field(default_factory=set)  # raw records already logged for it
    created: bool = False  # by this import
    line: int = 0  # the record that created it

    def created_by(self, line: int) -> bool:
        return self.created and self.line == line


class ImportWriter:
    def __init__(
        self,
        study: Study,
        *,
        platform: str,
        import_pk: int,
        target_pk: int,
        log: MerkleLog,
        received_at: float,
        counts: Counts,
    ) -> None:
        self.study = study
        self.platform = platform
        self.import_pk = import_pk
        self.target_pk = target_pk
        self.log = log
        self.received_at = received_at
        self.counts = counts
        with study.engine.connect() as conn:
            self.next_observation = _next_id(conn, observations.c.id)
            self.next_post = _next_id(conn, posts.c.id)
            self.next_author = _next_id(conn, authors.c.id)
        if self.next_observation != log.size + 1:
            raise EvidenceError(
                f"the evidence log holds {log.size} leaves but the store "
                f"{self.next_observation - 1} observations; run `memoryhole verify`"
            )
        self._touched: set[int] = set()  # posts held before this import that it added to
        self._headers = HeadersJson(limit=1024)
        self._pool = ThreadPoolExecutor(BLOB_THREADS, thread_name_prefix="import-blobs")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def write(self, records: list[Record], position: int) -> None:
        """Write one batch in one transaction; its blobs before it (an unreferenced blob is
        harmless, a leaf without its blob is not)."""
        batch = _Batch()
        wanted = list(
            dict.fromkeys(f.post_id for r in records if r.skipped is None for f in r.posts)
        )
        with self.study.engine.connect() as conn:
            state = self._known(conn, wanted)
            author_pks = self._authors(conn, records, state)
        next_ids = (self.next_observation, self.next_post, self.next_author)
        try:
            try:
                for record in records:
                    self._record(record, state, author_pks, batch)
                self._put(batch)
            finally:
                wait(batch.writes)
            for write in batch.writes:
                write.result()  # a blob that could not be written stops the batch
            with self.study.engine.begin() as conn:
                insert_rows(conn, authors, batch.authors)
                insert_rows(conn, posts, batch.posts)
                insert_rows(conn, observations, batch.observations)
                rows = [verdict_row(state[p], state[p].updated_at) for p in batch.dirty]
                insert_rows(conn, verdicts, rows, upsert_on="post_pk")
                conn.execute(
                    update(imports)
                    .where(imports.c.id == self.import_pk)
                    .values(**self.progress(), position=position)
                )
        except BaseException:
            self.next_observation, self.next_post, self.next_author = next_ids
            raise
        self.log.extend(row["leaf_hash"] for row in batch.observations)
        self.counts.leaves += len(batch.observations)

    def progress(self) -> dict[str, int]:
        c = self.counts
        c.updated_posts = len(self._touched)
        return {
            "rows": c.rows,
            "new_posts": c.new_posts,
            "updated_posts": c.updated_posts,
            "skipped": c.duplicates + c.stale + sum(c.skipped.values()),
            "rejected": c.rejected,
        }

    # -- one record ---------------------------------------------------------------------------

    def _record(
        self,
        record: Record,
        state: dict[str, ImportedPost],
        author_pks: dict[str, int],
        batch: _Batch,
    ) -> None:
        if record.skipped is not None:
            self.counts.skip(record.skipped)
            return
        sha256 = hashlib.sha256(record.raw).hexdigest()
        sighting: int | None = None
        used = False
        for facts in record.posts:
            post = state.get(facts.post_id)
            if post is None:
                if facts.new is None:
                    self.counts.skip(UNKNOWN_POST)
                    continue
                if sighting is None:
                    first = self._leaf(batch, record, sha256, None, None, _sighting(record))
                    sighting = int(first["id"])
                post = self._create(facts, record, sighting, author_pks, batch)
                state[facts.post_id] = post
            elif sha256 in post.bodies:
                self.counts.duplicates += 1
                continue
            applied = 0
            for event in facts.events:
                if not _news(event, post):
                    continue
                post.checks += 1
                row = self._leaf(batch, record, sha256, post, post.checks, event)
                fold_record(post.verdict, row)
                post.updated_at = max(post.updated_at, event.observed_at)
                applied += 1
            if not post.created_by(record.line) and not applied:
                self.counts.stale += 1
                continue
            if not post.created:
                self._touched.add(post.pk)
            post.bodies.add(sha256)
            batch.dirty[facts.post_id] = None
            used = True
        if used and sha256 not in batch.blobs:
            batch.blobs[sha256] = None
            batch.pending.append((sha256, record.raw))
            if len(batch.pending) >= BLOB_CHUNK:
                self._put(batch)

    def _put(self, batch: _Batch) -> None:
        """Hand the batch's pending blobs to a writer thread."""
        if batch.pending:
            chunk, batch.pending = batch.pending, []
            batch.writes.append(self._pool.submit(_put_all, self.study.blobs, chunk))

    def _create(
        self,
        facts: PostFacts,
        record: Record,
        sighting: int,
        author_pks: dict[str, int],
        batch: _Batch,
    ) -> ImportedPost:
        assert facts.new is not None
        new = facts.new
        author_pk = author_pks.get(new.author_id)
        if author_pk is None:
            author_pk = self.next_author
            self.next_author += 1
            author_pks[new.author_id] = author_pk
            batch.authors.append(
                {
                    "id": author_pk,
                    "platform": self.platform,
                    "raw_id": new.author_id,
                    "pseudonym": self.study.pseudonym(self.platform, new.author_id),
                }
            )
        pk = self.next_post
        self.next_post += 1
        batch.posts.append(
            {
                "id": pk,
                "platform": self.platform,
                "post_id": facts.post_id,
                "author_pk": author_pk,
                "target_pk": self.target_pk,
                "published_at": new.published_at,
                "first_seen_at": record.seen_at,
                "text": new.text,
                "discovered_by": sighting,
                "imported_from": self.import_pk,
            }
        )
        self.counts.new_posts += 1
        verdict = first_verdict(record.seen_at, content_hash(new.text))
        post = ImportedPost(
            pk=pk,
            platform=self.platform,
            post_id=facts.post_id,
            author_id=new.author_id,
            published_at=new.published_at,
            verdict=verdict,
            target_pk=self.target_pk,
            updated_at=record.seen_at,
            created=True,
            line=record.line,
        )
        pseudonym = self.study.pseudonym(self.platform, new.author_id)
        stated = {
            "author": author_commitment(pseudonym),
            "published_at": new.published_at,
            "published_until": None,
            "first_seen_at": record.seen_at,
            "text_sha256": text_digest(new.text),
            "discovered_by": sighting,
        }
        sha256 = hashlib.sha256(record.raw).hexdigest()
        self._leaf(batch, record, sha256, post, None, _sighting(record), facts=stated)
        return post

    def _leaf(
        self,
        batch: _Batch,
        record: Record,
        sha256: str,
        post: ImportedPost | None,
        seq: int | None,
        event: Event,
        *,
        facts: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One leaf: an ``import`` statement, or with ``facts`` the ``post`` leaf of a new post
        (what the dataset says of it, named by the post: leaf format 2)."""
        observation_id = self.next_observation
        self.next_observation += 1
        row = observation_row(
            observation_id,
            kind=POST_KIND if facts is not None else "import",
            status=event.status.value,
            platform=self.platform,
            post_pk=post.pk if post is not None else None,
            post_id=post.post_id if post is not None else None,
            target_pk=self.target_pk,
            seq=seq,
            sent_at=event.sent_at,
            observed_at=event.observed_at,
            received_at=self.received_at,
            elapsed=0.0,
            method=record.method,
            url=record.url,
            http_status=record.http_status,
            headers=record.headers,
            headers_json=self._headers(record.headers),
            body_sha256=sha256,
            body_size=len(record.raw),
            content_hash=event.content_hash,
            code=event.code,
            detail=event.detail,
            error=None,
            facts=facts,
        )
        batch.observations.append(row)
        if post is not None:  # the post's chain of observations (evidence/heads.py)
            post.chain = extend_chain(post.chain, observation_id - 1)
            post.chain_length += 1
        return row

    # -- what the study already holds ---------------------------------------------------------

    def _known(self, conn: Connection, post_ids: list[str]) -> dict[str, ImportedPost]:
        found: dict[str, ImportedPost] = {}
        by_pk: dict[int, ImportedPost] = {}
        sightings: dict[int, int] = {}
        for chunk in _chunks(post_ids):
            query = (
                select(
                    posts.c.id,
                    posts.c.post_id,
                    posts.c.published_at,
                    posts.c.target_pk,
                    posts.c.discovered_by,
                    authors.c.raw_id,
                    verdicts,
                )
                .join(verdicts, verdicts.c.post_pk == posts.c.id)
                .join(authors, authors.c.id == posts.c.author_pk)
                .where(posts.c.platform == self.platform, posts.c.post_id.in_(chunk))
            )
            for row in conn.execute(query).mappings():
                post = ImportedPost(
                    pk=row["id"],
                    platform=self.platform,
                    post_id=row["post_id"],
                    author_id=row["raw_id"],
                    published_at=row["published_at"],
                    verdict=verdict_from_row(dict(row)),
                    checks=int(row["checks"]),
                    failures=int(row["failures"]),
                    target_pk=row["target_pk"],
                    updated_at=float(row["updated_at"]),
                    chain=bytes.fromhex(row["chain"]) if row["chain"] else EMPTY_CHAIN,
                    chain_length=int(row["chain_length"] or 0),
                )
                found[row["post_id"]] = by_pk[post.pk] = post
                if row["discovered_by"] is not None:
                    sightings[int(row["discovered_by"])] = post.pk
        for chunk in _chunks(list(by_pk)):
            query = select(observations.c.post_pk, observations.c.body_sha256).where(
                observations.c.post_pk.in_(chunk), observations.c.kind == "import"
            )
            for pk, sha256 in conn.execute(query):
                by_pk[pk].bodies.add(sha256)
        for chunk in _chunks(list(sightings)):
            query = select(observations.c.id, observations.c.body_sha256).where(
                observations.c.id.in_(chunk), observations.c.kind == "import"
            )
            for observation_id, sha256 in conn.execute(query):
                by_pk[sightings[observation_id]].bodies.add(sha256)
        return found

    def _authors(
        self, conn: Connection, records: list[Record], state: dict[str, ImportedPost]
    ) -> dict[str, int]:
        wanted = list(
            dict.fromkeys(
                f.new.author_id
                for r in records
                if r.skipped is None
                for f in r.posts
                if f.new is not None and f.post_id not in state
            )
        )
        found: dict[str, int] = {}
        for chunk in _chunks(wanted):
            query = select(authors.c.raw_id, authors.c.id).where(
                authors.c.platform == self.platform, authors.c.raw_id.in_(chunk)
            )
            found.update({raw_id: pk for raw_id, pk in conn.execute(query)})
        return found


@dataclass
class _Batch:
    blobs: dict[str, None] = field(default_factory=dict)  # written (or being written)
    pending: list[tuple[str, bytes]] = field(default_factory=list)  # not handed over yet
    writes: list[Future[None]] = field(default_factory=list)
    authors: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    dirty: dict[str, None] = field(default_factory=dict)  # post ids whose verdict changed


def _put_all(blobs: BlobStore, chunk: list[tuple[str, bytes]]) -> None:
    blobs.put_many(chunk)


def _news(event: Event, post: ImportedPost) -> bool:
    """Whether an event adds to what the study holds for the post: it is later than all of
    it, or, at that very time, a removal the verdict does not say yet (an equal-time visible
    statement would turn a removal into a "visible again", which nobody saw)."""
    if event.at != post.updated_at:
        return event.at > post.updated_at
    return event.status.is_removal and event.status is not post.verdict.status


def _sighting(record: Record) -> Event:
    return Event(Status.LIVE, record.seen_at, record.seen_at, None, record.detail)


def _next_id(conn: Connection, column: Any) -> int:
    return int(conn.execute(select(func.max(column))).scalar() or 0) + 1


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]
