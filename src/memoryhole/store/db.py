"""Opening a study's database and bringing its schema up to date (Alembic)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from memoryhole.errors import ConfigError

MIGRATIONS = "memoryhole.store:migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def database_engine_url(url: str) -> str:
    """A database URL as SQLAlchemy takes it: ``postgresql://`` (as PostgreSQL's own tools
    write it) is PostgreSQL through psycopg 3; SQLite and other dialects are kept."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("postgresql+psycopg://", "sqlite:")):
        raise ConfigError(
            f"unsupported database URL {url.split('://')[0]}://…; use "
            "postgresql://user@host/dbname (PostgreSQL) or leave it out (SQLite in the study)"
        )
    return url


def create_study_engine(url: str) -> Engine:
    url = database_engine_url(url)
    if url.startswith("postgresql"):
        # A worker holds a few connections; many workers share one server.
        engine = create_engine(url, pool_size=4, max_overflow=8, pool_pre_ping=True)
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Apply every pending migration (idempotent)."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
