"""Reading an import file: its identity (sha256, size), its encoding, its records.

Encodings: UTF-8 or GB18030 (a superset of GBK and GB2312), with or without a byte-order mark.
With a BOM the BOM decides, else ``--encoding``, else the first stretch of non-ASCII lines
(:func:`_guess`): UTF-8 when none is GB18030-only, GB18030 when none is valid UTF-8, and a
refusal naming both lines when both kinds are there. Detection never turns valid text into
mojibake: bytes the chosen encoding cannot decode make their row malformed (the error names the
column and the bytes), and so does a valid UTF-8 record later in a file detected as GB18030.
UTF-16 and UTF-32 are refused with a hint. Only regular files are read (:func:`open_regular`).

Everything streams: the file is read once to hash it and pick the encoding, then once record
by record; memory does not grow with the file. Times a dataset states must lie in
:func:`memoryhole.times.import_range` (:func:`check_time`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import BinaryIO, Protocol

from memoryhole.imports.records import BadRow, BadRowError, ImportFileError, Record, shown
from memoryhole.times import describe_range, in_import_range

CHUNK = 1 << 20
WINDOW = 1 << 16  # bytes of non-ASCII text the encoding is guessed from
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_NON_ASCII_RUN = re.compile(rb"[\x80-\xff]+")
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
    encoding_given: bool = False  # by --encoding (else detected)


ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030",
             "gb2312": "gb18030", "cp936": "gb18030"}  # fmt: skip
ENCODING_HINT = "--encoding utf-8 or --encoding gb18030"


def encoding_name(given: str) -> str:
    """The codec of an ``--encoding`` value (GBK and GB2312 are read as their superset)."""
    name = ENCODINGS.get(given.strip().lower().replace("_", "-"))
    if name is None:
        raise ImportFileError(
            given, None, "is not an encoding memoryhole reads; use utf-8 or gb18030 (also GBK)"
        )
    return name


def inspect(path: Path, encoding: str | None = None) -> SourceFile:
    """Hash the file and pick its encoding (one streaming pass); ``encoding`` (``--encoding``)
    overrides the detection."""
    given = encoding_name(encoding) if encoding is not None else None
    digest = hashlib.sha256()
    size = 0
    chosen: str | None = None
    bom = 0
    window = b""
    window_line = 0  # the line the window starts at
    newlines = 0  # before the window
    with open_regular(path) as handle:
        first = True
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if first:
                first = False
                chosen, bom = _bom(chunk[:4], str(path), given)
                chunk = chunk[bom:]
                if given is not None:
                    chosen = given
            if chosen is not None:
                continue
            if window:
                window += chunk[: WINDOW - len(window)]
            else:
                found = _NON_ASCII.search(chunk)
                if found is None:
                    newlines += chunk.count(b"\n")
                    continue
                begin = chunk.rfind(b"\n", 0, found.start()) + 1
                window_line = newlines + chunk.count(b"\n", 0, begin) + 1
                window = chunk[begin : begin + WINDOW]
            if len(window) >= WINDOW:
                chosen = _guess(window, window_line, str(path))
    if chosen is None:
        chosen = _guess(window, window_line, str(path)) if window else "utf-8"
    return SourceFile(
        path, path.name, size, digest.hexdigest(), chosen, bom, encoding_given=given is not None
    )


_NOT_REGULAR = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file. A pipe or a device could stream
    forever (``/dev/zero``) and cannot be read twice, as an import reads its file: refused.
    Opened without blocking, so a pipe with no writer cannot hang it either."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ImportFileError(str(path), None, f"cannot open: {exc.strerror}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        what = next((name for test, name in _NOT_REGULAR if test(mode)), "not a regular file")
        raise ImportFileError(
            str(path),
            None,
            f"is {what}, not a regular file: an import reads its file twice (to hash it, "
            "then row by row); save the data to a file first and import that",
        )
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def _bom(head: bytes, name: str, given: str | None) -> tuple[str | None, int]:
    found: str | None = None
    size = 0
    if head.startswith(codecs.BOM_UTF8):
        found, size = "utf-8", 3
    elif head.startswith(_GB18030_BOM):
        found, size = "gb18030", 4
    elif head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or head.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        raise ImportFileError(
            name, None, "is UTF-16 or UTF-32 (byte-order mark); convert it to UTF-8 first"
        )
    if found is not None and given is not None and found != given:
        raise ImportFileError(
            name,
            1,
            f"starts with a {found} byte-order mark but --encoding says {given}: "
            "leave --encoding out, or remove the mark if it is wrong",
        )
    return found, size


def _guess(window: bytes, first_line: int, name: str) -> str:
    """The encoding of a file without a BOM, from its first stretch of non-ASCII lines: each
    is valid UTF-8, or not UTF-8 but GB18030, or neither (a malformed row either way).

    UTF-8 when no line is GB18030-only; GB18030 when no line is valid non-ASCII UTF-8; both
    kinds of line at once is refused: reading either way would turn the other's text into
    mojibake (GB18030 bytes of Chinese are seldom valid UTF-8, so a file that has both is
    mixed, or too short to tell), and memoryhole does not guess."""
    end = window.rfind(b"\n")
    sample = window[: end + 1] if end > 0 else window
    utf8_line: tuple[int, bytes] | None = None
    gb_line: tuple[int, bytes] | None = None
    lines = sample.split(b"\n")
    for offset, raw in enumerate(lines):
        if raw.isascii():
            continue
        final = offset < len(lines) - 1 or len(window) < WINDOW  # else cut by the window
        if _decodes(raw, "utf-8", final):
            utf8_line = utf8_line or (first_line + offset, raw)
        elif _decodes(raw, "gb18030", final):
            gb_line = gb_line or (first_line + offset, raw)
        if utf8_line and gb_line:
            break
    if gb_line is None:
        return "utf-8"
    if utf8_line is None:
        return "gb18030"
    (u_line, u_raw), (g_line, g_raw) = utf8_line, gb_line
    raise ImportFileError(
        name,
        max(u_line, g_line),
        f"mixes encodings: line {u_line} is UTF-8 ({shown(u_raw.decode('utf-8').strip(), 40)}) "
        f"but line {g_line} is not: its bytes {_non_ascii_hex(g_raw)} are GB18030 "
        f"({shown(g_raw.decode('gb18030').strip(), 40)}). Reading either way would turn the "
        f"other line into mojibake: say which the file is with {ENCODING_HINT} (lines in the "
        "other encoding are then malformed rows)",
    )


def _decodes(raw: bytes, encoding: str, final: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(raw, final)
    except UnicodeDecodeError:
        return False
    return True


def _non_ascii_hex(raw: bytes, limit: int = 12) -> str:
    """The line's first run of non-ASCII bytes, in hex."""
    runs = _NON_ASCII_RUN.findall(raw)
    if not runs:
        return "none"
    first: bytes = runs[0]
    more = len(first) > limit or len(runs) > 1
    return first[:limit].hex(" ") + (" …" if more else "")


def check_encoding_of_line(text: str, raw: bytes, encoding: str, given: bool) -> None:
    """In a file detected (not declared) as GB18030, a record that is valid non-ASCII UTF-8
    would become mojibake: :class:`BadRowError` naming its bytes instead."""
    if given or encoding != "gb18030" or text.isascii():
        return
    try:
        as_utf8 = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    raise BadRowError(
        None,
        f"GB18030 text, as the file's first lines are ({ENCODING_HINT} says otherwise)",
        f"UTF-8 text ({shown(as_utf8.strip(), 40)}; bytes {_non_ascii_hex(raw)}), which "
        "GB18030 would turn into mojibake",
    )


def iter_lines(source: SourceFile) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line with its ending)`` for every line (the BOM left out)."""
    with open_regular(source.path) as handle:
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
            check_encoding_of_line("".join(row.fields), row.raw, source.encoding,
                                   source.encoding_given)  # fmt: skip
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
        found = None if value.isascii() else _SURROGATE.search(value)
        if found is not None:
            bad = "".join(_SURROGATE.findall(value)).encode(encoding, errors="surrogateescape")
            name = names[index] if index < len(names) else "?"
            hint = "" if encoding == "utf-8" else f" ({ENCODING_HINT} if that is wrong)"
            marked = _SURROGATE.sub("\ufffd", value)
            raise BadRowError(
                column_name(index, name), f"text in {encoding} (the file's encoding{hint})",
                f"undecodable bytes {shown(bad.hex(' '), 40)} at character {found.start() + 1}"
                f" of {shown(marked, 40)}",
            )  # fmt: skip


_SURROGATE = re.compile("[\udc80-\udcff]")


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


class TimeChecked(Protocol):
    platform: str
    now: float


def check_time(at: float, column: str | None, found: str, parser: TimeChecked) -> float:
    """``at``, unless it lies outside what an import accepts (before the platform existed,
    after the import's own time plus a day, or not a number): then :class:`BadRowError`."""
    if not in_import_range(at, parser.platform, parser.now):
        raise BadRowError(column, describe_range(parser.platform, parser.now), shown(found))
    return at


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
    platform: str

    def __init__(self, zone: tzinfo | None = None, now: float | None = None) -> None:
        self.zone = zone or CHINA
        self.now = time.time() if now is None else now
        self.position = 0

    def time(self, value: str, column: str, example: str) -> float:
        """:func:`parse_time`, refused outside :func:`memoryhole.times.import_range`."""
        return check_time(parse_time(value, self.zone, column, example), column, value, self)

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
