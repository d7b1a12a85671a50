"""The attacks of issue 21, re-run: per category, how many were tried and how many held.

    .venv/bin/python benchmarks/attacks.py [--only collect,evidence,…]

Each ``benchmarks/attacks_<area>.py`` module has ``attacks(tmp) -> [(category, attack, held)]``
(hostile platforms, forged bundles and edited stores, imports, takedown, the dashboard). Every
attack must hold: the script exits 1 and names the ones that did not.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent


def modules() -> list[str]:
    return sorted(path.stem[len("attacks_") :] for path in HERE.glob("attacks_*.py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help=f"comma-separated areas (of {', '.join(modules())})")
    args = parser.parse_args()
    areas = args.only.split(",") if args.only else modules()
    unknown = sorted(set(areas) - set(modules()))
    if unknown:
        raise SystemExit(f"unknown areas {unknown}; use some of {', '.join(modules())}")
    sys.path.insert(0, str(HERE))
    failed: list[str] = []
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for area in areas:
        module = importlib.import_module(f"attacks_{area}")
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            rows = module.attacks(Path(tmp))
        for category, attack, held in rows:
            tally[category][0] += 1
            tally[category][1] += held
            if not held:
                failed.append(f"{category}: {attack}")
        print(f"{area}: {len(rows)} attacks in {time.perf_counter() - started:.1f} s")
    print()
    print(f"{'category':<28} {'tried':>6} {'held':>6}")
    for category, (tried, held) in sorted(tally.items()):
        print(f"{category:<28} {tried:>6} {held:>6}")
    total = sum(t for t, _ in tally.values())
    print(f"{'all':<28} {total:>6} {total - len(failed):>6}")
    if failed:
        print("\nnot held:\n  " + "\n  ".join(failed))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
