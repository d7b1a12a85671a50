"""Weiboscope open data (HKU JMSC, Fu, Chan & Chau 2013): one CSV row per Weibo post.

Columns (a header row names them; order is free, other columns are allowed)::

    mid, retweeted_status_mid, uid, retweeted_uid, source, image, text, geo, created_at,
    deleted_last_seen, permission_denied

The dataset's documented meaning of the two deletion columns: ``deleted_last_seen`` is the last
time the post was seen before it went missing from its author's timeline (empty: never found
missing); ``permission_denied`` is set when, the post being missing, the API answered
"permission denied". Mapping:

- ``permission_denied`` true → ``censored`` (Weibo's "permission denied" is its removal by the
  platform);
- missing without "permission denied" → ``unknown``: the API then said "does not exist", which
  the author's own deletion and a removal by the platform both produce; the dataset cannot tell
  them apart, so memoryhole does not guess ``author_deleted``;
- otherwise ``live``.

Timing: ``created_at`` is the sighting (the post was visible when published); a later
``deleted_last_seen`` is a second sighting; a removal is **undated** (the dataset says when the
post was last seen, not when it was found missing), so its verdict has an empty
``first_seen_removed_at``: the removal lies after ``last_seen_alive_at``, no more is known.
Naive times are China Standard Time (UTC+8) unless ``--utc-offset`` says otherwise.
"""

from __future__ import annotations

from memoryhole.imports.records import (
    UNDATED,
    BadRowError,
    Event,
    NewPost,
    PostFacts,
    Record,
    shown,
)
from memoryhole.imports.source import CsvDatasetParser, column_name
from memoryhole.model import Status

KIND = "weiboscope"
PLATFORM = "weibo"
COLUMNS = (
    "mid",
    "retweeted_status_mid",
    "uid",
    "retweeted_uid",
    "source",
    "image",
    "text",
    "geo",
    "created_at",
    "deleted_last_seen",
    "permission_denied",
)
TIMING = (
    "seconds (created_at, deleted_last_seen); removals undated (the dataset does not say when a "
    "post was found missing)"
)
TRUE = frozenset({"true", "t", "1", "yes", "y"})
FALSE = frozenset({"false", "f", "0", "no", "n", ""})
MAX_ID = 128

CENSORED_DETAIL = (
    'Weiboscope: missing from the author\'s timeline and the API answered "permission denied" '
    "(removed by the platform)"
)
DELETED_DETAIL = (
    'Weiboscope: missing from the author\'s timeline without "permission denied" (deleted by '
    "the author or removed by the platform: the dataset cannot tell which)"
)


class WeiboscopeParser(CsvDatasetParser):
    kind = KIND
    label = "Weiboscope"
    columns = COLUMNS
    platform = PLATFORM
    timing = TIMING

    def _record(
        self, fields: list[str], index: dict[str, int], line: int, raw: bytes, url: str
    ) -> Record:
        def field(name: str) -> str:
            return fields[index[name]]

        def where(name: str) -> str:
            return column_name(index[name], name)

        mid = field("mid").strip()
        uid = field("uid").strip()
        for name, value in (("mid", mid), ("uid", uid)):
            if not value or len(value) > MAX_ID:
                raise BadRowError(
                    where(name), f"an id of 1 to {MAX_ID} characters", shown(field(name))
                )
        created = self.time(field("created_at"), where("created_at"), "2012-01-03 02:02:27")
        last_seen_text = field("deleted_last_seen").strip()
        last_seen: float | None = None
        if last_seen_text:
            last_seen = self.time(last_seen_text, where("deleted_last_seen"), "2012-01-03 02:02:27")
            if last_seen < created:
                raise BadRowError(
                    where("deleted_last_seen"),
                    f"a time not before created_at ({field('created_at').strip()})",
                    shown(last_seen_text),
                )
        flag = field("permission_denied").strip().lower()
        if flag in TRUE:
            denied = True
        elif flag in FALSE:
            denied = False
        else:
            raise BadRowError(
                where("permission_denied"),
                "true/false (or 1/0, or empty)",
                shown(field("permission_denied")),
            )
        events: list[Event] = []
        alive = created
        if last_seen is not None and last_seen > created:
            alive = last_seen
            events.append(
                Event(
                    Status.LIVE,
                    last_seen,
                    last_seen,
                    code="deleted_last_seen",
                    detail="Weiboscope: last seen in the author's timeline",
                )
            )
        if denied:
            events.append(
                Event(Status.CENSORED, alive, alive, UNDATED + "permission_denied", CENSORED_DETAIL)
            )
        elif last_seen is not None:
            events.append(
                Event(Status.REMOVED_UNKNOWN, alive, alive, UNDATED + "deleted", DELETED_DETAIL)
            )
        return Record(
            line=line,
            raw=raw,
            seen_at=created,
            method="IMPORT",
            url=f"{url}{line}",
            posts=(PostFacts(mid, NewPost(uid, created, field("text")), tuple(events)),),
            detail="Weiboscope: the post as published (created_at)",
        )
