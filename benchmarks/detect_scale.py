"""How fast `bench detect` replays as the scenario grows, and what a 1M-post run would take.

For each size, a scenario of the sparse policy (`benchmarks/detect/sparse.toml`, authors scaled
with the size so each still posts ~1.4 times a day) is replayed for the first ``--hours``
virtual hours and for twice as long (the difference leaves the set-up out), at R = 20 requests
per post, through the lean collector (`bench detect --no-study`): memoryhole's scheduler and
round-robin, one after the other in this process. It prints requests replayed per second of
wall time at each size, and the projection of a whole benchmark (every schedule but
per-author, to the horizon) on two workers, from the requests per post each schedule used on
the whole 3,366-post sparse run. ``--baseline`` also times each schedule with the lean
collector's repeated answers off (``bench.detect.REPEAT_ANSWERS``), in the same run.

    .venv/bin/python benchmarks/detect_scale.py [--sizes 20000,100000,1000000] [--hours 12]
        [--baseline]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import tempfile
import time
from pathlib import Path

from memoryhole.bench import detect
from memoryhole.sim.generate import generate
from memoryhole.sim.policy import load_policy

SPARSE = Path(__file__).parent / "detect" / "sparse.toml"
POSTS_PER_AUTHOR = 3366 / 1500  # the sparse policy with its own seed 1: 3,366 posts
# Requests per post each schedule spent on the whole sparse run (docs/scheduler.md):
# memoryhole, round-robin, fixed-cadence, geometric, oracle-static.
PER_POST = {"memoryhole": 23.5, "round-robin": 25.5, "fixed-cadence": 9.0, "geometric": 15.7}
PER_POST["oracle-static"] = 11.0


def measure(size: int, hours: float, out: Path, *, baseline: bool = False) -> dict[str, float]:
    policy = load_policy(SPARSE)
    policy = dataclasses.replace(policy, authors=max(1, round(size / POSTS_PER_AUTHOR)))
    started = time.perf_counter()
    posts = generate(policy, seed=1, posts=size)
    generated = time.perf_counter() - started
    detect._SCENARIO = posts
    start, _ = detect.scenario_span(posts, detect.WEEK)
    settings = detect.DetectSettings(
        scenario=SPARSE, budget_per_post=20, out=out, seed=1, keep_study=False
    )
    rate = 20 * len(posts) / detect.WEEK
    rates: dict[str, float] = {"generate_s": generated}
    for name in ("memoryhole", "round-robin"):
        job = detect.Job(name, rate, name, timelines=name == "memoryhole", full=False)
        for repeat in (False, True) if baseline else (True,):
            detect.REPEAT_ANSWERS = repeat
            runs = []
            for span in (hours, 2 * hours):  # the difference leaves out the set-up
                gc.collect()
                result = detect.run_job(job, settings, until=start + span * 3600.0)
                runs.append((result.requests, result.wall_seconds))
            (short, short_wall), (long, long_wall) = runs
            key = name if repeat else f"{name}_without_repeats"
            rates[key] = (long - short) / (long_wall - short_wall)
            setup = short_wall - short / rates[key]
            rates[f"{key}_setup_s"] = setup
            label = "" if repeat else " (repeated answers off)"
            print(
                f"  {len(posts):>9,} posts  {name:<11} {long:>10,} requests in "
                f"{long_wall:7.1f} s: {rates[key]:8,.0f} requests/s after a set-up of "
                f"{setup:.0f} s{label}",
                flush=True,
            )
        if baseline:
            print(
                f"  {'':>9}        {name:<11} repeated answers on ÷ off: "
                f"{rates[name] / rates[f'{name}_without_repeats']:.2f}× the requests per second",
                flush=True,
            )
    return rates


def sizes_list(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give post counts, e.g. 20000,100000") from None
    if any(size < 100 for size in sizes):
        raise argparse.ArgumentTypeError("each size must be at least 100 posts")
    return sizes


def hours_value(text: str) -> float:
    hours = float(text)
    if not hours > 0:
        raise argparse.ArgumentTypeError("give a number of virtual hours above 0, e.g. 6")
    return hours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes_list, default=[20000, 100000, 1000000])
    parser.add_argument("--hours", type=hours_value, default=12.0)
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also time each schedule with the lean collector's repeated answers off",
    )
    args = parser.parse_args()
    sizes: list[int] = args.sizes
    print(
        f"{args.hours:g} and {2 * args.hours:g} virtual hours, R = 20, lean collector, one process"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            rates = measure(size, args.hours, Path(folder) / str(size), baseline=args.baseline)
            # Projection: memoryhole on one worker, the cheaper baselines on the other, each
            # at the speed its kind reached here (the baselines at round-robin's).
            mine = PER_POST["memoryhole"] * size / rates["memoryhole"]
            mine += rates["memoryhole_setup_s"]
            others = sum(v for k, v in PER_POST.items() if k != "memoryhole") * size
            theirs = others / rates["round-robin"] + 4 * rates["round-robin_setup_s"]
            print(
                f"  {size:>9,} posts: a whole benchmark without per-author would take "
                f"~{max(mine, theirs) / 60:,.0f} min on two workers (memoryhole "
                f"{mine / 60:,.0f} min, the four baselines {theirs / 60:,.0f} min; "
                f"generating the scenario {rates['generate_s']:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
