"""Weiboscope CSV imports: status mapping, timing, encodings, malformed rows, idempotency."""

from __future__ import annotations

import codecs
import csv
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from memoryhole.evidence.verify import verify_study
from memoryhole.imports.records import ImportFileError
from memoryhole.imports.weiboscope import CENSORED_DETAIL, DELETED_DETAIL
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import imports, observations, posts
from memoryhole.study import Study
from tests.imports.conftest import data, run, verdicts_by_post

CHINA = timezone(timedelta(hours=8))


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA).timestamp()


def test_deletion_columns_map_to_documented_statuses_and_intervals(study: Study) -> None:
    summary = run(study, "weiboscope", data("import_weiboscope.csv"))
    assert (summary.counts.rows, summary.counts.new_posts, summary.counts.duplicates) == (16, 15, 1)
    assert summary.statuses == {"live": 11, "censored": 2, "unknown": 2}
    rows = verdicts_by_post(study)
    # permission_denied, last seen an hour after publication: censored, undated removal
    censored = rows["mnzrsoGWC1"]
    assert censored["verdict"] == "censored" and censored["signal"] == CENSORED_DETAIL
    assert censored["last_seen_alive_at"] == at("2012-01-03 03:02:27")
    assert censored["first_seen_removed_at"] is None
    assert censored["first_seen_at"] == censored["published_at"] == at("2012-01-03 01:09:54")
    # missing without "permission denied": the dataset cannot tell author from platform
    unknown = rows["m2rVkbmLD1"]
    assert unknown["verdict"] == "unknown" and unknown["signal"] == DELETED_DETAIL
    assert unknown["last_seen_alive_at"] == at("2012-01-03 04:00:00")
    # permission denied with no deleted_last_seen: alive only at publication
    never_seen_after = rows["mNfG6XsbC2"]
    assert never_seen_after["verdict"] == "censored"
    assert never_seen_after["last_seen_alive_at"] == at("2012-01-03 00:54:07")
    assert rows["mCVHzsScD2"]["verdict"] == "unknown"
    assert rows["mCClUNCqwe"]["verdict"] == "live"
    assert rows["mCClUNCqwe"]["first_seen_removed_at"] is None
    assert all(row["checks"] == 0 or row["verdict"] != "live" for row in rows.values())
    assert verify_study(study).failures == []


def test_imported_posts_are_marked_and_their_evidence_is_the_raw_row(study: Study) -> None:
    summary = run(study, "weiboscope", data("import_weiboscope.csv"))
    with study.engine.connect() as conn:
        record = conn.execute(select(imports)).mappings().one()
        post = conn.execute(select(posts).where(posts.c.post_id == "mdO3bmDoQ1")).mappings().one()
        sighting = (
            conn.execute(select(observations).where(observations.c.id == post["discovered_by"]))
            .mappings()
            .one()
        )
    assert record["kind"] == "weiboscope" and record["finished_at"] is not None
    assert record["timing"].startswith("seconds") and "undated" in record["timing"]
    assert record["rows"] == 16 and record["source"] == "import_weiboscope.csv"
    assert post["imported_from"] == summary.import_id == record["id"]
    assert post["text"] == 'he said "转发", then\n换行了'
    assert (sighting["kind"], sighting["post_pk"], sighting["method"]) == ("import", None, "IMPORT")
    assert sighting["url"] == "weiboscope:import_weiboscope.csv#line=16"
    raw = study.blobs.get(sighting["body_sha256"])
    lines = data("import_weiboscope.csv").read_bytes().split(b"\n")
    assert raw == lines[15] + b"\n" + lines[16] + b"\n"  # the record, over its two lines


def test_gb18030_and_bom_files_import_the_same_posts(tmp_path: Path) -> None:
    expected = None
    utf8 = data("import_weiboscope.csv").read_bytes()
    variants = {
        "gb18030.csv": data("import_weiboscope_gb18030.csv").read_bytes(),
        "bom.csv": codecs.BOM_UTF8 + utf8,
        "gb18030-bom.csv": b"\x84\x31\x95\x33" + utf8.decode().encode("gb18030"),
        "utf8.csv": utf8,
    }
    for name, content in variants.items():
        path = tmp_path / name
        path.write_bytes(content)
        study = Study.init(tmp_path / f"study-{name}")
        run(study, "weiboscope", path)
        with study.engine.connect() as conn:
            found = conn.execute(select(posts.c.post_id, posts.c.text)).all()
        # the GB18030 file has CRLF line ends, also the one inside a quoted field
        texts = sorted((post_id, text.replace("\r\n", "\n")) for post_id, text in found)
        got = (texts, [dict(r) for r in iter_verdicts(study.engine, raw_author_ids=True)])
        study.close()
        assert expected is None or got == expected, name
        expected = got
    assert expected is not None and ("mH44qG6iUm", "求一切順利!!!") in expected[0]


def test_utc_offset_moves_naive_times(study: Study, tmp_path: Path) -> None:
    run(study, "weiboscope", data("import_weiboscope.csv"), utc_offset="UTC")
    row = verdicts_by_post(study)["mCClUNCqwe"]
    assert row["published_at"] == datetime(2012, 1, 3, 2, 2, 27, tzinfo=UTC).timestamp()


def test_a_malformed_row_stops_the_import_naming_file_line_column_and_expectation(
    study: Study,
) -> None:
    path = data("import_weiboscope_malformed.csv")
    with pytest.raises(ImportFileError) as caught:
        run(study, "weiboscope", path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: column 9 (created_at): expected a date-time like")
    assert "'2012-13-45 25:00:00'" in message and "--skip-bad" in message
    with study.engine.connect() as conn:
        assert conn.execute(select(posts)).all() == []  # the batch was not written
        assert conn.execute(select(imports.c.finished_at)).scalar() is None


def test_skip_bad_sets_rows_aside_and_imports_the_rest(study: Study, tmp_path: Path) -> None:
    side = tmp_path / "rejected.csv"
    summary = run(
        study, "weiboscope", data("import_weiboscope_malformed.csv"), skip_bad=True,
        rejected_path=side,
    )  # fmt: skip
    assert (summary.counts.rows, summary.counts.rejected) == (2, 7)
    assert sorted(verdicts_by_post(study)) == ["m8E9C6TZvp", "mCClUNCqwe"]
    with open(side, encoding="utf-8", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert [int(r["line"]) for r in rejected] == [3, 4, 5, 6, 7, 9, 10]
    by_line = {int(r["line"]): r for r in rejected}
    assert by_line[3]["column"] == "column 9 (created_at)"
    assert by_line[4]["problem"] == "expected 11 fields, as in the header, found 9 fields"
    assert by_line[5]["column"] == "column 11 (permission_denied)"
    assert "not before created_at" in by_line[6]["problem"]
    assert by_line[7]["column"] == "column 1 (mid)"
    assert by_line[9]["column"] == "column 7 (text)" and "ff" in by_line[9]["problem"]
    assert by_line[9]["record"].endswith("bad \\xff byte,,2012-01-02 15:03:04,,")
    assert "CSV error" in by_line[10]["problem"]
    assert verify_study(study).failures == []


def test_the_default_side_file_sits_next_to_the_input(study: Study, tmp_path: Path) -> None:
    path = tmp_path / "week1.csv"
    path.write_bytes(data("import_weiboscope_malformed.csv").read_bytes())
    summary = run(study, "weiboscope", path, skip_bad=True)
    assert summary.rejected_path == tmp_path / "week1.csv.rejected.csv"
    assert summary.rejected_path.read_text(encoding="utf-8").startswith("line,column,problem")


def test_a_file_without_the_header_is_refused_even_with_skip_bad(
    study: Study, tmp_path: Path
) -> None:
    path = tmp_path / "headless.csv"
    path.write_bytes(b"".join(data("import_weiboscope.csv").read_bytes().splitlines(True)[1:]))
    with pytest.raises(ImportFileError, match=r"headless.csv:1: expected a Weiboscope header"):
        run(study, "weiboscope", path, skip_bad=True, rejected_path=tmp_path / "r.csv")


def test_an_empty_file_is_refused(study: Study, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportFileError, match=r"empty.csv:1: expected a Weiboscope header naming"):
        run(study, "weiboscope", path)


def test_reimporting_never_duplicates_posts_or_evidence(study: Study, tmp_path: Path) -> None:
    first = run(study, "weiboscope", data("import_weiboscope.csv"))
    again = run(study, "weiboscope", data("import_weiboscope.csv"))
    assert again.already and again.import_id == first.import_id
    # the same rows in other bytes (GB18030, CRLF): every record adds nothing new
    transcoded = run(study, "weiboscope", data("import_weiboscope_gb18030.csv"))
    assert (transcoded.counts.new_posts, transcoded.counts.leaves) == (0, 0)
    assert transcoded.counts.stale == 16
    # a longer file: only the new row is new
    longer = tmp_path / "longer.csv"
    extra = "mZZZ000001,,uNEW000001,,新浪微博,0,新的一条,,2012-01-04 10:00:00,,\n"
    longer.write_bytes(data("import_weiboscope.csv").read_bytes() + extra.encode())
    grown = run(study, "weiboscope", longer)
    assert (grown.counts.new_posts, grown.counts.duplicates) == (1, 16)
    with study.engine.connect() as conn:
        assert len(conn.execute(select(posts.c.id)).all()) == 16
    assert verify_study(study).failures == []


def test_an_interrupted_import_resumes_without_duplicates(study: Study, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    lines = data("import_weiboscope.csv").read_bytes().splitlines(True)
    path.write_bytes(b"".join(lines[:8]) + b"not,a,row\n" + b"".join(lines[8:]))
    with pytest.raises(ImportFileError, match=":9: expected 11 fields"):
        run(study, "weiboscope", path, batch_size=3)  # 6 rows committed in 2 batches
    assert len(verdicts_by_post(study)) == 6
    resumed = run(study, "weiboscope", path, skip_bad=True, rejected_path=tmp_path / "r.csv")
    assert resumed.resumed and resumed.counts.new_posts == 9 and resumed.counts.duplicates == 7
    assert len(verdicts_by_post(study)) == 15
    with study.engine.connect() as conn:
        assert len(conn.execute(select(imports)).all()) == 1
    assert verify_study(study).failures == []


def test_exports_carry_pseudonyms_never_the_dataset_author_ids(study: Study) -> None:
    run(study, "weiboscope", data("import_weiboscope.csv"))
    rows = list(iter_verdicts(study.engine))
    raw = {row["author_id"] for row in iter_verdicts(study.engine, raw_author_ids=True)}
    assert "uK3RXUJ0V" in raw
    assert {row["author_id"] for row in rows} == {study.pseudonym("weibo", uid) for uid in raw}
    assert not any(uid in json.dumps(rows) for uid in raw)
