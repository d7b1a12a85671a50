"""``verify`` on a whole study: any edit to the evidence is found and named; takedowns are not."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest

from memoryhole.collect.redactions import take_down
from memoryhole.evidence.bundle import build_bundle
from memoryhole.evidence.verify import verify_bundle, verify_study
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study

#: Observation columns that make up its evidence record (all but id, which is tested apart).
RECORD_COLUMNS = [
    "kind", "seq", "status", "sent_at", "observed_at", "received_at", "elapsed", "method",
    "url", "http_status", "response_headers", "body_sha256", "body_size", "content_hash",
    "code", "detail",
]  # fmt: skip


def sql(study_path: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(study_path / "store.sqlite") as connection:
        connection.execute(statement, params)


def failures(study_path: Path) -> list[str]:
    study = Study.open(study_path)
    report = verify_study(study)
    study.close()
    return report.failures


def test_an_untouched_study_verifies(study_path: Path) -> None:
    assert failures(study_path) == []


@pytest.mark.parametrize("column", RECORD_COLUMNS)
def test_editing_any_observation_field_is_named(study_path: Path, column: str) -> None:
    rng = random.Random(column)
    observation = rng.randint(1, 500)
    with sqlite3.connect(study_path / "store.sqlite") as connection:
        (value,) = connection.execute(
            f"SELECT {column} FROM observations WHERE id = ?", (observation,)
        ).fetchone()
    if isinstance(value, float):
        changed: object = value + 1.0
    elif isinstance(value, int):
        changed = value + 1000  # past every real seq: unique per post
    elif value is None:
        changed = "x"
    else:
        changed = value[:-1] + ("0" if value[-1:] != "0" else "1")
    sql(study_path, f"UPDATE observations SET {column} = ? WHERE id = ?", changed, observation)
    found = failures(study_path)
    assert any(f.startswith(f"observation {observation}:") for f in found), found


def test_a_deleted_observation_is_found(study_path: Path) -> None:
    sql(study_path, "DELETE FROM observations WHERE id = 200")
    assert any("ids must run" in f for f in failures(study_path))


def test_a_flipped_blob_byte_is_named(study_path: Path) -> None:
    blob = next(p for p in (study_path / "blobs").rglob("*") if p.is_file())
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    assert any(blob.name in f and "altered" in f for f in failures(study_path))


def test_a_missing_blob_is_named(study_path: Path) -> None:
    blob = next(p for p in (study_path / "blobs").rglob("*") if p.is_file())
    blob.unlink()
    assert any(blob.name in f and "missing" in f for f in failures(study_path))


def test_an_edited_checkpoint_is_named(study_path: Path) -> None:
    with sqlite3.connect(study_path / "store.sqlite") as connection:
        (note,) = connection.execute("SELECT note FROM checkpoints ORDER BY id LIMIT 1").fetchone()
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) - 1)
    sql(study_path, "UPDATE checkpoints SET note = ? WHERE id = 1", "\n".join(lines))
    assert any(f.startswith("checkpoint 1") for f in failures(study_path))


def test_an_edited_verdict_is_named(study_path: Path) -> None:
    study = Study.open(study_path)
    removed = next(v for v in iter_verdicts(study.engine) if v["verdict"] == "censored")
    study.close()
    sql(
        study_path,
        "UPDATE verdicts SET first_seen_removed_at = first_seen_removed_at - 300 "
        "WHERE post_pk = (SELECT id FROM posts WHERE post_id = ?)",
        removed["post_id"],
    )
    assert any(f.startswith(f"post {removed['post_id']}:") for f in failures(study_path))


def test_a_verdict_turned_into_censorship_is_named(study_path: Path) -> None:
    study = Study.open(study_path)
    live = next(v for v in iter_verdicts(study.engine) if v["verdict"] == "live")
    study.close()
    sql(
        study_path,
        "UPDATE verdicts SET status = 'censored', first_seen_removed_at = last_seen_alive_at + 1 "
        "WHERE post_pk = (SELECT id FROM posts WHERE post_id = ?)",
        live["post_id"],
    )
    assert any(f.startswith(f"post {live['post_id']}:") for f in failures(study_path))


def test_takedown_removes_content_and_the_log_still_verifies(
    study_path: Path, tmp_path: Path
) -> None:
    study = Study.open(study_path)
    rows = list(iter_verdicts(study.engine, raw_author_ids=True))
    victim = next(r for r in rows if r["verdict"] == "censored")
    author = str(victim["author_id"])
    result, logged = asyncio.run(take_down(study, author, platform="weibo", reason="test"))
    assert logged == result.blobs_removed > 0
    assert result.posts == sum(r["author_id"] == author for r in rows)
    assert result.blobs_removed > 0
    remaining = list(iter_verdicts(study.engine, raw_author_ids=True))
    assert all(r["author_id"] != author for r in remaining)
    assert len(remaining) == len(rows) - result.posts
    report = verify_study(study)
    assert report.success, report.failures
    out = tmp_path / "redacted.zip"
    manifest = build_bundle(study, str(victim["post_id"]), out)
    post = manifest["post"]
    assert isinstance(post, dict) and post["text"] is None
    observations = manifest["observations"]
    assert isinstance(observations, list)
    assert all(o["response"] is None and o["withheld"] for o in observations)
    assert verify_bundle(out).success
    study.close()
