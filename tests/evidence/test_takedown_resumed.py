"""After a takedown, a collection that goes on (``sim replay`` resumed) stores no new post of
the author's, checks none of the old ones, keeps no body of theirs and still verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.attacks_redaction import _victim_observations, _victim_posts
from benchmarks.takedown_scan import T0, VICTIM, cli, finder, scenario
from memoryhole.evidence.verify import verify_study
from memoryhole.sim.replay import replay
from memoryhole.study import Study


@pytest.fixture
def resumed(tmp_path: Path) -> tuple[Study, int, int]:
    """The study after a takedown and a resumed collection, with the author's posts and the
    last observation id at the takedown."""
    study = Study.init(tmp_path / "study")
    posts = scenario(posts=144)
    replay(study, posts, until=T0 + 5400.0)
    cli("takedown", "--author", VICTIM, "--study", str(study.path))
    before, last = _victim_posts(study, "weibo")
    replay(study, posts, until=T0 + 4 * 3600.0)
    return study, before, last


def test_a_resumed_collection_collects_nothing_of_the_author(
    resumed: tuple[Study, int, int],
) -> None:
    study, before, last = resumed
    assert _victim_posts(study, "weibo")[0] == before  # no new post of theirs
    assert _victim_observations(study, "weibo", after_id=last) == 0  # no check of theirs
    pattern = finder(study.pseudonym("weibo", VICTIM))
    blobs = [p for p in (study.path / "blobs").rglob("*") if p.is_file()]
    assert [p.name for p in blobs if pattern.search(p.read_bytes())] == []


def test_a_resumed_collection_still_verifies(resumed: tuple[Study, int, int]) -> None:
    study, _, _ = resumed
    report = verify_study(study)
    assert report.success, report.failures
