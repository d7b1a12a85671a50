"""What media downloads cost: the same scenario replayed with ``media = "refs"`` and
``"download"``, in process on a virtual clock (no sockets, no sleeping).

    .venv/bin/python benchmarks/media.py [--platform weibo] [--budget 0.15] [--hours 24]
        [--scheduler age|budget] [--cap 1000000] [--seed 7]

The scenario is ``memoryhole sim generate --seed SEED`` (the shipped policy) cut to its first
``--hours`` of posts, replayed for 6 hours more. Printed per run: requests by kind, the media
share, files stored and too large, stored megabytes, removals caught (of those in the
scenario), false removals, median and p90 detection delay, and wall time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from memoryhole.collect.runner import study_policy
from memoryhole.config import update_config
from memoryhole.sim.generate import generate
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy
from memoryhole.sim.replay import replay
from memoryhole.sim.truth import evaluate
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import observations
from memoryhole.study import Study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", default="weibo")
    parser.add_argument("--budget", type=float, default=0.15, help="requests per second")
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--scheduler", choices=("age", "budget"), default="age")
    parser.add_argument("--cap", type=int, default=1_000_000, help="media_max_bytes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    scenario = generate(load_policy(DEFAULT_POLICY_PATH), seed=args.seed)
    start = min(post.published_at for post in scenario)
    posts = [p for p in scenario if p.published_at < start + args.hours * 3600]
    until = start + (args.hours + 6) * 3600
    with tempfile.TemporaryDirectory() as folder:
        for media in ("refs", "download"):
            path = Path(folder) / media
            study = Study.init(path)
            for key, value in (
                ("media", media),
                ("media_max_bytes", args.cap),
                ("scheduler", args.scheduler),
                ("budget_per_second", args.budget),
            ):
                update_config(study.config_path, ("collector",), key, value)
            study.close()
            study = Study.open(path)
            began = time.perf_counter()
            _, end = replay(
                study,
                posts,
                until=until,
                platform=args.platform,
                budget_per_second=args.budget,
                policy=study_policy(study),  # the configured schedule (replay defaults to age)
            )
            wall = time.perf_counter() - began
            with study.engine.connect() as connection:
                kinds: Counter[str] = Counter(
                    dict(
                        connection.execute(
                            select(observations.c.kind, func.count()).group_by(observations.c.kind)
                        ).all()
                    )
                )
                codes: Counter[str] = Counter(
                    dict(
                        connection.execute(
                            select(observations.c.code, func.count())
                            .where(observations.c.kind == "media")
                            .group_by(observations.c.code)
                        ).all()
                    )
                )
                stored = connection.execute(
                    select(func.sum(observations.c.body_size)).where(
                        observations.c.code == "media_stored"
                    )
                ).scalar()
            result = evaluate(posts, iter_verdicts(study.engine), until=end, platform=args.platform)
            study.close()
            delays = sorted(result.delays)
            median = statistics.median(delays) / 60 if delays else float("nan")
            p90 = delays[int(0.9 * (len(delays) - 1))] / 60 if delays else float("nan")
            total = sum(kinds.values())
            print(
                f"{args.platform} {args.scheduler} {args.budget}/s media={media}: "
                f"{len(posts):,} posts, {total:,} requests {dict(kinds)}, "
                f"media {kinds['media'] / total:.2%}: {codes['media_stored']} stored "
                f"({(stored or 0) / 1e6:.1f} MB), {codes['media_too_large']} too large; caught "
                f"{result.caught}/{result.true_removals}, {len(result.false_removals)} false; "
                f"delay median {median:.1f} min, p90 {p90:.1f} min; {wall:.1f} s wall"
            )


if __name__ == "__main__":
    main()
