"""Fixtures for the import tests: a fresh study per test, and the import fixture files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memoryhole.imports import ImportSummary, run_import
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    opened = Study.init(tmp_path / "study")
    yield opened
    opened.close()


def data(name: str) -> Path:
    return DATA / name


def run(study: Study, kind: str, path: Path, **options: Any) -> ImportSummary:
    return run_import(study, kind, path, **options)


def verdicts_by_post(study: Study) -> dict[str, dict[str, Any]]:
    return {str(row["post_id"]): row for row in iter_verdicts(study.engine)}
