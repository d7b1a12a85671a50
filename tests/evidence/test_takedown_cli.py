"""``memoryhole takedown`` (the command) while ``memoryhole run`` collects: the collector's
bodies fetched before it reloaded the deny list are swept too, so no blob holds the author
(issue 21, item 3: "a takedown while a collector runs is undone seconds later")."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.attacks_redaction import collect_and_take_down
from benchmarks.takedown_scan import VICTIM, finder
from memoryhole.evidence.verify import verify_study
from memoryhole.study import Study


@pytest.mark.slow
def test_the_takedown_command_beside_a_running_collector_leaves_no_blob(tmp_path: Path) -> None:
    path, _ = collect_and_take_down(tmp_path, seconds=8)
    study = Study.open(path)
    pattern = finder(study.pseudonym("weibo", VICTIM))
    held = [
        p.name
        for p in (path / "blobs").rglob("*")
        if p.is_file() and pattern.search(p.read_bytes())
    ]
    report = verify_study(study)
    study.close()
    assert held == []
    assert report.success, report.failures
