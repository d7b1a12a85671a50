"""``memoryhole sim serve``: the simulated platform over HTTP on loopback (uvicorn, raw ASGI).

Time runs on an accelerated clock that starts at the scenario's first post and advances
``speed`` platform seconds per wall second; ``GET /__sim__/clock`` tells a collector on this
machine where that clock stands. Past ``rate_limit`` requests per wall second the server answers
429 with ``Retry-After`` (wall seconds). Faults are drawn per request (see ``sim.faults``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from memoryhole.clock import AcceleratedClock, SystemClock
from memoryhole.collect.vantages import VANTAGE_HEADER
from memoryhole.scenario import ScenarioPost, load_scenario
from memoryhole.sim.faults import CAPTCHA_PAGE, SERVER_ERROR_PAGE, FaultSpec, truncated
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.ratelimit import RefusingBucket
from memoryhole.sim.search_filter import SearchFilter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HTML = b"text/html; charset=utf-8"


class ConnectionDropped(Exception):
    """Raised inside the app after the headers went out: the server then drops the connection."""


class SimApp:
    """The ASGI application; build it with ``SimApp.from_posts`` or use ``serve``."""

    def __init__(
        self,
        platform: SimPlatform,
        *,
        faults: FaultSpec | None = None,
        rate_limit: float | None = None,
        seed: int = 0,
    ) -> None:
        self.platform = platform
        self.faults = faults or FaultSpec()
        self.rng = random.Random(seed)
        self.bucket = RefusingBucket(rate_limit, SystemClock()) if rate_limit else None
        self.requests = 0

    @classmethod
    def from_posts(
        cls,
        posts: list[ScenarioPost],
        *,
        speed: float = 1.0,
        faults: FaultSpec | None = None,
        rate_limit: float | None = None,
        seed: int = 0,
        platform: str = "weibo",
        started: float | None = None,
    ) -> SimApp:
        """``started``: the wall time the scenario's first post is published at (default
        now); simulators given the same one share one platform clock."""
        origin = min(post.published_at for post in posts)
        clock = AcceleratedClock(origin, started if started is not None else time.time(), speed)
        simulated = SimPlatform(posts, clock, platform)
        return cls(simulated, faults=faults, rate_limit=rate_limit, seed=seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._stream(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        self.requests += 1
        path: str = scope["path"]
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        fault: str | None = None
        if path != "/__sim__/clock":
            if self.bucket is not None:
                wait = self.bucket.admit()
                if wait is not None:
                    body = b"<html><body><h1>429 Too Many Requests</h1></body></html>"
                    extra = [(b"retry-after", f"{wait:.0f}".encode())]
                    await self._respond(send, 429, HTML, body, extra)
                    return
            fault = self.faults.draw(self.rng)
            if fault == "slow":
                await asyncio.sleep(self.faults.slow_seconds)
            elif fault == "5xx":
                await self._respond(send, 502, HTML, SERVER_ERROR_PAGE)
                return
            elif fault == "captcha":
                await self._respond(send, 200, HTML, CAPTCHA_PAGE)
                return
            elif fault == "reset":
                await self._drop(send)
                return
        vantage = dict(scope.get("headers") or ()).get(VANTAGE_HEADER.lower().encode())
        self.platform.vantage = vantage.decode("latin-1") if vantage else None
        status, headers, body = self.platform.handle(scope["method"], path, query)
        if fault == "truncate":
            body = truncated(body)
        await self._respond(send, status, headers[0][1].encode(), body)

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket stream (Bluesky's Jetstream, ``/subscribe``): the events so far after
        the cursor, a frame each, then the stream closes (a client reads it again from its
        new cursor). Anything else is refused at the handshake."""
        self.requests += 1
        if (await receive())["type"] != "websocket.connect":
            return
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        status, _, body = self.platform.handle("GET", scope["path"], query)
        if status != 200:
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.accept"})
        for line in body.split(b"\n"):
            if line:
                await send({"type": "websocket.send", "text": line.decode()})
        await send({"type": "websocket.close", "code": 1000})

    async def _respond(
        self,
        send: Send,
        status: int,
        content_type: bytes,
        body: bytes,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"date", formatdate(usegmt=True).encode()),
            *(extra or ()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _drop(self, send: Send) -> None:
        """Promise a body, send part of it, and fail: the server closes the connection."""
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"ok":1,"da', "more_body": True})
        raise ConnectionDropped("fault injected: connection reset")


def serve(
    scenario_path: Path,
    *,
    port: int = 8000,
    speed: float = 1.0,
    faults_spec: str | None = None,
    rate_limit: float | None = None,
    host: str = "127.0.0.1",
    seed: int = 0,
    platform: str = "weibo",
    search_filter: SearchFilter | None = None,
    censor_region: str | None = None,
    started: float | None = None,
    home_region: str | None = None,
) -> None:
    """Run the simulator until interrupted (uvicorn with uvloop and httptools when installed);
    ``platform`` picks the shapes it answers in (``sim.shapes.PLATFORMS``)."""
    import logging

    import uvicorn

    posts = load_scenario(scenario_path)
    faults = FaultSpec.parse(faults_spec) if faults_spec else None
    app = SimApp.from_posts(
        posts,
        speed=speed,
        faults=faults,
        rate_limit=rate_limit,
        seed=seed,
        platform=platform,
        started=started,
    )
    app.platform.media_base = f"http://{host}:{port}"  # media links point here
    app.platform.search_filter = search_filter
    app.platform.censor_region = censor_region
    app.platform.home_region = home_region
    # The injected connection drops are deliberate; uvicorn would log each one as a crash.
    logging.getLogger("uvicorn.error").addFilter(
        lambda record: (
            "ConnectionDropped" not in record.getMessage()
            and not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))
        )
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=_pick("uvloop", "uvloop"),
        http=_pick("httptools", "httptools"),
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    uvicorn.Server(config).run()


def _pick(module: str, choice: str) -> str:
    try:
        __import__(module)
    except ImportError:
        return "auto"
    return choice
