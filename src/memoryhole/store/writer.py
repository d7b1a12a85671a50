"""The single writer: everything one batch of checks produced, in one transaction.

Blobs are written first (content-addressed, idempotent), then observation rows, new posts and
authors, verdicts, schedule, target cursors and the schedule's working state (the rows of
``scheduler_state`` that changed) are committed together. A crash before the commit loses the
whole batch (it is redone on resume); after it, nothing of it is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select, update

from memoryhole.store.blobs import BlobStore
from memoryhole.store.schema import (
    authors,
    checkpoints,
    observations,
    posts,
    redactions,
    schedule,
    scheduler_state,
    targets,
    verdicts,
)


@dataclass
class Batch:
    blobs: dict[str, bytes] = field(default_factory=dict)
    authors: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    verdicts: dict[int, dict[str, Any]] = field(default_factory=dict)
    schedule: dict[int, float | None] = field(default_factory=dict)
    targets: dict[int, dict[str, Any]] = field(default_factory=dict)
    checkpoint: dict[str, Any] | None = None
    state: dict[str, bytes] = field(default_factory=dict)  # scheduler_state rows that changed
    #: What a check said more exactly than the listing that found a post (collector
    #: ``_refine_post``): post pk → columns to set.
    post_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Takedown records to add (a listing that showed a denied author's posts), and the
    #: redactions this batch logs: redaction id → the observation that logs it.
    redactions: list[dict[str, Any]] = field(default_factory=list)
    redactions_logged: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.observations)


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(
    connection: Connection, table: Table, rows: list[dict[str, Any]], *, upsert_on: str = ""
) -> None:
    """Many rows in one DB-API ``executemany`` (``INSERT … ON CONFLICT DO UPDATE`` if asked).

    This skips SQLAlchemy's per-row parameter processing, which cost more than SQLite itself on
    the collector's write path. Values must already be plain (str, int, float, bool, None); the
    SQL is the same for SQLite and PostgreSQL.
    """
    if not rows:
        return
    placeholder = _PLACEHOLDERS.get(connection.dialect.paramstyle)
    if placeholder is None:
        raise NotImplementedError(f"paramstyle {connection.dialect.paramstyle!r}")
    quote = connection.dialect.identifier_preparer.quote
    columns = list(rows[0])
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([placeholder] * len(columns))})"
    )
    if upsert_on:
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c != upsert_on)
        sql += f" ON CONFLICT ({quote(upsert_on)}) DO UPDATE SET {updates}"
    getter = itemgetter(*columns)
    params = [getter(row) for row in rows] if len(columns) > 1 else [(getter(r),) for r in rows]
    connection.exec_driver_sql(sql, params)


def commit_batch(engine: Engine, blobs: BlobStore, batch: Batch) -> None:
    put_blobs(engine, blobs, batch)
    with engine.begin() as connection:
        write_batch(connection, batch)


def put_blobs(engine: Engine, blobs: BlobStore, batch: Batch) -> None:
    """The batch's bodies, before the rows that name them."""
    # A body taken down since it was fetched (a takedown while the collector runs) is never
    # written back: the takedown's record wins.
    names = list(batch.blobs)
    with engine.connect() as connection:
        gone = {
            sha
            for start in range(0, len(names), 900)
            for sha in connection.execute(
                select(redactions.c.body_sha256).where(
                    redactions.c.body_sha256.in_(names[start : start + 900])
                )
            ).scalars()
        }
    blobs.put_many((sha, body) for sha, body in batch.blobs.items() if sha not in gone)


def write_batch(connection: Connection, batch: Batch) -> None:
    """The batch's rows, in the caller's transaction."""
    insert_rows(connection, authors, batch.authors)
    insert_rows(connection, posts, batch.posts)
    insert_rows(connection, observations, batch.observations)
    insert_rows(connection, verdicts, list(batch.verdicts.values()), upsert_on="post_pk")
    scheduled = [
        {"post_pk": pk, "next_check_at": at} for pk, at in batch.schedule.items() if at is not None
    ]
    insert_rows(connection, schedule, scheduled, upsert_on="post_pk")
    finished = [pk for pk, at in batch.schedule.items() if at is None]
    if finished:
        connection.execute(delete(schedule).where(schedule.c.post_pk.in_(finished)))
    for pk, values in batch.targets.items():
        connection.execute(update(targets).where(targets.c.id == pk).values(**values))
    for pk, values in batch.post_updates.items():
        connection.execute(update(posts).where(posts.c.id == pk).values(**values))
    insert_rows(connection, redactions, batch.redactions)
    for pk, observation_id in batch.redactions_logged.items():
        connection.execute(
            update(redactions).where(redactions.c.id == pk).values(observation_id=observation_id)
        )
    state = [{"name": name, "value": value} for name, value in batch.state.items()]
    insert_rows(connection, scheduler_state, state, upsert_on="name")
    if batch.checkpoint is not None:
        connection.execute(checkpoints.insert(), batch.checkpoint)
