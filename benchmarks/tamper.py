"""Tamper detection at scale: flip single bytes in a bundle and a checkpoint, edit store rows.

    .venv/bin/python benchmarks/tamper.py [--flips 10000] [--rows 300] [--seed 1]

Prints how many of the generated cases verification caught (every one must be) and how long
verifying took. The suite runs a few thousand of the same cases; this is the large run.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from memoryhole.errors import EvidenceError
from memoryhole.evidence.bundle import build_bundle
from memoryhole.evidence.checkpoint import verify_note
from memoryhole.evidence.verify import verify_bundle_bytes, verify_study
from memoryhole.sim.generate import generate
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy
from memoryhole.sim.replay import replay
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study

COLUMNS = ["status", "sent_at", "observed_at", "http_status", "body_sha256", "detail", "url"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flips", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        study = Study.init(root / "study")
        posts = generate(load_policy(DEFAULT_POLICY_PATH), args.seed, posts=400)
        replay(study, posts, until=min(p.published_at for p in posts) + 86400.0)
        verdicts = iter_verdicts(study.engine)
        post_id = next(v["post_id"] for v in verdicts if v["verdict"] == "censored")
        build_bundle(study, str(post_id), root / "bundle.zip")
        data = (root / "bundle.zip").read_bytes()
        note = study.engine.connect().exec_driver_sql("SELECT note FROM checkpoints").scalar_one()
        key = study.verifier_key()
        study.close()

        baseline = verify_bundle_bytes(data, root / "bundle.zip")
        if not baseline.success:
            raise SystemExit(f"the untouched bundle does not verify: {baseline.failures}")
        caught, started = 0, time.perf_counter()
        for _ in range(args.flips):
            tampered = bytearray(data)
            tampered[rng.randrange(len(data))] ^= rng.randint(1, 255)
            caught += not verify_bundle_bytes(bytes(tampered), root / "bundle.zip").success
        bundle_seconds = time.perf_counter() - started
        print(f"bundle ({len(data):,} bytes): {caught:,} of {args.flips:,} byte flips caught, "
              f"{bundle_seconds / args.flips * 1000:.2f} ms per verification")  # fmt: skip

        raw = note.encode()
        caught_notes = 0
        for _ in range(args.flips // 5):
            tampered = bytearray(raw)
            tampered[rng.randrange(len(raw))] ^= rng.randint(1, 255)
            try:
                verify_note(bytes(tampered), key)
            except EvidenceError:
                caught_notes += 1
        print(f"checkpoint note: {caught_notes:,} of {args.flips // 5:,} byte flips caught")

        caught_rows, started = 0, time.perf_counter()
        for case in range(args.rows):
            copy = root / f"case{case}"
            copy.mkdir()
            for name in ("memoryhole.toml", "secret.key", "log.key", "log.pub"):
                (copy / name).write_bytes((root / "study" / name).read_bytes())
            (copy / "blobs").symlink_to(root / "study" / "blobs")
            source = sqlite3.connect(root / "study" / "store.sqlite")
            target = sqlite3.connect(copy / "store.sqlite")
            source.backup(target)
            source.close()
            column = rng.choice(COLUMNS)
            (count,) = target.execute("SELECT count(*) FROM observations").fetchone()
            row = rng.randint(1, count)
            target.execute(
                f"UPDATE observations SET {column} = {column} || 'x' WHERE id = ?", (row,)
            )
            target.commit()
            target.close()
            opened = Study.open(copy)
            report = verify_study(opened)
            opened.close()
            caught_rows += any(f.startswith(f"observation {row}:") for f in report.failures)
        rows_seconds = time.perf_counter() - started
        per_case = rows_seconds / max(1, args.rows) * 1000
        print(f"store rows: {caught_rows:,} of {args.rows:,} edits caught and named, "
              f"{per_case:.0f} ms per study verification")  # fmt: skip
        total = args.flips + args.flips // 5 + args.rows
        print(f"all: {caught + caught_notes + caught_rows:,} of {total:,} cases caught")


if __name__ == "__main__":
    main()
