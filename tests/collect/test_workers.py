"""Several `memoryhole run` processes on one PostgreSQL study against one `memoryhole sim serve`:
no post discovered or checked twice for one due time, the evidence log contiguous, `verify`
passing, the verdicts those of one collector on the same scenario (SQLite); and `kill -9` of a
worker mid-run loses and duplicates nothing: the survivors take its targets over."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from memoryhole.bench.scale import contiguous, duplicates
from memoryhole.config import update_config
from memoryhole.evidence.verify import verify_study
from memoryhole.model import Target
from memoryhole.scenario import ScenarioPost, write_scenario
from memoryhole.sim.process import SimulatorProcess
from memoryhole.store.queries import add_targets
from memoryhole.study import Study

SPEED = 120.0  # platform seconds per wall second
RUN = 45.0  # wall seconds: 90 platform minutes; the last removal comes at 80
#: A killed worker's timelines go unwatched until its lease (6 s wall, 12 platform minutes)
#: runs out and a survivor's next term (2 s) takes them: a post published and removed inside
#: that gap is seen by nobody, as in any collector downtime (coverage gaps, store/coverage.py).
#: Removals come later than that after publication, so the comparison is exact.
TAKEOVER = (6.0 + 2.0) * SPEED


def scenario(path: Path) -> list[ScenarioPost]:
    """8 timelines of 8 posts over the first 40 platform minutes; a third of the posts
    censored 20-40 minutes after publication (after any takeover), so removals come before
    and after the kill."""
    rng = random.Random(7)
    posts = []
    start = 1_750_000_000.0
    for a in range(8):
        for i in range(8):
            published = start + rng.uniform(0.0, 2400.0)
            delay = rng.uniform(TAKEOVER + 240.0, TAKEOVER + 1440.0)
            removed = published + delay if (a + i) % 3 == 0 else None
            posts.append(
                ScenarioPost(
                    post_id=str(4_700_000_000_000_000 + a * 100 + i),
                    author_id=str(3_000_000 + a),
                    published_at=published,
                    text=f"第{i}条，作者{a}。",
                    removed_at=removed,
                    removal="censored" if removed is not None else None,
                )
            )
    start_post = ScenarioPost("4699999999999999999", "3000000", start, "第一条。")
    write_scenario([start_post, *posts], path)
    return posts


def make_study(path: Path, base_url: str, database: str | None) -> None:
    study = Study.init(path, database_url=database)
    for key, value in {
        "first_check_after": 60.0,
        "max_interval": 240.0,
        "poll_interval": 60.0,
    }.items():
        update_config(study.config_path, ("collector",), key, value)
    study.set_base_url("weibo", base_url)
    authors = [str(3_000_000 + a) for a in range(8)]
    add_targets(study.engine, [Target("weibo", "user", a) for a in authors], 0.0)
    study.close()


def start(study: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "memoryhole", "run", "--study", str(study), "--quiet"]
    command += ["--for", f"{RUN:g}s", "--lease", "6s", "--term", "2s"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_study(
    tmp: Path, name: str, workers: int, database: str | None, kill_after: float | None = None
) -> Path:
    with SimulatorProcess(tmp / "scenario.jsonl", speed=SPEED) as simulator:
        make_study(tmp / name, simulator.base_url, database)
        processes = [start(tmp / name) for _ in range(workers)]
        if kill_after is not None:
            time.sleep(kill_after)
            processes[0].send_signal(signal.SIGKILL)
        for process in processes:
            out, err = process.communicate(timeout=RUN + 120)
            if process is processes[0] and kill_after is not None:
                assert process.returncode == -signal.SIGKILL
                continue
            assert process.returncode == 0, err
            assert " 0 checks" not in out, "every worker had a share of the work"
    return tmp / name


def verdicts(path: Path) -> dict[str, str]:
    study = Study.open(path)
    with study.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT p.post_id, v.status FROM posts p JOIN verdicts v ON v.post_pk = p.id")
        ).all()
    study.close()
    return dict((str(post_id), str(status)) for post_id, status in rows)


def check_shared_study(path: Path, posts: list[ScenarioPost]) -> None:
    study = Study.open(path)
    try:
        assert contiguous(study), "the log's indices are 1..n"
        assert duplicates(study) == 0
        with study.engine.connect() as connection:
            post_leaves, stored = connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM observations WHERE kind = 'post'), "
                    "(SELECT count(*) FROM posts)"
                )
            ).one()
        assert post_leaves == stored >= len(posts)  # every post listed once, as one leaf
        report = verify_study(study)
        assert report.success, report.failures
    finally:
        study.close()


@pytest.fixture(scope="module")
def one_collector(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The reference: one collector on SQLite, same scenario, same run."""
    tmp = tmp_path_factory.mktemp("one")
    scenario(tmp / "scenario.jsonl")
    reference = verdicts(run_study(tmp, "study", 1, None))
    assert list(reference.values()).count("censored") >= 15
    return tmp, reference


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "kill_after"), [(2, None), (3, 12.0)])
def test_workers_on_one_postgresql_study_equal_one_collector(
    one_collector: tuple[Path, dict[str, str]],
    tmp_path: Path,
    postgres_url: str,
    workers: int,
    kill_after: float | None,
) -> None:
    posts = scenario(tmp_path / "scenario.jsonl")
    shared = run_study(tmp_path, "shared", workers, postgres_url, kill_after)
    check_shared_study(shared, posts)
    assert verdicts(shared) == one_collector[1]
