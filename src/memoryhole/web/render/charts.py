"""Vega-Lite specifications of the dashboard's and the report's charts, data inline.

Every spec is a plain dict (JSON-ready). Labels come from the analysis layer; text from the
platform (terms) is data, drawn by Vega as text, never parsed as HTML.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from typing import Any

from memoryhole.analysis.overview import (
    KIND_LABELS,
    REMOVAL_KINDS,
    SpeedFigures,
    TermTable,
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
