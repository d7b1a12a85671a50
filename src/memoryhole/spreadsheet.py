"""CSV cells a spreadsheet will not run: every CSV memoryhole writes for people goes through here.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (``=cmd|' /C calc'!A0`` runs a program). Such a cell is
written with a single quote ``'`` in front, as these tools expect: they show the text and do
not evaluate it. Only text cells are touched: a number memoryhole writes as a number (a
negative time, a difference) stays a number. docs/formats.md states the rule.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """``value``, with ``'`` in front if it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: neutralised(value) for key, value in row.items()}


def neutralised_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are :func:`neutralised`."""
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    out = frame.rename(columns=lambda name: neutralised(str(name)))
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        dtype = column.dtype
        if is_numeric_dtype(dtype) or is_bool_dtype(dtype) or is_datetime64_any_dtype(dtype):
            continue
        out.isetitem(position, column.astype(object).map(neutralised).to_numpy())
    return out


class SafeDictWriter:
    """``csv.DictWriter`` whose text cells are :func:`neutralised`."""

    def __init__(self, handle: IO[str], fieldnames: Sequence[str], **options: Any) -> None:
        self._writer = csv.DictWriter(handle, fieldnames=fieldnames, **options)

    def writeheader(self) -> None:
        self._writer.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow(neutralised_row(row))


class SafeWriter:
    """``csv.writer`` whose text cells are :func:`neutralised`."""

    def __init__(self, handle: IO[str], **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralised(value) for value in row])
