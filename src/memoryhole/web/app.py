"""The dashboard: a FastAPI app over one study (``memoryhole serve``).

Pages (all reachable by links from ``/``): overview, removals feed, post, terms, speed,
accounts, platforms; an Atom feed of removals; chart specs as JSON; a small JSON API for the
two actions that change state (watch, takedown), which need the server's token.

Safety (docs/dashboard.md): archived posts are hostile input. Templates autoescape everything;
every response carries a strict Content-Security-Policy (scripts and styles only from this
server, no inline script, no eval: charts run Vega's expression interpreter); raw responses are
served as sandboxed plain text; in local mode requests must name a loopback host (no DNS
rebinding), and public mode (``--public``) shows pseudonyms only, no raw responses, no bundles.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup

from memoryhole import __version__
from memoryhole.analysis.overview import (
    KIND_LABELS,
    REMOVAL_KINDS,
    VERDICTS,
    Account,
    Activity,
    SpeedFigures,
    TermTable,
    VerdictCounts,
    WatchedTarget,
    activity,
    platform_table,
    term_table,
)
from memoryhole.errors import MemoryholeError
from memoryhole.study import Study
from memoryhole.times import shown_invalid, utc_datetime
from memoryhole.web import charts
from memoryhole.web.atom import atom_feed
from memoryhole.web.cache import CacheSettings, FigureCache
from memoryhole.web.data import (
    FeedItem,
    FeedQuery,
    RemovalIndex,
    feed_items,
    post_record,
    raw_response,
)
from memoryhole.web.evidence import TreeCache, bundle_with_report, verify_post_in_log

STATIC = Path(str(files("memoryhole.web") / "static"))
TEMPLATES = Path(str(files("memoryhole.web") / "templates"))

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
RAW_CSP = "default-src 'none'; sandbox"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
PER_PAGE = 50
TERM_SORTS = ("term", "posts", "removed", "rate", "lift", "p_value", "q_value")


@dataclass(frozen=True)
class ServeOptions:
    public: bool = False
    token: str | None = None
    background: bool = True
    allowed_hosts: frozenset[str] = LOOPBACK_HOSTS
    check_host: bool = True
    cache: CacheSettings = field(default_factory=CacheSettings)


# --------------------------------------------------------------------------- formatting


def fmt_time(epoch: float | None) -> str:
    moment = utc_datetime(epoch)
    if moment is None:
        return "—" if epoch is None else shown_invalid(epoch)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(epoch: float | None) -> str:
    moment = utc_datetime(epoch)
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and not math.isfinite(seconds)):
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{100 * value:.{digits}f}%"


def fmt_p(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.2e}" if value < 0.001 else f"{value:.3f}"


def host_name(header: str) -> str:
    """The host of a Host header, without its port (``[::1]:8000`` → ``[::1]``)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def post_path(platform: str, post_id: str) -> str:
    return f"/post/{quote(platform, safe='')}/{quote(post_id, safe='')}"


def query_string(params: dict[str, Any]) -> str:
    clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(clean) if clean else ""


def make_templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        {
            "ts": fmt_time,
            "iso": iso_time,
            "dur": fmt_duration,
            "num": fmt_number,
            "pct": fmt_pct,
            "pval": fmt_p,
            "kind_label": lambda k: KIND_LABELS.get(str(k), str(k)),
        }
    )
    env.globals.update(
        {
            "post_path": post_path,
            "qs": query_string,
            "REMOVAL_KINDS": REMOVAL_KINDS,
            "VERDICTS": VERDICTS,
            "KIND_LABELS": KIND_LABELS,
            "version": __version__,
        }
    )
    return env


# --------------------------------------------------------------------------- the app


class Dashboard:
    """Everything a request needs: the study, the options, the figure cache, the templates."""

    def __init__(self, study: Study, options: ServeOptions) -> None:
        self.study = study
        self.options = options
        self.cache = FigureCache(study, options.cache, background=options.background)
        self.templates = make_templates()
        self.trees = TreeCache(study)
        if options.background:  # proofs are O(log n) once the tree was hashed once
            self.cache.register("evidence_tree", "slow", self.trees.warm)
        self.bundle_checks: dict[tuple[str, str], tuple[int, Any]] = {}

    @property
    def public(self) -> bool:
        return self.options.public

    def target_label(self, target: WatchedTarget) -> str:
        if self.public and target.kind == "user" and target.key:
            return f"{target.platform}:user/{self.study.pseudonym(target.platform, target.key)}"
        return target.spec

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("title", "memoryhole")
        context.setdefault("charts", False)
        context.update(
            {
                "request": request,
                "public": self.public,
                "study_name": self.study.path.resolve().name,
                "feed_url": "/feed.atom",
                "path": request.url.path,
            }
        )
        html = self.templates.get_template(name).render(context)
        return HTMLResponse(html, status_code=status)

    def pending(self, request: Request, title: str, what: str) -> Response:
        """The page shown while a figure is computed for the first time (it polls)."""
        return self.render(request, "pending.html", title=title, what=what, status=200)


def _dashboard(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


def create_app(study: Study, options: ServeOptions | None = None) -> FastAPI:
    options = options or ServeOptions()
    dashboard = Dashboard(study, options)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dashboard.cache.start()
        yield
        dashboard.cache.stop()

    app = FastAPI(
        title="memoryhole",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.dashboard = dashboard

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        if options.check_host and host_name(request.headers.get("host", "")) not in (
            options.allowed_hosts
        ):
            response: Response = Response(
                "unexpected Host header: this dashboard answers on loopback only "
                "(serve --host to change)\n",
                status_code=400,
                media_type="text/plain",
            )
        else:
            response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = (
            "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        return response

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    _routes(app, dashboard)
    return app


def _counts(d: Dashboard) -> VerdictCounts | None:
    value: VerdictCounts | None = d.cache.get("counts")
    return value


def _speed(d: Dashboard) -> SpeedFigures | None:
    value: SpeedFigures | None = d.cache.get("speed")
    return value


def _feed(d: Dashboard) -> RemovalIndex | None:
    value: RemovalIndex | None = d.cache.get("feed")
    return value


def _terms(d: Dashboard, kind: str, min_posts: int) -> TermTable | None:
    value: TermTable | None = d.cache.derived(
        ("terms", kind, min_posts),
        "term_index",
        lambda index: term_table(index, kind=kind, min_posts=min_posts),
    )
    return value


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
            ranked = _sorted_rows([{**r, "_i": i} for i, r in enumerate(self.rows)], sort, order)
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


def _term_view(d: Dashboard, kind: str, min_posts: int) -> TermView:
    table = _terms(d, kind, min_posts)
    assert table is not None
    view: TermView = d.cache.derived(
        ("term_view", kind, min_posts), "term_index", lambda _index: TermView(table)
    )
    return view


@dataclass
class AccountIndex:
    """The accounts table, indexed: suspended positions and search keys precomputed."""

    accounts: list[Account]
    suspended: list[int]
    public_keys: list[str]
    local_keys: list[str]

    @classmethod
    def build(cls, accounts: list[Account]) -> AccountIndex:
        return cls(
            accounts,
            [i for i, a in enumerate(accounts) if a.suspended],
            [a.pseudonym.casefold() for a in accounts],
            [f"{a.pseudonym} {a.raw_id}".casefold() for a in accounts],
        )

    def select(self, suspended: bool, needle: str, public: bool) -> list[int] | range:
        base: list[int] | range = self.suspended if suspended else range(len(self.accounts))
        if not needle:
            return base
        keys = self.public_keys if public else self.local_keys
        return [i for i in base if needle in keys[i]]


def _activity(d: Dashboard) -> Activity:
    return activity(d.study.engine)


def _routes(app: FastAPI, d: Dashboard) -> None:
    def render(request: Request, name: str, **context: Any) -> Response:
        return d.render(request, name, **context)

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        counts = _counts(d)
        feed = _feed(d)
        targets: list[WatchedTarget] = d.cache.get("targets") or []
        latest = feed_items(d.study.engine, feed.post_pk[:10]) if feed is not None else []
        return render(
            request,
            "overview.html",
            title="Overview",
            charts=True,
            counts=counts,
            act=_activity(d),
            now=time.time(),
            speed=_speed(d),
            targets=[(d.target_label(t), t) for t in targets],
            items=latest,
            computed_at=d.cache.computed_at("counts"),
        )

    @app.get("/fragments/live", response_class=HTMLResponse)
    def live(request: Request) -> Response:
        return render(
            request,
            "_live.html",
            counts=_counts(d),
            act=_activity(d),
            now=time.time(),
            computed_at=d.cache.computed_at("counts"),
        )

    @app.get("/removals", response_class=HTMLResponse)
    def removals(
        request: Request,
        platform: str | None = None,
        kind: str | None = None,
        term: str | None = None,
        since: str | None = None,
        until: str | None = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        query = FeedQuery.parse(platform, kind, term, since, until, page, PER_PAGE)
        feed = _feed(d)
        if feed is None:
            return d.pending(request, "Removals", "the removals index")
        pks, total = feed.select(query)
        items = feed_items(d.study.engine, pks)
        return render(
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

    @app.get("/feed.atom")
    def atom(
        request: Request,
        platform: str | None = None,
        kind: str | None = None,
        term: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Response:
        query = FeedQuery.parse(platform, kind, term, since, until, 1, 100)
        feed = _feed(d)
        items: list[FeedItem] = []
        if feed is not None:
            pks, _ = feed.select(query)
            items = feed_items(d.study.engine, pks)
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

    @app.get("/post/{platform}/{post_id:path}", response_class=HTMLResponse)
    def post(request: Request, platform: str, post_id: str) -> Response:
        record = post_record(d.study, platform, post_id)
        if record is None:
            return d.render(
                request,
                "error.html",
                status=404,
                title="Post not found",
                message="No such post in this study, or its author asked for it to be taken down.",
            )
        return render(
            request,
            "post.html",
            title=f"Post {post_id}",
            post=record,
            timeline=_timeline_svg(record),
        )

    @app.get("/verify/{platform}/{post_id:path}", response_class=HTMLResponse)
    def verify(request: Request, platform: str, post_id: str) -> Response:
        record = post_record(d.study, platform, post_id)
        if record is None:
            return Response("not found", status_code=404, media_type="text/plain")
        result = verify_post_in_log(d.study, d.trees, record.pk)
        return render(request, "_verify.html", result=result, post=record)

    @app.get("/bundle/{platform}/{post_id:path}")
    def bundle(request: Request, platform: str, post_id: str) -> Response:
        if d.public:
            return Response(
                "evidence bundles hold raw platform responses that name people: they are not "
                "served in public mode\n",
                status_code=403,
                media_type="text/plain",
            )
        if post_record(d.study, platform, post_id) is None:
            return Response("not found", status_code=404, media_type="text/plain")
        try:
            result = bundle_with_report(d.study, platform, post_id)
        except MemoryholeError as exc:
            return Response(f"no bundle: {exc}\n", status_code=409, media_type="text/plain")
        if request.query_params.get("check"):
            return render(request, "_bundle_check.html", result=result)
        return Response(
            result.data,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{result.filename}"',
                "X-Memoryhole-Verified": "yes" if not result.failures else "NO",
            },
        )

    @app.get("/raw/{observation_id}")
    def raw(observation_id: int) -> Response:
        if d.public:
            return Response(
                "raw responses are not served in public mode\n",
                status_code=403,
                media_type="text/plain",
            )
        body = raw_response(d.study, observation_id)
        if body is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            body,
            media_type="text/plain; charset=utf-8",
            headers={"Content-Security-Policy": RAW_CSP},
        )

    @app.get("/terms", response_class=HTMLResponse)
    def terms(
        request: Request,
        kind: str = "censored",
        q: str = "",
        sort: str = "q_value",
        order: str = "asc",
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        min_posts: Annotated[int, Query(ge=1, le=100_000)] = 20,
        significant: str = "",
    ) -> Response:
        kind = kind if kind in REMOVAL_KINDS else "censored"
        sort = sort if sort in TERM_SORTS else "q_value"
        order = "desc" if order == "desc" else "asc"
        table = _terms(d, kind, min_posts)
        if table is None:
            error = d.cache.errors.get("term_index")
            return d.pending(
                request, "Terms", f"the term statistics{f' ({error})' if error else ''}"
            )
        view = _term_view(d, kind, min_posts)
        positions = view.select(q.strip().casefold()[:100], bool(significant), sort, order)
        pages = max(1, math.ceil(len(positions) / PER_PAGE))
        shown = [table.rows[i] for i in positions[(page - 1) * PER_PAGE : page * PER_PAGE]]
        params = {
            "kind": kind,
            "q": q,
            "sort": sort,
            "order": order,
            "min_posts": min_posts,
            "significant": significant,
        }
        return render(
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
            chart_url="/charts/terms.json" + query_string({"kind": kind, "min_posts": min_posts}),
            computed_at=d.cache.computed_at("term_index"),
        )

    @app.get("/speed", response_class=HTMLResponse)
    def speed(request: Request) -> Response:
        figures = _speed(d)
        if figures is None:
            return d.pending(request, "Speed", "the survival curves")
        return render(
            request,
            "speed.html",
            title="Speed",
            charts=True,
            speed=figures,
            computed_at=d.cache.computed_at("speed"),
        )

    @app.get("/accounts", response_class=HTMLResponse)
    def accounts(
        request: Request,
        suspended: str = "",
        q: str = "",
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        index: AccountIndex | None = d.cache.derived(("accounts",), "accounts", AccountIndex.build)
        if index is None:
            return d.pending(request, "Accounts", "the accounts table")
        positions = index.select(bool(suspended), q.strip().casefold()[:100], d.public)
        pages = max(1, math.ceil(len(positions) / PER_PAGE))
        page_positions = positions[(page - 1) * PER_PAGE : page * PER_PAGE]
        return render(
            request,
            "accounts.html",
            title="Accounts",
            rows=[index.accounts[i] for i in page_positions],
            matching=len(positions),
            suspended_total=len(index.suspended),
            total=len(index.accounts),
            page=page,
            pages=pages,
            params={"suspended": suspended, "q": q},
            computed_at=d.cache.computed_at("accounts"),
        )

    @app.get("/platforms", response_class=HTMLResponse)
    def platforms(request: Request) -> Response:
        counts = _counts(d)
        if counts is None:
            return d.pending(request, "Platforms", "the counts")
        rows = platform_table(counts, _speed(d))
        return render(
            request,
            "platforms.html",
            title="Platforms",
            charts=True,
            rows=rows,
            computed_at=d.cache.computed_at("counts"),
        )

    @app.get("/charts/{name}.json")
    def chart(
        name: str,
        kind: str = "censored",
        view: str = "removed",
        min_posts: Annotated[int, Query(ge=1, le=100_000)] = 20,
    ) -> Response:
        spec: dict[str, Any] | None = None
        if name == "removals":
            timeline = d.cache.get("timeline")
            spec = charts.removals_chart(timeline) if timeline is not None else None
        elif name == "terms":
            table = _terms(d, kind if kind in REMOVAL_KINDS else "censored", min_posts)
            spec = charts.terms_chart(table) if table is not None else None
        elif name == "speed":
            figures = _speed(d)
            spec = charts.speed_chart(figures, view != "all") if figures is not None else None
        elif name == "platforms":
            counts = _counts(d)
            spec = (
                charts.platforms_chart(platform_table(counts, _speed(d)))
                if counts is not None
                else None
            )
        else:
            return JSONResponse({"error": "no such chart"}, status_code=404)
        if spec is None:
            return JSONResponse(
                {"error": "computing"}, status_code=503, headers={"Retry-After": "5"}
            )
        return JSONResponse(spec)

    @app.get("/healthz")
    def healthz() -> Response:
        return JSONResponse({"ok": True, "public": d.public, **d.cache.status()})

    # -- state changes: token only -----------------------------------------------------------

    def authorised(request: Request) -> Response | None:
        if d.public:  # a published dashboard never changes its study, whatever the token
            return JSONResponse(
                {"error": "public mode is read-only: serve without --public to change the study"},
                status_code=403,
            )
        token = d.options.token
        given = request.headers.get("authorization", "")
        if not token:
            return JSONResponse(
                {"error": "this server has no token: state changes are disabled"},
                status_code=403,
            )
        if not given.startswith("Bearer ") or not hmac.compare_digest(
            given[len("Bearer ") :].encode(), token.encode()
        ):
            return JSONResponse({"error": "a valid bearer token is required"}, status_code=401)
        if not request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"error": "send application/json"}, status_code=415)
        return None

    @app.post("/api/watch")
    async def api_watch(request: Request) -> Response:
        refused = authorised(request)
        if refused is not None:
            return refused
        payload = await _json_body(request)
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

    @app.post("/api/takedown")
    async def api_takedown(request: Request) -> Response:
        refused = authorised(request)
        if refused is not None:
            return refused
        payload = await _json_body(request)
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
        # The dashboard does not write the log: a running collector logs the redactions at
        # its next commit, or `memoryhole takedown --log-pending` does.
        return JSONResponse(
            {
                "pseudonym": result.pseudonym,
                "posts": result.posts,
                "redactions_pending": result.pending,
            }
        )


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None


def _sorted_rows(rows: list[dict[str, Any]], sort: str, order: str) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> tuple[int, Any]:
        value = row.get(sort)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (1, 0)
        return (0, value if order == "asc" or isinstance(value, str) else -value)

    ordered = sorted(rows, key=key)
    if order == "desc" and sort == "term":
        ordered.reverse()
    return ordered


# --------------------------------------------------------------------------- post timeline


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


def _timeline_svg(record: Any) -> TimelineSvg:
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


def serve_token() -> str:
    return secrets.token_urlsafe(24)


def markup_json(value: Any) -> Markup:
    """JSON safe inside an HTML ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
