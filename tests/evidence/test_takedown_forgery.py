"""A redaction counts only when a signed checkpoint covers its leaf (issue 21, item 6).

A leaf is a hash anyone can compute: a forger who deletes a censored answer's blob can append a
well-formed redaction leaf naming it, and a takedown row pointing at that leaf, after the last
checkpoint. Without the study's key no checkpoint can cover it, so ``verify`` must fail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from benchmarks.attacks_redaction import append_redaction_leaf, censored_body
from memoryhole.collect.redactions import take_down
from memoryhole.evidence.verify import verify_study
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import observations, redactions
from memoryhole.study import Study


def taken_down(study_path: Path) -> Study:
    """The study with one author taken down, their redactions logged and signed."""
    study = Study.open(study_path)
    victim = next(
        r for r in iter_verdicts(study.engine, raw_author_ids=True) if r["verdict"] == "censored"
    )
    asyncio.run(take_down(study, str(victim["author_id"]), platform="weibo", reason="test"))
    report = verify_study(study)
    assert report.success, report.failures
    return study


def test_a_redaction_leaf_appended_after_the_last_checkpoint_is_not_accepted(
    study_path: Path,
) -> None:
    study = taken_down(study_path)
    with study.engine.begin() as connection:
        sha = censored_body(connection)
        real = (
            connection.execute(select(observations).where(observations.c.kind == "redaction"))
            .mappings()
            .first()
        )
        leaf = append_redaction_leaf(connection, sha, real)
        connection.execute(
            redactions.insert().values(
                body_sha256=sha, author_pseudonym="a_x", reason="forged", redacted_at=0.0,
                observation_id=leaf,
            )
        )  # fmt: skip
    study.blobs.delete(sha)
    report = verify_study(study)
    assert not report.success
    assert any(sha in f and "after the last signed checkpoint" in f for f in report.failures)
