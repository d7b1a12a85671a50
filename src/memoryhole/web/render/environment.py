"""The one Jinja environment factory: autoescaped, strict, with the display filters.

The dashboard's templates (``web/templates``, which hold the shared ``_macros.html``) are always
searched; the report puts its own folder in front. The chart libraries and styles in
``web/static`` are served by the dashboard and inlined by the report.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import jinja2

from memoryhole import __version__
from memoryhole.analysis.overview import KIND_LABELS, REMOVAL_KINDS, VERDICTS
from memoryhole.web.render.formats import (
    clock_time,
    fmt_duration,
    fmt_duration_range,
    fmt_number,
    fmt_p,
    fmt_pct,
    fmt_time,
    highlight,
    iso_time,
    post_path,
    query_string,
)

STATIC = Path(str(files("memoryhole.web") / "static"))
TEMPLATES = Path(str(files("memoryhole.web") / "templates"))


def make_templates(*folders: Path) -> jinja2.Environment:
    """An environment loading from ``folders`` first, then the dashboard's templates."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*(str(f) for f in folders), str(TEMPLATES)]),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        {
            "ts": fmt_time,
            "iso": iso_time,
            "dur": fmt_duration,
            "dur_range": fmt_duration_range,
            "num": fmt_number,
            "pct": fmt_pct,
            "pval": fmt_p,
            "kind_label": lambda k: KIND_LABELS.get(str(k), str(k)),
            "hhmm": clock_time,
            "highlight": highlight,
        }
    )
    env.globals.update(
        {
            "post_path": post_path,
            "qs": query_string,
            "REMOVAL_KINDS": REMOVAL_KINDS,
            "VERDICTS": VERDICTS,
            "KIND_LABELS": KIND_LABELS,
            "version": __version__,
        }
    )
    return env
