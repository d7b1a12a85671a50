"""Content withheld by region over time (``memoryhole analyze withheld``).

A post is *withheld* where a platform serves it to others but not to a vantage point (a country
block: ``model.Status.WITHHELD``). Each of its observations says where it was withheld (the
detail ``"withheld in CN: …"``, ``model.withheld_detail``). Read in log order, a post's answers
make *spells*: a spell in a region starts at the first answer withheld there and ends at the
first later answer that shows the post (``lifted``: the block was lifted, or never covered
that vantage again), at a removal (``removed``: gone everywhere), or stays open. The table
counts, per time bin, platform and region, the spells that started (``withheld``), were lifted
or ended in a removal, and the posts withheld there at the bin's end.

An answer that says nothing (a timeout, a 429: ``unreachable``) neither starts nor ends a spell.
Times are the observations' (platform clock): a spell starts when it was first seen, which is
after the block began, by at most the gap between two checks of the post.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import Engine, select

from memoryhole.analysis.tables import bin_seconds, iso
from memoryhole.model import Status
from memoryhole.store.schema import observations, posts

if TYPE_CHECKING:
    import pandas as pd

WITHHELD_COLUMNS: Final = (
    "bin_start",
    "bin",
    "platform",
    "region",
    "withheld",
    "lifted",
    "removed",
    "withheld_at_end",
)
#: The region a withheld answer names ("withheld in CN: …"); unstated: "(not stated)".
_REGION = re.compile(r"^withheld in ([^:;]+)")
UNSTATED: Final = "(not stated)"
_VISIBLE = {Status.LIVE.value, Status.EDITED.value}
_REMOVED = {s.value for s in Status if s.is_removal}
#: A check's status is its verdict across every vantage asked (``collect.vantages``): the
#: vantages' own answers ("vantage" observations) are already in it.
_ANSWER_KINDS = ("check", "import")


@dataclass(frozen=True)
class Spell:
    """A post withheld in one region from ``start`` until ``end`` (None: still withheld),
    ended by ``how`` ("lifted", "removed" or None)."""

    platform: str
    post_pk: int
    region: str
    start: float
    end: float | None
    how: str | None


def regions_of(detail: str) -> list[str]:
    """The regions a withheld answer names ("withheld in CN, JP: …"), or ``UNSTATED``."""
    found = _REGION.match(detail or "")
    named = [r.strip() for r in found.group(1).split(",")] if found else []
    return [r for r in named if r] or [UNSTATED]


def spells(answers: Iterable[tuple[int, str, float, str, str]]) -> list[Spell]:
    """The spells of ``answers``: ``(post_pk, platform, at, status, detail)`` in log order."""
    done: list[Spell] = []
    open_: dict[tuple[int, str], tuple[str, float]] = {}  # (post, region) -> (platform, start)

    def close(post_pk: int, at: float, how: str, keep: Iterable[str] = ()) -> None:
        for key in [k for k in open_ if k[0] == post_pk and k[1] not in keep]:
            platform, start = open_.pop(key)
            done.append(Spell(platform, post_pk, key[1], start, at, how))

    for post_pk, platform, at, status, detail in answers:
        if status == Status.WITHHELD.value:
            regions = regions_of(detail)
            if UNSTATED not in regions:  # a region no longer named serves the post again
                close(post_pk, at, "lifted", keep=regions)
            for region in regions:
                open_.setdefault((post_pk, region), (platform, at))
        elif status in _VISIBLE:
            close(post_pk, at, "lifted")
        elif status in _REMOVED:
            close(post_pk, at, "removed")
    done += [Spell(p, pk, region, start, None, None) for (pk, region), (p, start) in open_.items()]
    return sorted(done, key=lambda s: (s.start, s.post_pk, s.region))


def study_spells(engine: Engine) -> list[Spell]:
    """Every withheld spell of the study, from its observations (only posts ever withheld)."""
    ever = select(observations.c.post_pk).where(observations.c.status == Status.WITHHELD.value)
    query = (
        select(
            observations.c.post_pk,
            posts.c.platform,
            observations.c.observed_at,
            observations.c.status,
            observations.c.detail,
        )
        .join(posts, posts.c.id == observations.c.post_pk)
        .where(observations.c.post_pk.in_(ever.distinct()))
        .where(observations.c.kind.in_(_ANSWER_KINDS))
        .order_by(observations.c.post_pk, observations.c.id)
    )
    with engine.connect() as connection:
        rows = [
            (int(pk), str(platform), float(at), str(status), str(detail or ""))
            for pk, platform, at, status, detail in connection.execute(query)
        ]
    return spells(rows)


def withheld_table(
    found: list[Spell], *, bin: str | float = "day", platforms: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Per bin, platform and region: spells started, lifted, ended by a removal, and open at
    the bin's end (``WITHHELD_COLUMNS``). Bins run from the first spell to the last change."""
    import math

    import pandas as pd

    width = bin_seconds(bin)
    chosen = [s for s in found if not platforms or s.platform in platforms]
    if not chosen:
        return pd.DataFrame({c: [] for c in WITHHELD_COLUMNS})
    first = math.floor(min(s.start for s in chosen) / width) * width
    last = max(max(s.start, s.end or s.start) for s in chosen)
    rows = []
    for key in sorted({(s.platform, s.region) for s in chosen}):
        mine = [s for s in chosen if (s.platform, s.region) == key]
        start = first
        while start <= last:
            end = start + width
            rows.append(
                {
                    "bin_start": start,
                    "bin": iso(start),
                    "platform": key[0],
                    "region": key[1],
                    "withheld": sum(start <= s.start < end for s in mine),
                    "lifted": sum(s.how == "lifted" and start <= (s.end or 0) < end for s in mine),
                    "removed": sum(
                        s.how == "removed" and start <= (s.end or 0) < end for s in mine
                    ),
                    "withheld_at_end": sum(
                        s.start < end and (s.end is None or s.end >= end) for s in mine
                    ),
                }
            )
            start = end
    return pd.DataFrame(rows, columns=list(WITHHELD_COLUMNS))


__all__ = ["UNSTATED", "WITHHELD_COLUMNS", "Spell", "spells", "study_spells", "withheld_table"]
