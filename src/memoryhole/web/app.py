"""The dashboard: a FastAPI app over one study (``memoryhole serve``).

Pages (all reachable by links from ``/``): overview, removals feed, post, terms, speed,
accounts, platforms; an Atom feed of removals; chart specs as JSON; a small JSON API for the
two actions that change state (watch, takedown), which need the server's token. Each resource
has its router in ``web/routes/``; :func:`create_app` puts one :class:`Dashboard` (the study,
the options, the figure cache) on ``app.state`` for the routes' ``DashboardDep`` dependency,
and includes the routers behind the security middleware.

Safety (docs/dashboard.md): archived posts are hostile input. Templates autoescape everything;
every response carries a strict Content-Security-Policy (scripts and styles only from this
server, no inline script, no eval: charts run Vega's expression interpreter); raw responses are
served as sandboxed plain text; in local mode requests must name a loopback host (no DNS
rebinding), and public mode (``--public``) shows pseudonyms only, no raw responses, no bundles,
and refuses every request that could change the study, whatever its token.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from memoryhole.study import Study
from memoryhole.web.dashboard import (
    LOOPBACK_HOSTS,
    READ_ONLY,
    Dashboard,
    Refused,
    ServeOptions,
)
from memoryhole.web.render import STATIC, post_path
from memoryhole.web.routes import ROUTERS

__all__ = [
    "CSP",
    "LOOPBACK_HOSTS",
    "Dashboard",
    "ServeOptions",
    "create_app",
    "host_name",
    "post_path",
    "serve_token",
]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: Methods that read; in public mode every other one is refused before any route runs.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(header: str) -> str:
    """The host of a Host header, without its port (``[::1]:8000`` → ``[::1]``)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def serve_token() -> str:
    return secrets.token_urlsafe(24)


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
    app.add_exception_handler(Refused, _refused)
    app.middleware("http")(_guard)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in ROUTERS:
        app.include_router(router)
    return app


def _refused(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return exc.response


async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Refuse foreign Host headers (local mode) and every state change (public mode), then put
    the security headers on whatever answers."""
    options: ServeOptions = request.app.state.dashboard.options
    if options.check_host and host_name(request.headers.get("host", "")) not in (
        options.allowed_hosts
    ):
        response: Response = Response(
            "unexpected Host header: this dashboard answers on loopback only "
            "(serve --host to change)\n",
            status_code=400,
            media_type="text/plain",
        )
    elif options.public and request.method not in SAFE_METHODS:
        response = JSONResponse({"error": READ_ONLY}, status_code=403)
    else:
        response = await call_next(request)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    return response
