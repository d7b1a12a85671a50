"""The censor's keyword rules the study has found (``memoryhole isolate``), each with when it
was first and last confirmed and when it stopped triggering: dated changes of the filter."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from memoryhole.isolate.run import study_rules
from memoryhole.web.dashboard import DashboardDep

router = APIRouter()


@router.get("/rules", response_class=HTMLResponse)
def rules(request: Request, d: DashboardDep) -> Response:
    records = study_rules(d.study)  # read from the log: a handful of rows per probe run
    lapsed = [r for r in records if r.lapsed_at is not None]
    return d.render(request, "rules.html", title="Rules", records=records, lapsed=lapsed)
