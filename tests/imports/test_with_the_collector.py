"""Imports in a study the collector also writes: one log, one verify, exports and analysis."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from memoryhole.errors import StudyLockedError
from memoryhole.evidence.verify import verify_study
from memoryhole.sim.replay import replay
from memoryhole.store.schema import observations, posts
from memoryhole.study import Study
from tests.imports.conftest import data, run, verdicts_by_post
from tests.scenarios import known_removals

T0 = 1_700_000_000.0


def test_imports_and_observations_share_one_log_that_verifies(study: Study) -> None:
    scenario = known_removals(T0, posts=12)
    replay(study, scenario, until=T0 + 3 * 3600)
    observed = verdicts_by_post(study)
    assert observed["4900000000000001"]["checks"] > 0
    run(study, "weiboscope", data("import_weiboscope.csv"))
    # responses archived a year later about posts the collector watched: they add to them
    summary = run(study, "jsonl", data("import_weibo_responses.jsonl"))
    assert (summary.counts.updated_posts, summary.counts.new_posts) == (4, 0)
    rows = verdicts_by_post(study)
    assert rows["4900000000000001"]["verdict"] == "unknown"  # errno 20101 says no more
    assert rows["4900000000000001"]["checks"] == observed["4900000000000001"]["checks"] + 4
    assert verify_study(study).failures == []
    # the collector resumes over a study with imported posts, and never checks them
    replay(study, scenario, until=T0 + 6 * 3600)
    with study.engine.connect() as conn:
        imported_checked = conn.execute(
            select(observations.c.id)
            .join(posts, posts.c.id == observations.c.post_pk)
            .where(posts.c.imported_from.is_not(None), observations.c.kind == "check")
        ).all()
    assert imported_checked == []
    assert verify_study(study).failures == []


def test_an_import_waits_for_no_collector(study: Study) -> None:
    with study.writer_lock(), pytest.raises(StudyLockedError, match=r"busy.*an import needs"):
        run(study, "weiboscope", data("import_weiboscope.csv"))


def test_imported_posts_flow_into_analysis(study: Study) -> None:
    from memoryhole.analysis.study_data import load_posts
    from memoryhole.analysis.survival import Timings

    run(study, "weiboscope", data("import_weiboscope.csv"))
    run(study, "wechatscope", data("import_wechatscope.csv"))
    frame = load_posts(study.engine)
    assert len(frame) == 28 and set(frame["platform"]) == {"weibo", "wechat"}
    undated = frame[frame["post_id"] == "mnzrsoGWC1"].iloc[0]
    assert undated["verdict"] == "censored" and math.isnan(undated["first_seen_removed_at"])
    _left, right = Timings.from_rows(frame.rename(columns={"verdict": "kind"})).intervals(
        "censored"
    )
    assert int((right < math.inf).sum()) == 3  # the WeChat removals are dated, Weibo's are not
