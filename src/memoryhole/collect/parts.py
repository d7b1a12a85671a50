"""What the collector's parts share: its state, its seams, and the steps both checks and
listings take (schedule the next event, fold an answer into a verdict, log a sighting).

``Collector`` (the dispatcher: what runs when) builds one ``Parts`` and hands it to
``Checks`` (``collect/checks.py``) and ``Listings`` (``collect/listings.py``); what they learn
goes to the ``Recorder`` (``collect/recorder.py``), the one place answers become rows.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from memoryhole.classify import fold
from memoryhole.clock import AcceleratedClock, Clock
from memoryhole.collect.events import EventQueue
from memoryhole.collect.limiter import PlatformBudgets
from memoryhole.collect.recorder import Recorder
from memoryhole.model import Capture, Observation, Status
from memoryhole.platforms.base import Platform
from memoryhole.schedule.base import Policy
from memoryhole.store.state import CollectorState, PostState, TargetState
from memoryhole.study import Study


@dataclass
class CollectorStats:
    started_wall: float = field(default_factory=time.time)
    checks: int = 0
    polls: int = 0
    transient: int = 0
    discovered: int = 0
    removals: Counter[str] = field(default_factory=Counter)
    committed_observations: int = 0
    unreadable: int = 0  # listing items that could not be read (each logged with its listing)
    notices: int = 0  # removal notices a listing showed about a known post
    #: Checks answered by another post's request (many posts asked at once): ``checks +
    #: polls - shared_checks`` requests were sent for them.
    shared_checks: int = 0

    @property
    def checks_per_second(self) -> float:
        elapsed = time.time() - self.started_wall
        return self.checks / elapsed if elapsed > 0 else 0.0


#: A post's latest sighting in a listing not logged yet: the listing's answer, its target's
#: spec and the id of the listing's observation.
Sighting = tuple[Capture, str, int]


@dataclass
class Parts:
    study: Study
    state: CollectorState
    adapters: dict[str, Platform]
    clock: Clock
    budgets: PlatformBudgets
    policy: Policy
    recorder: Recorder
    queue: EventQueue
    stats: CollectorStats
    on_removal: Callable[[PostState], None] | None = None
    #: Each post's latest sighting not logged yet (``log_sighting``), by post pk.
    sightings: dict[int, Sighting] = field(default_factory=dict)

    def schedule_check(self, post: PostState, when: float | None) -> None:
        self.queue.push_check(post, when)
        self.recorder.stage_schedule(post.pk, when)

    def schedule_poll(self, target: TargetState, when: float, *, planned: bool = False) -> None:
        """``planned``: the policy set this time (its wide view), not the collector's rhythm."""
        self.queue.push_poll(target, when, planned=planned)
        self.recorder.stage_target(target)

    def fold_check(
        self, post: PostState, observation: Observation, alive_at: float, now: float
    ) -> float | None:
        """Fold a definitive answer to a check into the post's verdict; its next check."""
        post.failures = 0
        verdict = post.verdict
        was_removed = verdict.status.is_removal
        fold(verdict, observation, alive_at, now)
        if not was_removed and verdict.status.is_removal:
            self.stats.removals[verdict.status.value] += 1
            if self.on_removal is not None:
                self.on_removal(post)
        return self.policy.after_check(verdict, post.published_at, now, post=post)

    def log_sighting(self, post: PostState) -> None:
        """Before a post's next check: its latest sighting in a listing, logged as an
        observation of the post (so its verdict still follows from its own observations) and
        folded into its verdict. Logging only the latest, and only then, keeps the log from
        growing by a row per post per listing; the removal interval is the same."""
        pending = self.sightings.pop(post.pk, None) if self.sightings else None
        if pending is None or not post.verdict.status.is_visible:
            return
        capture, spec, _ = pending
        if capture.alive_at <= (post.verdict.last_seen_alive_at or -math.inf):
            return
        observation = Observation(Status.LIVE, detail=f"listed by {spec}")
        post.checks += 1
        self.recorder.observe(
            capture,
            kind="check",
            status=Status.LIVE,
            platform=post.platform,
            post=post,
            detail=observation.detail,
        )
        fold(post.verdict, observation, capture.alive_at, capture.fetched_at)

    def platform_seconds(self, wall_seconds: float) -> float:
        """Wall seconds (a Retry-After) as platform seconds on this clock."""
        if isinstance(self.clock, AcceleratedClock):
            return wall_seconds * self.clock.speed
        return wall_seconds


def retry_after_seconds(capture: Capture) -> float | None:
    value = capture.header("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
