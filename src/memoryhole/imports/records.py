"""What a parser makes of one source record, before it meets the store.

A :class:`Record` is one record of the source file (a CSV row, a JSONL line) with its raw bytes
(kept as a blob: the evidence of what the source said) and what it says about one or more posts
(:class:`PostFacts`): who wrote a post, when, its text, and :class:`Event`\\ s, each a
timed statement "visible" or "removed, and why". The writer (``imports.writer``) turns these
into the study's rows: one leaf of kind ``import`` per record that shows new posts (their
sighting) and one per event (folded into the verdict like a check).

A record that cannot be read is a :class:`BadRow`: the line, the column, what was expected and
what was found. Parsers yield it instead of raising, so ``--skip-bad`` can go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memoryhole.errors import InputFileError
from memoryhole.evidence.rederive import UNDATED
from memoryhole.model import Status

__all__ = ["UNDATED"]  # the code prefix of an undated removal (evidence.rederive)


@dataclass(frozen=True, slots=True)
class Event:
    """One timed statement of the source about a post: a leaf of kind ``import``.

    A visible status is dated ``sent_at`` (the source saw the post then), a removal
    ``observed_at`` (the source found it removed by then), exactly as for a check. A removal
    the source does not date has ``observed_at == sent_at`` and a ``code`` starting
    :data:`UNDATED`.
    """

    status: Status
    sent_at: float
    observed_at: float
    code: str | None = None
    detail: str = ""
    content_hash: str | None = None

    @property
    def at(self) -> float:
        """The time this event speaks for (what stale-event checks compare)."""
        return self.sent_at if self.status.is_visible else self.observed_at


@dataclass(frozen=True, slots=True)
class NewPost:
    """What the source says about a post the study may not know yet."""

    author_id: str
    published_at: float
    text: str


@dataclass(frozen=True, slots=True)
class PostFacts:
    """What one record says about one post. ``new`` is None when the record does not say who
    wrote it (then it only adds to a post the study already holds)."""

    post_id: str
    new: NewPost | None
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class Record:
    """One source record. ``seen_at``: when the source shows its (new) posts visible, the time
    of their sighting leaf. ``method``/``url``/``http_status``/``headers`` describe the capture
    (for CSV rows: ``IMPORT`` and ``KIND:FILE#line=N``, no HTTP)."""

    line: int
    raw: bytes
    seen_at: float
    method: str
    url: str
    posts: tuple[PostFacts, ...]
    detail: str = ""
    http_status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    skipped: str | None = None  # why a well-formed record holds nothing to import


@dataclass(frozen=True, slots=True)
class BadRow:
    """A malformed record: where (line, column) and what was expected instead of what."""

    line: int
    column: str | None
    expected: str
    found: str
    raw: bytes = b""
    last_line: int | None = None  # a record spanning several lines ends here
    message: str | None = None  # instead of "expected …, found …" when given

    def problem(self) -> str:
        where = f"{self.column}: " if self.column else ""
        span = f" (the record runs to line {self.last_line})" if self.last_line else ""
        if self.message is not None:
            return f"{where}{self.message}{span}"
        return f"{where}expected {self.expected}, found {self.found}{span}"


class BadRowError(Exception):
    """Raised inside a parser's per-record code; the parser turns it into a :class:`BadRow`."""

    def __init__(self, column: str | None, expected: str, found: str) -> None:
        super().__init__(f"{column}: expected {expected}, found {found}")
        self.column = column
        self.expected = expected
        self.found = found


class ImportFileError(InputFileError):
    """An import file is malformed: the message names the file, line and column, and what was
    expected there."""


@dataclass
class Counts:
    """What an import did, row by row."""

    rows: int = 0  # records read (not counting a header)
    new_posts: int = 0
    updated_posts: int = 0  # posts the study already held that got new leaves
    leaves: int = 0
    duplicates: int = 0  # records already logged for their posts (a re-import)
    stale: int = 0  # records older than what the study already holds for their posts
    skipped: dict[str, int] = field(default_factory=dict)  # other well-formed records, by why
    rejected: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # new posts' verdicts

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def shown(value: str, limit: int = 60) -> str:
    """A found value as an error message shows it."""
    if value == "":
        return "nothing"
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text)
