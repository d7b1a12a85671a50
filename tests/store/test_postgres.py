"""A study whose tables live in PostgreSQL (``init --database``): the real server, started by
``scripts/postgres``; the same verdicts and evidence as on SQLite, and one writer at a time
across every folder that shares the database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memoryhole.errors import ConfigError, StudyLockedError
from memoryhole.evidence.verify import verify_study
from memoryhole.sim.replay import replay
from memoryhole.store.db import database_engine_url
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.scenarios import known_removals

START = 1_717_200_000.0


def verdicts(study: Study) -> list[dict[str, object]]:
    return list(iter_verdicts(study.engine, raw_author_ids=True))


def test_the_same_study_on_postgresql_and_sqlite(tmp_path: Path, postgres_url: str) -> None:
    posts = known_removals(START)
    on_sqlite = Study.init(tmp_path / "sqlite")
    on_postgres = Study.init(tmp_path / "postgres", database_url=postgres_url)
    assert on_postgres.engine.dialect.name == "postgresql"
    for study in (on_sqlite, on_postgres):
        replay(study, posts, until=START + 6 * 3600.0)
    assert verdicts(on_postgres) == verdicts(on_sqlite)
    assert any(v["verdict"] == "censored" for v in verdicts(on_postgres))
    report = verify_study(on_postgres)
    assert report.success and report.passed, report.failures


def test_a_second_folder_on_the_same_database_cannot_write_at_once(
    tmp_path: Path, postgres_url: str
) -> None:
    first = Study.init(tmp_path / "host-a", database_url=postgres_url)
    second = Study.init(tmp_path / "host-b", database_url=postgres_url)
    with (
        first.writer_lock(),
        pytest.raises(StudyLockedError, match="another collector"),
        second.writer_lock(),
    ):
        pass
    with second.writer_lock():  # released
        pass


def test_a_killed_writer_leaves_no_lock_behind(tmp_path: Path, postgres_url: str) -> None:
    study = Study.init(tmp_path / "study", database_url=postgres_url)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from memoryhole.study import Study\n"
            "s = Study.open(Path(sys.argv[1]))\n"
            "with s.writer_lock():\n    print('held', flush=True); time.sleep(60)",
            str(study.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    other = Study.init(tmp_path / "other", database_url=postgres_url)
    with pytest.raises(StudyLockedError), other.writer_lock():
        pass
    holder.kill()
    holder.wait()
    for _ in range(50):  # the server notices the closed connection
        try:
            with other.writer_lock():
                break
        except StudyLockedError:
            time.sleep(0.1)
    else:
        pytest.fail("the lock of a killed writer was never released")


def test_database_urls_as_people_write_them() -> None:
    assert database_engine_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_engine_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_engine_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    with pytest.raises(ConfigError, match="postgresql://"):
        database_engine_url("mysql://u@h/db")
