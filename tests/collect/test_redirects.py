"""A check never follows a redirect silently (issue 21, item 1): a 302 to another post's check
URL, or to another service on this machine, is logged with its Location and is never a
removal; hops are followed only where the adapter allows, each logged, never to an internal
address, and what a redirect leads to is never a removal.

Over real HTTP on loopback (aiohttp servers), through the collector's own transport."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from memoryhole.clock import SystemClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.redirects import is_internal, next_hop, same_origin
from memoryhole.collect.transport import AiohttpTransport
from memoryhole.evidence.verify import verify_study
from memoryhole.model import Capture, Request, Target
from memoryhole.platforms.weibo import WeiboPlatform
from memoryhole.schedule.policy import AgeProportional
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.store.schema import observations
from memoryhole.study import Study

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(routes: dict[str, Handler]) -> tuple[web.AppRunner, str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


def mblog(mid: str) -> dict[str, Any]:
    user = {"id": 7001, "screen_name": "某人"}
    return {"id": mid, "mid": mid, "created_at": "刚刚", "text": "正文", "user": user}


def test_a_redirect_to_another_posts_censored_answer_or_an_internal_service_is_never_followed(
    tmp_path: Path,
) -> None:
    internal_hits: list[str] = []

    async def internal(request: web.Request) -> web.Response:
        internal_hits.append(request.path)
        return web.json_response({"ok": 0, "errno": "20112", "msg": "permission denied"})

    async def scenario() -> Study:
        admin, admin_url = await serve({"/internal-admin": internal})
        base_holder: list[str] = []

        async def listing(request: web.Request) -> web.Response:
            mids = ("4900000000000009", "4900000000000008", "4900000000000007")
            cards = [{"card_type": 9, "mblog": mblog(mid)} for mid in mids]
            return web.json_response({"ok": 1, "data": {"cardlistInfo": {}, "cards": cards}})

        async def show(request: web.Request) -> web.Response:
            mid = request.query["id"]
            if mid == "4900000000000007":  # sent to post 8's answer, which is censored
                raise web.HTTPFound(f"{base_holder[0]}/statuses/show?id=4900000000000008")
            if mid == "4900000000000009":
                raise web.HTTPFound(f"{admin_url}/internal-admin")
            return web.json_response({"ok": 0, "errno": "20112", "msg": "permission denied"})

        platform, base = await serve({"/api/container/getIndex": listing, "/statuses/show": show})
        base_holder.append(base)
        study = Study.init(tmp_path / "study")
        study.set_base_url("weibo", base)
        add_targets(study.engine, [Target("weibo", "user", "7001")], 0.0)
        transport = AiohttpTransport(timeout=5)
        collector = Collector(
            study,
            {"weibo": WeiboPlatform(base)},
            transport,
            SystemClock(),
            budget_per_second=50.0,
            policy=AgeProportional(first_check_after=0.2, max_interval=0.5, horizon=3600.0),
        )
        try:
            await asyncio.wait_for(collector.run(wall_deadline=time.time() + 3.0), 20)
        finally:
            await transport.close()
            await platform.cleanup()
            await admin.cleanup()
        return study

    study = asyncio.run(scenario())
    verdicts = {row["post_id"]: row["verdict"] for row in iter_verdicts(study.engine)}
    assert verdicts["4900000000000008"] == "censored"  # its own answer
    assert verdicts["4900000000000007"] == "live", "a redirect is never another post's answer"
    assert verdicts["4900000000000009"] == "live"
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(
                observations.c.http_status,
                observations.c.status,
                observations.c.response_headers,
            )
            .where(observations.c.url.like("%id=4900000000000007%"))
            .where(observations.c.kind == "check")
        ).all()
    assert rows and all(row.http_status == 302 and row.status == "unreachable" for row in rows)
    assert any(name.lower() == "location" for name, _ in json.loads(rows[0].response_headers))
    assert internal_hits == []
    assert verify_study(study).failures == []


def capture(url: str, status: int, location: str | None = None) -> Capture:
    headers = (("Location", location),) if location is not None else ()
    return Capture(Request("GET", url), status, headers, b"", 1.0, 1.0)


@pytest.mark.parametrize(
    ("location", "policy", "base", "followed"),
    [
        ("/posts/2", "same_origin", None, "http://site.example/posts/2"),
        ("https://site.example/posts/1", "same_origin", None, "https://site.example/posts/1"),
        ("http://other.example/posts/1", "same_origin", None, None),
        ("http://other.example/posts/1", "public", None, "http://other.example/posts/1"),
        ("http://other.example/posts/1", "never", None, None),
        ("http://127.0.0.1:8302/internal-admin", "public", None, None),
        ("http://[::1]/x", "public", None, None),
        ("http://169.254.169.254/latest/meta-data", "public", None, None),
        ("http://10.0.0.5/", "public", None, None),
        ("http://localhost:8000/", "public", None, None),
        ("file:///etc/passwd", "public", None, None),
        ("javascript:alert(1)", "public", None, None),
        # a simulator on this machine may redirect within itself
        (
            "http://127.0.0.1:9000/posts/2",
            "same_origin",
            "http://127.0.0.1:9000",
            "http://127.0.0.1:9000/posts/2",
        ),
        ("http://127.0.0.1:9001/x", "same_origin", "http://127.0.0.1:9000", None),
        ("/posts/2", "same_origin", "http://127.0.0.1:9000", "http://127.0.0.1:9000/posts/2"),
    ],
)
def test_which_hops_are_followed(
    location: str, policy: str, base: str | None, followed: str | None
) -> None:
    origin = base or "http://site.example"
    hop, why = next_hop(capture(f"{origin}/posts/1", 302, location), policy, base)  # type: ignore[arg-type]
    assert (hop.url if hop else None) == followed, why
    assert followed is not None or why


def test_not_a_redirect_or_no_location_is_no_hop() -> None:
    assert next_hop(capture("http://a/x", 200), "public", None)[0] is None
    assert next_hop(capture("http://a/x", 304), "public", None)[0] is None
    hop, why = next_hop(capture("http://a/x", 302), "public", None)
    assert hop is None and "without a Location" in why


def test_origins_and_internal_addresses() -> None:
    assert same_origin("http://a.example/x", "https://a.example/y")  # an upgrade
    assert not same_origin("https://a.example/x", "http://a.example/y")  # a downgrade
    assert not same_origin("http://a.example:8080/x", "http://a.example/y")
    assert is_internal("127.0.0.1") and is_internal("fd00::1") and is_internal("192.168.1.1")
    assert not is_internal("weibo.com") and not is_internal("8.8.8.8")
