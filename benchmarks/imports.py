"""Import throughput: a generated Weiboscope-format CSV into a fresh study, in rows per second.

    .venv/bin/python benchmarks/imports.py [--rows 1000000] [--keep DIR]

The file has the 11 Weiboscope columns and the open data's proportions (Fu, Chan & Chau 2013:
4.8 % of posts deleted, 0.8 % of those "permission denied"), 20 posts per author, texts of
Chinese sentences of 20-80 characters. It is written once to a temporary folder (or ``--keep``),
then imported by the same code as ``memoryhole import weiboscope``: per row a post, an author
when new, a verdict, a raw-row blob and its evidence leaf (three leaves for a deleted row), in
transactions of 5,000 rows, and a signed checkpoint at the end. Printed: rows/s over the whole
import (file hashing and encoding detection included), leaves/s and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from memoryhole.imports import run_import
from memoryhole.study import Study

COLUMNS = (
    "mid", "retweeted_status_mid", "uid", "retweeted_uid", "source", "image", "text", "geo",
    "created_at", "deleted_last_seen", "permission_denied",
)  # fmt: skip
WORDS = (
    "今天", "天气", "很好", "我们", "一起", "去", "爬山", "转发微博", "哈哈", "这家", "餐厅",
    "的菜", "好吃", "刚看完", "一部", "电影", "周末", "新买的", "手机", "不错", "北京", "上海",
)  # fmt: skip
START = datetime(2012, 1, 1, tzinfo=UTC).timestamp()
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ident(prefix: str, number: int) -> str:
    digits = []
    while True:
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
        if number == 0:
            break
    return prefix + "".join(reversed(digits)).rjust(9, "0")


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    authors = max(1, rows // 20)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(rows):
            created = START + i * 2.5
            deleted = rng.random() < 0.048
            denied = deleted and rng.random() < 0.008
            text = "".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
            writer.writerow(
                (
                    ident("m", i), "", ident("u", rng.randrange(authors)), "", "新浪微博",
                    rng.randint(0, 1), text, "", stamp(created),
                    stamp(created + rng.uniform(60, 86400)) if deleted else "",
                    "True" if denied else "",
                )
            )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="generate and import here, and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="memoryhole-import-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    source = root / f"weiboscope-{args.rows}.csv"
    if not source.exists():
        began = time.perf_counter()
        generate(source, args.rows)
        print(f"generated {source} ({source.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - began:.0f} s", file=sys.stderr)  # fmt: skip
    study = Study.init(Path(tempfile.mkdtemp(prefix="study-", dir=root)))
    summary = run_import(study, "weiboscope", source)
    study.close()
    counts = summary.counts
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"imported {counts.rows:,} rows ({counts.new_posts:,} posts, {counts.leaves:,} leaves, "
        f"{summary.statuses}) in {summary.seconds:.1f} s: "
        f"{summary.rows_per_second:,.0f} rows/s, {counts.leaves / summary.seconds:,.0f} leaves/s; "
        f"peak memory {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
