"""``memoryhole analyze …`` (registered by ``memoryhole.cli``). Thin: the work is in
``analysis.tables`` and ``analysis.plots``; this module parses options, shows progress and
prints tables (how: ``cli/tables.py``). The open-data exports are ``cli/open_exports.py``.

Output: ``--format table`` (Rich, the first ``--limit`` rows, default 30), ``csv`` or ``json``
(every row unless ``--limit``; JSON is a list of objects whose keys are the table's columns, as
listed in docs/statistics.md: a contract). Progress goes to stderr, data to stdout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from memoryhole.cli.tables import (
    Format,
    draw_chart,
    emit,
    err_console,
    hint,
    percent,
    status,
)
from memoryhole.errors import MemoryholeError

if TYPE_CHECKING:
    import pandas as pd

    from memoryhole.analysis.engines.base import Reductions
    from memoryhole.analysis.study_data import Filters, StudyData

analyze_app = typer.Typer(
    help="Analyse a study: which terms get posts removed, how fast, when, whose, where.",
    no_args_is_help=True,
)

StudyOption = Annotated[
    Path, typer.Option("--study", help="The study folder (default: the current directory).")
]
FormatOption = Annotated[Format, typer.Option("--format", help="table, csv or json.")]
PlotOption = Annotated[
    Path | None, typer.Option("--plot", help="Also draw a chart: FILE.png or FILE.svg.")
]
PlatformOption = Annotated[
    list[str] | None, typer.Option("--platform", help="Only this platform (repeatable).")
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only posts published from then: 2024-06-04, ISO date-time, epoch s."),
]
UntilOption = Annotated[str | None, typer.Option(help="Only posts published before then.")]
KindOption = Annotated[
    list[str] | None,
    typer.Option(
        "--kind",
        help="Removal kind counted as removed (repeatable): censored (default), "
        "author_deleted, account_suspended, unknown.",
    ),
]
LimitOption = Annotated[
    int | None, typer.Option(help="Rows to print (table default 30; csv/json: all).")
]
ViewsOption = Annotated[
    str,
    typer.Option(help="Token views: word, char2, char3 (comma-separated); cached separately."),
]
SegmenterOption = Annotated[
    str, typer.Option("--segmenter", help="Chinese word segmenter: jieba or rjieba.")
]
AnalysisEngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="auto (pandas below 2M posts, else duckdb), pandas (in memory), duckdb or dask "
        "(out of core, over Parquet; docs/statistics.md).",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="--engine dask: the Dask scheduler's address (tcp://HOST:8786)."),
]
DatasetOption = Annotated[
    Path | None,
    typer.Option(
        "--dataset",
        help="duckdb/dask: this analysis dataset (e.g. `bench analysis`'s) instead of the "
        "study's own STUDY/analysis-dataset (written when missing or stale).",
    ),
]
_SEGMENTERS: Final = ("jieba", "rjieba")


def _kinds(kind: list[str] | None) -> tuple[str, ...]:
    return tuple(kind) if kind else ("censored",)


def _load(
    study: Path,
    platform: list[str] | None,
    since: str | None,
    until: str | None,
    views: str = "word,char2,char3",
    engine: str = "jieba",
) -> StudyData:
    """Open the study, tokenise posts not yet cached (with a progress bar), load the posts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from memoryhole.analysis.cache import LazyTokenizer
    from memoryhole.analysis.study_data import IMPOSSIBLE_TIMES, load_study_data
    from memoryhole.study import Study

    opened = Study.open(study)
    try:
        tokenizer = LazyTokenizer(
            views=tuple(v.strip() for v in views.split(",") if v.strip()),
            engine=engine,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise MemoryholeError(str(exc)) from None
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task("tokenising new posts", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        data = load_study_data(
            opened,
            platforms=platform or (),
            since=since,
            until=until,
            tokenizer=tokenizer,
            progress=progress,
        )
    left_out = int(data.posts.attrs.get(IMPOSSIBLE_TIMES, 0))
    if left_out:
        err_console.print(
            f"[yellow]warning:[/] {left_out:,} posts left out: their times are impossible "
            "(not a number, before 1970, after 2199, or a removal before the post was seen); "
            f"`memoryhole verify --study {study}` checks the store"
        )
    return data


def _engine(engine: str, study: Path, dataset: Path | None, *, needs_memory: bool = False) -> str:
    from memoryhole.analysis.engines.choose import choose_engine

    chosen = choose_engine(engine, study, dataset, needs_memory=needs_memory)
    if engine == "auto" and chosen != "pandas":
        err_console.print(f"analysing out of core with {chosen} (--engine pandas: in memory)")
    return chosen


@contextmanager
def _reductions(
    engine: str,
    study: Path,
    dataset: Path | None,
    scheduler: str | None,
    platform: list[str] | None,
    since: str | None,
    until: str | None,
) -> Iterator[tuple[Reductions, Filters]]:
    """The engine's reductions over the dataset (the study's own written first, with a
    progress bar when tokenising or writing), and the posts to analyse."""
    from memoryhole.analysis.engines.choose import make_filters, open_reductions

    filters = make_filters(platform or (), since, until)
    if scheduler and engine != "dask":
        raise MemoryholeError("--scheduler is for --engine dask")
    with (
        status("preparing the analysis dataset"),
        open_reductions(engine, study=study, dataset=dataset, scheduler=scheduler) as reductions,
    ):
        yield reductions, filters


# ----------------------------------------------------------------------------- output


# ----------------------------------------------------------------------------- commands


@analyze_app.command("terms")
def analyze_terms(
    study: StudyOption = Path("."),
    format_: FormatOption = Format.table,
    plot: PlotOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    kind: KindOption = None,
    limit: LimitOption = None,
    min_posts: Annotated[int, typer.Option(help="Test terms found in at least N posts.")] = 20,
    test: Annotated[str, typer.Option(help="binomial (vs baseline) or fisher (vs rest).")] = (
        "binomial"
    ),
    pairs: Annotated[bool, typer.Option(help="Co-occurring term pairs (A + B rules).")] = False,
    matched: Annotated[
        bool, typer.Option(help="Same-author matched comparison (stratified CMH).")
    ] = False,
    significant: Annotated[bool, typer.Option(help="Only rows with q < 0.05.")] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option(help="Leave posts of this verdict out entirely (repeatable)."),
    ] = None,
    views: ViewsOption = "word,char2,char3",
    engine: AnalysisEngineOption = "auto",
    scheduler: SchedulerOption = None,
    dataset: DatasetOption = None,
    segmenter: SegmenterOption = "jieba",
    merge_views: Annotated[
        bool | None,
        typer.Option(
            "--merge-views/--all-views",
            help="One row per text (w:X, c2:X and c3:X merged, the lowest q kept; adds text "
            "and views), or a row per view. Default: merged in a table, every view in CSV/JSON.",
        ),
    ] = None,
) -> None:
    """Which terms make a post more likely to be removed: rate with CI, lift, p and BH q.

    JSON: a list of objects with term, posts, removed, rate, ci_low, ci_high, lift, p_value,
    q_value, then n_<verdict> counts and significant (docs/statistics.md); with
    --merge-views also text and views. When no term is significant, says so and roughly how
    many posts it would take (stderr with CSV/JSON)."""
    from memoryhole.analysis.tables import terms_table
    from memoryhole.analysis.terms import frame_significance, merge_term_views, view_legend

    if test not in ("binomial", "fisher"):
        raise MemoryholeError("--test must be binomial or fisher")
    if engine in _SEGMENTERS:  # before --segmenter, --engine named the segmenter
        engine, segmenter = "auto", engine
    custom = views != "word,char2,char3" or segmenter != "jieba"
    chosen = _engine(engine, study, dataset, needs_memory=pairs or matched or custom)
    if chosen != "pandas":
        if pairs or matched or custom:
            raise MemoryholeError(
                "--pairs, --matched, --views and --segmenter need the posts in memory: "
                "use --engine pandas"
            )
        from memoryhole.analysis.engines import tables as reduced

        with _reductions(chosen, study, dataset, scheduler, platform, since, until) as (
            reductions,
            filters,
        ):
            frame = reduced.terms_table(
                reductions,
                filters,
                kind=_kinds(kind),
                min_posts=min_posts,
                test=test,  # type: ignore[arg-type]
                exclude_outcomes=tuple(exclude or ()),
            )
    else:
        data = _load(study, platform, since, until, views, segmenter)
        with status("computing term statistics"):
            frame = terms_table(
                data,
                kind=_kinds(kind),
                min_posts=min_posts,
                test=test,  # type: ignore[arg-type]
                pairs=pairs,
                matched=matched,
                exclude_outcomes=tuple(exclude or ()),
            )
    summary = frame_significance(frame, min_posts)  # over every tested term (the BH family)
    merged = (format_ is Format.table) if merge_views is None else merge_views
    if merged and not pairs:
        frame = merge_term_views(frame)
    if significant:
        frame = frame[frame["q_value"] < 0.05].reset_index(drop=True)
    shown = ["term", "posts", "removed", "rate", "ci_low", "ci_high", "lift", "q_value"]
    if matched:
        shown += ["odds_ratio_mh", "informative_authors"]
    if pairs:
        shown += ["rate_a", "rate_b", "q_vs_singles"]
    attrs = frame.attrs
    rows = min(len(frame), 30 if limit is None else limit)
    caption = (
        f"{attrs.get('posts', 0):,} posts, {attrs.get('removed', 0):,} removed "
        f"({', '.join(_kinds(kind))}); baseline {percent(attrs.get('baseline'))}; "
        f"{summary.tested:,} terms tested (in ≥ {min_posts} posts), {summary.significant:,} "
        "significant; p-values in --format csv.\n" + view_legend()
    )
    if merged and not pairs:
        caption += "; one row per text, the view with the lowest q shown"
    emit(
        frame,
        format_,
        columns=shown,
        limit=limit,
        title=f"Removal by term: {summary.heading(rows)}",
        caption=caption,
        empty="No term passes the filters"
        + (" (--significant: none has q < 0.05)" if significant else "")
        + ".",
    )
    message = summary.message()
    if message:
        hint(message, format_)
    from memoryhole.analysis.plots import terms_chart

    draw_chart(
        lambda: terms_chart(frame, title=f"Removal rate by term: {summary.heading(min(rows, 30))}"),
        plot,
        frame.head(30),
    )


@analyze_app.command("survival")
def analyze_survival(
    study: StudyOption = Path("."),
    format_: FormatOption = Format.table,
    plot: PlotOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    kind: KindOption = None,
    limit: LimitOption = None,
    group_by: Annotated[
        str, typer.Option(help="none, platform, kind, or term:X[,Y…] (posts with each term).")
    ] = "none",
    population: Annotated[
        str,
        typer.Option(
            help="removed: how fast removed posts went; all: every post, the rest censored."
        ),
    ] = "removed",
    method: Annotated[str, typer.Option(help="turnbull, km_midpoint or km_naive.")] = "turnbull",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the CIs.")] = 200,
    curves: Annotated[bool, typer.Option(help="Print the curves, not the medians.")] = False,
    include_gap_removals: Annotated[
        bool,
        typer.Option(
            help="Count removals whose interval spans a coverage gap (dated by the "
            "collector's downtime; left out by default)."
        ),
    ] = False,
    engine: AnalysisEngineOption = "auto",
    scheduler: SchedulerOption = None,
    dataset: DatasetOption = None,
) -> None:
    """Time to removal: interval-censored survival (Turnbull), median with bootstrap CI.

    JSON: a list of group, method, n, events, median, median_ci_low, median_ci_high,
    population (seconds); with --curves: time, survival, ci_low, ci_high, group, time_low."""
    from memoryhole.analysis.tables import survival_table

    if method not in ("turnbull", "km_midpoint", "km_naive"):
        raise MemoryholeError("--method must be turnbull, km_midpoint or km_naive")
    if population not in ("removed", "all"):
        raise MemoryholeError("--population must be removed or all")
    kinds: tuple[str, ...] | None = _kinds(kind)
    if group_by == "kind" and not kind:
        kinds = None
    options: dict[str, Any] = {
        "kind": kinds,
        "group_by": None if group_by == "none" else group_by,
        "population": population,
        "method": method,
        "bootstrap": bootstrap,
        "include_gap_removals": include_gap_removals,
    }
    chosen = _engine(engine, study, dataset, needs_memory=group_by.startswith("term:"))
    if chosen != "pandas":
        from memoryhole.analysis.engines import tables as reduced

        with (
            _reductions(chosen, study, dataset, scheduler, platform, since, until) as (
                reductions,
                filters,
            ),
            status(f"fitting survival curves ({bootstrap} bootstrap resamples)"),
        ):
            curve_frame, summary = reduced.survival_table(reductions, filters, **options)
    else:
        data = _load(study, platform, since, until)
        with status(f"fitting survival curves ({bootstrap} bootstrap resamples)"):
            curve_frame, summary = survival_table(data, **options)
    if curves:
        emit(curve_frame, format_, limit=limit, title="Survival curves")
    else:
        caption = (
            "median: time by which half of the removed posts were gone"
            if population == "removed"
            else "median: time by which half of all posts were gone (— : not reached)"
        )
        emit(summary, format_, limit=limit, title="Time to removal", caption=caption)
    from memoryhole.analysis.plots import survival_chart

    draw_chart(lambda: survival_chart(curve_frame), plot, summary)


@analyze_app.command("timeline")
def analyze_timeline(
    study: StudyOption = Path("."),
    format_: FormatOption = Format.table,
    plot: PlotOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    kind: KindOption = None,
    limit: LimitOption = None,
    bin_: Annotated[str, typer.Option("--bin", help="hour, day, week or e.g. 6h.")] = "day",
    within: Annotated[
        str, typer.Option(help="Count removals within this long of publication (none: ever).")
    ] = "1d",
    term: Annotated[str | None, typer.Option(help="Only posts with this term.")] = None,
    changes: Annotated[
        bool, typer.Option("--changes", help="Print the change-point table instead of bins.")
    ] = False,
    detect: Annotated[bool, typer.Option(help="Run the change-point detector.")] = True,
    change_term: Annotated[
        list[str] | None,
        typer.Option("--change-term", help="Test only this term for a change (repeatable)."),
    ] = None,
    min_posts: Annotated[int, typer.Option(help="Scan terms in at least N posts.")] = 30,
    permutations: Annotated[int, typer.Option(help="Permutations per test.")] = 999,
    engine: AnalysisEngineOption = "auto",
    scheduler: SchedulerOption = None,
    dataset: DatasetOption = None,
) -> None:
    """Removals per hour/day with rates and Wilson CIs, and terms whose removal rate jumped.

    JSON (bins): bin_start, bin, posts, eligible, removed, rate, ci_low, ci_high,
    removed_any, removals_seen. With --changes: term, posts, removed, change_at,
    rate_before/after with CIs, direction, llr, p_value, q_value, significant."""
    from memoryhole.analysis.tables import change_points, timeline_table
    from memoryhole.config import parse_duration

    horizon = None if within in ("none", "0", "") else parse_duration(within)
    kinds = _kinds(kind)
    by_term = bool(term or changes or change_term)
    chosen = _engine(engine, study, dataset, needs_memory=by_term)
    data: StudyData | None = None
    if chosen != "pandas":
        if by_term:
            raise MemoryholeError(
                "--term, --changes and --change-term need the posts' terms one by one: "
                "use --engine pandas"
            )
        from memoryhole.analysis.engines import tables as reduced

        with _reductions(chosen, study, dataset, scheduler, platform, since, until) as (
            reductions,
            filters,
        ):
            bins = reduced.timeline_table(reductions, filters, kind=kinds, bin=bin_, within=horizon)
        if detect:
            hint("Change points are not scanned out of core: --engine pandas scans them.", format_)
    else:
        data = _load(study, platform, since, until)
        bins = timeline_table(data, kind=kinds, bin=bin_, within=horizon, term=term)
    found = None
    if data is not None and (detect or changes):
        with status("scanning for change points"):
            found = change_points(
                data,
                kind=kinds,
                within=horizon,
                terms=change_term or ([term] if term else None),
                min_posts=min_posts,
                permutations=permutations,
            )
    change_columns = [
        "term",
        "change_at",
        "direction",
        "rate_before",
        "rate_after",
        "posts_before",
        "posts_after",
        "q_value",
    ]
    if changes and found is not None:
        emit(
            found,
            format_,
            columns=change_columns,
            limit=limit,
            title="Change points",
            empty=_no_change_series(found, within),
        )
        if format_ is Format.table and len(found):
            hint("every column: --format csv or json", format_)
    else:
        emit(
            bins,
            format_,
            columns=[
                "bin",
                "posts",
                "eligible",
                "removed",
                "rate",
                "ci_low",
                "ci_high",
                "removals_seen",
            ],
            limit=limit,
            title=f"Removals by publication {bin_}" + (f" (posts with {term})" if term else ""),
            caption=f"rate: removed within {within} of publication, of posts watched that long",
        )
        note = _short_study_hint(data, bins, horizon, within) if data is not None else ""
        if note:
            hint(note, format_)
        if format_ is Format.table and found is not None:
            hits = found[found["significant"]]
            if len(hits):
                emit(
                    hits,
                    Format.table,
                    columns=change_columns,
                    limit=limit,
                    title="Removal rate changed (q < 0.05)",
                )
            elif int(found.attrs.get("tested", 0)) == 0:
                hint(_no_change_series(found, within), format_)
            else:
                hint(
                    f"No significant change in the removal rate: {found.attrs['tested']:,} "
                    f"series tested (all posts, and each word in ≥ {min_posts} posts watched "
                    f"for {within}); --changes lists them with their q-values.",
                    format_,
                )
    from memoryhole.analysis.plots import timeline_chart

    draw_chart(lambda: timeline_chart(bins, found), plot, bins)


@analyze_app.command("accounts")
def analyze_accounts(
    study: StudyOption = Path("."),
    format_: FormatOption = Format.table,
    plot: PlotOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    kind: KindOption = None,
    limit: LimitOption = None,
    suspensions: Annotated[
        bool, typer.Option("--suspensions", help="Print suspensions over time instead.")
    ] = False,
    bin_: Annotated[str, typer.Option("--bin", help="Bins for suspensions over time.")] = "day",
    engine: AnalysisEngineOption = "auto",
    scheduler: SchedulerOption = None,
    dataset: DatasetOption = None,
) -> None:
    """Per-author removal rates (pseudonyms only) and account suspensions over time.

    JSON: author, platform, posts, removed, rate, ci_low, ci_high, p_value, q_value, counts per
    kind, suspended, suspended_seen_at, first_post_at, last_post_at. With --suspensions:
    bin_start, bin, accounts, posts, cumulative_accounts."""
    from memoryhole.analysis.tables import accounts_table, suspensions_table

    chosen = _engine(engine, study, dataset)
    if chosen != "pandas":
        from memoryhole.analysis.engines import tables as reduced

        with _reductions(chosen, study, dataset, scheduler, platform, since, until) as (
            reductions,
            filters,
        ):
            authors = reduced.accounts_table(reductions, filters, kind=_kinds(kind))
            over_time = reduced.suspensions_table(reductions, filters, bin=bin_)
    else:
        data = _load(study, platform, since, until)
        authors = accounts_table(data, kind=_kinds(kind))
        over_time = suspensions_table(data, bin=bin_)
    if suspensions:
        emit(over_time, format_, limit=limit, title="Accounts seen suspended")
    else:
        emit(
            authors,
            format_,
            columns=[
                "author",
                "platform",
                "posts",
                "removed",
                "rate",
                "ci_low",
                "ci_high",
                "q_value",
                "author_deleted",
                "suspended",
                "suspended_seen_at",
            ],
            limit=limit,
            title="Authors (pseudonyms)",
            caption=f"baseline {percent(authors.attrs.get('baseline'))}",
        )
    from memoryhole.analysis.plots import accounts_chart

    draw_chart(lambda: accounts_chart(authors, over_time), plot, authors.head(0))


@analyze_app.command("platforms")
def analyze_platforms(
    study: StudyOption = Path("."),
    format_: FormatOption = Format.table,
    plot: PlotOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    kind: KindOption = None,
    limit: LimitOption = None,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the median CI.")] = 100,
    engine: AnalysisEngineOption = "auto",
    scheduler: SchedulerOption = None,
    dataset: DatasetOption = None,
) -> None:
    """The platforms side by side: rates, verdicts, median time to removal, suspensions, terms.

    JSON: platform, posts, authors, removed, rate, ci_low, ci_high, counts per verdict,
    median_time_to_removal (s) with CI, suspended_accounts, significant_terms, top_terms."""
    from memoryhole.analysis.tables import platforms_table

    chosen = _engine(engine, study, dataset)
    if chosen != "pandas":
        from memoryhole.analysis.engines import tables as reduced

        with (
            _reductions(chosen, study, dataset, scheduler, platform, since, until) as (
                reductions,
                filters,
            ),
            status("analysing each platform"),
        ):
            frame = reduced.platforms_table(
                reductions, filters, kind=_kinds(kind), bootstrap=bootstrap
            )
    else:
        data = _load(study, platform, since, until)
        with status("analysing each platform"):
            frame = platforms_table(data, kind=_kinds(kind), bootstrap=bootstrap)
    emit(frame, format_, limit=limit, title="Platforms")
    from memoryhole.analysis.plots import platforms_chart

    draw_chart(lambda: platforms_chart(frame), plot, frame)


@analyze_app.command("withheld")
def analyze_withheld(
    study: StudyOption = Path("."),
    format_: FormatOption = Format.table,
    platform: PlatformOption = None,
    bin_: Annotated[str, typer.Option("--bin", help="hour, day, week or a duration.")] = "day",
    limit: LimitOption = None,
) -> None:
    """Content withheld by region over time: per bin, platform and region, the posts first seen
    withheld there, those served there again (lifted), those then removed everywhere, and those
    withheld there at the bin's end (docs/statistics.md).

    JSON: bin_start (epoch s), bin (ISO), platform, region, withheld, lifted, removed,
    withheld_at_end."""
    from memoryhole.analysis.withheld import study_spells, withheld_table
    from memoryhole.study import Study

    opened = Study.open(study)
    try:
        with status("reading the withheld answers"):
            found = study_spells(opened.engine)
    finally:
        opened.close()
    frame = withheld_table(found, bin=bin_, platforms=tuple(platform or ()))
    if frame.empty and format_ is Format.table:
        err_console.print(
            "no post was withheld in any region: every answer served it, or removed it "
            "everywhere (a study with vantage points in other regions tells the two apart)"
        )
        return
    emit(frame, format_, limit=limit, title="Withheld by region")


#: ``--within`` values suggested for a study too short for the one asked, longest first.
_WITHIN_STEPS: Final = (("1d", 86400.0), ("6h", 21600.0), ("1h", 3600.0), ("15m", 900.0))


def _suggest_within(span: float) -> str:
    """The longest step that at least half the study's posts were watched for, roughly."""
    for name, seconds in _WITHIN_STEPS:
        if 2 * seconds <= span:
            return name
    return "5m"


def _short_study_hint(
    data: StudyData, bins: pd.DataFrame, horizon: float | None, within: str
) -> str:
    """Why every rate is empty (or most are) when the study is shorter than ``--within``."""
    if horizon is None or bins.empty or data.observed_until is None:
        return ""
    posts, eligible = int(bins["posts"].sum()), int(bins["eligible"].sum())
    if posts == 0 or eligible * 2 >= posts:
        return ""
    published = data.posts["published_at"].to_numpy(dtype=float)
    span = float(data.observed_until - published.min()) if published.size else 0.0
    from memoryhole.cli.console import duration

    shorter = _suggest_within(span)
    what = (
        "no post has been watched"
        if eligible == 0
        else f"only {eligible:,} of {posts:,} posts have been watched"
    )
    return (
        f"Note: {what} for --within {within} yet (the first was published {duration(span)} "
        f"before the study's last observation), so the rates are empty or few. Use "
        f"--within {shorter} to compare every bin on a shorter window, or --within none to count "
        "removals whenever they came."
    )


def _no_change_series(found: pd.DataFrame, within: str) -> str:
    attrs = found.attrs
    series, tested = int(attrs.get("series", 0)), int(attrs.get("tested", 0))
    if tested:
        return f"No change point: {tested:,} series tested, none could change."
    if int(attrs.get("eligible", 0)) == 0:
        return (
            f"No series could be tested: no post has been watched for --within {within} yet. "
            "Use a shorter --within (e.g. 1h), or --within none."
        )
    return (
        f"No series could be tested ({series:,} considered): a series needs at least 20 posts "
        f"watched for --within {within}, some removed and some not; a word needs "
        f"--min-posts {attrs.get('min_posts', 30)} such posts, "
        f"{attrs.get('min_removed', 5)} of them removed. Try a lower --min-posts or a shorter "
        "--within."
    )


# ----------------------------------------------------------------------------- exports
