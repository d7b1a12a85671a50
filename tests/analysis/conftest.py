"""Studies shared by the study-level analysis tests, each built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from memoryhole.analysis.study_data import StudyData, load_study_data
from memoryhole.sim.replay import replay
from memoryhole.study import Study
from tests.analysis.study_fixtures import PlantedStudy, build_planted_study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0


@pytest.fixture(scope="session")
def planted_study(tmp_path_factory: pytest.TempPathFactory) -> PlantedStudy:
    """~3,000 posts replayed over 3 days (read-only: tests must not change it)."""
    return build_planted_study(tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="session")
def planted_data(planted_study: PlantedStudy) -> StudyData:
    """The planted study's posts and terms, loaded once (read-only)."""
    return load_study_data(Study.open(planted_study.path))


@pytest.fixture(scope="session")
def small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small")
    study = Study.init(root / "study")
    replay(study, known_removals(T0, posts=60), until=T0 + 86400.0)
    study.close()
    return root / "study"


@pytest.fixture
def small_study(small_template: Path, tmp_path: Path) -> Path:
    """A private copy of a small replayed study (60 posts, 4 authors, one suspended)."""
    import shutil

    target = tmp_path / "study"
    shutil.copytree(small_template, target)
    return target
