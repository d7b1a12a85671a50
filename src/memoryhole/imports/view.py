"""The import command's face: Rich progress while it runs, a summary when it is done."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from memoryhole.imports.run import ImportSummary, run_import
from memoryhole.imports.run import Progress as ImportProgress
from memoryhole.study import Study


def import_with_progress(
    study: Study,
    kind: str,
    path: Path,
    console: Console,
    *,
    skip_bad: bool = False,
    rejected: Path | None = None,
    platform: str | None = None,
    utc_offset: str | None = None,
    encoding: str | None = None,
) -> ImportSummary:
    bar = Progress(
        TextColumn("[bold]import[/] {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[rows]:>10,} rows"),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    with bar:
        task = bar.add_task(f"{kind} {path.name}", total=None, rows=0)

        def show(progress: ImportProgress) -> None:
            bar.update(
                task,
                completed=progress.done_bytes,
                total=progress.total_bytes,
                rows=progress.rows + progress.rejected,
            )

        summary = run_import(
            study,
            kind,
            path,
            skip_bad=skip_bad,
            rejected_path=rejected,
            platform=platform,
            utc_offset=utc_offset,
            encoding=encoding,
            on_progress=show,
        )
    console.print(summary_table(summary))
    if summary.already:
        console.print(
            f"{path} was imported before (import #{summary.import_id}, same bytes): nothing to do"
        )
    elif summary.rejected_path is not None and summary.counts.rejected:
        console.print(
            f"[yellow]{summary.counts.rejected:,} malformed rows set aside in[/] "
            f"{summary.rejected_path}"
        )
    return summary


def summary_table(summary: ImportSummary) -> Table:
    counts = summary.counts
    table = Table(title=f"memoryhole import {summary.kind}", show_header=False, min_width=56)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("file", f"{summary.source.name} ({summary.source.encoding})")
    table.add_row("import", f"#{summary.import_id} → {summary.platform}:import/…")
    if not summary.already:
        rate = f"{summary.rows_per_second:,.0f} rows/s"
        table.add_row(
            "rows read", f"{counts.rows + counts.rejected:,} in {summary.seconds:.1f} s ({rate})"
        )
        table.add_row("new posts", f"{counts.new_posts:,}")
        if summary.resumed:
            table.add_row("resumed", "an unfinished import of this file")
        table.add_row("posts held before, added to", f"{counts.updated_posts:,}")
        table.add_row("evidence leaves", f"{counts.leaves:,}")
        table.add_row("duplicates skipped", f"{counts.duplicates:,}")
        table.add_row("stale rows skipped", f"{counts.stale:,}")
        for why, n in sorted(counts.skipped.items()):
            table.add_row(f"skipped: {why}", f"{n:,}")
        table.add_row("malformed rows", f"{counts.rejected:,}")
    for status, n in sorted(summary.statuses.items()):
        table.add_row(f"verdicts of its posts: {status}", f"{n:,}")
    return table
