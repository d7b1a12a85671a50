"""The Dask engine: the same reductions as DuckDB's, as Dask DataFrame group-bys over the
analysis dataset's Parquet partitions (platform / month), on a ``distributed`` cluster when
given a scheduler address (else Dask's local threads). Every worker must see the dataset's
folder at the same path (a shared file system)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from memoryhole.analysis.engines.base import (
    AUTHOR_COLUMNS,
    REMOVALS,
    IntervalCounts,
    IntervalQuery,
    TimelineCounts,
    TimelineQuery,
)
from memoryhole.analysis.engines.dataset import Dataset
from memoryhole.analysis.engines.duckdb_engine import counts_matrix
from memoryhole.analysis.study_data import Filters
from memoryhole.errors import MemoryholeError

if TYPE_CHECKING:
    import pandas as pd


class DaskReductions:
    """:class:`~memoryhole.analysis.engines.base.Reductions` on Dask (``scheduler``: a
    ``distributed`` scheduler address such as ``tcp://10.0.0.5:8786``, or None)."""

    def __init__(self, dataset: Dataset, scheduler: str | None = None) -> None:
        try:
            import dask.dataframe  # noqa: F401
        except ImportError:
            raise MemoryholeError(
                "--engine dask needs Dask: pip install 'memoryhole[outofcore]'"
            ) from None
        self.dataset = dataset
        self._client: Any = None
        if scheduler:
            from distributed import Client

            try:
                self._client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
            except OSError as error:
                raise MemoryholeError(
                    f"no Dask scheduler answers at {scheduler} ({error}): start one with "
                    "`dask scheduler` and workers with `dask worker ADDRESS`, or leave out "
                    "--scheduler to run on this machine"
                ) from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _compute(self, collection: Any) -> Any:
        if self._client is not None:
            return self._client.compute(collection).result()
        return collection.compute()

    def _read(self, table: str, filters: Filters, columns: list[str]) -> Any:
        import dask.dataframe as dd

        pushed = [("platform", "in", list(filters.platforms))] if filters.platforms else None
        needed = list(columns)
        if table == "posts":  # the filters' columns
            needed += [c for c in ("published_at", "post_pk") if c not in needed]
        frame = dd.read_parquet(
            str(self.dataset.directory / table),
            columns=needed,
            filters=pushed,
            dataset={"partitioning": "hive"},
        )
        if "platform" in columns:
            frame["platform"] = frame["platform"].astype(str)
        if table == "posts":
            if filters.since is not None:
                frame = frame[frame["published_at"] >= filters.since]
            if filters.until is not None:
                frame = frame[frame["published_at"] < filters.until]
            if filters.post_pks is not None:
                low, high = filters.post_pks
                frame = frame[(frame["post_pk"] >= low) & (frame["post_pk"] < high)]
        return frame

    def outcome_counts(self, filters: Filters) -> dict[tuple[str, str], int]:
        posts = self._read("posts", filters, ["platform", "verdict"])
        sizes = self._compute(posts.groupby(["platform", "verdict"]).size())
        return {(str(p), str(v)): int(n) for (p, v), n in sizes.items()}

    def author_counts(self, filters: Filters) -> dict[str, tuple[int, int]]:
        posts = self._read("posts", filters, ["platform", "author", "verdict"])
        everyone = posts[["platform", "author"]].drop_duplicates()
        suspended = posts[posts["verdict"] == "account_suspended"][["platform", "author"]]
        counts = self._compute(everyone.groupby("platform").size())
        gone = self._compute(suspended.drop_duplicates().groupby("platform").size())
        return {str(p): (int(n), int(gone.get(p, 0))) for p, n in counts.items()}

    def gap_removals(self, filters: Filters) -> int:
        posts = self._read("posts", filters, ["published_at", "interval_spans_gap"])
        return int(self._compute(posts["interval_spans_gap"].sum()))

    def term_counts(
        self, filters: Filters, at_least: int = 1
    ) -> tuple[npt.NDArray[np.int64], list[str], npt.NDArray[np.int64]]:
        import dask.dataframe as dd

        posts = self._read("posts", filters, ["post_pk", "published_at", "verdict"])
        terms = self._read("terms", Filters(platforms=filters.platforms), ["post_pk", "term_id"])
        joined = dd.merge(terms, posts[["post_pk", "verdict"]], on="post_pk", how="inner")
        sizes = self._compute(joined.groupby(["term_id", "verdict"]).size())
        sizes = sizes[sizes.groupby(level=0).transform("sum") >= at_least]
        if not len(sizes):
            return np.zeros(0, dtype=np.int64), [], np.zeros((0, 0), dtype=np.int64)
        index = sizes.index
        return counts_matrix(
            index.get_level_values(0).to_numpy(dtype=np.int64),
            [str(v) for v in index.get_level_values(1)],
            sizes.to_numpy(dtype=np.int64),
        )

    def vocabulary(self, term_ids: npt.NDArray[np.int64]) -> list[str]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        terms = pq.read_table(self.dataset.vocabulary_path, columns=["term"]).column("term")
        return [str(t) for t in terms.combine_chunks().take(pa.array(term_ids)).to_pylist()]

    def interval_counts(self, filters: Filters, query: IntervalQuery) -> IntervalCounts:
        import pandas as pd

        columns = [
            "platform",
            "published_at",
            "last_seen_alive_at",
            "first_seen_removed_at",
            "verdict",
            "published_within",
            "interval_spans_gap",
        ]
        posts = self._read("posts", filters, columns)
        meta = pd.DataFrame(
            {
                "grp": pd.Series([], dtype=object),
                "left": pd.Series([], dtype="float64"),
                "right": pd.Series([], dtype="float64"),
            }
        )
        ends = posts.map_partitions(partition_intervals, query, meta=meta)
        sizes = self._compute(ends.groupby(["grp", "left", "right"]).size())
        sizes = sizes.sort_index()
        index = sizes.index
        return IntervalCounts(
            np.asarray(index.get_level_values(0), dtype=object),
            index.get_level_values(1).to_numpy(dtype=np.float64),
            index.get_level_values(2).to_numpy(dtype=np.float64),
            sizes.to_numpy(dtype=np.int64),
        )

    def author_rows(self, filters: Filters, kinds: tuple[str, ...]) -> pd.DataFrame:
        import pandas as pd

        columns = ["platform", "author", "published_at", "first_seen_removed_at", "verdict"]
        posts = self._read("posts", filters, columns)
        flags = posts.map_partitions(verdict_flags, kinds, meta=verdict_flags(posts._meta, kinds))
        grouped = flags.groupby(["author", "platform"])
        sums = grouped[["posts", "removed", *REMOVALS, "withheld"]].sum()
        times = grouped.agg(
            first_post_at=("published_at", "min"),
            last_post_at=("published_at", "max"),
            suspended_seen_at=("suspended_at", "min"),
        )
        sums, times = self._compute_all(sums, times)
        table: pd.DataFrame = pd.concat([sums, times], axis=1).sort_index().reset_index()
        return table[list(AUTHOR_COLUMNS)]

    def suspended_accounts(self, filters: Filters) -> pd.DataFrame:

        columns = ["platform", "author", "first_seen_removed_at", "verdict"]
        posts = self._read("posts", filters, columns)
        gone = posts[posts["verdict"] == "account_suspended"]
        table = self._compute(
            gone.groupby(["author", "platform"]).agg(
                seen=("first_seen_removed_at", "min"), posts=("verdict", "size")
            )
        )
        out: pd.DataFrame = table.sort_index().reset_index()
        out["posts"] = out["posts"].astype(np.int64)
        out["seen"] = out["seen"].astype(np.float64)
        return out[["author", "platform", "seen", "posts"]]

    @property
    def observed_until(self) -> float | None:
        return self.dataset.observed_until

    def timeline_counts(self, filters: Filters, query: TimelineQuery) -> TimelineCounts:
        import pandas as pd

        columns = ["published_at", "first_seen_removed_at", "verdict"]
        posts = self._read("posts", filters, columns)
        meta = pd.DataFrame({name: pd.Series([], dtype="int64") for name in _BIN_COLUMNS}).assign(
            last_seen=pd.Series([], dtype="float64")
        )
        per_post = posts.map_partitions(partition_bins, query, meta=meta)
        sums = per_post.groupby("b")[["posts", "eligible", "removed", "removed_any"]].sum()
        dated = per_post[per_post["seen_bin"] != np.iinfo(np.int64).min]
        seen, bins, last = self._compute_all(
            dated.groupby("seen_bin").size(), sums, per_post["last_seen"].max()
        )
        bins, seen = bins.sort_index(), seen.sort_index()

        def ints(values: Any) -> npt.NDArray[np.int64]:
            return np.asarray(values, dtype=np.int64)

        return TimelineCounts(
            ints(bins.index),
            ints(bins["posts"]),
            ints(bins["eligible"]),
            ints(bins["removed"]),
            ints(bins["removed_any"]),
            ints(seen.index),
            ints(seen.to_numpy()),
            None if pd.isna(last) else float(last),
        )

    def _compute_all(self, *collections: Any) -> tuple[Any, ...]:
        from dask.base import compute

        if self._client is not None:
            return tuple(f.result() for f in self._client.compute(list(collections)))
        return tuple(compute(*collections))  # type: ignore[no-untyped-call]


def verdict_flags(part: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
    """Per post: 1 for its verdict's column, ``removed`` (one of ``kinds``), and its removal
    time when the verdict is ``account_suspended`` (for the per-author sums)."""
    import pandas as pd

    verdict = part["verdict"].astype(str)
    out = pd.DataFrame(
        {
            "author": part["author"].astype(str),
            "platform": part["platform"].astype(str),
            "published_at": part["published_at"].astype("float64"),
            "posts": np.ones(len(part), dtype=np.int64),
            "removed": verdict.isin(list(kinds)).astype(np.int64),
        },
        index=part.index,
    )
    for name in (*REMOVALS, "withheld"):
        out[name] = (verdict == name).astype(np.int64)
    removed_at = part["first_seen_removed_at"].astype("float64")
    out["suspended_at"] = removed_at.where(verdict == "account_suspended")
    return out


_BIN_COLUMNS = ("b", "posts", "eligible", "removed", "removed_any", "seen_bin")


def partition_bins(part: pd.DataFrame, query: TimelineQuery) -> pd.DataFrame:
    """Per post of one partition: its publication bin, whether eligible, removed within,
    removed at all, and the bin of its removal answer (-1: none), as ``timeline_table``."""
    import pandas as pd

    published = part["published_at"].to_numpy(dtype=np.float64, na_value=np.nan)
    removed_at = part["first_seen_removed_at"].to_numpy(dtype=np.float64, na_value=np.nan)
    is_kind = np.isin(part["verdict"].astype(str).to_numpy(dtype=object), list(query.kinds))
    eligible = np.ones(published.size, dtype=bool)
    if query.within is not None and query.observed_until is not None:
        eligible = published + query.within <= query.observed_until
    removed = is_kind & eligible
    if query.within is not None:
        with np.errstate(invalid="ignore"):
            removed &= removed_at - published <= query.within
    dated = is_kind & ~np.isnan(removed_at)
    seen = np.full(published.size, np.iinfo(np.int64).min, dtype=np.int64)
    seen[dated] = np.floor(removed_at[dated] / query.width).astype(np.int64)
    return pd.DataFrame(
        {
            "b": np.floor(published / query.width).astype(np.int64),
            "posts": np.ones(published.size, dtype=np.int64),
            "eligible": eligible.astype(np.int64),
            "removed": removed.astype(np.int64),
            "removed_any": is_kind.astype(np.int64),
            "seen_bin": seen,
            "last_seen": np.where(is_kind, removed_at, np.nan),
        }
    )


def partition_intervals(part: pd.DataFrame, query: IntervalQuery) -> pd.DataFrame:
    """``grp, left, right`` of one partition's posts: :meth:`Timings.intervals` itself."""
    import pandas as pd

    from memoryhole.analysis.survival import Timings

    removed = part["first_seen_removed_at"].to_numpy(dtype=np.float64, na_value=np.nan)
    gap = part["interval_spans_gap"].to_numpy(dtype=bool)
    verdict = part["verdict"].astype(str).to_numpy(dtype=object)
    keep = np.ones(len(part), dtype=bool)
    if query.rows is not None:
        keep &= np.isin(verdict, list(query.rows)) & ~np.isnan(removed)
    if query.drop_gaps:
        keep &= ~gap
    if query.censor_gaps:
        removed = np.where(gap, np.nan, removed)
    group = {None: None, "platform": "platform", "verdict": "verdict"}[query.by]
    labels = (
        np.full(len(part), "", dtype=object)
        if group is None
        else part[group].astype(str).to_numpy(dtype=object)
    )
    timings = Timings(
        part["published_at"].to_numpy(dtype=np.float64, na_value=np.nan),
        part["last_seen_alive_at"].to_numpy(dtype=np.float64, na_value=np.nan),
        removed,
        verdict,
        labels,
        part["published_within"].to_numpy(dtype=np.float64, na_value=np.nan),
    ).subset(keep)
    left, right = timings.intervals(query.events)
    return pd.DataFrame({"grp": timings.group, "left": left, "right": right})
