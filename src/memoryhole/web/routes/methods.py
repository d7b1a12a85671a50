"""The methods page: what the study did, written from its configuration and store
(``analysis.methods.methods_text``, the same text as the report's)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from memoryhole.web.dashboard import DashboardDep

router = APIRouter()


@router.get("/methods", response_class=HTMLResponse)
def methods(request: Request, d: DashboardDep) -> Response:
    paragraphs = d.methods()
    if paragraphs is None:
        return d.pending(request, "Methods", "the methods text")
    return d.render(
        request,
        "methods.html",
        title="Methods",
        paragraphs=paragraphs,
        computed_at=d.cache.computed_at("methods"),
    )
