"""Partition leases: which worker of a shared study works on which targets.

A study on PostgreSQL may have several collectors (``memoryhole run`` processes, on one host or
many). The work is partitioned by target: a target's listing polls and the checks of the posts
it found form one partition, and a worker holds a lease on each partition it works on
(``collect_claims``, one row per target). Each term (``collect/shared.py``) a worker renews its
heartbeat, takes free or expired partitions up to its fair share (``ceil(partitions / live
workers)``) with ``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never wait on, or take, the
same row), gives back what it holds beyond that share, and renews the rest. A killed worker
renews nothing: its leases expire after ``lease`` seconds and the others take them over from
what it committed. Times are the database's clock, so hosts need not agree on the time.

``holds`` is the fence: the sequencer commits a batch only if its worker still holds every
partition the batch touches, so a worker that lost a lease (stalled past it) cannot write over
the work of the one that took it.
"""

from __future__ import annotations

import fcntl
import math
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from memoryhole.errors import StudyLockedError
from memoryhole.study import LOCK_FILE, WRITER_LOCK_KEY, Study

NOW = "extract(epoch from clock_timestamp())"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Claims:
    def __init__(self, engine: Engine, worker: str, *, lease: float = 30.0) -> None:
        self.engine, self.worker, self.lease = engine, worker, lease
        self.held: frozenset[int] = frozenset()
        self.live = 1  # workers alive at the last acquire (this one included)

    def acquire(self) -> frozenset[int]:
        """Renew the heartbeat and the leases; take up to the fair share; the partitions held."""
        params = {"me": self.worker, "lease": self.lease}
        with self.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO collect_workers (worker, alive_until) "
                    f"VALUES (:me, {NOW} + :lease) "
                    "ON CONFLICT (worker) DO UPDATE SET alive_until = excluded.alive_until"
                ),
                params,
            )
            connection.execute(
                text(
                    "INSERT INTO collect_claims (target_pk, worker, lease_until) "
                    "SELECT id, NULL, 0 FROM targets WHERE active ON CONFLICT DO NOTHING"
                )
            )
            partitions = connection.execute(
                text("SELECT count(*) FROM targets WHERE active")
            ).scalar_one()
            live = connection.execute(
                text(f"SELECT count(*) FROM collect_workers WHERE alive_until > {NOW}")
            ).scalar_one()
            self.live = max(1, int(live))
            share = math.ceil(partitions / self.live)
            mine = list(
                connection.execute(
                    text(
                        "SELECT target_pk FROM collect_claims WHERE worker = :me "
                        f"AND lease_until > {NOW} ORDER BY target_pk FOR UPDATE"
                    ),
                    params,
                ).scalars()
            )
            if len(mine) > share:  # another worker came: give back what is beyond the share
                connection.execute(
                    text(
                        "UPDATE collect_claims SET worker = NULL, lease_until = 0 "
                        "WHERE target_pk = ANY(:pks)"
                    ),
                    {"pks": mine[share:]},
                )
                mine = mine[:share]
            elif len(mine) < share:
                mine += connection.execute(
                    text(
                        "SELECT target_pk FROM collect_claims c JOIN targets t ON t.id = "
                        f"c.target_pk WHERE t.active AND (c.worker IS NULL OR c.lease_until <= "
                        f"{NOW}) ORDER BY c.target_pk LIMIT :n FOR UPDATE OF c SKIP LOCKED"
                    ),
                    {"n": share - len(mine)},
                ).scalars()
            connection.execute(
                text(
                    f"UPDATE collect_claims SET worker = :me, lease_until = {NOW} + :lease "
                    "WHERE target_pk = ANY(:pks)"
                ),
                {**params, "pks": mine},
            )
        self.held = frozenset(int(pk) for pk in mine)
        return self.held

    def holds(self, connection: Connection, partitions: Iterable[int]) -> bool:
        """Whether this worker's leases on ``partitions`` are still good (the sequencer's fence,
        in its transaction: the rows are locked until it commits)."""
        wanted = sorted(set(partitions))
        if not wanted:
            return True
        held = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM collect_claims WHERE worker = :me AND "
                f"lease_until > {NOW} AND target_pk = ANY(:pks) FOR SHARE) AS held"
            ),
            {"me": self.worker, "pks": wanted},
        ).scalar_one()
        return int(held) == len(wanted)

    def release(self) -> None:
        """Give every partition back (a worker that stops cleanly)."""
        with self.engine.begin() as connection:
            connection.execute(
                text("UPDATE collect_claims SET worker = NULL, lease_until = 0 WHERE worker = :me"),
                {"me": self.worker},
            )
            connection.execute(
                text("DELETE FROM collect_workers WHERE worker = :me"), {"me": self.worker}
            )
        self.held = frozenset()


@contextmanager
def shared_writer_lock(study: Study) -> Iterator[None]:
    """What a worker of a shared study holds: the study's writer lock in shared mode (the
    folder's lock file and the database's advisory lock), so that any number of workers run
    at once while an exclusive writer (an import, a checkpoint's signer outside a run) waits
    for them all, and they for it."""
    handle = open(study.path / LOCK_FILE, "a")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StudyLockedError(
            f"an import or another exclusive writer is running on {study.path}; wait for it"
        ) from None
    try:
        with study.engine.connect() as connection:
            held = connection.execute(
                text("SELECT pg_try_advisory_lock_shared(:key)"), {"key": WRITER_LOCK_KEY}
            ).scalar()
            connection.commit()
            if not held:
                raise StudyLockedError(
                    "an import or another exclusive writer is writing to this study's database; "
                    "wait for it, then start the collectors again"
                )
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock_shared(:key)"), {"key": WRITER_LOCK_KEY}
                )
                connection.commit()
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
