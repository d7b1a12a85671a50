"""Raw Weibo API responses (JSONL, the twarc convention) run through the Weibo adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from memoryhole.evidence.bundle import build_bundle
from memoryhole.evidence.verify import verify_bundle, verify_study
from memoryhole.imports.records import ImportFileError
from memoryhole.imports.writer import UNKNOWN_POST
from memoryhole.store.schema import observations, posts
from memoryhole.study import Study
from tests.imports.conftest import data, run, verdicts_by_post


def test_listings_and_checks_become_posts_leaves_and_verdicts(study: Study) -> None:
    summary = run(study, "jsonl", data("import_weibo_responses.jsonl"))
    assert (summary.counts.rows, summary.counts.new_posts) == (7, 3)
    assert summary.counts.skipped == {UNKNOWN_POST: 1}
    rows = verdicts_by_post(study)
    first = rows["4900000000000001"]
    # listed 14:09:59, shown with another text 14:20 (edited), 429 at 15:05, gone 15:30
    # errno 20101: "does not exist or no permission", the same rule as live checks
    assert first["verdict"] == "unknown" and first["edited"]
    assert first["first_seen_at"] == 1732342199.0  # the listing's sent_at
    assert (first["last_seen_alive_at"], first["first_seen_removed_at"]) == (
        1732342800.0,
        1732347000.0,
    )
    assert first["checks"] == 3 and "20101" in first["signal"]
    assert rows["4900000000000002"]["verdict"] == "censored"
    assert rows["4900000000000002"]["first_seen_removed_at"] == 1732345200.0
    third = rows["4900000000000003"]  # created from a visible check (a __twarc line)
    assert (third["verdict"], third["first_seen_at"]) == ("live", 1732345800.0)
    with study.engine.connect() as conn:
        unreachable = conn.execute(
            select(observations.c.http_status, observations.c.response_headers).where(
                observations.c.status == "unreachable"
            )
        ).one()
        text = conn.execute(
            select(posts.c.text).where(posts.c.post_id == "4900000000000002")
        ).scalar_one()
    assert unreachable[0] == 429 and json.loads(unreachable[1]) == [["Retry-After", "60"]]
    assert text == "第二条 \n换行"  # the adapter's visible text: <br /> is a line break
    assert verify_study(study).failures == []


def test_an_imported_post_has_an_evidence_bundle_that_verifies(
    study: Study, tmp_path: Path
) -> None:
    run(study, "jsonl", data("import_weibo_responses.jsonl"))
    out = tmp_path / "b.zip"
    manifest = build_bundle(study, "4900000000000001", out)
    kinds = [json.loads(o["leaf"])["kind"] for o in manifest["observations"]]
    assert kinds == ["import", "post", "import", "import", "import"]  # sighting, facts, events
    report = verify_bundle(out, study.verifier_key())
    assert report.failures == []


def test_reimporting_the_responses_adds_nothing(study: Study, tmp_path: Path) -> None:
    run(study, "jsonl", data("import_weibo_responses.jsonl"))
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(data("import_weibo_responses.jsonl").read_bytes() + b"\n\n")
    again = run(study, "jsonl", copy)
    assert (again.counts.new_posts, again.counts.leaves) == (0, 0)
    assert again.counts.duplicates == 6


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('{"ok": 1, "data": ', ":1: column 19: expected a JSON object, found invalid JSON"),
        ("[1, 2]", ":1: expected a JSON object (one API response), found list"),
        ('{"ok": 1}', ':1: expected the request\'s metadata under "__memoryhole"'),
        (
            '{"ok": 1, "__memoryhole": {"url": "https://m.weibo.cn/statuses/show?id=1",'
            ' "retrieved_at": "noon"}}',
            ':1: "__memoryhole.retrieved_at": expected epoch seconds or an ISO 8601 time',
        ),
        (
            '{"ok": 1, "__memoryhole": {"url": "https://example.org/x",'
            ' "retrieved_at": 1732342800}}',
            ':1: "__memoryhole.url": expected a statuses/show or api/container/getIndex URL',
        ),
    ],
)
def test_malformed_lines_name_line_and_key(
    study: Study, tmp_path: Path, line: str, where: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as caught:
        run(study, "jsonl", path)
    assert f"{path}{where}" in str(caught.value)
