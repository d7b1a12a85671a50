"""The dashboard's out-of-core figures alone on a large study, without the coverage-gap scan.

    /usr/bin/time -v .venv/bin/python benchmarks/dashboard_out_of_core.py /tmp/dash10m

For a study made by ``benchmarks/dashboard_scale.py`` (or any study), writes the analysis
dataset with an empty gap index (no removal flagged as spanning a coverage gap: the gap scan
reads every observation and is the same in both engines), then computes the speed figures,
the term index and table and the removals feed's index without texts, printing each step's
seconds and the process's peak RSS so far (MB).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memoryhole.analysis.engines import figures
from memoryhole.analysis.overview import term_table, term_tokenizer
from memoryhole.study import Study
from memoryhole.web.removed_texts import lean_index


def main() -> None:
    study = Study.open(Path(sys.argv[1]))

    def step(name: str, make: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = make()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print(f"| {name} | {time.perf_counter() - started:.1f} | {peak:,.0f} |", flush=True)
        return value

    empty = study.gap_index([])
    held = figures.StudyReductions(study, term_tokenizer(), gaps=lambda: empty)

    def dataset() -> None:
        with held.use():
            pass

    step("analysis dataset (no gap scan)", dataset)
    with held.use() as reductions:
        speed = step(
            "speed", lambda: figures.speed_figures(reductions, by_platform=True, bootstrap=100)
        )
        index = step("term_index", lambda: figures.term_index(reductions))
    table = step("term table", lambda: term_table(index, min_posts=20, merge_views=True))
    feed = step("feed (no texts)", lambda: lean_index(study.engine))
    held.close()
    summary = {"speed": speed.removed_summary[:1], "terms": len(table.rows), "removals": len(feed)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
