"""A post's page (verdict, texts, observations compressed to changes and on a timeline) and
its check against the log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from memoryhole.store.coverage import REASONS
from memoryhole.web.dashboard import Dashboard, DashboardDep
from memoryhole.web.downloads import download, refuse, wanted, with_iso
from memoryhole.web.evidence import verify_post_in_log
from memoryhole.web.post_record import post_record
from memoryhole.web.post_timeline import changes, timeline

router = APIRouter()
OBSERVATION_COLUMNS = (
    "change",
    "then_identical",
    "then_no_answer",
    "id",
    "kind",
    "seq",
    "sent_at",
    "observed_at",
    "status",
    "http_status",
    "code",
    "detail",
    "error",
    "body_size",
    "content_hash",
)
TIMES = ("sent_at", "observed_at")


@router.get("/post/{platform}/{post_id:path}", response_class=HTMLResponse)
def post(
    request: Request,
    d: DashboardDep,
    platform: str,
    post_id: str,
    term: str = "",
    format: str = "",
    table: str = "",
) -> Response:
    if (refused := refuse(format)) is not None:
        return refused
    record = post_record(d.study, platform, post_id)
    if record is None:
        return d.render(
            request,
            "error.html",
            status=404,
            title="Post not found",
            message="No such post in this study, or its author asked for it to be taken down.",
        )
    if as_file := wanted(format):
        shown = record.observations
        if table == "changes":
            shown = [{**c.observation, "change": c.what, "then_identical": c.repeats,
                      "then_no_answer": c.no_answers}
                     for c in changes(record.observations)]  # fmt: skip
        rows = [with_iso({k: o.get(k) for k in OBSERVATION_COLUMNS}, TIMES) for o in shown]
        return download(f"post-{table or 'observations'}", as_file, rows)
    v = record.verdict
    alive, removed = v.get("last_seen_alive_at"), v.get("first_seen_removed_at")
    index = d.gap_index()
    spans_gap = index is not None and index.spans(platform, record.target_pk, alive, removed)
    gaps = post_gaps(d, platform, record.target_pk)
    url = record.url
    if url is not None and d.public and record.author_raw_id in url:
        url = None  # the address names the author, whom public mode shows by pseudonym only
    return d.render(
        request,
        "post.html",
        title=f"Post {post_id}",
        post=record,
        timeline=timeline(record.published_at, record.observations, v, gaps),
        changes=changes(record.observations),
        spans_gap=spans_gap,
        gaps=[
            g
            for g in gaps
            if alive is not None
            and removed is not None
            and g[0] < float(removed)
            and g[1] > float(alive)
        ],
        term=term.strip()[:100],
        url=url,
    )


@router.get("/verify/{platform}/{post_id:path}", response_class=HTMLResponse)
def verify(request: Request, d: DashboardDep, platform: str, post_id: str) -> Response:
    record = post_record(d.study, platform, post_id)
    if record is None:
        return Response("not found", status_code=404, media_type="text/plain")
    result = verify_post_in_log(d.study, d.trees, record.pk)
    return d.render(request, "_verify.html", result=result, post=record)


def post_gaps(d: Dashboard, platform: str, target_pk: int | None) -> list[tuple[float, float, str]]:
    """The periods the study was not watching this post: its platform's gaps and its listing's
    backlogs, each ``(start, end, what)``."""
    index = d.gap_index()
    if index is None:
        return []
    reasons = {(g.platform, g.start, g.end): g.reason for g in d.gaps()}
    found = [
        (a, b, REASONS.get(reasons.get((platform, a, b), ""), "not watched"))
        for a, b in index.platform.get(platform, [])
    ]
    if target_pk is not None:
        found += [(a, b, REASONS["backlog"]) for a, b in index.target.get(target_pk, [])]
    return sorted(set(found))
