"""A scenario's country blocks (``withhold`` events) seen through vantage points, end to end on
the simulator in the shapes of the platforms that have a country block's own answer (YouTube's
"not available in your country", Telegram's "isn't available in your country"): a post withheld
in CN while DE sees it is ``withheld`` in CN, never a removal; a post removed everywhere is the
removal; without a vantage the block is still ``withheld`` (the platform says so), never a
removal."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from memoryhole.clock import VirtualClock
from memoryhole.evidence.verify import verify_study
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.truth import evaluate, scenario_post_id
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import observations
from tests.collect.withheld_study import UNTIL, blocked_scenario, truth, watched


@pytest.mark.parametrize("platform", ["telegram", "youtube"])
def test_a_country_block_is_withheld_in_its_region_and_a_removal_everywhere_stays_one(
    tmp_path: Path, platform: str
) -> None:
    study = watched(tmp_path, platform, vantages=True)
    blocked, removed = truth()
    rows = {scenario_post_id(str(r["post_id"])): r for r in iter_verdicts(study.engine)}
    assert blocked <= set(rows) and blocked
    for post_id in blocked:
        row = rows[post_id]
        assert row["verdict"] == "withheld", (post_id, row["verdict"], row["signal"])
        assert row["region"] == "CN", row["signal"]
        assert "visible in DE" in str(row["signal"])
    gone = [pid for pid in removed if pid in rows]
    assert gone
    for post_id in gone:
        assert rows[post_id]["verdict"] not in ("withheld", "live"), rows[post_id]
        assert rows[post_id]["region"] is None
    also_blocked = [
        pid for pid in gone if pid in {p.post_id for p in blocked_scenario() if p.withhold}
    ]
    assert also_blocked  # withheld in CN first, then removed everywhere: the removal
    result = evaluate(
        blocked_scenario(), list(iter_verdicts(study.engine)), UNTIL, platform=platform
    )
    assert result.false_removals == [] and result.misattributed == []
    with study.engine.connect() as connection:
        asked = connection.execute(
            select(observations.c.detail).where(observations.c.kind == "vantage")
        ).scalars().all()  # fmt: skip
    assert asked and all(d.startswith("from frankfurt (DE)") for d in asked)
    report = verify_study(study)
    assert report.success, report.failures


@pytest.mark.parametrize("platform", ["telegram", "youtube"])
def test_without_a_vantage_the_platforms_own_word_keeps_a_block_from_being_a_removal(
    tmp_path: Path, platform: str
) -> None:
    study = watched(tmp_path, platform, vantages=False)
    blocked, _ = truth()
    rows = {scenario_post_id(str(r["post_id"])): r for r in iter_verdicts(study.engine)}
    for post_id in blocked:
        assert rows[post_id]["verdict"] == "withheld", rows[post_id]
    result = evaluate(
        blocked_scenario(), list(iter_verdicts(study.engine)), UNTIL, platform=platform
    )
    assert result.false_removals == []


def test_a_shape_without_a_block_answer_shows_it_as_a_removal_only_where_it_is_blocked() -> None:
    """Weibo's shapes have no country block: CN sees the platform's removal, DE the post."""
    post = blocked_scenario()[4]  # withheld in CN, never removed
    assert post.withhold and post.removal is None
    sim = SimPlatform([post], VirtualClock(post.published_at + 400.0), "weibo")
    sim.home_region = "CN"
    assert sim.removal_at(post, sim.clock.now()) == "censored"
    sim.vantage = "DE"
    assert sim.removal_at(post, sim.clock.now()) is None
    assert sim.removal_at(post, post.published_at + 100.0) is None  # before the block
