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
