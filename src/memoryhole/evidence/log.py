"""The study's evidence log: leaf hashes in the store, signed checkpoints, proofs.

The collector appends one leaf per observation (``observations.leaf_hash``, in the same
transaction as the row) and, at intervals and at the end of every run, a checkpoint: the tree
size and root hash signed with the study's Ed25519 key as a C2SP signed note (``checkpoints``
table, committed with the leaves it covers). Nothing here rewrites a leaf.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, select

from memoryhole.errors import EvidenceError, StudyLockedError
from memoryhole.evidence.checkpoint import Checkpoint, SigningKey
from memoryhole.evidence.heads import (
    HEADS_EXTENSION,
    Head,
    chain_of,
    extension_line,
    sorted_heads,
)
from memoryhole.evidence.merkle import MerkleLog, MerkleTree
from memoryhole.store.schema import checkpoints, observations, posts, verdicts

if TYPE_CHECKING:
    from memoryhole.study import Study


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    id: int
    size: int
    root_hash: bytes
    note: str
    created_at: float


def load_log(connection: Connection | Engine) -> MerkleLog:
    """Rebuild the append frontier from the stored leaf hashes (O(n), about 1 s per million)."""
    log = MerkleLog()
    query = select(observations.c.id, observations.c.leaf_hash).order_by(observations.c.id)
    with _connect(connection) as conn:
        for number, (observation_id, leaf) in enumerate(conn.execute(query), start=1):
            if observation_id != number or leaf is None:
                raise EvidenceError(
                    f"observation {observation_id}: the log needs contiguous ids from 1 with a "
                    "leaf hash each; run `memoryhole verify` to see what is wrong"
                )
            log.append(bytes(leaf))
    return log


def leaf_hashes(engine: Engine, start: int, end: int) -> list[bytes]:
    """Leaf hashes of leaf indices [start, end) (observations start + 1 .. end)."""
    query = (
        select(observations.c.leaf_hash)
        .where(observations.c.id > start, observations.c.id <= end)
        .order_by(observations.c.id)
    )
    with engine.connect() as conn:
        hashes = [bytes(row[0]) for row in conn.execute(query)]
    if len(hashes) != end - start:
        raise EvidenceError(f"the store holds {len(hashes)} of leaves {start}..{end - 1}")
    return hashes


def log_tree(engine: Engine) -> MerkleTree:
    return MerkleTree(lambda start, end: leaf_hashes(engine, start, end))


def sign_checkpoint(
    key: SigningKey, origin: str, log: MerkleLog, extensions: Sequence[str] = ()
) -> tuple[int, bytes, str]:
    """(size, root, signed note) for the log as it stands; ``extensions``: the post heads'
    line (evidence/heads.py), which every checkpoint memoryhole signs carries."""
    root = log.root()
    note = key.sign_checkpoint(Checkpoint(origin, log.size, root, tuple(extensions)))
    return log.size, root, note


def heads_at(engine: Engine, size: int) -> list[Head]:
    """Each post's head as of the log's first ``size`` leaves: the stored chains, with those of
    the posts that have observations past ``size`` (a running collector's) folded again from
    their observations up to it."""
    with engine.connect() as conn:
        heads = {(head.platform, head.post_id): head for head in stored_heads(conn)}
        later = select(observations.c.post_pk).where(
            observations.c.id > size, observations.c.post_pk.is_not(None)
        )
        query = (
            select(posts.c.platform, posts.c.post_id, observations.c.id)
            .join(posts, posts.c.id == observations.c.post_pk)
            .where(observations.c.post_pk.in_(later.distinct()), observations.c.id <= size)
            .order_by(observations.c.post_pk, observations.c.id)
        )
        redone: dict[tuple[str, str], list[int]] = {}
        for platform, post_id, observation_id in conn.execute(query):
            redone.setdefault((platform, post_id), []).append(observation_id - 1)
        for row in conn.execute(
            select(posts.c.platform, posts.c.post_id).where(posts.c.id.in_(later.distinct()))
        ):
            key = (row.platform, row.post_id)
            count, digest = chain_of(redone.get(key, []))
            heads[key] = Head(row.platform, row.post_id, count, digest)
    return sorted_heads(heads.values())


def has_heads(note: str) -> bool:
    """Whether a signed checkpoint note commits to the posts' heads."""
    return f"\n{HEADS_EXTENSION} " in note


def stored_heads(connection: Connection | Engine) -> list[Head]:
    """Each post's head as the store holds it (its verdict row's chain), in key order."""
    query = (
        select(posts.c.platform, posts.c.post_id, verdicts.c.chain_length, verdicts.c.chain)
        .join(verdicts, verdicts.c.post_pk == posts.c.id)
        .where(verdicts.c.chain_length > 0)
    )
    with _connect(connection) as conn:
        return sorted_heads(
            Head(row.platform, row.post_id, int(row.chain_length), bytes.fromhex(row.chain))
            for row in conn.execute(query)
        )


def checkpoint_row(size: int, root: bytes, note: str) -> dict[str, object]:
    return {"size": size, "root_hash": root.hex(), "note": note, "created_at": time.time()}


def stored_checkpoints(engine: Engine) -> list[StoredCheckpoint]:
    query = select(checkpoints).order_by(checkpoints.c.id)
    with engine.connect() as conn:
        return [
            StoredCheckpoint(
                row.id, row.size, bytes.fromhex(row.root_hash), row.note, row.created_at
            )
            for row in conn.execute(query)
        ]


def latest_checkpoint(engine: Engine) -> StoredCheckpoint | None:
    query = select(checkpoints).order_by(checkpoints.c.id.desc()).limit(1)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return StoredCheckpoint(
        row.id, row.size, bytes.fromhex(row.root_hash), row.note, row.created_at
    )


def observation_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(observations)).scalar_one())


def inclusion_proofs(tree: MerkleTree, indices: Sequence[int], size: int) -> dict[int, list[bytes]]:
    return {index: tree.inclusion_proof(index, size) for index in indices}


class _connect:
    """``with _connect(engine_or_connection) as conn``: borrow or open a connection."""

    def __init__(self, source: Connection | Engine) -> None:
        self._source = source
        self._owned: Connection | None = None

    def __enter__(self) -> Connection:
        if isinstance(self._source, Connection):
            return self._source
        self._owned = self._source.connect()
        return self._owned

    def __exit__(self, *_: object) -> None:
        if self._owned is not None:
            self._owned.close()


def ensure_checkpoint(study: Study) -> StoredCheckpoint:
    """The latest checkpoint, after signing a new one if the log has grown past it.

    Signing needs the collector lock (one writer per study): while a collector runs, the
    latest checkpoint it made is used instead, and leaves after it are not covered yet.
    """

    latest = latest_checkpoint(study.engine)
    try:
        with study.writer_lock():
            log = load_log(study.engine)
            stale = latest is None or latest.size < log.size or not has_heads(latest.note)
            if log.size and stale:  # a checkpoint from before heads existed is signed again
                line = extension_line(stored_heads(study.engine))
                size, root, note = sign_checkpoint(
                    study.signing_key(), study.log_origin, log, (line,)
                )
                with study.engine.begin() as conn:
                    conn.execute(checkpoints.insert(), checkpoint_row(size, root, note))
                latest = latest_checkpoint(study.engine)
    except StudyLockedError:
        pass
    if latest is None:
        raise EvidenceError(
            f"{study.path} has no signed checkpoint yet: run the collector (`memoryhole run`)"
        )
    return latest


def observation_proof(study: Study, observation_id: int) -> dict[str, object]:
    """Inclusion proof of one observation to the latest checkpoint (JSON-ready)."""
    from memoryhole.evidence.leaf import POST_LEAF_KINDS, canonical_bytes, leaf_record
    from memoryhole.store.schema import posts, targets

    checkpoint = ensure_checkpoint(study)
    if not 1 <= observation_id <= checkpoint.size:
        raise EvidenceError(
            f"observation {observation_id} is not covered by the latest checkpoint "
            f"(observations 1..{checkpoint.size})"
        )
    query = (
        select(
            observations,
            posts.c.platform,
            posts.c.post_id.label("the_post_id"),
            targets.c.platform.label("target_platform"),
        )
        .outerjoin(posts, posts.c.id == observations.c.post_pk)
        .outerjoin(targets, targets.c.id == observations.c.target_pk)
        .where(observations.c.id == observation_id)
    )
    with study.engine.connect() as conn:
        row = conn.execute(query).mappings().one()
    is_check = row["kind"] in POST_LEAF_KINDS
    record = leaf_record(
        dict(row),
        row["platform"] if is_check else row["target_platform"],
        row["the_post_id"] if is_check else None,
    )
    proof = log_tree(study.engine).inclusion_proof(observation_id - 1, checkpoint.size)
    return {
        "index": observation_id - 1,
        "leaf": canonical_bytes(record).decode(),
        "leaf_hash": bytes(row["leaf_hash"]).hex(),
        "inclusion_proof": [h.hex() for h in proof],
        "checkpoint": checkpoint.note,
        "key": study.verifier_key(),
    }


def checkpoint_consistency(study: Study, old_id: int, new_id: int) -> dict[str, object]:
    """Consistency proof between two stored checkpoints (by id), JSON-ready."""
    by_id = {c.id: c for c in stored_checkpoints(study.engine)}
    missing = [i for i in (old_id, new_id) if i not in by_id]
    if missing:
        known = ", ".join(str(i) for i in sorted(by_id)) or "none"
        raise EvidenceError(f"no checkpoint {missing[0]}; stored checkpoints: {known}")
    old, new = by_id[old_id], by_id[new_id]
    if old.size > new.size:
        raise EvidenceError("the first checkpoint must not be larger than the second")
    proof = log_tree(study.engine).consistency_proof(old.size, new.size)
    return {
        "old": {"size": old.size, "root_hash": old.root_hash.hex(), "note": old.note},
        "new": {"size": new.size, "root_hash": new.root_hash.hex(), "note": new.note},
        "consistency_proof": [h.hex() for h in proof],
        "key": study.verifier_key(),
    }
