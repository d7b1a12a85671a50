"""Open-data exports of a study: Parquet, CSV (each with a Frictionless ``datapackage.json``)
and a Datasette-ready SQLite file. docs/formats.md describes them.

Four tables, the same in every format (:data:`TABLES`: columns, types, descriptions):
``authors`` (pseudonyms only), ``posts`` (with text), ``verdicts`` and ``observations``
(every check and listing, without URLs, headers or transport error messages, which can carry
platform ids). ``post_pk`` is the study's internal row id of a post, a join key and nothing
more. Never exported: raw author ids, the targets list, anything of an author taken down
(``memoryhole takedown``): their posts, verdicts and checks are left out.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, Select, func, literal, select

from memoryhole.errors import MemoryholeError
from memoryhole.store.queries import withheld_region
from memoryhole.store.schema import (
    SCHEMA_VERSION,
    authors,
    observations,
    posts,
    redactions,
    targets,
    verdicts,
)
from memoryhole.study import Study

#: Version of the export layout (bump when a table or column changes meaning).
EXPORT_FORMAT: Final = 1
_CHUNK = 50_000


@dataclass(frozen=True)
class Field:
    """A column. ``type``: Frictionless (string, integer, number, boolean, datetime).
    ``source``: a column computed from another: a ``datetime`` one is that epoch column in
    ISO 8601 UTC to the second (rounded down); :data:`MINUTES` ones are durations."""

    name: str
    type: str
    description: str
    source: str = ""
    unit: str = ""  # for Datasette (a Pint unit): s, min, byte


def _iso(name: str, what: str) -> Field:
    return Field(
        f"{name}_iso",
        "datetime",
        f"{what}, ISO 8601 in UTC to the second (`{name}` rounded down), e.g. "
        "2024-06-04T13:05:09Z; empty when `" + name + "` is",
        source=name,
    )


#: Duration columns in minutes: name → (end column, start column).
MINUTES: Final = {
    "seen_removed_after_minutes": ("first_seen_removed_at", "published_at"),
    "removal_interval_minutes": ("first_seen_removed_at", "last_seen_alive_at"),
}


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (field, table, field)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


TABLES: Final = (
    TableSpec(
        "authors",
        "Authors of the exported posts, by pseudonym (HMAC-SHA256 with the study's secret).",
        (
            Field("author_id", "string", "pseudonym: a_ + 20 hex digits, stable in the study"),
            Field("platform", "string", "platform name"),
            Field("posts", "integer", "exported posts by this author"),
        ),
        ("author_id",),
    ),
    TableSpec(
        "posts",
        "Posts as first seen: id, pseudonymous author, times, text.",
        (
            Field("post_pk", "integer", "the study's row id of the post (a join key)"),
            Field("platform", "string", "platform name"),
            Field("post_id", "string", "the platform's id of the post"),
            Field("author_id", "string", "pseudonym of the author (authors.author_id)"),
            Field("published_at", "number", "publication time, epoch seconds (platform clock)"),
            Field(
                "published_until",
                "number",
                "set when only the day or hour was given (Weibo's 06-14): published in "
                "[published_at, published_until]; empty: published_at is exact",
            ),
            Field("first_seen_at", "number", "when memoryhole first listed it, epoch seconds"),
            Field("text", "string", "the text as first seen (a long post's whole text)"),
            _iso("published_at", "publication time"),
            _iso("published_until", "published by then, when only the day or hour was given"),
            _iso("first_seen_at", "when memoryhole first listed it"),
        ),
        ("post_pk",),
        (("author_id", "authors", "author_id"),),
    ),
    TableSpec(
        "verdicts",
        "One verdict per post (the `export verdicts` contract plus detail).",
        (
            Field("post_pk", "integer", "posts.post_pk"),
            Field("platform", "string", "platform name"),
            Field("post_id", "string", "the platform's id of the post"),
            Field("author_id", "string", "pseudonym of the author"),
            Field(
                "verdict",
                "string",
                "live, censored, author_deleted, account_suspended, unknown, or withheld "
                "(served elsewhere, not to this vantage point: never a removal)",
            ),
            Field("first_seen_at", "number", "first seen, epoch seconds"),
            Field("last_seen_alive_at", "number", "last seen visible, epoch seconds"),
            Field(
                "first_seen_removed_at",
                "number",
                "first definitive removal answer (withheld: first withheld answer), epoch seconds",
            ),
            Field("edited", "boolean", "the text changed while watched"),
            Field("signal", "string", "what the platform answered, in words"),
            Field("checks", "integer", "checks of this post"),
            Field("history", "string", "JSON list of [time, status] transitions"),
            _iso("first_seen_at", "first seen"),
            _iso("last_seen_alive_at", "last seen visible"),
            _iso("first_seen_removed_at", "first definitive removal answer"),
            Field(
                "seen_removed_after_minutes",
                "number",
                "minutes from publication (posts.published_at) to the first removal answer, "
                "to 0.1 min: when the removal was seen, an upper bound of when it happened; "
                "empty for a post not removed or a removal not dated",
                source="first_seen_removed_at",
                unit="min",
            ),
            Field(
                "removal_interval_minutes",
                "number",
                "minutes between last_seen_alive_at and first_seen_removed_at, to 0.1 min: the "
                "removal happened within this window",
                source="first_seen_removed_at",
                unit="min",
            ),
            Field(
                "region",
                "string",
                "for withheld: where the post was not served, as stated (CN, or CN, FR); "
                "empty for every other verdict or when not stated (as `export verdicts`)",
            ),
        ),
        ("post_pk",),
        (("post_pk", "posts", "post_pk"),),
    ),
    TableSpec(
        "observations",
        "Every check of a post and every listing poll (URLs and headers left out).",
        (
            Field("observation_id", "integer", "index in the study's evidence log (1-based)"),
            Field("platform", "string", "platform name"),
            Field(
                "kind",
                "string",
                "check, discover (a listing poll), media (a media file fetched) or import",
            ),
            Field("post_pk", "integer", "posts.post_pk for a check; empty for a listing"),
            Field("seq", "integer", "n-th check of the post"),
            Field("status", "string", "live, edited, censored, …, or unreachable (transient)"),
            Field("sent_at", "number", "request sent, epoch seconds (platform clock)"),
            Field("observed_at", "number", "answer complete, epoch seconds (platform clock)"),
            Field("elapsed", "number", "seconds the request took", unit="s"),
            Field("http_status", "integer", "HTTP status, empty when none came"),
            Field("code", "string", "the platform's error code, if any"),
            Field("detail", "string", "the adapter's reading of the answer"),
            Field("body_sha256", "string", "SHA-256 of the raw response body (hex)"),
            Field("body_size", "integer", "bytes of the raw response body", unit="byte"),
            Field("content_hash", "string", "hash of the visible text (edit detection)"),
            Field("leaf_hash", "string", "RFC 9162 leaf hash in the evidence log (hex)"),
            _iso("sent_at", "request sent"),
            _iso("observed_at", "answer complete"),
        ),
        ("observation_id",),
        (("post_pk", "posts", "post_pk"),),
    ),
)
SPECS: Final = {spec.name: spec for spec in TABLES}


def _not_redacted() -> Any:
    return authors.c.pseudonym.not_in(select(redactions.c.author_pseudonym))


def _queries() -> dict[str, Select[Any]]:
    kept_posts = select(posts.c.id).join(authors, authors.c.id == posts.c.author_pk)
    kept_posts = kept_posts.where(_not_redacted())
    author_posts = (
        select(
            authors.c.pseudonym.label("author_id"),
            authors.c.platform,
            func.count(posts.c.id).label("posts"),
        )
        .join(posts, posts.c.author_pk == authors.c.id)
        .where(_not_redacted())
        .group_by(authors.c.id)
        .order_by(authors.c.platform, authors.c.pseudonym)
    )
    post_rows = (
        select(
            posts.c.id.label("post_pk"),
            posts.c.platform,
            posts.c.post_id,
            authors.c.pseudonym.label("author_id"),
            posts.c.published_at,
            posts.c.published_until,
            posts.c.first_seen_at,
            posts.c.text,
        )
        .join(authors, authors.c.id == posts.c.author_pk)
        .where(_not_redacted())
        .order_by(posts.c.id)
    )
    verdict_rows = (
        select(
            posts.c.id.label("post_pk"),
            posts.c.platform,
            posts.c.post_id,
            authors.c.pseudonym.label("author_id"),
            verdicts.c.status.label("verdict"),
            verdicts.c.first_seen_at,
            verdicts.c.last_seen_alive_at,
            verdicts.c.first_seen_removed_at,
            verdicts.c.edited,
            verdicts.c.signal,
            verdicts.c.checks,
            verdicts.c.history,
            posts.c.published_at,  # for seen_removed_after_minutes
            literal(None).label("region"),  # from the signal (``_clean``)
        )
        .join(posts, posts.c.id == verdicts.c.post_pk)
        .join(authors, authors.c.id == posts.c.author_pk)
        .where(_not_redacted())
        .order_by(posts.c.id)
    )
    observation_rows = (
        select(
            observations.c.id.label("observation_id"),
            func.coalesce(posts.c.platform, targets.c.platform, literal("")).label("platform"),
            observations.c.kind,
            observations.c.post_pk,
            observations.c.seq,
            observations.c.status,
            observations.c.sent_at,
            observations.c.observed_at,
            observations.c.elapsed,
            observations.c.http_status,
            observations.c.code,
            observations.c.detail,
            observations.c.body_sha256,
            observations.c.body_size,
            observations.c.content_hash,
            observations.c.leaf_hash,
        )
        .select_from(observations)
        .outerjoin(posts, posts.c.id == observations.c.post_pk)
        .outerjoin(targets, targets.c.id == observations.c.target_pk)
        .where(observations.c.post_pk.is_(None) | observations.c.post_pk.in_(kept_posts))
        .order_by(observations.c.id)
    )
    return {
        "authors": author_posts,
        "posts": post_rows,
        "verdicts": verdict_rows,
        "observations": observation_rows,
    }


def _clean(table: str, row: dict[str, Any]) -> dict[str, Any]:
    if table == "verdicts":
        row["region"] = withheld_region(str(row["verdict"]), row["signal"])
        if row["verdict"] == "edited":
            row["verdict"] = "live"
        row["edited"] = bool(row["edited"])
    elif table == "observations":
        leaf = row["leaf_hash"]
        row["leaf_hash"] = bytes(leaf).hex() if leaf is not None else None
    return row


#: Epoch seconds a calendar can show as ISO 8601 (years 1 to 9999), as ``times.iso_utc``.
_ISO_RANGE: Final = (-62135596800.0, 253402300800.0)


def iso_column(values: Sequence[Any]) -> list[str | None]:
    """Epoch seconds → ISO 8601 UTC to the second, rounded down (``2024-06-04T13:05:09Z``),
    vectorised; None for a missing time or one no calendar shows (``times.iso_utc``)."""
    import numpy as np

    seconds = np.array(
        [np.nan if v is None else float(v) for v in values], dtype=np.float64
    ).reshape(-1)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(seconds) & (seconds >= _ISO_RANGE[0]) & (seconds < _ISO_RANGE[1])
    out: list[str | None] = [None] * len(seconds)
    where = np.flatnonzero(ok)
    if where.size:
        whole = np.floor(seconds[where]).astype(np.int64).astype("datetime64[s]")
        for i, text in zip(where.tolist(), np.datetime_as_string(whole, unit="s"), strict=True):
            out[i] = f"{text}Z"
    return out


def _minutes(end: Any, start: Any) -> float | None:
    if end is None or start is None:
        return None
    value = (float(end) - float(start)) / 60.0
    return round(value, 1) if value == value and abs(value) != float("inf") else None


def iter_table(engine: Engine, table: str) -> Iterator[list[dict[str, Any]]]:
    """The rows of an export table in chunks (dicts keyed by the spec's field names, the
    computed columns, ISO times and minutes, filled in)."""
    query = _queries()[table]
    spec = SPECS[table]
    names = spec.names
    derived = [f for f in spec.fields if f.source]
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(query)
        while True:
            chunk = result.mappings().fetchmany(_CHUNK)
            if not chunk:
                return
            raw = [dict(row) for row in chunk]
            for f in derived:
                if f.type == "datetime":
                    for row, text in zip(raw, iso_column([r[f.source] for r in raw]), strict=True):
                        row[f.name] = text
                else:
                    end, start = MINUTES[f.name]
                    for row in raw:
                        row[f.name] = _minutes(row[end], row[start])
            yield [_clean(table, {name: row[name] for name in names}) for row in raw]


def table_frame(engine: Engine, table: str, *, datetimes: bool = True) -> Any:
    """A whole export table as a pandas DataFrame; its ``_iso`` columns as pandas datetimes
    in UTC (``datetime64[ns, UTC]``, to the second, as in Parquet) unless not ``datetimes``."""
    import pandas as pd

    rows = [row for chunk in iter_table(engine, table) for row in chunk]
    frame = pd.DataFrame(rows, columns=SPECS[table].names)
    if datetimes:
        for f in SPECS[table].fields:
            if f.type == "datetime":
                frame[f.name] = pd.to_datetime(frame[f.name], utc=True, format="ISO8601")
    return frame


# ----------------------------------------------------------------------------- datapackage


def _metadata(study: Study) -> dict[str, str]:
    return {
        "memoryhole.schema_version": str(SCHEMA_VERSION),
        "memoryhole.export_format": str(EXPORT_FORMAT),
        "memoryhole.log_origin": study.log_origin,
        "memoryhole.exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _datapackage(
    study: Study,
    resources: dict[str, list[str]],
    counts: dict[str, int],
    file_format: str,
) -> dict[str, Any]:
    meta = _metadata(study)
    out: list[dict[str, Any]] = []
    for spec in TABLES:
        resource: dict[str, Any] = {
            "name": spec.name,
            "description": spec.description,
            "path": resources[spec.name],
            "format": file_format,
            "profile": "tabular-data-resource",
            "rows": counts[spec.name],
            "schema": {
                "fields": [
                    {"name": f.name, "type": f.type, "description": f.description}
                    for f in spec.fields
                ],
                "primaryKey": list(spec.primary_key),
                "foreignKeys": [
                    {"fields": field, "reference": {"resource": table, "fields": ref}}
                    for field, table, ref in spec.foreign_keys
                ],
            },
        }
        if file_format == "csv":
            resource["mediatype"] = "text/csv"
            resource["encoding"] = "utf-8"
            resource["dialect"] = {"delimiter": ",", "header": True, "doubleQuote": True}
        else:
            resource["mediatype"] = "application/vnd.apache.parquet"
        out.append(resource)
    return {
        "profile": "tabular-data-package",
        "name": "memoryhole-study",
        "title": f"memoryhole study {meta['memoryhole.log_origin']}",
        "created": meta["memoryhole.exported_at"],
        "memoryhole": {
            "schema_version": SCHEMA_VERSION,
            "export_format": EXPORT_FORMAT,
            "log_origin": meta["memoryhole.log_origin"],
            "log_public_key": study.verifier_key(),
            "authors": "pseudonymised (HMAC-SHA256 with the study's secret); taken-down "
            "authors left out",
        },
        "resources": out,
    }


def _prepare_dir(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / "datapackage.json").exists():
            raise MemoryholeError(
                f"{directory} is not empty and holds no earlier export; choose an empty folder"
            )
        import shutil

        for child in directory.iterdir():  # an earlier export: replace it
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    directory.mkdir(parents=True, exist_ok=True)


# ----------------------------------------------------------------------------- Parquet


def _arrow_schema(spec: TableSpec, metadata: dict[str, str], *, partitioned: bool) -> Any:
    """The table's Arrow schema; in a partition file the partition column (``platform``) is
    left out, as Hive-style readers take it from the folder name."""
    import pyarrow as pa

    types = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64()}
    types["boolean"] = pa.bool_()
    types["datetime"] = pa.timestamp("ms", tz="UTC")  # Parquet has no second unit
    fields = [
        pa.field(f.name, types[f.type], metadata={"description": f.description})
        for f in spec.fields
        if not (partitioned and f.name == "platform")
    ]
    return pa.schema(fields, metadata={**metadata, "memoryhole.table": spec.name})


def export_parquet(study: Study, directory: Path) -> dict[str, int]:
    """Write ``DIR/<table>/platform=<name>/part-0.parquet`` (zstd; Hive-style partitions: the
    ``platform`` column lives in the folder name, so DuckDB, pandas, Spark and Arrow read a
    table folder as one dataset with that column) and ``DIR/datapackage.json``. Every file's
    metadata carries ``memoryhole.schema_version``. Returns rows per table."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MemoryholeError(
            "Parquet export needs pyarrow: pip install 'memoryhole[parquet]'"
        ) from None
    _prepare_dir(directory)
    metadata = _metadata(study)
    counts: dict[str, int] = {}
    resources: dict[str, list[str]] = {}
    for spec in TABLES:
        schema = _arrow_schema(spec, metadata, partitioned=True)
        stamps = [f for f in spec.fields if f.type == "datetime"]
        writers: dict[str, Any] = {}
        paths: list[str] = []
        count = 0
        try:
            for chunk in iter_table(study.engine, spec.name):
                by_platform: dict[str, list[dict[str, Any]]] = {}
                for row in chunk:
                    by_platform.setdefault(str(row["platform"]), []).append(row)
                for platform, rows in by_platform.items():
                    if platform not in writers:
                        relative = f"{spec.name}/platform={platform}/part-0.parquet"
                        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
                        writers[platform] = pq.ParquetWriter(
                            directory / relative, schema, compression="zstd"
                        )
                        paths.append(relative)
                    for row in rows:
                        del row["platform"]
                        for f in stamps:  # the same second as the ISO text
                            row[f.name] = _whole_second(row[f.name])
                    writers[platform].write_table(pa.Table.from_pylist(rows, schema=schema))
                count += len(chunk)
        finally:
            for writer in writers.values():
                writer.close()
        if not paths:  # an empty table still gets a file, so its schema travels
            relative = f"{spec.name}/part-0.parquet"
            (directory / relative).parent.mkdir(parents=True, exist_ok=True)
            empty = _arrow_schema(spec, metadata, partitioned=False).empty_table()
            pq.write_table(empty, directory / relative, compression="zstd")
            paths.append(relative)
        counts[spec.name] = count
        resources[spec.name] = sorted(paths)
    package = _datapackage(study, resources, counts, "parquet")
    (directory / "datapackage.json").write_text(
        json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return counts


def _whole_second(iso: str | None) -> Any:
    """An ``_iso`` cell for Arrow's ``timestamp[ms, UTC]``: a UTC datetime of the second the
    ISO text shows (None where it is empty)."""
    if iso is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)


# ----------------------------------------------------------------------------- CSV


def export_csv(study: Study, directory: Path) -> dict[str, int]:
    """Write ``DIR/<table>.csv`` (UTF-8, header row, empty cell = null, booleans
    ``true``/``false``, a text cell a spreadsheet would run as a formula behind a ``'``:
    :mod:`memoryhole.spreadsheet`) and ``DIR/datapackage.json``. Returns rows per table."""
    from memoryhole.spreadsheet import SafeDictWriter

    _prepare_dir(directory)
    counts: dict[str, int] = {}
    resources: dict[str, list[str]] = {}
    for spec in TABLES:
        relative = f"{spec.name}.csv"
        count = 0
        with open(directory / relative, "w", encoding="utf-8", newline="") as handle:
            writer = SafeDictWriter(handle, fieldnames=spec.names)
            writer.writeheader()
            for chunk in iter_table(study.engine, spec.name):
                for row in chunk:
                    writer.writerow(
                        {
                            k: ("true" if v else "false") if isinstance(v, bool) else v
                            for k, v in row.items()
                        }
                    )
                count += len(chunk)
        counts[spec.name] = count
        resources[spec.name] = [relative]
    package = _datapackage(study, resources, counts, "csv")
    (directory / "datapackage.json").write_text(
        json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return counts


# ----------------------------------------------------------------------------- Datasette

_SQLITE_TYPES: Final = {
    "string": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "datetime": "TEXT",
}


def _create_sql(spec: TableSpec, extra: Sequence[str] = ()) -> str:
    columns = []
    for f in spec.fields:
        sql_type = _SQLITE_TYPES.get(f.type, "INTEGER")  # boolean: 0/1
        key = " PRIMARY KEY" if spec.primary_key == (f.name,) else ""
        columns.append(f"[{f.name}] {sql_type}{key}")
    columns.extend(extra)
    for field, table, ref in spec.foreign_keys:
        columns.append(f"FOREIGN KEY ([{field}]) REFERENCES [{table}]([{ref}])")
    return f"CREATE TABLE [{spec.name}] (\n  " + ",\n  ".join(columns) + "\n)"


def export_datasette(study: Study, file: Path) -> dict[str, int]:
    """Write a SQLite file for ``datasette FILE``: the four tables with primary and foreign
    keys, full-text search on posts (``posts_fts``: the text and its jieba words, so a
    search for a Chinese word finds it; ``posts_fts_vocab``: its words), a ``removed_posts``
    view, and a ``_memoryhole`` table with the schema version; and beside it Datasette's
    metadata (:func:`datasette_metadata_path`: descriptions, units, canned queries). Replaces
    ``file``. Returns rows per table."""
    from memoryhole.analysis.cache import LazyTokenizer, refresh_terms, tokenizer_key
    from memoryhole.store.schema import post_terms

    tokenizer = LazyTokenizer()
    refresh_terms(study.engine, tokenizer)
    key = tokenizer_key(tokenizer)
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    db = sqlite3.connect(partial)
    try:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("CREATE TABLE _memoryhole (key TEXT PRIMARY KEY, value TEXT)")
        db.executemany("INSERT INTO _memoryhole VALUES (?, ?)", sorted(_metadata(study).items()))
        for spec in TABLES:
            extra = ["[words] TEXT"] if spec.name == "posts" else []
            db.execute(_create_sql(spec, extra))
            names = spec.names + (["words"] if extra else [])
            insert = (
                f"INSERT INTO [{spec.name}] ({', '.join(f'[{n}]' for n in names)}) "
                f"VALUES ({', '.join('?' for _ in names)})"
            )
            count = 0
            for chunk in iter_table(study.engine, spec.name):
                if extra:
                    words = _words(study.engine, post_terms, key, [r["post_pk"] for r in chunk])
                    for row in chunk:
                        row["words"] = words.get(row["post_pk"], "")
                db.executemany(insert, [[row[n] for n in names] for row in chunk])
                count += len(chunk)
            counts[spec.name] = count
        db.executescript(
            """
            CREATE INDEX ix_posts_author ON posts(author_id);
            CREATE INDEX ix_posts_published ON posts(published_at);
            CREATE INDEX ix_verdicts_verdict ON verdicts(verdict);
            CREATE INDEX ix_observations_post ON observations(post_pk);
            CREATE VIRTUAL TABLE posts_fts USING fts5(
                text, words, content="posts", content_rowid="post_pk"
            );
            INSERT INTO posts_fts(posts_fts) VALUES ('rebuild');
            CREATE VIEW removed_posts AS
                SELECT p.post_pk, p.platform, p.post_id, p.author_id, p.published_at,
                       v.verdict, v.last_seen_alive_at, v.first_seen_removed_at,
                       v.first_seen_removed_at - p.published_at AS seen_removed_after_seconds,
                       v.signal, p.text,
                       p.published_at_iso, v.last_seen_alive_at_iso,
                       v.first_seen_removed_at_iso, v.seen_removed_after_minutes,
                       v.removal_interval_minutes
                FROM posts p JOIN verdicts v ON v.post_pk = p.post_pk
                WHERE v.verdict NOT IN ('live', 'withheld');
            CREATE VIRTUAL TABLE posts_fts_vocab USING fts5vocab(posts_fts, 'instance');
            """
        )
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise MemoryholeError(f"export failed its foreign-key check: {problems[:3]}")
        db.commit()
    finally:
        db.close()
    partial.replace(file)
    metadata = datasette_metadata(study, file.stem)
    datasette_metadata_path(file).write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return counts


def datasette_metadata_path(file: Path) -> Path:
    """Where ``export datasette FILE`` writes its metadata: ``FILE``'s stem +
    ``.metadata.json`` beside it (``study.db`` → ``study.metadata.json``)."""
    return file.with_name(f"{file.stem}.metadata.json")


#: The ``removed_posts`` view's columns: (name, description, unit).
REMOVED_POSTS: Final = (
    ("post_pk", "posts.post_pk", ""),
    ("platform", "platform name", ""),
    ("post_id", "the platform's id of the post", ""),
    ("author_id", "pseudonym of the author", ""),
    ("published_at", "publication time, epoch seconds (platform clock)", ""),
    ("verdict", "censored, author_deleted, account_suspended or unknown", ""),
    ("last_seen_alive_at", "last seen visible, epoch seconds", ""),
    ("first_seen_removed_at", "first definitive removal answer, epoch seconds", ""),
    (
        "seen_removed_after_seconds",
        "seconds from publication to the first removal answer (seen_removed_after_minutes: "
        "the same in minutes)",
        "s",
    ),
    ("signal", "what the platform answered, in words", ""),
    ("text", "the text as first seen", ""),
    ("published_at_iso", "publication time, ISO 8601 UTC", ""),
    ("last_seen_alive_at_iso", "last seen visible, ISO 8601 UTC", ""),
    ("first_seen_removed_at_iso", "first removal answer, ISO 8601 UTC", ""),
    (
        "seen_removed_after_minutes",
        "minutes from publication to the first removal answer (0.1 min)",
        "min",
    ),
    (
        "removal_interval_minutes",
        "minutes between last seen visible and first seen removed: the removal happened in "
        "this window",
        "min",
    ),
)

#: Datasette's canned queries (``/DB/NAME``): removals by term, by day, by account.
CANNED_QUERIES: Final = {
    "removals_by_term": {
        "title": "Removals by word",
        "description": "Per word (the jieba words of the posts' text, as full-text search "
        "sees them): posts containing it, of them removed (any kind) and censored, and the "
        "censored share. Plain rates with no test: `memoryhole analyze terms` gives intervals, "
        "p- and q-values. min_posts: leave out words in fewer posts (default 20).",
        "sql": (
            "select v.term as word, count(distinct v.doc) as posts,\n"
            "  count(distinct case when r.verdict not in ('live', 'withheld') then v.doc end)\n"
            "    as removed,\n"
            "  count(distinct case when r.verdict = 'censored' then v.doc end) as censored,\n"
            "  round(100.0 * count(distinct case when r.verdict = 'censored' then v.doc end)\n"
            "    / count(distinct v.doc), 1) as censored_percent\n"
            "from posts_fts_vocab v join verdicts r on r.post_pk = v.doc\n"
            "where v.col = 'words'\n"
            "group by v.term\n"
            "having count(distinct v.doc)\n"
            "  >= coalesce(cast(nullif(:min_posts, '') as integer), 20)\n"
            "order by censored_percent desc, posts desc\n"
            "limit 1000"
        ),
    },
    "removals_by_day": {
        "title": "Removals by day (UTC) they were first seen",
        "description": "Removals per day and kind, dated by the first answer that said the "
        "post was gone (first_seen_removed_at_iso): when the removal was seen, not when it "
        "happened (it happened after last_seen_alive_at). Undated removals (some imports) "
        "are left out.",
        "sql": (
            "select substr(first_seen_removed_at_iso, 1, 10) as day,\n"
            "  sum(verdict = 'censored') as censored,\n"
            "  sum(verdict = 'author_deleted') as author_deleted,\n"
            "  sum(verdict = 'account_suspended') as account_suspended,\n"
            "  sum(verdict = 'unknown') as unknown,\n"
            "  count(*) as removals\n"
            "from verdicts\n"
            "where verdict not in ('live', 'withheld') and first_seen_removed_at_iso is not null\n"
            "group by day order by day"
        ),
    },
    "removals_by_account": {
        "title": "Removals by account (pseudonym)",
        "description": "Per author (by pseudonym): posts, removals by kind and the share "
        "removed; most removals first. `memoryhole analyze accounts` adds intervals and tests.",
        "sql": (
            "select author_id, platform, count(*) as posts,\n"
            "  sum(verdict not in ('live', 'withheld')) as removed,\n"
            "  sum(verdict = 'censored') as censored,\n"
            "  sum(verdict = 'author_deleted') as author_deleted,\n"
            "  sum(verdict = 'account_suspended') as account_suspended,\n"
            "  sum(verdict = 'unknown') as unknown,\n"
            "  sum(verdict = 'withheld') as withheld,\n"
            "  round(100.0 * sum(verdict not in ('live', 'withheld')) / count(*), 1)\n"
            "    as removed_percent\n"
            "from verdicts\n"
            "group by author_id, platform\n"
            "order by removed desc, posts desc"
        ),
    },
}


def datasette_metadata(study: Study, database: str) -> dict[str, Any]:
    """Datasette's ``metadata.json`` for the export named ``database`` (the file's stem):
    table and column descriptions, units, and :data:`CANNED_QUERIES`. Run
    ``datasette FILE --metadata FILE.metadata.json``."""
    meta = _metadata(study)
    tables: dict[str, Any] = {}
    for spec in TABLES:
        entry: dict[str, Any] = {
            "description": spec.description,
            "columns": {f.name: f.description for f in spec.fields},
        }
        units = {f.name: f.unit for f in spec.fields if f.unit}
        if units:
            entry["units"] = units
        if spec.name == "posts":
            entry["columns"]["words"] = "the post's jieba words, space-separated (search)"
        tables[spec.name] = entry
    tables["removed_posts"] = {
        "description": "Posts whose verdict is a removal, with the removal's interval and "
        "how long after publication it was seen.",
        "columns": {name: text for name, text, _ in REMOVED_POSTS},
        "units": {name: unit for name, _, unit in REMOVED_POSTS if unit},
    }
    tables["posts_fts_vocab"] = {
        "description": "Every word of every post (full-text search's vocabulary): term, "
        "doc (= posts.post_pk), col, offset. The canned query removals_by_term reads it.",
    }
    tables["_memoryhole"] = {"description": "The export's metadata (schema version, log)."}
    return {
        "title": f"memoryhole study {meta['memoryhole.log_origin']}",
        "description": "Posts, verdicts and checks of a memoryhole study (docs/formats.md). "
        "Times: epoch seconds on the platform's clock, and beside each the same time in "
        "ISO 8601 UTC (_iso columns). Authors by pseudonym only.",
        "databases": {
            database: {
                "description": f"exported {meta['memoryhole.exported_at']}, schema version "
                f"{meta['memoryhole.schema_version']}",
                "tables": tables,
                "queries": {name: dict(query) for name, query in CANNED_QUERIES.items()},
            }
        },
    }


def _words(engine: Engine, post_terms: Any, key: str, pks: list[int]) -> dict[int, str]:
    """Each post's word-view terms, space-separated (for full-text search)."""
    from memoryhole.analysis.cache import decode_terms

    out: dict[int, str] = {}
    with engine.connect() as connection:
        query = select(post_terms.c.post_pk, post_terms.c.terms).where(
            post_terms.c.tokenizer == key,
            post_terms.c.post_pk.between(min(pks, default=0), max(pks, default=-1)),
        )
        wanted = set(pks)
        for pk, stored in connection.execute(query):
            if pk not in wanted:
                continue
            words = sorted(t[2:] for t in decode_terms(stored) if t.startswith("w:"))
            out[int(pk)] = " ".join(words)
    return out
