"""Which times memoryhole takes in, and how it shows a time it cannot take in.

Imports refuse a time outside ``[the platform's launch, the import's own time + 1 day]``
(:func:`import_range`): the row is malformed, its line named. Whatever reached a study some
other way (an edited store, an older version), every reader tolerates any float: a time no
calendar can show is shown as "invalid time" (:func:`utc_datetime` is None), written as
``null`` in JSON (:func:`json_number`) and left out of analyses (:func:`analysable`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Final

#: Public launch of each platform (UTC): no post or answer of it can be older.
LAUNCHES: Final[dict[str, str]] = {
    "weibo": "2009-08-14",
    "wechat": "2011-01-21",
    "reddit": "2005-06-23",
    "mastodon": "2016-03-16",
}
#: Seconds after ``published_at`` a WeChatscope article may have been published: its
#: ``created_at`` is a day, taken as its start (``imports/wechatscope.py``; analyses use it).
WECHATSCOPE_PUBLISHED_WITHIN: Final = 86_400.0
#: Any other platform (RSS, generic JSON, plugins): the first web site.
WEB_LAUNCH: Final = "1991-08-06"
#: How far past the import's own time a time may lie (clocks differ, zones get mixed up).
FUTURE_MARGIN: Final = 86_400.0

#: Readers analyse times in ``[1970-01-01, 2200-01-01)``: every time an import accepts, and
#: nothing that would make a timeline of millions of bins.
ANALYSABLE_FROM: Final = 0.0
ANALYSABLE_UNTIL: Final = datetime(2200, 1, 1, tzinfo=UTC).timestamp()


def launch(platform: str) -> tuple[float, str]:
    """Epoch seconds and ISO date of the platform's launch (the web's for others)."""
    day = LAUNCHES.get(platform, WEB_LAUNCH)
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp(), day


def import_range(platform: str, now: float) -> tuple[float, float]:
    """``(earliest, latest)`` time an import of ``platform`` at ``now`` accepts."""
    return launch(platform)[0], now + FUTURE_MARGIN


def in_import_range(at: float, platform: str, now: float) -> bool:
    earliest, latest = import_range(platform, now)
    return math.isfinite(at) and earliest <= at <= latest


def describe_range(platform: str, now: float) -> str:
    """The range in words, for an error message."""
    _, day = launch(platform)
    latest = import_range(platform, now)[1]
    until = datetime.fromtimestamp(latest, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"a time from {day} ({platform}'s launch) to {until} (a day after this import)"


def utc_datetime(at: float | None) -> datetime | None:
    """``at`` as an aware UTC datetime, or None when it is missing, not finite or outside
    what a calendar can show (years 1 to 9999)."""
    if at is None:
        return None
    try:
        value = float(at)
        if not math.isfinite(value):
            return None
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def iso_utc(at: float | None) -> str | None:
    """``at`` as ISO 8601 in UTC (``2024-06-01T12:00:00Z``), or None when no calendar can
    show it."""
    moment = utc_datetime(at)
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def shown_invalid(at: object) -> str:
    """How a time no calendar can show is shown."""
    return f"invalid time ({at!r})"


def json_number(value: object) -> object:
    """``value``, with a float JSON cannot hold (NaN, infinities) as None (``null``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def analysable(at: float | None) -> bool:
    """Whether an analysis can use ``at`` (a missing time is handled by the caller)."""
    return at is not None and math.isfinite(at) and ANALYSABLE_FROM <= at < ANALYSABLE_UNTIL
