"""The ``region`` of a ``withheld`` verdict in every export: ``export verdicts`` (the contract's
field), the open exports' ``verdicts`` table (CSV, Parquet, Datasette) and a post's evidence
bundle; null for every other verdict. The study: the simulator in YouTube's shapes, its
scenario withholding posts in CN, watched from CN with a vantage in DE."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from memoryhole.evidence.bundle import build_bundle
from memoryhole.evidence.verify import verify_bundle
from memoryhole.exports import export_csv, export_datasette, export_parquet
from memoryhole.store.queries import VERDICT_EXPORT_FIELDS
from memoryhole.study import Study
from tests.collect.withheld_study import watched


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return watched(tmp_path_factory.mktemp("withheld"), "youtube", vantages=True)


def _by_verdict(rows: list[dict[str, object]]) -> dict[str, set[object]]:
    regions: dict[str, set[object]] = {}
    for row in rows:
        regions.setdefault(str(row["verdict"]), set()).add(row["region"] or None)
    return regions


def check(regions: dict[str, set[object]]) -> None:
    assert regions.pop("withheld") == {"CN"}
    assert {"live", "censored"} <= set(regions)
    assert all(found == {None} for found in regions.values()), regions


def test_export_verdicts_gives_the_region_of_withheld_posts_only(study: Study) -> None:
    assert VERDICT_EXPORT_FIELDS[-1] == "region"  # added last: readers by position keep working
    out = subprocess.run(
        [sys.executable, "-m", "memoryhole", "export", "verdicts", "--study", str(study.path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert rows and all("region" in row for row in rows)
    check(_by_verdict(rows))


def test_the_open_exports_verdicts_table_has_the_region(study: Study, tmp_path: Path) -> None:
    export_csv(study, tmp_path / "csv")
    with open(tmp_path / "csv" / "verdicts.csv", encoding="utf-8", newline="") as table:
        check(_by_verdict(list(csv.DictReader(table))))
    pq = pytest.importorskip("pyarrow.parquet")
    export_parquet(study, tmp_path / "parquet")
    check(_by_verdict(pq.read_table(tmp_path / "parquet" / "verdicts").to_pylist()))
    export_datasette(study, tmp_path / "study.db")
    db = sqlite3.connect(tmp_path / "study.db")
    db.row_factory = sqlite3.Row
    check(_by_verdict([dict(r) for r in db.execute("SELECT verdict, region FROM verdicts")]))


def test_a_withheld_posts_evidence_bundle_keeps_its_region(study: Study, tmp_path: Path) -> None:
    with study.engine.connect() as connection:
        post_id = connection.exec_driver_sql(
            "SELECT p.post_id FROM posts p JOIN verdicts v ON v.post_pk = p.id "
            "WHERE v.status = 'withheld' LIMIT 1"
        ).scalar_one()
    manifest = build_bundle(study, str(post_id), tmp_path / "withheld.zip")
    assert manifest["verdict"]["verdict"] == "withheld"
    assert manifest["verdict"]["region"] == "CN"
    assert "visible in DE" in manifest["verdict"]["signal"]
    report = verify_bundle(tmp_path / "withheld.zip", study.verifier_key())
    assert report.success, report.failures


def test_withheld_by_region_over_time_counts_what_the_scenario_blocked(study: Study) -> None:
    """Every post the scenario blocks in CN and does not remove is one CN spell, open at the
    end; the blocked posts censored later end theirs in a removal; counts per hour add up."""
    from memoryhole.analysis.withheld import study_spells, withheld_table
    from memoryhole.scenario import effective_removal, suspension_times
    from memoryhole.sim.truth import scenario_post_id
    from memoryhole.store.schema import posts
    from tests.collect.withheld_study import UNTIL, blocked_scenario, truth

    blocked, removed = truth()
    found = study_spells(study.engine)
    with study.engine.connect() as connection:
        ids = {pk: scenario_post_id(str(i)) for pk, i in connection.execute(
            posts.select().with_only_columns(posts.c.id, posts.c.post_id))}  # fmt: skip
    assert {s.region for s in found} == {"CN"}
    assert {ids[s.post_pk] for s in found if s.end is None} == blocked
    ended = {ids[s.post_pk]: s.how for s in found if s.end is not None}
    assert set(ended.values()) <= {"removed"} and set(ended) <= removed
    scenario = {p.post_id: p for p in blocked_scenario()}
    suspended = suspension_times(scenario.values())
    for spell in found:  # first seen withheld after the block began, before any removal
        post = scenario[ids[spell.post_pk]]
        assert spell.start >= post.withhold[0][0]
        gone = effective_removal(post, suspended)
        if spell.how == "removed" and gone is not None:
            assert spell.start < gone[0] <= (spell.end or UNTIL)
    table = withheld_table(found, bin="hour")
    assert set(table["region"]) == {"CN"}
    assert int(table["withheld"].sum()) == len(found)
    assert int(table["removed"].sum()) == len(ended)
    assert int(table["withheld_at_end"].iloc[-1]) == len(blocked)
    running = table["withheld"].cumsum() - table["removed"].cumsum() - table["lifted"].cumsum()
    assert list(running) == list(table["withheld_at_end"])


def test_a_spell_ends_where_the_post_is_served_again_and_silence_changes_nothing() -> None:
    from memoryhole.analysis.withheld import UNSTATED, spells

    answers = [
        (1, "telegram", 10.0, "live", ""),
        (1, "telegram", 20.0, "withheld", "withheld in CN, JP: visible in DE; here: …"),
        (1, "telegram", 30.0, "unreachable", "server error 502"),
        (1, "telegram", 40.0, "withheld", "withheld in CN: visible in DE, JP; here: …"),
        (1, "telegram", 50.0, "live", ""),
        (2, "youtube", 15.0, "withheld", "withheld where this request came from"),
        (2, "youtube", 60.0, "censored", ""),
        (3, "youtube", 70.0, "withheld", "withheld in RU: …"),
    ]
    found = {(s.post_pk, s.region): (s.start, s.end, s.how) for s in spells(answers)}
    assert found == {
        (1, "CN"): (20.0, 50.0, "lifted"),
        (1, "JP"): (20.0, 40.0, "lifted"),
        (2, UNSTATED): (15.0, 60.0, "removed"),
        (3, "RU"): (70.0, None, None),
    }


def test_analyze_withheld_prints_the_table_as_json(study: Study) -> None:
    from memoryhole.analysis.withheld import WITHHELD_COLUMNS, study_spells, withheld_table

    out = subprocess.run(
        [sys.executable, "-m", "memoryhole", "analyze", "withheld", "--bin", "hour",
         "--format", "json", "--study", str(study.path)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    rows = json.loads(out)
    expected = withheld_table(study_spells(study.engine), bin="hour")
    assert rows and list(rows[0]) == list(WITHHELD_COLUMNS)
    assert [r["withheld_at_end"] for r in rows] == list(expected["withheld_at_end"])
    assert rows[0]["bin"].endswith("Z") and rows[0]["region"] == "CN"
