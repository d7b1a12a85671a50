"""``memoryhole analyze …`` and the open exports as a user meets them: the JSON contracts,
tables, CSV, plots, filters, and errors that say what to do."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.errors import MemoryholeError
from tests.analysis.study_fixtures import NEW_RULE, PLANTED, PlantedStudy

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(*args: str) -> list[dict[str, object]]:
    value = json.loads(run(*args, "--format", "json"))
    assert isinstance(value, list)
    return value


def test_terms_json_contract(planted_study: PlantedStudy) -> None:
    rows = as_json("analyze", "terms", "--study", str(planted_study.path))
    for key in ("term", "posts", "removed", "rate", "p_value", "q_value", "ci_low", "lift"):
        assert key in rows[0]
    terms = {r["term"]: r for r in rows}
    assert terms[f"c2:{PLANTED[0][:2]}"]["q_value"] < 0.05  # type: ignore[operator]
    limited = as_json("analyze", "terms", "--study", str(planted_study.path), "--limit", "5")
    assert limited == rows[:5]
    significant = as_json("analyze", "terms", "--study", str(planted_study.path), "--significant")
    assert all(r["q_value"] < 0.05 for r in significant)  # type: ignore[operator]


def test_terms_matched_and_pairs_options(planted_study: PlantedStudy) -> None:
    path = str(planted_study.path)
    matched = as_json("analyze", "terms", "--study", path, "--matched", "--limit", "3")
    assert "odds_ratio_mh" in matched[0]
    pairs = as_json("analyze", "terms", "--study", path, "--pairs", "--limit", "3")
    assert " + " in str(pairs[0]["term"])


def test_terms_table_and_csv(planted_study: PlantedStudy) -> None:
    table = run("analyze", "terms", "--study", str(planted_study.path), "--limit", "5")
    assert "Removal by term" in table and "baseline" in table
    text = run("analyze", "terms", "--study", str(planted_study.path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:9] == [
        "term",
        "posts",
        "removed",
        "rate",
        "ci_low",
        "ci_high",
        "lift",
        "p_value",
        "q_value",
    ]


def test_survival_json_and_plot(planted_study: PlantedStudy, tmp_path: Path) -> None:
    plot = tmp_path / "survival.svg"
    args = ["analyze", "survival", "--study", str(planted_study.path), "--bootstrap", "20"]
    rows = as_json(*args, "--group-by", "kind", "--plot", str(plot))
    # on Weibo an author's deletion reads "unknown" (errno 20101)
    assert {r["group"] for r in rows} == {"censored", "unknown", "account_suspended"}
    for key in ("n", "events", "median", "median_ci_low", "median_ci_high", "population"):
        assert key in rows[0]
    assert plot.read_text().lstrip().startswith("<svg")
    curves = as_json(*args, "--curves", "--group-by", f"term:{PLANTED[0]}")
    assert {"time", "survival", "ci_low", "ci_high", "group"} <= set(curves[0])
    assert {c["group"] for c in curves} == {PLANTED[0], "(none of them)"}


def test_timeline_bins_changes_and_png_with_cjk(
    planted_study: PlantedStudy, tmp_path: Path
) -> None:
    path = str(planted_study.path)
    bins = as_json("analyze", "timeline", "--study", path, "--bin", "12h", "--no-detect")
    assert sum(int(b["posts"]) for b in bins) > 2900  # type: ignore[call-overload]
    assert {"bin_start", "bin", "eligible", "removed", "rate", "ci_low"} <= set(bins[0])
    changes = as_json(
        "analyze", "timeline", "--study", path, "--changes", "--change-term", NEW_RULE
    )
    assert [c["term"] for c in changes if c["significant"]] == [NEW_RULE]
    row = next(c for c in changes if c["term"] == NEW_RULE)
    assert row["direction"] == "up"
    assert abs(float(row["change_at"]) - planted_study.rule_change_at) < 3 * 3600  # type: ignore[arg-type]
    plot = tmp_path / "timeline.png"
    table = run("analyze", "timeline", "--study", path, "--term", NEW_RULE, "--plot", str(plot))
    assert "Removal rate changed" in table
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_accounts_and_platforms(planted_study: PlantedStudy) -> None:
    path = str(planted_study.path)
    authors = as_json("analyze", "accounts", "--study", path)
    assert all(str(a["author"]).startswith("a_") for a in authors)
    assert authors[0]["suspended"] is True
    suspensions = as_json("analyze", "accounts", "--study", path, "--suspensions")
    assert sum(int(s["accounts"]) for s in suspensions) == sum(  # type: ignore[call-overload]
        1 for a in authors if a["suspended"]
    )
    platforms = as_json("analyze", "platforms", "--study", path, "--bootstrap", "10")
    assert [p["platform"] for p in platforms] == ["weibo"]
    assert PLANTED[0][:2] in str(platforms[0]["top_terms"]) or platforms[0]["significant_terms"]


def test_filters_narrow_the_posts(planted_study: PlantedStudy) -> None:
    path = str(planted_study.path)
    day = planted_study.rule_change_at
    late = as_json("analyze", "timeline", "--study", path, "--since", str(day), "--no-detect")
    first_bin = min(float(b["bin_start"]) for b in late if int(b["posts"]))  # type: ignore[call-overload, arg-type]
    assert first_bin >= day - 86400
    empty = as_json("analyze", "accounts", "--study", path, "--platform", "nowhere")
    assert empty == []


def test_bad_options_say_what_to_do(planted_study: PlantedStudy) -> None:
    path = str(planted_study.path)
    cases = [
        (["analyze", "terms", "--kind", "banned"], "not a removal kind"),
        (["analyze", "terms", "--pairs", "--matched"], "choose one"),
        (["analyze", "survival", "--group-by", "colour"], "unknown grouping"),
        (["analyze", "timeline", "--since", "yesterday-ish"], "not a time"),
        (["analyze", "terms", "--plot", "chart.gif"], ".png or .svg"),
    ]
    for args, message in cases:
        result = runner.invoke(app, [*args, "--study", path])
        assert isinstance(result.exception, MemoryholeError), args
        assert message in str(result.exception)


def test_help_lists_the_analyze_and_export_commands() -> None:
    text = run("analyze", "--help")
    for command in ("terms", "survival", "timeline", "accounts", "platforms"):
        assert command in text
    exports = run("export", "--help")
    for command in ("parquet", "csv", "datasette", "verdicts", "warc"):
        assert command in exports


def test_export_commands_run_end_to_end(small_study: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "memoryhole", "export", "datasette", str(tmp_path / "s.db")],
        cwd=small_study,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "60 posts" in result.stderr
    run("export", "csv", str(tmp_path / "csv"), "--study", str(small_study))
    assert (tmp_path / "csv" / "datapackage.json").exists()
    pytest.importorskip("pyarrow")
    run("export", "parquet", str(tmp_path / "pq"), "--study", str(small_study))
    assert (tmp_path / "pq" / "posts" / "platform=weibo" / "part-0.parquet").exists()


def test_chinese_labels_render_with_a_cjk_font() -> None:
    """Two different Chinese labels must give different PNGs: without a CJK font every glyph
    is the same empty box. (Debian: apt-get install fonts-noto-cjk.)"""
    pytest.importorskip("vl_convert")
    import pandas as pd

    from memoryhole.analysis.plots import cjk_font, terms_chart

    if cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    import vl_convert

    from memoryhole.analysis.plots import _configured

    def png(label: str) -> bytes:
        frame = pd.DataFrame(
            {"term": [label], "rate": [0.5], "ci_low": [0.4], "ci_high": [0.6], "posts": [10]}
        ).assign(removed=5, q_value=0.01, significant=True)
        spec = _configured(terms_chart(frame)).to_dict()
        return bytes(vl_convert.vegalite_to_png(spec))

    assert png("w:六四") != png("w:天安")
