"""The figure pages (speed, platforms) and every chart's Vega-Lite spec as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from memoryhole.analysis.overview import REMOVAL_KINDS, platform_table
from memoryhole.isolate.found import rule_changes, study_rules
from memoryhole.web.dashboard import DashboardDep
from memoryhole.web.downloads import download, refuse, speed_rows, wanted
from memoryhole.web.render import charts, removals_chart
from memoryhole.web.routes.terms import term_filters

router = APIRouter()


@router.get("/speed", response_class=HTMLResponse)
def speed(request: Request, d: DashboardDep, format: str = "", table: str = "") -> Response:
    if (refused := refuse(format)) is not None:
        return refused
    figures = d.speed()
    if figures is None:
        return d.pending(request, "Speed", "the survival curves")
    if as_file := wanted(format):
        if table == "all":
            return download("speed-all-posts", as_file, speed_rows(figures.all_summary))
        return download("speed-removed", as_file, speed_rows(figures.removed_summary))
    return d.render(
        request,
        "speed.html",
        title="Speed",
        charts=True,
        speed=figures,
        computed_at=d.cache.computed_at("speed"),
    )


@router.get("/platforms", response_class=HTMLResponse)
def platforms(request: Request, d: DashboardDep, format: str = "") -> Response:
    if (refused := refuse(format)) is not None:
        return refused
    counts = d.counts()
    if counts is None:
        return d.pending(request, "Platforms", "the counts")
    rows = platform_table(counts, d.speed())
    if as_file := wanted(format):
        return download("platforms", as_file, rows)
    return d.render(
        request,
        "platforms.html",
        title="Platforms",
        charts=True,
        rows=rows,
        computed_at=d.cache.computed_at("counts"),
    )


@router.get("/charts/{name}.json")
def chart(
    d: DashboardDep,
    name: str,
    kind: str = "censored",
    view: str = "removed",
    min_posts: Annotated[int, Query(ge=1, le=100_000)] = 20,
    test: str = "binomial",
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
    exclude: Annotated[list[str] | None, Query()] = None,
) -> Response:
    spec: dict[str, Any] | None = None
    if name == "removals":
        timeline = d.cache.get("timeline")
        gaps = removals_chart.merged_gaps(d.shown_gaps())
        changes = rule_changes(study_rules(d.study))  # a handful of rows per probe run
        spec = (
            removals_chart.removals_chart(timeline, gaps, changes) if timeline is not None else None
        )
    elif name == "terms":
        kind = kind if kind in REMOVAL_KINDS else "censored"
        table = d.terms(kind, min_posts, **term_filters(kind, test, alpha, exclude))
        spec = charts.terms_chart(table) if table is not None else None
    elif name == "speed":
        figures = d.speed()
        spec = charts.speed_chart(figures, view != "all") if figures is not None else None
    elif name == "platforms":
        counts = d.counts()
        spec = (
            charts.platforms_chart(platform_table(counts, d.speed()))
            if counts is not None
            else None
        )
    else:
        return JSONResponse({"error": "no such chart"}, status_code=404)
    if spec is None:
        return JSONResponse({"error": "computing"}, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse(spec)
