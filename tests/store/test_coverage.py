"""Coverage gaps (store/coverage.py): a collector's downtime is data, and removals whose
interval spans it are flagged, never read as a surge of fast censorship."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.platforms import registry
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.faults import FaultSpec
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.store.coverage import GapIndex, _subtract, gap_threshold
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.scenarios import known_removals

START = 1_717_200_000.0
HOUR = 3600.0


def collect(
    study: Study, posts: list[ScenarioPost], start: float, end: float, faults: str | None = None
) -> None:
    """The collector on the simulator from platform time ``start`` (whatever it last did)."""
    with study.writer_lock():
        clock = VirtualClock(start)
        transport = InProcessTransport(
            SimPlatform(posts, clock, "weibo"),
            faults=FaultSpec.parse(faults) if faults else None,
            seed=1,
        )
        adapters = {"weibo": registry.get("weibo", REPLAY_BASE_URL)}
        collector = Collector(study, adapters, transport, clock, budget_per_second=50.0)
        asyncio.run(collector.run(until=end))


@pytest.fixture(scope="module")
def downtime_study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    """Watched for an hour, then nothing for 7 hours (posts still published and removed
    meanwhile), then watched for 3 more hours."""
    posts = known_removals(START, posts=48) + known_removals(START + 2 * HOUR, posts=48)
    posts = [
        ScenarioPost(f"{p.post_id}{i}", p.author_id, p.published_at, p.text, p.removed_at,
                     p.removal, p.edits)
        for i, p in enumerate(posts)
    ]  # fmt: skip
    study = Study.init(tmp_path_factory.mktemp("downtime") / "study")
    replay(study, posts, until=START + HOUR)
    collect(study, posts, START + 8 * HOUR, START + 11 * HOUR)
    return study


def test_a_collector_downtime_is_a_gap_of_every_target(downtime_study: Study) -> None:
    gaps = downtime_study.coverage_gaps()
    down = [g for g in gaps if g.reason == "not_collected"]
    assert down, gaps
    (gap,) = down
    assert gap.target == "weibo:all" and gap.platform == "weibo"
    assert START + HOUR - 120 <= gap.start <= START + HOUR
    assert START + 8 * HOUR <= gap.end <= START + 8 * HOUR + 120
    assert not [g for g in gaps if g.reason != "not_collected"]


def test_removals_spanning_the_gap_are_flagged_in_the_verdict_export(
    downtime_study: Study,
) -> None:
    rows = list(iter_verdicts(downtime_study.engine, gaps=downtime_study.gap_index()))
    removed = [r for r in rows if r["first_seen_removed_at"] is not None]
    spanning = [r for r in removed if r["interval_spans_gap"]]
    assert spanning and len(spanning) < len(removed)
    for row in removed:
        crosses = (row["last_seen_alive_at"] or 0) < START + 2 * HOUR and row[
            "first_seen_removed_at"
        ] > START + 7 * HOUR
        assert row["interval_spans_gap"] is crosses
    assert all(r["interval_spans_gap"] is False for r in rows if r["verdict"] == "live")


def test_a_healthy_study_has_no_gap(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "healthy")
    replay(study, known_removals(START), until=START + 6 * HOUR)
    assert study.coverage_gaps() == []
    rows = list(iter_verdicts(study.engine))
    assert rows and not any(r["interval_spans_gap"] for r in rows)


def test_only_transient_answers_are_a_gap_of_their_own(tmp_path: Path) -> None:
    posts = known_removals(START)
    study = Study.init(tmp_path / "outage")
    replay(study, posts, until=START + HOUR)
    collect(study, posts, START + HOUR, START + 3 * HOUR, faults="5xx=1.0")
    collect(study, posts, START + 3 * HOUR, START + 4 * HOUR)
    gaps = study.coverage_gaps()
    assert [g.reason for g in gaps] == ["transient_only"]
    assert gaps[0].end - gaps[0].start > 1.5 * HOUR


def test_thresholds_and_interval_arithmetic() -> None:
    assert gap_threshold(60.0, 5.0) == 600.0
    assert gap_threshold(300.0, 5.0) == 1500.0
    assert gap_threshold(60.0, 0.001) == 5000.0
    assert _subtract((0.0, 10.0), [(2.0, 3.0), (8.0, 12.0)]) == [(0.0, 2.0), (3.0, 8.0)]
    assert _subtract((0.0, 10.0), [(-1.0, 11.0)]) == []
    index = GapIndex([], {})
    assert not index.spans("weibo", None, 0.0, 10.0)
    assert not index.spans("weibo", None, 0.0, None)


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "memoryhole", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "160"},
    )
    return done.stdout


def test_status_and_the_verdict_export_say_so(downtime_study: Study) -> None:
    where = str(downtime_study.path)
    status = json.loads(cli("status", "--format", "json", "--study", where))
    (gap,) = status["coverage_gaps"]
    assert gap["target"] == "weibo:all" and gap["reason"] == "not_collected"
    assert gap["start"] < gap["end"] and gap["hours"] > 6.5
    assert gap["start_iso"].endswith("Z")
    assert "coverage gap: weibo:all" in cli("status", "--study", where)
    exported = [
        json.loads(line) for line in cli("export", "verdicts", "--study", where).split("\n") if line
    ]
    assert any(row["interval_spans_gap"] for row in exported)
    assert all(row["interval_spans_gap"] in (True, False) for row in exported)


def test_speed_statistics_leave_gap_removals_out_unless_asked(downtime_study: Study) -> None:
    from memoryhole.analysis.overview import removal_timings
    from memoryhole.analysis.study_data import StudyData
    from memoryhole.analysis.tables import survival_table

    data = StudyData.load(downtime_study)
    flagged = int(data.posts["interval_spans_gap"].sum())
    removed = int(data.posts["first_seen_removed_at"].notna().sum())
    assert 0 < flagged < removed
    _, honest = survival_table(data, kind=None, bootstrap=0)
    _, everything = survival_table(data, kind=None, bootstrap=0, include_gap_removals=True)
    assert honest["n"].iloc[0] == removed - flagged
    assert everything["n"].iloc[0] == removed
    assert honest["gap_removals_left_out"].iloc[0] == flagged
    assert honest["median"].iloc[0] < everything["median"].iloc[0]  # the downtime inflated it
    _, all_posts = survival_table(data, kind=None, bootstrap=0, population="all")
    assert all_posts["n"].iloc[0] == data.n_posts  # right-censored, not dropped

    timings = removal_timings(downtime_study.engine, gaps=downtime_study.gap_index())
    assert int(timings["interval_spans_gap"].sum()) == flagged
    assert int(timings["first_seen_removed_at"].notna().sum()) == removed - flagged
    kept = removal_timings(downtime_study.engine, include_gap_removals=True)
    assert int(kept["first_seen_removed_at"].notna().sum()) == removed


def test_the_overview_chart_and_the_report_shade_the_gap(
    downtime_study: Study, tmp_path: Path
) -> None:
    """The dashboard's removals chart and the report's draw the downtime as a grey band
    behind the bars, spanning the gap `status` lists."""
    from fastapi.testclient import TestClient

    from memoryhole.report.html import build_report
    from memoryhole.web.app import ServeOptions, create_app

    down = max(
        (g for g in downtime_study.coverage_gaps() if g.reason == "not_collected"),
        key=lambda g: g.seconds,
    )
    options = ServeOptions(public=True, token="t" * 32, background=False, check_host=False)
    spec = TestClient(create_app(downtime_study, options)).get("/charts/removals.json").json()
    shaded, bars = spec["layer"]
    assert bars["mark"]["type"] == "rect" and shaded["mark"]["color"] == "#bdbdbd"
    band = max(
        shaded["data"]["values"],
        key=lambda v: datetime.fromisoformat(v["end"]) - datetime.fromisoformat(v["start"]),
    )
    start = datetime.fromisoformat(band["start"]).timestamp()
    end = datetime.fromisoformat(band["end"]).timestamp()
    assert abs(start - down.start) <= 1.0 and abs(end - down.end) <= 1.0
    assert "not collected" in band["gap"]
    out = tmp_path / "report.html"
    build_report(downtime_study, out, min_posts=2, bootstrap=10)
    assert band["start"] in out.read_text(encoding="utf-8")
