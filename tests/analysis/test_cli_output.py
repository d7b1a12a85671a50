"""What ``memoryhole analyze`` prints must be readable and true at a glance (issue 24): tables
that fit the terminal, honest headings when no term is significant, one row per term, hints
instead of empty tables, and ``run`` that says what it does when it has no terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryhole.analysis.tables import PLATFORM_COLUMNS
from memoryhole.cli import app

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def memoryhole(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [sys.executable, "-m", "memoryhole", *args],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        env=env,
    )


#: Interval columns a table shows as one ("12.0%–30.5%"), under this header.
MERGED = {"ci_low": "95% CI", "ci_high": "95% CI", "median_ci_low": "median 95% CI"}
MERGED["median_ci_high"] = "median 95% CI"


SURVIVAL_COLUMNS = ("group", "method", "n", "events", "median", "median_ci_low", "population")


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(
    ("command", "columns"),
    [(["platforms"], PLATFORM_COLUMNS), (["survival"], SURVIVAL_COLUMNS)],
)
def test_tables_fit_the_terminal_with_whole_headers(
    small_study: Path, width: int, command: list[str], columns: tuple[str, ...]
) -> None:
    result = memoryhole(
        "analyze", *command, "--study", str(small_study), "--bootstrap", "5", columns=width
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    cells = {cell for line in lines for cell in re.split(r"\s{2,}", line.strip())}
    for column in columns:
        header = MERGED.get(column, column)
        assert header in cells, f"{header!r} is not shown whole at {width} columns"


def test_terms_say_when_nothing_is_significant_and_how_much_it_would_take(
    small_study: Path,
) -> None:
    text = " ".join(
        run("analyze", "terms", "--study", str(small_study), "--min-posts", "5").split()
    )
    assert "most significant" not in text
    assert "lowest q-values: none is significant (q < 0.05)" in text
    assert "No term is significant at q < 0.05" in text
    # how much data it would take, roughly: posts containing a term removed at 2x the baseline
    assert re.search(r"2× the baseline: about [\d,]+ posts containing it \([\d,]+ removed\)", text)
    assert "w: a word" in text and "c2: two Chinese characters" in text  # the prefixes explained


def test_terms_table_has_one_row_per_text_and_json_keeps_every_view(small_study: Path) -> None:
    path = str(small_study)
    rows = json.loads(
        run("analyze", "terms", "--study", path, "--min-posts", "5", "--format", "json")
    )
    texts = [r["term"].partition(":")[2] for r in rows]
    assert len(texts) > len(set(texts))  # w:X and c2:X both tested: every view, the contract
    merged = json.loads(
        run(
            "analyze", "terms", "--study", path, "--min-posts", "5", "--format", "json",
            "--merge-views",
        )
    )  # fmt: skip
    merged_texts = [r["text"] for r in merged]
    assert len(merged_texts) == len(set(merged_texts))
    assert len(merged) == len(set(texts))
    both = next(r for r in merged if "," in r["views"])
    assert both["term"].partition(":")[0] == both["views"].split(",")[0]
    table = run("analyze", "terms", "--study", path, "--min-posts", "5", "--limit", "100")
    shown = re.findall(r"^\s*(?:w|c2|c3):(\S+)", table, flags=re.M)
    assert shown and len(shown) == len(set(shown))  # a table: one row per text by default
    everything = run(
        "analyze", "terms", "--study", path, "--min-posts", "5", "--limit", "100", "--all-views"
    )
    listed = re.findall(r"^\s*(?:w|c2|c3):(\S+)", everything, flags=re.M)
    assert len(listed) > len(set(listed))


def test_short_study_timeline_says_to_use_within_and_what_to_do_about_changes(
    small_study: Path,
) -> None:
    """A one-day study: nothing was watched for --within 1d, so say so; and never "no
    significant change in 0 series tested"."""
    text = " ".join(run("analyze", "timeline", "--study", str(small_study)).split())
    assert "for --within 1d yet" in text and "--within 6h" in text
    assert "0 series tested" not in text
    assert "No series could be tested" in text and "--min-posts" in text


def test_changes_without_rows_is_one_line(small_study: Path) -> None:
    out = run("analyze", "timeline", "--study", str(small_study), "--changes")
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("Change points: no rows. No series could be tested")
    assert "rate_before" not in out  # no 17-column header cut into fragments


def test_run_without_a_terminal_prints_progress_lines(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    study = str(tmp_path / "s")
    assert memoryhole("init", study).returncode == 0
    url = f"http://127.0.0.1:{port}"
    assert memoryhole("watch", "weibo:user/42", "--base-url", url, "--study", study).returncode == 0
    result = memoryhole("run", "--for", "4s", "--progress-every", "1s", "--study", study)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    progress = [line for line in lines if "posts watched" in line and "checks" in line]
    assert len(progress) >= 2, result.stdout  # periodically, not once at the end
    assert lines.index(progress[0]) < lines.index(next(x for x in lines if x.startswith("done:")))
    assert any("collecting; a progress line every 1 s" in line for line in lines)


def test_export_verdicts_has_readable_times_and_minutes_after_the_contract(
    small_study: Path,
) -> None:
    import csv
    import io
    from datetime import UTC, datetime

    from memoryhole.store.queries import VERDICT_EXPORT_FIELDS

    old = ("post_id", "author_id", "first_seen_at", "last_seen_alive_at", "first_seen_removed_at")
    assert VERDICT_EXPORT_FIELDS[: len(old) + 1] == (*old, "verdict")  # the contract's order
    rows = list(
        csv.DictReader(
            io.StringIO(run("export", "verdicts", "--format", "csv", "--study", str(small_study)))
        )
    )
    removed = next(r for r in rows if r["verdict"] == "censored")
    at = float(removed["first_seen_removed_at"])
    assert removed["first_seen_removed_at_iso"] == datetime.fromtimestamp(at, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert 0 < float(removed["seen_removed_after_minutes"]) < 24 * 60
    assert re.fullmatch(r"\d+(\.\d)?", removed["seen_removed_after_minutes"])
    lines = run("export", "verdicts", "--study", str(small_study)).splitlines()
    live = next(json.loads(x) for x in lines if json.loads(x)["verdict"] == "live")
    assert live["first_seen_removed_at_iso"] is None and live["first_seen_at_iso"].endswith("Z")
