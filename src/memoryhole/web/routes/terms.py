"""The terms page: the term table, sortable, searchable, filterable to q < 0.05."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from memoryhole.analysis.overview import REMOVAL_KINDS, TermTable
from memoryhole.web.dashboard import PER_PAGE, Dashboard, DashboardDep
from memoryhole.web.downloads import download, refuse, wanted
from memoryhole.web.render import query_string

TERM_SORTS = ("term", "posts", "removed", "rate", "lift", "p_value", "q_value")
#: Verdicts whose posts the table can leave out altogether (as ``analyze terms --exclude``).
EXCLUDABLE = (*REMOVAL_KINDS, "withheld")

router = APIRouter()


class TermView:
    """One term table, indexed for the terms page: lowercased terms, and each sort order
    computed once (a million-post study tests ~10^5 terms)."""

    def __init__(self, table: TermTable) -> None:
        self.rows = table.rows
        self.lowered = [str(r["term"]).casefold() for r in table.rows]
        self.significant = [i for i, r in enumerate(table.rows) if r.get("significant")]
        self._orders: dict[tuple[str, str], list[int]] = {
            ("q_value", "asc"): list(range(len(table.rows)))  # term_stats sorts by q
        }

    def order(self, sort: str, order: str) -> list[int]:
        key = (sort, order)
        if key not in self._orders:
            ranked = sorted_rows([{**r, "_i": i} for i, r in enumerate(self.rows)], sort, order)
            self._orders[key] = [int(r["_i"]) for r in ranked]
        return self._orders[key]

    def select(self, needle: str, significant: bool, sort: str, order: str) -> list[int]:
        ordered = self.order(sort, order)
        if not needle and not significant:
            return ordered
        keep = set(self.significant) if significant else None
        lowered = self.lowered
        return [
            i
            for i in ordered
            if (not needle or needle in lowered[i]) and (keep is None or i in keep)
        ]


def sorted_rows(rows: list[dict[str, Any]], sort: str, order: str) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> tuple[int, Any]:
        value = row.get(sort)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (1, 0)
        return (0, value if order == "asc" or isinstance(value, str) else -value)

    ordered = sorted(rows, key=key)
    if order == "desc" and sort == "term":
        ordered.reverse()
    return ordered


def term_filters(kind: str, test: str, alpha: float, exclude: list[str] | None) -> dict[str, Any]:
    """The CLI's term filters from a request (``exclude``: repeated or comma-separated)."""
    asked = {part for value in exclude or () for part in value.split(",") if part}
    return {
        "test": "fisher" if test == "fisher" else "binomial",
        "alpha": alpha,
        "exclude_outcomes": tuple(sorted(asked & set(EXCLUDABLE) - {kind})),
    }


def term_view(d: Dashboard, table: TermTable, key: tuple[Any, ...]) -> TermView:
    view: TermView = d.cache.derived(
        ("term_view", *key), "term_index", lambda _index: TermView(table)
    )
    return view


@router.get("/terms", response_class=HTMLResponse)
def terms(
    request: Request,
    d: DashboardDep,
    kind: str = "censored",
    q: str = "",
    sort: str = "q_value",
    order: str = "asc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    min_posts: Annotated[int, Query(ge=1, le=100_000)] = 20,
    significant: str = "",
    test: str = "binomial",
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
    exclude: Annotated[list[str] | None, Query()] = None,
    format: str = "",
) -> Response:
    kind = kind if kind in REMOVAL_KINDS else "censored"
    sort = sort if sort in TERM_SORTS else "q_value"
    order = "desc" if order == "desc" else "asc"
    if (refused := refuse(format)) is not None:
        return refused
    filters = term_filters(kind, test, alpha, exclude)
    table = d.terms(kind, min_posts, **filters)
    if table is None:
        error = d.cache.errors.get("term_index")
        return d.pending(request, "Terms", f"the term statistics{f' ({error})' if error else ''}")
    view = term_view(d, table, (kind, min_posts, *filters.values()))
    positions = view.select(q.strip().casefold()[:100], bool(significant), sort, order)
    if as_file := wanted(format):
        return download(f"terms-{kind}", as_file, [table.rows[i] for i in positions])
    pages = max(1, math.ceil(len(positions) / PER_PAGE))
    shown = [table.rows[i] for i in positions[(page - 1) * PER_PAGE : page * PER_PAGE]]
    params: dict[str, Any] = {
        "kind": kind,
        "q": q,
        "sort": sort,
        "order": order,
        "min_posts": min_posts,
        "significant": significant,
        "test": filters["test"] if filters["test"] != "binomial" else "",
        "alpha": alpha if alpha != 0.05 else "",
        "exclude": ",".join(filters["exclude_outcomes"]),
    }
    return d.render(
        request,
        "terms.html",
        title="Terms",
        charts=True,
        table=table,
        rows=shown,
        matching=len(positions),
        page=page,
        pages=pages,
        params=params,
        chart_url="/charts/terms.json"
        + query_string({k: params[k] for k in ("kind", "min_posts", "test", "alpha", "exclude")}),
        excluded=filters["exclude_outcomes"],
        excludable=[k for k in EXCLUDABLE if k != kind],
        computed_at=d.cache.computed_at("term_index"),
    )
