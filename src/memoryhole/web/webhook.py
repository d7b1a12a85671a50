"""Telling a newsroom within a minute: POST each newly detected removal to a webhook.

Configured per study in ``STUDY/alerts.toml`` (or with ``memoryhole serve --webhook URL``)::

    [webhook]
    url = "https://newsroom.example/hooks/memoryhole"
    kinds = ["censored", "account_suspended"]   # optional: which removals (default: all)
    secret = "shared secret"                    # optional: signs each body (HMAC-SHA256)
    every = "10s"                               # optional: how often the store is polled

A small poller started by ``memoryhole serve`` reads the observations logged since its last
look (a range scan on the primary key), keeps the checks that are a post's *first* removal
sighting (the observation whose time is the verdict's ``first_seen_removed_at``, so a removal
is announced once, and a post checked again after its removal is not announced again), and
POSTs them as one JSON body::

    {"study": ORIGIN, "removals": [{"platform", "post_id", "author_id" (pseudonym), "verdict",
     "published_at", "last_seen_alive_at", "first_seen_removed_at", "signal", "text", "url"}]}

with ``X-Memoryhole-Signature: sha256=<hex HMAC of the body>`` when a secret is set. Failed
deliveries are retried on the next poll (up to 1,000 removals kept). Removals already in the
store when the server starts are not sent. Posts of authors taken down are never sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from memoryhole.analysis.overview import REMOVAL_KINDS, shown_authors
from memoryhole.config import parse_duration
from memoryhole.errors import ConfigError
from memoryhole.store.schema import authors, observations, posts, verdicts
from memoryhole.study import Study

log = logging.getLogger("memoryhole.web.webhook")

ALERTS_FILE = "alerts.toml"
MAX_PENDING = 1000


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    kinds: tuple[str, ...] = REMOVAL_KINDS
    secret: str | None = None
    every: float = 10.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook url {self.url!r} must start with http:// or https://")
        unknown = set(self.kinds) - set(REMOVAL_KINDS)
        if unknown:
            raise ConfigError(f"webhook kinds {sorted(unknown)} are not removal kinds")
        if not 1.0 <= self.every <= 60.0:
            raise ConfigError("webhook 'every' must be between 1s and 60s")


def load_webhook_config(study_path: Path) -> WebhookConfig | None:
    path = study_path / ALERTS_FILE
    if not path.exists():
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    section = raw.get("webhook")
    if not isinstance(section, dict) or not section.get("url"):
        return None
    try:
        return WebhookConfig(
            url=str(section["url"]),
            kinds=tuple(section.get("kinds", REMOVAL_KINDS)),
            secret=str(section["secret"]) if section.get("secret") else None,
            every=parse_duration(section.get("every", 10.0)),
        )
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookPoller:
    study: Study
    config: WebhookConfig
    post_url: Callable[[str, str], str]
    high_water: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        with self.study.engine.connect() as conn:
            self.high_water = int(conn.execute(select(func.max(observations.c.id))).scalar() or 0)

    def new_removals(self) -> list[dict[str, Any]]:
        """First removal sightings logged since the last call."""
        query = (
            select(
                observations.c.id,
                observations.c.observed_at,
                posts.c.platform,
                posts.c.post_id,
                posts.c.published_at,
                posts.c.text,
                authors.c.pseudonym,
                verdicts.c.status,
                verdicts.c.last_seen_alive_at,
                verdicts.c.first_seen_removed_at,
                verdicts.c.signal,
            )
            .select_from(
                observations.join(posts, posts.c.id == observations.c.post_pk)
                .join(verdicts, verdicts.c.post_pk == posts.c.id)
                .join(authors, authors.c.id == posts.c.author_pk)
            )
            .where(
                observations.c.id > self.high_water,
                observations.c.kind == "check",
                observations.c.status.in_(REMOVAL_KINDS),
                shown_authors(),
            )
            .order_by(observations.c.id)
        )
        found: list[dict[str, Any]] = []
        with self.study.engine.connect() as conn:
            last = conn.execute(select(func.max(observations.c.id))).scalar() or 0
            for row in conn.execute(query.where(observations.c.id <= last)):
                if row.status not in self.config.kinds:
                    continue
                if (
                    row.first_seen_removed_at is None
                    or row.observed_at != row.first_seen_removed_at
                ):
                    continue
                found.append(
                    {
                        "platform": row.platform,
                        "post_id": row.post_id,
                        "author_id": row.pseudonym,
                        "verdict": row.status,
                        "published_at": row.published_at,
                        "last_seen_alive_at": row.last_seen_alive_at,
                        "first_seen_removed_at": row.first_seen_removed_at,
                        "signal": row.signal,
                        "text": row.text,
                        "url": self.post_url(row.platform, row.post_id),
                    }
                )
        self.high_water = max(self.high_water, int(last))
        return found

    def deliver(self, removals: list[dict[str, Any]]) -> bool:
        body = json.dumps(
            {"study": self.study.log_origin, "removals": removals}, ensure_ascii=False
        ).encode()
        request = urllib.request.Request(
            self.config.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "memoryhole-webhook",
            },
        )
        if self.config.secret:
            request.add_header("X-Memoryhole-Signature", sign(self.config.secret, body))
        try:
            with urllib.request.urlopen(request, timeout=10.0) as response:
                ok = 200 <= int(response.status) < 300
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("webhook delivery to %s failed: %s", self.config.url, exc)
            ok = False
        if not ok:
            self.failures += 1
        return ok

    def poll_once(self) -> int:
        """Find new removals and send everything pending; returns how many were sent."""
        self.pending.extend(self.new_removals())
        del self.pending[:-MAX_PENDING]
        if not self.pending:
            return 0
        batch = list(self.pending)
        if not self.deliver(batch):
            return 0
        del self.pending[: len(batch)]
        self.sent += len(batch)
        return len(batch)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="memoryhole-webhook", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15.0)

    def _loop(self) -> None:
        while not self._stop.wait(self.config.every):
            try:
                self.poll_once()
            except Exception as exc:  # keep polling: the store may be briefly busy
                log.warning("webhook poll failed: %s", exc)
