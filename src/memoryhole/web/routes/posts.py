"""A post's page (verdict, texts, observations on a timeline) and its check against the log."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from memoryhole.web.dashboard import DashboardDep
from memoryhole.web.evidence import verify_post_in_log
from memoryhole.web.post_record import PostRecord, post_record
from memoryhole.web.render import fmt_time

router = APIRouter()


@router.get("/post/{platform}/{post_id:path}", response_class=HTMLResponse)
def post(request: Request, d: DashboardDep, platform: str, post_id: str) -> Response:
    record = post_record(d.study, platform, post_id)
    if record is None:
        return d.render(
            request,
            "error.html",
            status=404,
            title="Post not found",
            message="No such post in this study, or its author asked for it to be taken down.",
        )
    return d.render(
        request,
        "post.html",
        title=f"Post {post_id}",
        post=record,
        timeline=timeline_svg(record),
    )


@router.get("/verify/{platform}/{post_id:path}", response_class=HTMLResponse)
def verify(request: Request, d: DashboardDep, platform: str, post_id: str) -> Response:
    record = post_record(d.study, platform, post_id)
    if record is None:
        return Response("not found", status_code=404, media_type="text/plain")
    result = verify_post_in_log(d.study, d.trees, record.pk)
    return d.render(request, "_verify.html", result=result, post=record)


@dataclass(frozen=True)
class TimelineMark:
    x: float
    status: str
    label: str
    observation_id: int | None


@dataclass(frozen=True)
class TimelineSvg:
    width: int
    marks: list[TimelineMark]
    start_label: str
    end_label: str
    band: tuple[float, float] | None  # the removal interval, in x


def timeline_svg(record: PostRecord) -> TimelineSvg:
    """Where each observation falls between publication and the last observation (x in px)."""
    width = 900
    start = float(record.published_at)
    times = [float(o["sent_at"]) for o in record.observations] or [start]
    end = max([*times, start + 60.0])
    span = end - start if math.isfinite(end - start) and end > start else 60.0

    def x(at: float) -> float:
        offset = (at - start) / span
        return round(20 + (width - 40) * (offset if math.isfinite(offset) else 0.0), 1)

    marks = [TimelineMark(x(start), "published", f"published {fmt_time(start)}", None)]
    for o in record.observations:
        if o["kind"] not in ("check", "import") or o["seq"] is None:
            continue  # a media download, a long text, the facts: not a look at the post's state
        marks.append(
            TimelineMark(
                x(float(o["sent_at"])),
                str(o["status"]),
                f"check {o['seq']}: {o['status']} at {fmt_time(float(o['sent_at']))}",
                int(o["id"]),
            )
        )
    band = None
    alive = record.verdict.get("last_seen_alive_at")
    removed = record.verdict.get("first_seen_removed_at")
    if alive is not None and removed is not None:
        band = (x(float(alive)), x(float(removed)))
    return TimelineSvg(width, marks, fmt_time(start), fmt_time(end), band)
