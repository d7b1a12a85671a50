"""Rendering that the dashboard and the report share: the Jinja environment (autoescaped, with
the display filters), JSON safe inside HTML, and the Vega-Lite chart specifications.

Nothing here knows about HTTP: ``memoryhole.report`` imports this package, never the dashboard
app (``memoryhole.web.app``) or FastAPI.
"""

from memoryhole.web.render import charts
from memoryhole.web.render.environment import STATIC, TEMPLATES, make_templates
from memoryhole.web.render.formats import (
    fmt_duration,
    fmt_number,
    fmt_p,
    fmt_pct,
    fmt_time,
    iso_time,
    markup_json,
    post_path,
    query_string,
)

__all__ = [
    "STATIC",
    "TEMPLATES",
    "charts",
    "fmt_duration",
    "fmt_number",
    "fmt_p",
    "fmt_pct",
    "fmt_time",
    "iso_time",
    "make_templates",
    "markup_json",
    "post_path",
    "query_string",
]
