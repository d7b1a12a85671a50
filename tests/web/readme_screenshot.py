"""Make the README's screenshot of the dashboard (docs/img/dashboard.png).

    .venv/bin/python -m tests.web.readme_screenshot [docs/img/dashboard.png]

A scenario from the shipped censor policy (real Chinese text, Citizen Lab keyword lists) is
replayed through the collector on a virtual clock for four days, then the overview is served on
127.0.0.1 and captured by Chromium (/usr/bin/chromium, see scripts/install-browser).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from memoryhole.sim.generate import generate
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy
from memoryhole.sim.replay import replay
from memoryhole.study import Study


def make_study(path: Path, seed: int = 3, posts: int = 3000) -> None:
    study = Study.init(path)
    scenario = generate(load_policy(DEFAULT_POLICY_PATH), seed, posts=posts)
    start = min(p.published_at for p in scenario)
    replay(study, scenario, until=start + 4 * 86400.0)
    study.close()


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.web.test_browser import _serve, wait_for_charts

    with tempfile.TemporaryDirectory() as folder:
        make_study(Path(folder) / "study")
        server = _serve(Path(folder) / "study", public=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium")
                page = browser.new_page(viewport={"width": 1280, "height": 1400})
                page.goto(server.base + "/", wait_until="load")
                wait_for_charts(page)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=False)
                browser.close()
        finally:
            server.server.should_exit = True
            server.thread.join(timeout=10)
            server.study.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img/dashboard.png"))
