"""Which engine an ``analyze`` command runs on (``--engine``), and opening it.

``pandas`` loads the posts into memory (:class:`~memoryhole.analysis.study_data.StudyData`,
every analysis); ``duckdb`` and ``dask`` reduce the study's analysis dataset (Parquet,
:mod:`.dataset`) out of core. ``auto`` (the default): pandas for a study of fewer than
:data:`AUTO_THRESHOLD` analysed posts, duckdb from there (docs/statistics.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from sqlalchemy import func, select

from memoryhole.analysis.engines.base import Reductions
from memoryhole.analysis.engines.dataset import Dataset, study_stamp, write_study_dataset
from memoryhole.analysis.study_data import Filters, checked_filters
from memoryhole.errors import MemoryholeError

ENGINES: Final = ("auto", "pandas", "duckdb", "dask")
#: From this many posts with a verdict, ``--engine auto`` picks duckdb: the in-memory frame
#: of 2M posts with their term counts takes about 1.5 GB.
AUTO_THRESHOLD: Final = 2_000_000
#: The study's own analysis dataset, written on first use and again when the study changed.
DATASET_FOLDER: Final = "analysis-dataset"


def make_filters(
    platforms: Sequence[str] = (), since: str | None = None, until: str | None = None
) -> Filters:
    """The posts to analyse, checked as :func:`~memoryhole.analysis.study_data.load_study_data`."""
    return checked_filters(platforms, since, until)


def choose_engine(
    requested: str, study: Path, dataset: Path | None, *, needs_memory: bool = False
) -> str:
    """``requested`` unless ``auto``: then pandas below :data:`AUTO_THRESHOLD` posts (or when
    the analysis needs the posts one by one: ``needs_memory``), duckdb above."""
    if requested not in ENGINES:
        raise MemoryholeError(f"--engine {requested}: use one of {', '.join(ENGINES)}")
    if requested != "auto":
        return requested
    if dataset is not None:
        return "duckdb"
    if needs_memory:
        return "pandas"
    from memoryhole.store.schema import verdicts
    from memoryhole.study import Study

    opened = Study.open(study)
    try:
        with opened.engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(verdicts)).scalar()
    finally:
        opened.close()
    return "duckdb" if int(count or 0) >= AUTO_THRESHOLD else "pandas"


#: What ``memoryhole serve --engine`` and ``memoryhole report --engine`` take.
FIGURE_ENGINES: Final = ("auto", "pandas", "duckdb")


def choose_figure_engine(requested: str, study: Path) -> str:
    """The engine of the dashboard's and the report's figures: ``requested`` unless ``auto``,
    then as :func:`choose_engine` (duckdb from :data:`AUTO_THRESHOLD` posts)."""
    if requested not in FIGURE_ENGINES:
        raise MemoryholeError(f"--engine {requested}: use one of {', '.join(FIGURE_ENGINES)}")
    return choose_engine(requested, study, None)


def study_dataset(study: Path, progress: Callable[[int, int], None] | None = None) -> Dataset:
    """The study's analysis dataset (``STUDY/analysis-dataset``), (re)written when missing or
    older than the store."""
    from memoryhole.analysis.cache import LazyTokenizer
    from memoryhole.study import Study

    opened = Study.open(study)
    try:
        tokenizer = LazyTokenizer()
        folder = study / DATASET_FOLDER
        try:
            found = Dataset.open(folder)
            if found.stamp() == study_stamp(opened, tokenizer):
                return found
        except MemoryholeError:
            pass
        return write_study_dataset(opened, folder, tokenizer, progress=progress)
    finally:
        opened.close()


@contextmanager
def open_reductions(
    engine: str,
    *,
    study: Path,
    dataset: Path | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Reductions]:
    """The reductions of ``engine`` (duckdb or dask) over ``dataset``, else over the study's
    own analysis dataset."""
    found = Dataset.open(dataset) if dataset is not None else study_dataset(study, progress)
    reductions: Reductions
    if engine == "duckdb":
        from memoryhole.analysis.engines.duckdb_engine import DuckDBReductions

        if scheduler:
            raise MemoryholeError("--scheduler is for --engine dask")
        duck = DuckDBReductions(found)
        reductions, close = duck, duck.close
    elif engine == "dask":
        from memoryhole.analysis.engines.dask_engine import DaskReductions

        dask = DaskReductions(found, scheduler)
        reductions, close = dask, dask.close
    else:
        raise MemoryholeError(f"--engine {engine} does not reduce a dataset: use duckdb or dask")
    try:
        yield reductions
    finally:
        close()
