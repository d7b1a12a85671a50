"""What an out-of-core engine computes: the reductions every ``analyze`` table is made from.

An engine never hands back one row per post: counts of posts by (platform, verdict), distinct
authors, counts of (term, verdict) pairs, and the distinct removal-time intervals with how many
posts have each. ``analysis.engines.tables`` turns those into the same tables as the in-memory
path (``analysis.tables``), through the same statistics code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

import numpy as np
import numpy.typing as npt

from memoryhole.analysis.study_data import Filters

if TYPE_CHECKING:
    import pandas as pd

#: Verdicts that are removals (as ``analysis.terms.REMOVAL_OUTCOMES``).
REMOVALS: Final = ("censored", "author_deleted", "account_suspended", "unknown")
#: Columns of :meth:`Reductions.author_rows`.
AUTHOR_COLUMNS: Final = (
    "author",
    "platform",
    "posts",
    "removed",
    "first_post_at",
    "last_post_at",
    *REMOVALS,
    "withheld",
    "suspended_seen_at",
)


@dataclass(frozen=True)
class IntervalCounts:
    """Distinct ``T in (left, right]`` intervals per group and the posts that have each."""

    group: npt.NDArray[np.object_]
    left: npt.NDArray[np.float64]
    right: npt.NDArray[np.float64]
    weight: npt.NDArray[np.int64]

    def of(
        self, label: object
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        mask = self.group == label
        return self.left[mask], self.right[mask], self.weight[mask]


@dataclass(frozen=True)
class IntervalQuery:
    """Which posts' intervals to count and what is the event.

    ``rows``: None for every post, else only posts removed (``first_seen_removed_at`` set)
    with one of these verdicts; ``events``: the verdicts whose removal is the event (the rest
    right-censored at the last sighting); ``drop_gaps``: leave out removals whose interval
    spans a coverage gap; ``censor_gaps``: treat those as not removed; ``by``: None,
    ``"platform"`` or ``"verdict"``: the group label."""

    events: tuple[str, ...]
    rows: tuple[str, ...] | None
    drop_gaps: bool = False
    censor_gaps: bool = False
    by: str | None = None


@dataclass(frozen=True)
class TimelineQuery:
    """Bins of ``width`` seconds (``floor(t / width)``); ``kinds``: what counts as removed;
    ``within``: removed within this long of publication (None: ever), and only posts
    published that long before ``observed_until`` are eligible."""

    kinds: tuple[str, ...]
    width: float
    within: float | None
    observed_until: float | None


@dataclass(frozen=True)
class TimelineCounts:
    """Per publication bin (``bins``, sorted): posts, eligible, removed (within), removed
    (ever); per bin of first removal answer: removals seen; the latest removal answer."""

    bins: npt.NDArray[np.int64]
    posts: npt.NDArray[np.int64]
    eligible: npt.NDArray[np.int64]
    removed: npt.NDArray[np.int64]
    removed_any: npt.NDArray[np.int64]
    seen_bins: npt.NDArray[np.int64]
    seen: npt.NDArray[np.int64]
    last_seen: float | None


class Reductions(Protocol):
    """One engine's reductions over an analysis dataset (:mod:`.dataset`)."""

    def outcome_counts(self, filters: Filters) -> dict[tuple[str, str], int]:
        """Posts per (platform, verdict)."""
        ...

    def author_counts(self, filters: Filters) -> dict[str, tuple[int, int]]:
        """Per platform: distinct authors, and those with a post ``account_suspended``."""
        ...

    def gap_removals(self, filters: Filters) -> int:
        """Posts whose removal interval spans a coverage gap."""
        ...

    def term_counts(
        self, filters: Filters, at_least: int = 1
    ) -> tuple[npt.NDArray[np.int64], list[str], npt.NDArray[np.int64]]:
        """``(term_ids, verdicts, counts)``: ``counts[v, t]`` posts with verdict ``verdicts[v]``
        containing term ``term_ids[t]``, for the terms in at least ``at_least`` posts."""
        ...

    def vocabulary(self, term_ids: npt.NDArray[np.int64]) -> list[str]:
        """The terms of these ids, in order."""
        ...

    def interval_counts(self, filters: Filters, query: IntervalQuery) -> IntervalCounts:
        """The distinct intervals (see :class:`IntervalQuery`) with their post counts."""
        ...

    def timeline_counts(self, filters: Filters, query: TimelineQuery) -> TimelineCounts:
        """Posts and removals per time bin (see :class:`TimelineQuery`)."""
        ...

    def author_rows(self, filters: Filters, kinds: tuple[str, ...]) -> pd.DataFrame:
        """One row per (author, platform), sorted so: :data:`AUTHOR_COLUMNS`."""
        ...

    def suspended_accounts(self, filters: Filters) -> pd.DataFrame:
        """Per account with a post ``account_suspended``: ``author, platform, seen`` (its
        first such answer), ``posts`` (those posts)."""
        ...

    @property
    def observed_until(self) -> float | None:
        """The study's last observation (the end of what it could see)."""
        ...


def sql_list(values: tuple[str, ...]) -> str:
    """A SQL list of string literals (values are verdict and platform names)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def post_conditions(filters: Filters, alias: str = "") -> list[str]:
    """SQL conditions on a posts dataset for ``filters`` (the partition column ``platform``
    first, so engines prune folders)."""
    prefix = f"{alias}." if alias else ""
    out: list[str] = []
    if filters.platforms:
        out.append(f"{prefix}platform IN ({sql_list(filters.platforms)})")
    if filters.since is not None:
        out.append(f"{prefix}published_at >= {filters.since!r}")
    if filters.until is not None:
        out.append(f"{prefix}published_at < {filters.until!r}")
    if filters.post_pks is not None:
        out.append(
            f"{prefix}post_pk >= {filters.post_pks[0]} AND {prefix}post_pk < {filters.post_pks[1]}"
        )
    return out


def interval_sql(query: IntervalQuery, source: str) -> str:
    """``group, left, right`` per post of ``source`` (a posts relation), the arithmetic of
    :meth:`memoryhole.analysis.survival.Timings.intervals` step for step (the same IEEE
    operations in the same order, so the same doubles)."""
    removed = "first_seen_removed_at"
    if query.censor_gaps:
        removed = f"CASE WHEN interval_spans_gap THEN NULL ELSE {removed} END"
    group = {None: "''", "platform": "platform", "verdict": "verdict"}[query.by]
    where = ["TRUE"]
    if query.rows is not None:
        where.append(f"verdict IN ({sql_list(query.rows)}) AND first_seen_removed_at IS NOT NULL")
    if query.drop_gaps:
        where.append("NOT interval_spans_gap")
    return f"""
        WITH base AS (
            SELECT {group} AS grp, published_at AS pub,
                coalesce(last_seen_alive_at, published_at) AS alive,
                coalesce(published_within, 0.0) AS win,
                ({removed}) IS NOT NULL AND verdict IN ({sql_list(query.events)}) AS event,
                {removed} AS removed
            FROM {source} WHERE {" AND ".join(where)}
        ), ends AS (
            SELECT grp, event, win, greatest(alive - pub - win, 0.0) AS left0,
                CASE WHEN event THEN removed - pub ELSE 'inf'::DOUBLE END AS right_
            FROM base
        ), dated AS (
            SELECT grp, event, right_,
                CASE WHEN event AND win > 0 THEN greatest(left0, right_ - win) ELSE left0 END
                    AS left1
            FROM ends
        )
        SELECT grp,
            CASE WHEN event AND right_ <= left1 THEN nextafter(right_, '-inf'::DOUBLE)
                ELSE left1 END AS left_,
            right_
        FROM dated
    """


def timeline_sql(query: TimelineQuery, source: str) -> tuple[str, str]:
    """Per publication bin, and per bin of the first removal answer (the arithmetic of
    :func:`memoryhole.analysis.tables.timeline_table`)."""
    kinds = f"verdict IN ({sql_list(query.kinds)})"
    eligible = "TRUE"
    if query.within is not None and query.observed_until is not None:
        eligible = f"published_at + {query.within!r} <= {query.observed_until!r}"
    within = "TRUE"
    if query.within is not None:
        within = f"first_seen_removed_at - published_at <= {query.within!r}"
    width = repr(query.width)
    published = f"""
        SELECT floor(published_at / {width})::BIGINT AS b, count(*)::BIGINT AS posts,
            count(*) FILTER (WHERE {eligible})::BIGINT AS eligible,
            count(*) FILTER (WHERE {kinds} AND {eligible} AND {within})::BIGINT AS removed,
            count(*) FILTER (WHERE {kinds})::BIGINT AS removed_any,
            max(first_seen_removed_at) FILTER (WHERE {kinds}) AS last_seen
        FROM {source} GROUP BY ALL ORDER BY b
    """
    seen = f"""
        SELECT floor(first_seen_removed_at / {width})::BIGINT AS b, count(*)::BIGINT AS n
        FROM {source} WHERE {kinds} AND first_seen_removed_at IS NOT NULL
        GROUP BY ALL ORDER BY b
    """
    return published, seen


def author_sql(kinds: tuple[str, ...], source: str) -> str:
    """:meth:`Reductions.author_rows` in SQL."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE verdict = '{v}')::BIGINT AS {v}" for v in (*REMOVALS, "withheld")
    )
    return f"""
        SELECT author, platform, count(*)::BIGINT AS posts,
            count(*) FILTER (WHERE verdict IN ({sql_list(kinds)}))::BIGINT AS removed,
            min(published_at) AS first_post_at, max(published_at) AS last_post_at, {counts},
            min(first_seen_removed_at) FILTER (WHERE verdict = 'account_suspended')
                AS suspended_seen_at
        FROM {source} GROUP BY ALL ORDER BY author, platform
    """


def suspended_sql(source: str) -> str:
    return f"""
        SELECT author, platform, min(first_seen_removed_at) AS seen, count(*)::BIGINT AS posts
        FROM {source} WHERE verdict = 'account_suspended' GROUP BY ALL
        ORDER BY author, platform
    """
