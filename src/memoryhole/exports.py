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
    name: str
    type: str  # Frictionless types: string, integer, number, boolean
    description: str


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
                "verdict", "string", "live, censored, author_deleted, account_suspended, unknown"
            ),
            Field("first_seen_at", "number", "first seen, epoch seconds"),
            Field("last_seen_alive_at", "number", "last seen visible, epoch seconds"),
            Field(
                "first_seen_removed_at", "number", "first definitive removal answer, epoch seconds"
            ),
            Field("edited", "boolean", "the text changed while watched"),
            Field("signal", "string", "what the platform answered, in words"),
            Field("checks", "integer", "checks of this post"),
            Field("history", "string", "JSON list of [time, status] transitions"),
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
            Field("elapsed", "number", "seconds the request took"),
            Field("http_status", "integer", "HTTP status, empty when none came"),
            Field("code", "string", "the platform's error code, if any"),
            Field("detail", "string", "the adapter's reading of the answer"),
            Field("body_sha256", "string", "SHA-256 of the raw response body (hex)"),
            Field("body_size", "integer", "bytes of the raw response body"),
            Field("content_hash", "string", "hash of the visible text (edit detection)"),
            Field("leaf_hash", "string", "RFC 9162 leaf hash in the evidence log (hex)"),
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
        if row["verdict"] == "edited":
            row["verdict"] = "live"
        row["edited"] = bool(row["edited"])
    elif table == "observations":
        leaf = row["leaf_hash"]
        row["leaf_hash"] = bytes(leaf).hex() if leaf is not None else None
    return row


def iter_table(engine: Engine, table: str) -> Iterator[list[dict[str, Any]]]:
    """The rows of an export table in chunks (dicts keyed by the spec's field names)."""
    query = _queries()[table]
    names = SPECS[table].names
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(query)
        while True:
            chunk = result.mappings().fetchmany(_CHUNK)
            if not chunk:
                return
            yield [_clean(table, {name: row[name] for name in names}) for row in chunk]


def table_frame(engine: Engine, table: str) -> Any:
    """A whole export table as a pandas DataFrame."""
    import pandas as pd

    rows = [row for chunk in iter_table(engine, table) for row in chunk]
    return pd.DataFrame(rows, columns=SPECS[table].names)


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

_SQLITE_TYPES: Final = {"string": "TEXT", "integer": "INTEGER", "number": "REAL"}


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
    search for a Chinese word finds it), a ``removed_posts`` view, and a ``_memoryhole``
    table with the schema version. Replaces ``file``. Returns rows per table."""
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
                       v.signal, p.text
                FROM posts p JOIN verdicts v ON v.post_pk = p.post_pk
                WHERE v.verdict != 'live';
            """
        )
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise MemoryholeError(f"export failed its foreign-key check: {problems[:3]}")
        db.commit()
    finally:
        db.close()
    partial.replace(file)
    return counts


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
