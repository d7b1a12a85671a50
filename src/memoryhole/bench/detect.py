"""``memoryhole bench detect``: how fast each schedule catches removals on the same budget.

Every run replays the scenario through the in-process simulator on a virtual clock, with the
whole real path: the Weibo adapter builds and parses every request, the verdict state machine
folds every answer, the collector's token bucket enforces the budget. The budget is R requests
per post, a constant rate of R × posts ÷ horizon; every request counts (feed polls, timeline
polls, checks, confirmations). Runs:

- ``memoryhole``: the scheduler (``schedule/scheduler.py``), with timelines as a wide view.
  It runs on the full collector and store, and leaves its study at ``DIR/memoryhole/study``.
- ``round-robin``, ``fixed-cadence``, ``geometric``, ``oracle-static`` (given the scenario's
  true removal-age distribution; the number of checks is the most the budget sustains at the
  busiest hour): ``schedule/baselines.py``, on the same budget.
- ``per-author``: every author's timeline at a fixed interval (Zhu et al. 2013), spending what
  that interval costs; and ``memoryhole-half``: memoryhole on half of what per-author spent.

The runs other than ``memoryhole`` skip the store (``lean_collector``: same collector code,
nothing written), which makes them several times faster; ``tests/bench`` checks that the lean
and the full collector give the same verdicts. Runs go to ``workers`` processes.

Figures (``sim.truth.evaluate`` with the horizon): recall of removals within the horizon (and
of those among posts the collector discovered), false removals, attribution, detection delay
(first seen removed − true removal) and interval width (first seen removed − last seen alive).
"""

from __future__ import annotations

import bisect
import json
import math
import multiprocessing
import secrets
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from memoryhole.clock import Clock
from memoryhole.collect.collector import Collector
from memoryhole.collect.recorder import CountingRecorder
from memoryhole.config import update_config
from memoryhole.errors import MemoryholeError
from memoryhole.model import Capture, Discovery, Observation, PostRef, Target
from memoryhole.platforms.base import Platform
from memoryhole.platforms.weibo import WeiboPlatform
from memoryhole.scenario import ScenarioPost, effective_removal, suspension_times
from memoryhole.schedule.base import Policy
from memoryhole.schedule.baselines import (
    FixedCadence,
    Geometric,
    OracleStatic,
    PerAuthor,
    RoundRobin,
    optimal_static_ages,
)
from memoryhole.schedule.scheduler import Scheduler, SchedulerSettings
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import USER_TIMELINE_PREFIX, Answer, SimPlatform
from memoryhole.sim.replay import replay
from memoryhole.sim.shapes import WATCH
from memoryhole.sim.truth import evaluate
from memoryhole.store.queries import (
    VERDICT_EXPORT_FIELDS,
    add_targets,
    iter_verdicts,
    readable_times,
    withheld_region,
)
from memoryhole.store.state import PostState
from memoryhole.study import SECRET_FILE, Study

WEEK = 7 * 86400.0
NAMES = ("memoryhole", "round-robin", "fixed-cadence", "geometric", "per-author", "oracle-static")
HALF = "memoryhole-half"
ZHU_MEDIAN_WIDTH = 6.6 * 60.0  # Zhu et al. 2013: median 6.6 min, p90 116 min
HEADROOM = 0.95


class CachingSimPlatform(SimPlatform):
    """The simulator, answering a user timeline from cache while nothing that could change the
    answer has happened: same query, and as many of the author's posts published, removed and
    edited by now as when it was cached (these counts only grow), same suspension state."""

    def __init__(self, posts: Sequence[ScenarioPost], clock: Clock) -> None:
        super().__init__(posts, clock)
        self._author_times: dict[str, tuple[list[float], list[float], list[float], float]] = {}
        for author, indices in self.by_author.items():
            published = [self.posts[i].published_at for i in indices]
            removed = sorted(
                gone[0] for i in indices if (gone := self.gone.get(self.posts[i].post_id))
            )
            edits = sorted(at for i in indices for at, _ in self.posts[i].edits)
            suspended = self.suspended_at.get(author, math.inf)
            self._author_times[author] = (published, removed, edits, suspended)
        self._answers: dict[tuple[object, ...], Answer] = {}

    def listing(self, query: Mapping[str, str], now: float) -> Answer:
        container = query.get("containerid", "")
        times = self._author_times.get(container[len(USER_TIMELINE_PREFIX) :])
        if not container.startswith(USER_TIMELINE_PREFIX) or times is None:
            return super().listing(query, now)
        published, removed, edits, suspended = times
        key = (
            container,
            query.get("since_id"),
            query.get("count"),
            bisect.bisect_right(published, now),
            bisect.bisect_right(removed, now),
            bisect.bisect_right(edits, now),
            suspended <= now,
        )
        answer = self._answers.get(key)
        if answer is None:
            if len(self._answers) > 200_000:
                self._answers.clear()
            answer = self._answers[key] = super().listing(query, now)
        return answer


class CachingWeibo(WeiboPlatform):
    """The Weibo adapter, re-using its own classification of a byte-identical answer to the
    same request (classification is a pure function of the request and the answer)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self._checks: dict[str, tuple[int | None, bytes, Observation]] = {}
        self._listings: dict[tuple[object, ...], tuple[int | None, bytes, Discovery]] = {}

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        cached = self._checks.get(post.post_id)
        if cached is not None and cached[0] == capture.status and cached[1] == capture.body:
            return cached[2]
        observation = super().parse_check(post, capture)
        if capture.status == 200 and not capture.error:
            self._checks[post.post_id] = (capture.status, capture.body, observation)
        return observation

    def parsed_check(self, post_id: str, status: int, body: bytes) -> Observation | None:
        """The classification kept for the post's last answer, if it was this one."""
        cached = self._checks.get(post_id)
        if cached is not None and cached[0] == status and cached[1] == body:
            return cached[2]
        return None

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        # The URL too: a timeline's cursor rides in its fragment (never sent, so the same
        # params and body can answer two cursors, whose next pages differ).
        key = (target, capture.request.url, capture.request.params)
        cached = self._listings.get(key)
        if cached is not None and cached[0] == capture.status and cached[1] == capture.body:
            return cached[2]
        discovery = super().parse_discover(target, capture)
        if capture.status == 200 and not capture.error:
            if len(self._listings) > 100_000:
                self._listings.clear()
            self._listings[key] = (capture.status, capture.body, discovery)
        return discovery


#: Whether lean runs answer repeated checks from ``KnownAnswers`` (tests and
#: ``benchmarks/detect_scale.py`` turn it off to compare).
REPEAT_ANSWERS = True


class KnownAnswers:
    """The lean runs' shortcut (``collect.checks.Shortcut``): a check whose answer the
    simulator would send is the answer the adapter classified last for that post (same
    status, same bytes) is folded with that classification, without building the request,
    sending it and parsing the answer again: every step of it is a pure function of the
    request and that answer. It still takes its token and counts as a request."""

    def __init__(
        self,
        transport: InProcessTransport,
        adapter: CachingWeibo,
        show: Callable[[str, float], Answer],
    ) -> None:
        self.transport, self.adapter, self.show = transport, adapter, show
        self.repeated = 0  # checks folded from the post's last answer

    def __call__(self, post: PostState, now: float) -> Observation | None:
        answer = self.show(post.post_id, now)
        observation = self.adapter.parsed_check(post.post_id, answer[0], answer[2])
        if observation is None or not observation.status.is_definitive:
            return None
        self.transport.requests += 1
        self.repeated += 1
        return observation


def lean_collector(
    study: Study,
    adapters: dict[str, Platform],
    transport: Any,
    clock: Clock,
    **options: Any,
) -> Collector:
    """The collector without the store: a ``CountingRecorder`` (observations, verdicts and
    the evidence log are not written; the verdicts stay in ``state``). Scheduling and
    classification are untouched; the simulator and the adapter memoise answers
    (``CachingSimPlatform``, ``CachingWeibo``), and, only without faults, a simulator rate
    limit or media, on the Weibo shape, checks are answered by ``KnownAnswers``."""
    for name, adapter in adapters.items():
        if type(adapter) is WeiboPlatform:
            adapters[name] = CachingWeibo(adapter.base_url)
    if (
        isinstance(transport, InProcessTransport)
        and type(transport.platform) is SimPlatform
        and transport.platform.shape is None  # its cache reads Weibo's user timelines
    ):
        platform = transport.platform
        transport.platform = CachingSimPlatform(platform.posts, platform.clock)
    shortcut: KnownAnswers | None = None
    cached = list(adapters.values())
    if (
        REPEAT_ANSWERS
        and isinstance(transport, InProcessTransport)
        and isinstance(transport.platform, CachingSimPlatform)
        and transport.platform.shape is None
        and transport.faults.total <= 0.0
        and not transport.rate_limited
        and study.config.collector.media != "download"
        and len(cached) == 1
        and isinstance(cached[0], CachingWeibo)
    ):
        shortcut = KnownAnswers(transport, cached[0], transport.platform.show)
    return Collector(
        study, adapters, transport, clock, recorder=CountingRecorder, shortcut=shortcut, **options
    )


@dataclass
class DetectSettings:
    scenario: Path
    budget_per_post: float
    out: Path
    horizon: float = WEEK
    seed: int = 0
    poll_interval: float = 60.0
    per_author_interval: float = ZHU_MEDIAN_WIDTH
    workers: int = 2
    faults: str | None = None
    only: tuple[str, ...] = ()
    half_life: float | None = None  # the scheduler's learning_half_life
    keep_study: bool = True  # memoryhole's run on the full collector, its study kept
    #: The simulator's shapes and the adapter. Author timelines (the per-author baseline, the
    #: scheduler's wide view) are Weibo's; elsewhere every schedule watches the platform's feed.
    platform: str = "weibo"


@dataclass
class RunResult:
    name: str
    requests: int
    budget_per_second: float | None
    wall_seconds: float
    figures: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Job:
    name: str
    budget_per_second: float | None
    policy: str
    timelines: bool
    full: bool
    parameters: dict[str, Any] = field(default_factory=dict)


_SCENARIO: list[ScenarioPost] = []  # set before the worker processes fork


def scenario_span(posts: Sequence[ScenarioPost], horizon: float) -> tuple[float, float]:
    """Where a run starts and ends: the first post, and the last post's horizon (+10 min)."""
    return (
        min(p.published_at for p in posts),
        max(p.published_at for p in posts) + horizon + 600.0,
    )


def true_removal_ages(posts: Sequence[ScenarioPost], horizon: float) -> list[float]:
    """Ages at removal of the posts removed within the horizon (seen alive first)."""
    suspended = suspension_times(posts)
    ages = []
    for post in posts:
        removal = effective_removal(post, suspended)
        if removal is not None and 0 < removal[0] - post.published_at <= horizon:
            ages.append(removal[0] - post.published_at)
    return ages


def oracle_ages(
    posts: Sequence[ScenarioPost],
    check_rate: float,
    horizon: float,
    *,
    window: float = 3600.0,
) -> list[float]:
    """The oracle's check ages: the DP optimum for K checks, K the most the budget sustains
    (checks due in the busiest ``window`` within ``HEADROOM`` of the rate)."""
    removal_ages = true_removal_ages(posts, horizon)
    published = np.array([p.published_at for p in posts])
    origin = published.min()

    def peak(ages: Sequence[float]) -> float:
        counts = np.zeros(1, dtype=np.int64)
        for age in ages:
            slots = ((published + age - origin) // window).astype(np.int64)
            hist = np.bincount(slots)
            if len(hist) > len(counts):
                hist[: len(counts)] += counts
                counts = hist
            else:
                counts[: len(hist)] += hist
        return float(counts.max()) / window

    def schedule(k: int) -> list[float]:
        return optimal_static_ages(removal_ages, k, horizon)

    low, high = 1, 96
    best = schedule(1)
    while low <= high:
        middle = (low + high) // 2
        ages = schedule(middle)
        if peak(ages) <= HEADROOM * check_rate:
            best, low = ages, middle + 1
        else:
            high = middle - 1
    return best


def _policy(job: Job, settings: DetectSettings, rate: float | None) -> Policy:
    horizon = settings.horizon
    checks_rate = (rate or 1e9) - 1.0 / settings.poll_interval
    if job.policy == "memoryhole":
        return Scheduler(
            SchedulerSettings(
                budget_per_second=rate or 1e9,
                horizon=horizon,
                timelines=job.timelines,
                seed=settings.seed,
                half_life=settings.half_life,
            )
        )
    if job.policy == "round-robin":
        return RoundRobin(horizon=horizon, rate=max(checks_rate, 1e-9))
    if job.policy == "fixed-cadence":
        return FixedCadence(horizon=horizon)
    if job.policy == "geometric":
        return Geometric(horizon=horizon)
    if job.policy == "oracle-static":
        return OracleStatic(horizon=horizon, ages=job.parameters["ages"])
    if job.policy == "per-author":
        return PerAuthor(settings.per_author_interval, horizon=horizon)
    raise ValueError(f"unknown policy {job.policy!r}")


def _pseudonymous_rows(collector: Collector, study: Study) -> list[dict[str, Any]]:
    names: dict[str, str] = {}
    rows = []
    for pk in sorted(collector.state.posts):
        post = collector.state.posts[pk]
        author = names.get(post.author_id)
        if author is None:
            author = names[post.author_id] = study.pseudonym(post.platform, post.author_id)
        verdict = post.verdict
        rows.append(
            {
                "post_id": post.post_id,
                "author_id": author,
                "first_seen_at": verdict.first_seen_at,
                "last_seen_alive_at": verdict.last_seen_alive_at,
                "first_seen_removed_at": verdict.first_seen_removed_at,
                "verdict": verdict.export_value,
                "interval_spans_gap": False,  # a replay never stops: no coverage gap
                **readable_times(
                    verdict.first_seen_at,
                    verdict.last_seen_alive_at,
                    verdict.first_seen_removed_at,
                    post.published_at,
                ),
                "region": withheld_region(verdict.status, verdict.signal),
            }
        )
    return rows


def write_verdicts(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """``export verdicts --format jsonl``, line for line."""
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            contract = {key: row[key] for key in VERDICT_EXPORT_FIELDS}
            handle.write(json.dumps(contract, ensure_ascii=False) + "\n")


def shared_secret(settings: DetectSettings) -> Path:
    """The pseudonymisation secret every run uses, so an author has one pseudonym in all the
    exports: the memoryhole study's, or one made for the benchmark without a study."""
    kept = settings.out / "memoryhole" / "study" / SECRET_FILE
    if settings.keep_study:
        return kept
    path = settings.out / ".secret.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path


def _prepare_study(folder: Path, secret: Path | None, poll_interval: float) -> Study:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if secret is not None:  # the same pseudonyms in every run's export
        shutil.copyfile(secret, folder / SECRET_FILE)
        (folder / SECRET_FILE).chmod(0o600)
    study = Study.init(folder)
    update_config(study.config_path, ("collector",), "poll_interval", poll_interval)
    return Study.open(folder)


def run_job(job: Job, settings: DetectSettings, *, until: float | None = None) -> RunResult:
    """One schedule on ``_SCENARIO``, to the last post's horizon (or to platform time
    ``until``: ``benchmarks/detect_scale.py`` times the first hours of large scenarios)."""
    posts = _SCENARIO
    started = time.perf_counter()
    _, end = scenario_span(posts, settings.horizon)
    if until is not None:
        end = min(end, until)
    run_dir = settings.out / job.name
    run_dir.mkdir(parents=True, exist_ok=True)
    folder = run_dir / "study" if job.full else run_dir / ".study"
    if job.full:
        study = Study.open(folder)  # prepared by run_detect, before any run started
    else:
        secret = shared_secret(settings)
        study = _prepare_study(folder, secret if secret.exists() else None, settings.poll_interval)
    targets = [WATCH[settings.platform]]
    if job.timelines and settings.platform == "weibo":
        targets += [Target("weibo", "user", a) for a in sorted({p.author_id for p in posts})]
    add_targets(study.engine, targets, 0.0)  # the feed first: it discovers, timelines look
    policy = _policy(job, settings, job.budget_per_second)
    holder: list[Collector] = []
    stats, stopped = replay(
        study,
        posts,
        until=end,
        faults=settings.faults,
        seed=settings.seed,
        budget_per_second=job.budget_per_second or 1e9,
        policy=policy,
        build=Collector if job.full else lean_collector,
        on_start=holder.append,
        platform=settings.platform,
    )
    full_rows = list(iter_verdicts(study.engine)) if job.full else None
    rows = full_rows if full_rows is not None else _pseudonymous_rows(holder[0], study)
    write_verdicts(rows, run_dir / "verdicts.jsonl")
    evaluation = evaluate(
        posts, rows, until=stopped, horizon=settings.horizon, platform=settings.platform
    )
    notes: dict[str, Any] = {"checks": stats.checks, "polls": stats.polls}
    if isinstance(policy, Scheduler):
        notes["final_threshold"] = policy.threshold  # its state is the study's (durable.py)
    if isinstance(policy, OracleStatic):
        notes["check_ages_hours"] = [round(a / 3600, 3) for a in policy.ages]
    if isinstance(policy, PerAuthor):
        notes["interval_seconds"] = policy.interval
    if not job.full:
        shortcut = holder[0].checks.shortcut
        notes["repeated_answers"] = shortcut.repeated if isinstance(shortcut, KnownAnswers) else 0
    study.close()
    if not job.full:
        shutil.rmtree(folder, ignore_errors=True)
    return RunResult(
        name=job.name,
        requests=stats.checks + stats.polls - stats.shared_checks,
        budget_per_second=job.budget_per_second,
        wall_seconds=time.perf_counter() - started,
        figures=evaluation.as_dict(),
        notes=notes,
    )


def _run_job_in_worker(args: tuple[Job, DetectSettings]) -> RunResult:
    return run_job(*args)


def check_budget(settings: DetectSettings, posts: Sequence[ScenarioPost]) -> None:
    """Refuse a budget the feed polls alone would take (nothing would be checked)."""
    rate = settings.budget_per_post * len(posts) / settings.horizon
    feed = 1.0 / settings.poll_interval
    if rate <= feed:
        raise MemoryholeError(
            f"a budget of {rate:.4g} requests/s (R x {len(posts):,} posts / horizon) leaves "
            f"nothing for checks once the feed is polled every {settings.poll_interval:g} s "
            f"({feed:.4g}/s): give --budget-per-post more than "
            f"{feed * settings.horizon / len(posts):.4g}, a --poll-interval over "
            f"{1.0 / rate:.4g} s, or a scenario with more posts"
        )


def plan_jobs(settings: DetectSettings, posts: Sequence[ScenarioPost]) -> list[Job]:
    check_budget(settings, posts)
    rate = settings.budget_per_post * len(posts) / settings.horizon
    jobs = [
        Job("memoryhole", rate, "memoryhole", timelines=True, full=settings.keep_study),
        Job("per-author", None, "per-author", timelines=True, full=False),
        Job("round-robin", rate, "round-robin", timelines=False, full=False),
        Job("geometric", rate, "geometric", timelines=False, full=False),
        Job("fixed-cadence", rate, "fixed-cadence", timelines=False, full=False),
    ]
    if settings.platform != "weibo":  # no author timelines: per-author has nothing to poll
        jobs = [job for job in jobs if job.name != "per-author"]
    checks_rate = rate - 1.0 / settings.poll_interval
    ages = oracle_ages(posts, checks_rate, settings.horizon)
    jobs.append(
        Job("oracle-static", rate, "oracle-static", False, False, parameters={"ages": ages})
    )
    if settings.only:
        jobs = [job for job in jobs if job.name in settings.only]
    return jobs


def run_detect(
    settings: DetectSettings,
    posts: Sequence[ScenarioPost],
    *,
    progress: Callable[[RunResult], None] | None = None,
) -> dict[str, Any]:
    """Run every schedule on the scenario; write verdicts and ``summary.json``; return it."""
    global _SCENARIO
    _SCENARIO = list(posts)
    settings.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rate = settings.budget_per_post * len(posts) / settings.horizon
    jobs = plan_jobs(settings, posts)
    want_half = (not settings.only or HALF in settings.only) and settings.platform == "weibo"
    if want_half and not any(job.name == "per-author" for job in jobs):
        jobs.append(Job("per-author", None, "per-author", True, False))
    start, end = scenario_span(posts, settings.horizon)
    results: dict[str, RunResult] = {}

    def half_job(per_author: RunResult) -> Job:
        half_rate = per_author.requests / 2 / (end - start)
        return Job(HALF, half_rate, "memoryhole", timelines=True, full=False)

    def done(result: RunResult) -> None:
        results[result.name] = result
        if progress is not None:
            progress(result)

    for job in jobs:
        if job.full:  # first: the other runs share its secret, so pseudonyms match
            _prepare_study(settings.out / job.name / "study", None, settings.poll_interval).close()
    shared_secret(settings)
    if settings.workers <= 1:
        for job in jobs:
            done(run_job(job, settings))
            if job.name == "per-author" and want_half:
                done(run_job(half_job(results["per-author"]), settings))
    else:
        context = multiprocessing.get_context("fork")
        with context.Pool(settings.workers, maxtasksperchild=1) as pool:
            pending = [pool.apply_async(_run_job_in_worker, ((job, settings),)) for job in jobs]
            while pending:
                for handle in list(pending):
                    if not handle.ready():
                        continue
                    pending.remove(handle)
                    result = handle.get()
                    done(result)
                    if result.name == "per-author" and want_half:
                        job = half_job(result)
                        pending.append(pool.apply_async(_run_job_in_worker, ((job, settings),)))
                time.sleep(0.05)
    summary = _summary(settings, posts, rate, results, time.perf_counter() - started)
    (settings.out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return summary


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _summary(
    settings: DetectSettings,
    posts: Sequence[ScenarioPost],
    rate: float,
    results: dict[str, RunResult],
    wall: float,
) -> dict[str, Any]:
    order = [*NAMES, HALF]
    runs: dict[str, Any] = {}
    for name in sorted(results, key=order.index):
        result = results[name]
        figures = result.figures
        runs[name] = {
            "requests": result.requests,
            "requests_per_post": result.requests / len(posts),
            "budget_per_second": result.budget_per_second,
            "recall": figures["recall"],
            "recall_of_watched": figures["recall_of_watched"],
            "false_removals": figures["false_removals"],
            "attribution_accuracy": figures["attribution_accuracy"],
            "median_detection_delay": figures["median_detection_delay"],
            "p90_detection_delay": figures["p90_detection_delay"],
            "median_interval_width": figures["median_interval_width"],
            "p90_interval_width": figures["p90_interval_width"],
            "true_removals": figures["true_removals"],
            "caught": figures["caught"],
            "interval_misses": figures["interval_misses"],
            "wall_seconds": round(result.wall_seconds, 1),
            **result.notes,
        }
    mine = runs.get("memoryhole", {})
    half = runs.get(HALF, {})
    zhu = runs.get("per-author", {})
    comparisons = {
        "memoryhole_vs_oracle_median_delay": _ratio(
            mine.get("median_detection_delay"),
            runs.get("oracle-static", {}).get("median_detection_delay"),
        ),
        "memoryhole_vs_round_robin_median_delay": _ratio(
            mine.get("median_detection_delay"),
            runs.get("round-robin", {}).get("median_detection_delay"),
        ),
        "half_vs_per_author_requests": _ratio(half.get("requests"), zhu.get("requests")),
        "half_vs_per_author_median_width": _ratio(
            half.get("median_interval_width"), zhu.get("median_interval_width")
        ),
        "half_vs_per_author_p90_width": _ratio(
            half.get("p90_interval_width"), zhu.get("p90_interval_width")
        ),
    }
    authors = len({p.author_id for p in posts})
    start, end = scenario_span(posts, settings.horizon)
    days = max((max(p.published_at for p in posts) - start) / 86400.0, 1e-9)
    return {
        "scenario": str(settings.scenario),
        "posts": len(posts),
        "authors": authors,
        "posts_per_author_per_day": len(posts) / authors / days,
        "budget_per_post": settings.budget_per_post,
        "budget_per_second": rate,
        "horizon": settings.horizon,
        "seed": settings.seed,
        "poll_interval": settings.poll_interval,
        "virtual_seconds": end - start,
        "wall_seconds": round(wall, 1),
        "workers": settings.workers,
        "runs": runs,
        "comparisons": comparisons,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()},
    }


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def summary_table(summary: dict[str, Any]) -> Table:
    """The figures of ``summary.json`` as a table (times in minutes)."""
    table = Table(
        title=(
            f"{summary['posts']:,} posts, {summary['authors']:,} authors, "
            f"{summary['budget_per_post']:g} requests/post = "
            f"{summary['budget_per_second']:.3g} requests/s, horizon "
            f"{summary['horizon'] / 86400:g} d"
        )
    )
    for column in (
        "schedule",
        "requests",
        "/post",
        "recall",
        "of seen",
        "false",
        "attrib.",
        "delay p50",
        "p90",
        "width p50",
        "p90 ",
    ):
        table.add_column(column, justify="left" if column == "schedule" else "right")
    for name, run in summary["runs"].items():
        table.add_row(
            name,
            f"{run['requests']:,}",
            f"{run['requests_per_post']:.1f}",
            f"{run['recall']:.1%}",
            f"{run['recall_of_watched']:.1%}",
            str(run["false_removals"]),
            f"{run['attribution_accuracy']:.1%}",
            _minutes(run["median_detection_delay"]),
            _minutes(run["p90_detection_delay"]),
            _minutes(run["median_interval_width"]),
            _minutes(run["p90_interval_width"]),
        )
    return table


def comparison_lines(summary: dict[str, Any]) -> list[str]:
    comparisons = summary["comparisons"]
    labels = {
        "memoryhole_vs_oracle_median_delay": "memoryhole ÷ oracle-static, median delay",
        "memoryhole_vs_round_robin_median_delay": "memoryhole ÷ round-robin, median delay",
        "half_vs_per_author_requests": f"{HALF} ÷ per-author, requests",
        "half_vs_per_author_median_width": f"{HALF} ÷ per-author, median width",
        "half_vs_per_author_p90_width": f"{HALF} ÷ per-author, p90 width",
    }
    return [
        f"{label}: {comparisons[key]:.2f}"
        for key, label in labels.items()
        if comparisons.get(key) is not None
    ]
