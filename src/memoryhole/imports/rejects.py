"""``--skip-bad``: malformed records go to a side file instead of stopping the import.

The side file (default ``FILE.rejected.csv``) is UTF-8 CSV with a header: ``line`` (where the
record starts), ``column`` (which column or key, when known), ``problem`` (what was expected and
what was found) and ``record`` (the record as in the file, decoded with the file's encoding;
undecodable bytes as ``\\xNN``). A cell a spreadsheet would run as a formula (it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) has a ``'`` in front
(:mod:`memoryhole.spreadsheet`): take it off when you copy a record back. Fix the records there
and import them again: what was already imported is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from memoryhole.imports.records import BadRow, ImportFileError
from memoryhole.spreadsheet import SafeWriter


class RejectWriter:
    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self.count = 0
        try:
            self._handle: IO[str] = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise ImportFileError(
                str(path), None, f"cannot write rejected rows here ({exc.strerror}); use --rejected"
            ) from None
        self._writer = SafeWriter(self._handle)
        self._writer.writerow(["line", "column", "problem", "record"])

    def write(self, bad: BadRow) -> None:
        record = bad.raw.decode(self.encoding, errors="backslashreplace").rstrip("\r\n")
        problem = bad.problem()
        if bad.column and problem.startswith(f"{bad.column}: "):
            problem = problem[len(bad.column) + 2 :]
        self._writer.writerow([bad.line, bad.column or "", problem, record])
        self.count += 1

    def close(self) -> None:
        self._handle.close()
