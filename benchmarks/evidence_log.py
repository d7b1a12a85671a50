"""What the evidence log costs on the collector's write path: same rows, same run, with and without.

    .venv/bin/python benchmarks/evidence_log.py [--observations 60000] [--batch 2000]

"Without" commits observation rows, blobs, verdicts and schedule exactly as the collector does,
with no leaf hash. "With" also builds each row's canonical leaf record, hashes it, appends it to
the Merkle log and commits a signed checkpoint with every batch (the collector signs far less
often: every 5 minutes and at the end of a run), so this is an upper bound. Target: <= 1.5x.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from memoryhole.evidence.leaf import row_leaf_hash
from memoryhole.evidence.log import checkpoint_row, sign_checkpoint
from memoryhole.evidence.merkle import MerkleLog
from memoryhole.model import Target, content_hash
from memoryhole.store.queries import add_targets
from memoryhole.store.writer import Batch, commit_batch
from memoryhole.study import Study


def rows(count: int, posts: int) -> list[tuple[dict[str, Any], bytes]]:
    headers = json.dumps([["content-type", "application/json; charset=utf-8"]])
    result = []
    for i in range(count):
        post = i % posts
        body = json.dumps(
            {"ok": 1, "data": {"mid": str(post), "text": f"第{post}条微博，今天天气很好。" * 3}},
            ensure_ascii=False,
        ).encode()
        row = {
            "id": i + 1, "kind": "check", "post_pk": post + 1, "target_pk": None,
            "seq": i // posts + 1, "status": "live", "sent_at": 1.7e9 + i, "observed_at": 1.7e9 + i,
            "received_at": 1.7e9 + i, "elapsed": 0.01, "method": "GET",
            "url": f"http://sim/statuses/show?id={post}", "http_status": 200,
            "response_headers": headers, "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_size": len(body), "content_hash": content_hash(str(post)), "code": None,
            "detail": "visible", "error": None,
        }  # fmt: skip
        result.append((row, body))
    return result


def seed_posts(study: Study, posts: int) -> None:
    add_targets(study.engine, [Target("weibo", "all")], 0.0)
    batch = Batch()
    batch.authors.append({"id": 1, "platform": "weibo", "raw_id": "1", "pseudonym": "a_1"})
    for pk in range(1, posts + 1):
        batch.posts.append(
            {
                "id": pk,
                "platform": "weibo",
                "post_id": str(pk - 1),
                "author_pk": 1,
                "target_pk": 1,
                "published_at": 1.7e9,
                "first_seen_at": 1.7e9,
                "text": "x",
                "discovered_by": None,
            }
        )
    commit_batch(study.engine, study.blobs, batch)


def run(root: Path, data: list[tuple[dict[str, Any], bytes]], batch_size: int, posts: int,
        with_log: bool) -> float:  # fmt: skip
    study = Study.init(root)
    seed_posts(study, posts)
    log, key, origin = MerkleLog(), study.signing_key(), study.log_origin
    started = time.perf_counter()
    for start in range(0, len(data), batch_size):
        batch = Batch()
        for row, body in data[start : start + batch_size]:
            row = dict(row)
            if with_log:
                row["leaf_hash"] = row_leaf_hash(row, "weibo", str(row["post_pk"] - 1))
                log.append(row["leaf_hash"])
            batch.observations.append(row)
            batch.blobs[row["body_sha256"]] = body
        if with_log:
            batch.checkpoint = checkpoint_row(*sign_checkpoint(key, origin, log))
        commit_batch(study.engine, study.blobs, batch)
    elapsed = time.perf_counter() - started
    study.close()
    return len(data) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--observations", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=20_000)
    args = parser.parse_args()
    data = rows(args.observations, args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for round_ in range(2):  # alternate, twice, to even out a noisy machine
            for with_log in (False, True):
                rate = run(
                    Path(tmp) / f"{round_}-{with_log}", data, args.batch, args.posts, with_log
                )
                figures.setdefault(with_log, []).append(rate)
    bare, logged = max(figures[False]), max(figures[True])
    print(f"observations: {args.observations:,}, batch {args.batch:,}, best of 2 each")
    print(f"write path without the log: {bare:10,.0f} observations/s")
    print(f"write path with the log:    {logged:10,.0f} observations/s")
    print(f"cost of the log:            {bare / logged:10.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()
