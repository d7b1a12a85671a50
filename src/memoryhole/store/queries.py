"""Reading and small writes on a study's store, shared by the CLI, the demo and the web layer."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select

from memoryhole.model import Status, Target, Verdict
from memoryhole.store.coverage import TIMELINE_KINDS, GapIndex, coverage_gaps
from memoryhole.store.schema import (
    authors,
    observations,
    posts,
    redactions,
    scheduler_state,
    targets,
    verdicts,
)

#: Field order of ``memoryhole export verdicts`` (a public contract, docs/formats.md).
VERDICT_EXPORT_FIELDS = (
    "post_id",
    "author_id",
    "first_seen_at",
    "last_seen_alive_at",
    "first_seen_removed_at",
    "verdict",
    "interval_spans_gap",
    "first_seen_at_iso",
    "last_seen_alive_at_iso",
    "first_seen_removed_at_iso",
    "seen_removed_after_minutes",
    "region",
)


_WITHHELD_IN = re.compile(r"^withheld in (.+?): ")


def withheld_region(status: Status | str, signal: str | None) -> str | None:
    """Where a ``withheld`` post was not served, as its signal states it (``model.
    withheld_detail``: "withheld in CN: …"); None for any other verdict (a status or its
    value) or when unstated."""
    if status != Status.WITHHELD or not signal:
        return None
    found = _WITHHELD_IN.match(signal)
    return found.group(1) if found else None


def iso_time(at: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC to the second (``2024-06-04T13:05:09Z``), or None when
    missing or beyond a calendar (as ``times.iso_utc``, which the store may not import)."""
    if at is None:
        return None
    try:
        return datetime.fromtimestamp(float(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return None


def readable_times(
    first_seen_at: float | None,
    last_seen_alive_at: float | None,
    first_seen_removed_at: float | None,
    published_at: float | None,
) -> dict[str, Any]:
    """The readable fields of a verdict's export row (after ``interval_spans_gap``)."""
    return {
        "first_seen_at_iso": iso_time(first_seen_at),
        "last_seen_alive_at_iso": iso_time(last_seen_alive_at),
        "first_seen_removed_at_iso": iso_time(first_seen_removed_at),
        "seen_removed_after_minutes": minutes_between(published_at, first_seen_removed_at),
    }


def minutes_between(start: float | None, end: float | None) -> float | None:
    """``end - start`` in minutes, to 0.1 min (None when either is missing or not finite)."""
    if start is None or end is None:
        return None
    value = (float(end) - float(start)) / 60.0
    return round(value, 1) if math.isfinite(value) else None


def add_targets(engine: Engine, new: list[Target], now: float) -> list[str]:
    """Add targets not yet watched; return the specs that were new."""
    with engine.begin() as connection:
        existing = set(connection.execute(select(targets.c.spec)).scalars())
        added = [target for target in new if target.spec not in existing]
        if added:
            connection.execute(
                insert(targets),
                [
                    {
                        "platform": t.platform,
                        "spec": t.spec,
                        "kind": t.kind,
                        "key": t.key,
                        "added_at": now,
                        "cursor": None,
                        "next_poll_at": 0.0,
                        "active": True,
                    }
                    for t in added
                ],
            )
    return [t.spec for t in added]


def watched_platforms(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        query = select(targets.c.platform).where(targets.c.active).distinct()
        return sorted(connection.execute(query).scalars())


def target_specs(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(targets.c.spec).order_by(targets.c.id)).scalars())


def redacted_authors(engine: Engine) -> set[str]:
    """Pseudonyms of authors whose content was taken down (``memoryhole takedown``)."""
    with engine.connect() as connection:
        query = select(redactions.c.author_pseudonym).distinct()
        return set(connection.execute(query).scalars())


def iter_verdicts(
    engine: Engine, *, raw_author_ids: bool = False, gaps: GapIndex | None = None
) -> Iterator[dict[str, Any]]:
    """One dict per post in the ``export verdicts`` contract, plus extra fields after it.

    Posts of authors taken down (``memoryhole takedown``) are left out. ``interval_spans_gap``:
    the removal's interval overlaps a coverage gap (``gaps``: ``Study.gap_index()``, which
    knows the study's thresholds; by default the shortest thresholds).
    """
    if gaps is None:
        with engine.connect() as connection:
            pks = dict(connection.execute(select(targets.c.spec, targets.c.id)).all())
        gaps = GapIndex(coverage_gaps(engine, planned_kinds=TIMELINE_KINDS), pks)
    author_column = authors.c.raw_id if raw_author_ids else authors.c.pseudonym
    query = (
        select(
            posts.c.post_id,
            author_column.label("author_id"),
            verdicts.c.first_seen_at,
            verdicts.c.last_seen_alive_at,
            verdicts.c.first_seen_removed_at,
            verdicts.c.status,
            posts.c.platform,
            posts.c.published_at,
            verdicts.c.edited,
            verdicts.c.signal,
            verdicts.c.checks,
            posts.c.target_pk,
        )
        .join(verdicts, verdicts.c.post_pk == posts.c.id)
        .join(authors, authors.c.id == posts.c.author_pk)
        .where(authors.c.pseudonym.not_in(select(redactions.c.author_pseudonym)))
        .order_by(posts.c.id)
    )
    with engine.connect() as connection:
        for row in connection.execute(query).mappings():
            status = Status(row["status"])
            yield {
                "post_id": row["post_id"],
                "author_id": row["author_id"],
                "first_seen_at": row["first_seen_at"],
                "last_seen_alive_at": row["last_seen_alive_at"],
                "first_seen_removed_at": row["first_seen_removed_at"],
                "verdict": Status.LIVE.value if status is Status.EDITED else status.value,
                "interval_spans_gap": gaps.spans(
                    row["platform"],
                    row["target_pk"],
                    row["last_seen_alive_at"],
                    row["first_seen_removed_at"],
                ),
                **readable_times(
                    row["first_seen_at"],
                    row["last_seen_alive_at"],
                    row["first_seen_removed_at"],
                    row["published_at"],
                ),
                "region": withheld_region(status, row["signal"]),
                "platform": row["platform"],
                "published_at": row["published_at"],
                "edited": bool(row["edited"]),
                "signal": row["signal"],
                "checks": row["checks"],
            }


@dataclass(frozen=True)
class StudySummary:
    targets: list[str]
    posts: int
    observations: int
    transient: int
    verdicts: dict[str, int]
    first_observed_at: float | None
    last_observed_at: float | None
    #: Targets with listing items that could not be read: (spec, count, the latest one).
    unreadable: list[tuple[str, int, str]] = field(default_factory=list)


def summarise(engine: Engine) -> StudySummary:
    with engine.connect() as connection:
        post_count = connection.execute(select(func.count()).select_from(posts)).scalar() or 0
        obs_count, first, last = connection.execute(
            select(
                func.count(),
                func.min(observations.c.observed_at),
                func.max(observations.c.observed_at),
            )
        ).one()
        transient = (
            connection.execute(
                select(func.count()).where(observations.c.status == Status.UNREACHABLE.value)
            ).scalar()
            or 0
        )
        by_status: dict[str, int] = {
            str(status): int(count)
            for status, count in connection.execute(
                select(verdicts.c.status, func.count()).group_by(verdicts.c.status)
            )
        }
        unreadable = [
            (str(row.spec), int(row.unreadable), str(row.last_unreadable or ""))
            for row in connection.execute(
                select(targets.c.spec, targets.c.unreadable, targets.c.last_unreadable)
                .where(targets.c.unreadable > 0)
                .order_by(targets.c.spec)
            )
        ]
    return StudySummary(
        targets=target_specs(engine),
        posts=post_count,
        observations=obs_count,
        transient=transient,
        verdicts=by_status,
        first_observed_at=first,
        last_observed_at=last,
        unreadable=unreadable,
    )


def verdict_from_row(row: dict[str, object]) -> Verdict:
    """A post's verdict from its ``verdicts`` row."""
    history = [(float(at), str(status)) for at, status in json.loads(str(row["history"]))]
    return Verdict(
        status=Status(str(row["status"])),
        first_seen_at=float(row["first_seen_at"]),  # type: ignore[arg-type]
        last_seen_alive_at=row["last_seen_alive_at"],  # type: ignore[arg-type]
        first_seen_removed_at=row["first_seen_removed_at"],  # type: ignore[arg-type]
        signal=str(row["signal"]),
        edited=bool(row["edited"]),
        content_hash=row["content_hash"],  # type: ignore[arg-type]
        history=history,
    )


def load_scheduler_state(engine: Engine) -> dict[str, bytes]:
    """The rows of ``scheduler_state`` (``collect/durable.py`` reads them)."""
    with engine.connect() as connection:
        rows = connection.execute(select(scheduler_state.c.name, scheduler_state.c.value))
        return {row.name: bytes(row.value) for row in rows}
