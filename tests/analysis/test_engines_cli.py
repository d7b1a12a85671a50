"""``analyze … --engine pandas|duckdb|dask``: the same JSON from every engine, the study's
analysis dataset written once and again when the study changed (a takedown reaches it), and
errors that say which engine to use."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryhole.analysis.engines.choose import DATASET_FOLDER
from memoryhole.cli import app
from memoryhole.errors import MemoryholeError
from memoryhole.evidence.takedown import takedown
from memoryhole.study import Study

pytest.importorskip("duckdb")
runner = CliRunner()

COMMANDS = (
    ("terms", "--min-posts", "3"),
    ("survival", "--group-by", "kind", "--bootstrap", "30"),
    ("platforms", "--bootstrap", "30"),
    ("timeline", "--bin", "1h", "--within", "30m", "--no-detect"),
    ("accounts",),
    ("accounts", "--suspensions", "--bin", "1h"),
)


def rows(study: Path, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(
        app, ["analyze", *args, "--study", str(study), "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def same(expected: list[dict[str, object]], got: list[dict[str, object]], exact: bool) -> None:
    assert len(got) == len(expected) and expected
    for a, b in zip(expected, got, strict=True):
        assert list(b) == list(a)
        for key, value in a.items():
            if isinstance(value, float) and not exact:
                other = b[key]
                assert isinstance(other, float)
                assert math.isclose(other, value, rel_tol=1e-12) or (
                    math.isnan(other) and math.isnan(value)
                ), key
            else:
                assert b[key] == value or (b[key] != b[key] and value != value), key


@pytest.mark.timeout(300)
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_every_engine_prints_the_same_rows(small_study: Path, command: tuple[str, ...]) -> None:
    pandas = rows(small_study, *command, "--engine", "pandas")
    duckdb = rows(small_study, *command, "--engine", "duckdb")
    same(pandas, duckdb, exact=False)
    same(duckdb, rows(small_study, *command, "--engine", "dask"), exact=True)


def test_the_dataset_is_reused_and_rewritten_after_a_takedown(small_study: Path) -> None:
    before = rows(small_study, "platforms", "--engine", "duckdb", "--bootstrap", "0")
    manifest = small_study / DATASET_FOLDER / "manifest.json"
    written = manifest.stat().st_mtime_ns
    rows(small_study, "platforms", "--engine", "duckdb", "--bootstrap", "0")
    assert manifest.stat().st_mtime_ns == written  # nothing changed: not written again
    study = Study.open(small_study)
    try:
        takedown(study, "1000002", platform="weibo", reason="test")
    finally:
        study.close()
    after = rows(small_study, "platforms", "--engine", "duckdb", "--bootstrap", "0")
    assert manifest.stat().st_mtime_ns != written
    assert after[0]["posts"] == before[0]["posts"] - 15  # type: ignore[operator]
    assert after[0]["authors"] == before[0]["authors"] - 1  # type: ignore[operator]
    assert after == rows(small_study, "platforms", "--engine", "pandas", "--bootstrap", "0")


def test_segmenter_named_by_the_old_engine_flag_still_works(small_study: Path) -> None:
    assert rows(small_study, "terms", "--min-posts", "3", "--engine", "jieba") == rows(
        small_study, "terms", "--min-posts", "3", "--segmenter", "jieba"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("terms", "--engine", "duckdb", "--pairs"), "use --engine pandas"),
        (("survival", "--engine", "duckdb", "--group-by", "term:x"), "use --engine pandas"),
        (("terms", "--engine", "spark"), "use one of auto, pandas, duckdb, dask"),
        (("timeline", "--engine", "duckdb", "--changes"), "use --engine pandas"),
        (("terms", "--engine", "duckdb", "--scheduler", "tcp://x:1"), "for --engine dask"),
    ],
)
def test_engine_errors_say_what_to_do(
    small_study: Path, args: tuple[str, ...], message: str
) -> None:
    result = runner.invoke(app, ["analyze", *args, "--study", str(small_study)])
    assert isinstance(result.exception, MemoryholeError), result.output
    assert message in str(result.exception)


def test_exported_dataset_analyses_like_the_study(small_study: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", "analysis", str(tmp_path / "d"), "--study", str(small_study)]
    )
    assert result.exit_code == 0, result.output
    assert not (small_study / DATASET_FOLDER).exists()
    elsewhere = tmp_path / "elsewhere"  # --dataset alone: the study is not read
    elsewhere.mkdir()
    command = ("platforms", "--bootstrap", "0", "--engine", "duckdb")
    same(
        rows(small_study, *command),
        rows(elsewhere, *command, "--dataset", str(tmp_path / "d")),
        exact=True,
    )
