"""The scheduler's saved state: one versioned format for ``run``, ``schedule explain`` and
``bench detect``.

Everything the scheduler's decisions depend on, exactly, as ``(meta, arrays)``: a JSON-able
dict and named numpy arrays (``schedule/snapshot.py`` writes them to the store's
``scheduler_state`` rows). The collector commits it with each batch of observations, so a run
killed at any point resumes with the plan that produced the last committed batch; ``schedule
explain`` and ``bench detect`` read the same rows. It holds no text: the risk model's features
are kept by their 64-bit keys. Taking it is incremental: only the rows of posts and authors
changed since it was last taken are redone (``PostRecord`` notes its changes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from memoryhole.schedule.base import ListingRequest, PostView
from memoryhole.schedule.records import PlanSlots, PostRecord
from memoryhole.schedule.snapshot import decode_strings
from memoryhole.schedule.timelines import Author, AuthorIndex, TrackedPost

if TYPE_CHECKING:
    from memoryhole.schedule.scheduler import Scheduler

VERSION = 1
Arrays = dict[str, npt.NDArray[Any]]


class SavedState:
    """What has been written of the append-only parts (features, author ids), the rows as last
    taken, and what changed since (``touched``: post pks; ``touched_authors``)."""

    def __init__(self) -> None:
        self.features_flat: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.feature_offsets: npt.NDArray[np.int64] = np.zeros(1, dtype=np.int64)
        self.author_ids = bytearray()
        self.author_count = 0
        self.touched: set[int] = set()
        self.touched_authors: set[str] = set()
        self.post_floats = np.zeros((0, 5))
        self.post_ints = np.zeros((0, 3), dtype=np.int64)
        self.author_floats = np.zeros((0, 2))
        self.author_ints = np.zeros((0, 3), dtype=np.int64)
        self.author_rows: dict[str, int] = {}

    def take(self, scheduler: Scheduler, *, full: bool = False) -> tuple[dict[str, Any], Arrays]:
        records = list(scheduler.posts.values())
        n = len(records)
        if n != scheduler.slots.count:
            raise RuntimeError("the scheduler's posts and plan slots disagree")
        known = len(self.feature_offsets) - 1
        if n > known:
            new = [record.features for record in records[known:]]
            ends = self.feature_offsets[-1] + np.cumsum([len(f) for f in new], dtype=np.int64)
            self.features_flat = np.concatenate([self.features_flat, *new]).astype(np.int64)
            self.feature_offsets = np.concatenate([self.feature_offsets, ends])
        floats, ints = self._post_rows(scheduler, records, full)
        authors = list(scheduler.index.authors.values())
        for author in authors[self.author_count :]:
            self.author_ids += (json.dumps(author.author_id) + "\n").encode("utf-8")
            self.author_rows[author.author_id] = len(self.author_rows)
            self.touched_authors.add(author.author_id)
        self.author_count = len(authors)
        author_floats, author_ints = self._author_table(scheduler, authors, full)
        cache = scheduler.request_cache
        meta: dict[str, Any] = {
            "version": VERSION,
            **scheduler.budget.saved(),
            "wide_view": scheduler.wide_view,
            "pending": [[pk, when] for pk, when in scheduler.pending.items()],
            "dirty": list(scheduler.dirty),
            "by_target": [[pk, a.author_id] for pk, a in scheduler.index.by_target.items()],
            "updates": scheduler.updates,
            "request_cache": None
            if cache is None
            else [cache[0], cache[1], cache[2].cursor, cache[2].postpone_until],
            "hazard": scheduler.hazard.snapshot(),
            "capacity": {"slots": scheduler.slots.capacity, "risk": len(scheduler.risk.observed)},
            "settings": asdict(scheduler.settings),
        }
        trace = scheduler.budget.trace
        arrays: Arrays = {
            "posts.floats": floats,
            "posts.ints": ints,
            "posts.features": self.features_flat,
            "posts.offsets": self.feature_offsets,
            **scheduler.slots.arrays(),
            "authors.ids": np.frombuffer(bytes(self.author_ids), dtype=np.uint8),
            "authors.floats": author_floats,
            "authors.ints": author_ints,
            "trace": np.array(trace, dtype=np.float64).reshape(len(trace), 3),
            **scheduler.risk.snapshot(),
        }
        return meta, arrays

    def _post_rows(
        self, scheduler: Scheduler, records: list[PostRecord], full: bool
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Each post's row (floats: rr, first and last age seen alive, credit, next check;
        ints: pk, confirmations, flags), redone only for the records changed since."""
        n = len(records)
        if len(self.post_floats) < n:
            grow = max(n, 2 * len(self.post_floats), 1024)
            floats = np.zeros((grow, 5))
            ints = np.zeros((grow, 3), dtype=np.int64)
            floats[: len(self.post_floats)] = self.post_floats
            ints[: len(self.post_ints)] = self.post_ints
            self.post_floats, self.post_ints = floats, ints
        changed = records if full else [scheduler.posts[pk] for pk in sorted(self.touched)]
        for r in changed:
            self.post_floats[r.slot] = (
                r.rr,
                r.first_age,
                r.alive_age,
                r.credited,
                math.nan if r.due is None else r.due,
            )
            self.post_ints[r.slot] = (
                r.pk,
                r.confirmations,
                r.removed
                | r.floored << 1
                | r.parked << 2
                | r.confirming << 3
                | r.tracked.live << 4,
            )
        self.touched.clear()
        return self.post_floats[:n].copy(), self.post_ints[:n].copy()

    def _author_table(
        self, scheduler: Scheduler, authors: list[Author], full: bool
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Each author's row (floats: planned and last timeline poll; ints: its timeline's
        target, suspended, its plan slot), redone only for the authors changed since."""
        m = len(authors)
        if len(self.author_floats) < m:
            grow = max(m, 2 * len(self.author_floats), 1024)
            floats = np.zeros((grow, 2))
            ints = np.zeros((grow, 3), dtype=np.int64)
            floats[: len(self.author_floats)] = self.author_floats
            ints[: len(self.author_ints)] = self.author_ints
            self.author_floats, self.author_ints = floats, ints
        slots = scheduler.slots.author_slots
        index = scheduler.index.authors
        changed = authors if full else [index[a] for a in sorted(self.touched_authors)]
        for a in changed:
            row = self.author_rows[a.author_id]
            self.author_floats[row] = (
                math.nan if a.poll_at is None else a.poll_at,
                math.nan if a.last_poll is None else a.last_poll,
            )
            self.author_ints[row] = (
                -1 if a.target_pk is None else a.target_pk,
                a.suspended,
                slots.get(a.author_id, -1),
            )
        self.touched_authors.clear()
        return self.author_floats[:m].copy(), self.author_ints[:m].copy()

    def restore(
        self,
        scheduler: Scheduler,
        meta: dict[str, Any],
        arrays: Arrays,
        posts: Mapping[int, PostView],
    ) -> None:
        """Take back a state (``posts``: the collector's posts, by pk, for their ids)."""
        if meta.get("version") != VERSION:
            raise ValueError(f"unknown scheduler state version {meta.get('version')!r}")
        ints, floats = arrays["posts.ints"], arrays["posts.floats"]
        n = len(ints)
        # Check first, so that a state that does not fit leaves the scheduler as it was.
        bins = len(scheduler.hazard.widths)
        if any(len(meta["hazard"][name]) != bins for name in ("events", "exposure", "hazard")):
            raise ValueError("its removal hazard has other age bins (was the horizon changed?)")
        unknown = [int(pk) for pk in ints[:, 0] if int(pk) not in posts]
        if unknown:
            raise ValueError(f"{len(unknown)} of its posts are not in the store")
        index, by_slot, author_ids = self._authors(meta, arrays)
        slots = PlanSlots.restored(
            arrays,
            int(meta["capacity"]["slots"]),
            {by_slot[slot]: slot for slot in sorted(by_slot)},
        )
        slot_authors = list(slots.author_slots)
        flat = arrays["posts.features"].astype(np.int64)
        offsets = arrays["posts.offsets"].astype(np.int64)
        records: dict[int, PostRecord] = {}
        parked: dict[str, set[int]] = {}
        for i in range(n):
            pk, confirmations, flags = (int(x) for x in ints[i])
            rr, first_age, alive_age, credited, due = (float(x) for x in floats[i])
            published = float(slots.published[i])
            author_id = slot_authors[int(slots.author_of[i])]
            post_id = posts[pk].post_id
            tracked = TrackedPost(pk, post_id, published, live=bool(flags & 16))
            record = PostRecord(
                self.touched,
                pk,
                post_id,
                author_id,
                published,
                flat[int(offsets[i]) : int(offsets[i + 1])],
                tracked,
                rr=rr,
                first_age=first_age,
                alive_age=alive_age,
                credited=credited,
                due=None if math.isnan(due) else due,
                removed=bool(flags & 1),
                confirmations=confirmations,
                floored=bool(flags & 2),
                slot=i,
                parked=bool(flags & 4),
                confirming=bool(flags & 8),
            )
            records[pk] = record
            index.author(author_id).add(tracked)
            if record.parked:
                parked.setdefault(author_id, set()).add(pk)
        self.features_flat, self.feature_offsets = flat, offsets
        self.author_ids = bytearray(arrays["authors.ids"].tobytes())
        self.author_count = len(author_ids)
        self.author_rows = {author_id: row for row, author_id in enumerate(author_ids)}
        self.post_floats, self.post_ints = floats.astype(np.float64), ints.astype(np.int64)
        self.author_floats = arrays["authors.floats"].astype(np.float64).reshape(-1, 2)
        self.author_ints = arrays["authors.ints"].astype(np.int64).reshape(-1, 3)
        self.touched.clear()
        self.touched_authors.clear()
        scheduler.risk.restore(arrays, int(meta["capacity"]["risk"]))
        scheduler.hazard.restore(meta["hazard"])
        trace = [(float(a), float(b), float(c)) for a, b, c in arrays["trace"]]
        scheduler.budget.restore(meta, trace)
        cache = meta["request_cache"]
        scheduler.take_back(
            slots=slots,
            index=index,
            posts=records,
            parked=parked,
            wide_view=bool(meta["wide_view"]),
            pending={int(pk): when for pk, when in meta["pending"]},
            dirty=dict.fromkeys(meta["dirty"]),
            updates=int(meta["updates"]),
            request_cache=None
            if cache is None
            else (int(cache[0]), float(cache[1]), ListingRequest(cache[2], cache[3])),
        )

    @staticmethod
    def _authors(
        meta: dict[str, Any], arrays: Arrays
    ) -> tuple[AuthorIndex, dict[int, str], list[str]]:
        """The authors, in the order they were first met: the index and their plan slots."""
        index = AuthorIndex()
        by_slot: dict[int, str] = {}
        author_ids = decode_strings(arrays["authors.ids"])
        author_floats, author_ints = arrays["authors.floats"], arrays["authors.ints"]
        for i, author_id in enumerate(author_ids):
            author = index.author(author_id)
            poll_at, last_poll = (float(x) for x in author_floats[i])
            target_pk, suspended, slot = (int(x) for x in author_ints[i])
            author.poll_at = None if math.isnan(poll_at) else poll_at
            author.last_poll = None if math.isnan(last_poll) else last_poll
            author.target_pk = None if target_pk < 0 else target_pk
            author.suspended = bool(suspended)
            if slot >= 0:
                by_slot[slot] = author_id
        for target_pk, author_id in meta["by_target"]:
            index.by_target[int(target_pk)] = index.authors[author_id]
        return index, by_slot, author_ids
