"""WeChatscope deletion log (HKU JMSC; the ``ceninfo.csv`` the WeChatscope API served): one CSV
row per removed WeChat public-account article.

Columns (a header row names them)::

    title, nickname, created_at, archive, censored_date, censored_msg

``archive`` is ``ACCOUNT_YYYY-MM-DD_MSGID_KEY.y.tar.gz``: the post id is the part after the
account (``YYYY-MM-DD_MSGID_KEY``), the author is the account (pseudonymised like every
author; the display name ``nickname`` stays in the raw row only). The text is the title (the
log has no bodies). ``created_at`` is a date: the post is published, and seen, at the start of
that day (UTC+8 unless ``--utc-offset``), so its interval is a day wider than the truth, never
narrower. ``censored_date`` is when WeChatscope found the article gone: the removal is dated.

Time to removal: the log dates the removal (``censored_date``) but names only the day of
publication, so ``T = censored_date - publication`` lies in ``[R - 1 day, R]`` with ``R`` measured
from the start of that day (:data:`PUBLISHED_WITHIN`). The survival analysis uses that interval
for posts of this import kind (``analysis.study_data``); taking the start of the day as the
publication time would leave every interval open down to 0, and the Turnbull estimate would then
put all removals before the quickest one (a median of half an hour on the real log).

``censored_msg`` is what WeChat showed in place of the article (→ status, leaf code):

- 此内容因违规无法查看 / "Unable to view this content because it violates regulations"
  (removed for violating rules) → ``censored``, ``rule_violation``;
- 该内容已被发布者删除 / "The content has been deleted by the author." → ``author_deleted``,
  ``publisher_deleted``;
- 此帐号已被屏蔽 (the account is blocked) → ``account_suspended``, ``account_blocked``;
- 此内容被投诉且经审核涉嫌侵权，无法查看。 (removed after a copyright complaint) → ``unknown``,
  ``copyright_complaint``;
- 此内容被多人投诉，相关的内容无法进行查看。 (after complaints by many users) → ``unknown``,
  ``user_complaints``;
- 该公众号已迁移 (the account moved to a new one) → ``unknown``, ``account_migrated``;
- anything else → ``unknown``, ``other`` (the message kept verbatim).

A removal on a rights holder's or users' complaint is the platform's act but not a censor's
order as far as the log can tell, and a migrated account is not a removal of the article by
anyone: memoryhole's taxonomy has no status for these, so they are ``unknown``, their own reason
kept in the verdict's signal and the leaf's code. Counting them as censorship would inflate it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from memoryhole.imports.records import (
    BadRow,
    BadRowError,
    Event,
    NewPost,
    PostFacts,
    Record,
    shown,
)
from memoryhole.imports.source import CsvDatasetParser, SourceFile, column_name
from memoryhole.model import Status
from memoryhole.times import WECHATSCOPE_PUBLISHED_WITHIN

KIND = "wechatscope"
PLATFORM = "wechat"
COLUMNS = ("title", "nickname", "created_at", "archive", "censored_date", "censored_msg")
TIMING = "created_at: a day (taken as its start); censored_date: seconds"
ARCHIVE = re.compile(r"(?P<account>.+?)_(?P<post>\d{4}-\d{2}-\d{2}_[^/\\]+?)\.y\.tar\.gz")
MAX_ID = 128
#: Seconds after ``published_at`` (the start of the ``created_at`` day) the article may have been
#: published: the day. The removal itself is dated (``censored_date``).
PUBLISHED_WITHIN = WECHATSCOPE_PUBLISHED_WITHIN

#: Known messages (normalised: spaces and trailing ``,，.。`` stripped) → status, code, gloss.
MESSAGES: dict[str, tuple[Status, str, str]] = {
    "此内容因违规无法查看": (Status.CENSORED, "rule_violation", "removed for violating rules"),
    "Unable to view this content because it violates regulations": (
        Status.CENSORED,
        "rule_violation",
        "removed for violating rules",
    ),
    "该内容已被发布者删除": (
        Status.AUTHOR_DELETED,
        "publisher_deleted",
        "deleted by its publisher",
    ),
    "The content has been deleted by the author": (
        Status.AUTHOR_DELETED,
        "publisher_deleted",
        "deleted by its publisher",
    ),
    "此帐号已被屏蔽": (Status.ACCOUNT_SUSPENDED, "account_blocked", "the account is blocked"),
    "此账号已被屏蔽": (Status.ACCOUNT_SUSPENDED, "account_blocked", "the account is blocked"),
}
#: Messages recognised by a telling part (their wording varies).
PARTS: tuple[tuple[str, Status, str, str], ...] = (
    ("侵权", Status.REMOVED_UNKNOWN, "copyright_complaint", "removed after a copyright complaint"),
    ("多人投诉", Status.REMOVED_UNKNOWN, "user_complaints", "removed after complaints by users"),
    ("已迁移", Status.REMOVED_UNKNOWN, "account_migrated", "the account moved to a new one"),
    ("违规", Status.CENSORED, "rule_violation", "removed for violating rules"),
    ("发布者删除", Status.AUTHOR_DELETED, "publisher_deleted", "deleted by its publisher"),
    ("屏蔽", Status.ACCOUNT_SUSPENDED, "account_blocked", "the account is blocked"),
)


def classify_message(message: str) -> tuple[Status, str, str]:
    """(status, code, English gloss) of a ``censored_msg``."""
    text = message.strip().rstrip(",，.。 ")
    known = MESSAGES.get(text)
    if known is not None:
        return known
    for part, status, code, gloss in PARTS:
        if part in text:
            return status, code, gloss
    return Status.REMOVED_UNKNOWN, "other", "a message memoryhole does not recognise"


#: When two rows report one article removed at the same second, the first removal kind sticks,
#: so which goes first must not be the file's order: the least accusing specific kind first
#: (never "censored" over the author's own deletion by chance), ``unknown`` last (any specific
#: kind refines it anyway).
TIE_ORDER: dict[Status, int] = {
    Status.AUTHOR_DELETED: 0,
    Status.ACCOUNT_SUSPENDED: 1,
    Status.CENSORED: 2,
    Status.REMOVED_UNKNOWN: 3,
}


class WechatscopeParser(CsvDatasetParser):
    kind = KIND
    label = "WeChatscope"
    columns = COLUMNS
    platform = PLATFORM
    timing = TIMING

    def records(self, source: SourceFile) -> Iterator[Record | BadRow]:
        """The rows, those about the same article together and in a canonical order
        (:func:`canonical_order`), so the same set of rows gives the same verdicts whatever
        order the file lists them in. Two passes: the first counts each article's rows (one
        counter per article: the log is small), the second holds an article's rows back until
        the last of them is read."""
        expected = Counter(
            item.posts[0].post_id
            for item in super().records(source)
            if isinstance(item, Record) and item.posts
        )
        self.position = 0
        held: dict[str, list[Record]] = {}
        for item in super().records(source):
            if isinstance(item, BadRow) or not item.posts:
                yield item
                continue
            post_id = item.posts[0].post_id
            if expected[post_id] <= 1:
                yield item
                continue
            group = held.setdefault(post_id, [])
            group.append(item)
            if len(group) == expected[post_id]:
                del held[post_id]
                yield from sorted(group, key=canonical_order)
        for group in held.values():  # the file changed between the passes
            yield from sorted(group, key=canonical_order)

    def _record(
        self, fields: list[str], index: dict[str, int], line: int, raw: bytes, url: str
    ) -> Record:
        def field(name: str) -> str:
            return fields[index[name]]

        def where(name: str) -> str:
            return column_name(index[name], name)

        archive = field("archive").strip()
        match = ARCHIVE.fullmatch(archive)
        if match is None or len(match["post"]) > MAX_ID or len(match["account"]) > MAX_ID:
            raise BadRowError(
                where("archive"), "ACCOUNT_YYYY-MM-DD_MSGID_KEY.y.tar.gz", shown(field("archive"))
            )
        published = self.time(field("created_at"), where("created_at"), "2018-07-06")
        removed = self.time(field("censored_date"), where("censored_date"), "2018-07-07 15:07:27")
        if removed < published:
            raise BadRowError(
                where("censored_date"),
                f"a time not before created_at ({field('created_at').strip()})",
                shown(field("censored_date")),
            )
        message = field("censored_msg").strip()
        if not message:
            raise BadRowError(where("censored_msg"), "the message WeChat showed", "nothing")
        status, code, gloss = classify_message(message)
        event = Event(status, published, removed, code, f"WeChatscope: {message} ({gloss})")
        return Record(
            line=line,
            raw=raw,
            seen_at=published,
            method="IMPORT",
            url=f"{url}{line}",
            posts=(
                PostFacts(
                    match["post"], NewPost(match["account"], published, field("title")), (event,)
                ),
            ),
            detail="WeChatscope: the article as published (created_at, a day)",
        )


def canonical_order(record: Record) -> tuple[float, int, bytes]:
    """Rows about one article: by removal time, then :data:`TIE_ORDER`, then bytes."""
    event = record.posts[0].events[0]
    return event.observed_at, TIE_ORDER.get(event.status, len(TIE_ORDER)), record.raw
