"""One evidence log for several collectors: the sequencer and the id blocks.

A worker of a shared study (``collect/shared.py``) stages its observations without an index
(``SharedRecorder``, ``collect/shared_recorder.py``). Its commit is the sequencer: in one
transaction it takes the study's sequencer lock (``pg_advisory_xact_lock``: exactly one
sequencer at a time; the server drops the lock with the transaction, so when a worker dies
mid-commit nothing of its batch stays and the next worker sequences), checks the worker still
holds its partitions (the fence, ``Claims.holds``), numbers the batch's observations from the
log's end (contiguous: every index below a committed one was committed before it), computes
their leaf hashes and their posts' chains, writes every row, and signs a checkpoint with the
study's key when one is due. Raw bodies were written before, content-addressed.

New posts and authors get ids from blocks the database hands out (``IdBlocks``); an author two
workers both met first is kept once (the later batch takes the stored id), and a post a
worker found that another partition already holds is left to that partition (its rows are
dropped from the batch, before numbering, so no index is spent on them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, func, select, text, tuple_

from memoryhole.collect.claims import Claims
from memoryhole.evidence.heads import extend_chain, extension_line
from memoryhole.evidence.log import checkpoint_row, sign_checkpoint, stored_heads
from memoryhole.evidence.merkle import MerkleLog
from memoryhole.evidence.rows import HeadersJson, observation_row
from memoryhole.model import Capture
from memoryhole.store.schema import authors, checkpoints, observations, posts
from memoryhole.store.state import CollectorState
from memoryhole.store.writer import Batch, put_blobs, write_batch
from memoryhole.study import Study

SEQUENCER_KEY = 0x6D656D6F7279 + 1  # beside the writer's lock (study.WRITER_LOCK_KEY)
#: Staged observations are numbered from here until the sequencer gives them their index.
PROVISIONAL = 1 << 40


class LeaseLostError(Exception):
    """The worker no longer holds a partition the batch touches: another worker took it over
    (this one stalled past its lease); the batch is dropped, the new owner redoes it."""


@dataclass
class Sequenced:
    """What a commit settled, for the worker's memory: the posts' chains, the authors that
    were already stored (their ids), the posts another partition holds."""

    observations: int = 0
    chains: dict[int, tuple[bytes, int]] = field(default_factory=dict)
    authors: dict[tuple[str, str], int] = field(default_factory=dict)
    dropped_posts: set[int] = field(default_factory=set)


class IdBlocks:
    """Post and author ids in blocks from ``id_blocks`` (one short transaction a block)."""

    def __init__(self, engine: Engine, size: int = 256) -> None:
        self.engine, self.size = engine, size
        self._next: dict[str, int] = {}
        self._end: dict[str, int] = {}

    def take(self, name: str) -> int:
        pk = self._next.get(name, 0)
        if pk >= self._end.get(name, 0):
            pk = self._reserve(name)
        self._next[name] = pk + 1
        return pk

    def _reserve(self, name: str) -> int:
        table = {"posts": posts, "authors": authors}[name]
        with self.engine.begin() as connection:
            largest = connection.execute(select(func.max(table.c.id))).scalar() or 0
            connection.execute(
                text(
                    "INSERT INTO id_blocks (name, next_id) VALUES (:name, :next) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                {"name": name, "next": largest + 1},
            )
            end = connection.execute(
                text(
                    "UPDATE id_blocks SET next_id = GREATEST(next_id, :next) + :size "
                    "WHERE name = :name RETURNING next_id"
                ),
                {"name": name, "next": largest + 1, "size": self.size},
            ).scalar_one()
        self._end[name] = int(end)
        return int(end) - self.size


class Sequencer:
    """The worker's side of the study's log: its frontier, kept across terms, and the commit."""

    def __init__(self, study: Study, claims: Claims, checkpoint_interval: float = 300.0) -> None:
        self.study, self.claims = study, claims
        self.checkpoint_interval = checkpoint_interval
        self.log: MerkleLog | None = None
        self._headers = HeadersJson()
        self.foreign: set[int] = set()  # posts of this worker another partition holds

    def _caught_up(self, connection: Connection, size: int) -> MerkleLog:
        """A copy of the frontier with the leaves up to ``size`` (other workers')."""
        log = MerkleLog() if self.log is None else self.log
        log = MerkleLog.from_frontier(log.size, log.frontier)
        query = (
            select(observations.c.leaf_hash)
            .where(observations.c.id > log.size, observations.c.id <= size)
            .order_by(observations.c.id)
        )
        for (leaf,) in connection.execute(query):
            log.append(bytes(leaf))
        if log.size != size:
            raise RuntimeError(f"the log has {log.size} leaves below {size}: not contiguous")
        return log

    def commit(
        self, batch: Batch, state: CollectorState, *, checkpoint: Callable[[int], bool]
    ) -> Sequenced:
        """Sequence and write ``batch`` (its observations staged by ``SharedRecorder``);
        ``checkpoint(size)``: whether to sign one, given the log's size after the batch."""
        put_blobs(self.study.engine, self.study.blobs, batch)
        done = Sequenced()
        with self.study.engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_KEY})
            # The fence: every partition the collector works on, not only those the worker
            # holds now (a renewal may have given one back while the collector ran).
            if not self.claims.holds(connection, state.targets.keys()):
                raise LeaseLostError(
                    "a partition was given back, or its lease expired, before its batch was "
                    "committed"
                )
            base = connection.execute(select(func.max(observations.c.id))).scalar() or 0
            log = self._caught_up(connection, base)
            done.authors = _stored_authors(connection, batch)
            done.dropped_posts = _foreign_posts(connection, batch)
            self.foreign |= done.dropped_posts
            _settle_new_rows(batch, done, self.foreign)
            self._number(batch, state, base, done)
            write_batch(connection, batch)
            for row in batch.observations:
                log.append(row["leaf_hash"])
            if checkpoint(log.size) and log.size:
                heads = stored_heads(connection)
                size, root, note = sign_checkpoint(
                    self.study.signing_key(), self.study.log_origin, log, (extension_line(heads),)
                )
                connection.execute(checkpoints.insert(), checkpoint_row(size, root, note))
        self.log = log
        done.observations = len(batch.observations)
        return done

    def _number(self, batch: Batch, state: CollectorState, base: int, done: Sequenced) -> None:
        """Final indices, leaf hashes and chains for the staged observations."""
        staged = batch.observations
        final = {row["provisional"]: base + number for number, row in enumerate(staged, 1)}
        rows = []
        for row in staged:
            observation_id = final[row["provisional"]]
            facts = row["facts"]
            if facts and facts.get("discovered_by") in final:
                facts = {**facts, "discovered_by": final[facts["discovered_by"]]}
            capture: Capture = row["capture"]
            rows.append(
                observation_row(
                    observation_id,
                    kind=row["kind"],
                    status=row["status"],
                    platform=row["platform"],
                    post_pk=row["post_pk"],
                    post_id=row["post_id"],
                    target_pk=row["target_pk"],
                    seq=row["seq"],
                    sent_at=capture.alive_at,
                    observed_at=capture.fetched_at,
                    received_at=capture.received_at,
                    elapsed=capture.elapsed,
                    method=capture.request.method,
                    url=capture.request.full_url(),
                    http_status=capture.status,
                    headers=capture.headers,
                    headers_json=self._headers(capture.headers),
                    body_sha256=capture.body_sha256,
                    body_size=len(capture.body),
                    content_hash=row["content"],
                    code=row["code"],
                    detail=row["detail"],
                    error=capture.error,
                    facts=facts,
                )
            )
            pk = row["post_pk"]
            if pk is not None:
                post = state.posts[pk]
                chain, length = done.chains.get(pk, (post.chain, post.chain_length))
                done.chains[pk] = (extend_chain(chain, observation_id - 1), length + 1)
        batch.observations = rows
        for post_row in batch.posts:
            if post_row["discovered_by"] in final:
                post_row["discovered_by"] = final[post_row["discovered_by"]]
        for redaction in batch.redactions:
            if redaction["observation_id"] in final:
                redaction["observation_id"] = final[redaction["observation_id"]]
        batch.redactions_logged = {
            pk: final.get(observation, observation)
            for pk, observation in batch.redactions_logged.items()
        }
        for pk, verdict in batch.verdicts.items():
            post = state.posts[pk]
            chain, length = done.chains.get(pk, (post.chain, post.chain_length))
            verdict["chain"], verdict["chain_length"] = (chain.hex() if length else None), length

    def sign_if_grown(self) -> bool:
        """A checkpoint over the whole log if it grew past the latest one (a worker that
        stops signs what every worker committed)."""
        with self.study.engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_KEY})
            base = connection.execute(select(func.max(observations.c.id))).scalar() or 0
            latest = connection.execute(select(func.max(checkpoints.c.size))).scalar() or 0
            if base <= latest:
                return False
            log = self._caught_up(connection, base)
            heads = stored_heads(connection)
            size, root, note = sign_checkpoint(
                self.study.signing_key(), self.study.log_origin, log, (extension_line(heads),)
            )
            connection.execute(checkpoints.insert(), checkpoint_row(size, root, note))
        self.log = log
        return True

    def checkpoint_due(self, final: bool) -> Callable[[int], bool]:
        """Whether a batch's commit signs a checkpoint: at the end of a worker's run, or when
        the study's latest is older than the interval (whichever worker commits then)."""

        def due(size: int) -> bool:
            if final:
                return True
            with self.study.engine.connect() as connection:
                latest = connection.execute(select(func.max(checkpoints.c.created_at))).scalar()
            return latest is None or time.time() - float(latest) >= self.checkpoint_interval

        return due


def _stored_authors(connection: Connection, batch: Batch) -> dict[tuple[str, str], int]:
    """Authors of the batch another worker stored first: their stored ids."""
    keys = [(row["platform"], row["raw_id"]) for row in batch.authors]
    if not keys:
        return {}
    query = select(authors.c.platform, authors.c.raw_id, authors.c.id).where(
        tuple_(authors.c.platform, authors.c.raw_id).in_(keys)
    )
    return {(p, r): int(pk) for p, r, pk in connection.execute(query)}


def _foreign_posts(connection: Connection, batch: Batch) -> set[int]:
    """New posts of the batch that another partition stored first (their ids here)."""
    keys = {(row["platform"], row["post_id"]): row["id"] for row in batch.posts}
    if not keys:
        return set()
    query = select(posts.c.platform, posts.c.post_id).where(
        tuple_(posts.c.platform, posts.c.post_id).in_(list(keys))
    )
    return {keys[(p, i)] for p, i in connection.execute(query)}


def _settle_new_rows(batch: Batch, done: Sequenced, dropped: set[int]) -> None:
    """Take stored authors' ids; drop the rows of posts another partition holds."""
    remap: dict[int, int] = {}
    kept = []
    for row in batch.authors:
        stored = done.authors.get((row["platform"], row["raw_id"]))
        if stored is None:
            kept.append(row)
        else:
            remap[row["id"]] = stored
    batch.authors = kept
    for row in batch.posts:
        row["author_pk"] = remap.get(row["author_pk"], row["author_pk"])
    if not dropped:
        return
    batch.posts = [row for row in batch.posts if row["id"] not in dropped]
    batch.observations = [row for row in batch.observations if row["post_pk"] not in dropped]
    for table in (batch.verdicts, batch.schedule, batch.post_updates):
        for pk in dropped & set(table):
            del table[pk]
