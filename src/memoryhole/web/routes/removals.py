"""The removals feed: the page (filters, 50 a page) and the Atom feed of the same filters."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from memoryhole.web.atom import atom_feed
from memoryhole.web.dashboard import PER_PAGE, DashboardDep
from memoryhole.web.downloads import download, refuse, wanted, with_iso
from memoryhole.web.feed import FeedItem, FeedQuery, feed_items
from memoryhole.web.render import post_path, query_string

router = APIRouter()
REMOVAL_COLUMNS = (
    "platform",
    "post_id",
    "author",
    "author_raw_id",
    "kind",
    "published_at",
    "published_at_iso",
    "last_seen_alive_at",
    "last_seen_alive_at_iso",
    "first_seen_removed_at",
    "first_seen_removed_at_iso",
    "interval_spans_gap",
    "signal",
    "checks",
    "text",
)
TIMES = ("published_at", "last_seen_alive_at", "first_seen_removed_at")


def removal_row(item: FeedItem, public: bool) -> dict[str, Any]:
    """A removal as downloaded: the raw author id only in local mode."""
    row = {
        "platform": item.platform,
        "post_id": item.post_id,
        "author": item.author,
        "author_raw_id": None if public else item.author_raw_id,
        "kind": item.kind,
        "published_at": item.published_at,
        "last_seen_alive_at": item.last_seen_alive_at,
        "first_seen_removed_at": item.first_seen_removed_at,
        "interval_spans_gap": item.spans_gap,
        "signal": item.signal,
        "checks": item.checks,
        "text": item.text,
    }
    return with_iso(row, TIMES)


@router.get("/removals", response_class=HTMLResponse)
def removals(
    request: Request,
    d: DashboardDep,
    platform: str | None = None,
    kind: str | None = None,
    term: str | None = None,
    since: str | None = None,
    until: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: str = "",
) -> Response:
    query = FeedQuery.parse(platform, kind, term, since, until, page, PER_PAGE)
    if query.problems:
        return PlainTextResponse("\n".join(query.problems) + "\n", status_code=400)
    if (refused := refuse(format)) is not None:
        return refused
    feed = d.feed()
    if feed is None:
        return d.pending(request, "Removals", "the removals index")
    if as_file := wanted(format):
        every = replace(query, page=1, per_page=max(1, len(feed)))
        pks, _ = feed.select(every)
        rows = [
            removal_row(item, d.public)
            for start in range(0, pks.size, 5000)
            for item in feed_items(d.study.engine, pks[start : start + 5000], d.gap_index())
        ]
        return download("removals", as_file, rows, REMOVAL_COLUMNS)
    pks, total = feed.select(query)
    items = feed_items(d.study.engine, pks, d.gap_index())
    return d.render(
        request,
        "removals.html",
        title="Removals",
        query=query,
        items=items,
        total=total,
        platforms=feed.platforms,
        pages=max(1, math.ceil(total / PER_PAGE)),
        feed_url="/feed.atom" + query_string(query.params(page="")),
        computed_at=d.cache.computed_at("feed"),
    )


@router.get("/feed.atom")
def atom(
    request: Request,
    d: DashboardDep,
    platform: str | None = None,
    kind: str | None = None,
    term: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    query = FeedQuery.parse(platform, kind, term, since, until, 1, 100)
    if query.problems:
        return PlainTextResponse("\n".join(query.problems) + "\n", status_code=400)
    feed = d.feed()
    items: list[FeedItem] = []
    if feed is not None:
        pks, _ = feed.select(query)
        items = feed_items(d.study.engine, pks, d.gap_index())
    base = str(request.base_url).rstrip("/")
    filters = query.params(page="")
    title = "memoryhole: detected removals"
    if filters:
        title += " (" + ", ".join(f"{k}={v}" for k, v in filters.items()) + ")"
    body = atom_feed(
        items,
        feed_id=f"urn:memoryhole:{d.study.log_origin}:removals{query_string(filters)}",
        title=title,
        self_url=base + "/feed.atom" + query_string(filters),
        site_url=base + "/removals" + query_string(filters),
        post_url=lambda item: base + post_path(item.platform, item.post_id),
        updated=d.cache.computed_at("feed") or time.time(),
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")
