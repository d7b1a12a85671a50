"""The command line's shared parts: the Typer apps, the consoles, the ``--study`` option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    name="memoryhole",
    help="An open-source censorship observatory: watch posts, catch removals, keep evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sim_app = typer.Typer(help="The simulated censoring platform.", no_args_is_help=True)
export_app = typer.Typer(help="Write study data in open formats.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
schedule_app = typer.Typer(help="When each post is checked, and why.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")
app.add_typer(export_app, name="export")
app.add_typer(bench_app, name="bench")
app.add_typer(schedule_app, name="schedule")

console = Console()
err_console = Console(stderr=True)

StudyOption = Annotated[
    Path, typer.Option("--study", help="The study folder (default: the current directory).")
]


def open_study(study: Path) -> Any:
    from memoryhole.study import Study

    return Study.open(study)
