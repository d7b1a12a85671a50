"""Vantage points (collect/vantages.py): a post unavailable from the study's own connection is
asked again from each vantage; a simulated country block is ``withheld`` with its region and
never a removal when another vantage still sees the post, and a post gone everywhere stays
removed. End to end on the simulator, which answers each request as its region would."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.config import update_config
from memoryhole.evidence.verify import verify_study
from memoryhole.model import Target
from memoryhole.platforms import registry
from memoryhole.scenario import effective_removal, suspension_times
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.replay import REPLAY_BASE_URL
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.store.schema import observations
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_717_200_000.0


def watched(tmp: Path, *, vantages: bool, censor_region: str | None) -> Study:
    study = Study.init(tmp / "study")
    if vantages:
        update_config(study.config_path, (), "region", "CN")
        update_config(study.config_path, ("vantages", "frankfurt"), "region", "DE")
    study = Study.open(study.path)
    posts = known_removals(T0)
    with study.writer_lock():
        add_targets(study.engine, [Target("weibo", "all")], T0)
        clock = VirtualClock(T0)
        sim = SimPlatform(posts, clock, "weibo")
        sim.censor_region = censor_region
        adapters = {"weibo": registry.get("weibo", REPLAY_BASE_URL)}
        collector = Collector(study, adapters, InProcessTransport(sim), clock, budget_per_second=50)
        asyncio.run(collector.run(until=T0 + 3 * 3600.0))
    return study


def test_a_country_block_seen_from_another_vantage_is_withheld_there_never_removed(
    tmp_path: Path,
) -> None:
    study = watched(tmp_path, vantages=True, censor_region="CN")
    posts = known_removals(T0)
    suspended = suspension_times(posts)
    truth = {p.post_id: (effective_removal(p, suspended) or (0.0, None))[1] for p in posts}
    rows = {str(r["post_id"]): r for r in iter_verdicts(study.engine)}
    censored = [pid for pid, kind in truth.items() if kind == "censored" and pid in rows]
    assert censored
    for post_id in censored:
        row = rows[post_id]
        assert row["verdict"] == "withheld", (post_id, row["verdict"], row["signal"])
        assert row["region"] == "CN" and "visible in DE" in str(row["signal"])
    deleted = [pid for pid, kind in truth.items() if kind == "author_deleted" and pid in rows]
    assert deleted
    for post_id in deleted:  # gone everywhere: the removal stands, known to hold from DE too
        assert rows[post_id]["verdict"] in ("author_deleted", "unknown")
        assert rows[post_id]["region"] is None
        assert "also gone from DE" in str(rows[post_id]["signal"])
    with study.engine.connect() as connection:
        asked = connection.execute(
            select(observations.c.detail).where(observations.c.kind == "vantage")
        ).scalars().all()  # fmt: skip
    assert asked and all(d.startswith("from frankfurt (DE)") for d in asked)
    report = verify_study(study)
    assert report.success, report.failures


def test_without_vantages_the_same_block_is_a_removal_as_before(tmp_path: Path) -> None:
    """The control: one vantage cannot tell a country block from a removal."""
    study = watched(tmp_path, vantages=False, censor_region="CN")
    verdicts = {str(r["verdict"]) for r in iter_verdicts(study.engine)}
    assert "censored" in verdicts and "withheld" not in verdicts
    with study.engine.connect() as connection:
        vantage_rows = connection.execute(
            select(observations.c.id).where(observations.c.kind == "vantage")
        ).first()
    assert vantage_rows is None


def test_a_marked_request_goes_through_its_vantages_proxy_unmarked() -> None:
    """The routing of ``VantageTransport`` (each vantage with a proxy gets its own pooled
    transport; the mark never leaves the machine); through a real proxy is not tested here."""
    from memoryhole.collect.transport import RawResponse
    from memoryhole.collect.vantages import VANTAGE_HEADER, Vantage, VantageTransport, via
    from memoryhole.model import Request

    class Recording:
        def __init__(self) -> None:
            self.sent: list[Request] = []

        async def send(self, request: Request) -> RawResponse:
            self.sent.append(request)
            return RawResponse(200, (), b"{}")

        async def close(self) -> None:
            return None

    direct, proxied = Recording(), Recording()
    vantages = [Vantage("frankfurt", "DE", "http://127.0.0.1:3128"), Vantage("lab", "XX")]
    transport = VantageTransport(direct, vantages, timeout=5.0, concurrency=2)
    transport.through["DE"] = proxied  # the pooled transport through the proxy, recorded
    request = Request("GET", "http://weibo.invalid/statuses/show", (("id", "1"),))
    asyncio.run(transport.send(via(request, vantages[0])))
    asyncio.run(transport.send(via(request, vantages[1])))
    asyncio.run(transport.send(request))
    assert [r.headers for r in proxied.sent] == [()]  # unmarked, through the DE proxy
    assert [dict(r.headers).get(VANTAGE_HEADER) for r in direct.sent] == ["XX", None]
