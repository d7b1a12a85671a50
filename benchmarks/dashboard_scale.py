"""Peak memory and time of the dashboard computing all its figures on a large study, in memory
(``--engine pandas``) and out of core (``--engine duckdb``).

    .venv/bin/python benchmarks/dashboard_scale.py --posts 1000000 --dir /tmp/dash1m
                                                   [--engine pandas,duckdb] [--bootstrap 100]

Generates the study when ``--dir`` holds none (``memoryhole.bench.dashboard_data``: posts,
authors, verdicts and ~10 checks a post as observations, written straight into SQLite; the
term cache filled by tokenising each distinct text once, ``fill_term_cache``), then for each
engine starts one process that builds the dashboard's figure cache (``FigureCache``,
``background=False``) and computes every figure in the order of its tiers, the coverage gaps
first (the others use them). It prints per figure the seconds and the process's peak
resident memory so far (``ru_maxrss``: DuckDB and Python together), then the process's
total. With ``--engine duckdb`` the analysis dataset is written right after the gaps (its own
line: the cost of the first out-of-core figures after the store changed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from memoryhole.study import Study
from memoryhole.web.cache import TIERS, CacheSettings, FigureCache

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

path, engine, bootstrap = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
study = Study.open(path)
cache = FigureCache(study, CacheSettings(engine=engine, bootstrap=bootstrap), background=False)
rows = []
started = time.perf_counter()

def compute(name):
    t = time.perf_counter()
    cache.compute(name)
    if name in cache.errors:
        raise SystemExit(f"{name}: {cache.errors[name]}")
    rows.append([name, time.perf_counter() - t, peak_mb()])

compute("gaps")  # first: speed, methods and the analysis dataset use them
if cache.reductions is not None:
    t = time.perf_counter()
    with cache.reductions.use():
        pass
    rows.append(["analysis dataset", time.perf_counter() - t, peak_mb()])
for tier in TIERS.values():
    for name in tier:
        if name != "gaps":
            compute(name)
rows.append(["all figures", time.perf_counter() - started, peak_mb()])
cache.close()
print(json.dumps(rows))
"""


def run(path: Path, engine: str, bootstrap: int) -> list[list[object]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), engine, str(bootstrap)],
        check=True,
        capture_output=True,
        text=True,
    )
    rows: list[list[object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def generate(path: Path, posts: int, checks: int) -> None:
    from memoryhole.analysis.overview import term_tokenizer
    from memoryhole.bench.dashboard_data import (
        StudySpec,
        fill_term_cache,
        generate_study,
        write_meta,
    )

    spec = StudySpec(posts, checks=checks, platforms=("weibo", "reddit", "telegram"))
    started = time.perf_counter()
    n_posts, n_obs = generate_study(path, spec)
    seconds = time.perf_counter() - started
    write_meta(path, spec, n_posts, n_obs, seconds)
    print(f"generated {n_posts:,} posts, {n_obs:,} observations in {seconds:.0f} s", flush=True)
    started = time.perf_counter()
    fill_term_cache(path, term_tokenizer())  # the dashboard's tokenizer
    print(f"term cache filled in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=10, help="observations per post")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/memoryhole-dashboard-bench"))
    parser.add_argument("--engine", default="pandas,duckdb")
    parser.add_argument("--bootstrap", type=int, default=100)
    args = parser.parse_args()
    if not (args.dir / "bench-study.json").exists():
        generate(args.dir, args.posts, args.checks)
    meta = json.loads((args.dir / "bench-study.json").read_text())
    size = sum(f.stat().st_size for f in args.dir.glob("store.sqlite*"))
    print(
        f"study {args.dir}: {meta['posts']:,} posts, {meta['observations']:,} observations, "
        f"store {size / 1e9:.2f} GB"
    )
    for engine in args.engine.split(","):
        rows = run(args.dir, engine, args.bootstrap)
        print(f"\n--engine {engine}\n| figure | seconds | peak RSS so far (MB) |\n|---|---:|---:|")
        for name, seconds, peak in rows:
            print(f"| {name} | {float(str(seconds)):.1f} | {float(str(peak)):,.0f} |")


if __name__ == "__main__":
    main()
