"""A post's observations as its page shows them: compressed to the changes, and on a timeline
whose marks never cover each other.

A censored post checked 132 times is a handful of changes (first seen live, edited, gone) and
long runs of identical answers. The page lists the changes, each with how many identical
observations followed it and how many answers in between said nothing of the post (a timeout
or a 5xx changes nothing of what is known), and keeps every observation one click away. On the
timeline each run of identical checks is a bar on the axis and a mark where it starts; marks
closer than their size are stacked in lanes above the axis instead of painted over each other
(the published mark included), and the periods the study was not watching the post are shaded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memoryhole.model import Status
from memoryhole.web.render import fmt_time

WIDTH = 900
MARGIN = 20
RADIUS = 6
#: Centre-to-centre distance below which two marks would touch: they go to different lanes.
MIN_APART = 2 * RADIUS + 3
LANE = 2 * RADIUS + 4
VISIBLE = ("live", "edited")


@dataclass(frozen=True)
class Change:
    """An observation that differs from the one of its kind before it, how many identical ones
    followed it, and how many answers in between said nothing of the post (a timeout, a 429, a
    5xx: never a change of its state)."""

    observation: dict[str, Any]
    what: str
    repeats: int
    no_answers: int = 0


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    status: str
    shape: str  # "published" | "edit" | "dot"
    label: str
    observation_id: int | None


@dataclass(frozen=True)
class Run:
    """Identical checks in a row: a bar on the axis from the first to the last."""

    x1: float
    x2: float
    status: str
    count: int


@dataclass(frozen=True)
class Shade:
    x: float
    width: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    axis_y: float
    marks: list[Mark]
    runs: list[Run]
    shades: list[Shade]
    band: tuple[float, float] | None  # the removal interval, in x
    ticks: list[tuple[float, str]]


def _key(o: dict[str, Any]) -> tuple[Any, ...]:
    visible = o["status"] in VISIBLE
    return (o["kind"], o["status"], o["content_hash"] if visible else None, o["code"])


def changes(observations: Sequence[dict[str, Any]]) -> list[Change]:
    """The observations that changed something, in order, each with its identical followers.
    Every observation is a change, or counted in exactly one change's ``repeats`` or (an answer
    that said nothing of the post, after the first of its kind) ``no_answers``."""
    found: list[tuple[dict[str, Any], str]] = []
    repeats: list[int] = []
    silent: list[int] = []
    last_of_kind: dict[str, int] = {}  # kind → index in ``found`` of its latest change
    previous: dict[str, tuple[Any, ...]] = {}
    first_text: str | None = None
    for o in observations:
        kind, key = str(o["kind"]), _key(o)
        before = previous.get(kind)
        if key[1] == Status.UNREACHABLE.value and kind in last_of_kind:
            silent[last_of_kind[kind]] += 1
            continue
        previous[kind] = key
        if before == key and kind in last_of_kind:
            repeats[last_of_kind[kind]] += 1
            continue
        if before is None:
            what = f"first {kind}"
        elif before[1] != key[1]:
            what = f"{before[1]} → {key[1]}"
        elif key[1] in VISIBLE and before[2] != key[2]:
            what = "text changed (edited)" if first_text != o["content_hash"] else "text back"
        else:
            what = f"code {before[3] or '—'} → {key[3] or '—'}"
        if first_text is None and kind == "check" and key[1] in VISIBLE:
            first_text = o["content_hash"]
        last_of_kind[kind] = len(found)
        found.append((o, what))
        repeats.append(0)
        silent.append(0)
    return [
        Change(o, what, n, quiet)
        for (o, what), n, quiet in zip(found, repeats, silent, strict=True)
    ]


def _lanes(points: list[tuple[float, int]]) -> dict[int, int]:
    """Each point (x, id) in the lowest lane where it keeps MIN_APART from that lane's last."""
    ends: list[float] = []
    lane_of: dict[int, int] = {}
    for x, ident in sorted(points):
        for lane, end in enumerate(ends):
            if x - end >= MIN_APART:
                ends[lane] = x
                lane_of[ident] = lane
                break
        else:
            lane_of[ident] = len(ends)
            ends.append(x)
    return lane_of


def timeline(
    published_at: float,
    observations: Sequence[dict[str, Any]],
    verdict: dict[str, Any],
    gaps: Sequence[tuple[float, float, str]] = (),
) -> Timeline:
    """The post's timeline from publication to its last observation (x in px)."""
    start = float(published_at)
    times = [float(o["sent_at"]) for o in observations] or [start]
    end = max([*times, start + 60.0])
    span = end - start if math.isfinite(end - start) and end > start else 60.0

    def x(at: float) -> float:
        offset = (at - start) / span
        offset = min(1.0, max(0.0, offset)) if math.isfinite(offset) else 0.0
        return round(MARGIN + (WIDTH - 2 * MARGIN) * offset, 1)

    checks = [o for o in observations if o["kind"] in ("check", "import") and o["seq"] is not None]
    runs: list[Run] = []
    starts: list[tuple[dict[str, Any], str]] = []  # (first observation of a run, shape)
    seen_text: str | None = None
    for o in checks:
        key = _key(o)
        if runs and _key(starts[-1][0]) == key:
            last = runs[-1]
            runs[-1] = Run(last.x1, x(float(o["sent_at"])), last.status, last.count + 1)
            continue
        edited = o["status"] == "edited" or (
            o["status"] in VISIBLE and seen_text is not None and o["content_hash"] != seen_text
        )
        if o["status"] in VISIBLE and seen_text is None:
            seen_text = o["content_hash"]
        starts.append((o, "edit" if edited else "dot"))
        at = x(float(o["sent_at"]))
        runs.append(Run(at, at, "edited" if edited else str(o["status"]), 1))
    points = [(x(start), -1)] + [(x(float(o["sent_at"])), i) for i, (o, _) in enumerate(starts)]
    lane_of = _lanes(points)
    lanes = max(lane_of.values(), default=0) + 1
    axis_y = 14.0 + LANE * lanes
    marks = [Mark(x(start), axis_y - LANE * (lane_of[-1] + 0.5), "published", "published",
                  f"published {fmt_time(start)}", None)]  # fmt: skip
    for i, (o, shape) in enumerate(starts):
        status = "edited" if shape == "edit" else str(o["status"])
        said = "edited: the text changed" if shape == "edit" else str(o["status"])
        marks.append(
            Mark(
                x(float(o["sent_at"])),
                axis_y - LANE * (lane_of[i] + 0.5),
                status,
                shape,
                f"check {o['seq']}: {said} at {fmt_time(float(o['sent_at']))}",
                int(o["id"]),
            )
        )
    shades = [
        Shade(x(max(a, start)), max(1.0, x(min(b, end)) - x(max(a, start))), label)
        for a, b, label in gaps
        if b > start and a < end
    ]
    band = None
    alive, removed = verdict.get("last_seen_alive_at"), verdict.get("first_seen_removed_at")
    if alive is not None and removed is not None:
        band = (x(float(alive)), x(float(removed)))
    clock = slice(11, 16) if span < 20 * 3600 else slice(5, 16)  # 16:36, or 06-04 16:36
    ticks = [(x(start + span * f), fmt_time(start + span * f)[clock]) for f in (0, 0.5, 1)]
    return Timeline(WIDTH, int(axis_y + 34), axis_y, marks, runs, shades, band, ticks)
