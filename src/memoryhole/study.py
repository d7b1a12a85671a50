"""A study folder: configuration, store, blobs and the pseudonymisation secret.

Layout::

    STUDY/
      memoryhole.toml   configuration (docs/formats.md)
      store.sqlite      the database (SQLite, WAL) unless database_url says otherwise
      blobs/            raw response bodies, content-addressed (store/blobs.py), unless
                        [blobs] url puts them elsewhere (a folder, an S3 bucket)
      secret.key        HMAC key for author pseudonyms (0600; never share it)
      log.key           Ed25519 key that signs the evidence log's checkpoints (0600)
      log.pub           its verifier key (C2SP note format): publish it
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine, select, text

from memoryhole.config import (
    DEFAULT_CONFIG,
    BlobSettings,
    StudyConfig,
    load_config,
    update_config,
)
from memoryhole.errors import ConfigError, StudyLockedError, StudyNotFoundError
from memoryhole.evidence.checkpoint import SigningKey, VerifierKey
from memoryhole.store.blobs import BlobStore, FileBlobStore
from memoryhole.store.coverage import (
    TIMELINE_KINDS,
    CoverageGap,
    GapIndex,
    coverage_gaps,
    gap_threshold,
)
from memoryhole.store.db import create_study_engine, database_engine_url, migrate
from memoryhole.store.schema import targets

CONFIG_FILE = "memoryhole.toml"
LOCK_FILE = "collector.lock"  # held by the one writer (``Study.writer_lock``)
WRITER_LOCK_KEY = 0x6D656D6F7279  # the writer's advisory lock on PostgreSQL ("memory")
DATABASE_FILE = "store.sqlite"
SECRET_FILE = "secret.key"
LOG_KEY_FILE = "log.key"
LOG_PUBLIC_FILE = "log.pub"
BLOBS_DIR = "blobs"


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def blob_store(path: Path, settings: BlobSettings) -> BlobStore:
    """Where the study in ``path`` keeps its raw bodies (``[blobs]``): its ``blobs/`` folder,
    another folder, or an S3-compatible bucket (boto3 imported only then)."""
    url = settings.url
    if url is None:
        return FileBlobStore(path / BLOBS_DIR)
    if url.startswith("s3://"):
        from memoryhole.store.s3_blobs import S3BlobStore

        return S3BlobStore(
            url,
            endpoint_url=settings.endpoint_url,
            region=settings.region,
            key_env=settings.key_env,
            secret_env=settings.secret_env,
        )
    folder = Path(url).expanduser()
    return FileBlobStore(folder if folder.is_absolute() else path / folder)


def _blob_settings(url: str | None, endpoint_url: str | None) -> BlobSettings:
    if endpoint_url is not None and not (url or "").startswith("s3://"):
        raise ConfigError("--blobs-endpoint is the server of an S3 store: give --blobs s3://…")
    try:
        return BlobSettings(url=url, endpoint_url=endpoint_url)
    except ValidationError as exc:
        raise ConfigError("; ".join(str(error["msg"]) for error in exc.errors())) from None


class Study:
    def __init__(self, path: Path, config: StudyConfig, engine: Engine, secret: bytes) -> None:
        self.path = path
        self.config = config
        self.engine = engine
        self.blobs: BlobStore = blob_store(path, config.blobs)
        self._secret = secret
        self._signing_key: SigningKey | None = None

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @classmethod
    def init(
        cls,
        path: Path,
        *,
        database_url: str | None = None,
        blobs_url: str | None = None,
        blobs_endpoint: str | None = None,
    ) -> Study:
        """A new study in ``path``; its tables in ``database_url`` (PostgreSQL) if given,
        else in ``store.sqlite`` there; its raw bodies at ``blobs_url`` (a folder, or
        ``s3://BUCKET/PREFIX`` on the server at ``blobs_endpoint``), else in ``blobs/``
        there. A bucket is reached first: an error says what to fix before anything is
        written."""
        if (path / CONFIG_FILE).exists():
            raise ConfigError(f"{path} already holds a study; open it with --study {path}")
        settings = _blob_settings(blobs_url, blobs_endpoint)
        blobs = blob_store(path, settings)
        check = getattr(blobs, "check", None)  # an S3 store: reach its bucket now
        if check is not None:
            check()
        path.mkdir(parents=True, exist_ok=True)
        (path / CONFIG_FILE).write_text(DEFAULT_CONFIG, encoding="utf-8")
        if database_url is not None:
            update_config(path / CONFIG_FILE, (), "database_url", database_engine_url(database_url))
        for key in ("url", "endpoint_url"):
            if getattr(settings, key) is not None:
                update_config(path / CONFIG_FILE, ("blobs",), key, getattr(settings, key))
        if not (path / SECRET_FILE).exists():
            _write_private(path / SECRET_FILE, secrets.token_bytes(32))
        if isinstance(blobs, FileBlobStore):
            blobs.root.mkdir(parents=True, exist_ok=True)
        return cls.open(path)

    def _ensure_log_key(self) -> None:
        if (self.path / LOG_KEY_FILE).exists():
            return
        key = SigningKey.generate(f"memoryhole.study/{secrets.token_hex(8)}")
        key.save(self.path / LOG_KEY_FILE)
        (self.path / LOG_PUBLIC_FILE).write_text(key.verifier_key() + "\n", encoding="utf-8")

    def verifier_key(self) -> str:
        """The public key that verifies this study's checkpoints (``name+id+base64``)."""
        try:
            return (self.path / LOG_PUBLIC_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ConfigError(
                f"{self.path / LOG_PUBLIC_FILE} is missing; it holds the study's public key"
            ) from None

    def signing_key(self) -> SigningKey:
        if self._signing_key is None:
            name = VerifierKey.parse(self.verifier_key()).name
            self._signing_key = SigningKey.load(self.path / LOG_KEY_FILE, name)
        return self._signing_key

    @property
    def log_origin(self) -> str:
        """The checkpoint origin line: the key's name, unique to this study."""
        return VerifierKey.parse(self.verifier_key()).name

    @classmethod
    def open(cls, path: Path) -> Study:
        if not (path / CONFIG_FILE).exists():
            raise StudyNotFoundError(
                f"no study in {path} ({CONFIG_FILE} missing); create one with "
                f"`memoryhole init {path}` or pass --study DIR"
            )
        config = load_config(path / CONFIG_FILE)
        try:
            secret = (path / SECRET_FILE).read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{path / SECRET_FILE} is missing; pseudonyms need it") from None
        url = config.database_url or f"sqlite:///{(path / DATABASE_FILE).resolve()}"
        engine = create_study_engine(url)
        migrate(engine)
        study = cls(path, config, engine, secret)
        study._ensure_log_key()
        return study

    def pseudonym(self, platform: str, raw_author_id: str) -> str:
        """Stable within this study, unlinkable without its secret (HMAC-SHA256)."""
        message = f"{platform}:{raw_author_id}".encode()
        return "a_" + hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:20]

    def coverage_gaps(self) -> list[CoverageGap]:
        """The periods in which the study was not watching (``store/coverage.py``), with
        thresholds from this study's poll interval and budgets."""
        settings = self.config.collector
        budgets = self.config.platform_budgets()

        def threshold(platform: str) -> float:
            rate = budgets.get(platform, settings.budget_per_second)
            return gap_threshold(settings.poll_interval, rate)

        planned = TIMELINE_KINDS if settings.scheduler == "budget" else frozenset()
        return coverage_gaps(self.engine, threshold, planned_kinds=planned)

    def gap_index(self, gaps: list[CoverageGap] | None = None) -> GapIndex:
        """Which removal intervals span a coverage gap."""
        with self.engine.connect() as connection:
            pks = dict(connection.execute(select(targets.c.spec, targets.c.id)).all())
        return GapIndex(self.coverage_gaps() if gaps is None else gaps, pks)

    def base_url(self, platform: str) -> str | None:
        settings = self.config.platforms.get(platform)
        return settings.base_url if settings else None

    def set_base_url(self, platform: str, url: str) -> None:
        update_config(self.config_path, ("platforms", platform), "base_url", url)
        self.config = load_config(self.config_path)

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """One writer per study (a collector, an import, a checkpoint's signer): the store's
        owner takes it. The OS drops the lock if the process dies, even by kill -9."""
        handle = open(self.path / LOCK_FILE, "w")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StudyLockedError(
                f"another collector is running on {self.path}; stop it first (Ctrl-C) or wait"
            ) from None
        try:
            handle.write(str(os.getpid()))
            handle.flush()
            with self._database_writer_lock():
                yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    @contextmanager
    def _database_writer_lock(self) -> Iterator[None]:
        """On PostgreSQL, where study folders on other hosts share the tables, the same lock
        in the database: a session-level advisory lock, which the server drops when the
        holder's connection goes (a process killed by kill -9 included)."""
        if self.engine.dialect.name != "postgresql":
            yield
            return
        with self.engine.connect() as connection:
            held = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": WRITER_LOCK_KEY}
            ).scalar()
            connection.commit()
            if not held:
                raise StudyLockedError(
                    "another collector (or import) is writing to this study's database "
                    f"({self.engine.url.render_as_string(hide_password=True)}); stop it first "
                    "or wait"
                )
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": WRITER_LOCK_KEY}
                )
                connection.commit()

    def close(self) -> None:
        self.engine.dispose()
