"""One scheduler per platform against one scheduler for all: detection on two platforms with
their own budgets and removal times (docs/scheduler.md, "Several platforms").

Reddit at 0.4 requests a second with removals around 10 minutes, the generic JSON API at 0.1
with removals around 6 hours; 300 posts each in the first hour, 12 virtual hours, the
collector-wide budget 50 (what one scheduler for both plans against). Both runs in this
invocation, in process on a virtual clock (the whole collector and store).

    .venv/bin/python benchmarks/per_platform.py
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.runner import build_adapters, study_policy
from memoryhole.collect.transport import RawResponse
from memoryhole.config import update_config
from memoryhole.model import Request
from memoryhole.scenario import ScenarioPost
from memoryhole.schedule.base import Policy
from memoryhole.schedule.by_platform import PlatformSchedulers
from memoryhole.schedule.scheduler import Scheduler, SchedulerSettings
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.shapes import WATCH
from memoryhole.store.queries import add_targets
from memoryhole.store.schema import observations, posts, verdicts
from memoryhole.study import Study

T0 = 1_700_000_000.0
HORIZON = 12 * 3600.0
BUDGETS = {"reddit": 0.4, "json": 0.1}
MEDIANS = {"reddit": 600.0, "json": 6 * 3600.0}


def scenario(seed: int, median: float) -> list[ScenarioPost]:
    rng = random.Random(seed)
    out = []
    for i in range(300):
        published = T0 + 12.0 * i
        removed = published + rng.lognormvariate(math.log(median), 0.8) if i % 5 < 2 else None
        removal = "censored" if removed is not None else None
        out.append(
            ScenarioPost(str(7_000_000 + i), str(500 + i % 40), published, "文字", removed, removal)
        )
    return out


class ByHost:
    def __init__(self, routes: dict[str, InProcessTransport]) -> None:
        self.routes = routes

    async def send(self, request: Request) -> RawResponse:
        return await self.routes[urlsplit(request.url).hostname or ""].send(request)

    async def close(self) -> None:
        return None


def run(folder: Path, one_for_all: bool) -> None:
    study = Study.init(folder)
    for key, value in {"budget_per_second": 50.0, "poll_interval": "60s", "horizon": "12h"}.items():
        update_config(study.config_path, ("collector",), key, value)
    for name, budget in BUDGETS.items():
        update_config(study.config_path, ("platforms", name), "base_url", f"http://{name}.sim")
        update_config(study.config_path, ("platforms", name), "budget_per_second", budget)
    study.close()
    study = Study.open(folder)
    add_targets(study.engine, [WATCH[name] for name in BUDGETS], T0)
    clock = VirtualClock(T0)
    truth = {name: scenario(i + 1, MEDIANS[name]) for i, name in enumerate(BUDGETS)}
    transport = ByHost(
        {
            f"{name}.sim": InProcessTransport(SimPlatform(posted, clock, name))
            for name, posted in truth.items()
        }
    )
    policy: Policy | None = (
        Scheduler(SchedulerSettings(budget_per_second=50.0, horizon=HORIZON))
        if one_for_all
        else study_policy(study)
    )
    assert policy is not None
    collector = Collector(study, build_adapters(study), transport, clock, policy=policy)
    started = time.perf_counter()
    asyncio.run(collector.run(until=T0 + HORIZON))
    wall = time.perf_counter() - started
    with study.engine.connect() as connection:
        sent = set(connection.execute(select(observations.c.sent_at, observations.c.url)).all())
        seen = connection.execute(
            select(posts.c.platform, posts.c.post_id, verdicts.c.first_seen_removed_at).join(
                verdicts, verdicts.c.post_pk == posts.c.id
            )
        ).all()
    requests = Counter(urlsplit(url).hostname for _, url in sent)  # sightings share a listing's
    label = "one for both" if one_for_all else "one per platform"
    print(f"{label} ({wall:.1f} s)")
    for name, posted in truth.items():
        true = {p.post_id: p.removed_at for p in posted}
        removed = sum(at is not None and at < T0 + HORIZON for at in true.values())
        delays = [
            (at - true[post_id]) / 60
            for platform, post_id, at in seen
            if platform == name and at is not None and true[post_id] is not None
        ]
        learnt = (
            policy.scheduler(name).hazard.quantiles()[0.5]
            if isinstance(policy, PlatformSchedulers)
            else policy.hazard.quantiles()[0.5]  # type: ignore[attr-defined]
        )
        print(
            f"  {name:7} requests {requests[f'{name}.sim']:6,} "
            f"({requests[f'{name}.sim'] / (BUDGETS[name] * HORIZON):.0%} of its budget), "
            f"caught {len(delays)} of {removed}, median delay {statistics.median(delays):.1f} "
            f"min, p90 {statistics.quantiles(delays, n=10)[-1]:.1f} min, "
            f"learnt median removal age {learnt / 60:.0f} min"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        run(Path(folder) / "per-platform", one_for_all=False)
        run(Path(folder) / "one-for-both", one_for_all=True)


if __name__ == "__main__":
    sys.exit(main())
