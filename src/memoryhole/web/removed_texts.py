"""The removals feed out of core (``memoryhole serve --engine duckdb``): the feed's index
without the removed posts' texts (:func:`lean_index`: ~19 bytes a removal, read in chunks),
and a term filter that streams those texts from the store instead (:func:`removed_containing`,
the same matching as the in-memory haystacks: casefolded text, or Han characters only)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from memoryhole.analysis.overview import REMOVAL_KINDS
from memoryhole.analysis.tokens import han_only
from memoryhole.store.schema import authors, posts, verdicts
from memoryhole.web.feed import RemovalIndex, removed_conditions


def lean_index(engine: Engine, chunk: int = 200_000) -> RemovalIndex:
    """:meth:`RemovalIndex.build` without the texts (never a Python row per removal held)."""
    query = (
        select(verdicts.c.first_seen_removed_at, posts.c.id, verdicts.c.status, posts.c.platform)
        .select_from(
            verdicts.join(posts, posts.c.id == verdicts.c.post_pk).join(
                authors, authors.c.id == posts.c.author_pk
            )
        )
        .where(*removed_conditions())
        .execution_options(yield_per=chunk)
    )
    kind_code = {name: i for i, name in enumerate(REMOVAL_KINDS)}
    platform_code: dict[str, int] = {}
    parts: list[tuple[Any, ...]] = []
    with engine.connect() as conn:
        for rows in conn.execute(query).partitions():
            parts.append(
                (
                    np.fromiter((r[0] for r in rows), np.float64, len(rows)),
                    np.fromiter((r[1] for r in rows), np.int64, len(rows)),
                    np.fromiter((kind_code[r[2]] for r in rows), np.int8, len(rows)),
                    np.fromiter(
                        (platform_code.setdefault(r[3], len(platform_code)) for r in rows),
                        np.int16,
                        len(rows),
                    ),
                )
            )
    at, pk, kind, platform = (
        np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype=dtype)
        for i, dtype in enumerate((np.float64, np.int64, np.int8, np.int16))
    )
    order = np.lexsort((-pk, -at))  # newest detection first, then the larger id
    platforms = sorted(platform_code)
    recode = np.zeros(max(len(platform_code), 1), dtype=np.int16)
    for name, code in platform_code.items():
        recode[code] = platforms.index(name)
    return RemovalIndex(
        at=at[order],
        post_pk=pk[order],
        kind=kind[order],
        platform=recode[platform[order]] if platform.size else platform,
        platforms=platforms,
        texts=None,
        han=None,
        engine=engine,
    )


def removed_containing(engine: Engine, needle: str, han: bool) -> list[int]:
    """The ids of removed posts whose text contains ``needle`` (Han characters only when
    ``han``, else casefolded), streamed from the store."""
    query = (
        select(posts.c.id, posts.c.text)
        .select_from(verdicts.join(posts, posts.c.id == verdicts.c.post_pk))
        .where(verdicts.c.status.in_(REMOVAL_KINDS), verdicts.c.first_seen_removed_at.is_not(None))
        .execution_options(yield_per=50_000)
    )
    found: list[int] = []
    with engine.connect() as conn:
        for pk, text in conn.execute(query):
            cleaned = str(text).replace("\x00", "")
            if needle in (han_only(cleaned) if han else cleaned.casefold()):
                found.append(int(pk))
    return found
