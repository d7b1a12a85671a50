"""``memoryhole demo``: a censoring platform, a collector watching it, and what it caught."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from memoryhole.cli.console import REMOVAL_LABELS, ProgressView, duration
from memoryhole.collect.collector import Collector, CollectorStats
from memoryhole.collect.loop import run as run_loop
from memoryhole.collect.runner import run_study
from memoryhole.config import update_config
from memoryhole.errors import ConfigError
from memoryhole.scenario import load_scenario
from memoryhole.sim.generate import generate_to_file
from memoryhole.sim.policy import DEFAULT_POLICY_PATH
from memoryhole.sim.process import SimulatorProcess
from memoryhole.sim.shapes import PLATFORMS, WATCH
from memoryhole.sim.truth import Evaluation, evaluate
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.study import CONFIG_FILE, Study

DEMO_FAULTS = "5xx=0.01,captcha=0.005,truncate=0.005"
DEMO_REAL_REQUESTS_PER_SECOND = 1500.0


def _prepare_folder(directory: Path) -> None:
    study_dir = directory / "study"
    if study_dir.exists():
        if not (study_dir / CONFIG_FILE).exists() or not (directory / "scenario.jsonl").exists():
            raise ConfigError(f"{directory} exists and is not a demo folder; choose another --dir")
        shutil.rmtree(study_dir)
    directory.mkdir(parents=True, exist_ok=True)


def run_demo(
    directory: Path,
    *,
    seconds: float,
    speed: float,
    seed: int,
    console: Console,
    platforms: Sequence[str] = ("weibo",),
) -> dict[str, Evaluation]:
    """The demo on one simulated platform, or on several at once (each its own simulator
    serving the same scenario in its own shapes, on one platform clock, each with its own
    request budget); returns each platform's scores."""
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown or not platforms:
        named = unknown[0] if unknown else ""
        raise ConfigError(f"unknown platform {named!r}; use {', '.join(PLATFORMS)}")
    _prepare_folder(directory)
    scenario_path = directory / "scenario.jsonl"
    console.rule("memoryhole demo")
    console.print(f"1/4 generating a scenario from the default censor policy (seed {seed})")
    generate_to_file(DEFAULT_POLICY_PATH, scenario_path, seed)
    scenario = load_scenario(scenario_path)
    console.print(
        f"    {len(scenario):,} posts by {len({p.author_id for p in scenario}):,} authors"
    )

    study = Study.init(directory / "study")
    budget = DEMO_REAL_REQUESTS_PER_SECOND / speed / len(platforms)
    update_config(study.config_path, ("collector",), "budget_per_second", budget)
    update_config(study.config_path, ("collector",), "concurrency", 64)
    for platform in platforms:  # each platform its own budget, as a study of several has
        update_config(study.config_path, ("platforms", platform), "budget_per_second", budget)
    study = Study.open(study.path)

    names = ", ".join(platforms)
    console.print(f"2/4 starting the simulated {names} at {speed:g}x with light faults")
    started = time.time() + 2.0  # every simulator on one platform clock
    with ExitStack() as running:
        for platform in platforms:
            simulator = running.enter_context(
                SimulatorProcess(
                    scenario_path,
                    speed=speed,
                    faults=DEMO_FAULTS,
                    platform=platform,
                    started=started,
                )
            )
            study.set_base_url(platform, simulator.base_url)
            add_targets(study.engine, [WATCH[platform]], time.time())
        watched = ", ".join(WATCH[p].spec for p in platforms)
        console.print(f"3/4 watching {watched} for {seconds:g} s (≈ {duration(seconds * speed)})")
        holder: list[Collector] = []
        stats = run_loop(_run(study, seconds, holder, console))
        end = holder[0].clock.now() if holder else 0.0

    every = list(iter_verdicts(study.engine))
    console.print("4/4 what memoryhole caught (scored against the scenario's ground truth)")
    results: dict[str, Evaluation] = {}
    for platform in platforms:
        verdicts = [v for v in every if v["platform"] == platform]
        results[platform] = evaluate(scenario, verdicts, until=end, platform=platform)
        checks = stats.checks if len(platforms) == 1 else None
        console.print(_result_table(results[platform], checks, len(verdicts), platform))
    verdicts = [v for v in every if v["platform"] == platforms[0]]
    bundle = _evidence_for_one_removal(study, verdicts, directory, console)
    console.print(
        f"\nThe study is in {study.path}. Try:\n"
        f"  memoryhole status --study {study.path}\n"
        f"  memoryhole export verdicts --study {study.path} --format csv\n"
        f"  memoryhole verify --study {study.path}"
        + (f"\n  memoryhole verify {bundle}   (on any machine: the bundle is all it needs)"
           if bundle else "")
    )  # fmt: skip
    return results


def _evidence_for_one_removal(
    study: Study, verdicts: list[dict[str, object]], directory: Path, console: Console
) -> Path | None:
    """Export and verify the evidence bundle of the first censored post (what a journalist does)."""
    from memoryhole.evidence.bundle import build_bundle
    from memoryhole.evidence.verify import verify_bundle

    censored = [v for v in verdicts if v["verdict"] == "censored"]
    if not censored:
        return None
    post_id, platform = str(censored[0]["post_id"]), str(censored[0]["platform"])
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", post_id.rsplit("/", 1)[-1])  # an at:// URI too
    out = directory / f"evidence-{safe}.zip"
    manifest = build_bundle(study, post_id, out, platform)
    report = verify_bundle(out, study.verifier_key())
    state = "[green]verified[/]" if report.success else f"[red]FAILED[/] {report.failures}"
    console.print(
        f"evidence for censored post {post_id}: {out} "
        f"({len(manifest['observations'])} logged observations, signed checkpoint): {state}"
    )
    return out


async def _run(
    study: Study, seconds: float, holder: list[Collector], console: Console
) -> CollectorStats:
    task = asyncio.create_task(run_study(study, for_seconds=seconds, on_start=holder.append))
    while not holder and not task.done():
        await asyncio.sleep(0.05)
    if holder and console.is_terminal:
        with Live(ProgressView(holder[0], "collecting"), console=console, refresh_per_second=4):
            return await task
    return await task


def _result_table(result: Evaluation, checks: int | None, posts: int, platform: str) -> Table:
    table = Table(show_header=False, title=platform)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("posts watched", f"{posts:,}")
    if checks is not None:
        table.add_row("checks made", f"{checks:,}")
    table.add_row("removals that happened so far", f"{result.true_removals:,}")
    for kind, label in REMOVAL_LABELS.items():
        table.add_row(f"caught: {label}", f"{result.caught_by_kind.get(kind, 0):,}")
    table.add_row("share of removals caught", f"{result.recall:.1%}")
    table.add_row("  … of posts discovered before removal", f"{result.recall_of_watched:.1%}")
    d50, d90 = result.delay_quantiles()
    table.add_row("median detection delay", duration(d50))
    table.add_row("p90 detection delay", duration(d90))
    table.add_row(
        f"removal kind as exact as {platform}'s answers allow", f"{result.attribution:.1%}"
    )
    table.add_row("removal kind wrong (must be 0)", f"{len(result.misattributed)}")
    table.add_row("false removals (must be 0)", f"{len(result.false_removals)}")
    return table
