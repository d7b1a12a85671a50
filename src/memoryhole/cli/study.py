"""Commands on a study: init, watch, run, status, export verdicts, schedule explain, import."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live

from memoryhole.cli.apps import (
    StudyOption,
    app,
    console,
    err_console,
    export_app,
    open_study,
    schedule_app,
)
from memoryhole.errors import MemoryholeError


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new study.")],
    database: Annotated[
        str | None,
        typer.Option(
            help="Keep the study's tables in this PostgreSQL database "
            "(postgresql://user@host:port/dbname) instead of store.sqlite in the folder: "
            "several collectors, on this host or others, can then work on the study at once."
        ),
    ] = None,
    blobs: Annotated[
        str | None,
        typer.Option(
            help="Keep the raw bodies in an S3-compatible bucket (s3://BUCKET/PREFIX; "
            "credentials from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY) or another "
            "folder, instead of blobs/ in the study: collectors on other hosts share them."
        ),
    ] = None,
    blobs_endpoint: Annotated[
        str | None,
        typer.Option(help="The S3-compatible server (MinIO, Ceph…): http(s)://host:port."),
    ] = None,
) -> None:
    """Create a study folder: configuration, store and pseudonymisation secret."""
    from memoryhole.study import Study

    study = Study.init(
        directory, database_url=database, blobs_url=blobs, blobs_endpoint=blobs_endpoint
    )
    console.print(f"[green]created study[/] {study.path}")
    console.print(f"public key (publish it; it verifies your evidence): {study.verifier_key()}")
    console.print(f"next: memoryhole watch weibo:all --base-url URL --study {directory}")


@app.command()
def watch(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="e.g. weibo:user/1234567, weibo:search/关键词, reddit:r/news, or weibo:all on "
            "the simulator"
        ),
    ],
    base_url: Annotated[
        str | None, typer.Option(help="The platform's base URL (e.g. a simulator's).")
    ] = None,
    study: StudyOption = Path("."),
) -> None:
    """Add accounts, feeds or searches to watch."""
    from memoryhole.platforms.registry import parse_target
    from memoryhole.store.queries import add_targets

    opened = open_study(study)
    # Each target is read by its platform's adapter at the base URL it will be polled at (Weibo
    # refuses weibo:all, the simulator's feed, anywhere but on a local simulator).
    parsed = [
        parse_target(
            spec, base_url or opened.base_url(spec.partition(":")[0]) or "", study_dir=opened.path
        )
        for spec in targets
    ]
    if base_url:
        for platform in sorted({t.platform for t in parsed}):
            opened.set_base_url(platform, base_url)
    added = add_targets(opened.engine, parsed, time.time())
    for spec in added:
        console.print(f"[green]watching[/] {spec}")
    for target in parsed:
        if target.spec not in added:
            console.print(f"already watching {target.spec}")
    from memoryhole.collect.access import access_notes

    for note in access_notes(opened, parsed):  # e.g. a Mastodon timeline that needs a token
        console.print(note.detail, style=None if note.readable else "yellow", markup=False)


@app.command()
def run(
    for_: Annotated[
        str | None, typer.Option("--for", help="Stop after this long (wall clock): 90s, 10m, 2h.")
    ] = None,
    study: StudyOption = Path("."),
    quiet: Annotated[bool, typer.Option(help="No live progress display.")] = False,
    progress_every: Annotated[
        str,
        typer.Option(
            help="Without a terminal (a log, a pipe, cron): print a progress line this often "
            "(0: never)."
        ),
    ] = "30s",
    lease: Annotated[
        str,
        typer.Option(
            help="On PostgreSQL: how long a worker's claim on its targets outlives its last "
            "renewal (a killed worker's targets return after this long)."
        ),
    ] = "30s",
    term: Annotated[
        str, typer.Option(help="On PostgreSQL: how often a worker renews and rebalances claims.")
    ] = "10s",
    account: Annotated[
        list[str] | None,
        typer.Option(
            help="Ask as this \\[accounts.NAME] of the study's config: its token, its own budget "
            "(shared by every collector that runs as it). One per platform; repeatable."
        ),
    ] = None,
    egress: Annotated[
        str | None,
        typer.Option(
            help="The \\[egress.NAME] address this collector's requests leave from: they spend "
            "its budget too (shared by every collector on that address)."
        ),
    ] = None,
) -> None:
    """Run the collector: discover posts, re-check them, classify removals. Ctrl-C stops.

    On a PostgreSQL study, run it on as many hosts or processes as you like: the workers share
    the targets, the budgets and the evidence log through the database."""
    from memoryhole.config import parse_duration

    try:
        seconds = parse_duration(for_) if for_ else None
        every = parse_duration(progress_every)
        timing = (parse_duration(lease), parse_duration(term))
    except ValueError as exc:
        raise MemoryholeError(str(exc)) from None
    opened = open_study(study)
    from memoryhole.collect.loop import run as run_loop
    from memoryhole.collect.runner import study_identity

    identity = study_identity(opened, account or [], egress)
    stats = run_loop(_run_with_progress(opened, seconds, quiet, every, timing, identity))
    console.print(
        f"done: {stats.checks:,} checks, {stats.discovered:,} new posts, "
        f"{sum(stats.removals.values()):,} removals caught, "
        f"{stats.committed_observations:,} observations committed"
    )
    if stats.unreadable:
        console.print(
            f"[yellow]{stats.unreadable:,} listing items could not be read[/] (each is named in "
            "its listing's observation; `memoryhole status` shows them per target)"
        )


async def _run_with_progress(
    study: Any,
    seconds: float | None,
    quiet: bool,
    every: float = 30.0,
    timing: tuple[float, float] = (30.0, 10.0),
    identity: Any = None,
) -> Any:
    from memoryhole.cli.console import ProgressView
    from memoryhole.collect.collector import Collector
    from memoryhole.collect.runner import run_study

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    holder: list[Collector] = []

    def started(collector: Collector) -> None:
        # A platform that cannot be reached at all (a wrong --base-url) is said at once.
        collector.fetcher.on_problem = lambda message: console.print(
            f"[bold red]problem:[/] {message}"
        )
        holder.append(collector)

    lease, term = timing
    task = asyncio.create_task(
        run_study(
            study,
            for_seconds=seconds,
            stop=stop,
            on_start=started,
            lease=lease,
            term=term,
            identity=identity,
        )
    )
    if quiet:
        return await task
    if not console.is_terminal:
        return await _plain_progress(task, holder, every)
    while not holder and not task.done():
        await asyncio.sleep(0.05)
    if not holder:
        return await task
    with Live(ProgressView(holder[0]), console=console, refresh_per_second=4):
        return await task


def progress_line(collector: Any) -> str:
    """One line of what a running collector has done (for logs: no terminal to redraw)."""
    from memoryhole.cli.console import platform_time

    stats = collector.stats
    removals = sum(stats.removals.values())
    return (
        f"{time.strftime('%H:%M:%S')} platform time {platform_time(collector.clock.now())}: "
        f"{len(collector.state.posts):,} posts watched, {stats.checks:,} checks, "
        f"{stats.polls:,} listing polls, {removals:,} removals caught, "
        f"{stats.transient:,} transient failures (never removals), "
        f"{stats.committed_observations:,} observations committed"
    )


async def _plain_progress(task: asyncio.Task[Any], holder: list[Any], every: float) -> Any:
    """Without a terminal: a plain line every ``every`` seconds while the collector runs,
    flushed at once (a log or a pipe would otherwise hold it until the run ends)."""
    if every <= 0:
        return await task
    while not holder and not task.done():
        await asyncio.sleep(0.05)
    if holder:
        print(
            f"{time.strftime('%H:%M:%S')} collecting; a progress line every {every:g} s "
            "(SIGINT or SIGTERM stops cleanly)",
            flush=True,
        )
    while not task.done():
        await asyncio.wait({task}, timeout=every)
        if not task.done() and holder:
            print(progress_line(holder[0]), flush=True)
    return await task


@app.command()
def status(
    study: StudyOption = Path("."),
    format_: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Summarise a study: targets, posts, observations, verdicts, coverage gaps."""
    from dataclasses import asdict

    from memoryhole.cli.console import summary_table
    from memoryhole.store.queries import summarise
    from memoryhole.times import iso_utc, json_number

    if format_ not in ("table", "json"):
        raise MemoryholeError(f"unknown format {format_!r}; use table or json")
    opened = open_study(study)
    summary = summarise(opened.engine)
    gaps = opened.coverage_gaps()
    if format_ == "table":
        console.print(summary_table(summary, gaps))
        return
    out = asdict(summary)
    out["unreadable"] = [
        {"target": spec, "items": count, "latest": latest}
        for spec, count, latest in summary.unreadable
    ]
    out["coverage_gaps"] = [
        {
            "target": gap.target,
            "start": json_number(gap.start),
            "end": json_number(gap.end),
            "reason": gap.reason,
            "start_iso": iso_utc(gap.start),
            "end_iso": iso_utc(gap.end),
            "hours": round(gap.seconds / 3600.0, 2),
        }
        for gap in gaps
    ]
    for key in ("first_observed_at", "last_observed_at"):
        out[key] = json_number(out[key])
    print(json.dumps(out, ensure_ascii=False, allow_nan=False, indent=2))


@export_app.command("verdicts")
def export_verdicts(
    format_: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    raw_author_ids: Annotated[
        bool,
        typer.Option(help="Real author ids instead of pseudonyms: for your own machine only."),
    ] = False,
    study: StudyOption = Path("."),
) -> None:
    """One line per post: post_id, author_id, first_seen_at, last_seen_alive_at,
    first_seen_removed_at, verdict, interval_spans_gap, the three times in ISO 8601 UTC and
    seen_removed_after_minutes (docs/formats.md)."""
    from memoryhole.spreadsheet import SafeDictWriter
    from memoryhole.store.queries import VERDICT_EXPORT_FIELDS, iter_verdicts
    from memoryhole.times import json_number

    if format_ not in ("jsonl", "csv"):
        raise MemoryholeError(f"unknown format {format_!r}; use jsonl or csv")
    opened = open_study(study)
    rows = iter_verdicts(opened.engine, raw_author_ids=raw_author_ids, gaps=opened.gap_index())
    handle = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout  # noqa: SIM115
    try:
        count = 0
        if format_ == "csv":
            writer = SafeDictWriter(handle, VERDICT_EXPORT_FIELDS, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
                count += 1
        else:
            for row in rows:
                contract = {key: json_number(row[key]) for key in VERDICT_EXPORT_FIELDS}
                handle.write(json.dumps(contract, ensure_ascii=False, allow_nan=False) + "\n")
                count += 1
    finally:
        if out:
            handle.close()
    if out:
        err_console.print(f"wrote {count:,} verdicts to {out}")


@schedule_app.command("explain")
def schedule_explain(
    post_id: Annotated[str, typer.Argument(help="The platform's id of the post.")],
    study: StudyOption = Path("."),
    platform: Annotated[
        str | None,
        typer.Option(help="The post's platform, when the id is on several (e.g. weibo)."),
    ] = None,
) -> None:
    """Why a post is checked when it is: its age, risk, the removal hazard, the next check."""
    from memoryhole.schedule.explain import explain_post

    for line in explain_post(open_study(study), post_id, platform).lines():
        console.print(line, highlight=False)


@app.command("import")
def import_(
    kind: Annotated[str, typer.Argument(help="weiboscope, wechatscope, jsonl or scenario.")],
    file: Annotated[Path, typer.Argument(help="The file (UTF-8 or GB18030, BOM or not).")],
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Set malformed rows aside in a side file; go on.")
    ] = False,
    rejected: Annotated[
        Path | None, typer.Option(help="The side file of --skip-bad (default FILE.rejected.csv).")
    ] = None,
    platform: Annotated[
        str | None, typer.Option(help="Platform of jsonl and scenario imports (default weibo).")
    ] = None,
    utc_offset: Annotated[
        str | None,
        typer.Option(help="Offset of times without one (default +08:00; jsonl: UTC)."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="utf-8 or gb18030 (also gbk): the file's encoding, if not detected."),
    ] = None,
    study: StudyOption = Path("."),
) -> None:
    """Import a past dataset: Weiboscope or WeChatscope CSV, raw responses (JSONL), a scenario."""
    from memoryhole.imports.view import import_with_progress

    import_with_progress(
        open_study(study), kind, file, console, skip_bad=skip_bad, rejected=rejected,
        platform=platform, utc_offset=utc_offset, encoding=encoding,
    )  # fmt: skip
