"""Notebook access to a study: ``memoryhole.open(path)``.

::

    import memoryhole
    s = memoryhole.open("my-study")
    s.posts()               # DataFrames: posts, verdicts, observations, authors (pseudonyms)
    s.terms(min_posts=30)   # the analysis tables (memoryhole.analysis.tables)
    s.sql("select verdict, count(*) from verdicts group by 1")   # DuckDB over all of them

Everything is a call: the tables (``s.posts()``, ``s.verdicts()``, ``s.observations()``,
``s.authors()``) as the analyses (``s.terms()``, ``s.survival()``, …). The tables' older
spelling without the call (``s.verdicts``) still works: it is the same DataFrame.

The tables are the open-data export tables (``memoryhole.exports.TABLES``: the same columns
as ``export parquet``), read once and cached; posts of taken-down authors are never in them.
Times are epoch seconds (``published_at``) and, beside each, the same time as a pandas
datetime in UTC (``published_at_iso``, ``datetime64[ns, UTC]``, to the second); analysis
tables get such a ``_iso`` column beside each time column (``first_post_at`` …) too.
DuckDB (``pip install 'memoryhole[notebook]'``) sees them as views, plus ``post_terms``
(``post_pk``, ``terms``: the cached terms, space-separated; ``unnest(string_split(terms, ' '))``
gives one row per term) and any DataFrame you pass to :meth:`StudyHandle.register`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memoryhole.errors import MemoryholeError

if TYPE_CHECKING:
    import pandas as pd

    from memoryhole.analysis.study_data import StudyData
    from memoryhole.study import Study

    class StudyTable(pd.DataFrame):
        """A study table: a DataFrame that gives itself when called (``s.verdicts()``)."""

        def __call__(self) -> pd.DataFrame: ...


_TABLES = ("posts", "verdicts", "observations", "authors")


@functools.cache
def _table_class() -> Any:
    """:class:`StudyTable` (made on first use, so ``import memoryhole`` needs no pandas)."""
    import pandas as pd

    class StudyTable(pd.DataFrame):
        """A study table: a DataFrame that gives itself when called, so ``s.verdicts()``
        reads as ``s.terms()`` does, and ``s.verdicts`` still works. Frames derived from it
        (a filter, a merge) are plain DataFrames."""

        @property
        def _constructor(self) -> type[pd.DataFrame]:
            return pd.DataFrame

        def __call__(self) -> pd.DataFrame:
            return self

    return StudyTable


def _as_table(frame: pd.DataFrame) -> StudyTable:
    table: StudyTable = _table_class()(frame)
    return table


def with_datetimes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``<column>_iso`` pandas datetime (UTC, to the second) beside each time
    column in epoch seconds (``*_at``, ``bin_start``, ``change_at``) that has none yet."""
    import pandas as pd

    from memoryhole.exports import iso_column

    out = frame
    for column in list(frame.columns):
        name = str(column)
        if not (name.endswith("_at") or name == "bin_start") or f"{name}_iso" in frame.columns:
            continue
        if frame[column].dtype.kind not in "iuf":
            continue
        if out is frame:
            out = frame.copy()
        out[f"{name}_iso"] = pd.to_datetime(
            pd.Series(iso_column(frame[column].tolist()), index=frame.index),
            utc=True,
            format="ISO8601",
        )
    return out


class StudyHandle:
    """A study opened for analysis: DataFrames, analysis tables and SQL (DuckDB)."""

    def __init__(self, study: Study, *, raw_author_ids: bool = False) -> None:
        self.study = study
        self.raw_author_ids = raw_author_ids
        self._frames: dict[str, pd.DataFrame] = {}
        self._data: dict[tuple[Any, ...], StudyData] = {}
        self._duckdb: Any = None

    @property
    def path(self) -> Path:
        return self.study.path

    def __repr__(self) -> str:
        return f"<memoryhole study {self.path}>"

    # ------------------------------------------------------------------ raw tables

    def table(self, name: str) -> pd.DataFrame:
        """One of ``posts``, ``verdicts``, ``observations``, ``authors``, ``post_terms``."""
        if name not in self._frames:
            if name == "post_terms":
                self._frames[name] = self._post_terms()
            elif name in _TABLES:
                from memoryhole.exports import table_frame

                frame = table_frame(self.study.engine, name)
                if name == "authors" and self.raw_author_ids:
                    frame = frame.merge(self._raw_ids(), on=["author_id", "platform"], how="left")
                self._frames[name] = frame
            else:
                raise MemoryholeError(f"no table {name!r}: use one of {(*_TABLES, 'post_terms')}")
        return self._frames[name]

    @property
    def posts(self) -> StudyTable:
        """``s.posts()`` (or ``s.posts``): one row per post."""
        return _as_table(self.table("posts"))

    @property
    def verdicts(self) -> StudyTable:
        """``s.verdicts()`` (or ``s.verdicts``): one verdict per post."""
        return _as_table(self.table("verdicts"))

    @property
    def observations(self) -> StudyTable:
        """``s.observations()`` (or ``s.observations``): every check and listing poll."""
        return _as_table(self.table("observations"))

    @property
    def authors(self) -> StudyTable:
        """``s.authors()`` (or ``s.authors``): authors by pseudonym."""
        return _as_table(self.table("authors"))

    def _raw_ids(self) -> pd.DataFrame:
        import pandas as pd
        from sqlalchemy import select

        from memoryhole.store.schema import authors

        with self.study.engine.connect() as connection:
            rows = connection.execute(
                select(authors.c.pseudonym, authors.c.platform, authors.c.raw_id)
            ).all()
        return pd.DataFrame(rows, columns=["author_id", "platform", "raw_author_id"])

    def _post_terms(self) -> pd.DataFrame:
        import pandas as pd
        from sqlalchemy import select

        from memoryhole.analysis.cache import LazyTokenizer, refresh_terms, tokenizer_key
        from memoryhole.store.schema import post_terms

        tokenizer = LazyTokenizer()
        refresh_terms(self.study.engine, tokenizer)
        kept = set(self.posts["post_pk"].tolist())
        query = select(post_terms.c.post_pk, post_terms.c.terms).where(
            post_terms.c.tokenizer == tokenizer_key(tokenizer)
        )
        with self.study.engine.connect() as connection:
            rows = [(pk, t) for pk, t in connection.execute(query) if pk in kept]
        return pd.DataFrame(rows, columns=["post_pk", "terms"])

    # ------------------------------------------------------------------ analyses

    def data(
        self,
        *,
        platforms: tuple[str, ...] = (),
        since: str | float | None = None,
        until: str | float | None = None,
    ) -> StudyData:
        """The posts and terms the analysis functions take (cached per filter)."""
        from memoryhole.analysis.study_data import load_study_data

        key = (platforms, since, until)
        if key not in self._data:
            self._data[key] = load_study_data(
                self.study, platforms=platforms, since=since, until=until
            )
        return self._data[key]

    def terms(self, **options: Any) -> pd.DataFrame:
        """:func:`memoryhole.analysis.tables.terms_table` (``platforms=``, ``since=``,
        ``until=`` select posts; other keywords go to the analysis)."""
        from memoryhole.analysis.tables import terms_table

        return terms_table(self._select(options), **options)

    def survival(self, **options: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:func:`memoryhole.analysis.tables.survival_table`: ``(curves, summary)``."""
        from memoryhole.analysis.tables import survival_table

        return survival_table(self._select(options), **options)

    def timeline(self, **options: Any) -> pd.DataFrame:
        from memoryhole.analysis.tables import timeline_table

        return with_datetimes(timeline_table(self._select(options), **options))

    def changes(self, **options: Any) -> pd.DataFrame:
        """:func:`memoryhole.analysis.tables.change_points`."""
        from memoryhole.analysis.tables import change_points

        return with_datetimes(change_points(self._select(options), **options))

    def accounts(self, **options: Any) -> pd.DataFrame:
        from memoryhole.analysis.tables import accounts_table

        return with_datetimes(accounts_table(self._select(options), **options))

    def suspensions(self, **options: Any) -> pd.DataFrame:
        from memoryhole.analysis.tables import suspensions_table

        return with_datetimes(suspensions_table(self._select(options), **options))

    def platforms(self, **options: Any) -> pd.DataFrame:
        from memoryhole.analysis.tables import platforms_table

        return platforms_table(self._select(options), **options)

    def _select(self, options: dict[str, Any]) -> StudyData:
        platforms = options.pop("platforms", ())
        return self.data(
            platforms=(platforms,) if isinstance(platforms, str) else tuple(platforms),
            since=options.pop("since", None),
            until=options.pop("until", None),
        )

    # ------------------------------------------------------------------ SQL

    def duckdb(self) -> Any:
        """A DuckDB connection with the tables registered as views (created on first use)."""
        if self._duckdb is None:
            try:
                import duckdb
            except ImportError:
                raise MemoryholeError(
                    "SQL needs DuckDB: pip install 'memoryhole[notebook]'"
                ) from None
            connection = duckdb.connect()
            for name in (*_TABLES, "post_terms"):
                connection.register(name, self.table(name))
            self._duckdb = connection
        return self._duckdb

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """Make a DataFrame (e.g. ``s.terms()``) queryable as ``name`` in :meth:`sql`."""
        self.duckdb().register(name, frame)

    def sql(self, query: str) -> pd.DataFrame:
        """Run SQL (DuckDB dialect) over the tables; the result as a DataFrame."""
        result: pd.DataFrame = self.duckdb().sql(query).df()
        return result

    def close(self) -> None:
        if self._duckdb is not None:
            self._duckdb.close()
            self._duckdb = None
        self.study.close()

    def __enter__(self) -> StudyHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_study(path: str | os.PathLike[str], *, raw_author_ids: bool = False) -> StudyHandle:
    """Open a study folder for analysis (see the module docstring)."""
    from memoryhole.study import Study

    return StudyHandle(Study.open(Path(path)), raw_author_ids=raw_author_ids)
