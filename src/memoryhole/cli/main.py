"""The ``memoryhole`` command line. Thin: every command calls a module that does the work.

Commands live by what they work on: ``study.py`` (init, watch, run, status, import, …),
``evidence.py``, ``show.py`` (serve, report), ``analyze.py`` (the analyses; their printing in
``tables.py``), ``open_exports.py`` (the data exports), ``lab.py`` (sim, demo, bench);
``apps.py`` holds what they share.
"""

from __future__ import annotations

# isort: off
# In the order their commands are listed: each module registers its commands on the apps.
from memoryhole.cli import study, evidence, rules, show, lab, analyze, open_exports  # noqa: F401

# isort: on
from memoryhole.cli.apps import app, err_console, export_app
from memoryhole.errors import MemoryholeError

app.add_typer(analyze.analyze_app, name="analyze")
open_exports.register_exports(export_app)  # export parquet, analysis, csv, datasette


def main() -> None:
    try:
        app()
    except MemoryholeError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
