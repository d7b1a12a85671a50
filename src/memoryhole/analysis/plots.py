"""Charts of the analysis tables (Vega-Lite via Altair), saved as PNG or SVG with vl-convert.

Needs the ``plots`` extra (``pip install 'memoryhole[plots]'``: altair, vl-convert-python).
Chinese text needs a CJK font that vl-convert can find among the system fonts (Debian:
``apt-get install fonts-noto-cjk``); :func:`cjk_font` finds one, and charts name it first in
their font list. Without one, CJK characters render as empty boxes in PNG files, and
:func:`save_chart` warns (SVG keeps the text as text; the viewer's fonts draw it).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memoryhole.errors import MemoryholeError

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
    Path.home() / ".local/share/fonts",
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
# File name pattern -> family name, in order of preference.
_KNOWN_CJK = (
    (re.compile(r"NotoSansCJK", re.I), "Noto Sans CJK SC"),
    (re.compile(r"NotoSansSC", re.I), "Noto Sans SC"),
    (re.compile(r"SourceHanSans", re.I), "Source Han Sans SC"),
    (re.compile(r"NotoSerifCJK", re.I), "Noto Serif CJK SC"),
    (re.compile(r"wqy-microhei", re.I), "WenQuanYi Micro Hei"),
    (re.compile(r"wqy-zenhei", re.I), "WenQuanYi Zen Hei"),
    (re.compile(r"DroidSansFallback", re.I), "Droid Sans Fallback"),
    (re.compile(r"PingFang", re.I), "PingFang SC"),
    (re.compile(r"msyh", re.I), "Microsoft YaHei"),
)
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
FALLBACK_FONTS = "sans-serif"


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None."""
    for directory in FONT_DIRS:
        if not directory.is_dir():
            continue
        names = [
            p.name for p in directory.rglob("*") if p.suffix.lower() in (".ttf", ".ttc", ".otf")
        ]
        for pattern, family in _KNOWN_CJK:
            if any(pattern.search(name) for name in names):
                return family
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(
                ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=10
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        families = sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})
        return families[0] if families else None
    return None


def font_stack() -> str:
    font = cjk_font()
    return f"{font}, {FALLBACK_FONTS}" if font else FALLBACK_FONTS


def _altair() -> Any:
    try:
        import altair
    except ImportError:
        raise MemoryholeError(
            "plots need the 'plots' extra: pip install 'memoryhole[plots]' "
            "(altair and vl-convert-python)"
        ) from None
    return altair


def _configured(chart: Any) -> Any:
    font = font_stack()
    return chart.configure(font=font).configure_axis(labelFont=font, titleFont=font)


def has_cjk(frame: pd.DataFrame) -> bool:
    for column in frame.columns:
        if frame[column].dtype == object and any(
            isinstance(v, str) and _CJK.search(v) for v in frame[column]
        ):
            return True
    return False


def save_chart(chart: alt.TopLevelMixin, path: Path, *, cjk_text: bool = True) -> list[str]:
    """Write ``chart`` to ``path`` (``.png``, ``.svg``; also ``.html``, ``.json``); returns
    warnings (e.g. no CJK font found for CJK text)."""
    warnings: list[str] = []
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg", ".html", ".json"):
        raise MemoryholeError(f"--plot {path}: use a .png or .svg file (or .html, .json)")
    if cjk_text and cjk_font() is None and suffix == ".png":
        warnings.append(
            "no CJK font found: Chinese text will show as boxes; install one "
            "(Debian: apt-get install fonts-noto-cjk)"
        )
    spec = _configured(chart).to_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        import json

        path.write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")
        return warnings
    try:
        import vl_convert as vlc
    except ImportError:
        raise MemoryholeError(
            "PNG and SVG need vl-convert-python: pip install 'memoryhole[plots]'"
        ) from None
    if suffix == ".png":
        path.write_bytes(vlc.vegalite_to_png(spec, scale=2))
    elif suffix == ".svg":
        path.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
    else:
        path.write_text(vlc.vegalite_to_html(spec), encoding="utf-8")
    return warnings


# ----------------------------------------------------------------------------- charts


def _finite(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    import numpy as np

    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype("float64").replace([np.inf, -np.inf], np.nan)
    return out


def terms_chart(table: pd.DataFrame, *, top: int = 30, title: str = "") -> Any:
    """Removal rate with its interval for the top terms, and the baseline as a rule."""
    alt = _altair()
    data = _finite(table.head(top), ["rate", "ci_low", "ci_high"])
    data = data.assign(label=data["term"])
    order = data["label"].tolist()
    base = alt.Chart(data).encode(y=alt.Y("label:N", sort=order, title=None))
    bars = base.mark_bar(opacity=0.7).encode(
        x=alt.X("rate:Q", title="removal rate", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("significant:N", title="q < 0.05")
        if "significant" in data.columns
        else alt.value("steelblue"),
        tooltip=["term", "posts", "removed", "rate", "q_value"],
    )
    errors = base.mark_rule().encode(x="ci_low:Q", x2="ci_high:Q")
    layers = [bars, errors]
    baseline = table.attrs.get("baseline")
    if baseline is not None and math.isfinite(float(baseline)):
        import pandas as pd

        layers.append(
            alt.Chart(pd.DataFrame({"baseline": [float(baseline)]}))
            .mark_rule(strokeDash=[4, 3], color="gray")
            .encode(x="baseline:Q")
        )
    return alt.layer(*layers).properties(
        title=title or "Removal rate by term (95% CI; dashed: all posts)",
        width=520,
        height=max(120, 16 * len(data)),
    )


def survival_chart(curves: pd.DataFrame, *, title: str = "") -> Any:
    """Step curves of the share not yet removed, with bootstrap bands, hours on a log axis."""
    alt = _altair()
    data = _finite(curves, ["time", "survival", "ci_low", "ci_high"])
    data = data.assign(hours=data["time"] / 3600.0, group=data["group"].astype(str))
    data = data[data["hours"] > 0]
    x = alt.X("hours:Q", scale=alt.Scale(type="log"), title="hours since publication")
    line = (
        alt.Chart(data)
        .mark_line(interpolate="step-after")
        .encode(
            x=x,
            y=alt.Y("survival:Q", title="share not yet removed", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("group:N", title=None),
        )
    )
    band = (
        alt.Chart(data)
        .mark_area(opacity=0.2, interpolate="step-after")
        .encode(x=x, y="ci_low:Q", y2="ci_high:Q", color="group:N")
    )
    return alt.layer(band, line).properties(
        title=title or "Time to removal (Turnbull, 95% bootstrap band)", width=560, height=320
    )


def timeline_chart(
    timeline: pd.DataFrame, changes: pd.DataFrame | None = None, *, title: str = ""
) -> Any:
    """Removal rate per bin with its interval, posts per bin below, detected changes as
    vertical rules."""
    import pandas as pd

    alt = _altair()
    data = _finite(timeline, ["rate", "ci_low", "ci_high"])
    data = data.assign(time=pd.to_datetime(data["bin_start"], unit="s", utc=True))
    x = alt.X("time:T", title="published (UTC)")
    rate = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("rate:Q", title="removal rate"),
            tooltip=["bin", "posts", "removed", "rate"],
        )
    )
    band = alt.Chart(data).mark_area(opacity=0.2).encode(x=x, y="ci_low:Q", y2="ci_high:Q")
    layers = [band, rate]
    if changes is not None and len(changes):
        significant = changes[changes["significant"]] if "significant" in changes else changes
        if len(significant):
            marks = significant.assign(
                time=pd.to_datetime(significant["change_at"], unit="s", utc=True)
            )[["time", "term", "direction"]]
            layers.append(
                alt.Chart(marks)
                .mark_rule(color="firebrick", strokeDash=[5, 3])
                .encode(x="time:T", tooltip=["term", "direction"])
            )
    top = alt.layer(*layers).properties(width=600, height=240)
    volume = (
        alt.Chart(data)
        .mark_bar(opacity=0.6)
        .encode(x=x, y=alt.Y("posts:Q", title="posts"))
        .properties(width=600, height=100)
    )
    return alt.vconcat(top, volume).properties(
        title=title or "Removal rate by publication time (95% CI)"
    )


def accounts_chart(accounts: pd.DataFrame, suspensions: pd.DataFrame, *, title: str = "") -> Any:
    """Per-author removal rate against posts (suspended accounts marked), and accounts
    suspended per bin."""
    import pandas as pd

    alt = _altair()
    data = _finite(accounts, ["rate", "ci_low", "ci_high"])
    scatter = (
        alt.Chart(data)
        .mark_circle(size=50)
        .encode(
            x=alt.X("posts:Q", scale=alt.Scale(type="log"), title="posts"),
            y=alt.Y("rate:Q", title="removal rate"),
            color=alt.Color("suspended:N", title="suspended"),
            tooltip=["author", "posts", "removed", "rate", "q_value"],
        )
        .properties(width=360, height=260, title="authors (pseudonyms)")
    )
    if len(suspensions):
        sus = suspensions.assign(time=pd.to_datetime(suspensions["bin_start"], unit="s", utc=True))
        bars = (
            alt.Chart(sus)
            .mark_bar()
            .encode(x=alt.X("time:T", title="first seen suspended (UTC)"), y="accounts:Q")
            .properties(width=300, height=260, title="accounts suspended")
        )
        return alt.hconcat(scatter, bars).properties(title=title or "Accounts")
    return scatter.properties(title=title or "Accounts")


def platforms_chart(platforms: pd.DataFrame, *, title: str = "") -> Any:
    """Removal rate with its interval per platform."""
    alt = _altair()
    data = _finite(platforms, ["rate", "ci_low", "ci_high"])
    base = alt.Chart(data).encode(y=alt.Y("platform:N", title=None))
    bars = base.mark_bar(opacity=0.7).encode(x=alt.X("rate:Q", title="removal rate"))
    errors = base.mark_rule().encode(x="ci_low:Q", x2="ci_high:Q")
    return alt.layer(bars, errors).properties(
        title=title or "Removal rate by platform (95% CI)", width=480, height=40 * len(data) + 40
    )
