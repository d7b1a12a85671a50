"""``memoryhole bench scale``: 1, 2, 4, 8 … ``memoryhole run`` workers on one PostgreSQL study.

For each N: a fresh database on the given server, a study on it watching ``authors`` timelines,
the simulator behind per-account rate limits and 100–300 ms latency
(``bench/scale_server.py``), and N ``memoryhole run`` processes that share only the database
URL, the study's folder (its configuration and blob directory). The budget is 90% of the
simulator's per-account limit, shared through the database, so a 429 means the workers
together overspent it. After the run: observations per second, 429s received, duplicates
(a post's ``post`` leaf twice, or two checks of one post closer than half the smallest gap the
schedule allows), whether the log's indices are contiguous and ``verify`` passes, detection
delays of the removals that happened, and CPU seconds of the workers, the simulator and the
database server (its share says how far more cores would carry the scaling).
"""

from __future__ import annotations

import math
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from memoryhole.config import update_config
from memoryhole.model import Target
from memoryhole.scenario import ScenarioPost, write_scenario
from memoryhole.sim.process import free_port
from memoryhole.store.queries import add_targets
from memoryhole.study import Study

FIRST_CHECK = 60.0  # platform seconds: the schedule's smallest gap


@dataclass
class ScaleRow:
    workers: int
    seconds: float
    observations: int
    refused: int  # 429s the workers received
    duplicates: int
    contiguous: bool
    verified: bool
    removals: int  # removals that happened while the workers ran
    detected: int
    delay_median: float | None  # platform minutes from removal to its detection
    delay_p90: float | None
    #: The median over every removal, one not detected by the end counting as never (∞): what
    #: a schedule that detects fewer removals cannot flatter by leaving its slowest out.
    delay_median_all: float | None
    worker_cpu: float  # CPU seconds, all workers
    sim_cpu: float
    db_cpu: float

    @property
    def per_second(self) -> float:
        return self.observations / self.seconds

    @property
    def per_worker(self) -> float:
        return self.per_second / self.workers

    @property
    def db_share(self) -> float:
        total = self.worker_cpu + self.sim_cpu + self.db_cpu
        return self.db_cpu / total if total else 0.0


def scale_scenario(
    path: Path, *, authors: int, posts_per_author: int, start: float, seed: int = 23
) -> list[ScenarioPost]:
    """Posts spread over ``authors`` accounts and the first platform hour; a third censored
    5–30 platform minutes after publication."""
    rng = random.Random(seed)
    posts = []
    for a in range(authors):
        for i in range(posts_per_author):
            published = start + rng.uniform(0.0, 3600.0)
            removed = published + rng.uniform(300.0, 1800.0) if rng.random() < 1 / 3 else None
            posts.append(
                ScenarioPost(
                    post_id=str(4_800_000_000_000_000 + a * 10_000 + i),
                    author_id=str(2_000_000 + a),
                    published_at=published,
                    text=f"第{i}条，来自{a}。今天的新闻。",
                    removed_at=removed,
                    removal="censored" if removed is not None else None,
                )
            )
    write_scenario(posts, path)
    return posts


def make_study(
    path: Path,
    database_url: str,
    base_url: str,
    authors: list[str],
    budget: float,
    accounts: int = 0,
) -> None:
    """A study on ``database_url`` watching each author's timeline at ``budget`` requests per
    platform second (shared by all its workers); with ``accounts``, that many Weibo accounts
    (``acct-1``…) with ``budget`` each, their tokens in ``MH_SCALE_TOKEN_<i>``."""
    study = Study.init(path, database_url=database_url)
    if accounts:
        with study.config_path.open("a", encoding="utf-8") as config:
            for i in range(1, accounts + 1):
                config.write(
                    f'\n[accounts.acct-{i}]\nplatform = "weibo"\nbudget_per_second = {budget!r}\n'
                    f'token_env = "MH_SCALE_TOKEN_{i}"\n'
                )
    settings = {
        "budget_per_second": budget,
        "first_check_after": FIRST_CHECK,
        "max_interval": 120.0,
        "poll_interval": 60.0,
        "clock": "auto",
    }
    for key, value in settings.items():
        update_config(study.config_path, ("collector",), key, value)
    study.set_base_url("weibo", base_url)
    add_targets(study.engine, [Target("weibo", "user", a) for a in authors], 0.0)
    study.close()


def start_workers(
    study: Path, count: int, seconds: float, accounts: bool = False, term: float = 10.0
) -> list[subprocess.Popen[bytes]]:
    """``count`` workers; with ``accounts``, worker ``i`` asks as ``acct-i`` (its own budget);
    ``term``: their ``--term`` (wall seconds), the lease three terms."""
    lease = 3 * term
    command = [sys.executable, "-m", "memoryhole", "run", "--study", str(study), "--quiet"]
    command += ["--for", f"{seconds:g}s", "--term", f"{term:g}s", "--lease", f"{lease:g}s"]
    started = []
    for i in range(1, count + 1):
        env = {**os.environ, f"MH_SCALE_TOKEN_{i}": f"scale-token-{i}-{uuid.uuid4().hex[:6]}"}
        extra = ["--account", f"acct-{i}"] if accounts else []
        started.append(
            subprocess.Popen(
                [*command, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
            )
        )
    return started


def reap(process: subprocess.Popen[bytes], timeout: float = 120.0) -> float:
    """Wait for a child; its CPU seconds (user + system)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            process.kill()
        time.sleep(0.05)


def postgres_cpu() -> float:
    """CPU seconds of the ``postgres`` processes on this machine: the live ones' own, and the
    postmaster's reaped children's (a backend whose connection closed)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            found[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
    for fields in found.values():
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if int(fields[1]) not in found:  # the postmaster: its reaped backends' time too
            total += int(fields[13]) + int(fields[14])
    return total / tick


def new_database(server_url: str) -> str:
    import psycopg

    name = f"mh_scale_{uuid.uuid4().hex[:10]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def duplicates(study: Study) -> int:
    """Posts listed as new twice, plus checks of one post closer than half the smallest gap."""
    with study.engine.connect() as connection:
        twice = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT post_pk FROM observations WHERE kind = 'post' "
                "GROUP BY post_pk HAVING count(*) > 1) AS d"
            )
        ).scalar_one()
        close = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT sent_at - lag(sent_at) OVER (PARTITION BY post_pk "
                "ORDER BY id) AS gap FROM observations WHERE kind = 'check' AND detail NOT LIKE "
                "'listed by%') AS g WHERE gap < :half"
            ),
            {"half": FIRST_CHECK / 2},
        ).scalar_one()
    return int(twice) + int(close)


def contiguous(study: Study) -> bool:
    with study.engine.connect() as connection:
        count, low, high = connection.execute(
            text("SELECT count(*), min(id), max(id) FROM observations")
        ).one()
    return bool(count) and low == 1 and high == count


def refused(study: Study) -> int:
    with study.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM observations WHERE http_status = 429")
            ).scalar_one()
        )


def delays(study: Study, posts: list[ScenarioPost], until: float) -> tuple[int, list[float]]:
    """Removals before ``until`` (platform time) and the detection delays (minutes) of those
    the study caught."""
    removed = {p.post_id: p.removed_at for p in posts if p.removed_at and p.removed_at < until}
    with study.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.post_id, v.first_seen_removed_at FROM posts p JOIN verdicts v ON "
                "v.post_pk = p.id WHERE v.first_seen_removed_at IS NOT NULL"
            )
        ).all()
    found = [
        (seen - removed[post_id]) / 60.0
        for post_id, seen in rows
        if post_id in removed and seen is not None
    ]
    return len(removed), found


def median_all(found: list[float], removals: int) -> float | None:
    """The median delay over ``removals``, those not in ``found`` counting as never; None when
    fewer than half were detected."""
    if not removals:
        return None
    value = statistics.median(found + [math.inf] * (removals - len(found)))
    return None if math.isinf(value) else value


def start_simulator(
    scenario: Path, speed: float, rate: float
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "memoryhole.bench.scale_server", str(scenario), str(port)]
    process = subprocess.Popen(
        [*command, str(speed), str(rate)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import socket

    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the benchmark's simulator did not start")


def run_one(
    workers: int,
    server_url: str,
    root: Path,
    *,
    seconds: float,
    authors: int,
    posts_per_author: int,
    speed: float,
    rate: float,
    accounts: bool = False,
    label: str = "",
    term: float = 10.0,
) -> ScaleRow:
    """One run of ``workers`` workers; ``accounts``: each asks as its own account, which the
    simulator rations at ``rate`` (else all share one anonymous account at ``rate``)."""
    from memoryhole.evidence.verify import verify_study

    folder = root / f"n{workers}{label}"
    folder.mkdir(parents=True)
    start = time.time()
    posts = scale_scenario(
        folder / "scenario.jsonl", authors=authors, posts_per_author=posts_per_author, start=start
    )
    simulator, base_url = start_simulator(folder / "scenario.jsonl", speed, rate)
    try:
        make_study(
            folder / "study",
            new_database(server_url),
            base_url,
            sorted({p.author_id for p in posts}),
            budget=0.9 * rate / speed,
            accounts=workers if accounts else 0,
        )
        db_before = postgres_cpu()
        began = time.time()
        processes = start_workers(folder / "study", workers, seconds, accounts, term)
        worker_cpu = sum(reap(p, timeout=seconds + 120.0) for p in processes)
        elapsed = time.time() - began
        db_cpu = postgres_cpu() - db_before
        failed = [p for p in processes if p.returncode != 0]
        if failed:
            error = failed[0].stderr.read().decode() if failed[0].stderr else ""
            raise RuntimeError(f"a worker failed:\n{error[-2000:]}")
    finally:
        simulator.terminate()
        sim_cpu = reap(simulator)
    min_published = min(p.published_at for p in posts)
    until = min_published + (began + seconds - start) * speed
    study = Study.open(folder / "study")
    try:
        with study.engine.connect() as connection:
            count = int(connection.execute(text("SELECT count(*) FROM observations")).scalar_one())
        removals, found = delays(study, posts, until)
        report = verify_study(study)
        row = ScaleRow(
            workers=workers,
            seconds=elapsed,
            observations=count,
            refused=refused(study),
            duplicates=duplicates(study),
            contiguous=contiguous(study),
            verified=report.success,
            removals=removals,
            detected=len(found),
            delay_median=statistics.median(found) if found else None,
            delay_p90=statistics.quantiles(found, n=10)[-1] if len(found) > 1 else None,
            delay_median_all=median_all(found, removals),
            worker_cpu=worker_cpu,
            sim_cpu=sim_cpu,
            db_cpu=db_cpu,
        )
    finally:
        study.close()
    return row
