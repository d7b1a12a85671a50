"""``memoryhole report``: the study in one self-contained HTML file.

Everything is inside the file: the styles, the chart libraries (the same vendored Vega, Vega-Lite
and vega-embed as the dashboard), the chart data and the text. It opens offline and loads
nothing from anywhere: its own Content-Security-Policy (a ``<meta>`` element) allows only the
inline scripts and styles it was written with, by their SHA-256 hashes, and no network at all.
The figures are the dashboard's (``analysis.overview``); authors appear by pseudonym only and
no post text is included, only terms and counts, so the file can be attached to an article.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from markupsafe import Markup

from memoryhole import __version__
from memoryhole.analysis import overview
from memoryhole.analysis.methods import methods_text
from memoryhole.isolate.found import rule_changes, study_rules
from memoryhole.study import Study
from memoryhole.web.render import STATIC, charts, make_templates, markup_json, removals_chart

TEMPLATES = Path(str(files("memoryhole.report") / "templates"))
SCRIPTS = (
    "vendor/vega.min.js",
    "vendor/vega-lite.min.js",
    "vendor/vega-embed.min.js",
    "vendor/vega-interpreter.js",
    "app.js",
)
STYLES = ("app.css", "vendor/vega-embed.css")


@dataclass(frozen=True)
class ReportSummary:
    path: Path
    bytes: int
    posts: int
    removals: int
    terms: int
    seconds: float


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _inline(name: str) -> str:
    text = (STATIC / name).read_text(encoding="utf-8")
    if "</script" in text.lower() or "</style" in text.lower() or "<!--" in text:
        raise ValueError(f"{name} cannot be inlined as it is (it contains an HTML end tag)")
    return text


def build_report(
    study: Study,
    out: Path,
    *,
    kind: str = "censored",
    min_posts: int = 20,
    bootstrap: int = 100,
    top_terms: int = 30,
    term_views: tuple[str, ...] = ("word", "char2", "char3"),
    analysis_engine: str = "pandas",
) -> ReportSummary:
    """Write the report to ``out``. ``analysis_engine``: ``pandas`` (the time to removal and
    the term table from the posts in memory) or ``duckdb`` (out of core, from the study's
    analysis dataset: the same figures; docs/dashboard.md)."""
    started = time.perf_counter()
    engine = study.engine
    counts = overview.verdict_counts(engine)
    act = overview.activity(engine)
    watched = overview.watched_targets(engine)
    timeline = overview.removals_over_time(engine)
    if analysis_engine == "duckdb":  # out of core (analysis.engines.figures)
        from memoryhole.analysis.engines import figures

        held = figures.StudyReductions(study, overview.term_tokenizer(term_views))
        try:
            with held.use() as reductions:
                speed = figures.speed_figures(reductions, by_platform=True, bootstrap=bootstrap)
                index = figures.term_index(reductions)
        finally:
            held.close()
    elif analysis_engine == "pandas":
        speed = overview.time_to_removal(
            overview.removal_timings(engine, gaps=study.gap_index()),
            by_platform=True,
            bootstrap=bootstrap,
        )
        index = overview.build_term_index(engine, term_views)
    else:
        raise ValueError(f"engine {analysis_engine!r}: use pandas or duckdb")
    table = overview.term_table(index, kind=kind, min_posts=min_posts)
    platforms = overview.platform_table(counts, speed)

    def label(target: overview.WatchedTarget) -> str:
        if target.kind == "user" and target.key:
            return f"{target.platform}:user/{study.pseudonym(target.platform, target.key)}"
        return target.spec

    gaps = study.coverage_gaps()
    labels = {t.spec: label(t) for t in watched}  # a gap's target by pseudonym, not raw id
    shown_gaps = [replace(g, target=labels.get(g.target, g.target)) for g in gaps]
    specs: dict[str, dict[str, Any]] = {
        "spec-removals": removals_chart.removals_chart(
            timeline, removals_chart.merged_gaps(shown_gaps), rule_changes(study_rules(study))
        ),
        "spec-speed": charts.speed_chart(speed),
        "spec-terms": charts.terms_chart(table),
        "spec-platforms": charts.platforms_chart(platforms),
    }
    scripts = [_inline(name) for name in SCRIPTS]
    styles = [_inline(name) for name in STYLES]
    csp = (
        "default-src 'none'; img-src data: blob:; "
        f"script-src {' '.join(_sha256(s) for s in scripts)}; "
        f"style-src {' '.join(_sha256(s) for s in styles)}; base-uri 'none'; form-action 'none'"
    )
    environment = make_templates(TEMPLATES)
    html = environment.get_template("report.html").render(
        study_name=study.path.resolve().name,
        generated_at=time.time(),
        version=__version__,
        counts=counts,
        act=act,
        speed=speed,
        table=table,
        top=table.rows[:top_terms],
        platforms=platforms,
        targets=[label(t) for t in watched],
        methods=methods_text(
            study, term_kind=kind, min_posts=min_posts, bootstrap=bootstrap, gaps=gaps
        ),
        specs={key: markup_json(spec) for key, spec in specs.items()},
        scripts=[Markup(s) for s in scripts],
        styles=[Markup(s) for s in styles],
        csp=csp,
    )
    out.write_text(html, encoding="utf-8")
    return ReportSummary(
        path=out,
        bytes=out.stat().st_size,
        posts=counts.posts,
        removals=counts.removals,
        terms=len(table.rows),
        seconds=time.perf_counter() - started,
    )
