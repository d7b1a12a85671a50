"""Figures the dashboard shows, computed off the request path and kept while the store is
unchanged.

Study-wide figures (counts, the removals index, survival curves, the term table) take from a
fraction of a second to minutes on a large study, far more than a page may take. A background
thread recomputes them when the store changed (a cheap "version": the last observation id, the
number of targets and of takedowns), each tier at most once per its interval: ``fast`` figures
(counts, timeline, removals feed: seconds behind a running collector), ``medium`` ones
(accounts, survival curves, coverage gaps, the methods text) and ``slow`` ones (the term index:
every post tokenised). Pages read whatever was computed last and say when it was computed; a
figure not computed yet shows as "computing", and the page polls until it is there.

Without the thread (``background=False``: tests, the report) a stale figure is recomputed
synchronously on first use.

``CacheSettings.engine``: ``pandas`` computes the time-to-removal curves and the term index
from one row per post in memory; ``duckdb`` computes them out of core
(:mod:`memoryhole.analysis.engines.figures`: DuckDB's reductions over the study's analysis
dataset, which is written again when the store changed, at most once per ``slow_every``
seconds), so the dashboard's memory does not grow with the number of posts for them. The other
figures are GROUP BYs in the store either way.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from memoryhole.analysis import overview
from memoryhole.analysis.methods import methods_text
from memoryhole.errors import ConfigError
from memoryhole.store.coverage import CoverageGap, GapIndex
from memoryhole.store.schema import observations, redactions, targets
from memoryhole.study import Study
from memoryhole.web.feed import RemovalIndex

if TYPE_CHECKING:
    from memoryhole.analysis.engines.figures import StudyReductions

log = logging.getLogger("memoryhole.web")

Version = tuple[int, int, int]


@dataclass
class Figure:
    value: Any
    computed_at: float  # wall clock
    seconds: float  # how long computing it took
    version: Version


@dataclass(frozen=True)
class CacheSettings:
    fast_every: float = 5.0
    medium_every: float = 60.0
    slow_every: float = 600.0
    bootstrap: int = 100
    term_views: tuple[str, ...] = ("word", "char2", "char3")
    segmenter: str = "auto"
    min_posts: int = 20
    #: ``pandas`` (in memory) or ``duckdb`` (out of core; see the module docstring).
    engine: str = "pandas"


TIERS: dict[str, tuple[str, ...]] = {
    "fast": ("counts", "timeline", "feed", "targets"),
    # gaps first: speed, methods and the analysis dataset use the gaps of the same pass
    "medium": ("gaps", "accounts", "speed", "methods"),
    "slow": ("term_index",),
}


def store_version(study: Study) -> Version:
    with study.engine.connect() as conn:
        last = conn.execute(select(func.max(observations.c.id))).scalar() or 0
        taken = conn.execute(select(func.count()).select_from(redactions)).scalar() or 0
        watched = conn.execute(select(func.count()).select_from(targets)).scalar() or 0
    return int(last), int(taken), int(watched)


class FigureCache:
    def __init__(
        self, study: Study, settings: CacheSettings | None = None, *, background: bool = True
    ) -> None:
        self.study = study
        self.settings = settings or CacheSettings()
        self.background = background
        self.figures: dict[str, Figure] = {}
        self.errors: dict[str, str] = {}
        self._derived: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tier_done: dict[str, tuple[float, Version]] = {}
        self.tiers: dict[str, tuple[str, ...]] = dict(TIERS)
        engine = study.engine
        settings_ = self.settings
        self._compute: dict[str, Callable[[], Any]] = {
            "counts": lambda: overview.verdict_counts(engine),
            "timeline": lambda: overview.removals_over_time(engine),
            "feed": lambda: RemovalIndex.build(engine),
            "targets": lambda: overview.watched_targets(engine),
            "accounts": lambda: overview.account_table(engine),
            "speed": lambda: overview.time_to_removal(
                overview.removal_timings(engine, gaps=self._gap_index()),
                by_platform=True,
                bootstrap=settings_.bootstrap,
            ),
            "gaps": study.coverage_gaps,
            "methods": lambda: methods_text(
                study,
                min_posts=settings_.min_posts,
                bootstrap=settings_.bootstrap,
                gaps=self._gaps(),
            ),
            "term_index": lambda: overview.build_term_index(
                engine, settings_.term_views, settings_.segmenter
            ),
        }
        self.reductions: StudyReductions | None = None
        if settings_.engine == "duckdb":
            self._use_reductions()
        elif settings_.engine != "pandas":
            raise ConfigError(f"figure engine {settings_.engine!r}: use pandas or duckdb")

    def _use_reductions(self) -> None:
        """The speed curves and the term index out of core (the study's analysis dataset),
        and the removals feed without the texts."""
        from memoryhole.analysis.engines import figures

        settings = self.settings
        tokenizer = overview.term_tokenizer(settings.term_views, settings.segmenter)
        held = figures.StudyReductions(
            self.study,
            tokenizer,
            rewrite_every=settings.slow_every if self.background else 0.0,
            gaps=self._gap_index,
        )
        self.reductions = held

        def speed() -> Any:
            with held.use() as reductions:
                return figures.speed_figures(
                    reductions, by_platform=True, bootstrap=settings.bootstrap
                )

        def term_index() -> Any:
            with held.use() as reductions:
                return figures.term_index(reductions)

        self._compute["speed"] = speed
        self._compute["term_index"] = term_index
        # The removals feed without every removed post's text in memory.
        from memoryhole.web.removed_texts import lean_index

        self._compute["feed"] = lambda: lean_index(self.study.engine)

    def _gaps(self) -> list[CoverageGap]:
        """The coverage gaps as the ``gaps`` figure has them (computed first in its tier: a scan
        of every observation, minutes on a large study, done once a pass, not per figure)."""
        if not self.background:
            found: list[CoverageGap] | None = self.get("gaps")  # recomputed when stale
            if found is not None:
                return found
        figure = self.figures.get("gaps")
        return list(figure.value) if figure is not None else self.study.coverage_gaps()

    def _gap_index(self) -> GapIndex:
        return self.study.gap_index(self._gaps())

    # -- reading -------------------------------------------------------------------------------

    def get(self, name: str) -> Any | None:
        """The figure's latest value; None while it is being computed for the first time."""
        if not self.background:
            self._refresh_if_stale(name)
        figure = self.figures.get(name)
        return figure.value if figure is not None else None

    def computed_at(self, name: str) -> float | None:
        figure = self.figures.get(name)
        return figure.computed_at if figure is not None else None

    def derived(self, key: tuple[Any, ...], source: str, make: Callable[[Any], Any]) -> Any:
        """A value computed from figure ``source`` (e.g. a term table for one kind), cached
        until that figure is recomputed; None while ``source`` is not there yet."""
        value = self.get(source)
        if value is None:
            return None
        figure = self.figures[source]
        full_key = (*key, source, figure.computed_at)
        with self._lock:
            if full_key not in self._derived:
                stale = [k for k in self._derived if k[: len(key)] == key]
                for old in stale:
                    del self._derived[old]
                while len(self._derived) >= 32:  # e.g. one term table per min_posts asked
                    del self._derived[next(iter(self._derived))]
                self._derived[full_key] = make(value)
            return self._derived[full_key]

    @property
    def warm(self) -> bool:
        return all(name in self.figures for tier in self.tiers.values() for name in tier)

    def status(self) -> dict[str, Any]:
        return {
            "warm": self.warm,
            "figures": {
                name: {"computed_at": f.computed_at, "seconds": round(f.seconds, 3)}
                for name, f in self.figures.items()
            },
            "errors": dict(self.errors),
        }

    # -- computing -----------------------------------------------------------------------------

    def compute(self, name: str, version: Version | None = None) -> None:
        version = version or store_version(self.study)
        started = time.perf_counter()
        try:
            value = self._compute[name]()
        except Exception as exc:
            log.error("computing %s failed: %s", name, traceback.format_exc())
            self.errors[name] = f"{type(exc).__name__}: {exc}"
            return
        self.errors.pop(name, None)
        self.figures[name] = Figure(value, time.time(), time.perf_counter() - started, version)

    def _refresh_if_stale(self, name: str) -> None:
        with self._lock:
            version = store_version(self.study)
            figure = self.figures.get(name)
            if figure is None or figure.version != version:
                self.compute(name, version)

    def register(self, name: str, tier: str, compute: Callable[[], Any]) -> None:
        """Add a figure (or a warm-up, such as the evidence tree's) to a tier, or give one a
        new way to be computed."""
        self._compute[name] = compute
        if name not in self.tiers[tier]:
            self.tiers[tier] = (*self.tiers[tier], name)

    def refresh(self, force: bool = False, tiers: tuple[str, ...] = tuple(TIERS)) -> None:
        """One pass of a background loop: recompute each of ``tiers`` that is due."""
        version = store_version(self.study)
        intervals = {
            "fast": self.settings.fast_every,
            "medium": self.settings.medium_every,
            "slow": self.settings.slow_every,
        }
        for tier in tiers:
            names = self.tiers[tier]
            done = self._tier_done.get(tier)
            due = (
                force
                or done is None
                or (done[1] != version and time.monotonic() - done[0] >= intervals[tier])
                or any(name not in self.figures for name in names)
            )
            if not due or self._stop.is_set():
                continue
            for name in names:
                self.compute(name, version)
            self._tier_done[tier] = (time.monotonic(), version)

    def start(self) -> None:
        """One thread per tier, so a slow figure never holds back the fast ones."""
        if not self.background or self._threads:
            return
        for tier in TIERS:
            thread = threading.Thread(
                target=self._loop, args=(tier,), name=f"memoryhole-figures-{tier}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5.0)
        self.close()

    def close(self) -> None:
        """Let go of the out-of-core engine (its DuckDB connection and spill folder)."""
        if self.reductions is not None:
            self.reductions.close()

    def _loop(self, tier: str) -> None:
        while not self._stop.is_set():
            try:
                self.refresh(tiers=(tier,))
            except Exception:
                log.error("figure refresh failed: %s", traceback.format_exc())
            self._stop.wait(1.0)
