"""Vantage points through real proxies on loopback, over HTTP, with ``memoryhole sim serve``
processes: an HTTP proxy that marks what passes through it with its region (the simulator reads
the mark), and a SOCKS5 proxy (aiohttp-socks on the collector's side) in front of a simulator
whose unmarked requests come from its own region. Posts the scenario withholds in CN (and some
in JP too) are ``withheld`` there and seen elsewhere; removals stay removals."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from memoryhole.collect.collector import Collector
from memoryhole.collect.runner import run_study
from memoryhole.config import update_config
from memoryhole.scenario import ScenarioPost, effective_removal, suspension_times, write_scenario
from memoryhole.sim.process import SimulatorProcess
from memoryhole.sim.shapes import WATCH
from memoryhole.sim.truth import evaluate, scenario_post_id
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.study import Study
from tests.collect.loopback_proxies import RedirectingSocks5Proxy, StampingHttpProxy
from tests.scenarios import known_removals

SPEED = 600.0


def scenario(start: float) -> list[ScenarioPost]:
    """Every 4th post withheld in CN 30 minutes after publication, every 8th in JP as well
    (late enough that a collector slowed by a loaded machine has listed it first: a post
    withheld at home before it was ever listed there is a post the study never knew)."""
    posts = []
    for i, post in enumerate(known_removals(start)):
        at = post.published_at + 1800.0
        blocks = ((at, "CN"), (at, "JP")) if i % 8 == 0 else ((at, "CN"),) if i % 4 == 0 else ()
        posts.append(replace(post, withhold=blocks))
    return posts


@pytest.mark.slow
def test_blocks_seen_through_an_http_and_a_socks5_vantage_are_withheld_where_they_are(
    tmp_path: Path,
) -> None:
    posts = scenario(time.time() - 86400.0)
    path = tmp_path / "scenario.jsonl"
    write_scenario(posts, path)
    started = time.time() + 1.0
    home = SimulatorProcess(path, speed=SPEED, platform="telegram", started=started, region="CN")
    tokyo = SimulatorProcess(path, speed=SPEED, platform="telegram", started=started, region="JP")
    with home, tokyo:
        stamping = StampingHttpProxy("DE")
        socks = RedirectingSocks5Proxy(("127.0.0.1", urlsplit(tokyo.base_url).port or 0))
        try:
            study = Study.init(tmp_path / "study")
            config = study.config_path
            update_config(config, ("collector",), "budget_per_second", 2.0)
            update_config(config, (), "region", "CN")
            update_config(config, ("vantages", "frankfurt"), "region", "DE")
            update_config(config, ("vantages", "frankfurt"), "proxy", stamping.url)
            update_config(config, ("vantages", "tokyo"), "region", "JP")
            update_config(config, ("vantages", "tokyo"), "proxy", socks.url)
            study = Study.open(study.path)
            study.set_base_url("telegram", home.base_url)
            add_targets(study.engine, [WATCH["telegram"]], time.time())
            holder: list[Collector] = []
            asyncio.run(run_study(study, for_seconds=16.0, on_start=holder.append))
            end = holder[0].clock.now()
        finally:
            stamping.close()
            socks.close()
    assert stamping.requests > 0 and socks.connections > 0

    suspended = suspension_times(posts)
    removed = {
        p.post_id for p in posts if (effective_removal(p, suspended) or (end + 1,))[0] <= end
    }
    rows = {scenario_post_id(str(r["post_id"])): r for r in iter_verdicts(study.engine)}
    blocked = [p for p in posts if p.withhold and p.post_id not in removed]
    assert len(blocked) >= 5
    for post in blocked:
        row = rows[post.post_id]
        assert row["verdict"] == "withheld", (post.post_id, row["verdict"], row["signal"])
        regions = {where for _, where in post.withhold}
        if regions == {"CN"}:
            assert row["region"] == "CN" and "visible in DE, JP" in str(row["signal"]), row
        else:
            assert row["region"] == "CN, JP" and "visible in DE;" in str(row["signal"]), row
    result = evaluate(posts, list(rows.values()), until=end, platform="telegram")
    assert result.false_removals == [] and result.misattributed == []
    assert result.caught >= 20 and result.caught == result.true_removals_of_watched
