"""The removals chart of the dashboard and the report: removals detected per time bucket by
kind, the periods a target was not watched shaded behind them, and the censor's filter-list
changes found by probing as dated lines beside them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memoryhole.analysis.overview import KIND_LABELS, REMOVAL_KINDS, Timeline
from memoryhole.web.render.charts import _base, _iso, _kind_color


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
