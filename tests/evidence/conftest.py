"""A small replayed study with removals, shared by the evidence tests (built once per module)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from memoryhole.scenario import ScenarioPost
from memoryhole.sim.replay import replay
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0


@pytest.fixture(scope="session")
def replayed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evidence-study")
    study = Study.init(root / "study")
    posts: list[ScenarioPost] = known_removals(T0, posts=60)
    replay(study, posts, until=T0 + 86400.0)
    study.close()
    return root / "study"


@pytest.fixture
def study_path(replayed_template: Path, tmp_path: Path) -> Path:
    """A private copy of the replayed study (tests may tamper with it)."""
    target = tmp_path / "study"
    shutil.copytree(replayed_template, target)
    return target


def censored_post(study: Study) -> str:
    return next(
        str(v["post_id"]) for v in iter_verdicts(study.engine) if v["verdict"] == "censored"
    )
