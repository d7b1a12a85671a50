from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL for this test session (``scripts/postgres``): the URL of its
    maintenance database. The real server: the database is never mocked. (Its folder is
    under /tmp, not pytest's tmp_path: the server's own user must be able to reach it.)"""
    where = tempfile.mkdtemp(prefix="memoryhole-pg-")
    script = str(ROOT / "scripts" / "postgres")
    url = subprocess.run(
        [script, "start", str(where)], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([script, "stop", str(where)], capture_output=True, check=False)
        shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server: str) -> Callable[[], str]:
    """Makes new, empty databases on the session's PostgreSQL; returns their URLs."""

    def create() -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return postgres_server.rsplit("/", 1)[0] + "/" + name

    return create


@pytest.fixture
def postgres_url(postgres_database: Callable[[], str]) -> str:
    """A new, empty database on the session's PostgreSQL."""
    return postgres_database()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A throwaway S3-compatible server for this test session (``scripts/s3``: moto's, in its
    own process on loopback): its endpoint URL. The real HTTP protocol, never a mock."""
    where = tempfile.mkdtemp(prefix="memoryhole-s3-")
    script = str(ROOT / "scripts" / "s3")
    # The moto server of the environment running the tests (the repository's .venv or not).
    env = {**os.environ, "MOTO_SERVER": str(Path(sys.executable).parent / "moto_server")}
    url = subprocess.run(
        [script, "start", where], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([script, "stop", where], capture_output=True, check=False)
        shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket on the session's S3 server (its name), with the credentials the
    server takes in the environment."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "memoryhole-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "memoryhole-test-secret")
    name = f"t-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=name)
    return name
