from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()
