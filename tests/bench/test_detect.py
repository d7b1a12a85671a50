"""``memoryhole bench detect`` on a small scenario: memoryhole beats round-robin; the lean
collector the baselines run on gives the same verdicts as the full one; the study it leaves
opens, verifies, exports the same verdicts and explains its schedule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memoryhole.bench import detect
from memoryhole.bench.detect import DetectSettings, Job, run_detect, run_job
from memoryhole.evidence.verify import verify_study
from memoryhole.schedule.explain import explain_post
from memoryhole.sim.scenario import ScenarioPost, write_scenario
from memoryhole.store.queries import VERDICT_EXPORT_FIELDS, iter_verdicts
from memoryhole.study import Study
from tests.schedule.replays import HORIZON, small_scenario


@pytest.fixture(scope="module")
def scenario() -> list[ScenarioPost]:
    return small_scenario(posts=400, seed=5)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, scenario: list[ScenarioPost]) -> Path:
    out = tmp_path_factory.mktemp("detect")
    write_scenario(scenario, out / "scenario.jsonl")
    settings = DetectSettings(
        scenario=out / "scenario.jsonl",
        budget_per_post=20.0,
        out=out / "bench",
        horizon=HORIZON,
        poll_interval=120.0,
        workers=1,
        only=("memoryhole", "round-robin"),
    )
    run_detect(settings, scenario)
    return out / "bench"


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_memoryhole_beats_round_robin_on_the_same_budget(bench: Path) -> None:
    summary = json.loads((bench / "summary.json").read_text(encoding="utf-8"))
    mine, baseline = summary["runs"]["memoryhole"], summary["runs"]["round-robin"]
    assert mine["false_removals"] == baseline["false_removals"] == 0
    assert mine["recall_of_watched"] >= 0.99 and mine["attribution_accuracy"] >= 0.99
    assert mine["requests"] <= summary["budget_per_second"] * summary["virtual_seconds"] + 2
    assert mine["median_detection_delay"] < 0.5 * baseline["median_detection_delay"]
    for field in ("median_interval_width", "p90_detection_delay", "recall"):
        assert field in mine


def test_verdicts_are_written_in_the_export_format(bench: Path) -> None:
    for name in ("memoryhole", "round-robin"):
        rows = lines(bench / name / "verdicts.jsonl")
        assert rows and all(tuple(row) == VERDICT_EXPORT_FIELDS for row in rows)
    study = Study.open(bench / "memoryhole" / "study")
    exported = [
        {key: row[key] for key in VERDICT_EXPORT_FIELDS} for row in iter_verdicts(study.engine)
    ]
    assert exported == lines(bench / "memoryhole" / "verdicts.jsonl")
    # the runs share the study's secret: the same author has the same pseudonym everywhere
    authors = {row["post_id"]: row["author_id"] for row in exported}
    for row in lines(bench / "round-robin" / "verdicts.jsonl"):
        assert authors.get(row["post_id"], row["author_id"]) == row["author_id"]
    study.close()


def test_the_study_verifies_although_timelines_showed_its_posts(bench: Path) -> None:
    study = Study.open(bench / "memoryhole" / "study")
    report = verify_study(study)
    assert report.success, report
    with study.engine.connect() as connection:
        listed = connection.exec_driver_sql(
            "select count(*) from observations where kind = 'check' and detail like 'listed by%'"
        ).scalar()
    assert listed and listed > 0  # sightings in timelines are logged as the posts' observations
    study.close()


def test_the_lean_collector_gives_the_full_collectors_verdicts(
    bench: Path, scenario: list[ScenarioPost], tmp_path: Path
) -> None:
    settings = DetectSettings(
        scenario=Path("unused"),
        budget_per_post=20.0,
        out=tmp_path,
        horizon=HORIZON,
        poll_interval=120.0,
        workers=1,
    )
    (tmp_path / "memoryhole" / "study").mkdir(parents=True)
    detect._SCENARIO = list(scenario)
    rate = 20.0 * len(scenario) / HORIZON
    lean = run_job(Job("lean", rate, "memoryhole", timelines=True, full=False), settings)
    full = lines(bench / "memoryhole" / "verdicts.jsonl")
    mine = lines(tmp_path / "lean" / "verdicts.jsonl")
    # (pseudonyms differ: the lean run has its own secret here)
    fields = [k for k in VERDICT_EXPORT_FIELDS if k != "author_id"]
    assert [[r[k] for k in fields] for r in mine] == [[r[k] for k in fields] for r in full]
    summary = json.loads((bench / "summary.json").read_text(encoding="utf-8"))
    assert lean.requests == summary["runs"]["memoryhole"]["requests"]


def test_schedule_explain_says_why(bench: Path) -> None:
    study = Study.open(bench / "memoryhole" / "study")
    rows = lines(bench / "memoryhole" / "verdicts.jsonl")
    live = next(row for row in rows if row["verdict"] == "live")
    removed = next(row for row in rows if row["verdict"] == "censored")
    for row in (live, removed):
        explanation = explain_post(study, row["post_id"])
        text = "\n".join(explanation.lines())
        assert row["post_id"] in text and "risk" in text and "why:" in text
    assert "removed" in explain_post(study, removed["post_id"]).reason
    study.close()
