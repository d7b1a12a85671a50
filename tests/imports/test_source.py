"""Reading import files: encodings (UTF-8, GB18030, BOM or not), raw records, times."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest

from memoryhole.imports.records import BadRow, BadRowError, ImportFileError
from memoryhole.imports.source import CsvRow, csv_rows, inspect, parse_offset, parse_time

CHINESE = "mid,text\n1,今天天气很好\n2,转发微博，换行\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("prefix", "codec", "expected", "bom"),
    [
        (b"", "utf-8", "utf-8", 0),
        (codecs.BOM_UTF8, "utf-8", "utf-8", 3),
        (b"", "gb18030", "gb18030", 0),
        (b"", "gbk", "gb18030", 0),
        (b"\x84\x31\x95\x33", "gb18030", "gb18030", 4),
    ],
)
def test_encoding_is_detected_with_or_without_a_bom(
    tmp_path: Path, prefix: bytes, codec: str, expected: str, bom: int
) -> None:
    path = write(tmp_path, "f.csv", prefix + CHINESE.encode(codec))
    source = inspect(path)
    assert (source.encoding, source.bom) == (expected, bom)
    rows = [r for r in csv_rows(source) if isinstance(r, CsvRow)]
    assert [r.fields for r in rows] == [
        ["mid", "text"],
        ["1", "今天天气很好"],
        ["2", "转发微博，换行"],
    ]


def test_the_first_non_ascii_text_decides_even_past_the_first_megabyte(tmp_path: Path) -> None:
    ascii_part = b"mid,text\n" + b"1,plain ascii text\n" * 80_000  # ~1.4 MB
    path = write(tmp_path, "late.csv", ascii_part + "2,中文在后面\n".encode("gb18030"))
    source = inspect(path)
    assert source.encoding == "gb18030"
    assert source.size == path.stat().st_size


def test_a_utf8_file_with_one_corrupt_byte_stays_utf8_and_the_row_is_named(
    tmp_path: Path,
) -> None:
    good = "".join(f"{i},今天天气很好，我们去爬山吧\n" for i in range(50)).encode()
    path = write(tmp_path, "f.csv", b"mid,text\n" + good + b"99,bad \xff here\n")
    source = inspect(path)
    assert source.encoding == "utf-8"  # not GB18030 mojibake of the whole file
    last = list(csv_rows(source))[-1]
    assert isinstance(last, CsvRow) and last.line == 52 and "\udcff" in last.fields[1]


def test_utf16_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", CHINESE.encode("utf-16"))
    with pytest.raises(ImportFileError, match=r"UTF-16 or UTF-32.*convert it to UTF-8"):
        inspect(path)


def test_raw_bytes_and_first_line_of_records_spanning_lines(tmp_path: Path) -> None:
    data = b'a,b\n1,"two\r\nlines"\n2,"x ""y"""\n'
    rows = list(csv_rows(inspect(write(tmp_path, "f.csv", data))))
    assert [(r.line, r.raw) for r in rows if isinstance(r, CsvRow)] == [
        (1, b"a,b\n"),
        (2, b'1,"two\r\nlines"\n'),
        (4, b'2,"x ""y"""\n'),
    ]


def test_a_broken_quote_is_a_bad_row_and_reading_goes_on(tmp_path: Path) -> None:
    data = b'a,b\n1,"quoted"tail\n2,fine\n'
    rows = list(csv_rows(inspect(write(tmp_path, "f.csv", data))))
    bad = rows[1]
    assert isinstance(bad, BadRow) and bad.line == 2 and bad.raw == b'1,"quoted"tail\n'
    assert isinstance(rows[2], CsvRow) and rows[2].fields == ["2", "fine"]


def test_times_naive_in_the_given_offset_aware_as_given() -> None:
    china = parse_offset("+08:00")
    assert (
        parse_time("2012-01-03 02:02:27", china, "c", "e")
        == datetime(2012, 1, 2, 18, 2, 27, tzinfo=UTC).timestamp()
    )
    assert (
        parse_time("2018-07-06", china, "c", "e")
        == datetime(2018, 7, 5, 16, tzinfo=UTC).timestamp()
    )
    assert (
        parse_time("2012-01-03T02:02:27+00:00", china, "c", "e")
        == datetime(2012, 1, 3, 2, 2, 27, tzinfo=UTC).timestamp()
    )
    assert parse_offset("UTC") is UTC
    assert parse_offset("-0530").utcoffset(None).total_seconds() == -5.5 * 3600  # type: ignore[union-attr]
    with pytest.raises(BadRowError, match="a date-time like"):
        parse_time("yesterday", china, "column 9 (created_at)", "2012-01-03 02:02:27")
    with pytest.raises(ValueError):
        parse_offset("Beijing")
