"""The scheduler's settings, its record of each post, and the plan's slots.

``PlanSlots`` keeps one slot per post (publication, relative risk, mode, author, age when last
seen alive) in numpy arrays, so the demand of every post and every timeline under a threshold
is summed at once (``demand``): what the budget control (``budget.py``) solves for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from memoryhole.schedule.hazard import RemovalHazard
from memoryhole.schedule.risk import IntArray
from memoryhole.schedule.timelines import TrackedPost

WEEK = 7 * 86400.0
#: A post's mode in the plan: removed (no demand), checked on its own, or covered by its
#: author's timeline polls.
GONE, SINGLE, PARKED = 0, 1, 2


@dataclass(frozen=True)
class SchedulerSettings:
    budget_per_second: float = 5.0
    horizon: float = WEEK
    min_gap: float = 30.0
    max_gap: float = 3 * 86400.0
    max_gap_floor: float = 12 * 3600.0
    max_gap_ratio: float = 3.0
    confirmations: int = 1
    headroom: float = 0.95
    control_period: float = 300.0
    lateness_scale: float = 600.0
    plan_correction: float = 0.3  # how fast the plan's gain follows its shortfall (0: never)
    max_plan_gain: float = 1.5
    page_size: int = 10  # posts a timeline page shows (Weibo's mobile pages: ten)
    timelines: bool = True
    exponent: float = 0.75
    half_life: float | None = None  # what was learnt counts half as much after this long
    seed: int = 0


#: The fields of a post's record that its row of the saved state holds (``state.py``).
SAVED_FIELDS = frozenset(
    {"rr", "first_age", "alive_age", "credited", "due", "removed", "confirmations", "floored"}
    | {"parked", "confirming", "tracked", "slot", "pk"}
)


@dataclass(slots=True)
class PostRecord:
    touched: set[int]  # the scheduler's: records changed since its state was last taken
    pk: int
    post_id: str
    author_id: str
    published_at: float
    features: IntArray
    tracked: TrackedPost
    rr: float = 1.0
    first_age: float = 0.0  # age when first seen alive
    alive_age: float = 0.0  # age when last seen alive
    credited: float = 0.0  # baseline cumulative hazard credited to the risk features
    due: float | None = None
    removed: bool = False
    confirmations: int = 0
    floored: bool = False
    slot: int = 0
    parked: bool = False  # covered by its author's timeline polls
    confirming: bool = False  # missing from a listing: a single-post check is due

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name in SAVED_FIELDS:  # (its tracked post's ``live`` changes with ``removed``)
            self.touched.add(self.pk)


SLOT_ARRAYS = ("published", "risks", "modes", "author_of", "alive_ages")


class PlanSlots:
    """One slot per post, in the order the scheduler met them."""

    def __init__(self, capacity: int = 1024) -> None:
        self.count = 0
        self.published = np.zeros(capacity)
        self.risks = np.ones(capacity)
        self.modes = np.zeros(capacity, dtype=np.int8)  # GONE, SINGLE (own checks) or PARKED
        self.author_of = np.zeros(capacity, dtype=np.int64)
        self.alive_ages = np.zeros(capacity)  # age when last seen alive
        self.author_slots: dict[str, int] = {}

    @property
    def capacity(self) -> int:
        return len(self.published)

    def add(self, record: PostRecord) -> bool:
        """Give ``record`` the next slot; True when its author is new to the plan."""
        if self.count >= self.capacity:
            grow = self.capacity
            self.published = np.concatenate([self.published, np.zeros(grow)])
            self.risks = np.concatenate([self.risks, np.ones(grow)])
            self.modes = np.concatenate([self.modes, np.zeros(grow, dtype=np.int8)])
            self.author_of = np.concatenate([self.author_of, np.zeros(grow, dtype=np.int64)])
            self.alive_ages = np.concatenate([self.alive_ages, np.zeros(grow)])
        record.slot = self.count
        self.count += 1
        new_author = record.author_id not in self.author_slots
        author = self.author_slots.setdefault(record.author_id, len(self.author_slots))
        self.published[record.slot] = record.published_at
        self.risks[record.slot] = record.rr
        self.modes[record.slot] = SINGLE
        self.author_of[record.slot] = author
        self.alive_ages[record.slot] = record.alive_age
        return new_author

    def set_mode(self, record: PostRecord) -> None:
        mode = GONE if record.removed else PARKED if record.parked else SINGLE
        self.modes[record.slot] = mode
        self.risks[record.slot] = record.rr

    def demand(
        self, now: float, settings: SchedulerSettings, hazard: RemovalHazard
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Every unit checked on its own (a post, or a polled timeline: the posts it covers
        together) as (weight, longest gap): a post's weight is (rr × hazard at its age)^e, a
        timeline's the sum over its posts; the longest gap its rule allows (a timeline's is
        its posts' shortest)."""
        n = self.count
        ages = now - self.published[:n]
        modes = self.modes[:n]
        active = (modes != GONE) & (ages >= 0) & (ages < settings.horizon)
        weights = self.risks[:n] * hazard.hazard_array(ages)
        longest = np.minimum(
            settings.max_gap,
            np.maximum(settings.max_gap_floor, settings.max_gap_ratio * self.alive_ages[:n]),
        )
        single = active & (modes == SINGLE)
        powered = [weights[single] ** settings.exponent]
        gaps = [longest[single]]
        parked = active & (modes == PARKED)
        if parked.any():
            authors = self.author_of[:n][parked]
            by_author = np.bincount(authors, weights=weights[parked] ** settings.exponent)
            shortest = np.full(len(by_author), np.inf)
            np.minimum.at(shortest, authors, longest[parked])
            polled = shortest < np.inf
            powered.append(by_author[polled])
            gaps.append(shortest[polled])
        return np.concatenate(powered), np.concatenate(gaps)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {f"slots.{name}": getattr(self, name)[: self.count] for name in SLOT_ARRAYS}

    @classmethod
    def restored(
        cls, arrays: dict[str, npt.NDArray[Any]], capacity: int, author_slots: dict[str, int]
    ) -> PlanSlots:
        n = len(arrays["slots.published"])
        slots = cls(max(capacity, n, 1))
        for name, fill in zip(SLOT_ARRAYS, (0.0, 1.0, 0, 0, 0.0), strict=True):
            target = getattr(slots, name)
            target[:] = fill
            target[:n] = arrays[f"slots.{name}"]
        slots.count = n
        slots.author_slots = author_slots
        return slots
