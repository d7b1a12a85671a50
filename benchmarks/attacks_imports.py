"""Attacks on the imports and on what reads their data (issue 21, items 4, 7 and 10).

``attacks(tmp)`` returns ``(category, attack, held)`` rows for ``benchmarks/attacks.py``:

- *impossible times*: a dataset time of year 1 or 9999, before the platform existed, or an
  ``Infinity``/``NaN``/``1e300`` JSON number must be a malformed row, its line named;
- *encodings*: no file may be read into mojibake, and a GB18030 JSONL file must import;
- *hostile files*: nesting 100,000 deep, ``/dev/zero``, a FIFO, a directory, and WeChatscope
  rows in another order (same verdicts);
- *spreadsheet formulas*: no CSV memoryhole writes holds a cell a spreadsheet would run;
- *impossible stores*: times put into the store directly must crash no command, dashboard
  page or JSON output.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.imports import run_import
from memoryhole.imports.records import ImportFileError
from memoryhole.spreadsheet import FORMULA_STARTS
from memoryhole.store.schema import posts, verdicts
from memoryhole.study import Study

Row = tuple[str, str, bool]
DATA = Path(__file__).parents[1] / "tests" / "data"
WEIBOSCOPE = (
    "mid,retweeted_status_mid,uid,retweeted_uid,source,image,text,geo,created_at,"
    "deleted_last_seen,permission_denied\n"
)
WECHATSCOPE = "title,nickname,created_at,archive,censored_date,censored_msg\n"


class Lab:
    """Fresh studies in one temporary folder."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.count = 0

    def path(self, name: str) -> Path:
        self.count += 1
        return self.tmp / f"{self.count:03d}-{name}"

    def study(self) -> Study:
        return Study.init(self.path("study"))

    def file(self, name: str, content: bytes) -> Path:
        path = self.path(name)
        path.write_bytes(content)
        return path


def _refused_at_line(lab: Lab, kind: str, content: bytes, line: int) -> bool:
    """The import stops naming ``line``, and ``--skip-bad`` sets exactly that line aside
    (any other exception, a crash, does not hold)."""
    path = lab.file(f"attack.{kind}", content)
    study = lab.study()
    try:
        try:
            run_import(study, kind, path)
        except ImportFileError as exc:
            if f"{path}:{line}:" not in str(exc):
                return False
        else:
            return False
        side = lab.path("rejected.csv")
        run_import(study, kind, path, skip_bad=True, rejected_path=side)
        with open(side, encoding="utf-8", newline="") as handle:
            return [int(row["line"]) for row in csv.DictReader(handle)] == [line]
    except Exception:
        return False
    finally:
        study.close()


def _jsonl_with_time(token: str) -> bytes:
    lines = (DATA / "import_weibo_responses.jsonl").read_text(encoding="utf-8").splitlines()
    check = json.loads(lines[2])
    text = json.dumps(check, ensure_ascii=False).replace(
        json.dumps(check["__memoryhole"]["retrieved_at"]), token
    )
    return (lines[0] + "\n" + text + "\n").encode()


def impossible_times(lab: Lab) -> list[Row]:
    row = "m1,,u1,,s,0,text,,{created},{last},{denied}\n"
    rows: list[Row] = []
    for label, created, last in (
        ("created_at 0001-01-01", "0001-01-01 00:00:00", ""),
        ("created_at 9999-12-31", "9999-12-31 00:00:00", ""),
        ("created_at before Weibo existed", "2008-01-01 00:00:00", ""),
        ("deleted_last_seen 9999-12-31", "2012-01-03 02:02:27", "9999-12-31 00:00:00"),
    ):
        content = (WEIBOSCOPE + row.format(created=created, last=last, denied="true")).encode()
        rows.append(("impossible times", f"Weiboscope {label}", _refused_at_line(
            lab, "weiboscope", content, 2)))  # fmt: skip
    for token in ("Infinity", "-Infinity", "NaN", "1e300", "1" + "0" * 400,
                  '"0001-01-01T00:00:00Z"', '"9999-12-31T00:00:00Z"', "0"):  # fmt: skip
        held = _refused_at_line(lab, "jsonl", _jsonl_with_time(token), 2)
        rows.append(("impossible times", f"JSONL retrieved_at {token[:12]}", held))
    archive = "gh_a_2018-07-06_1_x.y.tar.gz"
    for label, created, removed in (
        ("censored_date 9999-12-31", "2018-07-06", "9999-12-31 00:00:00"),
        ("created_at before WeChat existed", "2010-07-06", "2018-07-07 00:00:00"),
    ):
        content = f"{WECHATSCOPE}t,n,{created},{archive},{removed},此内容因违规无法查看\n"
        held = _refused_at_line(lab, "wechatscope", content.encode(), 2)
        rows.append(("impossible times", f"WeChatscope {label}", held))
    scenario = {"post_id": "s", "author_id": "a", "published_at": 1.7e9, "text": "x",
                "edits": [[1e300, "y"]]}  # fmt: skip
    held = _refused_at_line(lab, "scenario", (json.dumps(scenario) + "\n").encode(), 1)
    rows.append(("impossible times", "scenario edit at 1e300", held))
    return rows


def _texts(study: Study) -> dict[str, str]:
    with study.engine.connect() as conn:
        return {str(k): str(v) for k, v in conn.execute(select(posts.c.post_id, posts.c.text))}


def encodings(lab: Lab) -> list[Row]:
    rows: list[Row] = []
    mojibake = "正常文本".encode().decode("gb18030")
    study = lab.study()
    try:
        gb = lab.file("responses.jsonl", (DATA / "import_weibo_responses.jsonl").read_bytes()
                      .decode("utf-8").encode("gb18030"))  # fmt: skip
        summary = run_import(study, "jsonl", gb)
        rows.append(("encodings", "GB18030 JSONL", summary.counts.new_posts == 3))
    finally:
        study.close()
    for name, path in (
        ("UTF-8 CSV with 3 invalid bytes", DATA / "import_weiboscope_utf8_bad_bytes.csv"),
        ("UTF-8 and GB18030 lines in one CSV", DATA / "import_weiboscope_mixed_encodings.csv"),
    ):
        study = lab.study()
        try:
            try:
                run_import(study, "weiboscope", path, skip_bad=True, rejected_path=lab.path("r"))
            except ImportFileError as exc:
                refused = "mixes encodings" in str(exc)
            else:
                refused = False
            held = mojibake not in _texts(study).values() and (
                refused or "正常文本" in _texts(study).values()
            )
            rows.append(("encodings", name, held))
        finally:
            study.close()
    late = (
        WEIBOSCOPE.encode()
        + "".join(
            f"m{i:09d},,u1,,新浪微博,0,今天天气很好我们去爬山,,2012-01-03 02:02:27,,\n"
            for i in range(2000)
        ).encode("gb18030")
        + "mLate,,u1,,新浪微博,0,正常文本,,2012-01-03 02:02:27,,\n".encode()
    )
    held = _refused_at_line(lab, "weiboscope", late, 2002)
    rows.append(("encodings", "a UTF-8 row after 64 KB of GB18030", held))
    return rows


def _cli_import(path: str, study: Path) -> bool:
    """Refused with a message, within seconds (never reads forever)."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "memoryhole", "import", "jsonl", path, "--study", str(study)],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return False
    said = " ".join(result.stderr.split())
    return result.returncode == 2 and f"{path}:" in said and "Traceback" not in said


def _wechatscope_verdicts(lab: Lab, lines: list[str]) -> dict[str, Any]:
    path = lab.file("log.csv", (WECHATSCOPE + "".join(lines)).encode())
    study = lab.study()
    try:
        run_import(study, "wechatscope", path)
        query = select(posts.c.post_id, posts.c.text, verdicts).join(
            verdicts, verdicts.c.post_pk == posts.c.id
        )
        with study.engine.connect() as conn:
            return {
                # post_pk and chain (the post's place in the log) follow the file's order
                row["post_id"]: {k: v for k, v in row.items() if k not in ("post_pk", "chain")}
                for row in conn.execute(query).mappings()
            }
    finally:
        study.close()


def hostile_files(lab: Lab) -> list[Row]:
    rows: list[Row] = []
    deep = ("[" * 100_000 + "]" * 100_000 + "\n").encode()
    rows.append(("hostile files", "JSONL nested 100,000 deep", _refused_at_line(
        lab, "jsonl", deep, 1)))  # fmt: skip
    study = lab.path("study")
    Study.init(study).close()
    fifo = lab.path("fifo")
    os.mkfifo(fifo)
    for name, path in (("/dev/zero", "/dev/zero"), ("a FIFO", str(fifo)),
                       ("a directory", str(lab.tmp))):  # fmt: skip
        rows.append(("hostile files", f"import {name}", _cli_import(path, study)))
    _, *log = (DATA / "wechatscope_sample.csv").read_text(encoding="utf-8").splitlines(True)
    expected = _wechatscope_verdicts(lab, log)
    shuffled = log[:]
    random.Random(21).shuffle(shuffled)
    same = _wechatscope_verdicts(lab, shuffled) == expected
    same = same and _wechatscope_verdicts(lab, log[::-1]) == expected
    rows.append(("hostile files", "WeChatscope rows shuffled and reversed", same))
    return rows


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def formulas(lab: Lab) -> list[Row]:
    study = lab.path("study")
    Study.init(study).close()
    opened = Study.open(study)
    try:
        run_import(opened, "weiboscope", DATA / "import_weiboscope_formulas.csv")
    finally:
        opened.close()
    runner = CliRunner()

    def clean(text: str) -> bool:
        """Not one text cell a spreadsheet would run (a number, negative too, is no formula)."""
        cells = _cells(text)
        risky = [c for c in cells if c.startswith(FORMULA_STARTS) and not _is_number(c)]
        return bool(cells) and not risky

    out = lab.path("csv")
    runner.invoke(app, ["export", "csv", str(out), "--study", str(study)])
    exported = "".join((out / f"{t}.csv").read_text("utf-8") for t in ("posts", "verdicts"))
    verdict_csv = runner.invoke(app, ["export", "verdicts", "--format", "csv", "--study",
                                      str(study)]).stdout  # fmt: skip
    # No analysis table starts a cell with a post's text today (terms carry a "w:" prefix):
    # what matters is that `analyze … --format csv` neutralises any text it is given.
    import pandas as pd

    from memoryhole.cli.analyze import Format, emit

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        emit(pd.DataFrame({"term": ["=cmd|' /C calc'!A0", "@SUM(A1)"], "n": [-1, 2]}), Format.csv)
    bad = lab.file("bad.csv", (WECHATSCOPE + "=1+1,n,x,@y,z,-\n").encode())
    side = lab.path("rejected.csv")
    opened = Study.open(study)
    try:
        run_import(opened, "wechatscope", bad, skip_bad=True, rejected_path=side)
    finally:
        opened.close()
    return [
        ("spreadsheet formulas", "export csv (posts, verdicts)", clean(exported)),
        ("spreadsheet formulas", "export verdicts --format csv", clean(verdict_csv)),
        ("spreadsheet formulas", "analyze --format csv (text cells)", clean(printed.getvalue())),
        ("spreadsheet formulas", "import --skip-bad side file", clean(side.read_text("utf-8"))),
    ]


INJECTED = (float("inf"), float("-inf"), 1e300, -62135596800.0, 253402300799.0)


def impossible_stores(lab: Lab) -> list[Row]:
    path = lab.path("study")
    study = Study.init(path)
    try:
        run_import(study, "weiboscope", DATA / "import_weiboscope.csv")
        run_import(study, "wechatscope", DATA / "import_wechatscope.csv")
    finally:
        study.close()
    db = sqlite3.connect(path / "store.sqlite")
    pks = [pk for (pk,) in db.execute("SELECT post_pk FROM verdicts ORDER BY post_pk")]
    for pk, value in zip(pks, INJECTED, strict=False):
        db.execute("UPDATE verdicts SET status = 'censored', first_seen_at = ?, "
                   "last_seen_alive_at = ?, first_seen_removed_at = ? WHERE post_pk = ?",
                   (value, value, value, pk))  # fmt: skip
        db.execute("UPDATE posts SET published_at = ? WHERE id = ?", (value, pk))
        db.execute("UPDATE observations SET sent_at = ?, observed_at = ? WHERE post_pk = ?",
                   (value, value, pk))  # fmt: skip
    db.commit()
    db.close()
    runner = CliRunner()
    rows: list[Row] = []

    def command(*args: str, check: Callable[[str], bool] = lambda _: True) -> None:
        result = runner.invoke(app, [*args, "--study", str(path)])
        held = result.exit_code == 0 and result.exception is None and check(result.stdout)
        label = " ".join(arg for arg in args if not arg.startswith(("/", "--out")))
        rows.append(("impossible stores", label, held))

    def strict(text: str) -> bool:
        def refuse(token: str) -> None:
            raise ValueError(token)

        try:
            for line in text.splitlines():
                json.loads(line, parse_constant=refuse)
        except ValueError:
            return False
        return True

    command("status")
    command("report", "--out", str(lab.path("report.html")))
    command("export", "warc", "--out", str(lab.path("all.warc.gz")))
    command("export", "verdicts", check=strict)
    command("analyze", "timeline")
    command("analyze", "survival", "--format", "json", check=strict)
    command("analyze", "platforms")
    from fastapi.testclient import TestClient

    from memoryhole.web.app import ServeOptions, create_app

    opened = Study.open(path)
    try:
        options = ServeOptions(background=False, check_host=False)
        with TestClient(create_app(opened, options)) as client:
            db = sqlite3.connect(path / "store.sqlite")
            ids = db.execute("SELECT platform, post_id FROM posts ORDER BY id LIMIT 5").fetchall()
            db.close()
            pages = ["/", "/removals", "/feed.atom", "/speed", "/accounts"]
            pages += [f"/post/{p}/{i}" for p, i in ids] + [f"/bundle/{p}/{i}" for p, i in ids]
            failed = [page for page in pages if client.get(page).status_code >= 500]
            rows.append(("impossible stores", f"{len(pages)} dashboard pages", not failed))
    finally:
        opened.close()
    return rows


def attacks(tmp: Path) -> list[Row]:
    lab = Lab(tmp)
    rows: list[Row] = []
    for group in (impossible_times, encodings, hostile_files, formulas, impossible_stores):
        try:
            rows += group(lab)
        except Exception as exc:
            rows.append((group.__name__.replace("_", " "), f"crashed: {exc!r}"[:100], False))
    return rows


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for category, attack, held in attacks(Path(folder)):
            print(f"{'held  ' if held else 'FAILED'} {category}: {attack}")
