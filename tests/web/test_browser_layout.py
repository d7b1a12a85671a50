"""The dashboard of a study with a collector downtime, in real Chromium (see test_browser.py):
every page loads without a console error, the post pages stay short (observations compressed
to their changes) and no two marks of a post's timeline overlap, measured on the drawn page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from memoryhole.store.schema import observations, posts, verdicts
from memoryhole.web.app import post_path
from tests.web.conftest import Watch
from tests.web.test_browser import Server, _serve, assert_clean, visit

pytest.importorskip("playwright.sync_api")

PAGES = ["/", "/removals", "/terms?min_posts=5", "/speed", "/accounts", "/platforms", "/rules",
         "/methods", "/removals?page=1&kind=censored"]  # fmt: skip


@pytest.fixture(scope="module")
def server(downtime_path: Path) -> Iterator[Server]:
    running = _serve(downtime_path, public=True)
    yield running
    running.server.should_exit = True
    running.thread.join(timeout=10)
    running.study.close()


@pytest.fixture(scope="module")
def busy(busy_path: Path) -> Iterator[Server]:
    running = _serve(busy_path, public=False)
    yield running
    running.server.should_exit = True
    running.thread.join(timeout=10)
    running.study.close()


def busiest(server: Server, status: str | None, count: int = 3) -> list[tuple[str, str, int]]:
    """The posts with the most observations (of a verdict, or any)."""
    query = (
        select(posts.c.platform, posts.c.post_id, func.count(observations.c.id))
        .join(verdicts, verdicts.c.post_pk == posts.c.id)
        .join(observations, observations.c.post_pk == posts.c.id)
        .group_by(posts.c.id)
        .order_by(func.count(observations.c.id).desc())
        .limit(count)
    )
    if status is not None:
        query = query.where(verdicts.c.status == status)
    with server.study.engine.connect() as connection:
        return [(str(p), str(i), int(n)) for p, i, n in connection.execute(query)]


def overlapping_marks(tab: Any) -> list[str]:
    """Pairs of timeline marks whose drawn boxes intersect (each mark's own box, shrunk by a
    tenth of a pixel so that touching is not overlapping)."""
    boxes = tab.eval_on_selector_all(
        "svg.timeline .mark",
        """marks => marks.map(m => {
             const r = m.getBoundingClientRect();
             return [r.left, r.top, r.right, r.bottom, m.textContent];
           })""",
    )
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a[0] + 0.1 < b[2] and b[0] + 0.1 < a[2] and a[1] + 0.1 < b[3] and b[1] + 0.1 < a[3]:
                found.append(f"{a[4]} / {b[4]}")
    return found


def test_every_page_of_a_study_with_a_downtime_loads_cleanly(
    server: Server, page: tuple[Any, Watch], tmp_path: Path
) -> None:
    tab, watch = page
    for number, path in enumerate(PAGES):
        visit(tab, watch, server.base + path, tmp_path / f"page-{number}.png")


def test_post_pages_are_short_and_their_timeline_marks_never_overlap(
    server: Server, busy: Server, page: tuple[Any, Watch], tmp_path: Path
) -> None:
    tab, watch = page
    tab.set_viewport_size({"width": 1400, "height": 1000})
    chosen = [(busy, post) for post in busiest(busy, None, 10)]
    chosen += [(server, post) for post in busiest(server, "censored") + busiest(server, None)]
    censored = busiest(busy, "censored", 1)[0]
    assert censored[2] >= 132, "a censored post with as many observations as issue 24's"
    assert {"censored", "edited", "live"} <= {status(where, p[1]) for where, p in chosen}
    for where, (platform, post_id, total) in chosen:
        url = where.base + post_path(platform, post_id)
        visit(tab, watch, url, tmp_path / f"post-{post_id}.png")
        marks = tab.locator("svg.timeline .mark").count()
        assert marks >= 2, url  # published, and at least the first check
        assert overlapping_marks(tab) == [], url
        height = tab.evaluate("document.documentElement.scrollHeight")
        assert height < 3000, f"{url}: {height} px for {total} observations"
        tab.click("#all-observations summary")  # every observation, one click away
        rows = tab.locator("#all-observations table tbody tr").count()
        assert rows == total, url
        assert_clean(tab, watch, url)


def status(server: Server, post_id: str) -> str:
    with server.study.engine.connect() as connection:
        return str(
            connection.execute(
                select(verdicts.c.status)
                .join(posts, posts.c.id == verdicts.c.post_pk)
                .where(posts.c.post_id == post_id)
            ).scalar_one()
        )


def test_the_published_mark_is_never_covered(busy: Server, page: tuple[Any, Watch]) -> None:
    """The point drawn on top of the published dot's centre is the published dot itself, and
    an edit has a mark of its own."""
    tab, watch = page
    for platform, post_id, _ in busiest(busy, None, 10):
        tab.goto(busy.base + post_path(platform, post_id), wait_until="load")
        if status(busy, post_id) == "edited":
            assert tab.locator("svg.timeline .mark.edit").count() >= 1, post_id
        dot = tab.locator("svg.timeline .mark.s-published")
        box = dot.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        on_top = tab.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).getAttribute('class')", [x, y]
        )
        assert "s-published" in on_top, on_top
    assert_clean(tab, watch, "published marks")
