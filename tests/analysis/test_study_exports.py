"""Open exports round-trip: row counts, schema version, foreign keys, full-text search, and no
raw author id anywhere; taken-down authors left out."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path

import pytest

from memoryhole.evidence.takedown import takedown
from memoryhole.exports import SPECS, export_csv, export_datasette, export_parquet
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import SCHEMA_VERSION
from memoryhole.study import Study
from tests.analysis.study_fixtures import PLANTED, PlantedStudy

pq = pytest.importorskip("pyarrow.parquet")


def _raw_ids(study: PlantedStudy) -> set[str]:
    return {p.post.author_id for p in study.planted}


def _expected_counts(study: Study) -> dict[str, int]:
    rows = list(iter_verdicts(study.engine))
    with study.engine.connect() as connection:
        observations = connection.exec_driver_sql("select count(*) from observations").scalar()
    return {
        "authors": len({r["author_id"] for r in rows}),
        "posts": len(rows),
        "verdicts": len(rows),
        "observations": int(observations or 0),
    }


def _assert_no_raw_ids(values: list[str], raw: set[str]) -> None:
    """No value holds a raw author id as a number of its own (ids are 10-digit numbers)."""
    text = "\n".join(values)
    leaks = [i for i in raw if i in text and re.search(rf"(?<!\d){i}(?!\d)", text)]
    assert leaks == []


@pytest.fixture(scope="module")
def exported(planted_study: PlantedStudy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    study = Study.open(planted_study.path)
    export_parquet(study, root / "parquet")
    export_csv(study, root / "csv")
    export_datasette(study, root / "study.db")
    return root


def test_parquet_round_trips_with_schema_version_and_datapackage(
    exported: Path, planted_study: PlantedStudy
) -> None:
    study = Study.open(planted_study.path)
    expected = _expected_counts(study)
    package = json.loads((exported / "parquet" / "datapackage.json").read_text())
    assert package["memoryhole"]["schema_version"] == SCHEMA_VERSION
    resources = {r["name"]: r for r in package["resources"]}
    assert set(resources) == set(SPECS)
    for name, count in expected.items():
        table = pq.read_table(exported / "parquet" / name)
        assert table.num_rows == count == resources[name]["rows"], name
        assert sorted(table.column_names) == sorted(SPECS[name].names)
        for path in resources[name]["path"]:
            assert path.startswith(f"{name}/platform=weibo/")
            meta = pq.read_schema(exported / "parquet" / path).metadata
            assert meta[b"memoryhole.schema_version"] == str(SCHEMA_VERSION).encode()
            assert (
                pq.ParquetFile(exported / "parquet" / path)
                .metadata.row_group(0)
                .column(0)
                .compression
                == "ZSTD"
            )
    posts = pq.read_table(exported / "parquet" / "posts").to_pandas()
    verdicts = pq.read_table(exported / "parquet" / "verdicts").to_pandas()
    assert set(verdicts["post_pk"]) == set(posts["post_pk"])
    assert set(verdicts["verdict"]) <= {"live", "censored", "unknown", "account_suspended"}
    assert posts["text"].str.contains(PLANTED[0]).sum() > 20


def test_csv_round_trips(exported: Path, planted_study: PlantedStudy) -> None:
    expected = _expected_counts(Study.open(planted_study.path))
    package = json.loads((exported / "csv" / "datapackage.json").read_text())
    for resource in package["resources"]:
        with open(exported / "csv" / resource["path"][0], encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == expected[resource["name"]] == resource["rows"]
        assert list(rows[0]) == [field["name"] for field in resource["schema"]["fields"]]


def test_datasette_file_has_keys_fts_and_the_removed_view(
    exported: Path, planted_study: PlantedStudy
) -> None:
    expected = _expected_counts(Study.open(planted_study.path))
    db = sqlite3.connect(exported / "study.db")
    for name, count in expected.items():
        assert db.execute(f"select count(*) from {name}").fetchone()[0] == count
    assert db.execute("pragma foreign_key_check").fetchall() == []
    keys = {(r[2], r[3]) for r in db.execute("pragma foreign_key_list(verdicts)")}
    assert keys == {("posts", "post_pk")}
    assert {r[2] for r in db.execute("pragma foreign_key_list(posts)")} == {"authors"}
    # Full-text search finds a Chinese word (jieba-segmented), as Datasette's search box would.
    word = PLANTED[0][:2]
    hits = db.execute(
        "select count(*) from posts join posts_fts on posts.post_pk = posts_fts.rowid "
        "where posts_fts match ?",
        (word,),
    ).fetchone()[0]
    assert (
        hits
        == db.execute(
            "select count(*) from posts where text like ?", (f"%{PLANTED[0]}%",)
        ).fetchone()[0]
    )
    assert hits > 20
    # Datasette finds the FTS table of "posts" by this pattern (datasette.utils.detect_fts).
    sql = db.execute("select sql from sqlite_master where name = 'posts_fts'").fetchone()[0]
    assert 'content="posts"' in sql
    removed = db.execute("select count(*) from removed_posts").fetchone()[0]
    assert (
        removed == db.execute("select count(*) from verdicts where verdict != 'live'").fetchone()[0]
    )
    version = db.execute("select value from _memoryhole where key = 'memoryhole.schema_version'")
    assert version.fetchone()[0] == str(SCHEMA_VERSION)


def test_no_export_holds_a_raw_author_id(exported: Path, planted_study: PlantedStudy) -> None:
    raw = _raw_ids(planted_study)
    texts = [p.read_text(encoding="utf-8") for p in (exported / "csv").glob("*")]
    _assert_no_raw_ids(texts, raw)
    import pyarrow as pa

    values: list[str] = []
    for name in SPECS:
        table = pq.read_table(exported / "parquet" / name)
        for column in table.columns:
            values += [v for v in column.cast(pa.string()).to_pylist() if v]
    db = sqlite3.connect(exported / "study.db")
    for (name,) in db.execute("select name from sqlite_master where type = 'table'"):
        for row in db.execute(f"select * from [{name}]"):
            values.append("\t".join(map(str, row)))
    _assert_no_raw_ids(values, raw)
    assert all(
        a.startswith("a_") for a in db.execute("select author_id from authors").fetchall()[0]
    )


def test_taken_down_author_is_in_no_export(small_study: Path, tmp_path: Path) -> None:
    study = Study.open(small_study)
    result = takedown(study, "1000002", platform="weibo", reason="test")
    counts = export_datasette(study, tmp_path / "s.db")
    export_parquet(study, tmp_path / "pq")
    assert counts["posts"] == 60 - result.posts
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute(
        "select count(*) from posts where author_id = ?", (result.pseudonym,)
    ).fetchone() == (0,)
    post_pks = {r[0] for r in db.execute("select post_pk from posts")}
    checked = {
        r[0] for r in db.execute("select post_pk from observations where post_pk is not null")
    }
    assert checked <= post_pks
    authors = pq.read_table(tmp_path / "pq" / "authors").to_pandas()
    assert result.pseudonym not in set(authors["author_id"])
    assert len(authors) == 3


def test_export_refuses_a_folder_with_other_files(small_study: Path, tmp_path: Path) -> None:
    from memoryhole.errors import MemoryholeError

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.docx").write_text("mine")
    with pytest.raises(MemoryholeError, match="not empty"):
        export_csv(Study.open(small_study), tmp_path / "out")
    assert (tmp_path / "out" / "thesis.docx").exists()


def test_times_are_readable_beside_the_epochs_in_every_format(exported: Path) -> None:
    """Issue 24: ISO 8601 UTC columns beside the epoch ones (added after the old columns:
    those are a contract), and delays in minutes beside the seconds."""
    from datetime import UTC, datetime

    def iso(epoch: str | float) -> str:
        return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    with open(exported / "csv" / "verdicts.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    old = ["post_pk", "platform", "post_id", "author_id", "verdict", "first_seen_at"]
    assert header[: len(old)] == old  # the old columns keep their places
    removed = next(r for r in rows if r["first_seen_removed_at"])
    assert removed["first_seen_removed_at_iso"] == iso(removed["first_seen_removed_at"])
    assert removed["last_seen_alive_at_iso"] == iso(removed["last_seen_alive_at"])
    width = float(removed["first_seen_removed_at"]) - float(removed["last_seen_alive_at"])
    assert float(removed["removal_interval_minutes"]) == round(width / 60, 1)
    live = next(r for r in rows if r["verdict"] == "live")
    assert live["first_seen_removed_at_iso"] == "" == live["seen_removed_after_minutes"]
    with open(exported / "csv" / "observations.csv", encoding="utf-8", newline="") as f:
        first = next(csv.DictReader(f))
    assert first["sent_at_iso"] == iso(first["sent_at"])
    package = json.loads((exported / "csv" / "datapackage.json").read_text())
    fields = {
        f["name"]: f
        for r in package["resources"]
        if r["name"] == "posts"
        for f in r["schema"]["fields"]
    }
    assert fields["published_at_iso"]["type"] == "datetime"
    assert "ISO 8601" in fields["published_at_iso"]["description"]

    verdicts = pq.read_table(exported / "parquet" / "verdicts")
    assert str(verdicts.schema.field("first_seen_removed_at_iso").type) == "timestamp[ms, tz=UTC]"
    frame = verdicts.to_pandas()
    done = frame[frame["first_seen_removed_at"].notna()].iloc[0]
    assert done["first_seen_removed_at_iso"].strftime("%Y-%m-%dT%H:%M:%SZ") == iso(
        done["first_seen_removed_at"]
    )

    db = sqlite3.connect(exported / "study.db")
    db.row_factory = sqlite3.Row
    view = db.execute("select * from removed_posts limit 1").fetchone()
    assert view["first_seen_removed_at_iso"] == iso(view["first_seen_removed_at"])
    assert view["seen_removed_after_minutes"] == round(view["seen_removed_after_seconds"] / 60, 1)


def test_datasette_metadata_describes_every_column_and_its_canned_queries_run(
    exported: Path,
) -> None:
    metadata = json.loads((exported / "study.metadata.json").read_text())
    database = metadata["databases"]["study"]  # Datasette names a database by its file's stem
    db = sqlite3.connect(exported / "study.db")
    for name, spec in SPECS.items():
        table = database["tables"][name]
        assert table["description"] == spec.description
        columns = [row[1] for row in db.execute(f"pragma table_info([{name}])")]
        assert set(columns) <= set(table["columns"]), name
    units = database["tables"]["removed_posts"]["units"]
    assert units == {
        "seen_removed_after_seconds": "s",
        "seen_removed_after_minutes": "min",
        "removal_interval_minutes": "min",
    }
    view_columns = [row[1] for row in db.execute("pragma table_info(removed_posts)")]
    assert view_columns == list(database["tables"]["removed_posts"]["columns"])
    queries = database["queries"]
    assert set(queries) == {"removals_by_term", "removals_by_day", "removals_by_account"}
    by_day = db.execute(queries["removals_by_day"]["sql"]).fetchall()
    removals = db.execute("select count(*) from verdicts where verdict != 'live'").fetchone()[0]
    assert sum(row[-1] for row in by_day) == removals
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", row[0]) for row in by_day)
    by_account = db.execute(queries["removals_by_account"]["sql"]).fetchall()
    assert sum(row[3] for row in by_account) == removals
    by_term = db.execute(queries["removals_by_term"]["sql"], {"min_posts": "20"}).fetchall()
    word = PLANTED[0][:2]
    row = next(r for r in by_term if r[0] == word)
    hits = db.execute(
        "select count(*) from posts_fts where posts_fts match ?", (f"words:{word}",)
    ).fetchone()[0]
    assert row[1] == hits and row[3] > row[1] / 2  # posts with it, most censored
    assert all(r[1] >= 20 for r in by_term)
