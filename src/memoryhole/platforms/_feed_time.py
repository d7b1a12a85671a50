"""Publication times as feeds write them, each read exactly or as the interval it allows.

- RFC 822 (RSS ``pubDate``: ``Tue, 03 Sep 2019 18:00:00 -0000``), with a numeric zone, ``GMT``
  or ``UT``, RFC 822's US zone names, or a few common unambiguous zone names (``CEST``).
- RFC 3339 / ISO 8601 (Atom, JSON Feed, ``dc:date``: ``2007-12-14T23:15:00.000-08:00``).
- A day alone (``dc:date`` ``2019-08-27``) or a time without a zone (``2018-01-06T08:00``,
  ``2020/1/10 14:33:00``): the feed does not say where on Earth that clock was, so the time is
  an interval that covers every zone, UTC-12 to UTC+14 (``SeenPost.published_until``).

Anything else is not understood (``None``): the caller says so, never guesses. feedparser's own
date parsing is not used: it reads ``2020/1/10 14:33:00`` as 1 December 2020.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

#: A clock with no zone may be up to 14 hours ahead of UTC (UTC+14) or 12 behind (UTC-12).
AHEAD = 14 * 3600.0
BEHIND = 12 * 3600.0
DAY = 86400.0

#: (start, end) of the publication interval; end None when the time is exact.
Interval = tuple[float, float | None]

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
#: Zone names in hours east of UTC: RFC 822's own and a few unambiguous ones feeds use
#: (``IST`` is not here: India, Ireland and Israel all use it).
_ZONES = {
    "ut": 0,
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "est": -5,
    "edt": -4,
    "cst": -6,
    "cdt": -5,
    "mst": -7,
    "mdt": -6,
    "pst": -8,
    "pdt": -7,
    "wet": 0,
    "west": 1,
    "bst": 1,
    "cet": 1,
    "cest": 2,
    "eet": 2,
    "eest": 3,
    "msk": 3,
    "hkt": 8,
    "sgt": 8,
    "jst": 9,
    "kst": 9,
    "aest": 10,
    "aedt": 11,
    "nzst": 12,
    "nzdt": 13,
}
_RFC822 = re.compile(
    r"^(?:[a-z]{2,9}\.?,?\s+)?(\d{1,2})\s+([a-z]{3,9})\.?\s+(\d{2}|\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([+-]\d{2}:?\d{2}|[a-z]{1,5}))?)?$",
    re.IGNORECASE,
)
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|[T ])|^\d{8}T")
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def feed_time(raw: str) -> Interval | None:
    """When an item was published, as ``raw`` says: ``(at, None)`` exactly, ``(earliest,
    latest)`` when the text allows an interval only, None when it is not understood."""
    text = " ".join(raw.split())
    if not text:
        return None
    if _ISO_START.match(text):
        return _iso(text)
    if match := _RFC822.match(text):
        return _rfc822(match)
    if match := _SLASHED.match(text):
        year, month, day, hour, minute, second = match.groups()
        try:
            local = datetime(int(year), int(month), int(day), tzinfo=UTC)
        except ValueError:
            return None
        if hour is None:
            return _day(local)
        return _zoneless(local, hour, minute, second)
    return None


def _iso(text: str) -> Interval | None:
    if len(text) == 10:
        try:
            return _day(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC))
        except ValueError:
            return None
    normalised = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(normalised)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return _local(parsed.replace(tzinfo=UTC).timestamp())
    return parsed.timestamp(), None


def _rfc822(match: re.Match[str]) -> Interval | None:
    day, month_name, year_text, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    year = int(year_text)
    if len(year_text) == 2:  # RFC 822's two-digit years
        year += 2000 if year < 50 else 1900
    try:
        local = datetime(year, month, int(day), tzinfo=UTC)
    except ValueError:
        return None
    if hour is None:
        return _day(local)
    offset = _offset(zone)
    if offset is None:
        return _zoneless(local, hour, minute, second)
    try:
        at = local.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
    except ValueError:
        return None
    return (at - timedelta(seconds=offset)).timestamp(), None


def _offset(zone: str | None) -> float | None:
    """Seconds east of UTC, or None when the text names no zone or one not known here."""
    if zone is None:
        return None
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        seconds = int(digits[:2]) * 3600 + int(digits[2:]) * 60
        return float(-seconds if zone[0] == "-" else seconds)  # -0000: UTC, local zone unsaid
    hours = _ZONES.get(zone.lower())
    return None if hours is None else hours * 3600.0


def _zoneless(local: datetime, hour: str, minute: str, second: str | None) -> Interval | None:
    try:
        at = local.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
    except ValueError:
        return None
    return _local(at.timestamp())


def _local(clock: float) -> Interval:
    """A wall-clock time read as if in UTC, in an unknown zone: every instant it can be."""
    return clock - AHEAD, clock + BEHIND


def _day(midnight: datetime) -> Interval:
    """A calendar day in an unknown zone."""
    start = midnight.timestamp()
    return start - AHEAD, start + DAY + BEHIND
