"""Weibo's shapes, as the real ``m.weibo.cn`` answers (held against tests/data/real):

- an ``mblog``: ``id``/``idstr``/``mid``, ``created_at``, ``text`` (HTML), ``textLength``,
  ``isLongText`` (a text over ``LONG_TEXT`` characters is cut in listings, "…全文"; the post's own
  page carries the whole text in ``longText.longTextContent``), ``user`` (``id`` a number,
  ``screen_name``, ``profile_url``…), counts, ``pics``/``page_info`` for media;
- ``created_at`` in the full form on ``statuses/show`` and in the reader's form in listings:
  ``刚刚``, ``N分钟前``, ``N小时前``, ``昨天 HH:MM``, ``MM-DD``, ``YYYY-MM-DD`` (Beijing time);
- errors: ``{"ok": 0, "errno": "20112" | "20101", "msg": …}`` for a removed post (20101 for an
  author's deletion *and* for what Weibo does not explain), ``20003`` with the blocked-account
  notice for a suspended account.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from memoryhole.sim.shapes import media_of

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

BEIJING = timezone(timedelta(hours=8))
LONG_TEXT = 140  # characters a listing shows of a long post
TIMELINE_PAGE = 10  # posts per page of a timeline or search, as Weibo's mobile pages
BLOCKED_ACCOUNT = "该账号因被投诉违反法律法规和《微博社区公约》的相关规定，现已无法查看。"

#: How each scenario removal answers a check: (errno, msg). 20101's message is Weibo's own
#: wording for "does not exist or no permission to view" (it does not say who removed it).
ERRORS: dict[str, tuple[str, str]] = {
    "censored": ("20112", "由于作者隐私设置，你没有权限查看此微博"),
    "author_deleted": ("20101", "微博不存在或暂无查看权限!"),
    "account_suspended": ("20003", BLOCKED_ACCOUNT),
}


def full_created_at(epoch: float) -> str:
    """``Tue Nov 24 18:05:00 +0800 2026`` (``statuses/show``)."""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%a %b %d %H:%M:%S %z %Y")


def reader_created_at(epoch: float, now: float) -> str:
    """What a listing shows a reader (Beijing time), as precise as Weibo's own words."""
    age = now - epoch
    if age < 60:
        return "刚刚"
    if age < 3600:
        return f"{int(age // 60)}分钟前"
    if age < 86400:
        return f"{int(age // 3600)}小时前"
    moment = datetime.fromtimestamp(epoch, BEIJING)
    today = datetime.fromtimestamp(now, BEIJING).date()
    if moment.date() == today - timedelta(days=1):
        return moment.strftime("昨天 %H:%M")
    if moment.year == today.year:
        return moment.strftime("%m-%d")
    return moment.strftime("%Y-%m-%d")


def user_record(author_id: str) -> dict[str, object]:
    uid = int(author_id) if author_id.isdigit() else author_id
    return {
        "id": uid,
        "screen_name": f"用户{author_id[-6:]}",
        "profile_url": f"https://m.weibo.cn/u/{author_id}?uid={author_id}",
        "verified": False,
        "verified_type": -1,
    }


def mblog_body(sim: SimPlatform, post: ScenarioPost, version: int, text: str, page: bool) -> bytes:
    """The mblog's JSON without its first key (``created_at``, which depends on when and where
    it is shown): ``b'"id": …}'``. ``page``: as the post's own page shows it (the whole text)."""
    long = len(text) > LONG_TEXT
    shown = text[:LONG_TEXT] + "..." if long and not page else text
    escaped = weibo_html(shown)
    if long and not page:
        escaped += f'<a href="/status/{post.post_id}">全文</a>'
    record: dict[str, object] = {
        "id": post.post_id,
        "idstr": post.post_id,
        "mid": post.post_id,
        "text": escaped,
        "textLength": len(text.encode("gbk", errors="replace")),
        "source": "微博 weibo.com",
        "user": user_record(post.author_id),
        "reposts_count": 0,
        "comments_count": 0,
        "attitudes_count": 0,
        "isLongText": long,
        "edit_count": version,
        "edit_config": {"edited": version > 0},
    }
    if long and page:
        record["longText"] = {"longTextContent": weibo_html(text)}
    if version:
        record["edit_at"] = full_created_at(post.edits[version - 1][0])
    for kind, url in media_of(post, sim.media_base):
        if kind == "video":
            record["page_info"] = {
                "type": "video",
                "media_info": {"stream_url": url, "mp4_hd_url": url, "duration": 15},
            }
        else:
            record["pics"] = [{"pid": post.post_id, "url": url, "large": {"url": url}}]
    return json.dumps(record, ensure_ascii=False).encode()[1:]


def weibo_html(text: str) -> str:
    """Text as Weibo's ``text`` holds it: HTML, a line break as ``<br />``."""
    return html.escape(text, quote=False).replace("\n", "<br />")


def with_created_at(created_at: str, rest: bytes) -> bytes:
    return b'{"created_at":' + json.dumps(created_at, ensure_ascii=False).encode() + b"," + rest
