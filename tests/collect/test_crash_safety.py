"""kill -9 at random points: nothing committed is lost or duplicated, and the verdicts (and the
whole observation log) equal an uninterrupted run's, on either schedule: the age-proportional
one (a function of the store) and the budget-aware scheduler (whose learnt state is committed
with each batch)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from memoryhole.config import update_config
from memoryhole.evidence.verify import verify_study
from memoryhole.model import Target
from memoryhole.scenario import ScenarioPost, write_scenario
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.store.schema import observations, scheduler_state
from memoryhole.study import Study
from tests.scenarios import known_removals

#: Wall-clock fields differ between runs by nature (and so does the leaf hash, which covers
#: them); everything else must be identical. The killed study's log is verified separately.
WALL_CLOCK_COLUMNS = {"received_at", "elapsed", "leaf_hash"}


#: ``sim replay`` with the study's configured schedule (``runner.study_policy``, what
#: ``memoryhole run`` uses), for the budget-aware scheduler.
CONFIGURED_REPLAY = """
import functools
import sys
from pathlib import Path
from memoryhole.collect.collector import Collector
from memoryhole.collect.runner import study_policy
from memoryhole.sim.replay import replay
from memoryhole.scenario import load_scenario
from memoryhole.study import Study
study, posts = Study.open(Path(sys.argv[1])), load_scenario(Path(sys.argv[2]))
policy = study_policy(study)
assert policy is not None
end = min(p.published_at for p in posts) + 2 * 86400.0
# Batches of 500: more commits to be killed between, and progress on a slow machine.
small = functools.partial(Collector, batch_size=500)
replay(study, posts, until=end, policy=policy, build=small)
"""


def replay_command(study: Path, scenario: Path, scheduler: str = "age") -> list[str]:
    if scheduler == "budget":
        return [sys.executable, "-c", CONFIGURED_REPLAY, str(study), str(scenario)]
    return [
        sys.executable, "-m", "memoryhole", "sim", "replay",
        "--scenario", str(scenario), "--until", "2d", "--study", str(study),
    ]  # fmt: skip


def observation_log(study: Path) -> list[tuple[object, ...]]:
    """The study's observations without their wall-clock fields, and with the author
    commitment of a ``post`` leaf's facts replaced by the author's place among the study's
    authors (it hashes a pseudonym, which each study keys with its own secret)."""
    opened = Study.open(study)
    columns = [c for c in observations.c if c.name not in WALL_CLOCK_COLUMNS]
    with opened.engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(observations.c.id)).all()
    opened.close()
    authors: dict[str, int] = {}
    log = []
    for row in rows:
        values = row._asdict()
        if values["facts"] is not None:
            facts = json.loads(values["facts"])
            if "author" in facts:
                facts["author"] = authors.setdefault(facts["author"], len(authors))
            values["facts"] = facts
        log.append(tuple(values.values()))
    return log


def observation_kinds(study: Path) -> list[str]:
    """ "listed" for a sighting in a timeline or feed logged as an observation of the post."""
    opened = Study.open(study)
    with opened.engine.connect() as connection:
        details = connection.execute(select(observations.c.detail)).scalars().all()
    opened.close()
    return ["listed" if str(d).startswith("listed by") else "other" for d in details]


def verdicts(study: Path) -> list[dict[str, object]]:
    opened = Study.open(study)
    # Raw ids: each study pseudonymises with its own secret key, so pseudonyms differ by design.
    result = list(iter_verdicts(opened.engine, raw_author_ids=True))
    opened.close()
    return result


def make_study(
    path: Path, scheduler: str, posts: list[ScenarioPost], database: str | None = None
) -> None:
    """A study on the given schedule; the budget-aware one on 20 requests per post (over the
    two days replayed) and with every author's timeline watched, so that its wide view, its
    learnt hazard and risks and its planned polls all decide what is checked when."""
    study = Study.init(path, database_url=database)
    update_config(study.config_path, ("collector",), "scheduler", scheduler)
    if scheduler == "budget":
        update_config(study.config_path, ("collector",), "horizon", "2d")
        rate = 20.0 * len(posts) / (2 * 86400.0)
        update_config(study.config_path, ("collector",), "budget_per_second", rate)
        authors = sorted({post.author_id for post in posts})
        add_targets(study.engine, [Target("weibo", "user", a) for a in authors], 0.0)
    study.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scheduler", "backend"), [("age", "sqlite"), ("budget", "sqlite"), ("budget", "postgresql")]
)
def test_kill_9_at_random_points_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path, scheduler: str, backend: str, request: pytest.FixtureRequest
) -> None:
    posts = known_removals(1_700_000_000.0, posts=1500)
    scenario = tmp_path / "scenario.jsonl"
    write_scenario(posts, scenario)

    def database() -> str | None:
        return request.getfixturevalue("postgres_database")() if backend != "sqlite" else None

    make_study(tmp_path / "clean", scheduler, posts, database())
    started = time.monotonic()
    subprocess.run(replay_command(tmp_path / "clean", scenario, scheduler), check=True, timeout=600)
    # Kill points as shares of an uninterrupted run on this machine, now: fixed seconds let a
    # fast (idle) machine finish after a single kill, and a slow one never get anywhere.
    full_run = time.monotonic() - started

    make_study(tmp_path / "killed", scheduler, posts, database())
    rng = random.Random(20261124)
    kills = 0
    for attempt in range(40):
        process = subprocess.Popen(
            replay_command(tmp_path / "killed", scenario, scheduler),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The first two kills come after 0.1-0.3 of a clean run (the second x 1.125), so the
        # replay cannot end before the second unless resumed runs go 1.5 times as fast as the
        # clean one (drawn from 0.15-0.45, it once ended after one kill in a clean-clone CI
        # run). Later attempts wait longer, so a slower moment of the machine still gets to
        # the end.
        share = rng.uniform(0.1, 0.3) if attempt < 2 else rng.uniform(0.15, 0.45)
        time.sleep(share * full_run * (1.0 + attempt / 8.0))
        if process.poll() is not None:
            assert process.returncode == 0
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    else:
        pytest.fail("the replay never finished")
    assert kills >= 2, "the test must really interrupt the run"

    clean_log, killed_log = (
        observation_log(tmp_path / "clean"),
        observation_log(tmp_path / "killed"),
    )
    ids = [row[0] for row in killed_log]
    assert ids == list(range(1, len(ids) + 1)), "observation ids are contiguous: none lost"
    assert len(killed_log) == len(clean_log)
    assert killed_log == clean_log
    assert verdicts(tmp_path / "killed") == verdicts(tmp_path / "clean")
    killed = Study.open(tmp_path / "killed")
    report = verify_study(killed)  # every leaf, blob, checkpoint and verdict, after the kills
    killed.close()
    assert report.success, report.failures
    assert any(v["verdict"] == "censored" for v in verdicts(tmp_path / "clean"))
    if scheduler == "budget":  # the resumed runs did take the scheduler's state back
        opened = Study.open(tmp_path / "killed")
        with opened.engine.connect() as connection:
            names = set(connection.execute(select(scheduler_state.c.name)).scalars())
        opened.close()
        assert {"collector/meta", "policy/meta"} <= names
        assert any(kind == "listed" for kind in observation_kinds(tmp_path / "clean"))
