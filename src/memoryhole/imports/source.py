"""Reading an import file: its identity (sha256, size), its encoding, its records.

Encodings: UTF-8 or GB18030 (a superset of GBK and GB2312), with or without a byte-order mark.
With a BOM the BOM decides. Without one, the first stretch of non-ASCII text decides: UTF-8 if
at least 90 % of it is valid UTF-8 (a few corrupt bytes are then reported row by row), else
GB18030. UTF-16 and UTF-32 are refused with a hint. Bytes the chosen encoding cannot decode make
their row malformed (the error names the column), never mojibake.

Everything streams: the file is read once to hash it and pick the encoding, then once record
by record; memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

from memoryhole.imports.records import BadRow, BadRowError, ImportFileError, Record, shown

CHUNK = 1 << 20
WINDOW = 1 << 16  # bytes of non-ASCII text the encoding is guessed from
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_GB18030_BOM = b"\x84\x31\x95\x33"  # U+FEFF in GB18030

csv.field_size_limit(1 << 20)


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    name: str
    size: int
    sha256: str
    encoding: str  # "utf-8" or "gb18030"
    bom: int  # bytes of byte-order mark to skip


def inspect(path: Path) -> SourceFile:
    """Hash the file and pick its encoding (one streaming pass)."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    encoding: str | None = None
    bom = 0
    window = b""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise ImportFileError(str(path), None, f"cannot open: {exc.strerror}") from None
    with handle:
        first = True
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if first:
                first = False
                head = chunk[:4]
                encoding, bom = _bom(head, str(path))
                chunk = chunk[bom:]
            if encoding is None:
                window = _grow_window(window, chunk)
                if len(window) >= WINDOW:
                    encoding = _guess(window)
    if encoding is None:
        encoding = _guess(window) if window else "utf-8"
    return SourceFile(path, path.name, size, digest.hexdigest(), encoding, bom)


def _bom(head: bytes, name: str) -> tuple[str | None, int]:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(_GB18030_BOM):
        return "gb18030", 4
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or head.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        raise ImportFileError(
            name, None, "is UTF-16 or UTF-32 (byte-order mark); convert it to UTF-8 first"
        )
    return None, 0


def _grow_window(window: bytes, chunk: bytes) -> bytes:
    """The non-ASCII stretch the encoding is guessed from: from the start of the first line
    holding a non-ASCII byte, up to :data:`WINDOW` bytes."""
    if window:
        return window + chunk[: WINDOW - len(window)]
    found = _NON_ASCII.search(chunk)
    if found is None:
        return b""
    start = chunk.rfind(b"\n", 0, found.start()) + 1
    return chunk[start : start + WINDOW]


def _guess(window: bytes) -> str:
    end = window.rfind(b"\n")
    sample = window[: end + 1] if end > 0 else window
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad == 0:
        return "utf-8"
    non_ascii = sum(1 for c in text if ord(c) > 127)
    return "utf-8" if bad <= 0.1 * non_ascii else "gb18030"


def iter_lines(source: SourceFile) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line with its ending)`` for every line (the BOM left out)."""
    with open(source.path, "rb") as handle:
        if source.bom:
            handle.read(source.bom)
        yield from enumerate(handle, start=1)


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    fields: list[str]
    raw: bytes
    end: int  # bytes of the file read so far (progress)


def csv_rows(source: SourceFile) -> Iterator[CsvRow | BadRow]:
    """The file's CSV records (RFC 4180 quoting), each with its raw bytes and first line.

    Undecodable bytes become lone surrogates here and :func:`check_decoded` turns them into a
    malformed-row error naming the column.
    """
    pending: list[bytes] = []
    state = {"line": 0, "read": source.bom}

    def text() -> Iterator[str]:
        for number, raw in iter_lines(source):
            state["line"] = number
            state["read"] += len(raw)
            pending.append(raw)
            yield raw.decode(source.encoding, errors="surrogateescape")

    reader = csv.reader(text(), strict=True)
    while True:
        start = state["line"] + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raw = b"".join(pending)
            pending.clear()
            last = state["line"] if state["line"] > start else None
            yield BadRow(start, None, "a well-formed CSV record", f"a CSV error: {exc}", raw, last)
            continue
        raw = b"".join(pending)
        pending.clear()
        if fields:
            yield CsvRow(start, fields, raw, state["read"])


@dataclass(frozen=True, slots=True)
class TableRow:
    line: int
    fields: list[str]
    index: dict[str, int]  # column name → position, from the header
    raw: bytes
    end: int


def table_rows(
    source: SourceFile, columns: tuple[str, ...], kind: str
) -> Iterator[TableRow | BadRow]:
    """The data rows of a CSV file with a header naming ``columns``: each with as many fields
    as the header and no undecodable bytes, or a :class:`BadRow` saying which column is not.

    A missing or unreadable header stops the import (:class:`ImportFileError`): without it no
    row can be read.
    """
    names: list[str] | None = None
    index: dict[str, int] = {}
    for row in csv_rows(source):
        if names is None:
            if isinstance(row, BadRow):
                raise header_error(
                    source, row.line, BadRowError(None, f"a {kind} header", row.found)
                )
            try:
                names, index = header_index(row.fields, columns, kind)
            except BadRowError as exc:
                raise header_error(source, row.line, exc) from None
            continue
        if isinstance(row, BadRow):
            yield row
            continue
        try:
            if len(row.fields) != len(names):
                raise BadRowError(
                    None, f"{len(names)} fields, as in the header", f"{len(row.fields)} fields"
                )
            check_decoded(row.fields, names, source.encoding)
        except BadRowError as exc:
            yield BadRow(row.line, exc.column, exc.expected, exc.found, row.raw)
            continue
        yield TableRow(row.line, row.fields, index, row.raw, row.end)
    if names is None:
        raise header_error(
            source,
            1,
            BadRowError(None, f"a {kind} header naming {', '.join(columns)}", "an empty file"),
        )


def check_decoded(fields: list[str], names: list[str], encoding: str) -> None:
    """Raise :class:`BadRowError` naming the first column holding undecodable bytes."""
    for index, value in enumerate(fields):
        if not value.isascii() and _has_surrogate(value):
            raw = value.encode(encoding, errors="surrogateescape")
            name = names[index] if index < len(names) else "?"
            raise BadRowError(
                column_name(index, name), f"text in {encoding} (the file's encoding)",
                f"undecodable bytes {shown(raw.hex(' '), 40)}",
            )  # fmt: skip


_SURROGATE = re.compile("[\udc80-\udcff]")


def _has_surrogate(value: str) -> bool:
    return _SURROGATE.search(value) is not None


def column_name(index: int, name: str) -> str:
    return f"column {index + 1} ({name})"


def header_index(
    fields: list[str], required: tuple[str, ...], kind: str
) -> tuple[list[str], dict[str, int]]:
    """Map the header's column names (BOM and spaces stripped) to positions; every required
    column must be there (others are allowed and kept in the raw row only)."""
    names = [f.strip().lstrip("\ufeff") for f in fields]
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in required if name not in index]
    if missing:
        raise BadRowError(
            None,
            f"a {kind} header naming the columns {', '.join(required)}",
            f"{', '.join(names) or 'an empty line'} (missing: {', '.join(missing)})",
        )
    return names, index


def header_error(source: SourceFile, line: int, exc: BadRowError) -> ImportFileError:
    """A bad header stops the import whatever ``--skip-bad`` says: no row can be read."""
    return ImportFileError(str(source.path), line, f"expected {exc.expected}, found {exc.found}")


# -- times -------------------------------------------------------------------------------------


def parse_offset(text: str) -> tzinfo:
    """``+08:00``, ``-0500``, ``UTC`` or ``Z`` as a fixed UTC offset."""
    value = text.strip()
    if value.upper() in ("UTC", "Z", "GMT"):
        return UTC
    match = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", value)
    if match is None:
        raise ValueError(f"not a UTC offset: {text!r} (use e.g. +08:00 or UTC)")
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes > 59:
        raise ValueError(f"not a UTC offset: {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_time(value: str, zone: tzinfo, column: str, example: str) -> float:
    """Epoch seconds of an ISO date or date-time; a naive one is in ``zone``."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRowError(column, f"a date-time like {example}", shown(value)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


CHINA = timezone(timedelta(hours=8))  # the datasets' naive times are Beijing time


class CsvDatasetParser:
    """The row loop every CSV dataset shares; a dataset defines its columns and ``_record``."""

    kind: str
    label: str  # the dataset's name in error messages
    columns: tuple[str, ...]

    def __init__(self, zone: tzinfo | None = None) -> None:
        self.zone = zone or CHINA
        self.position = 0

    def records(self, source: SourceFile) -> Iterator[Record | BadRow]:
        url = f"{self.kind}:{source.name}#line="
        for row in table_rows(source, self.columns, self.label):
            if isinstance(row, BadRow):
                yield row
                continue
            self.position = row.end
            try:
                yield self._record(row.fields, row.index, row.line, row.raw, url)
            except BadRowError as exc:
                yield BadRow(row.line, exc.column, exc.expected, exc.found, row.raw)

    def _record(
        self, fields: list[str], index: dict[str, int], line: int, raw: bytes, url: str
    ) -> Record:
        raise NotImplementedError
