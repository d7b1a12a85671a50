"""The single writer: everything one batch of checks produced, in one transaction.

Blobs are written first (content-addressed, idempotent), then observation rows, new posts and
authors, verdicts, schedule and target cursors are committed together. A crash before the commit
loses the whole batch (it is redone on resume); after it, nothing of it is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from memoryhole.store.blobs import FileBlobStore
from memoryhole.store.schema import authors, observations, posts, schedule, targets, verdicts


@dataclass
class Batch:
    blobs: dict[str, bytes] = field(default_factory=dict)
    authors: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    verdicts: dict[int, dict[str, Any]] = field(default_factory=dict)
    schedule: dict[int, float | None] = field(default_factory=dict)
    targets: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.observations)


def upsert(connection: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    if not rows:
        return
    dialect = connection.dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_fn(table)
    columns = {name: statement.excluded[name] for name in rows[0] if name != key}
    connection.execute(statement.on_conflict_do_update(index_elements=[key], set_=columns), rows)


def commit_batch(engine: Engine, blobs: FileBlobStore, batch: Batch) -> None:
    for sha256, body in batch.blobs.items():
        blobs.put(sha256, body)
    with engine.begin() as connection:
        if batch.authors:
            connection.execute(authors.insert(), batch.authors)
        if batch.posts:
            connection.execute(posts.insert(), batch.posts)
        if batch.observations:
            connection.execute(observations.insert(), batch.observations)
        upsert(connection, verdicts, list(batch.verdicts.values()), "post_pk")
        scheduled = [
            {"post_pk": pk, "next_check_at": at}
            for pk, at in batch.schedule.items()
            if at is not None
        ]
        upsert(connection, schedule, scheduled, "post_pk")
        finished = [pk for pk, at in batch.schedule.items() if at is None]
        if finished:
            connection.execute(delete(schedule).where(schedule.c.post_pk.in_(finished)))
        for pk, values in batch.targets.items():
            connection.execute(update(targets).where(targets.c.id == pk).values(**values))
