"""Every page in real Chromium (Playwright + Debian's /usr/bin/chromium): no payload executes.

The XSS-payload study is served by uvicorn on 127.0.0.1; each payload calls
``window.__xss(N)``, which an init script defines to record the call. Every page is loaded,
its charts drawn and its HTMX fragments swapped in, the mouse moved over it and the focus moved
through it; then the test asserts no payload ran, no dialog opened, no script failed and no
Content-Security-Policy violation happened (the charts' CSP-safe expression interpreter means
Vega needs no ``unsafe-eval``). A screenshot of each page goes to pytest's tmp folder.
Install the browser with ``scripts/install-browser`` (``scripts/test`` does).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from memoryhole.study import Study
from memoryhole.web.app import ServeOptions, create_app, post_path
from tests.web.conftest import PAYLOAD_POST_IDS, Watch, XssStudy, payloads, scenario

playwright_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    study: Study
    server: Any
    thread: threading.Thread


def _serve(path: Path, public: bool) -> Server:
    import uvicorn

    study = Study.open(path)
    port = _free_port()
    app = create_app(study, ServeOptions(public=public, token="t", background=False))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return Server(f"http://127.0.0.1:{port}", study, server, thread)


@pytest.fixture(scope="module")
def servers(xss_study: XssStudy) -> Iterator[dict[str, Server]]:
    running = {"local": _serve(xss_study.path, False), "public": _serve(xss_study.path, True)}
    yield running
    for server in running.values():
        server.server.should_exit = True
        server.thread.join(timeout=10)
        server.study.close()


def exercise(tab: Any) -> None:
    """Give any event handler a payload may have smuggled in a chance to fire: sweep the
    mouse across the page (a mouse event at every step) and move the focus."""
    tab.mouse.move(0, 0)
    tab.mouse.move(1280, 900, steps=12)
    tab.mouse.move(0, 900, steps=12)
    tab.mouse.move(1280, 0, steps=12)
    for _ in range(4):
        tab.keyboard.press("Tab")


def wait_for_charts(tab: Any) -> None:
    count = tab.locator("figure.chart").count()
    for index in range(count):
        tab.locator("figure.chart").nth(index).locator("svg.marks").wait_for(timeout=15_000)


def assert_clean(tab: Any, watch: Watch, where: str) -> None:
    hits = tab.evaluate("window.__xss_hits")
    csp = tab.evaluate("window.__csp")
    assert hits == [], f"{where}: payloads executed: {hits}"
    assert watch.dialogs == [], f"{where}: dialogs opened: {watch.dialogs}"
    assert csp == [], f"{where}: Content-Security-Policy violations: {csp}"
    assert watch.errors == [], f"{where}: script errors: {watch.errors}"


def visit(tab: Any, watch: Watch, url: str, shot: Path | None) -> None:
    response = tab.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    wait_for_charts(tab)
    exercise(tab)
    if shot is not None:
        tab.screenshot(path=str(shot), full_page=True)
    assert_clean(tab, watch, url)


PAGES = {
    "overview": "/",
    "removals": "/removals",
    "removals-filtered": "/removals?kind=censored&term=script",
    "terms": "/terms?min_posts=2",
    "terms-author-deleted": "/terms?kind=author_deleted&min_posts=2&sort=posts&order=desc",
    "speed": "/speed",
    "accounts": "/accounts",
    "platforms": "/platforms",
    "rules": "/rules",
    "methods": "/methods",
}


def test_no_payload_executes_on_any_page(
    servers: dict[str, Server],
    page: tuple[Any, Watch],
    xss_study: XssStudy,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tab, watch = page
    shots = tmp_path_factory.mktemp("screenshots")
    base = servers["local"].base
    for name, path in PAGES.items():
        visit(tab, watch, base + path, shots / f"{name}.png")
    # HTMX: live filtering swaps the feed in place; the term search does the same.
    tab.goto(base + "/removals", wait_until="networkidle")
    tab.fill("#term", "window")
    tab.wait_for_timeout(900)
    tab.wait_for_load_state("networkidle")
    assert "term=window" in tab.url
    exercise(tab)
    assert_clean(tab, watch, "removals, filtered live")
    tab.goto(base + "/terms?min_posts=1", wait_until="networkidle")
    tab.fill("#q", "六")
    tab.wait_for_timeout(800)
    tab.wait_for_load_state("networkidle")
    assert_clean(tab, watch, "terms, searched live")
    # Every post page: the payload texts, the payload ids, snapshots, diffs, evidence.
    # The feed pages showed every removed post's text; post pages show the visible ones'.
    for number in (1, 2):
        visit(tab, watch, f"{base}/removals?page={number}", None)
    texts = set(payloads())
    visible = [p for p in scenario() if p.removal is None and p.text in texts]
    removed = [p for p in scenario() if p.removal is not None][:3]
    posts = [post_path("weibo", p.post_id) for p in removed + visible]
    posts += [post_path("weibo", post_id) for post_id in PAYLOAD_POST_IDS]
    for number, path in enumerate(posts):
        response = tab.goto(base + path, wait_until="domcontentloaded")
        assert response is not None and response.status == 200, path
        tab.locator("#verify .verification").wait_for(timeout=15_000)  # swapped in by HTMX
        assert "Verified" in tab.inner_text("#verify")
        exercise(tab)
        if number < 3:
            tab.screenshot(path=str(shots / f"post-{number:02d}.png"), full_page=True)
        assert_clean(tab, watch, path)
    tab.click("text=Build and verify the bundle")
    tab.locator("#bundle-check .verification").wait_for(timeout=30_000)
    assert "The bundle verifies" in tab.inner_text("#bundle-check")
    assert_clean(tab, watch, "bundle check")
    print(f"\nscreenshots: {shots}")


def test_public_mode_in_the_browser(
    servers: dict[str, Server], page: tuple[Any, Watch], tmp_path_factory: pytest.TempPathFactory
) -> None:
    tab, watch = page
    shots = tmp_path_factory.mktemp("screenshots-public")
    base = servers["public"].base
    visit(tab, watch, base + "/", shots / "overview.png")
    visit(tab, watch, base + "/removals", shots / "removals.png")
    link = tab.locator("a", has_text="full record").first.get_attribute("href")
    assert link is not None
    visit(tab, watch, base + link, shots / "post.png")
    tab.locator("#verify .verification").wait_for(timeout=15_000)
    assert "Download the evidence bundle" not in tab.content()
    assert not re.search(r"/raw/\d+", tab.content())


def test_report_renders_offline_under_its_own_policy(
    page: tuple[Any, Watch], xss_study: XssStudy, tmp_path: Path
) -> None:
    from memoryhole.report.html import build_report

    study = Study.open(xss_study.path)
    out = tmp_path / "report.html"
    build_report(study, out, min_posts=2, bootstrap=10)
    study.close()
    tab, watch = page
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.goto(out.as_uri(), wait_until="load")
    wait_for_charts(tab)
    exercise(tab)
    tab.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert_clean(tab, watch, "report")
    assert [r for r in requests if not r.startswith(("file:", "data:", "blob:"))] == []
