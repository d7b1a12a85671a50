"""``memoryhole demo --platform weibo --platform telegram --platform youtube`` on a short run
(Bluesky with YouTube: ``tests/test_cli.py``): the simulator's
light faults (5xx, captcha pages, cut bodies) are answered, recorded as transient, and none of
them becomes a removal; the removals the scenario made are found with their kinds."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from memoryhole.cli.demo import run_demo
from memoryhole.study import Study


@pytest.mark.slow
@pytest.mark.parametrize("platforms", [("weibo", "telegram", "youtube")])  # telegram's own, mixed
def test_a_short_platform_demo_finds_removals_and_claims_none_for_a_transient_answer(
    tmp_path: Path, platforms: tuple[str, ...]
) -> None:
    out = io.StringIO()
    results = run_demo(
        tmp_path / "demo", seconds=12.0, speed=1200.0, seed=2,
        console=Console(file=out, width=120), platforms=platforms,
    )  # fmt: skip
    assert set(results) == set(platforms)
    for platform, result in results.items():
        assert result.false_removals == [], platform
        assert result.misattributed == [], platform
        assert result.caught > 0 and result.recall > 0.5, (platform, result.recall)
        assert platform in out.getvalue()  # a score table each
    study = Study.open(tmp_path / "demo" / "study")
    with study.engine.connect() as connection:
        transient = connection.exec_driver_sql(
            "SELECT count(*) FROM observations WHERE status = 'unreachable'"
        ).scalar_one()
    assert transient > 0, "the demo's faults were answered (and none made a removal)"
