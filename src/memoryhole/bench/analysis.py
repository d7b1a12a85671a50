"""``memoryhole bench analysis``: the out-of-core analysis on a large synthetic study.

Generates the study as Parquet (:mod:`.analysis_data`), recomputes every post's verdict from
all its observations (DuckDB), then runs ``analyze terms``, ``analyze survival`` and
``analyze platforms`` on it, each step its own process, and prints each step's wall time and
peak resident memory (the process's, DuckDB and Python together).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ANALYSES: Final = ("terms", "survival", "platforms")
_CLI: Final = "from memoryhole.cli import main; main()"


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    peak_mb: float
    detail: str


def _run(name: str, argv: list[str], output: Path | None = None) -> Step:
    """Run ``argv``; its wall time and peak RSS (``wait4``: this child's own maximum)."""
    started = time.perf_counter()
    with (output or Path(os.devnull)).open("w") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        errors = process.stderr.read() if process.stderr else ""
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{name} failed ({process.returncode}): {errors.strip()[-2000:]}")
    detail = errors.strip().splitlines()[-1] if errors.strip() else ""
    if output is not None:
        with output.open() as lines:
            detail = f"{sum(1 for _ in lines) - 1:,} rows"
    return Step(name, seconds, usage.ru_maxrss / 1024.0, detail)


def run_analysis_bench(
    posts: int,
    observations: int,
    directory: Path,
    *,
    engine: str = "duckdb",
    scheduler: str | None = None,
    terms_per_post: int = 20,
    bootstrap: int = 200,
    generate: bool = True,
) -> list[Step]:
    """Every step of the benchmark, in order (the dataset is left in ``directory``)."""
    python = sys.executable
    steps: list[Step] = []
    if generate:
        code = (
            "import sys; from pathlib import Path; "
            "from memoryhole.bench.analysis_data import Spec, generate; "
            f"d, n = generate(Spec({posts}, {observations}, {terms_per_post}), Path(sys.argv[1])); "
            "print(f'{d.posts:,} posts, {d.terms:,} (post, term) rows, {n:,} observations', "
            "file=sys.stderr)"
        )
        steps.append(_run("generate", [python, "-c", code, str(directory)]))
        size = sum(f.stat().st_size for f in directory.rglob("*.parquet"))
        steps[-1] = Step(
            "generate",
            steps[-1].seconds,
            steps[-1].peak_mb,
            f"{steps[-1].detail}; {size / 1e9:.2f} GB of Parquet",
        )
    code = (
        "import sys; from pathlib import Path; "
        "from memoryhole.bench.analysis_data import verdicts_from_observations as v; "
        "n, bad = v(Path(sys.argv[1])); "
        "print(f'{n:,} observations reduced, {bad} posts differ', file=sys.stderr)"
    )
    steps.append(_run("verdicts from observations", [python, "-c", code, str(directory)]))
    out = directory / "results"
    out.mkdir(exist_ok=True)
    for analysis in ANALYSES:
        argv = [python, "-c", _CLI, "analyze", analysis, "--dataset", str(directory)]
        argv += ["--engine", engine, "--format", "csv"]
        if scheduler:
            argv += ["--scheduler", scheduler]
        if analysis in ("survival", "platforms"):
            argv += ["--bootstrap", str(bootstrap)]
        steps.append(_run(f"analyze {analysis}", argv, out / f"{analysis}.csv"))
    return steps


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
