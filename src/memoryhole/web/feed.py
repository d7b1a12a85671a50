"""The removals feed as the dashboard reads it: an in-memory index of every detected removal
(newest first), rebuilt by the figure cache when the store changes, so filtering a million-post
study is a few numpy masks and one primary-key query for the page shown. Posts of authors taken
down are never returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select

from memoryhole.analysis.overview import REMOVAL_KINDS, shown_authors
from memoryhole.analysis.tokens import han_only
from memoryhole.store.coverage import GapIndex
from memoryhole.store.schema import authors, posts, verdicts
from memoryhole.web.render.formats import term_text

_HAN_ONLY = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+$")


# --------------------------------------------------------------------------- removals feed


@dataclass
class _Haystack:
    """Many texts joined into one string, so a substring search over all of them is one pass
    of ``str.find`` in C, not a Python loop over the texts."""

    joined: str
    starts: npt.NDArray[np.int64]

    @classmethod
    def build(cls, texts: list[str]) -> _Haystack:
        # NUL never occurs in a search term (it is stripped), so no match spans two texts.
        cleaned = [text.replace("\x00", "") for text in texts]
        lengths = np.fromiter((len(t) + 1 for t in cleaned), dtype=np.int64, count=len(cleaned))
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if cleaned else lengths
        return cls("\x00".join(cleaned), starts.astype(np.int64))

    def containing(self, needle: str, size: int) -> npt.NDArray[np.bool_]:
        """Mask of the texts containing ``needle``."""
        found = np.zeros(size, dtype=bool)
        needle = needle.replace("\x00", "")
        if not needle:
            return ~found
        hits = [m.start() for m in re.finditer(re.escape(needle), self.joined)]
        if hits:
            found[np.searchsorted(self.starts, np.asarray(hits), side="right") - 1] = True
        return found


@dataclass
class RemovalIndex:
    """Every shown removal, newest detection first, as parallel arrays.

    ``texts``/``han`` hold every removed post's text for the term filter (built by
    :meth:`build`). Out of core (``web.removed_texts.lean_index``) they are None: the index
    is ~19 bytes a removal, and a term filter streams the removed posts' texts from the store
    once per term (the same matching, the last few terms' matches kept)."""

    at: npt.NDArray[np.float64]
    post_pk: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int8]
    platform: npt.NDArray[np.int16]
    platforms: list[str]
    texts: _Haystack | None  # casefolded texts
    han: _Haystack | None  # Han characters only, for n-gram terms
    engine: Engine | None = None
    _matches: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)

    @classmethod
    def build(cls, engine: Engine) -> RemovalIndex:
        query = (
            select(
                verdicts.c.first_seen_removed_at,
                posts.c.id,
                verdicts.c.status,
                posts.c.platform,
                posts.c.text,
            )
            .select_from(
                verdicts.join(posts, posts.c.id == verdicts.c.post_pk).join(
                    authors, authors.c.id == posts.c.author_pk
                )
            )
            .where(*removed_conditions())
            .order_by(verdicts.c.first_seen_removed_at.desc(), posts.c.id.desc())
        )
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        platforms = sorted({str(row[3]) for row in rows})
        platform_code = {name: i for i, name in enumerate(platforms)}
        kind_code = {name: i for i, name in enumerate(REMOVAL_KINDS)}
        texts = [str(row[4]) for row in rows]
        return cls(
            at=np.array([float(row[0]) for row in rows], dtype=np.float64),
            post_pk=np.array([int(row[1]) for row in rows], dtype=np.int64),
            kind=np.array([kind_code[str(row[2])] for row in rows], dtype=np.int8),
            platform=np.array([platform_code[str(row[3])] for row in rows], dtype=np.int16),
            platforms=platforms,
            texts=_Haystack.build([text.casefold() for text in texts]),
            han=_Haystack.build([han_only(text) for text in texts]),
        )

    def _containing(self, needle: str, han: bool) -> npt.NDArray[np.bool_]:
        """Mask of the removals whose text contains ``needle`` (the haystacks' matching)."""
        if han and self.han is not None:
            return self.han.containing(needle, self.at.size)
        if not han and self.texts is not None:
            return self.texts.containing(needle, self.at.size)
        key = f"{int(han)}:{needle}"
        if key in self._matches:
            return self._matches[key]
        needle = needle.replace("\x00", "")
        from memoryhole.web.removed_texts import removed_containing

        found = removed_containing(self.engine, needle, han) if self.engine and needle else []
        mask = np.isin(self.post_pk, np.asarray(found, dtype=np.int64))
        if not needle:
            mask[:] = True
        while len(self._matches) >= 8:
            del self._matches[next(iter(self._matches))]
        self._matches[key] = mask
        return mask

    def __len__(self) -> int:
        return int(self.at.size)

    def select(self, query: FeedQuery) -> tuple[npt.NDArray[np.int64], int]:
        """The post pks of page ``query.page`` (newest first) and the number of matches."""
        mask = np.ones(self.at.size, dtype=bool)
        if query.platform:
            if query.platform not in self.platforms:
                return np.zeros(0, dtype=np.int64), 0
            mask &= self.platform == self.platforms.index(query.platform)
        if query.kind:
            mask &= self.kind == REMOVAL_KINDS.index(query.kind)
        if query.since is not None:
            mask &= self.at >= query.since
        if query.until is not None:
            mask &= self.at < query.until
        if query.term:
            needle = query.term_text
            mask &= self._containing(needle, bool(_HAN_ONLY.match(needle)))
        matches = np.flatnonzero(mask)
        start = (query.page - 1) * query.per_page
        return self.post_pk[matches[start : start + query.per_page]], int(matches.size)


def removed_conditions() -> list[Any]:
    """The removals the feed lists: detected, by a removal verdict, of an author shown."""
    return [
        verdicts.c.status.in_(REMOVAL_KINDS),
        verdicts.c.first_seen_removed_at.is_not(None),
        shown_authors(),
    ]


def _day(value: str | None, end: bool = False) -> float | None:
    """``YYYY-MM-DD`` or an ISO datetime (UTC unless it says otherwise) → epoch seconds.
    A bare date as the end of a range means the end of that day."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment.timestamp() + (86400.0 if end else 0.0)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass(frozen=True)
class FeedQuery:
    """Filters of the removals feed and the Atom feed (all optional)."""

    platform: str = ""
    kind: str = ""
    term: str = ""
    since_text: str = ""
    until_text: str = ""
    page: int = 1
    per_page: int = 50

    @classmethod
    def parse(
        cls,
        platform: str | None,
        kind: str | None,
        term: str | None,
        since: str | None,
        until: str | None,
        page: int | None = 1,
        per_page: int = 50,
    ) -> FeedQuery:
        kind = kind if kind in REMOVAL_KINDS else ""
        return cls(
            platform=(platform or "").strip()[:64],
            kind=kind or "",
            term=(term or "").strip()[:100],
            since_text=(since or "").strip()[:40],
            until_text=(until or "").strip()[:40],
            page=max(1, min(page or 1, 100_000)),
            per_page=per_page,
        )

    @property
    def problems(self) -> list[str]:
        """What of the filters could not be read (each says what to give instead)."""
        said = []
        for name, text, end in (
            ("since", self.since_text, False),
            ("until", self.until_text, True),
        ):
            if text and _day(text, end=end) is None:
                said.append(
                    f"{name}={text!r} is not a date: give YYYY-MM-DD or an ISO 8601 time "
                    "(2024-06-04T13:00:00Z)"
                )
        return said

    @property
    def since(self) -> float | None:
        return _day(self.since_text)

    @property
    def until(self) -> float | None:
        return _day(self.until_text, end=True)

    @property
    def term_text(self) -> str:
        """The term without its view prefix (``c2:六四`` → ``六四``), casefolded."""
        return term_text(self.term).casefold()

    def params(self, **changes: Any) -> dict[str, str]:
        values = {
            "platform": self.platform,
            "kind": self.kind,
            "term": self.term,
            "since": self.since_text,
            "until": self.until_text,
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class FeedItem:
    post_pk: int
    platform: str
    post_id: str
    author: str  # pseudonym
    author_raw_id: str
    published_at: float
    text: str
    kind: str
    last_seen_alive_at: float | None
    first_seen_removed_at: float
    signal: str
    checks: int
    target_pk: int | None = None
    #: Whether the removal interval spans a coverage gap (set by the page that shows it).
    spans_gap: bool = False


def feed_items(
    engine: Engine, pks: npt.NDArray[np.int64], gaps: GapIndex | None = None
) -> list[FeedItem]:
    """The rows of these posts, in the order given (re-checked against takedowns); with
    ``gaps``, each says whether its removal interval spans a coverage gap."""
    if pks.size == 0:
        return []
    wanted = [int(pk) for pk in pks]
    query = (
        select(
            posts.c.id,
            posts.c.platform,
            posts.c.post_id,
            authors.c.pseudonym,
            authors.c.raw_id,
            posts.c.published_at,
            posts.c.text,
            verdicts.c.status,
            verdicts.c.last_seen_alive_at,
            verdicts.c.first_seen_removed_at,
            verdicts.c.signal,
            verdicts.c.checks,
            posts.c.target_pk,
        )
        .select_from(
            posts.join(verdicts, verdicts.c.post_pk == posts.c.id).join(
                authors, authors.c.id == posts.c.author_pk
            )
        )
        .where(posts.c.id.in_(wanted), shown_authors())
    )
    with engine.connect() as conn:
        found = {int(row[0]): row for row in conn.execute(query)}
    items: list[FeedItem] = []
    for pk in wanted:
        row = found.get(pk)
        if row is None or row[7] not in REMOVAL_KINDS:
            continue
        items.append(
            FeedItem(
                post_pk=pk,
                platform=str(row[1]),
                post_id=str(row[2]),
                author=str(row[3]),
                author_raw_id=str(row[4]),
                published_at=float(row[5]),
                text=str(row[6]),
                kind=str(row[7]),
                last_seen_alive_at=None if row[8] is None else float(row[8]),
                first_seen_removed_at=float(row[9]),
                signal=str(row[10]),
                checks=int(row[11]),
                target_pk=None if row[12] is None else int(row[12]),
            )
        )
    if gaps:
        items = [
            replace(
                item,
                spans_gap=gaps.spans(
                    item.platform,
                    item.target_pk,
                    item.last_seen_alive_at,
                    item.first_seen_removed_at,
                ),
            )
            for item in items
        ]
    return items
