"""Screenshots of the dashboard for docs/dashboard.md: the overview of a study with a
collector downtime (the gap shaded), a censored post's page and the terms page, 1400×1000 in
Debian's Chromium. Run: ``.venv/bin/python scripts/screenshots.py [OUT_DIR]`` (docs/img)."""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.platforms import registry
from memoryhole.sim.generate import generate
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.store.schema import posts, verdicts
from memoryhole.study import Study
from memoryhole.web.app import ServeOptions, create_app, post_path

HOUR = 3600.0


def downtime_study(path: Path) -> Study:
    """A day of the demo's censor policy, watched for 6 hours, not for the next 7, then again."""
    scenario = generate(load_policy(DEFAULT_POLICY_PATH), seed=1, posts=1500)
    start = min(p.published_at for p in scenario)
    study = Study.init(path)
    replay(study, scenario, until=start + 6 * HOUR)
    with study.writer_lock():
        clock = VirtualClock(start + 13 * HOUR)
        transport = InProcessTransport(SimPlatform(list(scenario), clock, "weibo"))
        adapters = {"weibo": registry.get("weibo", REPLAY_BASE_URL)}
        collector = Collector(study, adapters, transport, clock, budget_per_second=50.0)
        asyncio.run(collector.run(until=start + 24 * HOUR))
    return study


def serve(study: Study) -> tuple[str, uvicorn.Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    app = create_app(study, ServeOptions(public=True, token="t" * 32, background=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def censored_post(study: Study) -> tuple[str, str]:
    with study.engine.connect() as connection:
        platform, post_id = connection.execute(
            select(posts.c.platform, posts.c.post_id)
            .join(verdicts, verdicts.c.post_pk == posts.c.id)
            .where(verdicts.c.status == "censored")
            .limit(1)
        ).one()
    return str(platform), str(post_id)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        study = downtime_study(Path(tmp) / "study")
        base, server = serve(study)
        pages = {
            "overview.png": "/",
            "post.png": post_path(*censored_post(study)),
            "terms.png": "/terms?min_posts=5",
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name, path in pages.items():
                tab.goto(base + path, wait_until="networkidle")
                tab.wait_for_timeout(1500)  # the charts draw after load
                if name == "overview.png":  # the removals chart, where the gap is shaded
                    heading = tab.locator("h2", has_text="Removals over time")
                    heading.evaluate("e => e.scrollIntoView({block: 'start'})")
                    tab.wait_for_timeout(500)
                tab.screenshot(path=str(out / name))
                print(f"{out / name}: {base}{path}")
            browser.close()
        server.should_exit = True
        study.close()


if __name__ == "__main__":
    main()
