"""How the analysis commands print: Rich tables that fit the terminal, CSV, JSON (a contract:
docs/statistics.md), progress and notes on stderr, charts to a file."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

out_console = Console(soft_wrap=True)
err_console = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@contextmanager
def status(message: str) -> Iterator[None]:
    if err_console.is_terminal:
        with err_console.status(message):
            yield
    else:
        yield


def percent(value: Any) -> str:
    return f"{value:.2%}" if isinstance(value, float) and math.isfinite(value) else "—"


def _cell(value: Any, column: str) -> str:
    from memoryhole.analysis.tables import iso
    from memoryhole.cli.console import duration

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else ""
    if column.endswith("_at") or column == "bin_start":
        return iso(float(value)) or "—"
    if column == "bin" and isinstance(value, str):  # 2024-06-04T13:00:00Z → 2024-06-04 13:00
        return value.replace("T", " ").removesuffix(":00Z").removesuffix(" 00:00")
    if column.startswith("median") or column in ("time", "time_low"):
        return duration(float(value))
    if column in ("p_value", "q_value", "p_vs_singles", "q_vs_singles"):
        return f"{value:.2e}" if value < 0.001 else f"{value:.3f}"
    if isinstance(value, float):
        if column in ("rate", "ci_low", "ci_high") or column.startswith(("rate", "ci_")):
            return f"{value:.1%}"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


#: Column pairs a table shows as one interval column (``12.0%–30.5%``).
_INTERVALS: Final = {
    "ci_low": ("ci_high", "95% CI"),
    "median_ci_low": ("median_ci_high", "median 95% CI"),
    "ci_before_low": ("ci_before_high", "CI before"),
    "ci_after_low": ("ci_after_high", "CI after"),
}
#: A table of at most this many rows that does not fit the terminal is shown turned: one row
#: per column, one column per row (``analyze platforms``).
_TURN_ROWS: Final = 8


def _layout(
    frame: pd.DataFrame, shown: Sequence[str]
) -> tuple[list[str], list[bool], list[list[str]]]:
    """Headers, right-justified flags and cell texts, each ``ci_low``/``ci_high`` pair as one
    interval column."""
    headers: list[str] = []
    numeric: list[bool] = []
    columns: list[list[str]] = []
    for column in shown:
        if any(column == high and low in shown for low, (high, _) in _INTERVALS.items()):
            continue  # shown with its low end
        values = frame[column].tolist()
        pair = _INTERVALS.get(column)
        if pair is not None and pair[0] in shown:
            highs = frame[pair[0]].tolist()
            lows = [_cell(v, column) for v in values]
            tops = [_cell(v, pair[0]) for v in highs]
            columns.append(
                [
                    f"{a}–{b}" if a != "—" or b != "—" else "—"
                    for a, b in zip(lows, tops, strict=True)
                ]
            )
            headers.append(pair[1])
            numeric.append(True)
            continue
        columns.append([_cell(v, column) for v in values])
        headers.append(column)
        numeric.append(frame[column].dtype.kind in "iuf" if len(frame) else False)
    rows = [list(row) for row in zip(*columns, strict=True)] if columns else []
    return headers, numeric, rows


def _rich_table(
    headers: Sequence[str],
    numeric: Sequence[bool],
    rows: Sequence[Sequence[str]],
    *,
    title: str = "",
    caption: str = "",
) -> Table:
    from rich import box

    table = Table(
        title=title or None,
        caption=caption or None,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_lines=False,
        caption_justify="left",
    )
    for header, right in zip(headers, numeric, strict=True):
        wide = header in ("term", "author", "group", "bin", "text")
        table.add_column(
            header, justify="right" if right else "left", overflow="fold", no_wrap=wide
        )
    for row in rows:
        table.add_row(*row)
    return table


def _narrowest(table: Table, console: Console) -> int:
    """The width below which the table would break a word (a header) to fit."""
    from rich.measure import Measurement

    options = console.options.update(max_width=1_000_000)
    return Measurement.get(console, options, table).minimum


def fit_table(
    headers: Sequence[str],
    numeric: Sequence[bool],
    rows: Sequence[Sequence[str]],
    width: int,
    console: Console,
    *,
    title: str = "",
    caption: str = "",
) -> Table:
    """A table that fits ``width`` without breaking a header mid-word: as it is if it fits;
    else, with few rows, turned (a row per column); else without its last columns (named in
    the caption: ``--format csv`` has them all)."""
    table = _rich_table(headers, numeric, rows, title=title, caption=caption)
    if _narrowest(table, console) <= width:
        return table
    if len(rows) <= _TURN_ROWS:
        first = [headers[0], *(row[0] for row in rows)]
        turned_rows = [[header, *(row[i] for row in rows)] for i, header in enumerate(headers)][1:]
        turned = _rich_table(
            first, [False, *(True for _ in rows)], turned_rows, title=title, caption=caption
        )
        if _narrowest(turned, console) <= width:
            return turned
    keep = len(headers)
    while keep > 2:
        keep -= 1
        left_out = ", ".join(headers[keep:])
        note = f"not shown at this width: {left_out} (--format csv has every column)"
        table = _rich_table(
            headers[:keep],
            numeric[:keep],
            [row[:keep] for row in rows],
            title=title,
            caption=f"{caption}\n{note}" if caption else note,
        )
        if _narrowest(table, console) <= width:
            return table
    return table


def emit(
    frame: pd.DataFrame,
    format_: Format,
    *,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
    title: str = "",
    caption: str = "",
    empty: str = "",
) -> None:
    """Print a table as Rich table, CSV or JSON (a list of objects). A table fits the
    terminal (:func:`fit_table`); an empty one is one line (``empty``: what to do about it)."""
    from memoryhole.analysis.terms import to_records

    if limit is not None:
        frame = frame.head(limit)
    if format_ is Format.json:
        sys.stdout.write(json.dumps(to_records(frame), ensure_ascii=False) + "\n")
        return
    if format_ is Format.csv:
        from memoryhole.spreadsheet import neutralised_frame

        neutralised_frame(frame).to_csv(sys.stdout, index=False)
        return
    if frame.empty:
        out_console.print(f"{title or 'table'}: no rows." + (f" {empty}" if empty else ""))
        return
    shown = [c for c in (columns or frame.columns) if c in frame.columns]
    rows = frame.head(30 if limit is None else limit)
    headers, numeric, cells = _layout(rows, shown)
    table = fit_table(
        headers, numeric, cells, out_console.width, out_console, title=title, caption=caption
    )
    out_console.print(table, soft_wrap=False)
    if len(frame) > len(rows):
        out_console.print(f"… {len(frame) - len(rows):,} more rows (--limit N, or --format csv)")


def hint(message: str, format_: Format) -> None:
    """A note for the reader: after a table on stdout; on stderr with CSV or JSON (whose
    stdout is data)."""
    console = out_console if format_ is Format.table else err_console
    console.print(message, highlight=False, markup=False, soft_wrap=False)


def draw_chart(chart_of: Callable[[], Any], path: Path | None, frame: pd.DataFrame) -> None:
    if path is None:
        return
    from memoryhole.analysis.plots import has_cjk, save_chart

    with status(f"drawing {path}"):
        warnings = save_chart(chart_of(), path, cjk_text=has_cjk(frame))
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    err_console.print(f"wrote {path}")
