"""The simulated platform: a scenario served in the shapes of Weibo's mobile JSON API.

``SimPlatform.handle`` is sans-IO (method, path, query in; status, headers, body out) and reads
the time from an injected clock, so the same code answers over HTTP (``sim.server``) and in
process on a virtual clock (``sim.inprocess``). Shapes modelled (docs/simulator.md):

- ``GET /statuses/show?id=MID``: ``{"ok": 1, "data": {mblog}}`` while the post is visible;
  after a removal ``{"ok": 0, "errno": "20112", ...}`` (permission denied: censored),
  ``"20101"`` (does not exist: deleted by its author) or ``"20003"`` (user does not exist:
  the account is suspended).
- ``GET /api/container/getIndex?containerid=102803&since_id=C&count=N``: the public feed, oldest
  first after cursor ``C``; ``containerid=107603{uid}``: one user's timeline, the same way; a
  suspended user's timeline answers ``errno 20003``. Removed posts are missing from listings.
- ``GET /__sim__/clock``: the simulator's clock, so a collector on this machine can share it.
- ``GET /media/{post_id}.jpg|.mp4``: the media the other shapes link (``sim/shapes/media.py``).

With ``platform`` other than ``"weibo"`` the same scenario is rendered in that platform's shapes
instead (``sim/shapes/``: reddit, mastodon, rss, json); ``/__sim__/clock`` stays the same.
"""

from __future__ import annotations

import bisect
import html
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from memoryhole.clock import Clock
from memoryhole.sim.scenario import ScenarioPost, effective_removal, suspension_times
from memoryhole.sim.shapes import MEDIA_BASE, get_shape, media_of
from memoryhole.sim.shapes.media import is_media_path, media_answer

PUBLIC_FEED = "102803"
USER_TIMELINE_PREFIX = "107603"
MAX_PAGE = 100
BEIJING = timezone(timedelta(hours=8))

JSON_HEADERS: tuple[tuple[str, str], ...] = (("content-type", "application/json; charset=utf-8"),)

ERRORS: dict[str, tuple[str, str]] = {
    "censored": ("20112", "由于作者隐私设置，你没有权限查看此微博"),  # permission denied
    "author_deleted": ("20101", "target weibo does not exist!"),
    "account_suspended": ("20003", "用户不存在"),
}

Answer = tuple[int, tuple[tuple[str, str], ...], bytes]


def created_at(epoch: float) -> str:
    """Weibo's ``created_at``: ``Tue Nov 24 18:05:00 +0800 2026`` (Beijing time)."""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%a %b %d %H:%M:%S %z %Y")


def _json(payload: object, status: int = 200) -> Answer:
    return status, JSON_HEADERS, json.dumps(payload, ensure_ascii=False).encode()


#: The answer to a check of a post removed that way (``ERRORS``), the same bytes every time.
_REMOVED: dict[str, Answer] = {
    kind: _json({"ok": 0, "errno": code, "msg": message})
    for kind, (code, message) in ERRORS.items()
}


class SimPlatform:
    """Answers requests about ``posts`` as the platform would at ``clock.now()``."""

    def __init__(
        self, posts: Sequence[ScenarioPost], clock: Clock, platform: str = "weibo"
    ) -> None:
        self.clock = clock
        self.platform = platform
        self.shape = get_shape(platform)
        #: Where media links point: ``sim serve`` sets its own address (``sim/shapes/media.py``).
        self.media_base = MEDIA_BASE
        self.posts = sorted(posts, key=lambda p: (p.published_at, p.post_id))
        self.by_id = {post.post_id: post for post in self.posts}
        self.position = {post.post_id: index for index, post in enumerate(self.posts)}
        self.published = [post.published_at for post in self.posts]
        suspended = suspension_times(self.posts)
        self.suspended_at = suspended
        self.gone: dict[str, tuple[float, str]] = {}
        for post in self.posts:
            removal = effective_removal(post, suspended)
            if removal is not None:
                self.gone[post.post_id] = removal
        self.by_author: dict[str, list[int]] = defaultdict(list)
        for index, post in enumerate(self.posts):
            self.by_author[post.author_id].append(index)
        self._mblog_cache: dict[tuple[str, int], bytes] = {}
        self._show_cache: dict[tuple[str, int], Answer] = {}  # keyed as _mblog_cache

    # -- state at a time ---------------------------------------------------------------------

    def removal_at(self, post: ScenarioPost, now: float) -> str | None:
        gone = self.gone.get(post.post_id)
        return gone[1] if gone is not None and gone[0] <= now else None

    def is_suspended(self, author_id: str, now: float) -> bool:
        suspension = self.suspended_at.get(author_id)
        return suspension is not None and suspension <= now

    def text_at(self, post: ScenarioPost, now: float) -> tuple[int, str]:
        """(edit version, text) of ``post`` at ``now``: version 0 is the original."""
        return self._text_version(post, now)

    def _text_version(self, post: ScenarioPost, now: float) -> tuple[int, str]:
        version, text = 0, post.text
        for at, new_text in post.edits:
            if at > now:
                break
            version, text = version + 1, new_text
        return version, text

    def mblog(self, post: ScenarioPost, now: float) -> bytes:
        """The post's JSON object as the API embeds it (cached per edit version)."""
        version, text = self._text_version(post, now)
        key = (post.post_id, version)
        cached = self._mblog_cache.get(key)
        if cached is None:
            record: dict[str, object] = {
                "created_at": created_at(post.published_at),
                "id": post.post_id,
                "mid": post.post_id,
                "text": html.escape(text, quote=False),
                "source": "微博 weibo.com",
                "user": {
                    "id": int(post.author_id) if post.author_id.isdigit() else post.author_id,
                    "screen_name": f"用户{post.author_id[-6:]}",
                },
                "reposts_count": 0,
                "comments_count": 0,
                "attitudes_count": 0,
                "edit_count": version,
                "isLongText": False,
            }
            if version:
                record["edit_at"] = created_at(post.edits[version - 1][0])
            for kind, url in media_of(post, self.media_base):
                if kind == "video":
                    record["page_info"] = {
                        "type": "video",
                        "media_info": {"stream_url": url, "mp4_hd_url": url, "duration": 15},
                    }
                else:
                    record["pics"] = [{"pid": post.post_id, "url": url, "large": {"url": url}}]
            cached = json.dumps(record, ensure_ascii=False).encode()
            self._mblog_cache[key] = cached
        return cached

    # -- requests ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: Mapping[str, str]) -> Answer:
        now = self.clock.now()
        if is_media_path(path):
            return media_answer(self, path, now)
        if self.shape is not None and path != "/__sim__/clock":
            return self.shape.handle(self, method, path, query, now)
        if method != "GET":
            return _json({"ok": 0, "msg": "method not allowed"}, 405)
        if path == "/statuses/show":
            return self.show(query.get("id", ""), now)
        if path == "/api/container/getIndex":
            return self.listing(query, now)
        if path == "/__sim__/clock":
            return _json(self.clock_info(now))
        return _json({"ok": 0, "msg": "not found"}, 404)

    def clock_info(self, now: float) -> dict[str, float]:
        info = {"now": now, "speed": 0.0, "platform_origin": now, "wall_origin": 0.0}
        for name in ("speed", "platform_origin", "wall_origin"):
            value = getattr(self.clock, name, None)
            if isinstance(value, int | float):
                info[name] = float(value)
        return info

    def show(self, post_id: str, now: float) -> Answer:
        post = self.by_id.get(post_id)
        if post is None or post.published_at > now:
            return _REMOVED["author_deleted"]
        removal = self.removal_at(post, now)
        if removal is not None:
            return _REMOVED[removal]
        key = (post_id, self._text_version(post, now)[0])
        answer = self._show_cache.get(key)
        if answer is None:
            body = b'{"ok":1,"data":' + self.mblog(post, now) + b"}"
            answer = self._show_cache[key] = (200, JSON_HEADERS, body)
        return answer

    def listing(self, query: Mapping[str, str], now: float) -> Answer:
        container = query.get("containerid", "")
        try:
            count = max(1, min(MAX_PAGE, int(query.get("count", "20"))))
        except ValueError:
            count = 20
        since = query.get("since_id") or None
        start = self.position[since] + 1 if since in self.position else 0
        if container == PUBLIC_FEED:
            candidates: Sequence[int] = range(start, bisect.bisect_right(self.published, now))
        elif container.startswith(USER_TIMELINE_PREFIX):
            uid = container[len(USER_TIMELINE_PREFIX) :]
            suspension = self.suspended_at.get(uid)
            if uid not in self.by_author or (suspension is not None and suspension <= now):
                code, message = ERRORS["account_suspended"]
                return _json({"ok": 0, "errno": code, "msg": message})
            indices = self.by_author[uid]
            candidates = indices[bisect.bisect_left(indices, start) :]
        else:
            return _json({"ok": 0, "msg": "这里还没有内容"})
        cards: list[bytes] = []
        cursor = since
        for index in candidates:
            post = self.posts[index]
            if post.published_at > now:
                break
            cursor = post.post_id
            if self.removal_at(post, now) is None:
                cards.append(b'{"card_type":9,"mblog":' + self.mblog(post, now) + b"}")
                if len(cards) >= count:
                    break
        info = json.dumps({"since_id": cursor or "", "total": len(cards)}).encode()
        body = b'{"ok":1,"data":{"cardlistInfo":' + info + b',"cards":['
        return 200, JSON_HEADERS, body + b",".join(cards) + b"]}}"
