"""A simulator scenario imported as truth: verdicts are exactly what the scenario says."""

from __future__ import annotations

from pathlib import Path

import pytest

from memoryhole.evidence.verify import verify_study
from memoryhole.imports.records import ImportFileError
from memoryhole.scenario import load_scenario
from memoryhole.sim.truth import evaluate
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.imports.conftest import data, run, verdicts_by_post

T = 1_700_000_000.0


def test_truth_imports_as_exact_verdicts(study: Study) -> None:
    summary = run(study, "scenario", data("import_scenario.jsonl"))
    assert summary.counts.new_posts == 6
    assert summary.counts.skipped == {
        "never visible (its author was suspended before it was published)": 1
    }
    rows = verdicts_by_post(study)
    assert {k: v["verdict"] for k, v in rows.items()} == {
        "s1": "live", "s2": "censored", "s3": "author_deleted", "s4": "account_suspended",
        "s5": "account_suspended", "s7": "censored",
    }  # fmt: skip
    assert rows["s2"]["edited"] and not rows["s7"]["edited"]  # s7's edit came after removal
    assert rows["s5"]["first_seen_removed_at"] == T + 10000  # its author's suspension
    score = evaluate(
        load_scenario(data("import_scenario.jsonl")), iter_verdicts(study.engine), T + 1e6
    )
    assert (score.caught, score.true_removals, score.correctly_attributed) == (5, 5, 5)
    assert score.false_removals == [] and score.interval_misses == []
    assert max(score.delays) == 0.0
    assert verify_study(study).failures == []


def test_the_platform_can_be_chosen(study: Study) -> None:
    summary = run(study, "scenario", data("import_scenario.jsonl"), platform="mastodon")
    assert summary.platform == "mastodon"
    assert {row["platform"] for row in iter_verdicts(study.engine)} == {"mastodon"}


def test_a_bad_line_is_named_by_the_scenario_parser(study: Study, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    good = data("import_scenario.jsonl").read_text(encoding="utf-8").splitlines()[0]
    path.write_text(
        good + '\n{"post_id": "x", "author_id": "a", "published_at": "noon", "text": ""}\n'
    )
    with pytest.raises(ImportFileError, match=r"s.jsonl:2: 'published_at' must be a finite number"):
        run(study, "scenario", path)
