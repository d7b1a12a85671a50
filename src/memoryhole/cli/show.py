"""Showing a study: the dashboard and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from memoryhole.cli.apps import (
    StudyOption,
    app,
    console,
    open_study,
)

#: Where the dashboard's and the report's heaviest figures are computed.
FigureEngineOption = Annotated[
    str,
    typer.Option(
        help="Speed curves and term table: pandas (in memory), duckdb (out of core) or "
        "auto (duckdb from 2M posts)."
    ),
]


@app.command()
def serve(
    study: StudyOption = Path("."),
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    host: Annotated[
        str, typer.Option(help="Address to bind (local mode: loopback only).")
    ] = "127.0.0.1",
    public: Annotated[
        bool,
        typer.Option(help="Pseudonyms only, no raw responses or bundles, read-only."),
    ] = False,
    webhook: Annotated[
        str | None, typer.Option(help="POST new removals here (overrides STUDY/alerts.toml).")
    ] = None,
    engine: FigureEngineOption = "auto",
) -> None:
    """Serve the dashboard: overview, removals, posts, terms, speed, accounts, Atom feed."""
    from memoryhole.web.server import serve as run_server

    run_server(
        open_study(study),
        host=host,
        port=port,
        public=public,
        webhook_url=webhook,
        say=lambda line: console.print(line, highlight=False, soft_wrap=True),
        engine=engine,
    )


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
    study: StudyOption = Path("."),
    kind: Annotated[str, typer.Option(help="Removal kind the term table counts.")] = "censored",
    min_posts: Annotated[int, typer.Option(help="Terms need at least this many posts.")] = 20,
    engine: FigureEngineOption = "auto",
) -> None:
    """Write the study as one self-contained HTML file (charts, top terms, methods)."""
    from memoryhole.analysis.engines.choose import choose_figure_engine
    from memoryhole.report.html import build_report

    chosen = choose_figure_engine(engine, study)
    summary = build_report(
        open_study(study), out, kind=kind, min_posts=min_posts, analysis_engine=chosen
    )
    console.print(
        f"[green]wrote[/] {out} ({summary.bytes / 1e6:.1f} MB, {summary.posts:,} posts, "
        f"{summary.removals:,} removals, {summary.terms:,} terms tested) in {summary.seconds:.0f} s"
    )


# -- imports of past datasets (memoryhole/imports) -----------------------------------------------
