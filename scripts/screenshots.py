"""Screenshots of the dashboard for docs/dashboard.md: the overview of a study with a
collector downtime (the gap shaded), a censored post's page (one whose removal interval spans
the downtime) and the terms page, 1400×1000 in Debian's Chromium.
Run: ``.venv/bin/python scripts/screenshots.py [OUT_DIR]`` (default docs/img)."""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from memoryhole.store.schema import posts, verdicts
from memoryhole.study import Study
from memoryhole.web.app import ServeOptions, create_app, post_path

sys.path.insert(0, str(Path(__file__).parents[1]))  # the study is the dashboard tests' own
from tests.web.downtime import downtime_study


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
            # the widest interval: one that spans the downtime, flagged on its page
            .order_by((verdicts.c.first_seen_removed_at - verdicts.c.last_seen_alive_at).desc())
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
