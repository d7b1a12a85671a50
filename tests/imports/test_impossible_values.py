"""Impossible times: refused by every import (line named), tolerated by every reader.

Issue 21, item 4: a Weiboscope ``created_at`` of year 1 or 9999 imported with rc 0 and then
``status``, ``report``, ``export warc`` and ``analyze timeline`` crashed; a JSONL
``retrieved_at`` of ``Infinity`` gave a censored verdict at ``Infinity`` that ``export
verdicts`` wrote as a non-JSON token.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.imports.records import ImportFileError
from memoryhole.study import Study
from memoryhole.times import import_range
from memoryhole.web.app import ServeOptions, create_app
from tests.imports.conftest import data, run, verdicts_by_post

WEIBOSCOPE_HEADER = (
    "mid,retweeted_status_mid,uid,retweeted_uid,source,image,text,geo,created_at,"
    "deleted_last_seen,permission_denied\n"
)
WECHATSCOPE_HEADER = "title,nickname,created_at,archive,censored_date,censored_msg\n"


def rejected(path: Path) -> dict[int, dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {int(row["line"]): row for row in csv.DictReader(handle)}


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses ``Infinity``, ``-Infinity`` and ``NaN``."""

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


# -- imports refuse them -------------------------------------------------------------------------


def test_weiboscope_times_before_weibo_or_after_the_import_are_malformed_rows(
    study: Study, tmp_path: Path
) -> None:
    source = data("import_weiboscope_impossible_times.csv")
    with pytest.raises(ImportFileError) as caught:
        run(study, "weiboscope", source)
    message = str(caught.value)
    assert f"{source}:3: column 9 (created_at): expected a time from 2009-08-14" in message
    assert "'0001-01-01 00:00:00'" in message
    side = tmp_path / "r.csv"
    summary = run(study, "weiboscope", source, skip_bad=True, rejected_path=side)
    assert (summary.counts.rows, summary.counts.rejected) == (2, 4)
    bad = rejected(side)
    assert sorted(bad) == [3, 4, 5, 6]
    assert bad[4]["column"] == bad[5]["column"] == "column 9 (created_at)"
    assert bad[6]["column"] == "column 10 (deleted_last_seen)"
    assert "'9999-12-31 00:00:00'" in bad[4]["problem"]
    assert "weibo's launch" in bad[5]["problem"]
    assert set(verdicts_by_post(study)) == {"mCClUNCqwe", "mH44qG6iUm"}


def test_jsonl_times_that_are_not_sane_numbers_are_malformed_lines(
    study: Study, tmp_path: Path
) -> None:
    source = data("import_jsonl_impossible_times.jsonl")
    with pytest.raises(ImportFileError, match=r":2: \"__memoryhole.retrieved_at\": expected a"):
        run(study, "jsonl", source)
    side = tmp_path / "r.csv"
    summary = run(study, "jsonl", source, skip_bad=True, rejected_path=side)
    bad = rejected(side)
    # Infinity, 1e300, NaN, -Infinity, a 401-digit integer, year 1, year 9999, 1970
    assert sorted(bad) == list(range(2, 10)) and summary.counts.rejected == 8
    assert {row["column"] for row in bad.values()} == {'"__memoryhole.retrieved_at"'}
    assert "found 'Infinity'" in bad[2]["problem"] and "found 'NaN'" in bad[4]["problem"]
    verdicts = verdicts_by_post(study)
    assert verdicts["4900000000000002"]["verdict"] == "live"  # never "censored at Infinity"
    exported = CliRunner().invoke(app, ["export", "verdicts", "--study", str(study.path)])
    for line in exported.output.splitlines():
        strict_json(line)


def test_wechatscope_dates_before_wechat_or_in_the_future_are_malformed(
    study: Study, tmp_path: Path
) -> None:
    path = tmp_path / "log.csv"
    archive = "gh_a_2018-07-06_{}_x.y.tar.gz"
    path.write_text(
        WECHATSCOPE_HEADER
        + f"t,n,2018-07-06,{archive.format(1)},2018-07-07 15:07:27,此内容因违规无法查看\n"
        + f"t,n,2010-07-06,{archive.format(2)},2018-07-07 15:07:27,此内容因违规无法查看\n"
        + f"t,n,2018-07-06,{archive.format(3)},9999-12-31 00:00:00,此内容因违规无法查看\n",
        encoding="utf-8",
    )
    summary = run(study, "wechatscope", path, skip_bad=True, rejected_path=tmp_path / "r.csv")
    bad = rejected(tmp_path / "r.csv")
    assert summary.counts.rows == 1 and sorted(bad) == [3, 4]
    assert bad[3]["column"] == "column 3 (created_at)" and "2011-01-21" in bad[3]["problem"]
    assert bad[4]["column"] == "column 5 (censored_date)"


def test_scenario_times_outside_the_range_are_malformed(study: Study, tmp_path: Path) -> None:
    path = tmp_path / "scenario.jsonl"
    ok = {"post_id": "s1", "author_id": "a", "published_at": 1.7e9, "text": "x"}
    edit = {**ok, "post_id": "s2", "edits": [[1e300, "later"]]}
    ancient = {**ok, "post_id": "s3", "published_at": 0}
    huge = '{"post_id": "s4", "author_id": "a", "published_at": 1' + "0" * 400 + ', "text": "x"}'
    path.write_text(
        "\n".join([json.dumps(ok), json.dumps(edit), json.dumps(ancient), huge]) + "\n",
        encoding="utf-8",
    )
    summary = run(study, "scenario", path, skip_bad=True, rejected_path=tmp_path / "r.csv")
    bad = rejected(tmp_path / "r.csv")
    assert summary.counts.rows == 1 and sorted(bad) == [2, 3, 4]
    assert bad[2]["column"] == '"edits[0]"' and bad[3]["column"] == '"published_at"'


def test_the_range_is_the_platforms_launch_to_a_day_after_the_import() -> None:
    earliest, latest = import_range("weibo", 1_700_000_000.0)
    assert earliest == 1250208000.0  # 2009-08-14 UTC
    assert latest == 1_700_000_000.0 + 86_400.0
    assert import_range("some-plugin", 0.0)[0] == 681436800.0  # 1991-08-06: the web


# -- readers survive them ------------------------------------------------------------------------

#: What an edited store (not an import) can hold: each goes into one post's verdict, post and
#: observations. ``None`` is SQL NULL (where the column allows it), which is what NaN becomes.
INJECTED: tuple[float, ...] = (
    float("inf"),
    float("-inf"),
    1e300,
    -1e300,
    -62135596800.0,  # 0001-01-01
    253402300799.0,  # 9999-12-31 23:59:59
)


def _impossible_study(tmp_path: Path) -> Path:
    path = tmp_path / "study"
    study = Study.init(path)
    try:
        run(study, "weiboscope", data("import_weiboscope.csv"))
        run(study, "wechatscope", data("import_wechatscope.csv"))
    finally:
        study.close()
    db = sqlite3.connect(path / "store.sqlite")
    pks = [pk for (pk,) in db.execute("SELECT post_pk FROM verdicts ORDER BY post_pk")]
    for pk, value in zip(pks, INJECTED, strict=False):
        db.execute(
            "UPDATE verdicts SET status = 'censored', first_seen_at = ?, last_seen_alive_at = ?,"
            " first_seen_removed_at = ?, updated_at = ? WHERE post_pk = ?",
            (value, value, value, value, pk),
        )
        db.execute(
            "UPDATE posts SET published_at = ?, first_seen_at = ? WHERE id = ?", (value, value, pk)
        )
        db.execute(
            "UPDATE observations SET sent_at = ?, observed_at = ?, received_at = ?"
            " WHERE post_pk = ?",
            (value, value, value, pk),
        )
    inverted, nulls = pks[len(INJECTED)], pks[len(INJECTED) + 1]
    db.execute(  # removed before it was published and before it was last seen
        "UPDATE verdicts SET status = 'censored', last_seen_alive_at = 1.6e9,"
        " first_seen_removed_at = 1.5e9 WHERE post_pk = ?",
        (inverted,),
    )
    db.execute(
        "UPDATE verdicts SET last_seen_alive_at = NULL, first_seen_removed_at = NULL"
        " WHERE post_pk = ?",
        (nulls,),
    )
    db.commit()
    db.close()
    return path


COMMANDS: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("report", "--out", "{tmp}/report.html"),
    ("export", "warc", "--out", "{tmp}/all.warc.gz"),
    ("export", "verdicts"),
    ("export", "verdicts", "--format", "csv"),
    ("export", "csv", "{tmp}/csv"),
    ("export", "parquet", "{tmp}/parquet"),
    ("export", "datasette", "{tmp}/study.db"),
    ("analyze", "timeline"),
    ("analyze", "timeline", "--format", "json"),
    ("analyze", "timeline", "--format", "csv"),
    ("analyze", "survival", "--format", "json"),
    ("analyze", "terms"),
    ("analyze", "accounts"),
    ("analyze", "platforms"),
)


def test_no_command_crashes_on_impossible_times_in_the_store(tmp_path: Path) -> None:
    path = _impossible_study(tmp_path)
    runner = CliRunner()
    for command in COMMANDS:
        args = [part.format(tmp=tmp_path) for part in command]
        result = runner.invoke(app, [*args, "--study", str(path)])
        assert result.exit_code == 0, (command, result.output[-2000:], result.exception)
        if "json" in command or command == ("export", "verdicts"):
            for line in result.stdout.splitlines():
                strict_json(line)  # never Infinity or NaN
    status = runner.invoke(app, ["status", "--study", str(path)]).output
    assert "invalid time (inf)" in status
    timeline = runner.invoke(app, ["analyze", "timeline", "--study", str(path)])
    assert "posts left out: their times are impossible" in " ".join(timeline.output.split())
    package = (tmp_path / "csv" / "datapackage.json").read_text(encoding="utf-8")
    strict_json(package)


def test_no_dashboard_page_fails_on_impossible_times_in_the_store(tmp_path: Path) -> None:
    path = _impossible_study(tmp_path)
    db = sqlite3.connect(path / "store.sqlite")
    ids = db.execute("SELECT platform, post_id FROM posts ORDER BY id LIMIT 8").fetchall()
    db.close()
    options = ServeOptions(background=False, check_host=False)
    pages = ["/", "/removals", "/feed.atom", "/terms", "/speed", "/accounts", "/platforms"]
    pages += [f"/post/{platform}/{post_id}" for platform, post_id in ids]
    pages += [f"/bundle/{platform}/{post_id}" for platform, post_id in ids[:3]]
    charts = ["/charts/removals.json", "/charts/speed.json", "/charts/platforms.json"]
    study = Study.open(path)
    try:
        with TestClient(create_app(study, options)) as client:
            for page in pages:
                assert client.get(page).status_code < 500, page
            for chart in charts:
                answer = client.get(chart)
                assert answer.status_code in (200, 503), chart
                if answer.status_code == 200:
                    strict_json(answer.text)
    finally:
        study.close()
