"""Weibo, through the mobile web JSON API (the shapes ``m.weibo.cn`` serves).

Modelled shapes (see docs/adapters.md for sources and what is simplified):

- Listing: ``GET /api/container/getIndex?containerid=107603{uid}`` (one user's timeline) or
  ``containerid=102803`` (a public feed, used for ``weibo:all``), with ``since_id`` to page
  forward. Answer: ``{"ok": 1, "data": {"cardlistInfo": {"since_id": ..}, "cards": [{"card_type":
  9, "mblog": {...}}]}}``.
- One post: ``GET /statuses/show?id={mid}``. Visible: ``{"ok": 1, "data": {mblog}}``; its
  images are ``pics: [{"url", "large": {"url"}}]`` and a video is ``page_info: {"type":
  "video", "media_info": {"mp4_hd_url" | "mp4_sd_url" | "stream_url"}}``, kept as references.
  Removed: ``{"ok": 0, "errno": CODE, "msg": ...}`` where the codes are those of Weibo's
  documented API error table: 20112 permission denied (removed by the platform: censorship),
  20101 target weibo does not exist (deleted by its author), 20003 user does not exist (the
  account is suspended or closed).

Any other answer (429, 418, 5xx, HTML such as the captcha or login wall, malformed JSON, an
unknown ``errno``) is UNREACHABLE: never a removal.
"""

from __future__ import annotations

import functools
import html
import re
from datetime import datetime
from typing import Any

from memoryhole.errors import TargetError
from memoryhole.model import (
    Capture,
    Discovery,
    Observation,
    PostRef,
    Request,
    SeenPost,
    Status,
    Target,
    content_hash,
)
from memoryhole.platforms._shared import join_detail, media_detail
from memoryhole.platforms.base import json_body, transient

USER_TIMELINE_PREFIX = "107603"
PUBLIC_FEED = "102803"
PAGE_SIZE = 50

ERRNO_PERMISSION_DENIED = "20112"
ERRNO_DOES_NOT_EXIST = "20101"
ERRNO_USER_DOES_NOT_EXIST = "20003"

REMOVAL_BY_ERRNO: dict[str, tuple[Status, str]] = {
    ERRNO_PERMISSION_DENIED: (Status.CENSORED, "permission denied (20112): removed by platform"),
    ERRNO_DOES_NOT_EXIST: (Status.AUTHOR_DELETED, "does not exist (20101): deleted by author"),
    ERRNO_USER_DOES_NOT_EXIST: (Status.ACCOUNT_SUSPENDED, "user does not exist (20003)"),
}

_TAG = re.compile(r"<[^>]+>")
_CREATED_AT_FORMAT = "%a %b %d %H:%M:%S %z %Y"


def visible_text(raw: str) -> str:
    """Weibo's ``text`` is HTML (links, emoticons); this is what a reader sees."""
    return html.unescape(_TAG.sub("", raw))


def parse_created_at(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    return _parse_created_at_text(value)


@functools.lru_cache(maxsize=1 << 16)
def _parse_created_at_text(value: str) -> float | None:
    # Cached: every re-check of a post carries the same string, and strptime is slow.
    try:
        return datetime.strptime(value, _CREATED_AT_FORMAT).timestamp()
    except ValueError:
        return None


def mblog_media(mblog: dict[str, Any]) -> list[tuple[str, str]]:
    """An mblog's images (the large version when given) and video, as (kind, url)."""
    refs: list[tuple[str, str]] = []
    for pic in mblog.get("pics") or ():
        if isinstance(pic, dict):
            large = pic.get("large")
            url = large.get("url") if isinstance(large, dict) else None
            url = url or pic.get("url")
            if isinstance(url, str) and url:
                refs.append(("image", url))
    page = mblog.get("page_info")
    if isinstance(page, dict) and page.get("type") == "video":
        info = page.get("media_info")
        if isinstance(info, dict):
            for key in ("mp4_hd_url", "mp4_sd_url", "stream_url"):
                url = info.get(key)
                if isinstance(url, str) and url:
                    refs.append(("video", url))
                    break
    return refs


def _seen_post(mblog: Any) -> SeenPost | None:
    if not isinstance(mblog, dict):
        return None
    mid = mblog.get("mid") or mblog.get("id")
    user = mblog.get("user")
    published = parse_created_at(mblog.get("created_at"))
    if mid is None or not isinstance(user, dict) or user.get("id") is None or published is None:
        return None
    return SeenPost(
        post_id=str(mid),
        author_id=str(user["id"]),
        published_at=published,
        text=visible_text(str(mblog.get("text", ""))),
    )


class WeiboPlatform:
    name = "weibo"

    def __init__(self, base_url: str = "https://m.weibo.cn") -> None:
        self.base_url = base_url.rstrip("/")
        self._check_requests: dict[tuple[str, str], Request] = {}

    def parse_target(self, text: str) -> Target:
        if text == "all":
            return Target(self.name, "all")
        kind, _, key = text.partition("/")
        if kind == "user" and key.isdigit():
            return Target(self.name, "user", key)
        raise TargetError(
            f"weibo target {text!r} not understood; use weibo:user/<numeric uid> or weibo:all"
        )

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        container = PUBLIC_FEED if target.kind == "all" else USER_TIMELINE_PREFIX + target.key
        params: list[tuple[str, str]] = [("containerid", container), ("count", str(PAGE_SIZE))]
        if cursor:
            params.append(("since_id", cursor))
        return Request("GET", f"{self.base_url}/api/container/getIndex", tuple(params))

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        body, problem = json_body(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        if not isinstance(body, dict):
            return Discovery((), None, Status.UNREACHABLE, "listing is not a JSON object")
        if body.get("ok") != 1:
            errno = str(body.get("errno", ""))
            if target.kind == "user" and errno == ERRNO_USER_DOES_NOT_EXIST:
                return Discovery((), None, Status.ACCOUNT_SUSPENDED, str(body.get("msg", "")))
            return Discovery((), None, Status.UNREACHABLE, f"listing refused (errno {errno!r})")
        data = body.get("data")
        cards = data.get("cards") if isinstance(data, dict) else None
        if not isinstance(cards, list):
            return Discovery((), None, Status.UNREACHABLE, "listing without cards")
        posts = []
        for card in cards:
            if isinstance(card, dict) and card.get("card_type") == 9:
                seen = _seen_post(card.get("mblog"))
                if seen is not None:
                    posts.append(seen)
        info = data.get("cardlistInfo") if isinstance(data, dict) else None
        since = info.get("since_id") if isinstance(info, dict) else None
        return Discovery(tuple(posts), str(since) if since else None, more=len(posts) >= PAGE_SIZE)

    def check_request(self, post: PostRef) -> Request:
        # A Request is immutable: one per post id (and base URL) serves all of its checks.
        key = (self.base_url, post.post_id)
        request = self._check_requests.get(key)
        if request is None:
            if len(self._check_requests) > 1 << 17:
                self._check_requests.clear()
            request = Request("GET", f"{self.base_url}/statuses/show", (("id", post.post_id),))
            self._check_requests[key] = request
        return request

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        body, problem = json_body(capture)
        if problem is not None:
            return transient(problem)
        if not isinstance(body, dict) or "ok" not in body:
            return transient("answer is not a Weibo API envelope")
        if body["ok"] == 1:
            seen = _seen_post(body.get("data"))
            if seen is None or seen.post_id != post.post_id:
                return transient("ok answer without the requested post")
            data = body["data"]
            media = media_detail(mblog_media(data)) if "pics" in data or "page_info" in data else ""
            return Observation(
                Status.LIVE,
                content_hash=content_hash(seen.text),
                text=seen.text,
                detail=join_detail("visible", media),
            )
        errno = str(body.get("errno", ""))
        removal = REMOVAL_BY_ERRNO.get(errno)
        if removal is None:
            return transient(f"unrecognised error answer (errno {errno!r})", code=errno or None)
        status, detail = removal
        return Observation(status, code=errno, detail=detail)
