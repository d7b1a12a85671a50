"""``analyze terms``, ``survival`` and ``platforms`` from an engine's reductions: the same
tables, column for column, as :mod:`memoryhole.analysis.tables` computes from posts in memory,
through the same statistics (term counts into :func:`~memoryhole.analysis.terms.term_stats`,
counted intervals into :func:`~memoryhole.analysis.survival.survival_curve`, whose bootstrap
reweights the counts)."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from memoryhole.analysis.engines.base import (
    REMOVALS,
    IntervalCounts,
    IntervalQuery,
    Reductions,
    TimelineQuery,
)
from memoryhole.analysis.stats import wilson_interval
from memoryhole.analysis.study_data import Filters
from memoryhole.analysis.survival import CURVE_COLUMNS, SUMMARY_COLUMNS, survival_curve
from memoryhole.analysis.tables import (
    ACCOUNT_COLUMNS,
    ALL_POSTS,
    PLATFORM_COLUMNS,
    SUSPENSION_COLUMNS,
    TIMELINE_COLUMNS,
    Kinds,
    Population,
    _kind_label,
    _kinds,
    account_rates,
    bin_seconds,
    iso,
    timeline_frame,
)
from memoryhole.analysis.terms import TermIndex, term_stats
from memoryhole.errors import MemoryholeError
from memoryhole.model import VERDICT_VALUES

if TYPE_CHECKING:
    import pandas as pd


def term_index(reductions: Reductions, filters: Filters, at_least: int = 1) -> TermIndex:
    """A counts-only :class:`TermIndex` (no incidence) from the engine's (term, verdict)
    counts: what :func:`term_stats` reads, equal to ``StudyData.term_counts()`` for the terms
    in at least ``at_least`` posts (the rarer ones, never tested, are not read at all)."""
    per_outcome = reductions.outcome_counts(filters)
    ids, verdicts, counts = reductions.term_counts(filters, at_least)
    outcomes = list(VERDICT_VALUES)
    outcomes += sorted({v for _, v in per_outcome} - set(outcomes))
    matrix = np.zeros((len(outcomes), ids.size), dtype=np.int64)
    for row, verdict in enumerate(verdicts):
        matrix[outcomes.index(verdict)] = counts[row]
    posts = np.zeros(len(outcomes), dtype=np.int64)
    for (_, verdict), n in per_outcome.items():
        posts[outcomes.index(verdict)] += n
    # term_stats takes the denominators from the posts' outcome codes: one code per post,
    # in any order (int16: 2 bytes a post).
    post_outcome = np.repeat(np.arange(len(outcomes), dtype=np.int16), posts)
    return TermIndex(
        vocab=reductions.vocabulary(ids),
        outcomes=outcomes,
        counts=matrix,
        post_outcome=post_outcome,
        post_author=np.broadcast_to(np.int32(-1), post_outcome.shape),
        authors=[],
    )


def terms_table(
    reductions: Reductions,
    filters: Filters,
    *,
    kind: Kinds = "censored",
    min_posts: int = 20,
    test: Literal["binomial", "fisher"] = "binomial",
    exclude_outcomes: Collection[str] = (),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """:func:`memoryhole.analysis.tables.terms_table` (without pairs or matching)."""
    kinds = _kinds(kind)
    frame = term_stats(
        term_index(reductions, filters, min_posts),
        kind=kinds,
        min_posts=min_posts,
        test=test,
        alpha=alpha,
        exclude_outcomes=exclude_outcomes,
    )
    frame.attrs["kind"] = _kind_label(kind)
    return frame


def survival_table(
    reductions: Reductions,
    filters: Filters,
    *,
    kind: Kinds | None = "censored",
    group_by: str | None = None,
    population: Population = "removed",
    method: Literal["turnbull", "km_midpoint", "km_naive"] = "turnbull",
    bootstrap: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
    include_gap_removals: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`memoryhole.analysis.tables.survival_table` for ``group_by`` None,
    ``"platform"`` or ``"kind"``."""
    kinds = REMOVALS if kind is None else _kinds(kind)
    if population not in ("removed", "all"):
        raise MemoryholeError(f"unknown population {population!r}: use removed or all")
    grouping = None if group_by in (None, "", "none") else group_by
    if grouping not in (None, "platform", "kind"):
        raise MemoryholeError(
            f"--group-by {group_by} needs the posts' terms one by one: use --engine pandas "
            "(the out-of-core engines group by none, platform or kind)"
        )
    gaps = 0 if include_gap_removals else reductions.gap_removals(filters)
    options: dict[str, Any] = {
        "method": method,
        "alpha": alpha,
        "bootstrap": bootstrap,
        "seed": seed,
    }
    drop = not include_gap_removals
    parts: list[tuple[Any, IntervalCounts]]
    if grouping == "kind" and population == "all":
        parts = []
        for k in (k for k in REMOVALS if k in kinds):
            query = IntervalQuery(events=(k,), rows=None, censor_gaps=drop)
            parts.append((k, reductions.interval_counts(filters, query)))
        curves, summary = _curves([(k, c, "") for k, c in parts], options)
        return _finish(curves, summary, population, gaps)
    if grouping == "kind":
        query = IntervalQuery(events=REMOVALS, rows=kinds, drop_gaps=drop, by="verdict")
        order = list(kinds)
    elif population == "removed":
        query = IntervalQuery(events=kinds, rows=kinds, drop_gaps=drop, by=grouping)
        order = []
    else:
        query = IntervalQuery(events=kinds, rows=None, censor_gaps=drop, by=grouping)
        order = []
    counts = reductions.interval_counts(filters, query)
    if grouping is None:
        curves, summary = _curves([(None, counts, "")], options)
        curves["group"] = ALL_POSTS
        summary["group"] = ALL_POSTS
        return _finish(curves, summary, population, gaps)
    labels = sorted({str(g) for g in counts.group})
    curves, summary = _curves([(g, counts, g) for g in labels], options)
    if order:
        rank = {label: i for i, label in enumerate(order)}
        summary = summary.sort_values("group", key=lambda g: g.map(rank), kind="stable")
        summary = summary.reset_index(drop=True)
    return _finish(curves, summary, population, gaps)


def _curves(
    parts: list[tuple[Any, IntervalCounts, str]], options: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One curve per part, as :func:`~memoryhole.analysis.survival.survival_curves`."""
    import pandas as pd

    frames: list[pd.DataFrame] = []
    summaries: list[dict[str, Any]] = []
    for label, counts, selector in parts:
        left, right, weight = counts.of(selector)
        frame, summary = survival_curve(left, right, group=label, weights=weight, **options)
        frames.append(frame)
        summaries.append({name: getattr(summary, name) for name in SUMMARY_COLUMNS})
    curves = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: [] for c in (*CURVE_COLUMNS, "time_low")})
    )
    return curves, pd.DataFrame(summaries, columns=list(SUMMARY_COLUMNS))


def _finish(
    curves: pd.DataFrame, summary: pd.DataFrame, population: str, gaps: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary["population"] = population
    summary["gap_removals_left_out"] = gaps
    return curves, summary


def platforms_table(
    reductions: Reductions,
    filters: Filters,
    *,
    kind: Kinds = "censored",
    min_posts: int = 20,
    top: int = 5,
    bootstrap: int = 100,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """:func:`memoryhole.analysis.tables.platforms_table`: each platform's counts,
    median time to removal and significant terms from its own reductions."""
    import pandas as pd

    per_outcome = reductions.outcome_counts(filters)
    authors = reductions.author_counts(filters)
    rows: list[dict[str, Any]] = []
    for platform in sorted({p for p, _ in per_outcome}):
        mine = replace(filters, platforms=(platform,))
        counts = {v: n for (p, v), n in per_outcome.items() if p == platform}
        n = sum(counts.values())
        removed = sum(counts.get(k, 0) for k in _kinds(kind))
        low, high = wilson_interval([removed], [n], alpha)
        _, summary = survival_table(reductions, mine, kind=kind, bootstrap=bootstrap, alpha=alpha)
        terms = terms_table(reductions, mine, kind=kind, min_posts=min_posts, alpha=alpha)
        significant = terms[terms["q_value"] < alpha] if len(terms) else terms
        first = summary.iloc[0] if len(summary) else None
        rows.append(
            {
                "platform": platform,
                "posts": n,
                "authors": authors.get(platform, (0, 0))[0],
                "removed": removed,
                "rate": removed / n if n else math.nan,
                "ci_low": float(low[0]),
                "ci_high": float(high[0]),
                **{v: int(counts.get(v, 0)) for v in ("live", *REMOVALS, "withheld")},
                "median_time_to_removal": math.nan if first is None else first["median"],
                "median_ci_low": math.nan if first is None else first["median_ci_low"],
                "median_ci_high": math.nan if first is None else first["median_ci_high"],
                "suspended_accounts": authors.get(platform, (0, 0))[1],
                "significant_terms": len(significant),
                "top_terms": ", ".join(significant["term"].head(top).tolist()),
            }
        )
    frame = pd.DataFrame(rows, columns=list(PLATFORM_COLUMNS))
    frame.attrs["kind"] = _kind_label(kind)
    return frame


def timeline_table(
    reductions: Reductions,
    filters: Filters,
    *,
    kind: Kinds = "censored",
    bin: str | float = "day",
    within: float | None = 86400.0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """:func:`memoryhole.analysis.tables.timeline_table` (all posts; no ``term``)."""
    import pandas as pd

    width = bin_seconds(bin)
    query = TimelineQuery(_kinds(kind), width, within, reductions.observed_until)
    counts = reductions.timeline_counts(filters, query)
    if counts.bins.size == 0:
        return pd.DataFrame({c: [] for c in TIMELINE_COLUMNS})
    first = int(counts.bins[0])
    last = int(counts.bins[-1])
    if counts.last_seen is not None:
        last = max(last, math.floor(counts.last_seen / width))
    n_bins = last - first + 1

    def spread(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        out = np.zeros(n_bins, dtype=np.int64)
        out[counts.bins - first] = values
        return out

    posts, n_eligible = spread(counts.posts), spread(counts.eligible)
    n_removed = spread(counts.removed)
    seen_at = counts.seen_bins - first
    inside = (seen_at >= 0) & (seen_at < n_bins)
    n_seen = np.zeros(n_bins, dtype=np.int64)
    n_seen[seen_at[inside]] = counts.seen[inside]
    frame = timeline_frame(
        first, width, posts, n_eligible, n_removed, spread(counts.removed_any), n_seen, alpha
    )
    frame.attrs.update(
        {"kind": _kind_label(kind), "bin_seconds": width, "within": within, "term": None}
    )
    return frame


def accounts_table(
    reductions: Reductions, filters: Filters, *, kind: Kinds = "censored", alpha: float = 0.05
) -> pd.DataFrame:
    """:func:`memoryhole.analysis.tables.accounts_table` from one row per author."""
    import pandas as pd

    table = reductions.author_rows(filters, _kinds(kind))
    if table.empty:
        return pd.DataFrame({c: [] for c in ACCOUNT_COLUMNS})
    table["suspended"] = table["account_suspended"] > 0
    return account_rates(table, kind, alpha)


def suspensions_table(
    reductions: Reductions, filters: Filters, *, bin: str | float = "day"
) -> pd.DataFrame:
    """:func:`memoryhole.analysis.tables.suspensions_table` from one row per account."""
    import pandas as pd

    width = bin_seconds(bin)
    per_account = reductions.suspended_accounts(filters)
    if per_account.empty:
        return pd.DataFrame({c: [] for c in SUSPENSION_COLUMNS})
    start = np.floor(per_account["seen"].to_numpy(dtype=np.float64) / width) * width
    per_account = per_account.assign(bin_start=start)
    table = (
        per_account.groupby("bin_start")
        .agg(accounts=("seen", "size"), posts=("posts", "sum"))
        .reset_index()
        .sort_values("bin_start")
    )
    table["bin"] = [iso(s) for s in table["bin_start"]]
    table["cumulative_accounts"] = table["accounts"].cumsum()
    return table[list(SUSPENSION_COLUMNS)].reset_index(drop=True)
