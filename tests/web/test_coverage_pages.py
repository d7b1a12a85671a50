"""Issue 24 on the dashboard: a study with a collector downtime shows the gap and flags the
removals whose interval spans it wherever the interval is shown; post pages open with the line
a reader wants and compress their observations; every page says which clock its times are on;
the counts of the overview, the removals and the platforms agree."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from memoryhole.analysis.overview import REMOVAL_KINDS
from memoryhole.store.schema import posts, verdicts
from memoryhole.study import Study
from memoryhole.web.app import ServeOptions, create_app, post_path


@pytest.fixture(scope="module")
def downtime(downtime_path: Path) -> Iterator[tuple[Study, TestClient]]:
    study = Study.open(downtime_path)
    options = ServeOptions(public=True, token="t" * 32, background=False, check_host=False)
    app = create_app(study, options)
    with TestClient(app) as client:
        yield study, client
    study.close()


def spanning(study: Study) -> set[str]:
    """Post ids whose removal interval spans a gap, by the store's own gap index."""
    index = study.gap_index()
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.platform, posts.c.post_id, posts.c.target_pk,
                   verdicts.c.last_seen_alive_at, verdicts.c.first_seen_removed_at)
            .join(verdicts, verdicts.c.post_pk == posts.c.id)
            .where(verdicts.c.status.in_(REMOVAL_KINDS))
        ).all()  # fmt: skip
    return {r.post_id for r in rows if index.spans(r.platform, r.target_pk, r[3], r[4])}


def test_the_removals_spanning_the_downtime_are_flagged_in_the_list_and_the_download(
    downtime: tuple[Study, TestClient],
) -> None:
    study, client = downtime
    flagged = spanning(study)
    assert study.coverage_gaps() and flagged, "the downtime is a gap and removals span it"
    rows = list(csv.DictReader(io.StringIO(client.get("/removals?format=csv").text)))
    assert {r["post_id"] for r in rows if r["interval_spans_gap"] == "true"} == flagged
    assert len(rows) > len(flagged)  # the others are not flagged
    pages, shown = 1, set()
    while True:
        html = client.get(f"/removals?page={pages}").text
        for item in re.findall(r'<li class="item">(.*?)</li>', html, re.S):
            post_id = re.search(r">post ([^ ]+) — full record<", item)
            assert post_id is not None
            if "spans a coverage gap" in item:
                shown.add(post_id.group(1))
        if 'rel="next"' not in html:
            break
        pages += 1
    assert shown == flagged


def test_a_post_spanning_the_gap_says_so_and_its_timeline_shades_the_gap(
    downtime: tuple[Study, TestClient],
) -> None:
    study, client = downtime
    post_id = sorted(spanning(study))[0]
    html = client.get(post_path("weibo", post_id)).text
    assert 'id="spans-gap"' in html and "left out of the time-to-removal figures" in html
    assert re.search(r'<rect x="[\d.]+" y="0" width="[\d.]+" height="\d+" class="gap">', html)
    with study.engine.connect() as connection:
        unflagged = connection.execute(
            select(posts.c.post_id)
            .join(verdicts, verdicts.c.post_pk == posts.c.id)
            .where(verdicts.c.status == "censored", posts.c.post_id.not_in(spanning(study)))
            .limit(1)
        ).scalar_one()
    assert 'id="spans-gap"' not in client.get(post_path("weibo", unflagged)).text


def test_the_overview_removals_and_platforms_count_the_same_removals(
    downtime: tuple[Study, TestClient],
) -> None:
    _, client = downtime
    verdicts_rows = client.get("/?format=json&table=verdicts").json()
    by_verdict = {r["verdict"]: r["posts"] for r in verdicts_rows}
    platforms = client.get("/platforms?format=json").json()
    removals = client.get("/removals?format=json").json()
    for kind in REMOVAL_KINDS:
        listed = sum(1 for r in removals if r["kind"] == kind)
        assert by_verdict[kind] == listed == sum(p[kind] for p in platforms), kind
    speed = {r["group"]: r for r in client.get("/?format=json&table=speed").json()}
    overview = client.get("/").text
    for kind, row in speed.items():
        assert row["events"] <= by_verdict[kind]  # timed: the gap-spanning ones left out
        cells = re.search(
            rf'k-{kind}">[^<]+</span></td><td class="num">([\d,]+)</td><td class="num">([\d,]+)',
            overview,
        )
        assert cells is not None, kind
        assert int(cells.group(1).replace(",", "")) == by_verdict[kind]
        assert int(cells.group(2).replace(",", "")) == row["events"]


@pytest.mark.parametrize(
    "path", ["/", "/removals", "/terms?min_posts=5", "/speed", "/accounts", "/platforms",
             "/rules", "/methods"]
)  # fmt: skip
def test_every_page_says_its_times_are_the_platforms_clock(
    downtime: tuple[Study, TestClient], path: str
) -> None:
    html = downtime[1].get(path).text
    assert 'id="clock-note"' in html and "UTC, platform clock" in html
    assert "visible" not in re.sub(r"<[^>]+>", "", html).replace("never visible", "")


def test_the_methods_page_is_the_studys_own(downtime: tuple[Study, TestClient]) -> None:
    from memoryhole.analysis.methods import methods_text

    study, client = downtime
    html = client.get("/methods").text
    assert 'href="/methods"' in client.get("/").text
    section = html.split('<section class="methods" id="methods">', 1)[1].split("</section>")[0]
    said = re.findall(r"<p>(.*?)</p>", section, re.S)
    expected = methods_text(study, min_posts=20, bootstrap=100)
    assert len(said) == len(expected) and said[0].startswith("What was watched")
    assert "coverage gap" in section.lower() or "not watching" in section.lower()
