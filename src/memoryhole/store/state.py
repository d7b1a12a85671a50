"""The collector's working state, loaded from the store at start (the store is the truth)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, RowMapping, Select, func, select

from memoryhole.model import Target, Verdict
from memoryhole.store.queries import verdict_from_row
from memoryhole.store.schema import (
    authors,
    observations,
    posts,
    schedule,
    targets,
    verdicts,
)


@dataclass(slots=True)
class PostState:
    pk: int
    platform: str
    post_id: str
    author_id: str
    published_at: float
    verdict: Verdict
    checks: int = 0
    failures: int = 0
    next_check_at: float | None = None
    published_until: float | None = None  # a listing gave only the day or hour (model.SeenPost)
    target_pk: int | None = None  # the listing that found it
    chain: bytes = bytes(32)  # digest of its observations' leaf indices (evidence/heads.py)
    chain_length: int = 0
    #: A removal answer waiting for its confirmation (``Observation.confirm_first``): its code
    #: and when it first came.
    unconfirmed: tuple[str | None, float] | None = None


@dataclass(slots=True)
class TargetState:
    pk: int
    target: Target
    cursor: str | None
    next_poll_at: float
    unreadable: int = 0  # listing items that could not be read so far
    last_unreadable: str | None = None


class IdSource(Protocol):
    """Where new post and author ids come from when several collectors share a study (blocks
    handed out by the database: collect/sequencer.py); ``name``: "posts" or "authors"."""

    def take(self, name: str) -> int: ...


@dataclass(slots=True)
class CollectorState:
    posts: dict[int, PostState]
    post_keys: dict[tuple[str, str], int]
    author_keys: dict[tuple[str, str], int]
    targets: dict[int, TargetState]
    next_observation_id: int
    next_post_pk: int
    next_author_pk: int
    ids: IdSource | None = None  # None: one collector, counting from the store's largest

    def new_post_pk(self) -> int:
        if self.ids is not None:
            return self.ids.take("posts")
        pk = self.next_post_pk
        self.next_post_pk += 1
        return pk

    def new_author_pk(self) -> int:
        if self.ids is not None:
            return self.ids.take("authors")
        pk = self.next_author_pk
        self.next_author_pk += 1
        return pk


def post_states_query(*columns: Any) -> Select[Any]:
    """Each post with its author's id, verdict and next check (and ``columns``): the rows
    ``post_state`` reads."""
    return (
        select(
            posts.c.id,
            posts.c.platform,
            posts.c.post_id,
            authors.c.raw_id,
            posts.c.published_at,
            posts.c.published_until,
            posts.c.target_pk,
            verdicts,
            schedule.c.next_check_at,
            *columns,
        )
        .join(authors, authors.c.id == posts.c.author_pk)
        .join(verdicts, verdicts.c.post_pk == posts.c.id)
        .outerjoin(schedule, schedule.c.post_pk == posts.c.id)
    )


def post_state(row: RowMapping) -> PostState:
    return PostState(
        pk=row["id"],
        platform=row["platform"],
        post_id=row["post_id"],
        author_id=row["raw_id"],
        published_at=row["published_at"],
        verdict=verdict_from_row(dict(row)),
        checks=row["checks"],
        failures=row["failures"],
        next_check_at=row["next_check_at"],
        published_until=row["published_until"],
        target_pk=row["target_pk"],
        chain=bytes.fromhex(row["chain"]) if row["chain"] else bytes(32),
        chain_length=int(row["chain_length"] or 0),
    )


def load_state(engine: Engine, partition: frozenset[int] | None = None) -> CollectorState:
    """The collector's state; with ``partition`` (target ids: one worker's share of a study
    several collectors work on, collect/claims.py) only those targets and the posts they found.
    Every author is loaded either way (one author may post in several partitions)."""
    with engine.connect() as connection:
        query = select(targets).where(targets.c.active)
        if partition is not None:
            query = query.where(targets.c.id.in_(sorted(partition)))
        target_rows = connection.execute(query).mappings()
        target_states = {
            row["id"]: TargetState(
                row["id"],
                Target(row["platform"], row["kind"], row["key"]),
                row["cursor"],
                row["next_poll_at"],
                row["unreadable"],
                row["last_unreadable"],
            )
            for row in target_rows
        }
        author_keys = {
            (row.platform, row.raw_id): row.id
            for row in connection.execute(
                select(authors.c.id, authors.c.platform, authors.c.raw_id)
            )
        }
        post_states: dict[int, PostState] = {}
        post_keys: dict[tuple[str, str], int] = {}
        posts_query = post_states_query()
        if partition is not None:
            posts_query = posts_query.where(posts.c.target_pk.in_(sorted(partition)))
        for row in connection.execute(posts_query).mappings():
            state = post_state(row)
            post_states[state.pk] = state
            post_keys[(state.platform, state.post_id)] = state.pk
        next_observation = connection.execute(select(func.max(observations.c.id))).scalar() or 0
        next_post = connection.execute(select(func.max(posts.c.id))).scalar() or 0
        next_author = connection.execute(select(func.max(authors.c.id))).scalar() or 0
    return CollectorState(
        posts=post_states,
        post_keys=post_keys,
        author_keys=author_keys,
        targets=target_states,
        next_observation_id=next_observation + 1,
        next_post_pk=next_post + 1,
        next_author_pk=next_author + 1,
    )
