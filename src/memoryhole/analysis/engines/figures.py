"""The dashboard's and the report's figures (:mod:`memoryhole.analysis.overview`) out of core:
the same values, made from an engine's reductions over the study's analysis dataset instead of
one row per post in memory.

* :func:`speed_figures`: :func:`~memoryhole.analysis.overview.time_to_removal` from counted
  removal-time intervals (Turnbull on the weighted distinct intervals, the bootstrap
  reweighting the counts), through :func:`memoryhole.analysis.engines.tables._curves`, the
  ``analyze survival --engine duckdb`` path.
* :func:`term_index`: the counts-only term index the term table
  (:func:`~memoryhole.analysis.overview.term_table`) is made from, from the engine's
  (term, verdict) counts (:func:`memoryhole.analysis.engines.tables.term_index`).

:class:`StudyReductions` keeps the DuckDB reductions over a study's own analysis dataset,
written again (a window of posts at a time) when the store changed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from memoryhole.analysis.engines.base import IntervalCounts, IntervalQuery, Reductions
from memoryhole.analysis.overview import REMOVAL_KINDS, SpeedFigures, thin_curve
from memoryhole.analysis.study_data import Filters
from memoryhole.analysis.survival import SUMMARY_COLUMNS
from memoryhole.analysis.terms import to_records as records_of

if TYPE_CHECKING:
    import pandas as pd

    from memoryhole.analysis.cache import TokenizerLike
    from memoryhole.analysis.engines.dataset import Dataset
    from memoryhole.analysis.engines.duckdb_engine import DuckDBReductions
    from memoryhole.analysis.terms import TermIndex
    from memoryhole.store.coverage import GapIndex
    from memoryhole.study import Study

_CURVE: Final = ["time", "survival", "ci_low", "ci_high", "group"]
#: Post ids per window when the dashboard writes the analysis dataset: each window's (post,
#: term) arrays (~60 terms a post) are the writer's peak, so smaller than ``analyze``'s 500,000.
DATASET_WINDOW: Final = 200_000
#: The dashboard's figures computed out of core (the rest are GROUP BYs in the store).
OUT_OF_CORE_FIGURES: Final = ("speed", "term_index")


def _parts(
    parts: list[tuple[Any, IntervalCounts, str]], options: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    from memoryhole.analysis.engines.tables import _curves

    curves, summary = _curves(parts, options)
    return curves, summary[list(SUMMARY_COLUMNS)]


def speed_figures(
    reductions: Reductions,
    filters: Filters | None = None,
    *,
    by_platform: bool = False,
    bootstrap: int = 100,
    max_points: int = 300,
    seed: int = 0,
) -> SpeedFigures:
    """:func:`~memoryhole.analysis.overview.time_to_removal` of the study's posts, from the
    engine's interval counts: per removal kind its removed posts (a removal whose interval
    spans a coverage gap left out), by platform too when there are several, and the
    cause-specific curve of each kind over every post (gap removals right-censored)."""
    import pandas as pd

    filters = filters or Filters()
    verdict_posts: dict[str, int] = {}
    platforms: set[str] = set()
    for (platform, verdict), n in reductions.outcome_counts(filters).items():
        verdict_posts[verdict] = verdict_posts.get(verdict, 0) + n
        platforms.add(platform)
    by_platform = by_platform and len(platforms) > 1
    options: dict[str, Any] = {"alpha": 0.05, "bootstrap": bootstrap, "seed": seed}
    removed_frames: list[pd.DataFrame] = []
    removed_summaries: list[pd.DataFrame] = []
    for kind in REMOVAL_KINDS:
        if not verdict_posts.get(kind):
            continue
        query = IntervalQuery(events=(kind,), rows=(kind,), drop_gaps=True)
        counts = reductions.interval_counts(filters, query)
        if int(counts.weight.sum()) == 0:
            continue
        curves, summary = _parts([(kind, counts, "")], options)
        removed_frames.append(curves)
        removed_summaries.append(summary)
        if by_platform:
            query = IntervalQuery(events=(kind,), rows=(kind,), drop_gaps=True, by="platform")
            counts = reductions.interval_counts(filters, query)
            labels = sorted({str(g) for g in counts.group})
            curves, summary = _parts([(f"{p}/{kind}", counts, p) for p in labels], options)
            removed_frames.append(curves)
            removed_summaries.append(summary)
    present = [k for k in REMOVAL_KINDS if verdict_posts.get(k)]
    all_curves: list[dict[str, Any]] = []
    all_summary: list[dict[str, Any]] = []
    if present:
        parts = [
            (
                k,
                reductions.interval_counts(
                    filters, IntervalQuery(events=(k,), rows=None, censor_gaps=True)
                ),
                "",
            )
            for k in present
        ]
        curves, summary = _parts(parts, {**options, "bootstrap": 0, "seed": 0})
        all_curves = thin_curve(records_of(curves[_CURVE]), max_points)
        all_summary = records_of(summary)
    removed_curves: list[dict[str, Any]] = []
    removed_summary: list[dict[str, Any]] = []
    if removed_frames:
        joined = pd.concat(removed_frames, ignore_index=True)
        removed_curves = thin_curve(records_of(joined[_CURVE]), max_points)
        removed_summary = records_of(pd.concat(removed_summaries, ignore_index=True))
    return SpeedFigures(removed_curves, removed_summary, all_curves, all_summary, bootstrap)


def term_index(reductions: Reductions, filters: Filters | None = None) -> TermIndex:
    """The counts-only term index of every term (what
    :func:`~memoryhole.analysis.overview.build_term_index` counts in memory)."""
    from memoryhole.analysis.engines.tables import term_index as counted

    return counted(reductions, filters or Filters(), 1)


class StudyReductions:
    """DuckDB's reductions over ``study``'s analysis dataset (``STUDY/analysis-dataset``),
    tokenised with ``tokenizer``. :meth:`use` hands them out one user at a time (a DuckDB
    connection is not for two threads at once, and the dataset may be replaced between two
    uses); the dataset is written again when the store changed, but not more often than every
    ``rewrite_every`` seconds (a running collector changes the store all the time, and writing
    the dataset of ten million posts takes minutes): between two writes the figures are up to
    that much behind."""

    def __init__(
        self,
        study: Study,
        tokenizer: TokenizerLike,
        *,
        folder: Path | None = None,
        rewrite_every: float = 0.0,
        memory_limit: str | None = None,
        gaps: Callable[[], GapIndex] | None = None,
    ) -> None:
        from memoryhole.analysis.engines.choose import DATASET_FOLDER

        self.study = study
        self.tokenizer = tokenizer
        self.folder = folder or study.path / DATASET_FOLDER
        self.rewrite_every = rewrite_every
        self.memory_limit = memory_limit
        self.gaps = gaps  # the study's gap index, when the caller has it (else computed)
        self._lock = threading.RLock()
        self._reductions: DuckDBReductions | None = None
        self._stamp: str | None = None
        self._written_at = -float("inf")

    def _dataset(self, stamp: str) -> Dataset:
        from memoryhole.analysis.engines.dataset import Dataset, write_study_dataset
        from memoryhole.errors import MemoryholeError

        try:
            found = Dataset.open(self.folder)
            if found.stamp() == stamp:
                return found
        except MemoryholeError:
            pass
        gaps = self.gaps() if self.gaps is not None else None
        return write_study_dataset(
            self.study, self.folder, self.tokenizer, gaps=gaps, window=DATASET_WINDOW
        )

    @contextmanager
    def use(self) -> Iterator[Reductions]:
        from memoryhole.analysis.engines.dataset import study_stamp
        from memoryhole.analysis.engines.duckdb_engine import MEMORY_LIMIT, DuckDBReductions

        with self._lock:
            stamp = study_stamp(self.study, self.tokenizer)
            fresh = time.monotonic() - self._written_at < self.rewrite_every
            if self._reductions is None or (stamp != self._stamp and not fresh):
                if self._reductions is not None:
                    self._reductions.close()
                    self._reductions = None
                dataset = self._dataset(stamp)
                self._reductions = DuckDBReductions(
                    dataset, memory_limit=self.memory_limit or MEMORY_LIMIT
                )
                self._stamp = dataset.stamp()
                self._written_at = time.monotonic()
            yield self._reductions

    def close(self) -> None:
        with self._lock:
            if self._reductions is not None:
                self._reductions.close()
                self._reductions = None


__all__ = ["OUT_OF_CORE_FIGURES", "StudyReductions", "speed_figures", "term_index"]
