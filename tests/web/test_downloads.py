"""Every list and table of the dashboard downloads as CSV and JSON with the page's filters
applied (every matching row, not one page); a post's page compresses its observations to the
changes and marks the term it was reached by."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from urllib.parse import unquote_plus

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from memoryhole.store.schema import observations, posts, verdicts
from memoryhole.study import Study
from memoryhole.web.app import ServeOptions, create_app, post_path
from memoryhole.web.post_timeline import changes


@pytest.fixture
def client(study: Study) -> Iterator[TestClient]:
    options = ServeOptions(public=False, token="t" * 32, background=False, check_host=False)
    with TestClient(create_app(study, options)) as c:
        yield c


def both(client: TestClient, url: str) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    """The CSV and the JSON of ``url``, which must hold the same rows."""
    sep = "&" if "?" in url else "?"
    as_csv = client.get(f"{url}{sep}format=csv")
    as_json = client.get(f"{url}{sep}format=json")
    assert as_csv.status_code == as_json.status_code == 200, url
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    data = as_json.json()
    assert len(rows) == len(data), url
    return rows, data


def matches(html: str) -> int:
    found = re.search(r"<p>([\d,]+) (?:removal|term)s? match|<p>([\d,]+) terms?\.</p>", html)
    assert found is not None
    return int((found.group(1) or found.group(2)).replace(",", ""))


def test_the_removals_download_is_every_match_of_the_filters(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("memoryhole.web.routes.removals.PER_PAGE", 10)
    for url in ("/removals", "/removals?kind=censored", "/removals?term=script&kind=censored"):
        rows, data = both(client, url)
        assert len(rows) == matches(client.get(url).text) > 0, url
        if "kind=" in url:
            assert {r["kind"] for r in rows} == {"censored"}
        if "term=" in url:
            assert all("script" in str(r["text"]).casefold() for r in data)
    rows, _ = both(client, "/removals")
    shown = client.get("/removals").text.count('<li class="item">')
    assert shown == 10 < len(rows), "every page, not the one shown"
    assert rows[0]["first_seen_removed_at_iso"].endswith("Z")
    assert all(not r["text"].startswith(("=", "+", "-", "@")) for r in rows)  # no formulas


def test_every_other_table_downloads_with_its_filters(client: TestClient, study: Study) -> None:
    rows, _ = both(client, "/terms?min_posts=2")
    assert len(rows) == matches(client.get("/terms?min_posts=2").text)
    few, _ = both(client, "/terms?min_posts=2&q=六")
    assert 0 < len(few) < len(rows) and all("六" in r["term"] for r in few)
    fisher, data = both(client, "/terms?min_posts=2&test=fisher&exclude=unknown")
    assert len(fisher) == len(data) > 0
    accounts, _ = both(client, "/accounts")
    suspended, _ = both(client, "/accounts?suspended=1")
    assert 0 < len(suspended) < len(accounts)
    assert all(r["suspended"] == "true" for r in suspended)
    platforms, _ = both(client, "/platforms")
    with study.engine.connect() as connection:
        shown = connection.execute(select(func.count()).select_from(verdicts)).scalar_one()
    assert sum(int(r["posts"]) for r in platforms) <= shown
    for url in ("/speed", "/speed?table=all", "/?table=verdicts", "/?table=speed",
                "/?table=targets", "/rules"):  # fmt: skip
        both(client, url)
    removed, _ = both(client, "/speed")
    assert all(
        float(r["median_minutes"]) == pytest.approx(float(r["median"]) / 60, abs=1e-3)
        for r in removed
        if r["median"]
    )


def test_a_format_that_is_not_a_download_is_refused_with_what_to_give(client: TestClient) -> None:
    for url in ("/removals?format=xml", "/terms?format=xlsx", "/?format=pdf"):
        answer = client.get(url)
        assert answer.status_code == 400 and "format=csv or format=json" in answer.text, url


def _busiest_censored(study: Study) -> tuple[str, str, int]:
    with study.engine.connect() as connection:
        row = connection.execute(
            select(posts.c.platform, posts.c.post_id, func.count(observations.c.id))
            .join(verdicts, verdicts.c.post_pk == posts.c.id)
            .join(observations, observations.c.post_pk == posts.c.id)
            .where(verdicts.c.status == "censored")
            .group_by(posts.c.id)
            .order_by(func.count(observations.c.id).desc())
            .limit(1)
        ).one()
    return str(row[0]), str(row[1]), int(row[2])


def test_a_post_page_lists_its_changes_with_every_observation_one_click_away(
    client: TestClient, study: Study
) -> None:
    platform, post_id, total = _busiest_censored(study)
    html = client.get(post_path(platform, post_id)).text
    changes = html.split('<table class="observations changes">', 1)[1].split("</table>", 1)[0]
    counted = re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td></tr>', changes)
    repeats = [int(n) for n, _ in counted]
    no_answers = [int(n) for _, n in counted]
    assert 0 < len(repeats) < total
    assert len(repeats) + sum(repeats) + sum(no_answers) == total, (
        "every observation is a change, a repeat or an answer that said nothing"
    )
    assert re.search(r"live → censored", changes)
    every = html.split('<details id="all-observations">', 1)[1].split("</details>", 1)[0]
    assert every.count("<tr class=") == total
    assert f"{total} observations" in html  # the header counts what the evidence counts
    observed, _ = both(client, post_path(platform, post_id))
    assert len(observed) == total
    changed, _ = both(client, post_path(platform, post_id) + "?table=changes")
    assert len(changed) == len(repeats)
    link = re.search(r'<a href="([^"]+)" rel="nofollow noreferrer" id="original">', html)
    assert link is not None and post_id in unquote_plus(link.group(1))


def test_a_term_marks_the_text_where_it_matches(client: TestClient) -> None:
    listed = client.get("/removals?term=c2:六四").text
    item = re.search(r'<p class="text" lang="zh">(.*?)</p>', listed, re.S)
    assert item is not None and "<mark>六四</mark>" in item.group(1)
    link = re.search(r'<a href="(/post/[^"]+\?term=c2%3A%E5%85%AD%E5%9B%9B)">', listed)
    assert link is not None, "the list's posts are reached with the term"
    page = client.get(link.group(1).replace("&amp;", "&")).text
    text = page.split('<blockquote class="text" lang="zh">', 1)[1].split("</blockquote>")[0]
    assert "<mark>六四</mark>" in text
    terms = client.get("/terms?min_posts=2").text
    assert re.search(r'<a href="/removals\?term=[^"]+&amp;kind=censored"', terms)
    assert json.dumps("<mark>") not in page


def test_an_answer_that_says_nothing_is_never_a_change_of_the_post() -> None:
    """live, 502, live, live, censored: two changes; the 502 is counted, not listed."""

    def seen(i: int, status: str, code: str | None = None) -> dict[str, object]:
        text = "h" if status == "live" else None
        return {"kind": "check", "status": status, "content_hash": text, "code": code, "id": i}

    answers = [seen(1, "live"), seen(2, "unreachable", "502"), seen(3, "live"),
               seen(4, "live"), seen(5, "censored", "20112")]  # fmt: skip
    found = changes(answers)
    assert [(c.what, c.repeats, c.no_answers) for c in found] == [
        ("first check", 2, 1),
        ("live → censored", 0, 0),
    ]
    first_unreachable = changes([seen(1, "unreachable", "timeout"), seen(2, "live")])
    assert [c.what for c in first_unreachable] == ["first check", "unreachable → live"]
