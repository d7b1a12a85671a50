"""Study-wide figures for the dashboard and the HTML report, read from a study's store.

Every function here reads the store (or a frame read from it) and returns plain data: small
dataclasses and lists of dicts whose values are JSON-ready (str, int, float, None; times in
epoch seconds). The web layer and the report only format what these return, so a figure means
the same thing on a page, in the report and in a test.

Posts of authors taken down (``memoryhole takedown``) are left out of every figure, as they are
from ``export verdicts``.

What each figure is:

* :func:`verdict_counts`: posts per verdict and platform (``edited`` kept apart from ``live``).
* :func:`activity`: observations so far and checks per second over the last minute of the local
  wall clock (``received_at``), which is what "is a collector running" means here.
* :func:`removals_over_time`: removals per kind per time bucket, dated ``first_seen_removed_at``
  (when the removal was detected, on the platform's clock).
* :func:`time_to_removal`: Turnbull survival curves of the time from publication to removal
  (``analysis.survival``), two views: among the posts removed so far (how fast removals come,
  by kind; these curves reach 0 so their median exists), and over all watched posts (the
  cause-specific curve: the share of posts not yet removed by that kind, which for a rare kind
  never reaches 1/2, so its median is "not reached").
* :func:`build_term_index` and :func:`term_table`: per-term removal rates, Wilson intervals,
  exact tests and Benjamini–Hochberg q-values (``analysis.terms.term_stats``).
* :func:`platform_table` and :func:`account_table`: the same counts side by side per platform,
  and per author (pseudonym) with suspensions first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from memoryhole.analysis.stats import wilson_interval
from memoryhole.store.coverage import GapIndex
from memoryhole.store.schema import authors, observations, posts, redactions, targets, verdicts

if TYPE_CHECKING:
    import pandas as pd

    from memoryhole.analysis.cache import LazyTokenizer
    from memoryhole.analysis.terms import TermIndex, TermSignificance

#: Removal verdicts, in the order every figure lists them.
REMOVAL_KINDS: Final = ("censored", "author_deleted", "account_suspended", "unknown")
#: Every verdict a post can have (``edited`` is exported as ``live`` but counted apart here).
VERDICTS: Final = ("live", "edited", *REMOVAL_KINDS, "withheld")  # withheld: never a removal
KIND_LABELS: Final = {
    "live": "live",
    "edited": "live, edited",
    "censored": "removed by platform/censor",
    "author_deleted": "deleted by author",
    "account_suspended": "account suspended",
    "unknown": "removed, reason unknown",
    "withheld": "withheld in a region",
}
#: Bucket widths tried, smallest first, for :func:`removals_over_time`.
BUCKETS: Final = (60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)


def shown_posts() -> ColumnElement[bool]:
    """SQL condition on ``posts``: the post's author was not taken down."""
    hidden = select(authors.c.id).where(
        authors.c.pseudonym.in_(select(redactions.c.author_pseudonym))
    )
    return posts.c.author_pk.not_in(hidden)


def shown_authors() -> ColumnElement[bool]:
    """SQL condition on a query that joins ``authors``: the author was not taken down. Cheaper
    than :func:`shown_posts` for a few rows (no scan of ``authors``, which has no index on
    ``pseudonym``)."""
    return authors.c.pseudonym.not_in(select(redactions.c.author_pseudonym))


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class VerdictCounts:
    """Posts per verdict, overall and per platform."""

    by_platform: dict[str, dict[str, int]]

    @property
    def total(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        for counts in self.by_platform.values():
            for status, count in counts.items():
                out[status] = out.get(status, 0) + count
        return out

    @property
    def posts(self) -> int:
        return sum(self.total.values())

    @property
    def removals(self) -> int:
        total = self.total
        return sum(total[kind] for kind in REMOVAL_KINDS)


def verdict_counts(engine: Engine) -> VerdictCounts:
    query = (
        select(posts.c.platform, verdicts.c.status, func.count())
        .select_from(verdicts.join(posts, posts.c.id == verdicts.c.post_pk))
        .where(shown_posts())
        .group_by(posts.c.platform, verdicts.c.status)
    )
    by_platform: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for platform, status, count in conn.execute(query):
            counts = by_platform.setdefault(str(platform), dict.fromkeys(VERDICTS, 0))
            counts[str(status)] = counts.get(str(status), 0) + int(count)
    return VerdictCounts(by_platform)


# --------------------------------------------------------------------------- activity


@dataclass(frozen=True)
class Activity:
    """How much was observed, and how fast the collector is checking right now."""

    observations: int
    checks_last_window: int
    window_seconds: float
    last_received_at: float | None  # local wall clock
    first_observed_at: float | None  # platform clock
    last_observed_at: float | None

    @property
    def checks_per_second(self) -> float:
        return self.checks_last_window / self.window_seconds

    def collector_active(self, now: float | None = None, within: float = 30.0) -> bool:
        """True when an observation arrived in the last ``within`` seconds of wall time."""
        if self.last_received_at is None:
            return False
        return (now if now is not None else time.time()) - self.last_received_at <= within


def _received_at(conn: Connection, observation_id: int) -> float:
    value = conn.execute(
        select(observations.c.received_at).where(observations.c.id == observation_id)
    ).scalar()
    return float(value) if value is not None else -math.inf


def activity(engine: Engine, now: float | None = None, window: float = 60.0) -> Activity:
    """Observation ids are the log's indices (1..n, in arrival order), so the first
    observation of the window is found by bisection on ``received_at``: a handful of primary-key
    lookups, whatever the size of the study."""
    now = time.time() if now is None else now
    since = now - window
    with engine.connect() as conn:
        last_id = conn.execute(select(func.max(observations.c.id))).scalar()
        if last_id is None:
            return Activity(0, 0, window, None, None, None)
        first_at = conn.execute(
            select(observations.c.observed_at).order_by(observations.c.id).limit(1)
        ).scalar()
        last = conn.execute(
            select(observations.c.received_at, observations.c.observed_at).where(
                observations.c.id == last_id
            )
        ).one()
        low, high = 1, int(last_id) + 1  # first id with received_at >= since lies in [low, high]
        while low < high:
            middle = (low + high) // 2
            if _received_at(conn, middle) >= since:
                high = middle
            else:
                low = middle + 1
        recent = conn.execute(
            select(func.count()).where(
                observations.c.id >= low,
                observations.c.kind == "check",
                observations.c.received_at >= since,
            )
        ).scalar()
    return Activity(
        observations=int(last_id),
        checks_last_window=int(recent or 0),
        window_seconds=window,
        last_received_at=_float(last.received_at),
        first_observed_at=_float(first_at),
        last_observed_at=_float(last.observed_at),
    )


@dataclass(frozen=True)
class WatchedTarget:
    platform: str
    kind: str
    key: str
    spec: str
    active: bool
    added_at: float
    unreadable: int = 0  # listing items that could not be read (never dropped silently)
    last_unreadable: str = ""
    #: Its first listing's answer, in platform time (``added_at`` is the wall clock's): the
    #: time the dashboard shows, so every time on a page is on one clock.
    first_polled_at: float | None = None


def watched_targets(engine: Engine) -> list[WatchedTarget]:
    query = select(targets).order_by(targets.c.id)
    first = (
        select(observations.c.target_pk, func.min(observations.c.observed_at))
        .where(observations.c.target_pk.is_not(None))
        .group_by(observations.c.target_pk)
    )
    with engine.connect() as conn:
        polled = {int(pk): float(at) for pk, at in conn.execute(first) if at is not None}
        return [
            WatchedTarget(
                row.platform,
                row.kind,
                row.key,
                row.spec,
                bool(row.active),
                float(row.added_at),
                int(row.unreadable or 0),
                str(row.last_unreadable or ""),
                polled.get(int(row.id)),
            )
            for row in conn.execute(query)
        ]


# --------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Timeline:
    """Removals per kind per bucket: rows ``{"t": bucket start (epoch s), "kind", "count"}``."""

    bucket_seconds: int
    rows: list[dict[str, Any]] = field(default_factory=list)


def choose_bucket(first: float, last: float, max_buckets: int = 120) -> int:
    span = max(0.0, last - first)
    for width in BUCKETS:
        if span / width <= max_buckets:
            return width
    return BUCKETS[-1]


def removals_over_time(engine: Engine, max_buckets: int = 120) -> Timeline:
    removed = verdicts.c.status.in_(REMOVAL_KINDS)
    joined = verdicts.join(posts, posts.c.id == verdicts.c.post_pk)
    with engine.connect() as conn:
        first, last = conn.execute(
            select(
                func.min(verdicts.c.first_seen_removed_at),
                func.max(verdicts.c.first_seen_removed_at),
            ).where(removed)
        ).one()
        if first is None or last is None:
            return Timeline(BUCKETS[0], [])
        width = choose_bucket(float(first), float(last), max_buckets)
        bucket = func.cast(verdicts.c.first_seen_removed_at / width, _integer()).label("bucket")
        query = (
            select(bucket, verdicts.c.status, func.count())
            .select_from(joined)
            .where(removed, verdicts.c.first_seen_removed_at.is_not(None), shown_posts())
            .group_by(bucket, verdicts.c.status)
            .order_by(bucket)
        )
        rows = [
            {"t": float(int(b) * width), "kind": str(status), "count": int(count)}
            for b, status, count in conn.execute(query)
        ]
    return Timeline(width, rows)


def _integer() -> Any:
    from sqlalchemy import Integer

    return Integer


# --------------------------------------------------------------------------- time to removal


def removal_timings(
    engine: Engine, *, gaps: GapIndex | None = None, include_gap_removals: bool = False
) -> pd.DataFrame:
    """One row per shown post: ``platform, published_at, last_seen_alive_at,
    first_seen_removed_at, kind`` (the verdict; ``edited`` counts as ``live``),
    ``published_within`` (as :func:`~memoryhole.analysis.study_data.load_posts`: the window
    after ``published_at`` a post may have been published, 0 when exact) and
    ``interval_spans_gap``. A removal whose interval spans a coverage gap (``gaps``:
    ``Study.gap_index()``) is dated by the collector's downtime: unless
    ``include_gap_removals``, it counts as seen alive until its last sighting, nothing more
    (``first_seen_removed_at`` NaN), so speed figures leave it out."""
    import pandas as pd

    from memoryhole.analysis.study_data import (
        PUBLICATION_WINDOWS,
        default_gap_index,
        spans_gap_flags,
        usable_times,
    )
    from memoryhole.store.schema import imports

    query = (
        select(
            posts.c.platform,
            posts.c.published_at,
            verdicts.c.last_seen_alive_at,
            verdicts.c.first_seen_removed_at,
            verdicts.c.status,
            posts.c.target_pk,
            posts.c.published_until,
            posts.c.imported_from,
        )
        .select_from(verdicts.join(posts, posts.c.id == verdicts.c.post_pk))
        .where(shown_posts())
    )
    with engine.connect() as conn:
        frame = pd.read_sql_query(query, conn)
        import_kinds = dict(conn.execute(select(imports.c.id, imports.c.kind)).all())
    frame.columns = pd.Index(
        ["platform", *_TIMING_COLUMNS[1:], "kind", "target_pk", "published_until", "imported"]
    )
    for name in _TIMING_COLUMNS[1:]:
        frame[name] = frame[name].astype("float64")
    within = np.zeros(len(frame), dtype=np.float64)
    imported = frame["imported"].to_numpy(dtype=np.float64, na_value=np.nan)
    for import_id, import_kind in import_kinds.items():
        width = PUBLICATION_WINDOWS.get(str(import_kind), 0.0)
        if width:
            within[imported == float(import_id)] = width
    until = frame["published_until"].to_numpy(dtype=np.float64, na_value=np.nan)
    known = ~np.isnan(until)
    published = frame["published_at"].to_numpy(dtype=np.float64)
    within[known] = np.maximum(within[known], until[known] - published[known])
    frame["published_within"] = within
    frame = frame.drop(columns=["published_until", "imported"])
    frame["kind"] = frame["kind"].where(frame["kind"] != "edited", "live")
    usable = usable_times(frame)
    if not usable.all():
        frame = frame[usable].reset_index(drop=True)
    index = gaps if gaps is not None else default_gap_index(engine)
    target_pk = frame["target_pk"].to_numpy(dtype=np.float64, na_value=np.nan)
    frame["interval_spans_gap"] = spans_gap_flags(frame, target_pk, index)
    frame = frame.drop(columns=["target_pk"])
    if not include_gap_removals:
        frame.loc[frame["interval_spans_gap"].astype(bool), "first_seen_removed_at"] = np.nan
    return frame


_TIMING_COLUMNS: Final = ("platform", "published_at", "last_seen_alive_at", "first_seen_removed_at")


@dataclass(frozen=True)
class SpeedFigures:
    """Time-to-removal curves and summaries (times in seconds since publication).

    ``removed_curves``/``removed_summary``: among the posts removed so far, one curve per kind
    (``group``) and, with ``by_platform``, one per ``platform/kind``. ``all_curves``/
    ``all_summary``: the cause-specific curves over every watched post, one per kind.
    Curve rows: ``time, survival, ci_low, ci_high, group``; summary rows: ``group, method, n,
    events, median, median_ci_low, median_ci_high``.
    """

    removed_curves: list[dict[str, Any]]
    removed_summary: list[dict[str, Any]]
    all_curves: list[dict[str, Any]]
    all_summary: list[dict[str, Any]]
    bootstrap: int

    def median(self, kind: str) -> dict[str, Any] | None:
        for row in self.removed_summary:
            if row["group"] == kind:
                return row
        return None


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    from memoryhole.analysis.terms import to_records

    return to_records(frame)


def thin_curve(rows: Sequence[dict[str, Any]], max_points: int = 300) -> list[dict[str, Any]]:
    """At most about ``max_points`` rows of each group's step curve, evenly spread on a log
    time axis, always keeping the first and last point of each group."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    out: list[dict[str, Any]] = []
    for members in groups.values():
        if len(members) <= max_points:
            out.extend(members)
            continue
        times = np.array([max(float(r["time"]), 1.0) for r in members])
        grid = np.geomspace(times.min(), times.max(), max_points)
        keep = set(np.searchsorted(times, grid, side="left").clip(0, len(members) - 1).tolist())
        keep.update({0, len(members) - 1})
        out.extend(members[i] for i in sorted(keep))
    return out


def time_to_removal(
    timings: pd.DataFrame,
    *,
    by_platform: bool = False,
    bootstrap: int = 100,
    max_points: int = 300,
    seed: int = 0,
) -> SpeedFigures:
    """Turnbull curves of the time to removal (see the module docstring for the two views).

    ``bootstrap``: resamples for the curves' and medians' percentile intervals (0: none).
    ``by_platform``: also one curve per ``platform/kind`` (when there is more than one platform;
    with one, :func:`platform_table` uses the overall curves).
    """
    import pandas as pd

    from memoryhole.analysis.survival import survival_curves

    by_platform = by_platform and timings["platform"].nunique() > 1
    removed_frames: list[pd.DataFrame] = []
    removed_summaries: list[pd.DataFrame] = []
    removed_at = timings["first_seen_removed_at"].to_numpy(dtype=np.float64)
    for kind in REMOVAL_KINDS:
        # Its posts removed, a removal dated by a coverage gap (NaN here) left out.
        subset = timings[(timings["kind"] == kind).to_numpy() & ~np.isnan(removed_at)]
        if subset.empty:
            continue
        curves, summary = survival_curves(subset, kind=kind, bootstrap=bootstrap, seed=seed)
        curves["group"] = kind
        summary["group"] = kind
        removed_frames.append(curves)
        removed_summaries.append(summary)
        if by_platform:
            curves, summary = survival_curves(
                subset, kind=kind, by="platform", bootstrap=bootstrap, seed=seed
            )
            curves["group"] = [f"{p}/{kind}" for p in curves["group"]]
            summary["group"] = [f"{p}/{kind}" for p in summary["group"]]
            removed_frames.append(curves)
            removed_summaries.append(summary)
    present = [k for k in REMOVAL_KINDS if (timings["kind"] == k).any()]
    all_curves: list[dict[str, Any]] = []
    all_summary: list[dict[str, Any]] = []
    if present:
        curves, summary = survival_curves(timings, kind=present, by="kind", bootstrap=0)
        all_curves = thin_curve(_records(curves[list(_CURVE)]), max_points)
        all_summary = _records(summary)
    removed_curves: list[dict[str, Any]] = []
    removed_summary: list[dict[str, Any]] = []
    if removed_frames:
        joined = pd.concat(removed_frames, ignore_index=True)
        removed_curves = thin_curve(_records(joined[list(_CURVE)]), max_points)
        removed_summary = _records(pd.concat(removed_summaries, ignore_index=True))
    return SpeedFigures(removed_curves, removed_summary, all_curves, all_summary, bootstrap)


_CURVE: Final = ("time", "survival", "ci_low", "ci_high", "group")


# --------------------------------------------------------------------------- terms


def _term_rows(engine: Engine) -> Iterator[tuple[str, str, str]]:
    query = (
        select(posts.c.text, verdicts.c.status, authors.c.pseudonym)
        .select_from(
            verdicts.join(posts, posts.c.id == verdicts.c.post_pk).join(
                authors, authors.c.id == posts.c.author_pk
            )
        )
        .where(shown_authors())
        .execution_options(yield_per=20_000)
    )
    with engine.connect() as conn:
        for text, status, author in conn.execute(query):
            yield str(text), "live" if status == "edited" else str(status), str(author)


def term_tokenizer(
    views: Sequence[str] = ("word", "char2", "char3"), segmenter: str = "auto"
) -> LazyTokenizer:
    """The tokenizer of the dashboard's term index (``segmenter``: ``"jieba"``, ``"rjieba"``
    or ``"auto"``: rjieba when installed)."""
    from memoryhole.analysis.cache import LazyTokenizer

    if segmenter == "auto":
        try:
            import rjieba  # noqa: F401

            segmenter = "rjieba"
        except ImportError:
            segmenter = "jieba"
    return LazyTokenizer(views=tuple(views), engine="rjieba" if segmenter == "rjieba" else "jieba")


def build_term_index(
    engine: Engine, views: Sequence[str] = ("word", "char2", "char3"), segmenter: str = "auto"
) -> TermIndex:
    """Count terms by verdict over every shown post, from the per-post term cache
    (``analysis.cache``): only posts never tokenised with these views and segmenter are
    tokenised (and cached), then the stored terms are counted without Python work per term
    (:meth:`StudyData.term_counts`). A store that cannot be written (read-only) is tokenised
    in memory instead, post by post, with the same counts.

    ``segmenter``: ``"jieba"``, ``"rjieba"`` or ``"auto"`` (rjieba when installed: ~4x faster).
    """
    from sqlalchemy.exc import OperationalError

    from memoryhole.analysis.study_data import StudyData
    from memoryhole.analysis.terms import PostTerms, TermIndex

    tokenizer = term_tokenizer(views, segmenter)
    try:
        return StudyData.load(engine, tokenizer=tokenizer).term_counts()
    except OperationalError as exc:
        if "readonly" not in str(exc).replace("-", "").replace(" ", "").lower():
            raise
    records = (
        PostTerms(tokenizer(text), outcome, author) for text, outcome, author in _term_rows(engine)
    )
    return TermIndex.build(records, keep_incidence=False)


@dataclass(frozen=True)
class TermTable:
    """The rows of ``term_stats`` (JSON-ready) and the baseline they were compared with.

    ``significance``: whether any term is significant and, when none is, why (its
    ``message()``), and ``heading(n)`` for a list of the first ``n`` rows (never "the n most
    significant terms" when they are not). ``merged_views``: one row per text (``w:六四`` and
    ``c2:六四`` merged, rows gain ``text`` and ``views``); ``legend``: the prefixes in words.
    ``exclude_outcomes``: verdicts whose posts were left out.
    """

    kind: str
    rows: list[dict[str, Any]]
    posts: int
    removed: int
    baseline: float | None
    alpha: float
    min_posts: int
    test: str
    significance: TermSignificance | None = None
    merged_views: bool = False
    exclude_outcomes: tuple[str, ...] = ()
    legend: str = ""


#: The filters of a term table (``term_table``'s keywords), with what each does: the CLI's
#: ``analyze terms`` options, for the dashboard's form.
TERM_FILTERS: Final = {
    "kind": "the removal verdict counted as removed: censored (default), author_deleted, "
    "account_suspended, unknown",
    "min_posts": "test only terms found in at least this many posts (default 20)",
    "test": "binomial (against the baseline, default) or fisher (against the other posts)",
    "alpha": "the false discovery rate of the significant list (default 0.05)",
    "exclude_outcomes": "leave the posts of these verdicts out altogether (e.g. unknown)",
    "merge_views": "one row per text: w:X, c2:X and c3:X merged, the lowest q kept",
    "significant": "only rows with q < alpha (a filter on the rows, not the test)",
}


def term_table(
    index: TermIndex,
    *,
    kind: str = "censored",
    min_posts: int = 20,
    alpha: float = 0.05,
    test: str = "binomial",
    exclude_outcomes: Sequence[str] = (),
    merge_views: bool = False,
    significant: bool = False,
) -> TermTable:
    """Per-term statistics (``analysis.terms.term_stats``) with the filters of
    :data:`TERM_FILTERS`. The significance summary counts every tested term (the
    Benjamini–Hochberg family), whatever ``merge_views`` and ``significant`` leave in
    ``rows``."""
    from memoryhole.analysis.terms import (
        frame_significance,
        merge_term_views,
        term_stats,
        to_records,
        view_legend,
    )

    frame = term_stats(
        index,
        kind=kind,
        min_posts=min_posts,
        alpha=alpha,
        test="fisher" if test == "fisher" else "binomial",
        exclude_outcomes=tuple(exclude_outcomes),
    )
    attrs = frame.attrs
    summary = frame_significance(frame, min_posts)
    if merge_views:
        frame = merge_term_views(frame)
    if significant:
        frame = frame[frame["q_value"] < alpha]
    return TermTable(
        kind=kind,
        rows=to_records(frame),
        posts=int(attrs.get("posts", 0)),
        removed=int(attrs.get("removed", 0)),
        baseline=_float(attrs.get("baseline")),
        alpha=alpha,
        min_posts=min_posts,
        test=test,
        significance=summary,
        merged_views=merge_views,
        exclude_outcomes=tuple(exclude_outcomes),
        legend=view_legend(),
    )


# --------------------------------------------------------------------------- platforms, accounts


def platform_table(
    counts: VerdictCounts, speed: SpeedFigures | None = None, alpha: float = 0.05
) -> list[dict[str, Any]]:
    """One row per platform: posts, counts per verdict, and per removal kind its rate with a
    Wilson interval (``rate_<kind>``, ``ci_low_<kind>``, ``ci_high_<kind>``) and, when ``speed``
    was computed by platform, the median time to removal among removed posts."""
    rows: list[dict[str, Any]] = []
    for platform in sorted(counts.by_platform):
        by_status = counts.by_platform[platform]
        n = sum(by_status.values())
        row: dict[str, Any] = {"platform": platform, "posts": n, **by_status}
        for kind in REMOVAL_KINDS:
            k = by_status.get(kind, 0)
            low, high = wilson_interval([k], [n], alpha)
            row[f"rate_{kind}"] = k / n if n else None
            row[f"ci_low_{kind}"] = _float(low[0])
            row[f"ci_high_{kind}"] = _float(high[0])
            median = None
            if speed is not None:
                median = speed.median(f"{platform}/{kind}")
                if median is None and len(counts.by_platform) == 1:
                    median = speed.median(kind)
            row[f"median_{kind}"] = median["median"] if median else None
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Account:
    author_pk: int
    platform: str
    pseudonym: str
    raw_id: str
    posts: int
    removed: dict[str, int]
    first_published_at: float
    last_published_at: float
    last_removed_at: float | None

    @property
    def suspended(self) -> bool:
        return self.removed.get("account_suspended", 0) > 0

    @property
    def removals(self) -> int:
        return sum(self.removed.values())


def account_table(engine: Engine) -> list[Account]:
    """Every shown author with posts: suspended accounts first, then by removals."""
    sums = [
        func.sum(case((verdicts.c.status == kind, 1), else_=0)).label(kind)
        for kind in REMOVAL_KINDS
    ]
    query = (
        select(
            authors.c.id,
            authors.c.platform,
            authors.c.pseudonym,
            authors.c.raw_id,
            func.count(),
            *sums,
            func.min(posts.c.published_at),
            func.max(posts.c.published_at),
            func.max(verdicts.c.first_seen_removed_at),
        )
        .select_from(
            verdicts.join(posts, posts.c.id == verdicts.c.post_pk).join(
                authors, authors.c.id == posts.c.author_pk
            )
        )
        .where(shown_authors())
        .group_by(authors.c.id)
    )
    accounts: list[Account] = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            removed = {kind: int(row[5 + i] or 0) for i, kind in enumerate(REMOVAL_KINDS)}
            accounts.append(
                Account(
                    author_pk=int(row[0]),
                    platform=str(row[1]),
                    pseudonym=str(row[2]),
                    raw_id=str(row[3]),
                    posts=int(row[4]),
                    removed=removed,
                    first_published_at=float(row[9]),
                    last_published_at=float(row[10]),
                    last_removed_at=_float(row[11]),
                )
            )
    accounts.sort(key=lambda a: (not a.suspended, -a.removals, -a.posts, a.pseudonym))
    return accounts


__all__ = [
    "KIND_LABELS",
    "REMOVAL_KINDS",
    "TERM_FILTERS",
    "VERDICTS",
    "Account",
    "Activity",
    "SpeedFigures",
    "TermTable",
    "Timeline",
    "VerdictCounts",
    "WatchedTarget",
    "account_table",
    "activity",
    "build_term_index",
    "choose_bucket",
    "platform_table",
    "removal_timings",
    "removals_over_time",
    "shown_authors",
    "shown_posts",
    "term_table",
    "term_tokenizer",
    "thin_curve",
    "time_to_removal",
    "verdict_counts",
    "watched_targets",
]
