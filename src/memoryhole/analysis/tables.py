"""The study-level analyses behind ``memoryhole analyze …``: plain functions from a
:class:`~memoryhole.analysis.study_data.StudyData` to pandas DataFrames (one row per term,
group, time bin, author or platform), shared by the CLI, notebooks and the web dashboard.

Every table's columns are listed in a ``*_COLUMNS`` constant (the JSON field names of the
CLI's ``--format json`` are these columns: a contract). Times are epoch seconds (platform
clock) and durations seconds. Removal kinds are the export verdicts ``censored``,
``author_deleted``, ``account_suspended`` and ``unknown``; ``kind`` picks which count as
"removed" and the other posts count as not removed (see docs/statistics.md).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

from memoryhole.analysis.changepoint import CHANGE_COLUMNS, add_qvalues, change_row, detect_change
from memoryhole.analysis.stats import bh_qvalues, binomial_greater_pvalues, wilson_interval
from memoryhole.analysis.study_data import StudyData
from memoryhole.analysis.survival import SUMMARY_COLUMNS, survival_curves
from memoryhole.analysis.terms import (
    REMOVAL_OUTCOMES,
    matched_author_stats,
    pair_stats,
    term_stats,
)
from memoryhole.errors import MemoryholeError
from memoryhole.times import utc_datetime

if TYPE_CHECKING:
    import pandas as pd

Kinds = str | Collection[str]
Population = Literal["removed", "all"]

ALL_POSTS: Final = "(all posts)"
OTHER_POSTS: Final = "(none of them)"

TIMELINE_COLUMNS: Final = (
    "bin_start",
    "bin",
    "posts",
    "eligible",
    "removed",
    "rate",
    "ci_low",
    "ci_high",
    "removed_any",
    "removals_seen",
)
ACCOUNT_COLUMNS: Final = (
    "author",
    "platform",
    "posts",
    "removed",
    "rate",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "censored",
    "author_deleted",
    "account_suspended",
    "unknown",
    "withheld",
    "suspended",
    "suspended_seen_at",
    "first_post_at",
    "last_post_at",
)
SUSPENSION_COLUMNS: Final = ("bin_start", "bin", "accounts", "posts", "cumulative_accounts")
PLATFORM_COLUMNS: Final = (
    "platform",
    "posts",
    "authors",
    "removed",
    "rate",
    "ci_low",
    "ci_high",
    "live",
    "censored",
    "author_deleted",
    "account_suspended",
    "unknown",
    "withheld",
    "median_time_to_removal",
    "median_ci_low",
    "median_ci_high",
    "suspended_accounts",
    "significant_terms",
    "top_terms",
)


def _kinds(kind: Kinds) -> tuple[str, ...]:
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    bad = [k for k in kinds if k not in REMOVAL_OUTCOMES]
    if bad or not kinds:
        raise MemoryholeError(
            f"not a removal kind: {', '.join(bad) or '(none)'}; use {', '.join(REMOVAL_OUTCOMES)}"
        )
    return kinds


def _kind_label(kind: Kinds) -> str | list[str]:
    kinds = _kinds(kind)
    return kinds[0] if len(kinds) == 1 else list(kinds)


def _is_removed(data: StudyData, kind: Kinds) -> npt.NDArray[np.bool_]:
    return np.asarray(data.posts["verdict"].isin(_kinds(kind)).to_numpy(), dtype=bool)


def iso(at: float | None) -> str | None:
    moment = utc_datetime(at)
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# ----------------------------------------------------------------------------- terms


def terms_table(
    data: StudyData,
    *,
    kind: Kinds = "censored",
    min_posts: int = 20,
    test: Literal["binomial", "fisher"] = "binomial",
    pairs: bool = False,
    matched: bool = False,
    top_k: int = 200,
    exclude_outcomes: Collection[str] = (),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per-term removal statistics (:func:`~memoryhole.analysis.terms.term_stats`): the
    contract columns ``term, posts, removed, rate, ci_low, ci_high, lift, p_value, q_value``
    then more. ``pairs``: co-occurring pairs of the ``top_k`` most frequent terms
    (:func:`pair_stats`); ``matched``: the same-author comparison (:func:`matched_author_stats`).
    """
    if pairs and matched:
        raise MemoryholeError("--pairs and --matched are separate analyses: choose one")
    kinds = _kinds(kind)
    index = data.term_index() if pairs or matched else data.term_counts()
    common: dict[str, Any] = {
        "kind": kinds,
        "min_posts": min_posts,
        "alpha": alpha,
        "exclude_outcomes": exclude_outcomes,
    }
    if pairs:
        frame = pair_stats(index, top_k=top_k, test=test, **common)
    elif matched:
        frame = matched_author_stats(index, **common)
    else:
        frame = term_stats(index, test=test, **common)
    frame.attrs["kind"] = _kind_label(kind)
    return frame


# ----------------------------------------------------------------------------- survival


def _group_masks(data: StudyData, group_by: str | None) -> list[tuple[str, npt.NDArray[np.bool_]]]:
    """(label, mask) per group: None -> all posts; "platform"; "term:A,B" -> one group per term
    (a post with several is in several) and the posts with none of them."""
    n = data.n_posts
    if group_by in (None, "", "none"):
        return [(ALL_POSTS, np.ones(n, dtype=bool))]
    if group_by == "platform":
        return [(p, (data.posts["platform"] == p).to_numpy()) for p in data.platforms]
    if group_by.startswith("term:"):
        terms = [t.strip() for t in group_by[5:].split(",") if t.strip()]
        if not terms:
            raise MemoryholeError("--group-by term:X needs at least one term, e.g. term:六四")
        masks = [(t, data.term_mask(t)) for t in terms]
        rest = ~np.logical_or.reduce([m for _, m in masks])
        return [*masks, (OTHER_POSTS, rest)]
    raise MemoryholeError(
        f"unknown grouping {group_by!r}: use none, platform, kind or term:X[,Y...]"
    )


def survival_table(
    data: StudyData,
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
    """Time from publication to removal (:func:`~memoryhole.analysis.survival.survival_curves`).

    ``population="removed"``: among the posts removed (of ``kind``; None: any removal), how
    fast they went (every post is an event; what Zhu et al. 2013 report). ``"all"``: over all
    posts, removals of other kinds and live posts right-censored at their last sighting (the
    cause-specific curve; its median is "not reached", NaN, when fewer than half go).
    ``group_by``: None, ``"platform"``, ``"kind"`` or ``"term:A,B"``.

    A removal whose interval spans a coverage gap (``interval_spans_gap``: the collector was
    not watching) is dated by the downtime, not the censor: unless ``include_gap_removals``, it
    is left out of ``"removed"`` and right-censored at its last sighting in ``"all"``; the
    summary's ``gap_removals_left_out`` says how many.

    Returns ``(curves, summary)``: curves ``time, survival, ci_low, ci_high, group,
    time_low``; summary ``group, method, n, events, median, median_ci_low, median_ci_high``
    (seconds), one row per group.
    """
    import pandas as pd

    kinds = tuple(REMOVAL_OUTCOMES) if kind is None else _kinds(kind)
    columns = ["published_at", "last_seen_alive_at", "first_seen_removed_at"]
    if "published_within" in data.posts.columns:
        columns.append("published_within")
    frame = data.posts[columns].copy()
    frame["kind"] = data.posts["verdict"].to_numpy()
    spanning = np.zeros(data.n_posts, dtype=bool)
    if not include_gap_removals and "interval_spans_gap" in data.posts.columns:
        spanning = data.posts["interval_spans_gap"].to_numpy(dtype=bool)
    if population == "removed":
        keep = (
            data.posts["verdict"].isin(kinds).to_numpy()
            & ~np.isnan(data.posts["first_seen_removed_at"].to_numpy(dtype=np.float64))
            & ~spanning
        )
    elif population == "all":
        keep = np.ones(data.n_posts, dtype=bool)
        frame.loc[spanning, "first_seen_removed_at"] = np.nan  # seen alive until then: no more
    else:
        raise MemoryholeError(f"unknown population {population!r}: use removed or all")
    options: dict[str, Any] = {
        "kind": kinds,
        "method": method,
        "alpha": alpha,
        "bootstrap": bootstrap,
        "seed": seed,
    }
    if group_by == "kind" and population == "all":
        curves, summary = survival_curves(frame, by="kind", **options)
        summary["population"] = population
        summary["gap_removals_left_out"] = int(spanning.sum())
        return curves, summary
    if group_by == "kind":  # each kind's removed posts, each kind the event of its own group
        verdict = data.posts["verdict"].to_numpy()
        groups = [(k, verdict == k) for k in kinds if bool((verdict[keep] == k).any())]
        options["kind"] = None
    else:
        groups = _group_masks(data, group_by)
    parts: list[pd.DataFrame] = []
    for label, mask in groups:
        part = frame[mask & keep].copy()
        part["group"] = label
        parts.append(part)
    rows = pd.concat(parts, ignore_index=True) if parts else frame.iloc[:0].assign(group=None)
    if group_by in (None, "", "none"):
        curves, summary = survival_curves(rows, **options)
        curves["group"] = ALL_POSTS
        summary["group"] = ALL_POSTS
    else:
        curves, summary = survival_curves(rows, by="group", **options)
        order = {label: i for i, (label, _) in enumerate(groups)}  # the groups' own order
        summary = summary.sort_values("group", key=lambda g: g.map(order), kind="stable")
        summary = summary.reset_index(drop=True)
    summary["population"] = population
    summary["gap_removals_left_out"] = int(spanning.sum())
    return curves, summary


# ----------------------------------------------------------------------------- timeline


def bin_seconds(bin: str | float) -> float:
    """``"hour"``, ``"day"``, ``"week"`` or a duration (``"6h"``, ``"15m"``, seconds)."""
    named = {"hour": 3600.0, "day": 86400.0, "week": 7 * 86400.0}
    if isinstance(bin, str) and bin in named:
        return named[bin]
    from memoryhole.config import parse_duration

    try:
        seconds = parse_duration(bin)
    except ValueError as exc:
        raise MemoryholeError(f"bad bin {bin!r}: {exc}") from None
    if seconds <= 0:
        raise MemoryholeError("a bin must be longer than 0 s")
    return seconds


def _eligible(data: StudyData, within: float | None) -> npt.NDArray[np.bool_]:
    """Posts watched at least ``within`` seconds (published that long before the study's last
    observation): only they can show "removed within ``within``"."""
    published = data.posts["published_at"].to_numpy(dtype=np.float64)
    if within is None or data.observed_until is None:
        return np.ones(published.size, dtype=bool)
    return np.asarray(published + within <= data.observed_until, dtype=bool)


def _removed_within(data: StudyData, kind: Kinds, within: float | None) -> npt.NDArray[np.bool_]:
    removed = _is_removed(data, kind)
    if within is None:
        return removed
    delay = (data.posts["first_seen_removed_at"] - data.posts["published_at"]).to_numpy(
        dtype=np.float64
    )
    with np.errstate(invalid="ignore"):
        return removed & (delay <= within)


def timeline_table(
    data: StudyData,
    *,
    kind: Kinds = "censored",
    bin: str | float = "day",
    within: float | None = 86400.0,
    term: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Posts and removals per time bin (UTC-aligned), optionally of the posts with ``term``.

    Columns (:data:`TIMELINE_COLUMNS`): ``bin_start`` (epoch), ``bin`` (ISO), ``posts``
    published in the bin; ``eligible``: of them, those watched for ``within`` seconds;
    ``removed``: eligible posts removed (``kind``) within ``within`` seconds of publication;
    ``rate = removed / eligible`` with its Wilson interval (a rate comparable across bins,
    because every post had the same time to be removed; ``within=None``: removed at any time,
    all posts eligible); ``removed_any``: posts of the bin removed at any time;
    ``removals_seen``: removals (``kind``) first seen during the bin, whenever published.
    """
    import pandas as pd

    width = bin_seconds(bin)
    mask = data.term_mask(term) if term else np.ones(data.n_posts, dtype=bool)
    published = data.posts["published_at"].to_numpy(dtype=np.float64)[mask]
    seen = data.posts["first_seen_removed_at"].to_numpy(dtype=np.float64)[mask]
    removed_kind = _is_removed(data, kind)[mask]
    eligible = _eligible(data, within)[mask]
    removed = _removed_within(data, kind, within)[mask] & eligible
    if published.size == 0:
        return pd.DataFrame({c: [] for c in TIMELINE_COLUMNS})
    first = math.floor(published.min() / width)
    last_time = max(published.max(), np.nanmax(np.where(removed_kind, seen, -np.inf)))
    last = math.floor(last_time / width)
    n_bins = last - first + 1
    b = (np.floor(published / width) - first).astype(np.int64)
    posts = np.bincount(b, minlength=n_bins)
    n_eligible = np.bincount(b, weights=eligible, minlength=n_bins).astype(np.int64)
    n_removed = np.bincount(b, weights=removed, minlength=n_bins).astype(np.int64)
    n_any = np.bincount(b, weights=removed_kind, minlength=n_bins).astype(np.int64)
    seen_removed = seen[removed_kind]
    seen_removed = seen_removed[np.isfinite(seen_removed)]  # undated removals have no bin
    seen_bins = (np.floor(seen_removed / width) - first).astype(np.int64)
    seen_bins = seen_bins[(seen_bins >= 0) & (seen_bins < n_bins)]
    n_seen = np.bincount(seen_bins, minlength=n_bins).astype(np.int64)
    frame = timeline_frame(first, width, posts, n_eligible, n_removed, n_any, n_seen, alpha)
    frame.attrs.update(
        {"kind": _kind_label(kind), "bin_seconds": width, "within": within, "term": term}
    )
    return frame


def timeline_frame(
    first: int,
    width: float,
    posts: npt.NDArray[np.int64],
    eligible: npt.NDArray[np.int64],
    removed: npt.NDArray[np.int64],
    removed_any: npt.NDArray[np.int64],
    seen: npt.NDArray[np.int64],
    alpha: float,
) -> pd.DataFrame:
    """The timeline's rows (``TIMELINE_COLUMNS``) from its counts per bin, the first bin being
    number ``first`` of ``width`` seconds: rates with Wilson intervals (none where no post is
    eligible). Shared by the in-memory and the out-of-core paths."""
    import pandas as pd

    low, high = wilson_interval(removed, eligible, alpha)
    starts = (np.arange(len(posts)) + first) * width
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = removed / eligible
    return pd.DataFrame(
        {
            "bin_start": starts,
            "bin": [iso(s) for s in starts],
            "posts": posts,
            "eligible": eligible,
            "removed": removed,
            "rate": rate,
            "ci_low": np.where(eligible > 0, low, np.nan),
            "ci_high": np.where(eligible > 0, high, np.nan),
            "removed_any": removed_any,
            "removals_seen": seen,
        }
    )


def change_points(
    data: StudyData,
    *,
    kind: Kinds = "censored",
    within: float | None = 86400.0,
    terms: Sequence[str] | None = None,
    prefixes: Sequence[str] = ("w:",),
    min_posts: int = 30,
    min_removed: int = 5,
    include_all: bool = True,
    permutations: int = 999,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Flag terms whose removal rate jumped (:mod:`memoryhole.analysis.changepoint`).

    Series: each of ``terms`` if given, else every term with one of ``prefixes`` (default
    words; ``()`` for every view) found in at least ``min_posts`` eligible posts of which
    ``min_removed`` were removed; plus, with ``include_all``, all posts together. A post's
    outcome is "removed (``kind``) within ``within`` seconds of publication", over the posts
    watched that long, so late posts do not fake a drop. Columns :data:`CHANGE_COLUMNS`
    (``change_at`` epoch seconds, rates before/after with Wilson intervals, ``direction``
    up/down, the permutation ``p_value`` and its BH ``q_value`` over the series tested),
    sorted by q-value.
    """
    import pandas as pd

    eligible = _eligible(data, within)
    outcome = _removed_within(data, kind, within)
    published = data.posts["published_at"].to_numpy(dtype=np.float64)
    series: list[tuple[str, npt.NDArray[np.intp]]] = []
    if include_all:
        series.append((ALL_POSTS, np.flatnonzero(eligible)))
    if terms:
        for term in terms:
            series.append((term, np.flatnonzero(data.term_mask(term) & eligible)))
    else:
        index = data.term_index()
        indptr, indices = index._require_incidence()
        post_of = np.repeat(np.arange(index.n_posts), np.diff(indptr))
        keep = eligible[post_of]
        ids, posts_of = indices[keep], post_of[keep]
        n_terms = len(index.vocab)
        n = np.bincount(ids, minlength=n_terms)
        k = np.bincount(ids, weights=outcome[posts_of], minlength=n_terms)
        wanted = (n >= min_posts) & (k >= min_removed) & (k < n)
        if prefixes:
            wanted &= np.array([v.startswith(tuple(prefixes)) for v in index.vocab], dtype=bool)
        chosen = np.flatnonzero(wanted)
        order = np.argsort(ids, kind="stable")
        starts = np.searchsorted(ids[order], chosen, side="left")
        ends = np.searchsorted(ids[order], chosen, side="right")
        sorted_posts = posts_of[order]
        for term_id, lo, hi in zip(chosen, starts, ends, strict=True):
            series.append((index.vocab[term_id], sorted_posts[lo:hi]))
    rows: list[dict[str, object]] = []
    for i, (label, members) in enumerate(series):
        change = detect_change(
            published[members], outcome[members], permutations=permutations, seed=seed + i
        )
        if change is not None:
            rows.append(change_row(label, change, alpha))
    if rows:
        frame = pd.DataFrame(add_qvalues(rows, alpha), columns=list(CHANGE_COLUMNS))
    else:
        frame = pd.DataFrame({c: [] for c in CHANGE_COLUMNS})
    # ``series``: the series considered; ``tested``: those that could change (at least 20
    # posts, some removed and some not), one row each.
    frame.attrs.update(
        {
            "kind": _kind_label(kind),
            "within": within,
            "series": len(series),
            "tested": len(rows),
            "eligible": int(eligible.sum()),
            "min_posts": min_posts,
            "min_removed": min_removed,
        }
    )
    return frame


# ----------------------------------------------------------------------------- accounts


def accounts_table(
    data: StudyData, *, kind: Kinds = "censored", alpha: float = 0.05
) -> pd.DataFrame:
    """Per author (pseudonym): posts, removals by kind, the removal rate (``kind``) with a
    Wilson interval, a one-sided binomial test against the rate over all analysed posts
    with BH q-values over authors, and whether (and when first seen) the account was
    suspended. Sorted: suspended accounts first, then by q-value and rate."""
    import pandas as pd

    posts = data.posts
    if posts.empty:
        return pd.DataFrame({c: [] for c in ACCOUNT_COLUMNS})
    removed = _is_removed(data, kind)
    frame = posts.assign(_removed=removed)
    grouped = frame.groupby(["author", "platform"], sort=True)
    table = grouped.agg(
        posts=("post_pk", "size"),
        removed=("_removed", "sum"),
        first_post_at=("published_at", "min"),
        last_post_at=("published_at", "max"),
    )
    verdict_counts = pd.crosstab([frame["author"], frame["platform"]], frame["verdict"])
    for name in (*REMOVAL_OUTCOMES, "withheld"):  # withheld: counted, never a removal
        table[name] = (
            verdict_counts[name].reindex(table.index).fillna(0).astype(np.int64)
            if name in verdict_counts.columns
            else 0
        )
    suspended = frame[frame["verdict"] == "account_suspended"]
    seen = suspended.groupby(["author", "platform"])["first_seen_removed_at"].min()
    table["suspended_seen_at"] = seen.reindex(table.index)
    table["suspended"] = table["account_suspended"] > 0
    return account_rates(table.reset_index(), kind, alpha)


def account_rates(table: pd.DataFrame, kind: Kinds, alpha: float) -> pd.DataFrame:
    """Each author's removal rate with its Wilson interval, p (binomial, greater than the
    study's baseline) and BH q, suspended accounts first (``ACCOUNT_COLUMNS``), from a frame of
    one row per author with its posts, removals and verdict counts (in memory or reduced)."""
    n = table["posts"].to_numpy(dtype=np.int64)
    k = table["removed"].to_numpy(dtype=np.int64)
    baseline = float(k.sum() / n.sum()) if n.sum() else 0.0
    low, high = wilson_interval(k, n, alpha)
    p = binomial_greater_pvalues(k, n, baseline)
    table["rate"] = k / n
    table["ci_low"], table["ci_high"] = low, high
    table["p_value"] = p
    table["q_value"] = bh_qvalues(p)
    table["removed"] = k
    table = table.sort_values(
        ["suspended", "q_value", "rate", "posts", "author"],
        ascending=[False, True, False, False, True],
        kind="mergesort",
    )
    table = table[list(ACCOUNT_COLUMNS)].reset_index(drop=True)
    table.attrs.update({"kind": _kind_label(kind), "baseline": baseline})
    return table


def suspensions_table(data: StudyData, *, bin: str | float = "day") -> pd.DataFrame:
    """Accounts seen suspended per time bin (the first time any of their posts answered
    "account suspended"), with the posts that went with them and the running total."""
    import pandas as pd

    width = bin_seconds(bin)
    frame = data.posts[data.posts["verdict"] == "account_suspended"]
    if frame.empty:
        return pd.DataFrame({c: [] for c in SUSPENSION_COLUMNS})
    per_account = frame.groupby(["author", "platform"]).agg(
        seen=("first_seen_removed_at", "min"), posts=("post_pk", "size")
    )
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


# ----------------------------------------------------------------------------- platforms


def platforms_table(
    data: StudyData,
    *,
    kind: Kinds = "censored",
    min_posts: int = 20,
    top: int = 5,
    bootstrap: int = 100,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per platform, side by side: posts, authors, verdict counts, the removal rate
    (``kind``) with its interval, the median time to removal among removed posts (Turnbull,
    bootstrap CI), suspended accounts, and the number and top ``top`` of significant terms
    (q < ``alpha``, per-platform analysis)."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for platform, part in data.by_platform().items():
        posts = part.posts
        n = len(posts)
        counts = posts["verdict"].value_counts()
        removed = int(posts["verdict"].isin(_kinds(kind)).sum())
        low, high = wilson_interval([removed], [n], alpha)
        _, summary = survival_table(part, kind=kind, bootstrap=bootstrap, alpha=alpha)
        terms = terms_table(part, kind=kind, min_posts=min_posts, alpha=alpha)
        significant = terms[terms["q_value"] < alpha] if len(terms) else terms
        suspended = posts[posts["verdict"] == "account_suspended"]["author"].nunique()
        first = summary.iloc[0] if len(summary) else None
        rows.append(
            {
                "platform": platform,
                "posts": n,
                "authors": int(posts["author"].nunique()),
                "removed": removed,
                "rate": removed / n if n else math.nan,
                "ci_low": float(low[0]),
                "ci_high": float(high[0]),
                **{v: int(counts.get(v, 0)) for v in ("live", *REMOVAL_OUTCOMES, "withheld")},
                "median_time_to_removal": math.nan if first is None else first["median"],
                "median_ci_low": math.nan if first is None else first["median_ci_low"],
                "median_ci_high": math.nan if first is None else first["median_ci_high"],
                "suspended_accounts": int(suspended),
                "significant_terms": len(significant),
                "top_terms": ", ".join(significant["term"].head(top).tolist()),
            }
        )
    frame = pd.DataFrame(rows, columns=list(PLATFORM_COLUMNS))
    frame.attrs["kind"] = _kind_label(kind)
    return frame


__all__ = [
    "ACCOUNT_COLUMNS",
    "ALL_POSTS",
    "CHANGE_COLUMNS",
    "PLATFORM_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUSPENSION_COLUMNS",
    "TIMELINE_COLUMNS",
    "accounts_table",
    "change_points",
    "iso",
    "platforms_table",
    "survival_table",
    "suspensions_table",
    "terms_table",
    "timeline_table",
]
