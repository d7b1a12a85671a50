"""The ``memoryhole`` command line. Thin: every command calls a module that does the work."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live

from memoryhole.analysis.cli import analyze_app, register_exports
from memoryhole.errors import MemoryholeError

app = typer.Typer(
    name="memoryhole",
    help="An open-source censorship observatory: watch posts, catch removals, keep evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sim_app = typer.Typer(help="The simulated censoring platform.", no_args_is_help=True)
export_app = typer.Typer(help="Write study data in open formats.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
schedule_app = typer.Typer(help="When each post is checked, and why.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")
app.add_typer(export_app, name="export")
app.add_typer(bench_app, name="bench")
app.add_typer(schedule_app, name="schedule")
app.add_typer(analyze_app, name="analyze")  # memoryhole/analysis/cli.py
register_exports(export_app)  # export parquet, csv, datasette

console = Console()
err_console = Console(stderr=True)

StudyOption = Annotated[
    Path, typer.Option("--study", help="The study folder (default: the current directory).")
]


def _open(study: Path) -> Any:
    from memoryhole.study import Study

    return Study.open(study)


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder for the new study.")]) -> None:
    """Create a study folder: configuration, store and pseudonymisation secret."""
    from memoryhole.study import Study

    study = Study.init(directory)
    console.print(f"[green]created study[/] {study.path}")
    console.print(f"public key (publish it; it verifies your evidence): {study.verifier_key()}")
    console.print(f"next: memoryhole watch weibo:all --base-url URL --study {directory}")


@app.command()
def watch(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="e.g. weibo:user/1234567, weibo:search/关键词, reddit:r/news, or weibo:all on "
            "the simulator"
        ),
    ],
    base_url: Annotated[
        str | None, typer.Option(help="The platform's base URL (e.g. a simulator's).")
    ] = None,
    study: StudyOption = Path("."),
) -> None:
    """Add accounts, feeds or searches to watch."""
    from memoryhole.platforms.registry import parse_target
    from memoryhole.store.queries import add_targets

    opened = _open(study)
    # Each target is read by its platform's adapter at the base URL it will be polled at (Weibo
    # refuses weibo:all, the simulator's feed, anywhere but on a local simulator).
    parsed = [
        parse_target(
            spec, base_url or opened.base_url(spec.partition(":")[0]) or "", study_dir=opened.path
        )
        for spec in targets
    ]
    if base_url:
        for platform in sorted({t.platform for t in parsed}):
            opened.set_base_url(platform, base_url)
    added = add_targets(opened.engine, parsed, time.time())
    for spec in added:
        console.print(f"[green]watching[/] {spec}")
    for target in parsed:
        if target.spec not in added:
            console.print(f"already watching {target.spec}")
    from memoryhole.collect.access import access_notes

    for note in access_notes(opened, parsed):  # e.g. a Mastodon timeline that needs a token
        console.print(note.detail, style=None if note.readable else "yellow", markup=False)


@app.command()
def run(
    for_: Annotated[
        str | None, typer.Option("--for", help="Stop after this long (wall clock): 90s, 10m, 2h.")
    ] = None,
    study: StudyOption = Path("."),
    quiet: Annotated[bool, typer.Option(help="No live progress display.")] = False,
) -> None:
    """Run the collector: discover posts, re-check them, classify removals. Ctrl-C stops."""
    from memoryhole.config import parse_duration

    seconds = parse_duration(for_) if for_ else None
    opened = _open(study)
    from memoryhole.collect.loop import run as run_loop

    stats = run_loop(_run_with_progress(opened, seconds, quiet))
    console.print(
        f"done: {stats.checks:,} checks, {stats.discovered:,} new posts, "
        f"{sum(stats.removals.values()):,} removals caught, "
        f"{stats.committed_observations:,} observations committed"
    )
    if stats.unreadable:
        console.print(
            f"[yellow]{stats.unreadable:,} listing items could not be read[/] (each is named in "
            "its listing's observation; `memoryhole status` shows them per target)"
        )


async def _run_with_progress(study: Any, seconds: float | None, quiet: bool) -> Any:
    from memoryhole.collect.collector import Collector
    from memoryhole.collect.runner import run_study
    from memoryhole.console import ProgressView

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    holder: list[Collector] = []

    def started(collector: Collector) -> None:
        # A platform that cannot be reached at all (a wrong --base-url) is said at once.
        collector.on_problem = lambda message: console.print(f"[bold red]problem:[/] {message}")
        holder.append(collector)

    task = asyncio.create_task(run_study(study, for_seconds=seconds, stop=stop, on_start=started))
    if quiet or not console.is_terminal:
        return await task
    while not holder and not task.done():
        await asyncio.sleep(0.05)
    if not holder:
        return await task
    with Live(ProgressView(holder[0]), console=console, refresh_per_second=4):
        return await task


@app.command()
def status(study: StudyOption = Path(".")) -> None:
    """Summarise a study: targets, posts, observations, verdicts."""
    from memoryhole.console import summary_table
    from memoryhole.store.queries import summarise

    console.print(summary_table(summarise(_open(study).engine)))


@export_app.command("verdicts")
def export_verdicts(
    format_: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    raw_author_ids: Annotated[
        bool,
        typer.Option(help="Real author ids instead of pseudonyms: for your own machine only."),
    ] = False,
    study: StudyOption = Path("."),
) -> None:
    """One line per post: post_id, author_id, first_seen_at, last_seen_alive_at,
    first_seen_removed_at, verdict (docs/formats.md)."""
    from memoryhole.spreadsheet import SafeDictWriter
    from memoryhole.store.queries import VERDICT_EXPORT_FIELDS, iter_verdicts
    from memoryhole.times import json_number

    if format_ not in ("jsonl", "csv"):
        raise MemoryholeError(f"unknown format {format_!r}; use jsonl or csv")
    rows = iter_verdicts(_open(study).engine, raw_author_ids=raw_author_ids)
    handle = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout  # noqa: SIM115
    try:
        count = 0
        if format_ == "csv":
            writer = SafeDictWriter(handle, VERDICT_EXPORT_FIELDS, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
                count += 1
        else:
            for row in rows:
                contract = {key: json_number(row[key]) for key in VERDICT_EXPORT_FIELDS}
                handle.write(json.dumps(contract, ensure_ascii=False, allow_nan=False) + "\n")
                count += 1
    finally:
        if out:
            handle.close()
    if out:
        err_console.print(f"wrote {count:,} verdicts to {out}")


@sim_app.command("generate")
def sim_generate(
    out: Annotated[Path, typer.Option(help="Scenario file to write (JSONL).")],
    policy: Annotated[
        Path | None, typer.Option(help="Censor policy TOML (default: the shipped policy).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same scenario.")] = 0,
) -> None:
    """Build a scenario (posts, removals) from a censor policy."""
    from memoryhole.sim.generate import generate_to_file
    from memoryhole.sim.policy import DEFAULT_POLICY_PATH

    summary = generate_to_file(policy or DEFAULT_POLICY_PATH, out, seed)
    console.print(f"[green]wrote[/] {out}")
    for key, value in summary.items():
        console.print(f"  {key}: {value}")


@sim_app.command("from-wechatscope")
def sim_from_wechatscope(
    csv_file: Annotated[
        Path, typer.Argument(metavar="CSV", help="The WeChatscope deletion log (ceninfo.csv).")
    ],
    out: Annotated[Path, typer.Option(help="Scenario file to write (JSONL).")],
    start: Annotated[
        str | None,
        typer.Option(help="First created_at day of the window, YYYY-MM-DD (default: the log's)."),
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Days of the window.")] = 7,
    removed_share: Annotated[
        float,
        typer.Option(min=0.0001, max=1.0, help="Removed share of all posts (live ones added)."),
    ] = 0.011,
    posts_per_author_day: Annotated[
        float, typer.Option(min=0.01, help="Posts a day of an average account.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same scenario.")] = 0,
) -> None:
    """Build a scenario replaying the WeChatscope log's removals (times, reasons, accounts)."""
    from datetime import datetime as _datetime

    from memoryhole.scenario import write_scenario
    from memoryhole.sim.generate import summarize
    from memoryhole.sim.wechatscope import from_wechatscope

    first = None
    if start is not None:
        try:
            first = _datetime.fromisoformat(start)
        except ValueError:
            raise typer.BadParameter(
                f"{start!r}: give a day, e.g. 2018-07-06", param_hint="--start"
            ) from None
    scenario = from_wechatscope(
        csv_file, start=first, days=days, removed_share=removed_share,
        posts_per_author_day=posts_per_author_day, seed=seed,
    )  # fmt: skip
    write_scenario(scenario.posts, out)
    console.print(f"[green]wrote[/] {out}")
    console.print(f"  log rows: {scenario.rows:,}; removals used: {scenario.used:,}")
    for reason, count in scenario.left_out.items():
        console.print(f"  left out, {reason}: {count:,}")
    for key, value in summarize(scenario.posts).items():
        console.print(f"  {key}: {value}")


@sim_app.command("serve")
def sim_serve(
    scenario: Annotated[Path, typer.Option(help="Scenario file (JSONL).")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000,
    speed: Annotated[float, typer.Option(help="Platform seconds per real second.")] = 1.0,
    faults: Annotated[
        str | None,
        typer.Option(help="e.g. 5xx=0.05,slow=0.02,truncate=0.05,captcha=0.02,reset=0.02"),
    ] = None,
    rate_limit: Annotated[
        float | None, typer.Option(help="Requests per second before 429 + Retry-After.")
    ] = None,
    platform: Annotated[
        str, typer.Option(help="Shapes to answer in: weibo, reddit, mastodon, rss or json.")
    ] = "weibo",
) -> None:
    """Serve a scenario over HTTP on loopback in a platform's shapes (Weibo's by default)."""
    from memoryhole.sim.server import serve
    from memoryhole.sim.shapes import WATCH, get_shape

    get_shape(platform)  # an unknown name fails here, before the server starts
    console.print(f"serving {scenario} on http://127.0.0.1:{port} at {speed}x (Ctrl-C stops)")
    watch_hint = f"memoryhole watch {WATCH[platform].spec} --base-url http://127.0.0.1:{port}"
    console.print(f"as {platform}: {watch_hint}")
    serve(
        scenario,
        port=port,
        speed=speed,
        faults_spec=faults,
        rate_limit=rate_limit,
        platform=platform,
    )


@sim_app.command("replay")
def sim_replay(
    scenario: Annotated[Path, typer.Option(help="Scenario file (JSONL).")],
    until: Annotated[
        str | None,
        typer.Option(help="Stop this long after the first post (default: last post + 1 day)."),
    ] = None,
    faults: Annotated[str | None, typer.Option(help="Fault spec, as for sim serve.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for injected faults.")] = 0,
    study: StudyOption = Path("."),
    platform: Annotated[
        str, typer.Option(help="Shapes and adapter: weibo, reddit, mastodon, rss or json.")
    ] = "weibo",
) -> None:
    """Replay a scenario through the collector on a virtual clock: days in seconds, resumable."""
    from memoryhole.config import parse_duration
    from memoryhole.scenario import load_scenario
    from memoryhole.sim.replay import replay
    from memoryhole.sim.shapes import get_shape

    get_shape(platform)
    posts = load_scenario(scenario)
    end = min(p.published_at for p in posts) + parse_duration(until) if until else None
    stats, stopped_at = replay(
        _open(study), posts, until=end, faults=faults, seed=seed, platform=platform
    )
    console.print(
        f"replayed to {stopped_at:.0f}: {stats.checks:,} checks, {stats.discovered:,} posts, "
        f"{sum(stats.removals.values()):,} removals caught"
    )


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo study goes.")] = Path(
        "memoryhole-demo"
    ),
    seconds: Annotated[float, typer.Option(help="How long the collector runs.")] = 90.0,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 1200.0,
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 1,
) -> None:
    """Generate a scenario, simulate a censoring platform, watch it, and show what was caught."""
    from memoryhole.sim.demo import run_demo

    run_demo(directory, seconds=seconds, speed=speed, seed=seed, console=console)


@bench_app.command("throughput")
def bench_throughput(
    seconds: Annotated[float, typer.Option(help="Length of each timed run.")] = 10.0,
    posts: Annotated[int, typer.Option(help="Posts in the benchmark scenario.")] = 20_000,
    concurrency: Annotated[int, typer.Option(help="Requests in flight.")] = 32,
    profile: Annotated[bool, typer.Option(help="Print where the collector's time goes.")] = False,
) -> None:
    """Checks/s end to end (archived + committed) vs a bare aiohttp loop, same server."""
    from memoryhole.bench.throughput import run_throughput

    console.print(f"simulator on loopback, {posts:,} posts, {concurrency} in flight, {seconds:g} s")
    result = run_throughput(posts=posts, seconds=seconds, concurrency=concurrency, profile=profile)
    console.print(f"bare aiohttp loop:      {result.bare_requests_per_second:8,.0f} req/s")
    console.print(f"memoryhole collector:   {result.collector_checks_per_second:8,.0f} checks/s")
    console.print(f"ratio:                  {result.ratio:8.1%}")
    console.print(f"observations committed: {result.committed_observations:8,}")
    if result.profile:
        console.print(result.profile)


def _half_life(value: str | None) -> float | None:
    from memoryhole.config import parse_duration

    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise MemoryholeError(f"--half-life: {exc}") from exc
    if seconds <= 0:
        raise MemoryholeError(
            "--half-life must be longer than 0 s, e.g. 1d; leave it out to never fade"
        )
    return seconds


@bench_app.command("detect")
def bench_detect(
    scenario: Annotated[Path, typer.Option(help="Scenario file (JSONL).")],
    budget_per_post: Annotated[
        float, typer.Option(help="R: requests per post; the rate is R × posts ÷ horizon.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for verdicts, summary.json and a study.")],
    horizon: Annotated[str, typer.Option(help="Keep checking each post this long.")] = "7d",
    seed: Annotated[int, typer.Option(help="Seed: faults, and checks staggered alike.")] = 0,
    workers: Annotated[int, typer.Option(help="Schedules run in this many processes.")] = 2,
    per_author_interval: Annotated[
        str, typer.Option(help="Per-author polling interval (Zhu et al.: 6.6 min width).")
    ] = "396s",
    poll_interval: Annotated[str, typer.Option(help="Between polls of the feed.")] = "60s",
    skip: Annotated[
        list[str] | None, typer.Option(help="Leave out a schedule (repeatable), e.g. per-author.")
    ] = None,
    faults: Annotated[str | None, typer.Option(help="Fault spec, as for sim serve.")] = None,
    study: Annotated[
        bool, typer.Option(help="Keep memoryhole's run as a study (--no-study: faster, lean).")
    ] = True,
    half_life: Annotated[
        str | None,
        typer.Option(help="The scheduler's learning_half_life (e.g. 2d; default: never fades)."),
    ] = None,
) -> None:
    """Detection delay and recall of memoryhole's scheduler and five baselines, same budget."""
    from memoryhole.bench.detect import (
        HALF,
        NAMES,
        DetectSettings,
        check_budget,
        comparison_lines,
        run_detect,
        summary_table,
    )
    from memoryhole.config import parse_duration
    from memoryhole.scenario import load_scenario

    skipped = set(skip or ())
    unknown = skipped - {*NAMES, HALF}
    if unknown:
        raise MemoryholeError(f"unknown schedule(s) {sorted(unknown)}; known: {[*NAMES, HALF]}")
    if "per-author" in skipped:
        skipped.add(HALF)  # it spends half of what per-author spent
    settings = DetectSettings(
        scenario=scenario,
        budget_per_post=budget_per_post,
        out=out,
        horizon=parse_duration(horizon),
        seed=seed,
        poll_interval=parse_duration(poll_interval),
        per_author_interval=parse_duration(per_author_interval),
        half_life=_half_life(half_life),
        workers=workers,
        faults=faults,
        only=tuple(name for name in (*NAMES, HALF) if name not in skipped),
        keep_study=study,
    )
    posts = load_scenario(scenario)
    check_budget(settings, posts)  # before anything runs
    console.print(f"{len(posts):,} posts from {scenario}; running {', '.join(settings.only)}")
    summary = run_detect(
        settings,
        posts,
        progress=lambda run: err_console.print(
            f"  {run.name}: {run.requests:,} requests, {run.wall_seconds:.0f} s"
        ),
    )
    Console(width=max(console.width, 132)).print(summary_table(summary))
    for line in comparison_lines(summary):
        console.print(line)
    console.print(f"{summary['wall_seconds']:.0f} s; figures in {out / 'summary.json'}")


@schedule_app.command("explain")
def schedule_explain(
    post_id: Annotated[str, typer.Argument(help="The platform's id of the post.")],
    study: StudyOption = Path("."),
    platform: Annotated[
        str | None,
        typer.Option(help="The post's platform, when the id is on several (e.g. weibo)."),
    ] = None,
) -> None:
    """Why a post is checked when it is: its age, risk, the removal hazard, the next check."""
    from memoryhole.schedule.explain import explain_post

    for line in explain_post(_open(study), post_id, platform).lines():
        console.print(line, highlight=False)


@app.command()
def evidence(
    post_id: Annotated[str, typer.Argument(help="The platform's id of the post.")],
    out: Annotated[Path, typer.Option(help="Bundle file to write (.zip).")],
    platform: Annotated[str | None, typer.Option(help="Platform, if the id is on several.")] = None,
    study: StudyOption = Path("."),
) -> None:
    """Export one post's evidence bundle: responses, WARC, proofs, signed checkpoint."""
    from memoryhole.evidence.bundle import build_bundle

    manifest = build_bundle(_open(study), post_id, out, platform)
    verdict = manifest["verdict"]
    console.print(
        f"[green]wrote[/] {out}: {len(manifest['observations'])} observations, verdict "
        f"{verdict['verdict']}, proofs to checkpoint of size {manifest['checkpoint']['size']}"
    )
    console.print(f"check it anywhere with: memoryhole verify {out}")


@app.command()
def verify(
    bundle: Annotated[
        Path | None, typer.Argument(help="A bundle to verify; without it, the whole study.")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="The verifier key you trust (as published by the study).")
    ] = None,
    study: StudyOption = Path("."),
) -> None:
    """Verify a bundle standalone, or a whole study: blobs, leaves, checkpoints, verdicts."""
    from memoryhole.evidence.verify import verify_bundle, verify_study

    report = verify_bundle(bundle, key) if bundle is not None else verify_study(_open(study))
    for line in report.passed:
        console.print(f"[green]ok[/]      {line}", highlight=False)
    for line in report.failures:
        console.print(f"[red]FAILED[/]  {line}", highlight=False)
    if not report.success:
        err_console.print(f"[red]verification failed:[/] {len(report.failures)} problem(s)")
        raise typer.Exit(1)
    console.print("[green]verified[/]")


@app.command()
def proof(
    observation: Annotated[
        int | None, typer.Option(help="Inclusion proof of this observation id.")
    ] = None,
    consistency: Annotated[
        tuple[int, int] | None,
        typer.Option(help="Consistency proof between two checkpoint ids: OLD NEW."),
    ] = None,
    study: StudyOption = Path("."),
) -> None:
    """Print an inclusion proof (to the latest checkpoint) or a consistency proof, as JSON."""
    from memoryhole.evidence.log import checkpoint_consistency, observation_proof

    opened = _open(study)
    if observation is not None:
        result = observation_proof(opened, observation)
    elif consistency is not None:
        result = checkpoint_consistency(opened, *consistency)
    else:
        raise MemoryholeError("give --observation ID or --consistency OLD NEW")
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


@app.command()
def key(study: StudyOption = Path(".")) -> None:
    """Print the study's public key (publish it: it verifies every checkpoint and bundle)."""
    console.print(_open(study).verifier_key(), highlight=False, soft_wrap=True)


@export_app.command("warc")
def export_warc(
    out: Annotated[Path, typer.Option(help="WARC file to write (.warc.gz).")],
    study: StudyOption = Path("."),
) -> None:
    """All captures as WARC 1.1 (request, response, metadata records)."""
    from memoryhole.evidence.export import export_warc as write_warc

    count = write_warc(_open(study), out)
    err_console.print(f"wrote {count:,} captures to {out}")


@app.command()
def takedown(
    author: Annotated[str, typer.Option(help="The author's platform id or pseudonym (a_…).")],
    platform: Annotated[str, typer.Option(help="The author's platform.")] = "weibo",
    reason: Annotated[str, typer.Option(help="Recorded with the redaction.")] = "at risk",
    study: StudyOption = Path("."),
) -> None:
    """Remove an author's content from blobs and exports; the log still verifies."""
    from memoryhole.evidence.takedown import takedown as run_takedown

    result = run_takedown(_open(study), author, platform=platform, reason=reason)
    console.print(
        f"took down {result.posts:,} posts of {result.pseudonym}: "
        f"{result.blobs_removed:,} raw responses deleted, {result.blobs_kept_shared:,} kept "
        "(identical bodies that other posts' evidence also uses and that hold no content)"
    )


# -- dashboard and report (memoryhole/web, memoryhole/report) ------------------------------------


@app.command()
def serve(
    study: StudyOption = Path("."),
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    host: Annotated[
        str, typer.Option(help="Address to bind (local mode: loopback only).")
    ] = "127.0.0.1",
    public: Annotated[
        bool,
        typer.Option(help="Pseudonyms only, no raw responses or bundles, read-only."),
    ] = False,
    webhook: Annotated[
        str | None, typer.Option(help="POST new removals here (overrides STUDY/alerts.toml).")
    ] = None,
) -> None:
    """Serve the dashboard: overview, removals, posts, terms, speed, accounts, Atom feed."""
    from memoryhole.web.server import serve as run_server

    run_server(
        _open(study),
        host=host,
        port=port,
        public=public,
        webhook_url=webhook,
        say=lambda line: console.print(line, highlight=False, soft_wrap=True),
    )


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
    study: StudyOption = Path("."),
    kind: Annotated[str, typer.Option(help="Removal kind the term table counts.")] = "censored",
    min_posts: Annotated[int, typer.Option(help="Terms need at least this many posts.")] = 20,
) -> None:
    """Write the study as one self-contained HTML file (charts, top terms, methods)."""
    from memoryhole.report.html import build_report

    summary = build_report(_open(study), out, kind=kind, min_posts=min_posts)
    console.print(
        f"[green]wrote[/] {out} ({summary.bytes / 1e6:.1f} MB, {summary.posts:,} posts, "
        f"{summary.removals:,} removals, {summary.terms:,} terms tested) in {summary.seconds:.0f} s"
    )


# -- imports of past datasets (memoryhole/imports) -----------------------------------------------


@app.command("import")
def import_(
    kind: Annotated[str, typer.Argument(help="weiboscope, wechatscope, jsonl or scenario.")],
    file: Annotated[Path, typer.Argument(help="The file (UTF-8 or GB18030, BOM or not).")],
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Set malformed rows aside in a side file; go on.")
    ] = False,
    rejected: Annotated[
        Path | None, typer.Option(help="The side file of --skip-bad (default FILE.rejected.csv).")
    ] = None,
    platform: Annotated[
        str | None, typer.Option(help="Platform of jsonl and scenario imports (default weibo).")
    ] = None,
    utc_offset: Annotated[
        str | None,
        typer.Option(help="Offset of times without one (default +08:00; jsonl: UTC)."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="utf-8 or gb18030 (also gbk): the file's encoding, if not detected."),
    ] = None,
    study: StudyOption = Path("."),
) -> None:
    """Import a past dataset: Weiboscope or WeChatscope CSV, raw responses (JSONL), a scenario."""
    from memoryhole.imports.view import import_with_progress

    import_with_progress(
        _open(study), kind, file, console, skip_bad=skip_bad, rejected=rejected,
        platform=platform, utc_offset=utc_offset, encoding=encoding,
    )  # fmt: skip


def main() -> None:
    try:
        app()
    except MemoryholeError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
