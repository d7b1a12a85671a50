"""The overview page, its live fragment (HTMX polls it), and the health check."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from memoryhole.analysis.overview import WatchedTarget
from memoryhole.web.dashboard import DashboardDep
from memoryhole.web.feed import feed_items

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, d: DashboardDep) -> Response:
    counts = d.counts()
    feed = d.feed()
    targets: list[WatchedTarget] = d.cache.get("targets") or []
    latest = feed_items(d.study.engine, feed.post_pk[:10]) if feed is not None else []
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
