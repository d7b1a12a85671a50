"""The analysis dataset: a study's analysed posts and their term ids as Parquet, partitioned by
platform and month of publication, which the out-of-core engines (DuckDB, Dask) reduce.

Layout (Hive-style, so DuckDB, Dask, Arrow and Spark read each folder as one dataset)::

    DIR/manifest.json                                  format, posts, terms, tokenizer
    DIR/vocabulary.parquet                             term_id (uint32), term
    DIR/posts/platform=P/month=YYYY-MM/part-N.parquet  see POST_SCHEMA
    DIR/terms/platform=P/month=YYYY-MM/part-N.parquet  post_pk, term_id: one row a (post, term)

The posts are exactly the rows of :func:`~memoryhole.analysis.study_data.load_posts` (authors
taken down and impossible times left out, an edited post ``live``, authors by pseudonym), read
a window of row ids at a time, so writing never holds the whole study either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from memoryhole.errors import MemoryholeError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from memoryhole.analysis.cache import TokenizerLike
    from memoryhole.analysis.study_data import StudyData
    from memoryhole.store.coverage import GapIndex
    from memoryhole.study import Study

FORMAT: Final = 1
MANIFEST: Final = "manifest.json"
#: Columns of ``posts`` files besides the partition columns ``platform`` and ``month``.
POST_FIELDS: Final = (
    ("post_pk", "int64"),
    ("author", "string"),
    ("published_at", "float64"),
    ("first_seen_at", "float64"),
    ("last_seen_alive_at", "float64"),
    ("first_seen_removed_at", "float64"),
    ("verdict", "string"),
    ("published_within", "float64"),
    ("interval_spans_gap", "bool"),
)
_WINDOW: Final = 500_000  # post row ids per window when writing from a study


def post_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([(name, pa.type_for_alias(kind)) for name, kind in POST_FIELDS])


def term_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([("post_pk", pa.int64()), ("term_id", pa.uint32())])


def months(published: npt.NDArray[np.float64]) -> npt.NDArray[np.str_]:
    """``YYYY-MM`` (UTC) of each publication time: the month partition."""
    stamps = np.floor(published).astype("int64").astype("datetime64[s]")
    return np.datetime_as_string(stamps.astype("datetime64[M]"), unit="M")


def partitions(
    platform: npt.NDArray[np.object_], published: npt.NDArray[np.float64]
) -> tuple[list[str], npt.NDArray[np.intp]]:
    """The partition folders (``platform=P/month=M``) and each post's index into them."""
    keys = np.char.add(np.char.add(platform.astype(str), "\x1f"), months(published))
    unique, inverse = np.unique(keys, return_inverse=True)
    names = ["platform={}/month={}".format(*str(key).split("\x1f")) for key in unique.tolist()]
    return names, inverse.ravel()


def split_by(codes: npt.NDArray[np.intp], n: int) -> list[npt.NDArray[np.intp]]:
    """Row numbers per code ``0 … n-1``, each in row order (one stable sort)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n)]


@dataclass(frozen=True)
class Dataset:
    """An analysis dataset on disk (see the module doc)."""

    directory: Path
    posts: int
    terms: int
    tokenizer: str
    observed_until: float | None = None

    @classmethod
    def open(cls, directory: Path) -> Dataset:
        try:
            manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise MemoryholeError(
                f"{directory} is not an analysis dataset (no readable {MANIFEST}); write one "
                "with `memoryhole analyze … --engine duckdb --study STUDY` or "
                "`memoryhole bench analysis`"
            ) from None
        if manifest.get("format") != FORMAT:
            raise MemoryholeError(
                f"{directory}: analysis dataset format {manifest.get('format')!r}, this "
                f"memoryhole reads {FORMAT}: delete the folder and let it be written again"
            )
        until = manifest.get("observed_until")
        return cls(
            directory,
            int(manifest["posts"]),
            int(manifest["terms"]),
            str(manifest["tokenizer"]),
            None if until is None else float(until),
        )

    def glob(self, table: str) -> str:
        return str(self.directory / table / "**" / "*.parquet")

    @property
    def vocabulary_path(self) -> Path:
        return self.directory / "vocabulary.parquet"

    def stamp(self) -> str | None:
        manifest = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
        value = manifest.get("stamp")
        return None if value is None else str(value)


class DatasetWriter:
    """Writes an analysis dataset part by part: :meth:`add` posts (with ``platform``) and
    their terms, then :meth:`finish` with the vocabulary."""

    def __init__(self, directory: Path) -> None:
        if directory.exists() and any(directory.iterdir()):
            if not (directory / MANIFEST).exists():
                raise MemoryholeError(
                    f"{directory} holds files that are not an analysis dataset: give an empty "
                    "or new folder"
                )
            import shutil

            shutil.rmtree(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.posts = 0
        self.terms = 0
        self._parts = 0

    def add(
        self,
        posts: pa.Table,
        per_post: npt.NDArray[np.int64] | None = None,
        term_ids: npt.NDArray[np.uint32] | None = None,
    ) -> None:
        """``posts``: :data:`POST_FIELDS` plus ``platform``; ``per_post[i]`` term ids of post
        ``i`` follow in ``term_ids`` (both None: no terms)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if posts.num_rows == 0:
            return
        platform = np.asarray(posts.column("platform").to_pylist(), dtype=object)
        body = _nan_as_null(posts.select([name for name, _ in POST_FIELDS]).cast(post_schema()))
        names, of_post = partitions(platform, posts.column("published_at").to_numpy())
        pks = posts.column("post_pk").to_numpy()
        post_rows = split_by(of_post, len(names))
        term_rows: list[npt.NDArray[np.intp]] = []
        if term_ids is not None and per_post is not None:
            owner = np.repeat(np.arange(posts.num_rows), per_post)
            term_rows = split_by(of_post[owner], len(names))
        for position, folder in enumerate(names):
            target = self.directory / "posts" / folder / f"part-{self._parts:05d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            rows = post_rows[position]
            pq.write_table(body.take(pa.array(rows)), target, compression="zstd")
            self.posts += rows.size
            if term_ids is not None and term_rows:
                chosen = term_rows[position]
                terms = pa.table(
                    {
                        "post_pk": pa.array(pks[owner[chosen]]),
                        "term_id": pa.array(term_ids[chosen]),
                    },
                    schema=term_schema(),
                )
                target = self.directory / "terms" / folder / f"part-{self._parts:05d}.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(terms, target, compression="zstd")
                self.terms += terms.num_rows
        self._parts += 1

    def finish(
        self,
        vocabulary: list[str],
        tokenizer: str,
        stamp: str | None = None,
        observed_until: float | None = None,
    ) -> Dataset:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for table in ("posts", "terms"):
            (self.directory / table).mkdir(exist_ok=True)
        pq.write_table(
            pa.table(
                {
                    "term_id": pa.array(np.arange(len(vocabulary)), type=pa.uint32()),
                    "term": pa.array(vocabulary, type=pa.string()),
                }
            ),
            self.directory / "vocabulary.parquet",
        )
        manifest = {
            "format": FORMAT,
            "posts": self.posts,
            "terms": self.terms,
            "tokenizer": tokenizer,
            "stamp": stamp,
            "observed_until": observed_until,
        }
        (self.directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        return Dataset(self.directory, self.posts, self.terms, tokenizer, observed_until)


def _nan_as_null(table: pa.Table) -> pa.Table:
    """Missing times as Parquet nulls (not NaN), which SQL engines treat as missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for position, column in enumerate(table.columns):
        if pa.types.is_floating(column.type):
            nulls = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
            table = table.set_column(position, table.field(position), nulls)
    return table


def study_stamp(study: Study, tokenizer: TokenizerLike) -> str:
    """What the dataset of a study was written from: the store's latest observation, verdict
    and redaction and the tokenizer (a dataset whose stamp differs is written again)."""
    from memoryhole.analysis.cache import tokenizer_key
    from memoryhole.store.schema import observations, posts, redactions, verdicts

    with study.engine.connect() as connection:
        parts = [
            connection.execute(select(func.max(observations.c.id))).scalar(),
            connection.execute(select(func.count()).select_from(verdicts)).scalar(),
            connection.execute(select(func.max(posts.c.id))).scalar(),
            connection.execute(select(func.count()).select_from(redactions)).scalar(),
        ]
    return "/".join(str(p) for p in parts) + "/" + tokenizer_key(tokenizer)


def write_study_dataset(
    study: Study,
    directory: Path,
    tokenizer: TokenizerLike | None = None,
    *,
    window: int = _WINDOW,
    progress: Callable[[int, int], None] | None = None,
    gaps: GapIndex | None = None,
) -> Dataset:
    """The study's analysis dataset in ``directory`` (replaced if there), written a window of
    post row ids at a time (the posts' terms are cached first, as :meth:`StudyData.load`)
    into a sibling folder that then takes its place, so a reader never sees half of one."""
    import os
    import shutil

    from memoryhole.analysis.cache import (
        LazyTokenizer,
        load_vocabulary,
        refresh_terms,
        tokenizer_key,
    )
    from memoryhole.analysis.study_data import Filters, load_posts, observed_until
    from memoryhole.store.schema import posts

    tokenizer = tokenizer or LazyTokenizer()
    refresh_terms(study.engine, tokenizer, progress)
    key = tokenizer_key(tokenizer)
    gaps = gaps if gaps is not None else study.gap_index()  # the caller's, if it has them
    vocabulary = load_vocabulary(study.engine, key)
    known = {term: i for i, term in enumerate(vocabulary)}
    stamp = study_stamp(study, tokenizer)  # before reading: a change meanwhile makes it stale
    until = observed_until(study.engine)
    writing = directory.with_name(f"{directory.name}.writing-{os.getpid()}")
    writer = DatasetWriter(writing)
    with study.engine.connect() as connection:
        high = int(connection.execute(select(func.max(posts.c.id))).scalar() or 0)
    for low in range(0, high + 1, window):
        frame = load_posts(study.engine, Filters(post_pks=(low, low + window)), gaps=gaps)
        if not len(frame):
            continue
        per_post, ids = _window_terms(study, tokenizer, frame, known, vocabulary)
        writer.add(_arrow_posts(frame), per_post, ids)
    writer.finish(vocabulary, key, stamp, until)
    if directory.exists():
        if any(directory.iterdir()) and not (directory / MANIFEST).exists():
            shutil.rmtree(writing)
            raise MemoryholeError(
                f"{directory} holds files that are not an analysis dataset: give an empty "
                "or new folder"
            )
        old = directory.with_name(f"{directory.name}.old-{os.getpid()}")
        directory.rename(old)
        writing.rename(directory)
        shutil.rmtree(old)
    else:
        writing.rename(directory)
    return Dataset.open(directory)


def _arrow_posts(frame: pd.DataFrame) -> pa.Table:
    import pyarrow as pa

    columns = {name: frame[name].to_numpy() for name, _ in POST_FIELDS}
    for name in ("author", "verdict", "platform"):
        columns[name] = frame[name].astype(str).to_numpy()
    return pa.table(columns)


def _window_terms(
    study: Study,
    tokenizer: TokenizerLike,
    frame: pd.DataFrame,
    known: dict[str, int],
    vocabulary: list[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]]:
    """The window's posts' term ids (cached ids, else the stored terms mapped to ids, new
    terms appended to ``vocabulary``)."""
    from memoryhole.analysis.study_data import Filters, StudyData

    low, high = int(frame["post_pk"].iloc[0]), int(frame["post_pk"].iloc[-1]) + 1
    data = StudyData(study.engine, frame, Filters(post_pks=(low, high)), tokenizer, None)
    try:
        parts = list(_ids_in_window(data, low, high))
        if sum(int(p.size) for p, _ in parts) != len(frame):
            raise LookupError("not every post has cached ids")
    except LookupError:
        from memoryhole.analysis.cache import decode_terms

        lengths: list[int] = []
        ids: list[int] = []
        for chunk in data.iter_stored_terms():
            for stored in chunk:
                terms = sorted(decode_terms(stored))
                lengths.append(len(terms))
                for term in terms:
                    if term not in known:
                        known[term] = len(vocabulary)
                        vocabulary.append(term)
                    ids.append(known[term])
        return np.asarray(lengths, dtype=np.int64), np.asarray(ids, dtype=np.uint32)
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
    return (
        np.concatenate([p for p, _ in parts]),
        np.concatenate([i for _, i in parts]).astype(np.uint32),
    )


def _ids_in_window(
    data: StudyData, low: int, high: int
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]]]:
    """``StudyData.iter_term_ids`` restricted to the window's row ids (not read from the
    first post every window)."""
    from memoryhole.analysis.cache import tokenizer_key
    from memoryhole.store.bulk import driver_chunks
    from memoryhole.store.schema import post_term_ids

    wanted = data.posts["post_pk"].to_numpy(dtype=np.int64)
    query = (
        select(post_term_ids.c.post_pk, post_term_ids.c.term_ids)
        .where(
            post_term_ids.c.tokenizer == tokenizer_key(data.tokenizer),
            post_term_ids.c.post_pk >= low,
            post_term_ids.c.post_pk < high,
        )
        .order_by(post_term_ids.c.post_pk)
    )
    for rows in driver_chunks(data.engine, query, 200_000):
        pks = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        keep = np.flatnonzero(np.isin(pks, wanted))
        blobs = [bytes(rows[int(i)][1]) for i in keep]
        per_post = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)) // 4
        yield per_post, np.frombuffer(b"".join(blobs), dtype="<u4")
