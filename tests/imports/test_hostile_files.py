"""Hostile import files and hostile cells (issue 21, item 10, the imports and CSV part).

Before: a JSONL line nested 100,000 deep stopped the import with a ``RecursionError`` (no line
named, even with ``--skip-bad``); ``import … /dev/zero`` never ended; WeChatscope rows repeated
in another order gave another verdict; ``=cmd|…`` cells went verbatim into every CSV export.
"""

from __future__ import annotations

import csv
import io
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.cli.tables import Format, emit
from memoryhole.imports.records import ImportFileError
from memoryhole.spreadsheet import FORMULA_STARTS, neutralised
from memoryhole.store.schema import posts, verdicts
from memoryhole.study import Study
from tests.imports.conftest import data, run

# -- nesting -------------------------------------------------------------------------------------


def test_a_line_nested_100000_deep_is_a_malformed_line_named(study: Study, tmp_path: Path) -> None:
    lines = data("import_weibo_responses.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "deep.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    nested_object = '{"a": ' * 250 + "1" + "}" * 250  # parses, but deeper than any answer
    path.write_text("\n".join([lines[0], deep, nested_object, *lines[1:]]) + "\n", "utf-8")
    with pytest.raises(ImportFileError, match=r"deep.jsonl:2: expected JSON nested at most"):
        run(study, "jsonl", path)
    side = tmp_path / "r.csv"
    summary = run(study, "jsonl", path, skip_bad=True, rejected_path=side)
    with open(side, encoding="utf-8", newline="") as handle:
        assert [int(row["line"]) for row in csv.DictReader(handle)] == [2, 3]
    assert summary.counts.new_posts == 3  # the other lines, as without the deep ones


# -- files that are not files --------------------------------------------------------------------


def _import_cli(path: str, study: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memoryhole", "import", "jsonl", path, "--study", str(study)],
        capture_output=True,
        text=True,
        timeout=60,  # the old code read /dev/zero (and waited on a FIFO) forever
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_non_regular_files_are_refused_at_once(tmp_path: Path, kind: str) -> None:
    study = tmp_path / "study"
    Study.init(study).close()
    if kind == "device":
        path, what = "/dev/zero", "is a character device"
    elif kind == "fifo":
        path, what = str(tmp_path / "pipe"), "is a pipe (FIFO)"
        os.mkfifo(path)
    else:
        path, what = str(tmp_path), "is a directory"
    result = _import_cli(path, study)
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, message
    assert f"{path}: {what}, not a regular file" in message
    assert "save the data to a file first" in message and "Traceback" not in message


# -- WeChatscope: the same rows in any order -----------------------------------------------------


def _verdicts(study: Study) -> dict[str, dict[str, Any]]:
    query = select(
        posts.c.post_id,
        posts.c.text,
        posts.c.published_at,
        verdicts.c.status,
        verdicts.c.first_seen_at,
        verdicts.c.last_seen_alive_at,
        verdicts.c.first_seen_removed_at,
        verdicts.c.signal,
        verdicts.c.history,
        verdicts.c.checks,
    ).join(verdicts, verdicts.c.post_pk == posts.c.id)
    with study.engine.connect() as conn:
        return {row["post_id"]: dict(row) for row in conn.execute(query).mappings()}


def _import_copy(tmp_path: Path, name: str, header: str, rows: list[str]) -> dict[str, Any]:
    path = tmp_path / f"{name}.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    study = Study.init(tmp_path / f"study-{name}")
    try:
        run(study, "wechatscope", path)
        return _verdicts(study)
    finally:
        study.close()


@pytest.mark.parametrize("source", ["import_wechatscope.csv", "wechatscope_sample.csv"])
def test_wechatscope_rows_in_any_order_give_the_same_verdicts(tmp_path: Path, source: str) -> None:
    header, *rows = data(source).read_text(encoding="utf-8").splitlines(keepends=True)
    expected = _import_copy(tmp_path, "original", header, rows)
    orders = {"reversed": rows[::-1]}
    for seed in range(3):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        orders[f"shuffled-{seed}"] = shuffled
    for name, order in orders.items():
        assert _import_copy(tmp_path, name, header, order) == expected, name


def test_an_earlier_censorship_row_listed_last_still_decides(tmp_path: Path) -> None:
    header = "title,nickname,created_at,archive,censored_date,censored_msg\n"
    archive = "gh_a_2018-07-06_1_x.y.tar.gz"
    censored = f"t,n,2018-07-06,{archive},2018-07-07 10:00:00,此内容因违规无法查看\n"
    deleted = f"t,n,2018-07-06,{archive},2018-07-09 10:00:00,该内容已被发布者删除\n"
    first = _import_copy(tmp_path, "a", header, [censored, deleted])["2018-07-06_1_x"]
    second = _import_copy(tmp_path, "b", header, [deleted, censored])["2018-07-06_1_x"]
    assert first["status"] == second["status"] == "censored"  # the first removal kind sticks
    assert first == second


# -- spreadsheet formulas ------------------------------------------------------------------------

FORMULA_TEXTS = ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1")


def _csv_cells(path_or_text: Path | str) -> list[str]:
    if isinstance(path_or_text, Path):  # newline="": a cell's own CR stays a CR
        with open(path_or_text, encoding="utf-8", newline="") as handle:
            return [cell for row in csv.reader(handle) for cell in row]
    return [cell for row in csv.reader(io.StringIO(path_or_text, newline="")) for cell in row]


def _formula_study(tmp_path: Path) -> Path:
    study = tmp_path / "study"
    Study.init(study).close()
    opened = Study.open(study)
    try:
        run(opened, "weiboscope", data("import_weiboscope_formulas.csv"))
    finally:
        opened.close()
    return study


def test_no_csv_export_holds_a_cell_a_spreadsheet_would_run(tmp_path: Path) -> None:
    study = _formula_study(tmp_path)
    runner = CliRunner()
    out = tmp_path / "csv"
    assert runner.invoke(app, ["export", "csv", str(out), "--study", str(study)]).exit_code == 0
    verdicts_csv = runner.invoke(
        app, ["export", "verdicts", "--format", "csv", "--study", str(study)]
    )
    assert verdicts_csv.exit_code == 0
    cells = _csv_cells(verdicts_csv.stdout)
    for table in ("posts", "verdicts", "observations", "authors"):
        cells += _csv_cells(out / f"{table}.csv")
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    for text in FORMULA_TEXTS:
        assert "'" + text in cells  # kept, behind a quote
    assert '\'=HYPERLINK("http://example.invalid/x")' in cells  # a post id too
    assert "平常的文字 =1+1" in cells  # a formula sign inside a cell is harmless
    # numbers stay numbers: a negative one is not text
    assert neutralised(-2.5) == -2.5


def test_analyze_csv_output_neutralises_text_cells(capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame(
        {"term": ["=1+1", "ok", "@x"], "rate": [-0.5, 0.25, 1.0], "=col": ["a", "-b", "c"]}
    )
    emit(frame, Format.csv)
    cells = _csv_cells(capsys.readouterr().out)
    assert cells[:3] == ["term", "rate", "'=col"]
    assert cells[3:] == ["'=1+1", "-0.5", "a", "ok", "0.25", "'-b", "'@x", "1.0", "c"]


def test_the_rejected_rows_file_neutralises_formulas_too(study: Study, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    header = "title,nickname,created_at,archive,censored_date,censored_msg\n"
    path.write_text(header + "=1+1,n,2018-07-06,@x.zip,2018-07-07 15:07:27,-\n", "utf-8")
    run(study, "wechatscope", path, skip_bad=True, rejected_path=tmp_path / "r.csv")
    cells = _csv_cells(tmp_path / "r.csv")
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert "'=1+1,n,2018-07-06,@x.zip,2018-07-07 15:07:27,-" in cells
