"""Encoding detection never turns valid text into mojibake (issue 21, item 7).

Before: a GB18030 JSONL file imported nothing with rc 0 (the adapter read its GB18030 bytes as
UTF-8), and a small UTF-8 CSV with three invalid bytes was read as GB18030, its Chinese text
stored as "姝ｅ父鏂囨湰".
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.imports.records import ImportFileError
from memoryhole.imports.source import inspect
from memoryhole.store.schema import observations, posts
from memoryhole.study import Study
from tests.imports.conftest import data, run, verdicts_by_post

HEADER = (
    "mid,retweeted_status_mid,uid,retweeted_uid,source,image,text,geo,created_at,"
    "deleted_last_seen,permission_denied\n"
)
MOJIBAKE = "正常文本".encode().decode("gb18030")  # what a wrong guess stored


def texts(study: Study) -> dict[str, str]:
    with study.engine.connect() as conn:
        return dict(conn.execute(select(posts.c.post_id, posts.c.text)).all())


def test_a_gb18030_jsonl_file_imports_like_its_utf8_original(study: Study, tmp_path: Path) -> None:
    original = data("import_weibo_responses.jsonl")
    converted = tmp_path / "responses.gb18030.jsonl"
    converted.write_bytes(original.read_text(encoding="utf-8").encode("gb18030"))
    summary = run(study, "jsonl", converted)
    assert summary.source.encoding == "gb18030"
    assert summary.counts.new_posts == 3
    reference = Study.init(tmp_path / "reference")
    try:
        run(reference, "jsonl", original)
        expected = verdicts_by_post(reference)
        expected_texts = texts(reference)
    finally:
        reference.close()
    got = verdicts_by_post(study)
    for post_id, row in expected.items():
        assert got[post_id]["verdict"] == row["verdict"]
        assert got[post_id]["last_seen_alive_at"] == row["last_seen_alive_at"]
    assert texts(study) == expected_texts
    with study.engine.connect() as conn:  # the evidence is the file's own bytes
        first = conn.execute(select(observations.c.body_sha256).limit(1)).scalar_one()
    assert study.blobs.get(first) in converted.read_bytes().splitlines()


def test_a_utf8_csv_with_three_invalid_bytes_stays_utf8_and_names_them(
    study: Study, tmp_path: Path
) -> None:
    source = data("import_weiboscope_utf8_bad_bytes.csv")
    assert inspect(source).encoding == "utf-8"
    with pytest.raises(ImportFileError) as caught:
        run(study, "weiboscope", source)
    message = str(caught.value)
    assert f"{source}:3: column 7 (text)" in message and "'ff fe fd'" in message
    run(study, "weiboscope", source, skip_bad=True, rejected_path=tmp_path / "r.csv")
    assert texts(study) == {"mGood00001": "正常文本"}
    assert MOJIBAKE not in (tmp_path / "r.csv").read_text(encoding="utf-8")


def test_utf8_and_gb18030_lines_in_one_file_are_refused_naming_both(study: Study) -> None:
    source = data("import_weiboscope_mixed_encodings.csv")
    with pytest.raises(ImportFileError) as caught:
        run(study, "weiboscope", source)
    message = " ".join(str(caught.value).split())
    assert "mixes encodings: line 2 is UTF-8" in message
    assert "line 3 is not: its bytes d0 c2 c0 cb ce a2 b2 a9 … are GB18030" in message
    assert "--encoding utf-8 or --encoding gb18030" in message
    assert texts(study) == {}


@pytest.mark.parametrize(
    ("encoding", "kept", "rejected_line"),
    [("utf-8", "mUtf8Row01", 3), ("gb18030", "mGbRow0001", 2)],
)
def test_encoding_says_which_and_the_other_lines_are_malformed(
    study: Study, tmp_path: Path, encoding: str, kept: str, rejected_line: int
) -> None:
    source = data("import_weiboscope_mixed_encodings.csv")
    side = tmp_path / "r.csv"
    summary = run(study, "weiboscope", source, encoding=encoding, skip_bad=True, rejected_path=side)
    assert summary.source.encoding == encoding
    got = texts(study)
    if encoding == "utf-8":
        assert got == {kept: "正常文本"}
        with open(side, encoding="utf-8", newline="") as handle:
            assert [int(r["line"]) for r in csv.DictReader(handle)] == [rejected_line]
    else:  # declared: the UTF-8 row is read as GB18030, as asked
        assert got[kept] == "正常文本" and got["mUtf8Row01"] == MOJIBAKE


def test_a_utf8_row_past_the_detection_window_of_a_gb18030_file_is_malformed(
    study: Study, tmp_path: Path
) -> None:
    rows = "".join(
        f"m{i:09d},,u1,,新浪微博,0,今天天气很好我们去爬山,,2012-01-03 02:02:27,,\n"
        for i in range(2000)
    ).encode("gb18030")
    late = "mLateUtf81,,u1,,新浪微博,0,正常文本,,2012-01-03 02:02:27,,\n".encode()
    path = tmp_path / "late.csv"
    path.write_bytes(HEADER.encode() + rows + late)
    assert inspect(path).encoding == "gb18030"
    with pytest.raises(ImportFileError) as caught:
        run(study, "weiboscope", path)
    message = " ".join(str(caught.value).split())
    assert f"{path}:2002:" in message and "which GB18030 would turn into mojibake" in message
    assert MOJIBAKE not in texts(study).values()


def test_encoding_option_on_the_command_line(tmp_path: Path) -> None:
    study = str(tmp_path / "study")
    runner = CliRunner()
    assert runner.invoke(app, ["init", study]).exit_code == 0
    source = str(data("import_weiboscope_mixed_encodings.csv"))
    refused = runner.invoke(app, ["import", "weiboscope", source, "--study", study])
    assert refused.exit_code != 0 and "--encoding" in " ".join(str(refused.exception).split())
    done = runner.invoke(
        app, ["import", "weiboscope", source, "--encoding", "gbk", "--study", study]
    )
    assert done.exit_code == 0, done.output
    assert "(gb18030)" in done.output
    unknown = runner.invoke(
        app, ["import", "weiboscope", source, "--encoding", "latin-1", "--study", study]
    )
    assert "use utf-8 or gb18030" in " ".join(str(unknown.exception).split())


def test_a_bom_that_contradicts_encoding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode())
    with pytest.raises(ImportFileError, match="byte-order mark but --encoding says gb18030"):
        inspect(path, "gb18030")
    assert inspect(path, "utf-8").bom == 3


def test_the_refusal_names_the_right_lines_past_the_first_megabyte(tmp_path: Path) -> None:
    ascii_part = b"mid,text\n" + b"1,plain ascii text\n" * 80_000  # ~1.4 MB
    path = tmp_path / "late.csv"
    path.write_bytes(ascii_part + "2,正常文本\n".encode() + "3,正常文本\n".encode("gb18030"))
    with pytest.raises(ImportFileError) as caught:
        inspect(path)
    message = str(caught.value)
    assert f"{path}:80003: mixes encodings: line 80002 is UTF-8" in message
    assert "line 80003 is not: its bytes d5 fd b3 a3 ce c4 b1 be are GB18030" in message
