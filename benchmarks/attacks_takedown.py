"""Attacks on takedown and the public dashboard (issue 21, items 3, 6, 8 and 10).

A taken-down author's raw id, pseudonym and texts searched for, byte by byte, in every blob,
every export format (verdicts JSONL and CSV, CSV, Parquet, Datasette, WARC) and the report, on
a Weibo study and an RSS study, and after a takedown while a collector runs; a forged takedown
record; state changes and raw responses asked of a public dashboard.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from memoryhole.clock import AcceleratedClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.redactions import take_down
from memoryhole.evidence.verify import verify_study
from memoryhole.platforms import registry
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.generate import generate
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.store.schema import authors, observations, redactions
from memoryhole.study import Study
from memoryhole.web.app import ServeOptions, create_app

Row = tuple[str, str, bool]


def attacks(tmp: Path) -> list[Row]:
    rows: list[Row] = []
    posts = generate(load_policy(DEFAULT_POLICY_PATH), seed=4)[:300]
    start = min(p.published_at for p in posts)
    for platform in ("weibo", "rss"):
        study = Study.init(tmp / platform)
        replay(study, posts, until=start + 6 * 3600.0, platform=platform)
        raw_id = _busiest_author(study)
        texts = _texts(posts, raw_id, platform)
        asyncio.run(take_down(study, raw_id, platform=platform, reason="attack"))
        found = _leaks(study, tmp / f"{platform}-out", raw_id, texts, platform)
        rows.append(("takedown", f"{platform}: the author's bytes anywhere", not found))
        rows.append(("takedown", f"{platform}: verify after takedown", verify_study(study).success))

    study = Study.init(tmp / "running")
    replay(study, posts, until=start + 3600.0)
    raw_id = _busiest_author(study)
    clock = AcceleratedClock(start + 3600.0, time.time(), 600.0)
    collector = Collector(
        study,
        {"weibo": registry.get("weibo", REPLAY_BASE_URL)},
        InProcessTransport(SimPlatform(posts, clock, "weibo")),
        clock,
        budget_per_second=20.0,
        flush_interval=0.05,
    )

    async def during() -> None:
        with study.writer_lock():
            running = asyncio.create_task(collector.run(wall_deadline=time.time() + 5.0))
            await asyncio.sleep(1.5)
            await take_down(study, raw_id, platform="weibo", reason="attack")
            await running

    asyncio.run(during())
    found = _leaks(study, tmp / "running-out", raw_id, _texts(posts, raw_id, "weibo"), "weibo")
    rows.append(("takedown", "during a running collection: bytes anywhere", not found))
    rows.append(("takedown", "during a running collection: verify", verify_study(study).success))

    with study.engine.begin() as connection:
        sha = connection.execute(
            select(observations.c.body_sha256).where(observations.c.status == "censored")
        ).scalar()
        connection.execute(
            redactions.insert().values(
                body_sha256=sha, author_pseudonym="a_x", reason="forged", redacted_at=0.0
            )
        )
    study.blobs.delete(str(sha))
    rows.append(("takedown", "a forged takedown record", not verify_study(study).success))

    options = ServeOptions(public=True, token="t", background=False, check_host=False)
    with TestClient(create_app(study, options)) as client:
        headers = {"authorization": "Bearer t", "content-type": "application/json"}
        watch = client.post("/api/watch", content='{"targets": ["weibo:user/1"]}', headers=headers)
        rows.append(
            ("dashboard", "public mode: POST /api/watch with the token", watch.status_code == 403)
        )
        raw = client.get("/raw/99999999999999999999")
        rows.append(
            ("dashboard", "public mode: /raw/99999999999999999999", raw.status_code in (403, 404))
        )
    with TestClient(create_app(study, ServeOptions(background=False, check_host=False))) as client:
        raw = client.get("/raw/99999999999999999999")
        rows.append(("dashboard", "/raw/99999999999999999999", raw.status_code == 404))
    return rows


def _busiest_author(study: Study) -> str:
    from sqlalchemy import func

    from memoryhole.store.schema import posts

    with study.engine.connect() as connection:
        return str(
            connection.execute(
                select(authors.c.raw_id)
                .join(posts, posts.c.author_pk == authors.c.id)
                .group_by(authors.c.raw_id)
                .order_by(func.count().desc())
            ).scalar()
        )


def _texts(posts: list[ScenarioPost], raw_id: str, platform: str) -> list[str]:
    """The author's texts whose start nobody else's text holds (the corpus repeats some)."""
    mine = [p for p in posts if p.author_id == raw_id or p.author_id in raw_id]
    others = "\n".join(p.text for p in posts if p not in mine)
    return [p.text for p in mine if p.text[:12] not in others]


def _leaks(study: Study, out: Path, raw_id: str, texts: list[str], platform: str) -> list[str]:
    out.mkdir(parents=True)
    needles = [raw_id.encode(), study.pseudonym(platform, raw_id).encode()]
    needles += [t[:12].encode() for t in texts if len(t) >= 12]
    found = []
    for name, data in _every_byte(study, out).items():
        found += [f"{name}: {n.decode()!r}" for n in needles if n in data]
    return found


def _every_byte(study: Study, out: Path) -> dict[str, bytes]:
    blobs = {p.name: p.read_bytes() for p in (study.path / "blobs").rglob("*") if p.is_file()}

    def cli(*args: str) -> bytes:
        command = [sys.executable, "-m", "memoryhole", *args, "--study", str(study.path)]
        return subprocess.run(command, capture_output=True, check=True).stdout

    found = dict(blobs)
    found["verdicts"] = cli("export", "verdicts")
    found["verdicts.csv"] = cli("export", "verdicts", "--format", "csv")
    for kind in ("csv", "parquet"):
        cli("export", kind, str(out / kind))
        found.update(
            {f"{kind}/{p.name}": p.read_bytes() for p in (out / kind).rglob("*") if p.is_file()}
        )
    cli("export", "datasette", str(out / "d.db"))
    with sqlite3.connect(out / "d.db") as connection:
        found["datasette"] = json.dumps(list(connection.iterdump()), ensure_ascii=False).encode()
    cli("export", "warc", "--out", str(out / "w.warc.gz"))
    found["warc"] = gzip.decompress((out / "w.warc.gz").read_bytes())
    cli("report", "--out", str(out / "r.html"))
    found["report"] = (out / "r.html").read_bytes()
    return found
