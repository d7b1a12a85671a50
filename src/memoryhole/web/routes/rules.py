"""The censor's keyword rules the study has found (``memoryhole isolate``), each with when it
was first and last confirmed and when it stopped triggering: dated changes of the filter."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from memoryhole.isolate.found import study_rules
from memoryhole.web.dashboard import DashboardDep
from memoryhole.web.downloads import download, refuse, wanted, with_iso

router = APIRouter()


@router.get("/rules", response_class=HTMLResponse)
def rules(request: Request, d: DashboardDep, format: str = "") -> Response:
    if (refused := refuse(format)) is not None:
        return refused
    records = study_rules(d.study)  # read from the log: a handful of rows per probe run
    if as_file := wanted(format):
        times = ("first_confirmed", "last_confirmed", "lapsed_at")
        rows = [
            {
                "rule": str(r.rule),
                "first_confirmed": r.first_confirmed,
                "last_confirmed": r.last_confirmed,
                "confirmations": r.confirmations,
                "lapsed_at": r.lapsed_at,
            }
            for r in records
        ]
        return download("rules", as_file, [with_iso(row, times) for row in rows])
    lapsed = [r for r in records if r.lapsed_at is not None]
    return d.render(request, "rules.html", title="Rules", records=records, lapsed=lapsed)
