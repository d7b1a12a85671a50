"""``memoryhole import`` as a user meets it: a summary, errors naming line and column."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.errors import MemoryholeError
from memoryhole.study import Study
from tests.imports.conftest import data, run


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_import_then_export_and_verify(tmp_path: Path) -> None:
    study = str(tmp_path / "study")
    cli("init", study)
    done = cli("import", "wechatscope", str(data("import_wechatscope.csv")), "--study", study)
    assert "new posts" in done and "13" in done
    again = cli("import", "wechatscope", str(data("import_wechatscope.csv")), "--study", study)
    assert "imported before" in again
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data("import_weiboscope_malformed.csv").read_bytes())
    skipped = cli("import", "weiboscope", str(bad), "--skip-bad", "--study", study)
    assert "7 malformed rows set aside" in " ".join(skipped.split())
    assert (tmp_path / "bad.csv.rejected.csv").exists()
    exported = cli("export", "verdicts", "--format", "csv", "--study", study)
    assert exported.count("\n") == 1 + 13 + 2 and "gh_" not in exported
    assert "verified" in cli("verify", "--study", study)


def test_a_malformed_row_exits_non_zero_naming_line_and_column(tmp_path: Path) -> None:
    Study.init(tmp_path / "study").close()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data("import_weiboscope_malformed.csv").read_bytes())
    failed = subprocess.run(
        [sys.executable, "-m", "memoryhole", "import", "weiboscope", str(bad), "--study",
         str(tmp_path / "study")],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    message = " ".join(failed.stderr.split())
    assert f"{bad}:3: column 9 (created_at): expected a date-time" in message


def test_unknown_kind_and_platform_mismatch_are_refused(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    with pytest.raises(MemoryholeError, match="unknown import kind 'twitter'; use one of"):
        run(study, "twitter", data("import_wechatscope.csv"))
    with pytest.raises(MemoryholeError, match="wechatscope imports are wechat posts"):
        run(study, "wechatscope", data("import_wechatscope.csv"), platform="weibo")
    study.close()
