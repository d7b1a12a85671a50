"""``memoryhole export parquet|analysis|csv|datasette``: the open-data exports (registered on
the ``export`` group by ``memoryhole.cli``; the work is in ``memoryhole.exports``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from memoryhole.cli.analyze import StudyOption
from memoryhole.cli.tables import err_console, status


def register_exports(export_app: typer.Typer) -> None:
    """Add ``export parquet|analysis|csv|datasette`` to the ``export`` command group."""

    @export_app.command("parquet")
    def export_parquet(
        directory: Annotated[Path, typer.Argument(help="Folder to write (created).")],
        study: StudyOption = Path("."),
    ) -> None:
        """Posts, verdicts, observations, authors as Parquet (zstd, by platform) with a
        datapackage.json; pseudonymous authors only (docs/formats.md)."""
        from memoryhole.exports import export_parquet as write
        from memoryhole.study import Study

        with status("writing Parquet"):
            counts = write(Study.open(study), directory)
        _report_counts(counts, directory)

    @export_app.command("analysis")
    def export_analysis(
        directory: Annotated[Path, typer.Argument(help="Folder to write (replaced).")],
        study: StudyOption = Path("."),
    ) -> None:
        """The analysis dataset (analysed posts and their term ids as Parquet by platform and
        month) that `analyze … --engine duckdb|dask --dataset DIR` reads; put it where every
        Dask worker sees it (docs/statistics.md)."""
        from memoryhole.analysis.engines.dataset import write_study_dataset
        from memoryhole.study import Study

        opened = Study.open(study)
        try:
            with status("writing the analysis dataset"):
                written = write_study_dataset(opened, directory)
        finally:
            opened.close()
        _report_counts({"posts": written.posts, "(post, term) rows": written.terms}, directory)

    @export_app.command("csv")
    def export_csv(
        directory: Annotated[Path, typer.Argument(help="Folder to write (created).")],
        study: StudyOption = Path("."),
    ) -> None:
        """Posts, verdicts, observations, authors as CSV files with a datapackage.json."""
        from memoryhole.exports import export_csv as write
        from memoryhole.study import Study

        with status("writing CSV"):
            counts = write(Study.open(study), directory)
        _report_counts(counts, directory)

    @export_app.command("datasette")
    def export_datasette(
        file: Annotated[Path, typer.Argument(help="SQLite file to write (replaced).")],
        study: StudyOption = Path("."),
    ) -> None:
        """A Datasette-ready SQLite file: foreign keys, full-text search on post text, a
        removed_posts view; pseudonymous authors only; and FILE's stem + .metadata.json
        (descriptions, units, canned queries). Then: datasette FILE --metadata that file."""
        from memoryhole.exports import datasette_metadata_path
        from memoryhole.exports import export_datasette as write
        from memoryhole.study import Study

        with status("writing SQLite"):
            counts = write(Study.open(study), file)
        _report_counts(counts, file)
        metadata = datasette_metadata_path(file)
        err_console.print(
            f"and its Datasette metadata (descriptions, units, canned queries) to {metadata}; "
            f"open both with: datasette {file} --metadata {metadata}",
            soft_wrap=True,
        )


def _report_counts(counts: dict[str, int], where: Path) -> None:
    summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
    err_console.print(f"wrote {summary} to {where}", soft_wrap=True)
