"""Weibo's ``created_at`` in every form its answers use, read as an honest time interval.

``statuses/show`` gives the full form (``Sat Jun 15 11:44:46 +0800 2019``: exact to the
second). Timelines and search give what the app shows a reader, relative to when the answer was
made, in Beijing time (UTC+8), and only as precise as the words: ``刚刚`` (just now), ``N秒前``,
``N分钟前``, ``N小时前``, ``今天 HH:MM``, ``昨天 HH:MM``, ``MM-DD`` (this year: a whole day),
``MM-DD HH:MM``, ``YYYY-MM-DD`` (a whole day) and ``YYYY-MM-DD HH:MM``.

``read_created_at`` returns ``(earliest, latest)`` epoch seconds: the post was published at
some instant in that interval (``earliest == latest`` when the value is exact). A relative value
is anchored to the answer: the server made it somewhere between when the request left
(``sent_at``) and when the answer was complete (``answered_at``), so both ends are used, and a
day-precision date is never placed after the answer. Anything else is ``None``: never guessed.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
FULL_FORMAT = "%a %b %d %H:%M:%S %z %Y"
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

_AGO = re.compile(r"^(\d{1,4})\s*(秒|分钟|小时|天)前$")
_CLOCK = r"(\d{1,2}):(\d{2})"
_TODAY = re.compile(rf"^今天\s*{_CLOCK}$")
_YESTERDAY = re.compile(rf"^昨天\s*{_CLOCK}$")
_MONTH_DAY = re.compile(rf"^(\d{{1,2}})-(\d{{1,2}})(?:\s+{_CLOCK})?$")
_FULL_DATE = re.compile(rf"^(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})(?:\s+{_CLOCK})?$")
_UNITS = {"秒": 1.0, "分钟": MINUTE, "小时": HOUR, "天": DAY}

Interval = tuple[float, float]


def read_created_at(value: object, sent_at: float, answered_at: float) -> Interval | None:
    """The publication interval ``value`` states, or None when it cannot be read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value), float(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    exact = parse_full(text)
    if exact is not None:
        return exact, exact
    return _relative(text, min(sent_at, answered_at), answered_at)


@functools.lru_cache(maxsize=1 << 16)
def parse_full(text: str) -> float | None:
    """``Sat Jun 15 11:44:46 +0800 2019`` → epoch seconds (cached: every re-check of a post
    carries the same string, and strptime is slow)."""
    try:
        return datetime.strptime(text, FULL_FORMAT).timestamp()
    except ValueError:
        return None


def _relative(text: str, sent_at: float, answered_at: float) -> Interval | None:
    if text == "刚刚":
        return sent_at - MINUTE, answered_at
    ago = _AGO.match(text)
    if ago is not None:
        unit = _UNITS[ago.group(2)]
        count = int(ago.group(1))
        # "N minutes ago" is shown from N to N+1 minutes after publication.
        return sent_at - (count + 1) * unit, answered_at - count * unit
    today = _beijing_date(answered_at)
    for pattern, day in ((_TODAY, today), (_YESTERDAY, today - timedelta(days=1))):
        clock = pattern.match(text)
        if clock is not None:
            return _clipped(_minute(day, clock.group(1), clock.group(2)), answered_at)
    full = _FULL_DATE.match(text)
    if full is not None:
        dated = _date(int(full.group(1)), int(full.group(2)), int(full.group(3)))
        return _day_or_minute(dated, full.group(4), full.group(5), answered_at)
    month_day = _MONTH_DAY.match(text)
    if month_day is not None:
        month, day_of_month = int(month_day.group(1)), int(month_day.group(2))
        dated = _date(today.year, month, day_of_month)
        if dated is not None and dated > today:  # a date later this year is last year's
            dated = _date(today.year - 1, month, day_of_month)
        return _day_or_minute(dated, month_day.group(3), month_day.group(4), answered_at)
    return None


def _beijing_date(epoch: float) -> date:
    return datetime.fromtimestamp(epoch, BEIJING).date()


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _start(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp()


def _minute(day: date, hour: str, minute: str) -> Interval | None:
    hours, minutes = int(hour), int(minute)
    if hours > 23 or minutes > 59:
        return None
    start = _start(day) + hours * HOUR + minutes * MINUTE
    return start, start + MINUTE


def _day_or_minute(
    day: date | None, hour: str | None, minute: str | None, answered_at: float
) -> Interval | None:
    if day is None:
        return None
    if hour is not None and minute is not None:
        return _clipped(_minute(day, hour, minute), answered_at)
    start = _start(day)
    return _clipped((start, start + DAY), answered_at)


def _clipped(interval: Interval | None, answered_at: float) -> Interval | None:
    """A stated time after the answer itself is not a publication time (a wrong clock, or a
    misread date): refused rather than moved."""
    if interval is None or interval[0] > answered_at:
        return None
    return interval[0], min(interval[1], answered_at)


def beijing_text(epoch: float) -> str:
    """For messages: ``2019-06-14 11:44 (UTC+8)``."""
    return datetime.fromtimestamp(epoch, UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
