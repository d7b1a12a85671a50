"""The evidence of local mode: a post's bundle (built, verified, downloaded or checked in the
page) and each raw response. Public mode serves neither: platform answers name people, and
building a bundle may sign a new checkpoint (a change to the study)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from memoryhole.errors import MemoryholeError
from memoryhole.web.dashboard import DashboardDep, refuse_in_public
from memoryhole.web.evidence import bundle_with_report
from memoryhole.web.post_record import MAX_ID, post_record, raw_response

RAW_CSP = "default-src 'none'; sandbox"
#: An observation id as the pages write it: ASCII decimal digits, no sign, no leading zero.
OBSERVATION_ID = re.compile(r"[1-9][0-9]{0,18}")

router = APIRouter()
no_bundles = refuse_in_public(
    "evidence bundles hold raw platform responses that name people: they are not "
    "served in public mode\n"
)
no_raw = refuse_in_public("raw responses are not served in public mode\n")


def not_found() -> Response:
    return Response("not found", status_code=404, media_type="text/plain")


def observation_number(text: str) -> int | None:
    """The id ``text`` names, or None when it is malformed or no database integer holds it."""
    if OBSERVATION_ID.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


@router.get("/bundle/{platform}/{post_id:path}", dependencies=[Depends(no_bundles)])
def bundle(request: Request, d: DashboardDep, platform: str, post_id: str) -> Response:
    if post_record(d.study, platform, post_id) is None:
        return not_found()
    try:
        result = bundle_with_report(d.study, platform, post_id)
    except MemoryholeError as exc:
        return Response(f"no bundle: {exc}\n", status_code=409, media_type="text/plain")
    if request.query_params.get("check"):
        return d.render(request, "_bundle_check.html", result=result)
    return Response(
        result.data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{result.filename}"',
            "X-Memoryhole-Verified": "yes" if not result.failures else "NO",
        },
    )


@router.get("/raw/{observation_id}", dependencies=[Depends(no_raw)])
def raw(d: DashboardDep, observation_id: str) -> Response:
    number = observation_number(observation_id)
    body = raw_response(d.study, number) if number is not None else None
    if body is None:
        return not_found()
    return Response(
        body,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Security-Policy": RAW_CSP},
    )
