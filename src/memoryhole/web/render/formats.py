"""How figures, times and links are written on a page (the templates' filters and globals)."""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

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


def fmt_duration_range(bounds: tuple[float, float] | None) -> str:
    """``1.9 – 2.9 min``: a delay known to lie between two bounds, both in the unit of the
    larger (``65 min``, not ``116 s – 2.9 min``)."""
    if not bounds:
        return "—"
    low, high = bounds
    unit = fmt_duration(high).split(" ", 1)[1] if fmt_duration(high) != "—" else ""
    scale = {"s": 1.0, "min": 60.0, "h": 3600.0, "days": 86400.0}.get(unit)
    if scale is None:
        return f"{fmt_duration(low)} – {fmt_duration(high)}"
    digits = 0 if unit == "s" else 1
    if f"{low / scale:.{digits}f}" == f"{high / scale:.{digits}f}":
        return f"{high / scale:.{digits}f} {unit}"
    return f"{low / scale:.{digits}f} – {high / scale:.{digits}f} {unit}"


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


_VIEW = re.compile(r"^(?:w|c[1-9]):")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_HAN_ONLY = re.compile(f"^[{_HAN}]+$")


def term_text(term: str) -> str:
    """A term without its view prefix (``c2:六四`` → ``六四``)."""
    return _VIEW.sub("", term.strip(), count=1)


def highlight(text: str, term: str | None) -> Markup:
    """``text`` escaped, every match of ``term`` in ``<mark>``. A run of Chinese characters
    matches with anything but Chinese between them (``六四`` marks ``六 四`` and ``六.四``), as
    the removals filter and the character views count them; other terms match ignoring case."""
    needle = term_text(term or "")
    if not needle:
        return escape(text)
    if _HAN_ONLY.match(needle):
        pattern = re.compile(f"[^{_HAN}]*?".join(re.escape(c) for c in needle))
    else:
        pattern = re.compile(re.escape(needle), re.IGNORECASE)
    pieces: list[Markup] = []
    position = 0
    for match in pattern.finditer(text):
        pieces += [escape(text[position : match.start()]), Markup("<mark>")]
        pieces += [escape(match.group()), Markup("</mark>")]
        position = match.end()
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


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
