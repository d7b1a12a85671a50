"""Vega-Lite specifications of the dashboard's and the report's charts, data inline.

Every spec is a plain dict (JSON-ready). Labels come from the analysis layer; text from the
platform (terms) is data, drawn by Vega as text, never parsed as HTML.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from memoryhole.analysis.overview import (
    KIND_LABELS,
    REMOVAL_KINDS,
    SpeedFigures,
    TermTable,
    Timeline,
)
from memoryhole.times import utc_datetime

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
FONT = "Noto Sans CJK SC, Noto Sans, DejaVu Sans, sans-serif"
KIND_COLORS = {
    "censored": "#b2182b",
    "author_deleted": "#4393c3",
    "account_suspended": "#762a83",
    "unknown": "#878787",
}


def _base(title: str, width: int | str = "container", height: int = 260) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": width,
        "height": height,
        "config": {
            "font": FONT,
            "view": {"stroke": None},
            "axis": {"labelFont": FONT, "titleFont": FONT},
            "legend": {"labelFont": FONT, "titleFont": FONT, "orient": "bottom"},
            "title": {"font": FONT, "anchor": "start"},
        },
    }


def _kind_color(kinds: list[str]) -> dict[str, Any]:
    return {
        "field": "label",
        "type": "nominal",
        "title": "removal",
        "scale": {
            "domain": [KIND_LABELS[k] for k in kinds],
            "range": [KIND_COLORS[k] for k in kinds],
        },
    }


def _iso(epoch: float) -> str:
    moment = utc_datetime(epoch) or datetime.fromtimestamp(0, UTC)  # never crash a chart
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def merged_gaps(gaps: Sequence[Any]) -> list[tuple[float, float, str]]:
    """Coverage gaps (``store.coverage.CoverageGap``: start, end, target, reason) as the
    periods in which some target was not watched, overlapping ones merged, each with what
    they were (``"weibo:user/… not collected; weibo:all backlog"``)."""
    periods: list[tuple[float, float, list[str]]] = []
    for gap in sorted(gaps, key=lambda g: (g.start, g.end)):
        said = f"{gap.target}: {gap.reason.replace('_', ' ')}"
        if periods and gap.start <= periods[-1][1]:
            start, end, reasons = periods[-1]
            periods[-1] = (start, max(end, gap.end), [*reasons, said])
        else:
            periods.append((gap.start, gap.end, [said]))
    return [(start, end, _first_few(reasons)) for start, end, reasons in periods]


def _first_few(reasons: list[str], most: int = 4) -> str:
    distinct = sorted(set(reasons))
    return "; ".join(distinct[:most]) + ("; …" if len(distinct) > most else "")


def removals_chart(
    timeline: Timeline,
    gaps: Sequence[tuple[float, float, str]] = (),
    rule_changes: Sequence[tuple[float, str, str]] = (),
) -> dict[str, Any]:
    """Stacked bars: removals detected per time bucket, by kind (stacked here, drawn as
    rectangles spanning their bucket); the periods a target was not watched (``gaps``, from
    :func:`merged_gaps`) shaded grey behind them, since removals "detected" right after one
    say more about the collector than the censor; and the dated changes of the censor's
    filter list (``rule_changes``: ``(at, what, rule)``, ``isolate.run.rule_changes``) as
    vertical lines, those inside the bars' time range only (one probed a year later would
    squeeze the bars into a sliver)."""
    width = timeline.bucket_seconds
    order = {kind: i for i, kind in enumerate(REMOVAL_KINDS)}
    rows = sorted(timeline.rows, key=lambda r: (r["t"], order.get(r["kind"], 99)))
    values = []
    base: dict[float, int] = {}
    for row in rows:
        low = base.get(row["t"], 0)
        base[row["t"]] = low + row["count"]
        values.append(
            {
                "t": _iso(row["t"]),
                "end": _iso(row["t"] + width),
                "kind": row["kind"],
                "label": KIND_LABELS.get(row["kind"], row["kind"]),
                "count": row["count"],
                "y0": low,
                "y1": low + row["count"],
            }
        )
    kinds = [k for k in REMOVAL_KINDS if any(v["kind"] == k for v in values)] or ["censored"]
    spec = _base(f"Removals detected per {_bucket_name(width)}")
    bars = {
        "data": {"values": values},
        "mark": {"type": "rect"},
        "encoding": {
            "x": {
                "field": "t",
                "type": "temporal",
                "title": "detected (UTC, platform time)",
                "scale": {"type": "utc"},
                "axis": {"format": "%m-%d %H:%M", "labelOverlap": True},
            },
            "x2": {"field": "end"},
            "y": {
                "field": "y1",
                "type": "quantitative",
                "title": "posts",
                "axis": {"tickMinStep": 1, "format": "d"},  # whole posts, never 0.2
            },
            "y2": {"field": "y0"},
            "color": _kind_color(kinds),
            "tooltip": [
                {"field": "t", "type": "temporal", "title": "from", "format": "%Y-%m-%d %H:%M"},
                {"field": "label", "type": "nominal", "title": "removal"},
                {"field": "count", "type": "quantitative", "title": "posts"},
            ],
        },
    }
    layers: list[dict[str, Any]] = [bars]
    rules = _rule_layer(timeline, width, rule_changes)
    if rules is not None:
        layers.append(rules)
    if not gaps:
        if len(layers) == 1:
            spec.update(bars)
        else:
            spec["layer"] = layers
        return spec
    shaded = {
        "data": {
            "values": [
                {"start": _iso(start), "end": _iso(end), "gap": reason}
                for start, end, reason in gaps
            ]
        },
        "mark": {"type": "rect", "color": "#bdbdbd", "opacity": 0.45},
        "encoding": {
            "x": {"field": "start", "type": "temporal", "scale": {"type": "utc"}},
            "x2": {"field": "end"},
            "tooltip": [
                {
                    "field": "start",
                    "type": "temporal",
                    "title": "not watched from",
                    "format": "%Y-%m-%d %H:%M",
                },
                {"field": "end", "type": "temporal", "title": "until", "format": "%Y-%m-%d %H:%M"},
                {"field": "gap", "type": "nominal", "title": "coverage gap"},
            ],
        },
    }
    spec["layer"] = [shaded, *layers]
    return spec


def _rule_layer(
    timeline: Timeline, width: int, changes: Sequence[tuple[float, str, str]]
) -> dict[str, Any] | None:
    """Vertical lines at the filter list's dated changes within the timeline's range."""
    starts = [float(row["t"]) for row in timeline.rows]
    if not starts or not changes:
        return None
    low, high = min(starts), max(starts) + width
    values = [
        {"at": _iso(at), "what": what, "rule": rule}
        for at, what, rule in changes
        if low <= at <= high
    ]
    if not values:
        return None
    return {
        "data": {"values": values},
        "mark": {"type": "rule", "strokeWidth": 2, "strokeDash": [4, 3]},
        "encoding": {
            "x": {"field": "at", "type": "temporal", "scale": {"type": "utc"}},
            "color": {"value": "#6a3d9a"},
            "tooltip": [
                {"field": "what", "type": "nominal", "title": "filter list"},
                {"field": "rule", "type": "nominal", "title": "rule"},
                {"field": "at", "type": "temporal", "title": "at", "format": "%Y-%m-%d %H:%M"},
            ],
        },
    }


def _bucket_name(seconds: int) -> str:
    names = {
        60: "minute",
        300: "5 minutes",
        900: "15 minutes",
        3600: "hour",
        21600: "6 hours",
        86400: "day",
        604800: "week",
        2592000: "30 days",
    }
    return names.get(seconds, f"{seconds} s")


def terms_chart(table: TermTable, top: int = 25) -> dict[str, Any]:
    """The ``top`` terms by q-value: removal rate with its interval, and the baseline."""
    rows = list(itertools.islice((r for r in table.rows if r.get("rate") is not None), top))
    values = [
        {
            "term": r["term"],
            "rate": r["rate"],
            "ci_low": r["ci_low"],
            "ci_high": r["ci_high"],
            "posts": r["posts"],
            "q": r["q_value"],
        }
        for r in rows
    ]
    said = (
        table.significance.heading(len(values))
        if table.significance is not None
        else f"the {len(values)} terms with the lowest q-values"
    )
    spec = _base(
        f"Removal rate ({KIND_LABELS.get(table.kind, table.kind)}) of {said}; 95% Wilson intervals",
        height=max(120, 16 * len(values)),
    )
    order = {"field": "rate", "order": "descending"}
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "rule", "color": "#999"},
            "encoding": {
                "y": {"field": "term", "type": "nominal", "sort": order, "title": None},
                "x": {"field": "ci_low", "type": "quantitative"},
                "x2": {"field": "ci_high"},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "color": KIND_COLORS.get(table.kind, "#333")},
            "encoding": {
                "y": {"field": "term", "type": "nominal", "sort": order, "title": None},
                "x": {
                    "field": "rate",
                    "type": "quantitative",
                    "title": "share of posts with the term that were removed",
                    "axis": {"format": "%"},
                },
                "tooltip": [
                    {"field": "term", "type": "nominal"},
                    {"field": "rate", "type": "quantitative", "format": ".1%"},
                    {"field": "posts", "type": "quantitative"},
                    {"field": "q", "type": "quantitative", "format": ".2e", "title": "q-value"},
                ],
            },
        },
    ]
    if table.baseline is not None:
        layers.append(
            {
                "data": {"values": [{"baseline": table.baseline}]},
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#333"},
                "encoding": {"x": {"field": "baseline", "type": "quantitative"}},
            }
        )
    spec.update({"data": {"values": values}, "layer": layers})
    return spec


def speed_chart(speed: SpeedFigures, among_removed: bool = True) -> dict[str, Any]:
    """Step curves: share of posts still up against time since publication (log axis)."""
    rows = speed.removed_curves if among_removed else speed.all_curves
    values = []
    for row in rows:
        group = str(row["group"])
        if "/" in group:  # per-platform curves are in the platform table, not this chart
            continue
        minutes = max(float(row["time"]) / 60.0, 1 / 60)
        values.append(
            {
                "minutes": minutes,
                "survival": row["survival"],
                "ci_low": row["ci_low"] if row["ci_low"] is not None else row["survival"],
                "ci_high": row["ci_high"] if row["ci_high"] is not None else row["survival"],
                "kind": group,
                "label": KIND_LABELS.get(group, group),
            }
        )
    kinds = [k for k in REMOVAL_KINDS if any(v["kind"] == k for v in values)] or ["censored"]
    title = (
        "Of the posts removed so far: share still up, by time since publication"
        if among_removed
        else "Of all watched posts: share not (yet) removed, by kind"
    )
    spec = _base(title, height=280)
    x = {
        "field": "minutes",
        "type": "quantitative",
        "title": "minutes since publication (log scale)",
        "scale": {"type": "log"},
    }
    y = {
        "field": "survival",
        "type": "quantitative",
        "title": "share still up",
        "axis": {"format": "%"},
        "scale": {"domain": [0, 1]},
    }
    spec.update(
        {
            "data": {"values": values},
            "layer": [
                {
                    "mark": {"type": "area", "opacity": 0.15, "interpolate": "step-after"},
                    "encoding": {
                        "x": x,
                        "y": {"field": "ci_low", "type": "quantitative"},
                        "y2": {"field": "ci_high"},
                        "color": _kind_color(kinds),
                    },
                },
                {
                    "mark": {"type": "line", "interpolate": "step-after"},
                    "encoding": {
                        "x": x,
                        "y": y,
                        "color": _kind_color(kinds),
                        "tooltip": [
                            {"field": "label", "type": "nominal", "title": "removal"},
                            {"field": "minutes", "type": "quantitative", "format": ",.1f"},
                            {"field": "survival", "type": "quantitative", "format": ".1%"},
                        ],
                    },
                },
            ],
        }
    )
    return spec


def platforms_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Removal rate per platform and kind, with 95% Wilson intervals."""
    values = []
    for row in rows:
        for kind in REMOVAL_KINDS:
            rate = row.get(f"rate_{kind}")
            if rate is None or (isinstance(rate, float) and math.isnan(rate)):
                continue
            values.append(
                {
                    "platform": row["platform"],
                    "kind": kind,
                    "label": KIND_LABELS[kind],
                    "rate": rate,
                    "ci_low": row.get(f"ci_low_{kind}"),
                    "ci_high": row.get(f"ci_high_{kind}"),
                }
            )
    spec = _base("Removal rate by platform, 95% Wilson intervals", height=220)
    spec.update(
        {
            "data": {"values": values},
            "encoding": {
                "y": {"field": "label", "type": "nominal", "title": None},
                "yOffset": {"field": "platform"},
            },
            "layer": [
                {
                    "mark": {"type": "bar"},
                    "encoding": {
                        "x": {
                            "field": "rate",
                            "type": "quantitative",
                            "title": "share of posts",
                            "axis": {"format": "%"},
                        },
                        "color": {"field": "platform", "type": "nominal"},
                        "tooltip": [
                            {"field": "platform", "type": "nominal"},
                            {"field": "label", "type": "nominal", "title": "removal"},
                            {"field": "rate", "type": "quantitative", "format": ".2%"},
                        ],
                    },
                },
                {
                    "mark": {"type": "rule", "color": "#222"},
                    "encoding": {
                        "x": {"field": "ci_low", "type": "quantitative"},
                        "x2": {"field": "ci_high"},
                    },
                },
            ],
        }
    )
    return spec
