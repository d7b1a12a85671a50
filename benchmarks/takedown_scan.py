"""What a takedown must leave nothing of: a byte search of every blob, export, report and bundle.

Used by ``benchmarks/attacks_redaction.py`` and its tests. A study is built from ``scenario``
(one author, ``VICTIM``, with texts no one else writes); ``outputs`` writes every export format,
the report and evidence bundles through the CLI and returns their bytes (gzip, zip and Parquet
opened); ``leaks`` names each output that holds the victim's raw id, pseudonym or texts.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sqlite3
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.scenario import ScenarioPost
from memoryhole.study import Study

T0 = 1_700_000_000.0
VICTIM = "7428391556"
MARK = "山川湖海"  # in every text of the victim's and in no one else's
OTHERS = ["今天天气很好", "这家餐厅的菜很好吃", "刚看完一部电影", "周末去爬山了", "新买的手机不错"]
COMMON = "分享图片"  # Weibo's default text for a post of only pictures: many authors' posts


def victim_text(i: int) -> str:
    return f"{MARK}隐私作者第{i}条"


def scenario(posts: int = 48, *, quote: bool = False, common: bool = False) -> list[ScenarioPost]:
    """A post every 75 s; every 4th by the victim, every 3rd censored. ``quote``: post 2 (by
    someone else) quotes the victim's id and text; ``common``: the victim's post 5 and three
    other authors' posts all say ``COMMON``."""
    out = []
    for i in range(posts):
        published = T0 + 75.0 * i
        author = VICTIM if i % 4 == 1 else str(1_000_000 + i % 4)
        text = victim_text(i) if author == VICTIM else f"{OTHERS[i % 5]} #{i}"
        if quote and i == 2:
            text = f"转发 @{VICTIM}：{victim_text(1)}"
        if common and i in (5, 6, 10, 14):
            text = COMMON
        removal, removed_at = None, None
        if i % 3 == 0:
            removal, removed_at = "censored", published + 300.0 + 185.0 * (i % 11)
        post_id = str(4_900_000_000_000_000 + i)
        out.append(ScenarioPost(post_id, author, published, text, removed_at, removal))
    return out


def cli(*args: str) -> str:
    """``memoryhole ARGS…`` in this process; its output (raises if it failed)."""
    result = CliRunner().invoke(app, list(args))
    if result.exit_code != 0:
        raise RuntimeError(f"memoryhole {' '.join(args)}: {result.output}{result.exception!r}")
    return result.stdout


def expand(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """``data`` and what it holds: gzip members decompressed, zip members, Parquet values."""
    if data[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as members:  # a WARC: many members
            yield from expand(f"{name}|gunzip", members.read())
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield from expand(f"{name}|{member}", archive.read(member))
    elif data[:4] == b"PAR1":
        import pyarrow.parquet as pq

        rows = pq.read_table(io.BytesIO(data)).to_pylist()
        yield name, json.dumps(rows, ensure_ascii=False, default=str).encode()
    else:
        yield name, data


def finder(pseudonym: str) -> re.Pattern[bytes]:
    """The victim's id (not inside a longer token), pseudonym, and ``MARK`` (in every text of
    theirs) as UTF-8, JSON-escaped (either case) or percent-encoded."""
    escaped = json.dumps(MARK)[1:-1]
    upper = "".join(f"\\u{ord(c):04X}" for c in MARK)
    needles = [
        rb"(?<![0-9A-Za-z_])" + VICTIM.encode() + rb"(?![0-9A-Za-z_])",
        re.escape(pseudonym.encode()),
        *(re.escape(form.encode()) for form in {MARK, escaped, upper, quote(MARK)}),
    ]
    return re.compile(b"|".join(needles))


def outputs(study_path: Path, out: Path, bundles: Sequence[str]) -> dict[str, dict[str, bytes]]:
    """By family: every blob, every export format, the report, the status and the bundles of
    ``bundles`` (post ids), each file by name."""
    at = ["--study", str(study_path)]
    out.mkdir(parents=True, exist_ok=True)
    families: dict[str, dict[str, bytes]] = {
        "blobs": {p.name: p.read_bytes() for p in (study_path / "blobs").rglob("*") if p.is_file()},
        "export verdicts": {
            "jsonl": cli("export", "verdicts", *at).encode(),
            "csv": cli("export", "verdicts", "--format", "csv", *at).encode(),
            "raw ids": cli("export", "verdicts", "--raw-author-ids", *at).encode(),
        },
        "status": {"json": cli("status", "--format", "json", *at).encode()},
    }
    for kind in ("csv", "parquet"):
        cli("export", kind, str(out / kind), *at)
        files = (p for p in (out / kind).rglob("*") if p.is_file())
        families[f"export {kind}"] = {str(p.relative_to(out)): p.read_bytes() for p in files}
    cli("export", "datasette", str(out / "d.db"), *at)
    with sqlite3.connect(out / "d.db") as connection:
        dump = "\n".join(connection.iterdump()).encode()
    families["export datasette"] = {"file": (out / "d.db").read_bytes(), "dump": dump}
    cli("export", "warc", "--out", str(out / "all.warc.gz"), *at)
    families["export warc"] = {"all.warc.gz": (out / "all.warc.gz").read_bytes()}
    cli("report", "--out", str(out / "report.html"), *at)
    families["report"] = {"report.html": (out / "report.html").read_bytes()}
    families["bundles"] = {}
    for number, post_id in enumerate(bundles):
        cli("evidence", post_id, "--out", str(out / f"bundle-{number}.zip"), *at)
        families["bundles"][post_id] = (out / f"bundle-{number}.zip").read_bytes()
    return families


def leaks(
    study_path: Path, platform: str, out: Path, bundles: Sequence[str] = ()
) -> dict[str, list[str]]:
    """By family, the outputs that hold anything of the victim (empty lists: clean)."""
    study = Study.open(study_path)
    pattern = finder(study.pseudonym(platform, VICTIM))
    study.close()
    found: dict[str, list[str]] = {}
    for family, files in outputs(study_path, out, bundles).items():
        found[family] = [
            f"{name} holds {match.group(0).decode(errors='replace')!r}"
            for file, data in files.items()
            for name, part in expand(file, data)
            if (match := pattern.search(part)) is not None
        ]
    return found
