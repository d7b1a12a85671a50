"""The overview page, its live fragment (HTMX polls it), and the health check."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from memoryhole.analysis.overview import VERDICTS, WatchedTarget
from memoryhole.web.dashboard import Dashboard, DashboardDep
from memoryhole.web.downloads import download, refuse, speed_rows, wanted, with_iso
from memoryhole.web.feed import feed_items

router = APIRouter()


def overview_table(d: Dashboard, table: str) -> list[dict[str, Any]] | None:
    """One of the overview's tables as rows (None while its figure is computed)."""
    if table == "targets":
        targets: list[WatchedTarget] = d.cache.get("targets") or []
        rows = [
            {
                "target": d.target_label(t),
                "platform": t.platform,
                "active": t.active,
                "first_polled_at": t.first_polled_at,
                "unreadable": t.unreadable,
            }
            for t in targets
        ]
        return [with_iso(r, ("first_polled_at",)) for r in rows]
    if table == "speed":
        speed = d.speed()
        if speed is None:
            return None
        return speed_rows([r for r in speed.removed_summary if "/" not in r["group"]])
    counts = d.counts()
    if counts is None:
        return None
    total = counts.total
    return [
        {
            "verdict": status,
            "posts": total[status],
            "share_pct": round(100 * total[status] / counts.posts, 3) if counts.posts else None,
        }
        for status in VERDICTS
    ]


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, d: DashboardDep, format: str = "", table: str = "") -> Response:
    if (refused := refuse(format)) is not None:
        return refused
    if as_file := wanted(format):
        name = table if table in ("targets", "speed") else "verdicts"
        rows = overview_table(d, name)
        if rows is None:
            return d.pending(request, "Overview", "the figures")
        return download(f"overview-{name}", as_file, rows)
    counts = d.counts()
    feed = d.feed()
    targets: list[WatchedTarget] = d.cache.get("targets") or []
    latest = feed_items(d.study.engine, feed.post_pk[:10], d.gap_index()) if feed else []
    return d.render(
        request,
        "overview.html",
        title="Overview",
        charts=True,
        counts=counts,
        act=d.activity(),
        now=time.time(),
        speed=d.speed(),
        targets=[(d.target_label(t), t) for t in targets],
        items=latest,
        computed_at=d.cache.computed_at("counts"),
    )


@router.get("/fragments/live", response_class=HTMLResponse)
def live(request: Request, d: DashboardDep) -> Response:
    return d.render(
        request,
        "_live.html",
        counts=d.counts(),
        act=d.activity(),
        now=time.time(),
        computed_at=d.cache.computed_at("counts"),
    )


@router.get("/healthz")
def healthz(d: DashboardDep) -> Response:
    return JSONResponse({"ok": True, "public": d.public, **d.cache.status()})
