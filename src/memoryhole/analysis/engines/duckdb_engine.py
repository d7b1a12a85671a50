"""The DuckDB engine: every reduction one SQL query over the analysis dataset's Parquet
(streamed from disk, spilled to a temporary folder past the memory limit; never a row per post
in Python)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from memoryhole.analysis.engines.base import (
    IntervalCounts,
    IntervalQuery,
    TimelineCounts,
    TimelineQuery,
    author_sql,
    interval_sql,
    post_conditions,
    suspended_sql,
    timeline_sql,
)
from memoryhole.analysis.engines.dataset import Dataset
from memoryhole.analysis.study_data import Filters

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

#: DuckDB's memory limit: below the 4 GB the out-of-core target allows the whole process.
MEMORY_LIMIT: Final = "2GB"


class DuckDBReductions:
    """:class:`~memoryhole.analysis.engines.base.Reductions` by DuckDB over ``dataset``."""

    def __init__(
        self, dataset: Dataset, *, memory_limit: str = MEMORY_LIMIT, threads: int | None = None
    ) -> None:
        import duckdb

        self.dataset = dataset
        self._db: duckdb.DuckDBPyConnection = duckdb.connect()
        self._spill = Path(tempfile.mkdtemp(prefix="memoryhole-duckdb-"))
        spill = self._spill
        self._db.execute(f"SET memory_limit = '{memory_limit}'")
        self._db.execute(f"SET temp_directory = '{spill}'")
        self._db.execute("SET preserve_insertion_order = false")
        self._db.execute("SET enable_progress_bar = false")  # stdout carries the data
        if threads:
            self._db.execute(f"SET threads = {int(threads)}")

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self._spill, ignore_errors=True)

    def _posts(self, filters: Filters) -> str:
        source = f"read_parquet('{self.dataset.glob('posts')}', hive_partitioning = true)"
        conditions = post_conditions(filters)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"(SELECT * FROM {source}{where})"

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self._db.sql(sql).fetchall()

    def outcome_counts(self, filters: Filters) -> dict[tuple[str, str], int]:
        rows = self._rows(
            f"SELECT platform, verdict, count(*) FROM {self._posts(filters)} GROUP BY ALL"
        )
        return {(str(p), str(v)): int(n) for p, v, n in rows}

    def author_counts(self, filters: Filters) -> dict[str, tuple[int, int]]:
        rows = self._rows(
            "SELECT platform, count(DISTINCT author), "
            "count(DISTINCT author) FILTER (WHERE verdict = 'account_suspended') "
            f"FROM {self._posts(filters)} GROUP BY ALL"
        )
        return {str(p): (int(a), int(s)) for p, a, s in rows}

    def gap_removals(self, filters: Filters) -> int:
        rows = self._rows(
            f"SELECT count(*) FILTER (WHERE interval_spans_gap) FROM {self._posts(filters)}"
        )
        return int(rows[0][0] or 0)

    def term_counts(
        self, filters: Filters, at_least: int = 1
    ) -> tuple[npt.NDArray[np.int64], list[str], npt.NDArray[np.int64]]:
        terms = f"read_parquet('{self.dataset.glob('terms')}', hive_partitioning = true)"
        term_filter = post_conditions(Filters(platforms=filters.platforms), "t")
        where = f" WHERE {' AND '.join(term_filter)}" if term_filter else ""
        table = self._db.sql(
            f"SELECT t.term_id::BIGINT AS term_id, p.verdict, count(*)::BIGINT AS n "
            f"FROM {terms} t JOIN {self._posts(filters)} p ON t.post_pk = p.post_pk"
            f"{where} GROUP BY t.term_id, p.verdict "
            f"QUALIFY sum(count(*)) OVER (PARTITION BY t.term_id) >= {int(at_least)}"
        ).fetchnumpy()
        return counts_matrix(
            np.asarray(table["term_id"], dtype=np.int64),
            [str(v) for v in table["verdict"]],
            np.asarray(table["n"], dtype=np.int64),
        )

    def vocabulary(self, term_ids: npt.NDArray[np.int64]) -> list[str]:
        import pyarrow.parquet as pq

        table = pq.read_table(self.dataset.vocabulary_path, columns=["term"])
        terms = table.column("term").combine_chunks()
        import pyarrow as pa

        return [str(t) for t in terms.take(pa.array(term_ids)).to_pylist()]

    def interval_counts(self, filters: Filters, query: IntervalQuery) -> IntervalCounts:
        sql = interval_sql(query, self._posts(filters))
        result = self._db.sql(
            f"SELECT grp, left_, right_, count(*)::BIGINT AS n FROM ({sql}) GROUP BY ALL "
            "ORDER BY grp, left_, right_"
        ).fetchnumpy()
        return IntervalCounts(
            np.asarray(list(result["grp"]), dtype=object),
            np.asarray(result["left_"], dtype=np.float64),
            np.asarray(result["right_"], dtype=np.float64),
            np.asarray(result["n"], dtype=np.int64),
        )

    def author_rows(self, filters: Filters, kinds: tuple[str, ...]) -> pd.DataFrame:
        table: pd.DataFrame = self._db.sql(author_sql(kinds, self._posts(filters))).df()
        return table

    def suspended_accounts(self, filters: Filters) -> pd.DataFrame:
        table: pd.DataFrame = self._db.sql(suspended_sql(self._posts(filters))).df()
        return table

    @property
    def observed_until(self) -> float | None:
        return self.dataset.observed_until

    def timeline_counts(self, filters: Filters, query: TimelineQuery) -> TimelineCounts:
        published, seen = timeline_sql(query, self._posts(filters))
        bins = self._db.sql(published).fetchnumpy()
        seen_bins = self._db.sql(seen).fetchnumpy()
        last = [v for v in np.asarray(bins["last_seen"], dtype=np.float64) if np.isfinite(v)]

        def ints(values: Any) -> npt.NDArray[np.int64]:
            return np.asarray(values, dtype=np.int64)

        return TimelineCounts(
            ints(bins["b"]),
            ints(bins["posts"]),
            ints(bins["eligible"]),
            ints(bins["removed"]),
            ints(bins["removed_any"]),
            ints(seen_bins["b"]),
            ints(seen_bins["n"]),
            max(last) if last else None,
        )


def counts_matrix(
    term_ids: npt.NDArray[np.int64], verdicts: list[str], n: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], list[str], npt.NDArray[np.int64]]:
    """``(term, verdict, n)`` rows as ``(sorted term ids, verdicts, counts[verdict, term])``."""
    names = sorted(set(verdicts))
    code = {v: i for i, v in enumerate(names)}
    ids, column = np.unique(term_ids, return_inverse=True)
    counts = np.zeros((len(names), ids.size), dtype=np.int64)
    rows = np.fromiter((code[v] for v in verdicts), dtype=np.int64, count=len(verdicts))
    np.add.at(counts, (rows, column.ravel()), n)
    return ids, names, counts
