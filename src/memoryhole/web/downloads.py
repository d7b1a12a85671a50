"""Every list and table of the dashboard as CSV or JSON: the page's own URL with
``format=csv`` or ``format=json``, the filters applied, every matching row (not one page).

Times are given twice, as the exports do: epoch seconds and ISO 8601 UTC (``…_iso``), both on
the platform's clock. A text cell that a spreadsheet would run as a formula (``=``, ``+``,
``-``, ``@`` first) is prefixed with ``'``: post texts are hostile input.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from fastapi.responses import PlainTextResponse, Response

from memoryhole.web.render import iso_time

FORMATS = ("csv", "json")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def wanted(format: str) -> str | None:
    """``csv`` or ``json`` when the request asked for a download, else None."""
    return format if format in FORMATS else None


def refuse(format: str) -> Response | None:
    """A 400 saying what to give, for a ``format`` that is neither a download nor empty."""
    if not format or format in FORMATS:
        return None
    return PlainTextResponse(
        f"format={format!r} is not a download format: give format=csv or format=json, "
        "or leave it out for the page\n",
        status_code=400,
    )


def plain(value: Any) -> Any:
    """A JSON-ready value: dataclasses as dicts, NaN and infinities as null."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        return plain(value.item())
    return value


def with_iso(row: Mapping[str, Any], times: Iterable[str]) -> dict[str, Any]:
    """``row`` with ``NAME_iso`` beside each epoch column of ``times``."""
    out: dict[str, Any] = {}
    listed = set(times)
    for key, value in row.items():
        out[key] = value
        if key in listed:
            out[f"{key}_iso"] = iso_time(value) if value is not None else None
    return out


MEDIAN_SECONDS = ("median", "median_ci_low", "median_ci_high")


def speed_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A median table as downloaded: seconds, and minutes beside them (the unit the page
    uses for these delays)."""
    out = []
    for row in rows:
        row = dict(row)
        for key in MEDIAN_SECONDS:
            if key in row:
                value = row[key]
                row[f"{key}_minutes"] = None if value is None else round(float(value) / 60, 3)
        out.append(row)
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def download(
    name: str, format: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = ()
) -> Response:
    """``rows`` as ``memoryhole-NAME.csv`` or ``.json`` (columns: the first row's keys)."""
    clean = [plain(dict(row)) for row in rows]
    header = list(columns) or (list(clean[0]) if clean else [])
    disposition = {"Content-Disposition": f'attachment; filename="memoryhole-{name}.{format}"'}
    if format == "json":
        body = json.dumps(clean, ensure_ascii=False, indent=1)
        return Response(body, media_type="application/json", headers=disposition)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in clean:
        writer.writerow([_cell(row.get(column)) for column in header])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=disposition)
