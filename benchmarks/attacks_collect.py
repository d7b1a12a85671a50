"""Attacks by a hostile platform on the collector (issue 21, items 1 and 5): redirects and
unbounded answers, over loopback HTTP through the collector's own transport.

``attacks(tmp)`` returns ``(category, attack, held)`` rows for ``benchmarks/attacks.py``.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from memoryhole.clock import SystemClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.transport import AiohttpTransport
from memoryhole.config import update_config
from memoryhole.model import Target
from memoryhole.platforms.weibo import WeiboPlatform
from memoryhole.schedule.policy import AgeProportional
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.study import Study

Row = tuple[str, str, bool]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CENSORED = {"ok": 0, "errno": "20112", "msg": "permission denied"}


def _mblog(mid: str) -> dict[str, Any]:
    return {"id": mid, "mid": mid, "created_at": "刚刚", "text": "正文", "user": {"id": 7001}}


async def _serve(routes: dict[str, Handler]) -> tuple[web.AppRunner, str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def _watch(tmp: Path, base: str, seconds: float, **collector: int) -> dict[str, str]:
    """A collector on a user timeline at ``base`` for ``seconds``: each post's verdict."""
    study = Study.init(tmp)
    for name, value in collector.items():
        update_config(study.config_path, ("collector",), name, value)
    study = Study.open(study.path)
    study.set_base_url("weibo", base)
    add_targets(study.engine, [Target("weibo", "user", "7001")], 0.0)
    transport = AiohttpTransport(timeout=20)
    run = Collector(
        study,
        {"weibo": WeiboPlatform(base)},
        transport,
        SystemClock(),
        budget_per_second=20.0,
        policy=AgeProportional(first_check_after=0.2, max_interval=1.0, horizon=3600.0),
    )
    try:
        await asyncio.wait_for(run.run(wall_deadline=time.time() + seconds), 60)
    finally:
        await transport.close()
    verdicts = {str(v["post_id"]): str(v["verdict"]) for v in iter_verdicts(study.engine)}
    study.close()
    return verdicts


async def _redirects(tmp: Path) -> list[Row]:
    internal: list[str] = []

    async def admin(request: web.Request) -> web.Response:
        internal.append(request.path)
        return web.json_response(CENSORED)

    admin_runner, admin_url = await _serve({"/internal-admin": admin})
    mids = {
        "4900000000000001": "another post's censored answer",
        "4900000000000002": "a service on this machine",
        "4900000000000003": "a file: URL",
        "4900000000000004": "a redirect loop",
        "4900000000000009": "(censored itself)",
    }
    base: list[str] = []

    async def listing(request: web.Request) -> web.Response:
        cards = [{"card_type": 9, "mblog": _mblog(mid)} for mid in mids]
        return web.json_response({"ok": 1, "data": {"cardlistInfo": {}, "cards": cards}})

    async def show(request: web.Request) -> web.Response:
        mid = request.query["id"]
        targets = {
            "4900000000000001": f"{base[0]}/statuses/show?id=4900000000000009",
            "4900000000000002": f"{admin_url}/internal-admin",
            "4900000000000003": "file:///etc/passwd",
            "4900000000000004": f"{base[0]}/statuses/show?id=4900000000000004",
        }
        if mid in targets:
            raise web.HTTPFound(targets[mid])
        return web.json_response(CENSORED)

    runner, url = await _serve({"/api/container/getIndex": listing, "/statuses/show": show})
    base.append(url)
    try:
        verdicts = await _watch(tmp, url, 3.0)
    finally:
        await runner.cleanup()
        await admin_runner.cleanup()
    rows = [
        ("redirects", f"302 to {what}", verdicts.get(mid) == "live")
        for mid, what in mids.items()
        if mid != "4900000000000009"
    ]
    rows.append(("redirects", "no request ever reaches the internal service", internal == []))
    return rows


async def _unbounded(tmp: Path) -> list[Row]:
    padded = b'{"ok":0,"errno":"20112","msg":"x"' + b" " * (64 * 1024 * 1024) + b"}"
    bomb = gzip.compress(padded, compresslevel=9)

    async def listing(request: web.Request) -> web.Response:
        cards = [
            {"card_type": 9, "mblog": _mblog(m)} for m in ("4900000000000001", "4900000000000002")
        ]
        return web.json_response({"ok": 1, "data": {"cardlistInfo": {}, "cards": cards}})

    async def show(request: web.Request) -> web.Response:
        if request.query["id"] == "4900000000000001":
            headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            return web.Response(body=bomb, headers=headers)
        return web.Response(body=padded, content_type="application/json")

    runner, url = await _serve({"/api/container/getIndex": listing, "/statuses/show": show})
    try:
        verdicts = await _watch(tmp, url, 3.0, check_max_bytes=1_000_000)
    finally:
        await runner.cleanup()
    return [
        (
            "unbounded answers",
            f"a {len(bomb) // 1024} KB gzip bomb of 64 MB",
            verdicts.get("4900000000000001") == "live",
        ),
        ("unbounded answers", "a 64 MB answer", verdicts.get("4900000000000002") == "live"),
    ]


def attacks(tmp: Path) -> list[Row]:
    return asyncio.run(_redirects(tmp / "redirects")) + asyncio.run(_unbounded(tmp / "caps"))
