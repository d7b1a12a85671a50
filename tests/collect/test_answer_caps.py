"""Unbounded answers (issue 21, item 5): every read has a size cap per request kind, counted
after decompression, and an answer over it is recorded as such (cut there, with the hash of
what was kept) and is never a removal. Over loopback HTTP, through the collector's transport."""

from __future__ import annotations

import asyncio
import gzip
import resource
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from memoryhole.clock import SystemClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.transport import AiohttpTransport
from memoryhole.config import update_config
from memoryhole.evidence.verify import verify_study
from memoryhole.model import Target
from memoryhole.platforms.weibo import WeiboPlatform
from memoryhole.schedule.policy import AgeProportional
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.store.schema import observations
from memoryhole.study import Study

CAP = 1_000_000
HUGE = 200_000_000  # 200 MB of a "removal" answer padded with spaces: never read whole


def mblog(mid: str) -> dict[str, Any]:
    user = {"id": 7001}
    return {"id": mid, "mid": mid, "created_at": "刚刚", "text": "正文", "user": user}


def gzip_bomb() -> bytes:
    """~260 KB that decompress to ~256 MB of a "permission denied" answer padded with spaces."""
    head = b'{"ok":0,"errno":"20112","msg":"permission denied"'
    raw = head + b" " * (256 * 1024 * 1024) + b"}"
    return gzip.compress(raw, compresslevel=9)


def test_a_huge_answer_and_a_gzip_bomb_are_cut_at_the_cap_and_never_a_removal(
    tmp_path: Path,
) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 400_000

    async def listing(request: web.Request) -> web.Response:
        cards = [
            {"card_type": 9, "mblog": mblog(m)} for m in ("4900000000000002", "4900000000000001")
        ]
        return web.json_response({"ok": 1, "data": {"cardlistInfo": {}, "cards": cards}})

    async def show(request: web.Request) -> web.StreamResponse:
        if request.query["id"] == "4900000000000001":  # a gzip bomb
            return web.Response(
                body=bomb,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = HUGE
        await response.prepare(request)
        await response.write(b'{"ok":0,"errno":"20112","msg":"permission denied"')
        chunk = b" " * (1 << 20)
        try:
            for _ in range(HUGE // len(chunk)):
                await response.write(chunk)
        except (ConnectionResetError, RuntimeError):
            pass  # the collector hung up at its cap, as it should
        return response

    async def scenario() -> Study:
        app = web.Application()
        app.router.add_get("/api/container/getIndex", listing)
        app.router.add_get("/statuses/show", show)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        study = Study.init(tmp_path / "study")
        update_config(study.config_path, ("collector",), "check_max_bytes", CAP)
        study = Study.open(study.path)
        study.set_base_url("weibo", base)
        add_targets(study.engine, [Target("weibo", "user", "7001")], 0.0)
        transport = AiohttpTransport(timeout=20)
        collector = Collector(
            study,
            {"weibo": WeiboPlatform(base)},
            transport,
            SystemClock(),
            budget_per_second=20.0,
            policy=AgeProportional(first_check_after=0.2, max_interval=1.0, horizon=3600.0),
        )
        try:
            await asyncio.wait_for(collector.run(wall_deadline=time.time() + 3.0), 60)
        finally:
            await transport.close()
            await runner.cleanup()
        return study

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    study = asyncio.run(scenario())
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 150_000, f"the process grew by {grown_kb / 1024:.0f} MB"
    assert {row["verdict"] for row in iter_verdicts(study.engine)} == {"live"}
    with study.engine.connect() as conn:
        rows = conn.execute(
            select(
                observations.c.status,
                observations.c.code,
                observations.c.body_size,
                observations.c.error,
                observations.c.http_status,
            ).where(observations.c.kind == "check")
        ).all()
    assert rows
    for status, code, size, error, http_status in rows:
        assert (status, code, http_status) == ("unreachable", "too_large", 200)
        assert size == CAP and "over the 1,000,000-byte cap" in error
    assert verify_study(study).failures == []


def test_the_caps_are_settings_with_what_they_mean() -> None:
    from memoryhole.config import CollectorSettings

    fields = CollectorSettings.model_fields
    assert fields["check_max_bytes"].default == 5_000_000
    assert fields["listing_max_bytes"].default == 20_000_000
    assert "never a removal" in str(fields["check_max_bytes"].description)
