"""The two state changes (watch targets, take an author down): JSON, the server's bearer token,
and never in public mode, whatever the token (a web page cannot send them cross-origin)."""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from memoryhole.errors import MemoryholeError
from memoryhole.web.dashboard import READ_ONLY, DashboardDep, Refused


async def authorised(request: Request, d: DashboardDep) -> None:
    """Refuse unless this server may change its study and the request has its token."""
    if d.public:  # a published dashboard never changes its study, whatever the token
        raise Refused(JSONResponse({"error": READ_ONLY}, status_code=403))
    token = d.options.token
    given = request.headers.get("authorization", "")
    if not token:
        raise Refused(
            JSONResponse(
                {"error": "this server has no token: state changes are disabled"},
                status_code=403,
            )
        )
    if not given.startswith("Bearer ") or not hmac.compare_digest(
        given[len("Bearer ") :].encode(), token.encode()
    ):
        raise Refused(JSONResponse({"error": "a valid bearer token is required"}, status_code=401))
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise Refused(JSONResponse({"error": "send application/json"}, status_code=415))


router = APIRouter(prefix="/api", dependencies=[Depends(authorised)])


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None


@router.post("/watch")
async def api_watch(request: Request, d: DashboardDep) -> Response:
    payload = await json_body(request)
    specs = payload.get("targets") if isinstance(payload, dict) else None
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        return JSONResponse({"error": 'send {"targets": ["weibo:user/123", …]}'}, 400)
    from memoryhole.platforms.registry import parse_target
    from memoryhole.store.queries import add_targets

    try:
        parsed = [
            parse_target(
                spec,
                d.study.base_url(spec.partition(":")[0]) or "",
                study_dir=d.study.path,
            )
            for spec in specs
        ]
    except MemoryholeError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    added = add_targets(d.study.engine, parsed, time.time())
    return JSONResponse({"added": added})


@router.post("/takedown")
async def api_takedown(request: Request, d: DashboardDep) -> Response:
    payload = await json_body(request)
    if not isinstance(payload, dict) or not isinstance(payload.get("author"), str):
        return JSONResponse({"error": 'send {"author": ID, "platform": …}'}, 400)
    from memoryhole.evidence.takedown import takedown

    try:
        result = takedown(
            d.study,
            payload["author"],
            platform=str(payload.get("platform", "weibo")),
            reason=str(payload.get("reason", "at risk")),
        )
    except MemoryholeError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    for name in ("counts", "timeline", "feed", "accounts"):
        d.cache.compute(name)
    # The dashboard does not write the log: a running collector logs the redactions at its
    # next commit, or `memoryhole takedown --log-pending` does.
    return JSONResponse(
        {
            "pseudonym": result.pseudonym,
            "posts": result.posts,
            "redactions_pending": result.pending,
        }
    )
