"""The simulated platform: a scenario served in the shapes of Weibo's mobile JSON API.

``SimPlatform.handle`` is sans-IO (method, path, query in; status, headers, body out) and reads
the time from an injected clock, so the same code answers over HTTP (``sim.server``) and in
process on a virtual clock (``sim.inprocess``). Shapes served (docs/simulator.md; the JSON is
Weibo's own, ``sim/shapes/weibo.py``):

- ``GET /statuses/show?id=MID``: ``{"ok": 1, "data": {mblog}}`` while the post is visible;
  after a removal ``{"ok": 0, "errno": "20112", ...}`` (permission denied: censored),
  ``"20101"`` (does not exist or no permission: an author's deletion looks like this on Weibo)
  or ``"20003"`` with the blocked-account notice (the account is suspended).
  ``GET /statuses/extend?id=MID``: a long post's whole text.
- ``GET /api/container/getIndex?containerid=107603{uid}[&page=N]``: one user's timeline,
  newest first, ten posts a page, ``cardlistInfo.page`` the next (older) page's number;
  ``containerid=100103type=1&q=Q``: search (posts whose text holds ``Q``); ``containerid=102803``:
  the hot feed (a selection of the last day's posts, not in time order). Removed posts are
  missing from listings; a suspended user's timeline answers ``errno 20003``.
- ``GET /api/container/getIndex?containerid=memoryhole_sim_all&since_id=C&count=N``: the
  simulator's complete public feed (``weibo:all``), oldest first after post ``C``: it has no
  counterpart on Weibo and exists for demos and benchmarks.
- ``GET /__sim__/clock``: the simulator's clock, so a collector on this machine can share it.
- ``GET /media/{post_id}.jpg|.mp4``: the media the other shapes link (``sim/shapes/media.py``).

With ``platform`` other than ``"weibo"`` the same scenario is rendered in that platform's shapes
instead (``sim/shapes/``: reddit, mastodon, rss, json); ``/__sim__/clock`` stays the same.
"""

from __future__ import annotations

import bisect
import json
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs

from memoryhole.clock import Clock
from memoryhole.scenario import ScenarioPost, effective_removal, suspension_times
from memoryhole.sim.search_filter import SearchFilter
from memoryhole.sim.shapes import MEDIA_BASE, get_shape
from memoryhole.sim.shapes.media import is_media_path, media_answer
from memoryhole.sim.shapes.weibo import (
    ERRORS,
    TIMELINE_PAGE,
    full_created_at,
    mblog_body,
    reader_created_at,
    weibo_html,
    with_created_at,
)

PUBLIC_FEED = "memoryhole_sim_all"
HOT_FEED = "102803"
USER_TIMELINE_PREFIX = "107603"
SEARCH_PREFIX = "100103"
MAX_PAGE = 100
DAY = 86400.0

JSON_HEADERS: tuple[tuple[str, str], ...] = (("content-type", "application/json; charset=utf-8"),)

Answer = tuple[int, tuple[tuple[str, str], ...], bytes]


def created_at(epoch: float) -> str:
    """Weibo's full ``created_at``: ``Tue Nov 24 18:05:00 +0800 2026`` (Beijing time)."""
    return full_created_at(epoch)


def _json(payload: object, status: int = 200) -> Answer:
    return status, JSON_HEADERS, json.dumps(payload, ensure_ascii=False).encode()


#: The answer to a check of a post removed that way (``ERRORS``), the same bytes every time.
_REMOVED: dict[str, Answer] = {
    kind: _json({"ok": 0, "errno": code, "msg": message})
    for kind, (code, message) in ERRORS.items()
}
_EMPTY: Answer = _json({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})


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
        self._mblog_cache: dict[tuple[str, int, bool], bytes] = {}
        self._show_cache: dict[tuple[str, int], Answer] = {}  # (post id, edit version)
        #: A keyword filter on the search (``sim/search_filter.py``), if one is set.
        self.search_filter: SearchFilter | None = None
        #: ``sim serve --censor-region CN``: censored posts are withheld only from requests
        #: asked from that region (a vantage's ``X-Memoryhole-Vantage`` header; no header is
        #: the study's own connection, in that region), served everywhere else.
        self.censor_region: str | None = None
        self.vantage: str | None = None  # the region the current request comes from
        #: ``sim serve --region CN``: where requests naming no vantage come from (the study's
        #: own connection), for the scenario's ``withhold`` events.
        self.home_region: str | None = None
        self.withhold = {post.post_id: post.withhold for post in self.posts if post.withhold}

    # -- state at a time ---------------------------------------------------------------------

    def removal_at(self, post: ScenarioPost, now: float) -> str | None:
        """Why ``post`` is not served to the current request at ``now`` (a removal kind, or
        ``withheld`` where the shape has a country block's answer), or None."""
        gone = self.gone.get(post.post_id)
        if gone is not None and gone[0] <= now:
            regional = self.censor_region is not None and gone[1] == "censored"
            if not regional or self.vantage in (None, self.censor_region):
                return gone[1]
            # withheld in the censor's region only: served here
        blocks = self.withhold.get(post.post_id) if self.withhold else None
        if blocks:
            region = self.vantage or self.home_region
            if any(at <= now and where == region for at, where in blocks):
                # A shape without a country block's own answer shows it as a removal.
                return "withheld" if getattr(self.shape, "withholds", False) else "censored"
        return None

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

    def mblog(
        self, post: ScenarioPost, now: float, *, page: bool = False, exact: bool = False
    ) -> bytes:
        """The post's JSON object as the API embeds it: with the full ``created_at`` and the
        whole text on its own page (``page``), with the reader's ``created_at`` and a long text
        cut short in listings (the rest is cached per edit version). ``exact``: the full
        ``created_at`` in a listing (the simulator's own feed, which Weibo does not have)."""
        version, text = self._text_version(post, now)
        key = (post.post_id, version, page)
        rest = self._mblog_cache.get(key)
        if rest is None:
            rest = self._mblog_cache[key] = mblog_body(self, post, version, text, page)
        when = (
            full_created_at(post.published_at)
            if page or exact
            else reader_created_at(post.published_at, now)
        )
        return with_created_at(when, rest)

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
        if path == "/statuses/extend":
            return self.extend(query.get("id", ""), now)
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

    def _removed_answer(self, post_id: str, now: float) -> Answer | None:
        post = self.by_id.get(post_id)
        if post is None or post.published_at > now:
            return _REMOVED["author_deleted"]
        removal = self.removal_at(post, now)
        return _REMOVED[removal] if removal is not None else None

    def show(self, post_id: str, now: float) -> Answer:
        removed = self._removed_answer(post_id, now)
        if removed is not None:
            return removed
        post = self.by_id[post_id]
        key = (post_id, self._text_version(post, now)[0])
        answer = self._show_cache.get(key)
        if answer is None:
            body = b'{"ok":1,"data":' + self.mblog(post, now, page=True) + b"}"
            answer = self._show_cache[key] = (200, JSON_HEADERS, body)
        return answer

    def extend(self, post_id: str, now: float) -> Answer:
        """``statuses/extend``: a post's whole text (Weibo's shape: no id inside)."""
        removed = self._removed_answer(post_id, now)
        if removed is not None:
            return removed
        _, text = self._text_version(self.by_id[post_id], now)
        payload = {"ok": 1, "longTextContent": weibo_html(text)}
        return _json({"ok": 1, "data": payload})

    def listing(self, query: Mapping[str, str], now: float) -> Answer:
        container = query.get("containerid", "")
        if container == PUBLIC_FEED:
            return self.public_feed(query, now)
        if container.startswith(USER_TIMELINE_PREFIX):
            uid = container[len(USER_TIMELINE_PREFIX) :]
            if uid not in self.by_author:
                return _EMPTY
            if self.is_suspended(uid, now):
                return _REMOVED["account_suspended"]
            return self.newest_first(container, self.by_author[uid], query, now)
        if container.startswith(SEARCH_PREFIX):
            words = parse_qs(container[len(SEARCH_PREFIX) :]).get("q", [""])[0]
            if not words:
                return _EMPTY
            if self.search_filter is not None:
                filtered = self.search_filter.answer(container, words)
                if filtered is not None:
                    return filtered
            matching = [i for i, post in enumerate(self.posts) if words in post.text]
            return self.newest_first(container, matching, query, now)
        if container == HOT_FEED:
            return self.hot(now)
        return _EMPTY

    def public_feed(self, query: Mapping[str, str], now: float) -> Answer:
        """``weibo:all``: every post, oldest first after the ``since_id`` cursor, with exact
        times (a lab feed: benchmarks measure the schedule, not a listing's rounding)."""
        try:
            count = max(1, min(MAX_PAGE, int(query.get("count", "20"))))
        except ValueError:
            count = 20
        since = query.get("since_id") or None
        start = self.position[since] + 1 if since in self.position else 0
        cards: list[bytes] = []
        cursor = since
        for index in range(start, bisect.bisect_right(self.published, now)):
            post = self.posts[index]
            cursor = post.post_id
            if self.removal_at(post, now) is None:
                mblog = self.mblog(post, now, exact=True)
                cards.append(b'{"card_type":9,"mblog":' + mblog + b"}")
                if len(cards) >= count:
                    break
        info = json.dumps({"since_id": cursor or "", "total": len(cards)}).encode()
        return self._cards(info, cards)

    def newest_first(
        self, container: str, indices: Sequence[int], query: Mapping[str, str], now: float
    ) -> Answer:
        """A timeline or search, newest first, ``TIMELINE_PAGE`` posts a page, paged by
        ``page`` as Weibo's answers say (``cardlistInfo.page``: the next page's number)."""
        end = bisect.bisect_right(indices, bisect.bisect_right(self.published, now) - 1)
        posts = self.posts
        visible = [i for i in reversed(indices[:end]) if self.removal_at(posts[i], now) is None]
        try:
            number = max(1, int(query.get("page", "1")))
        except ValueError:
            number = 1
        start = (number - 1) * TIMELINE_PAGE
        shown = visible[start : start + TIMELINE_PAGE]
        cards = [
            b'{"card_type":9,"itemid":"'
            + f"{container}_-_{posts[i].post_id}".encode()
            + b'","mblog":'
            + self.mblog(posts[i], now)
            + b"}"
            for i in shown
        ]
        info: dict[str, object] = {
            "containerid": container,
            "v_p": 42,
            "show_style": 1,
            "total": len(visible),
        }
        if start + TIMELINE_PAGE < len(visible):
            info["page"] = number + 1
        return self._cards(json.dumps(info).encode(), cards)

    def hot(self, now: float) -> Answer:
        """The hot feed: up to ``TIMELINE_PAGE`` visible posts of the last day, ranked by a
        made-up popularity (not time): it finds posts, it cannot show which are missing."""
        start = bisect.bisect_left(self.published, now - DAY)
        end = bisect.bisect_right(self.published, now)
        ranked = sorted(
            (i for i in range(start, end) if self.removal_at(self.posts[i], now) is None),
            key=lambda i: zlib.crc32(self.posts[i].post_id.encode()),
        )[:TIMELINE_PAGE]
        cards = [b'{"card_type":9,"mblog":' + self.mblog(self.posts[i], now) + b"}" for i in ranked]
        info = json.dumps({"containerid": HOT_FEED, "since_id": ""}).encode()
        return self._cards(info, cards)

    @staticmethod
    def _cards(info: bytes, cards: list[bytes]) -> Answer:
        body = b'{"ok":1,"data":{"cardlistInfo":' + info + b',"cards":['
        return 200, JSON_HEADERS, body + b",".join(cards) + b"]}}"
