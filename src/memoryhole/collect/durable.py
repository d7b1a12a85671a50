"""The collector's working state beyond the store's tables, committed with each batch.

Two things decide what a resumed run does and are not rows of their own: the schedule's
learnt state (a ``schedule.base.Durable`` policy's ``snapshot``: the scheduler's threshold,
hazard and feature counts, planned polls), the level of each platform's token bucket, which
listings the policy plans (the others are polled on the collector's own rhythm), the
platform time of the commit, and the collector's pending *sightings* (each post's
latest appearance in a listing, logged as an observation of the post just before its next
check; kept here as the id of the listing's observation). ``rows`` turns both into the rows of
``scheduler_state`` that changed since the last commit (``schedule/snapshot.py``), which the
writer commits in the same transaction as the batch's observations; ``restore`` reads them back
when a collector starts. The state is only taken back if it was committed with exactly the
observations the store holds, by the same kind of policy; otherwise (another policy ran since,
or the state does not fit the configuration, e.g. a changed horizon) the schedule starts afresh
from its prior, and the collector says so.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from sqlalchemy import select

from memoryhole.collect.parts import Parts
from memoryhole.model import Capture, Request
from memoryhole.schedule import snapshot
from memoryhole.schedule.base import durable
from memoryhole.store.queries import load_scheduler_state
from memoryhole.store.schema import observations, targets

COLLECTOR, POLICY = "collector", "policy"
log = logging.getLogger(__name__)


class DurableState:
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.written: dict[str, bytes] = {}  # the rows as last committed
        self.restored = False
        #: Platform time of the commit taken back (a virtual replay resumes its clock there).
        self.committed_at: float | None = None

    def rows(self) -> dict[str, bytes]:
        """The rows that changed since the last commit (to commit with the batch)."""
        parts = self.parts
        sightings = parts.sightings
        meta: dict[str, Any] = {
            "observations": parts.state.next_observation_id - 1,
            "policy": type(parts.policy).__name__,
            "buckets": parts.budgets.levels(),
            "clock": parts.clock.now(),
        }
        planned = sorted(parts.queue.planned)
        arrays = {
            "planned_polls": np.array(planned, dtype=np.int64),
            "sightings.posts": np.fromiter(sightings, dtype=np.int64, count=len(sightings)),
            "sightings.observations": np.fromiter(
                (seen[2] for seen in sightings.values()), dtype=np.int64, count=len(sightings)
            ),
        }
        rows = snapshot.encode(COLLECTOR, meta, arrays, self.written)
        policy = durable(parts.policy)
        if policy is not None:
            policy_meta, policy_arrays = policy.snapshot()
            rows.update(snapshot.encode(POLICY, policy_meta, policy_arrays, self.written))
        return rows

    def restore(self) -> None:
        """Take back the state committed with the store's last batch, if it fits."""
        parts = self.parts
        rows = load_scheduler_state(parts.study.engine)
        self.written = dict(rows)
        decoded = snapshot.decode(COLLECTOR, rows)
        if decoded is None:
            return
        meta, arrays = decoded
        logged = parts.state.next_observation_id - 1
        if meta.get("observations") != logged:
            log.warning(
                "the schedule's saved state is from observation %s but the store holds %s "
                "(another schedule ran since): the schedule starts afresh",
                meta.get("observations"),
                logged,
            )
            return
        policy = durable(parts.policy)
        kinds = {type(parts.policy).__name__, *getattr(parts.policy, "restores_from", ())}
        if policy is not None and meta.get("policy") not in kinds:
            log.warning(
                "the schedule's saved state was left by %s, not %s: the schedule starts "
                "afresh from its prior",
                meta.get("policy"),
                type(parts.policy).__name__,
            )
        elif policy is not None:
            state = snapshot.decode(POLICY, rows)
            if state is not None:
                try:
                    policy.restore(state[0], state[1], parts.state.posts)
                except (KeyError, ValueError) as exc:
                    log.warning(
                        "the schedule's saved state does not fit this configuration (%s): the "
                        "schedule starts afresh from its prior",
                        exc,
                    )
                    return
        self._restore_sightings(arrays)
        parts.budgets.restore_levels(meta.get("buckets", {}))  # absent: saved before 2026-12
        self.committed_at = meta.get("clock")
        if "planned_polls" in arrays:
            parts.queue.restore_planned(int(x) for x in arrays["planned_polls"])
        self.restored = True

    def _restore_sightings(self, arrays: dict[str, Any]) -> None:
        parts = self.parts
        posts = [int(x) for x in arrays["sightings.posts"]]
        ids = [int(x) for x in arrays["sightings.observations"]]
        if not posts:
            return
        captures: dict[int, tuple[Capture, str]] = {}
        engine, blobs = parts.study.engine, parts.study.blobs
        wanted = sorted(set(ids))
        with engine.connect() as connection:
            specs = dict(connection.execute(select(targets.c.id, targets.c.spec)).all())
            for start in range(0, len(wanted), 500):
                query = select(observations).where(
                    observations.c.id.in_(wanted[start : start + 500])
                )
                for row in connection.execute(query).mappings():
                    sha256 = row["body_sha256"]
                    try:
                        body = blobs.get(sha256)
                    except FileNotFoundError:  # taken down since
                        body = b""
                    headers = json.loads(row["response_headers"] or "[]")
                    capture = Capture(
                        request=Request(row["method"], row["url"]),
                        status=row["http_status"],
                        headers=tuple((str(k), str(v)) for k, v in headers),
                        body=body,
                        fetched_at=row["observed_at"],
                        received_at=row["received_at"],
                        elapsed=row["elapsed"],
                        error=row["error"],
                        sent_at=row["sent_at"],
                    )
                    captures[row["id"]] = (capture, specs.get(row["target_pk"], ""))
        parts.sightings = {
            pk: (*captures[observation], observation)
            for pk, observation in zip(posts, ids, strict=True)
            if observation in captures
        }
