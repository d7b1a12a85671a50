"""The dashboard's figures out of core (``CacheSettings(engine="duckdb")``, DuckDB over the
study's analysis dataset) equal the in-memory ones: counts to the last digit, the term table
row for row, the time-to-removal curves and medians up to float rounding (the in-memory
Turnbull fit sums one weight per post, the out-of-core one a count per distinct interval)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from memoryhole.analysis.engines.choose import choose_figure_engine
from memoryhole.analysis.overview import SpeedFigures, term_table
from memoryhole.bench.dashboard_data import StudySpec, generate_study
from memoryhole.errors import MemoryholeError
from memoryhole.study import Study
from memoryhole.web.cache import CacheSettings, FigureCache

FIGURES = ("counts", "timeline", "accounts", "speed", "term_index")


def both(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for engine in ("pandas", "duckdb"):
        study = Study.open(path)
        cache = FigureCache(study, CacheSettings(engine=engine, bootstrap=20), background=False)
        try:
            out.append({name: cache.get(name) for name in FIGURES})
            assert not cache.errors
        finally:
            cache.close()
            study.close()
    return out[0], out[1]


def close(a: Any, b: Any, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return bool(math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9))


def assert_same_speed(a: SpeedFigures, b: SpeedFigures) -> None:
    for rows_a, rows_b in ((a.removed_summary, b.removed_summary), (a.all_summary, b.all_summary)):
        assert [(r["group"], r["n"], r["events"]) for r in rows_a] == [
            (r["group"], r["n"], r["events"]) for r in rows_b
        ]
        for ra, rb in zip(rows_a, rows_b, strict=True):
            for name in ("median", "median_ci_low", "median_ci_high"):
                assert close(ra[name], rb[name]), (ra, rb)
    for curve_a, curve_b in ((a.removed_curves, b.removed_curves), (a.all_curves, b.all_curves)):
        assert len(curve_a) == len(curve_b)
        for ra, rb in zip(curve_a, curve_b, strict=True):
            assert ra["group"] == rb["group"]
            for name in ("time", "survival", "ci_low", "ci_high"):
                assert close(ra[name], rb[name]), (name, ra, rb)


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["counts"] == b["counts"]
    assert a["timeline"] == b["timeline"]
    assert a["accounts"] == b["accounts"]
    assert_same_speed(a["speed"], b["speed"])
    assert a["term_index"].outcomes == b["term_index"].outcomes
    for min_posts in (1, 20):
        for kind in ("censored", "author_deleted"):
            ta = term_table(a["term_index"], kind=kind, min_posts=min_posts, merge_views=True)
            tb = term_table(b["term_index"], kind=kind, min_posts=min_posts, merge_views=True)
            assert (ta.posts, ta.removed, ta.baseline) == (tb.posts, tb.removed, tb.baseline)
            assert ta.rows == tb.rows
            assert ta.rows  # something was tested


def test_generated_study_on_two_platforms(tmp_path: Path) -> None:
    path = tmp_path / "study"
    generate_study(path, StudySpec(600, checks=6, platforms=("weibo", "reddit"), seed=3))
    a, b = both(path)
    assert {g["group"] for g in a["speed"].removed_summary} >= {"weibo/censored", "censored"}
    assert_same(a, b)
    assert (path / "analysis-dataset" / "manifest.json").exists()


def test_collected_study_with_a_takedown(study_copy: Study) -> None:
    study_copy.close()
    a, b = both(study_copy.path)
    assert_same(a, b)


def test_study_with_coverage_gaps(downtime_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "study"
    shutil.copytree(downtime_path, path)
    a, b = both(path)
    assert_same(a, b)


def test_engine_choice(tmp_path: Path) -> None:
    path = tmp_path / "study"
    Study.init(path).close()
    assert choose_figure_engine("auto", path) == "pandas"  # far below AUTO_THRESHOLD
    assert choose_figure_engine("duckdb", path) == "duckdb"
    with pytest.raises(MemoryholeError, match="--engine dask"):
        choose_figure_engine("dask", path)


def test_removals_feed_without_texts_selects_the_same(study: Study) -> None:
    from memoryhole.web.feed import FeedQuery, RemovalIndex
    from memoryhole.web.removed_texts import lean_index

    full, lean = RemovalIndex.build(study.engine), lean_index(study.engine)
    assert lean.texts is None and len(lean) == len(full) > 0
    assert lean.platforms == full.platforms
    for term in ("", "六四", "c2:六四", "XSS", "<script", "今天天气", "no such text"):
        for kind in ("", "censored"):
            for page in (1, 2):
                query = FeedQuery.parse("", kind, term, None, None, page, per_page=5)
                got, want = lean.select(query), full.select(query)
                assert want[0].tolist() == got[0].tolist() and want[1] == got[1], (term, kind)


def test_report_out_of_core(study_copy: Study, tmp_path: Path) -> None:
    from memoryhole.report.html import build_report

    memory = build_report(study_copy, tmp_path / "a.html", min_posts=2, bootstrap=10)
    duck = build_report(
        study_copy, tmp_path / "b.html", min_posts=2, bootstrap=10, analysis_engine="duckdb"
    )
    assert (memory.posts, memory.removals, memory.terms) == (duck.posts, duck.removals, duck.terms)
    assert memory.terms > 0
