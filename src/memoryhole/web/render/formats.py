"""How figures, times and links are written on a page (the templates' filters and globals)."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup

from memoryhole.times import shown_invalid, utc_datetime


def fmt_time(epoch: float | None) -> str:
    moment = utc_datetime(epoch)
    if moment is None:
        return "—" if epoch is None else shown_invalid(epoch)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(epoch: float | None) -> str:
    moment = utc_datetime(epoch)
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def clock_time(at: float | None) -> str:
    """``16:36`` (UTC, 24-hour): a time of day beside a date shown elsewhere on the line."""
    moment = utc_datetime(at) if at is not None else None
    return moment.strftime("%H:%M") if moment is not None else "—"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and not math.isfinite(seconds)):
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{100 * value:.{digits}f}%"


def fmt_p(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.2e}" if value < 0.001 else f"{value:.3f}"


def post_path(platform: str, post_id: str) -> str:
    """A post page's path, every part percent-encoded (post ids are hostile input)."""
    return f"/post/{quote(platform, safe='')}/{quote(post_id, safe='')}"


def query_string(params: dict[str, Any]) -> str:
    clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(clean) if clean else ""


def markup_json(value: Any) -> Markup:
    """JSON safe inside an HTML ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
