"""Coverage gaps: the periods in which a study was not watching, read from its observations.

A removal first seen after a collector was down for hours says more about the collector than
the censor: its interval (last seen alive → first seen removed) spans the gap, and its "time to
removal" is the downtime. So the periods in which a target was not being collected are data,
derived from the evidence log's own observations (what was asked when), never guessed:

- ``not_collected``: nothing at all was asked of the platform for longer than its threshold
  (no collector ran, or it was stuck);
- ``transient_only``: the platform was asked, but every answer for longer than the threshold
  was transient (timeouts, 429, 5xx, captchas): nothing could be seen;
- ``backlog``: a listing polled on the collector's own rhythm (a feed, a search) waited longer
  than the threshold between polls while the platform was otherwise being asked: the collector
  fell behind its schedule. (Timelines whose polls the budget scheduler plans are spaced by
  design, so only the two platform-wide reasons apply to them.)

A platform's threshold is ``max(10 min, 5 × poll interval, 5 / budget per second)``: with any
less, an idle but healthy collector would look down. Only the collector's own observations
count (checks, listing polls, long texts, media), not imported ones (their times are the
dataset's). The time after the last observation is not a gap: nothing says it has ended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, literal, select

from memoryhole.model import Status
from memoryhole.store.schema import observations, posts, targets

MIN_GAP = 600.0  # seconds: no threshold is shorter
COLLECTOR_KINDS = ("check", "discover", "text", "media")
REASONS = {
    "not_collected": "nothing was asked of the platform (no collector ran)",
    "transient_only": "every answer was transient (timeouts, rate limits, errors)",
    "backlog": "the listing's polls fell behind their schedule",
}
#: Target kinds that are timelines: the budget scheduler plans their polls.
TIMELINE_KINDS = frozenset({"user", "user-all", "user-comments", "account"})


@dataclass(frozen=True, order=True)
class CoverageGap:
    start: float
    end: float
    platform: str
    target: str  # the target's spec, e.g. ``weibo:user/123``
    reason: str

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def gap_threshold(poll_interval: float, budget_per_second: float) -> float:
    return max(MIN_GAP, 5.0 * poll_interval, 5.0 / budget_per_second)


def coverage_gaps(
    engine: Engine,
    threshold: Callable[[str], float] = lambda platform: MIN_GAP,
    *,
    planned_kinds: frozenset[str] = frozenset(),
) -> list[CoverageGap]:
    """Every gap of every active or past target, by start time (``threshold(platform)``:
    seconds of platform time; ``planned_kinds``: target kinds whose polls the schedule plans,
    so that their spacing is no backlog)."""
    with engine.connect() as connection:
        specs = connection.execute(
            select(targets.c.id, targets.c.platform, targets.c.spec, targets.c.kind)
        ).all()
        platform_gaps = {
            "not_collected": _silences(connection, threshold, transient_counts=True),
            "transient_only": _silences(connection, threshold, transient_counts=False),
        }
        backlog = _backlog(
            connection, threshold, {row.id for row in specs if row.kind not in planned_kinds}
        )
    by_platform: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for platform, start, end in platform_gaps["not_collected"]:
        by_platform[platform].append((start, end, "not_collected"))
    for platform, start, end in platform_gaps["transient_only"]:
        silent = [(s, e) for s, e, _ in by_platform[platform]]
        for piece in _subtract((start, end), silent):
            if piece[1] - piece[0] > threshold(platform):
                by_platform[platform].append((*piece, "transient_only"))
    gaps: list[CoverageGap] = []
    for row in specs:
        for start, end, reason in by_platform.get(row.platform, ()):
            gaps.append(CoverageGap(start, end, row.platform, row.spec, reason))
        silent = [(s, e) for s, e, _ in by_platform.get(row.platform, ())]
        for start, end in backlog.get(row.id, ()):
            for piece in _subtract((start, end), silent):
                if piece[1] - piece[0] > threshold(row.platform):
                    gaps.append(CoverageGap(*piece, row.platform, row.spec, "backlog"))
    return sorted(gaps)


def _silences(
    connection: Any, threshold: Callable[[str], float], *, transient_counts: bool
) -> list[tuple[str, float, float]]:
    """Per platform, the stretches between consecutive observations (or between consecutive
    definitive ones) longer than the platform's threshold."""
    platform = func.coalesce(posts.c.platform, targets.c.platform).label("platform")
    asked = (
        select(platform, observations.c.observed_at.label("at"))
        .select_from(
            observations.outerjoin(posts, posts.c.id == observations.c.post_pk).outerjoin(
                targets, targets.c.id == observations.c.target_pk
            )
        )
        .where(observations.c.kind.in_(COLLECTOR_KINDS))
    )
    if not transient_counts:
        asked = asked.where(observations.c.status != Status.UNREACHABLE.value)
    inner = asked.subquery()
    previous = func.lag(inner.c.at).over(partition_by=inner.c.platform, order_by=inner.c.at)
    stepped = select(inner.c.platform, previous.label("before"), inner.c.at).subquery()
    shortest = MIN_GAP
    rows = connection.execute(
        select(stepped.c.platform, stepped.c.before, stepped.c.at).where(
            and_(stepped.c.before.is_not(None), stepped.c.at - stepped.c.before > literal(shortest))
        )
    ).all()
    return [
        (str(p), float(before), float(at))
        for p, before, at in rows
        if p is not None and at - before > threshold(str(p))
    ]


def _backlog(
    connection: Any, threshold: Callable[[str], float], own: set[int]
) -> dict[int, list[tuple[float, float]]]:
    """Per listing on the collector's own rhythm, stretches between its polls longer than
    its platform's threshold."""
    if not own:
        return {}
    polls = (
        select(observations.c.target_pk, observations.c.observed_at.label("at"), targets.c.platform)
        .join(targets, targets.c.id == observations.c.target_pk)
        .where(observations.c.kind == "discover", observations.c.target_pk.in_(sorted(own)))
        .subquery()
    )
    previous = func.lag(polls.c.at).over(partition_by=polls.c.target_pk, order_by=polls.c.at)
    stepped = select(polls.c.target_pk, polls.c.platform, previous.label("before"), polls.c.at)
    inner = stepped.subquery()
    rows = connection.execute(
        select(inner).where(
            and_(inner.c.before.is_not(None), inner.c.at - inner.c.before > literal(MIN_GAP))
        )
    ).all()
    out: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for target_pk, platform, before, at in rows:
        if at - before > threshold(str(platform)):
            out[int(target_pk)].append((float(before), float(at)))
    return out


def _subtract(
    span: tuple[float, float], holes: Iterable[tuple[float, float]]
) -> list[tuple[float, float]]:
    """``span`` minus the ``holes`` (each a closed interval)."""
    pieces = [span]
    for hole_start, hole_end in sorted(holes):
        rest: list[tuple[float, float]] = []
        for start, end in pieces:
            if hole_end <= start or hole_start >= end:
                rest.append((start, end))
                continue
            if start < hole_start:
                rest.append((start, hole_start))
            if hole_end < end:
                rest.append((hole_end, end))
        pieces = rest
    return pieces


class GapIndex:
    """Which removal intervals span a gap: a platform-wide one of the post's platform, or a
    backlog of the listing that found it."""

    def __init__(self, gaps: Iterable[CoverageGap], target_pks: Mapping[str, int]) -> None:
        self.platform: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.target: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for gap in gaps:
            if gap.reason == "backlog":
                pk = target_pks.get(gap.target)
                if pk is not None:
                    self.target[pk].append((gap.start, gap.end))
            elif (gap.start, gap.end) not in self.platform[gap.platform]:
                self.platform[gap.platform].append((gap.start, gap.end))

    def __bool__(self) -> bool:
        return any(self.platform.values()) or any(self.target.values())

    def spans(
        self,
        platform: str,
        target_pk: int | None,
        alive: float | None,
        removed: float | None,
    ) -> bool:
        """Whether ``(alive, removed)`` overlaps a gap (False for a post not removed)."""
        if removed is None:
            return False
        low = alive if alive is not None else -float("inf")
        spans = self.platform.get(platform, [])
        if target_pk is not None:
            spans = [*spans, *self.target.get(target_pk, [])]
        return any(start < removed and end > low for start, end in spans)
