"""``memoryhole bench throughput``: checks/s end to end against ``sim serve`` on loopback.

End to end means: request sent over HTTP, raw response archived as a blob, observation, verdict
and schedule committed. The baseline, measured in the same run against the same server, is a
bare aiohttp loop fetching the same URLs and doing nothing with them. Both run with the same
concurrency; the simulator runs in its own process.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from memoryhole.clock import SystemClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.loop import run as run_loop
from memoryhole.collect.runner import build_adapters
from memoryhole.collect.transport import AiohttpTransport
from memoryhole.config import update_config
from memoryhole.model import Target
from memoryhole.scenario import ScenarioPost, write_scenario
from memoryhole.schedule.policy import AgeProportional
from memoryhole.sim.process import SimulatorProcess
from memoryhole.store.queries import add_targets
from memoryhole.study import Study


@dataclass
class ThroughputResult:
    posts: int
    seconds: float
    concurrency: int
    bare_requests_per_second: float
    collector_checks_per_second: float
    committed_observations: int
    profile: str = ""
    #: With a PostgreSQL server: the same collector run on a study kept there (checks/s).
    postgres_checks_per_second: float | None = None

    @property
    def ratio(self) -> float:
        return self.collector_checks_per_second / self.bare_requests_per_second


def bench_scenario(path: Path, posts: int, start: float) -> list[str]:
    """Posts all published at ``start`` and never removed: every check is a full answer."""
    ids = [str(4_900_000_000_000_000 + i) for i in range(posts)]
    write_scenario(
        (
            ScenarioPost(post_id, str(1_000_000 + i % 500), start, f"第{i}条微博，今天天气很好。")
            for i, post_id in enumerate(ids)
        ),
        path,
    )
    return ids


async def bare_loop(base_url: str, ids: list[str], seconds: float, concurrency: int) -> float:
    done = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(offset: int) -> None:
            nonlocal done
            index = offset
            while time.perf_counter() < deadline:
                url = f"{base_url}/statuses/show"
                async with session.get(url, params={"id": ids[index % len(ids)]}) as response:
                    await response.read()
                done += 1
                index += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        return done / (time.perf_counter() - started)


async def collector_run(
    study: Study, seconds: float, concurrency: int, posts: int
) -> tuple[float, int]:
    policy = AgeProportional(first_check_after=1e-3, max_interval=1e-3, horizon=10 * 86400.0)
    transport = AiohttpTransport(timeout=30.0, concurrency=concurrency)
    collector = Collector(
        study,
        build_adapters(study),
        transport,
        SystemClock(),
        budget_per_second=1e9,
        concurrency=concurrency,
        policy=policy,
    )
    # Discover every post of the scenario first (not timed), so the timed part is pure
    # re-checking: each committed observation is one check, one request.
    while collector.stats.discovered < posts:
        before = collector.stats.discovered
        await collector.run(wall_deadline=time.time() + 2.0)
        if collector.stats.discovered == before:
            break
    await collector.flush()
    checks_before = collector.stats.committed_observations
    started = time.perf_counter()
    await collector.run(wall_deadline=time.time() + seconds)
    elapsed = time.perf_counter() - started
    committed = collector.stats.committed_observations - checks_before
    await transport.close()
    return committed / elapsed, committed


def _study(path: Path, base_url: str, database_url: str | None = None) -> Study:
    study = Study.init(path, database_url=database_url)
    update_config(study.config_path, ("collector",), "poll_interval", 0.05)
    study = Study.open(study.path)
    study.set_base_url("weibo", base_url)
    add_targets(study.engine, [Target("weibo", "all")], time.time())
    return study


def run_throughput(
    *,
    posts: int = 20_000,
    seconds: float = 10.0,
    concurrency: int = 32,
    profile: bool = False,
    database: str | None = None,
) -> ThroughputResult:
    """The bare loop, then the collector on SQLite, then (``database``: a PostgreSQL server's
    URL, a fresh database made on it) the same collector on PostgreSQL, one simulator."""
    with tempfile.TemporaryDirectory(prefix="memoryhole-bench-") as tmp:
        root = Path(tmp)
        start = time.time() - 3600.0
        ids = bench_scenario(root / "scenario.jsonl", posts, start)
        with SimulatorProcess(root / "scenario.jsonl", speed=1.0) as simulator:
            study = _study(root / "study", simulator.base_url)
            bare = run_loop(bare_loop(simulator.base_url, ids, seconds, concurrency))
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            rate, committed = run_loop(collector_run(study, seconds, concurrency, posts))
            report = ""
            if profiler is not None:
                profiler.disable()
                buffer = io.StringIO()
                stats = pstats.Stats(profiler, stream=buffer)
                stats.sort_stats("tottime").print_stats(25)
                report = buffer.getvalue()
            study.close()
            on_postgres = None
            if database is not None:
                from memoryhole.bench.scale import new_database

                shared = _study(root / "pg-study", simulator.base_url, new_database(database))
                on_postgres, _ = run_loop(collector_run(shared, seconds, concurrency, posts))
                shared.close()
    return ThroughputResult(posts, seconds, concurrency, bare, rate, committed, report, on_postgres)
