"""The lab's commands: the simulator, the demo, the benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from memoryhole.cli.apps import (
    StudyOption,
    app,
    bench_app,
    console,
    err_console,
    open_study,
    sim_app,
)
from memoryhole.errors import MemoryholeError


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
    search_rules: Annotated[
        Path | None,
        typer.Option(help="Filter Weibo's search by these rules (Citizen Lab's format)."),
    ] = None,
    soft_rules: Annotated[
        Path | None,
        typer.Option(help="Rules whose searches show authorised accounts only (soft)."),
    ] = None,
    filter_noise: Annotated[
        float, typer.Option(help="Share of searches the filter answers wrongly.")
    ] = 0.0,
    ordered_matching: Annotated[
        bool,
        typer.Option(help="Match each rule's components only in the order the list gives."),
    ] = False,
    censor_region: Annotated[
        str | None,
        typer.Option(
            help="Censored posts are withheld only from this region (requests without a "
            "vantage, or from it); other vantages see them."
        ),
    ] = None,
    started: Annotated[
        float | None,
        typer.Option(
            help="Wall time (epoch) the scenario starts at: simulators given the same one "
            "share one platform clock (default: now)."
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            help="Where requests that name no vantage come from (the study's own connection), "
            "for the scenario's withhold events; a vantage's requests name theirs."
        ),
    ] = None,
) -> None:
    """Serve a scenario over HTTP on loopback in a platform's shapes (Weibo's by default)."""
    from memoryhole.isolate.rules import read_rules
    from memoryhole.sim.search_filter import SearchFilter
    from memoryhole.sim.server import serve
    from memoryhole.sim.shapes import WATCH, get_shape

    get_shape(platform)  # an unknown name fails here, before the server starts
    search_filter = None
    if search_rules or soft_rules:
        search_filter = SearchFilter(
            hard=read_rules(search_rules, ordered=ordered_matching) if search_rules else [],
            soft=read_rules(soft_rules, ordered=ordered_matching) if soft_rules else [],
            noise=filter_noise,
        )
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
        search_filter=search_filter,
        censor_region=censor_region,
        started=started,
        home_region=region,
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
        open_study(study), posts, until=end, faults=faults, seed=seed, platform=platform
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
    platform: Annotated[
        list[str] | None,
        typer.Option(
            help="Which simulated platform (repeat for several at once): weibo, reddit, "
            "mastodon, rss, json, bluesky, telegram, youtube."
        ),
    ] = None,
) -> None:
    """Generate a scenario, simulate a censoring platform, watch it, and show what was caught."""
    from memoryhole.cli.demo import run_demo

    platforms = platform or ["weibo"]
    run_demo(
        directory, seconds=seconds, speed=speed, seed=seed, console=console, platforms=platforms
    )


@bench_app.command("throughput")
def bench_throughput(
    seconds: Annotated[float, typer.Option(help="Length of each timed run.")] = 10.0,
    posts: Annotated[int, typer.Option(help="Posts in the benchmark scenario.")] = 20_000,
    concurrency: Annotated[int, typer.Option(help="Requests in flight.")] = 32,
    profile: Annotated[bool, typer.Option(help="Print where the collector's time goes.")] = False,
    database: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL server's URL: the collector also runs on a study there (a new "
            "database), in the same invocation (scripts/postgres start gives one)."
        ),
    ] = None,
) -> None:
    """Checks/s end to end (archived + committed) vs a bare aiohttp loop, same server."""
    from memoryhole.bench.throughput import run_throughput

    console.print(f"simulator on loopback, {posts:,} posts, {concurrency} in flight, {seconds:g} s")
    result = run_throughput(
        posts=posts, seconds=seconds, concurrency=concurrency, profile=profile, database=database
    )
    console.print(f"bare aiohttp loop:      {result.bare_requests_per_second:8,.0f} req/s")
    console.print(f"memoryhole collector:   {result.collector_checks_per_second:8,.0f} checks/s")
    console.print(f"ratio:                  {result.ratio:8.1%}")
    console.print(f"observations committed: {result.committed_observations:8,}")
    if result.postgres_checks_per_second is not None:
        pg = result.postgres_checks_per_second
        console.print(
            f"on PostgreSQL:          {pg:8,.0f} checks/s "
            f"({pg / result.bare_requests_per_second:.1%} of the bare loop, "
            f"{pg / result.collector_checks_per_second:.2f} x SQLite)"
        )
    if result.profile:
        console.print(result.profile)


@bench_app.command("scale")
def bench_scale(
    database: Annotated[
        str, typer.Option(help="A PostgreSQL server's URL (a database is made per run).")
    ],
    workers: Annotated[str, typer.Option(help="Numbers of workers to run, e.g. 1,2,4,8.")] = (
        "1,2,4,8"
    ),
    seconds: Annotated[float, typer.Option(help="How long each run lasts (wall).")] = 60.0,
    authors: Annotated[int, typer.Option(help="Timelines watched (the partitions).")] = 48,
    posts_per_author: Annotated[int, typer.Option(help="Posts in each timeline.")] = 60,
    speed: Annotated[float, typer.Option(help="Platform seconds per wall second.")] = 60.0,
    rate_limit: Annotated[
        float, typer.Option(help="The simulator's limit per account (requests per wall second).")
    ] = 400.0,
    accounts: Annotated[
        bool,
        typer.Option(
            help="Each worker asks as its own account (the simulator rations each at "
            "--rate-limit), and each N is compared with one worker on one account N times "
            "as large (the sum of the budgets)."
        ),
    ] = False,
    term: Annotated[
        float,
        typer.Option(
            help="Each worker's --term in wall seconds (its --lease three terms), as "
            "`memoryhole run`'s."
        ),
    ] = 10.0,
) -> None:
    """N `memoryhole run` workers on one PostgreSQL study: throughput, 429s, duplicates, log."""
    import tempfile

    from memoryhole.bench.scale import run_one

    try:
        counts = [int(n) for n in workers.split(",") if n.strip()]
    except ValueError:
        raise MemoryholeError(f"--workers {workers!r}: give numbers, e.g. 1,2,4,8") from None
    console.print(
        f"{authors} timelines x {posts_per_author} posts, {speed:g}x, {rate_limit:g} req/s per "
        f"account (budget 90%), 100-300 ms latency, {seconds:g} s per run"
    )
    header = (
        "N  obs/s  obs/s/worker  429s  dups  contiguous  verify  detected  delay med/p90 (min)"
        "  med of all  CPU s workers/sim/db  db share"
    )
    console.print(header, markup=False, soft_wrap=True)
    runs = [(n, n, "") for n in counts]
    if accounts:  # N workers on N accounts, then one worker on one account of N times the budget
        runs = [
            run for n in counts for run in ((n, n, ""), (1, n, "sum")) if run[1] > 1 or not run[2]
        ]
    with tempfile.TemporaryDirectory(prefix="memoryhole-scale-") as tmp:
        for n, budgets, label in runs:
            row = run_one(
                n, database, Path(tmp), seconds=seconds, authors=authors,
                posts_per_author=posts_per_author, speed=speed,
                rate=rate_limit * (budgets if label else 1), accounts=accounts,
                label=f"{label}{budgets}", term=term,
            )  # fmt: skip
            median = f"{row.delay_median:.1f}" if row.delay_median is not None else "-"
            p90 = f"{row.delay_p90:.1f}" if row.delay_p90 is not None else "-"
            name = f"1 on {budgets}x" if label else str(n)
            every = f"{row.delay_median_all:.1f}" if row.delay_median_all is not None else "-"
            console.print(
                f"{name:<2} {row.per_second:6.1f} {row.per_worker:12.1f} {row.refused:5} "
                f"{row.duplicates:5} {'yes' if row.contiguous else 'NO':>10} "
                f"{'pass' if row.verified else 'FAIL':>7} {row.detected:4}/{row.removals:<4} "
                f"{median:>8}/{p90:<8} {every:>10} {row.worker_cpu:7.1f}/{row.sim_cpu:.1f}/"
                f"{row.db_cpu:.1f}  {row.db_share:8.1%}",
                markup=False,
                soft_wrap=True,
            )


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
    platform: Annotated[
        str,
        typer.Option(
            help="The simulated platform (its shapes and adapter): weibo, or e.g. bluesky, "
            "telegram, youtube (their feed only: author timelines and per-author are Weibo's)."
        ),
    ] = "weibo",
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
    from memoryhole.sim.shapes import WATCH

    if platform not in WATCH:
        raise MemoryholeError(f"no simulated platform {platform!r}; give one of {sorted(WATCH)}")
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
        only=tuple(
            name
            for name in (*NAMES, HALF)
            if name not in skipped
            and (platform == "weibo" or name not in ("per-author", HALF))  # Weibo's timelines
        ),
        keep_study=study,
        platform=platform,
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


@bench_app.command("isolate")
def bench_isolate(
    texts: Annotated[int, typer.Option(help="Texts to build, each with 0–3 planted rules.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed: the same texts and rules.")] = 1,
    noise: Annotated[
        list[float] | None,
        typer.Option(help="Share of wrong answers (repeatable; default 0, 0.02 and 0.05)."),
    ] = None,
    rules: Annotated[
        Path | None, typer.Option(help="Rules to plant (Citizen Lab's format; default: made up).")
    ] = None,
    ordered: Annotated[
        bool, typer.Option(help="A platform whose matching is ordered (rules in list order).")
    ] = False,
) -> None:
    """How exactly and with how few probes rules are isolated, vs component-aware bisection."""
    from rich.table import Table

    from memoryhole.bench.isolate import run_isolate_bench
    from memoryhole.isolate.rules import read_rules

    out = run_isolate_bench(
        texts=texts,
        seed=seed,
        noises=noise or [0.0, 0.02, 0.05],
        rules=read_rules(rules, ordered=ordered) if rules else None,
        ordered=ordered,
    )
    matching = "ordered" if ordered else "unordered"
    table = Table(
        title=f"{texts} texts, seed {seed}, {out['rules_in_list']} rules in the list, "
        f"{matching} matching"
    )
    for name in (
        "noise",
        "method",
        "planted",
        "recovered",
        "false rules",
        "probes/text",
        "probes/rule",
    ):
        table.add_column(name, justify="left" if name == "method" else "right", no_wrap=True)
    for run in out["runs"]:
        table.add_row(
            f"{run['noise']:.0%}",
            run["method"],
            f"{run['planted']:,}",
            f"{run['recovered_share']:.1%}",
            str(run["false_rules"]),
            f"{run['probes_per_text']:.1f}",
            f"{run['probes_per_rule']:.1f}",
        )
    console.print(table)
    for level in sorted({run["noise"] for run in out["runs"]}):
        by = {run["method"]: run for run in out["runs"] if run["noise"] == level}
        if by.get("bisection", {}).get("probes_per_rule"):
            base = by["bisection"]["probes_per_rule"]
            console.print(
                f"noise {level:.0%}: probes per rule ÷ bisection: memoryhole "
                f"{by['memoryhole']['probes_per_rule'] / base:.2f}, cold "
                f"{by['memoryhole-cold']['probes_per_rule'] / base:.2f}"
            )


@bench_app.command("analysis")
def bench_analysis(
    posts: Annotated[int, typer.Option(help="Posts in the synthetic study.")] = 1_000_000,
    observations: Annotated[
        int, typer.Option(help="Checks of those posts (the observations).")
    ] = 10_000_000,
    out: Annotated[Path, typer.Option(help="Folder for the study's Parquet (replaced).")] = Path(
        "bench-analysis"
    ),
    engine: Annotated[str, typer.Option(help="duckdb or dask.")] = "duckdb",
    scheduler: Annotated[
        str | None, typer.Option(help="--engine dask: the scheduler's address.")
    ] = None,
    terms_per_post: Annotated[int, typer.Option(help="Distinct terms per post (mean).")] = 20,
    bootstrap: Annotated[int, typer.Option(help="Survival bootstrap resamples.")] = 200,
    reuse: Annotated[
        bool, typer.Option(help="Analyse the study already in --out instead of generating.")
    ] = False,
    keep: Annotated[bool, typer.Option(help="Keep the Parquet afterwards.")] = True,
) -> None:
    """Generate a large synthetic study as Parquet and time the out-of-core analyses on it
    (wall time and peak memory of each step, each its own process)."""
    from rich.table import Table

    from memoryhole.bench.analysis import remove, run_analysis_bench

    console.print(
        f"{posts:,} posts, {observations:,} observations, ~{terms_per_post} terms a post, "
        f"--engine {engine}, bootstrap {bootstrap}; Parquet in {out}"
    )
    steps = run_analysis_bench(
        posts,
        observations,
        out,
        engine=engine,
        scheduler=scheduler,
        terms_per_post=terms_per_post,
        bootstrap=bootstrap,
        generate=not reuse,
    )
    table = Table(title="bench analysis")
    for name in ("step", "seconds", "peak RSS (MB)", "detail"):
        table.add_column(name, justify="left" if name in ("step", "detail") else "right")
    for step in steps:
        table.add_row(step.name, f"{step.seconds:.1f}", f"{step.peak_mb:,.0f}", step.detail)
    console.print(table)
    if not keep:
        remove(out)
