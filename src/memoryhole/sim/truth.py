"""Comparing verdicts with a scenario's ground truth: what was caught, how fast, how exactly.

Used by the demo, the tests and the benchmarks. A *false removal* is any removal verdict for a
post that was not removed by then, or dated before its true removal: the worst bug memoryhole
can have, so it is counted separately and must be zero.

Posts that were never publicly visible (a suspended account's posts published after its
suspension, so gone the moment they appear) are not removals anyone could observe: they are
counted as ``never_visible`` and left out of the recall denominator.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from memoryhole.scenario import ScenarioPost, effective_removal, suspension_times

_TELEGRAM_POST = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}/[0-9]+$")

REMOVED_VERDICTS = frozenset({"censored", "author_deleted", "account_suspended", "unknown"})

#: What a platform's answers can say of a true removal kind, where they cannot say it exactly:
#: Weibo answers a post deleted by its author with errno 20101 ("does not exist or no
#: permission to view"), which removals it does not explain get too (docs/adapters.md).
READ_AS: dict[str, dict[str, str]] = {"weibo": {"author_deleted": "unknown"}}
#: Telegram's embed says only "Post not found" of a message its channel deleted.
READ_AS["telegram"] = {"author_deleted": "unknown"}


def scenario_post_id(post_id: str) -> str:
    """The scenario's id of a post an adapter knows by another name: a Bluesky post's
    ``at://`` URI ends with its record key, which the simulator makes the scenario's id."""
    if post_id.startswith("at://"):
        return post_id.rsplit("/", 1)[-1]
    if _TELEGRAM_POST.match(post_id):  # a Telegram message ``{channel}/{message id}``
        return post_id.rsplit("/", 1)[-1]
    return post_id


def reading(platform: str, kind: str) -> str:
    """The verdict that is the exact reading of a true removal ``kind`` on ``platform``."""
    return READ_AS.get(platform, {}).get(kind, kind)


@dataclass
class Evaluation:
    true_removals: int = 0  # removals in the scenario up to the evaluation time
    true_removals_of_watched: int = 0  # ... of posts the collector had discovered
    never_visible: int = 0  # gone at publication: not counted as removals
    caught: int = 0
    caught_by_kind: Counter[str] = field(default_factory=Counter)
    correctly_attributed: int = 0  # the verdict is what the platform can say of the truth
    #: Caught removals given a specific kind that is not the true one (``unknown`` never is:
    #: it says less, not something false).
    misattributed: list[str] = field(default_factory=list)
    false_removals: list[str] = field(default_factory=list)
    interval_misses: list[str] = field(default_factory=list)  # truth outside the interval
    delays: list[float] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.true_removals if self.true_removals else 1.0

    @property
    def recall_of_watched(self) -> float:
        watched = self.true_removals_of_watched
        return self.caught / watched if watched else 1.0

    @property
    def attribution(self) -> float:
        return self.correctly_attributed / self.caught if self.caught else 1.0

    def delay_quantiles(self) -> tuple[float | None, float | None]:
        return quantile(self.delays, 0.5), quantile(self.delays, 0.9)

    def width_quantiles(self) -> tuple[float | None, float | None]:
        return quantile(self.widths, 0.5), quantile(self.widths, 0.9)

    def as_dict(self) -> dict[str, Any]:
        d50, d90 = self.delay_quantiles()
        w50, w90 = self.width_quantiles()
        return {
            "true_removals": self.true_removals,
            "true_removals_of_watched": self.true_removals_of_watched,
            "never_visible": self.never_visible,
            "caught": self.caught,
            "caught_by_kind": dict(self.caught_by_kind),
            "recall": self.recall,
            "recall_of_watched": self.recall_of_watched,
            "false_removals": len(self.false_removals),
            "attribution_accuracy": self.attribution,
            "misattributed": len(self.misattributed),
            "interval_misses": len(self.interval_misses),
            "median_detection_delay": d50,
            "p90_detection_delay": d90,
            "median_interval_width": w50,
            "p90_interval_width": w90,
        }


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def evaluate(
    scenario: Iterable[ScenarioPost],
    verdicts: Iterable[Mapping[str, Any]],
    until: float,
    *,
    horizon: float | None = None,
    platform: str | None = None,
) -> Evaluation:
    """Score ``verdicts`` (rows of ``export verdicts``) against the scenario up to ``until``.

    A removal is correctly attributed when its verdict is what ``platform``'s answers can say
    of its true kind (``reading``; no platform: the true kind itself, as an import of the
    truth gives); a specific kind that is not the truth is misattributed.

    With a ``horizon``, only removals at most that long after publication count (a collector
    stops checking a post at its horizon); a later removal it saw anyway is not held against it.
    """
    posts = {post.post_id: post for post in scenario}
    suspended = suspension_times(posts.values())
    truth: dict[str, tuple[float, str]] = {}
    never_visible: set[str] = set()
    late: dict[str, float] = {}
    for post in posts.values():
        removal = effective_removal(post, suspended)
        if removal is not None and removal[0] <= post.published_at:
            never_visible.add(post.post_id)
        elif removal is not None and removal[0] > post.published_at + (horizon or math.inf):
            late[post.post_id] = removal[0]
        elif removal is not None and removal[0] <= until:
            truth[post.post_id] = removal
    result = Evaluation(true_removals=len(truth), never_visible=len(never_visible))
    for row in verdicts:
        post_id = scenario_post_id(str(row["post_id"]))
        if post_id in never_visible:
            result.false_removals.append(post_id)  # the collector cannot have seen it alive
            continue
        actual = truth.get(post_id)
        if actual is not None:
            result.true_removals_of_watched += 1
        if row["verdict"] not in REMOVED_VERDICTS:
            continue
        removed_seen = float(row["first_seen_removed_at"])
        if actual is None and late.get(post_id, math.inf) <= removed_seen:
            continue  # removed after the horizon, and seen: right, but not counted
        if actual is None or actual[0] > removed_seen:
            result.false_removals.append(post_id)
            continue
        true_time, true_kind = actual
        result.caught += 1
        result.caught_by_kind[str(row["verdict"])] += 1
        if row["verdict"] == (reading(platform, true_kind) if platform else true_kind):
            result.correctly_attributed += 1
        elif row["verdict"] != "unknown":
            result.misattributed.append(post_id)
        alive = row["last_seen_alive_at"]
        if alive is not None and not float(alive) < true_time:
            result.interval_misses.append(post_id)
        result.delays.append(removed_seen - true_time)
        if alive is not None:
            result.widths.append(removed_seen - float(alive))
    return result
