"""Scale benchmark of the survival phase: Turnbull NPMLE + bootstrap CI on synthetic removals.

    .venv/bin/python benchmarks/survival_scale.py [--removed 141804 470000] [--workers 1 2]
        [--bootstrap 200] [--before HEAD~1] [--before-bootstrap 200]

The removals follow ``benchmarks/analysis_scale.py``'s model (``ingest``): published uniform
over 30 days, first seen 0-600 s later, removed a log-normal delay (median 2 h, sigma 1) after
first being seen, seen removed within the hourly re-check (uniform 0-3600 s later), last seen
alive one re-check (3600 s) before that, not before first seen; ``T`` is measured from
publication, so each post's interval is ``(alive - published, seen_removed - published]``.
141,804 removals is the 3M-post benchmark's count, 470,000 that of 10M posts. The arrays are
made directly (no study store): this times ``survival_curve`` (the survival phase's work, one
curve), not loading.

For each size it runs ``survival_curve(left, right, bootstrap=..., seed=0)`` with each
``--workers`` count (0: automatic, one per free core) and prints the wall time, the load
average (this machine may be shared), the median and its CI (hours), and how far each run's
curve and bounds are from the first run's (0 when they agree bit for bit, as they must
across worker counts). ``--before REV`` also times ``src/memoryhole/analysis/survival.py``
as it was at git revision ``REV`` (run serially, as that code does), back to back in the
same process, with ``--before-bootstrap`` resamples (fewer to save time: its wall time is
then also scaled to ``--bootstrap``).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from memoryhole.analysis import survival  # noqa: E402

HOUR = 3600.0


def removals(m: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(left, right)`` seconds since publication for ``m`` removed posts."""
    rng = np.random.default_rng(seed)
    published = rng.uniform(0, 30 * 86_400, m)
    first_seen = published + rng.uniform(0, 600, m)
    removed_at = first_seen + rng.lognormal(math.log(2 * HOUR), 1.0, m)
    seen_removed = removed_at + rng.uniform(0, 3600, m)
    alive = np.maximum(seen_removed - 3600, first_seen)
    return alive - published, seen_removed - published


def load_before(rev: str) -> ModuleType:
    text = subprocess.run(
        ["git", "show", f"{rev}:src/memoryhole/analysis/survival.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "survival_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("survival_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["survival_before"] = module
    spec.loader.exec_module(module)
    return module


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def run(label: str, call: Any, reference: Any | None, scale: float = 1.0) -> Any:
    before = load()
    start = time.perf_counter()
    frame, summary = call()
    wall = time.perf_counter() - start
    text = (
        f"  {label:<22} {wall:8.1f} s"
        + (f" (x{scale:g}: {wall * scale:.1f} s)" if scale != 1.0 else "")
        + f"  load {before} -> {load()}  median {summary.median / HOUR:.4f} h"
        f"  CI [{summary.median_ci_low / HOUR:.4f}, {summary.median_ci_high / HOUR:.4f}] h"
    )
    if reference is not None:
        ref_frame, ref_summary = reference
        if len(ref_frame) == len(frame):
            cols = ["survival", "ci_low", "ci_high"]
            diff = np.nanmax(np.abs(frame[cols].to_numpy() - ref_frame[cols].to_numpy()), axis=0)
            text += "  |diff| S {:.1e} lo {:.1e} hi {:.1e}".format(*diff)
        else:
            text += f"  ({len(frame)} curve points vs {len(ref_frame)})"
        text += (
            f"  CI diff [{(summary.median_ci_low - ref_summary.median_ci_low):+.1f}, "
            f"{(summary.median_ci_high - ref_summary.median_ci_high):+.1f}] s"
        )
    print(text, flush=True)
    return frame, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--removed", type=int, nargs="+", default=[141_804, 470_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before", metavar="REV", help="also time survival.py at REV")
    parser.add_argument("--before-bootstrap", type=int, default=None)
    args = parser.parse_args()
    before = load_before(args.before) if args.before else None
    print(f"cpus {os.cpu_count()}, bootstrap {args.bootstrap}, seed {args.seed}")
    for m in args.removed:
        left, right = removals(m)
        print(f"{m:,} removals:", flush=True)
        reference = None
        if before is not None:
            reps = args.before_bootstrap or args.bootstrap
            reference = run(
                f"before ({args.before}, {reps})",
                partial(before.survival_curve, left, right, bootstrap=reps, seed=args.seed),
                None,
                args.bootstrap / reps,
            )
            if reps != args.bootstrap:
                reference = None  # other replicates: not comparable point by point
        for workers in args.workers:
            result = run(
                f"workers={workers or 'auto'}",
                partial(
                    survival.survival_curve,
                    left,
                    right,
                    bootstrap=args.bootstrap,
                    seed=args.seed,
                    workers=workers or None,
                ),
                reference,
            )
            reference = reference or result


if __name__ == "__main__":
    main()
