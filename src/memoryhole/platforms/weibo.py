"""Weibo, through the mobile web JSON API that ``m.weibo.cn`` serves (held against real
captured answers: tests/data/real, docs/adapters.md).

Listings (``GET /api/container/getIndex?containerid=…``), newest first, a page at a time:

- ``weibo:user/<uid>``: the account's timeline, ``containerid=107603<uid>``;
- ``weibo:search/<query>``: keyword or topic search (``#话题#``), ``containerid=100103type=1&q=…``
  (ranked, not chronological: each poll reads its first page);
- ``weibo:hot``: the hot-posts feed, ``containerid=102803`` (a selection, neither
  chronological nor complete: it finds posts, it says nothing about missing ones);
- ``weibo:all``: the simulator's complete public feed (no such feed exists on Weibo; refused
  against any base URL that is not a local simulator).

Answer: ``{"ok": 1, "data": {"cardlistInfo": {"since_id" | "page": …}, "cards": [...]}}``. A
card of ``card_type`` 9 holds one post (``mblog``); ``card_type`` 11 groups cards in
``card_group``; other cards (search bars, banners, "hot" headers) hold no post. A post's
``created_at`` is relative in listings (``刚刚``, ``15小时前``, ``06-14``: weibo_time.py reads
each as an interval) and full in ``statuses/show``. A repost (``retweeted_status``) lists its
original too; an original shown as removed (``抱歉，此微博已被作者删除`` and the other notices in
``NOTICES``) is a dated observation of that post (``Notice``). A long post (``isLongText``) is
truncated in listings; its full text comes from ``longText`` or ``/statuses/extend``.

One post: ``GET /statuses/show?id=<mid>``: ``{"ok": 1, "data": {mblog}}`` while visible, else
``{"ok": 0, "errno": …, "msg": …}``. Attribution (one rule for live checks and imports,
docs/adapters.md gives the sources): ``20112`` permission denied → ``censored``; ``20101``
("微博不存在或暂无查看权限": does not exist *or* no permission) → ``unknown``; ``20003`` → the
account: ``account_suspended`` where the message says it was blocked, else ``unknown``.
Anything else (429, 418, 403 ``100005`` 请求过于频繁, ``ok: -100`` login wall, 5xx, HTML,
malformed JSON, an unknown ``errno``, an answer about another post) is UNREACHABLE.
"""

from __future__ import annotations

import functools
import html
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from memoryhole.errors import TargetError
from memoryhole.model import (
    Capture,
    Discovery,
    Notice,
    Observation,
    PostRef,
    Request,
    SeenPost,
    Status,
    Target,
    content_hash,
)
from memoryhole.platforms._shared import join_detail, media_detail, url_path
from memoryhole.platforms.base import json_body, listing, transient
from memoryhole.platforms.weibo_time import parse_full, read_created_at

USER_TIMELINE_PREFIX = "107603"
HOT_FEED = "102803"
SEARCH_PREFIX = "100103"
#: The simulator's complete public feed (``weibo:all``): not a Weibo container.
SIM_PUBLIC_FEED = "memoryhole_sim_all"
PAGE_SIZE = 50  # the simulator's public feed honours ``count``; Weibo's own pages are ~10
#: Older pages read in one catch-up of a timeline before giving up (said in the detail).
MAX_CATCH_UP_PAGES = 20

ERRNO_PERMISSION_DENIED = "20112"
ERRNO_DOES_NOT_EXIST = "20101"
ERRNO_USER_DOES_NOT_EXIST = "20003"
ERRNO_TOO_FREQUENT = "100005"

REMOVAL_BY_ERRNO: dict[str, tuple[Status, str]] = {
    ERRNO_PERMISSION_DENIED: (
        Status.CENSORED,
        "permission denied (20112): removed by the platform",
    ),
    ERRNO_DOES_NOT_EXIST: (
        Status.REMOVED_UNKNOWN,
        "does not exist or no permission to view (20101): deleted by its author or removed",
    ),
}

#: Notices Weibo shows in place of a removed post (a repost's original, or a post's own page),
#: matched on their fixed words, with what each supports: (words, status, code).
NOTICES: tuple[tuple[str, Status, str], ...] = (
    ("此微博已被作者删除", Status.AUTHOR_DELETED, "notice_author_deleted"),
    ("因被多人举报", Status.CENSORED, "notice_reported_removed"),
    ("违反《微博社区公约》", Status.CENSORED, "notice_rules_removed"),
    ("违反法律法规", Status.CENSORED, "notice_law_removed"),
    ("该账号因被投诉", Status.ACCOUNT_SUSPENDED, "notice_account_blocked"),
    ("没有这条微博的查看权限", Status.REMOVED_UNKNOWN, "notice_author_restricted"),
    ("根据博主设置", Status.REMOVED_UNKNOWN, "notice_author_restricted"),
    ("仅展示半年内微博", Status.REMOVED_UNKNOWN, "notice_author_time_limited"),
    ("此微博已被删除", Status.REMOVED_UNKNOWN, "notice_removed"),
    ("此微博已不可见", Status.REMOVED_UNKNOWN, "notice_not_visible"),
)
#: Words of an account-level refusal that say the account was blocked (not just "not found").
_BLOCKED_ACCOUNT = ("违反", "封", "屏蔽", "无法查看", "冻结")

_IMG_ALT = re.compile(r"<img\b[^>]*?\balt=[\"']?([^\"'\s>]+)[^>]*>", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
#: Cards that hold no post, by ``card_type`` (search bars, banners, headers, user cards...).
#: A card of any other type without an ``mblog`` is skipped as well; one with an unreadable
#: ``mblog`` never is.
_NON_POST_CARDS = frozenset({"4", "6", "7", "8", "10", "17", "19", "22", "28", "31", "42", "58"})


def visible_text(raw: str) -> str:
    """Weibo's ``text`` is HTML (links, emoticons as ``<img alt=[笑]>``); what a reader sees."""
    text = _BREAK.sub("\n", _IMG_ALT.sub(lambda m: m.group(1), raw))
    return html.unescape(_TAG.sub("", text))


def parse_created_at(value: Any) -> float | None:
    """An exact ``created_at`` (the full form, or epoch seconds), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return parse_full(value) if isinstance(value, str) else None


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


def mblog_id(mblog: dict[str, Any]) -> str | None:
    for key in ("mid", "idstr", "id"):
        value = mblog.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@functools.lru_cache(maxsize=1 << 16)  # once per post, not once per check
def mid_to_bid(mid: str | None) -> str | None:
    """A post's numeric ``mid`` as the short id in its URL (``bid``, e.g. ``HyZVegYAP``): the
    mid's decimal digits in groups of seven from the right, each group in base 62 (four
    characters, zero-padded except the first group)."""
    if mid is None or not mid.isdigit():
        return None
    groups = []
    end = len(mid)
    while end > 0:
        start = max(0, end - 7)
        value, chars = int(mid[start:end]), ""
        while value:
            value, digit = divmod(value, 62)
            chars = _BASE62[digit] + chars
        groups.append(chars.rjust(4, "0") if start > 0 else chars or "0")
        end = start
    return "".join(reversed(groups))


def notice_of(text: str) -> tuple[Status, str] | None:
    """The status and code a removal notice's words support, or None if ``text`` is none."""
    for words, status, code in NOTICES:
        if words in text:
            return status, code
    return None


def full_text(mblog: dict[str, Any]) -> tuple[str, bool]:
    """(visible text, whether it is the whole text): a long post's ``text`` is cut short
    ("…全文") unless its ``longText`` came with it."""
    long_text = mblog.get("longText")
    if isinstance(long_text, dict) and isinstance(long_text.get("longTextContent"), str):
        return visible_text(long_text["longTextContent"]), True
    text = visible_text(str(mblog.get("text") or ""))
    return text, not _is_long(mblog)


def _is_long(mblog: dict[str, Any]) -> bool:
    return mblog.get("isLongText") in (True, 1, "1", "true")


def is_pinned(card: dict[str, Any], mblog: dict[str, Any]) -> bool:
    """A post the account pinned to the top of its timeline (older than the posts below it)."""
    if mblog.get("isTop") in (1, True, "1"):
        return True
    for holder in (mblog, card):
        title = holder.get("title")
        if isinstance(title, dict) and "置顶" in str(title.get("text", "")):
            return True
    return False


class _Page:
    """One listing answer being read: its posts, notices and unreadable items."""

    def __init__(self, sent_at: float, answered_at: float) -> None:
        self.sent_at, self.answered_at = sent_at, answered_at
        self.posts: list[SeenPost] = []
        self.notices: list[Notice] = []
        self.unreadable: list[str] = []
        self.ordered: list[int] = []  # numeric ids of the posts in page order (not pinned)
        self._seen: set[str] = set()

    def card(self, where: str, card: Any) -> None:
        if not isinstance(card, dict):
            self.unreadable.append(f"{where}: not a JSON object")
            return
        group = card.get("card_group")
        if isinstance(group, list):
            for index, member in enumerate(group):
                self.card(f"{where}.{index}", member)
            return
        mblog = card.get("mblog")
        if mblog is None:
            return  # a card that holds no post (_NON_POST_CARDS and the like)
        self.mblog(where, card, mblog)

    def mblog(self, where: str, card: dict[str, Any], mblog: Any) -> None:
        if not isinstance(mblog, dict):
            self.unreadable.append(f"{where}: mblog is not a JSON object")
            return
        seen, problem = self.seen_post(mblog)
        if seen is None:
            notice = self.notice(mblog)
            if notice is not None:
                self.notices.append(notice)
            else:
                self.unreadable.append(f"{where}: {problem}")
            return
        self.add(seen, pinned=is_pinned(card, mblog))
        original = mblog.get("retweeted_status")
        if isinstance(original, dict):  # shown inside the repost: not a post of this listing
            notice = self.notice(original)
            if notice is not None:
                self.notices.append(notice)
            elif mblog_id(original) is None:
                self.unreadable.append(f"{where}: the reposted original has no id")

    def add(self, seen: SeenPost, *, pinned: bool) -> None:
        if seen.post_id in self._seen:
            return
        self._seen.add(seen.post_id)
        self.posts.append(seen)
        if not pinned and seen.post_id.isdigit():
            self.ordered.append(int(seen.post_id))

    def seen_post(self, mblog: dict[str, Any]) -> tuple[SeenPost | None, str]:
        mid = mblog_id(mblog)
        if mid is None:
            return None, "no post id (mid/idstr/id)"
        user = mblog.get("user")
        if not isinstance(user, dict) or user.get("id") is None:
            return None, f"post {mid} has no author (user.id)"
        raw_time = mblog.get("created_at")
        interval = read_created_at(raw_time, self.sent_at, self.answered_at)
        if interval is None:
            return None, f"post {mid}: created_at {raw_time!r} not understood"
        text, whole = full_text(mblog)
        earliest, latest = interval
        return (
            SeenPost(
                post_id=mid,
                author_id=str(user["id"]),
                published_at=earliest,
                text=text,
                published_until=latest if latest > earliest else None,
                truncated=not whole,
            ),
            "",
        )

    def notice(self, mblog: dict[str, Any]) -> Notice | None:
        mid = mblog_id(mblog)
        text = visible_text(str(mblog.get("text") or ""))
        found = notice_of(text)
        if mid is None or found is None:
            return None
        status, code = found
        user = mblog.get("user")
        author = str(user["id"]) if isinstance(user, dict) and user.get("id") is not None else None
        interval = read_created_at(mblog.get("created_at"), self.sent_at, self.answered_at)
        return Notice(
            post_id=mid,
            status=status,
            code=code,
            detail=f"shown in a listing as: {text.strip()[:120]}",
            author_id=author,
            published_at=interval[0] if interval is not None else None,
        )


def _cards(data: dict[str, Any]) -> list[Any] | None:
    cards = data.get("cards")
    return cards if isinstance(cards, list) else None


def next_page_token(data: dict[str, Any]) -> str | None:
    """The token of the next (older) page: ``s<since_id>`` or ``p<page>``, else None."""
    info = data.get("cardlistInfo")
    if not isinstance(info, dict):
        return None
    since = info.get("since_id")
    if since not in (None, "", 0, "0"):
        return f"s{since}"
    page = info.get("page")
    if isinstance(page, int | str) and not isinstance(page, bool) and str(page).isdigit():
        return f"p{page}" if int(page) > 1 else None
    return None


def is_local(base_url: str) -> bool:
    """A loopback or private address, or a reserved ``.invalid`` name (an in-process replay):
    where a simulator runs, never Weibo itself."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost" or host.endswith(".invalid"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


class WeiboPlatform:
    name = "weibo"

    def __init__(self, base_url: str = "https://m.weibo.cn", *, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._check_requests: dict[tuple[str, str], Request] = {}
        # A logged-in visitor: m.weibo.cn knows its account by the ``SUB`` session cookie (the
        # token), and rations its requests per account.
        self._headers: tuple[tuple[str, str], ...] = (("Cookie", f"SUB={token}"),) if token else ()

    # -- targets --------------------------------------------------------------------------------

    def parse_target(self, text: str) -> Target:
        kind, _, key = text.partition("/")
        if kind == "all" and not key:
            if not is_local(self.base_url):
                raise TargetError(
                    "weibo:all is the simulator's complete public feed; Weibo has no such "
                    "listing. Watch weibo:user/<uid> (an account's timeline), "
                    "weibo:search/<keyword or #topic#> (search) or weibo:hot (the hot feed: "
                    "a selection, not every post)"
                )
            return Target(self.name, "all")
        if kind == "hot" and not key:
            return Target(self.name, "hot")
        if kind == "user" and key.isdigit():
            return Target(self.name, "user", key)
        if kind == "search" and unquote(key).strip():
            return Target(self.name, "search", unquote(key).strip())
        raise TargetError(
            f"weibo target {text!r} not understood; use weibo:user/<numeric uid>, "
            "weibo:search/<keyword or #topic#>, weibo:hot, or (on the simulator) weibo:all"
        )

    # -- listings -------------------------------------------------------------------------------

    def container(self, target: Target) -> str:
        if target.kind == "all":
            return SIM_PUBLIC_FEED
        if target.kind == "hot":
            return HOT_FEED
        if target.kind == "search":
            return f"{SEARCH_PREFIX}type=1&q={target.key}"
        return USER_TIMELINE_PREFIX + target.key

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        url = f"{self.base_url}/api/container/getIndex"
        params: list[tuple[str, str]] = [("containerid", self.container(target))]
        if target.kind == "all":  # the simulator's feed pages forward from a post
            params.append(("count", str(PAGE_SIZE)))
            if cursor:
                params.append(("since_id", cursor))
            return Request("GET", url, tuple(params), self._headers)
        if target.kind == "search":
            params.append(("page_type", "searchall"))
        token = _Cursor.parse(cursor).page
        if token is not None:
            params.append(("since_id", token[1:]) if token[0] == "s" else ("page", token[1:]))
        if cursor:  # kept in the recorded URL (a fragment is never sent): parse_discover reads it
            url += f"#{_CURSOR_NOTE}{cursor}"
        return Request("GET", url, tuple(params), self._headers)

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        body, problem = json_body(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        if not isinstance(body, dict):
            return Discovery((), None, Status.UNREACHABLE, "listing is not a JSON object")
        if body.get("ok") != 1:
            return self._refused(target, body)
        data = body.get("data")
        cards = _cards(data) if isinstance(data, dict) else None
        if not isinstance(data, dict) or cards is None:
            return Discovery((), None, Status.UNREACHABLE, "listing without cards")
        page = _Page(capture.alive_at, capture.fetched_at)
        for index, card in enumerate(cards):
            page.card(f"card {index}", card)
        if target.kind == "all":
            info = data.get("cardlistInfo")
            since = info.get("since_id") if isinstance(info, dict) else None
            return listing(
                page.posts,
                str(since) if since else None,
                unreadable=page.unreadable,
                notices=page.notices,
                more=len(page.posts) >= PAGE_SIZE,
            )
        token = next_page_token(data)
        cursor, more = self._next(target, capture, page, token)
        found = listing(
            page.posts, cursor, unreadable=page.unreadable, notices=page.notices, more=more
        )
        if found.status is not Status.LIVE:
            return found
        return replace(found, newest_first=True, last_page=token is None)

    def _next(
        self, target: Target, capture: Capture, page: _Page, token: str | None
    ) -> tuple[str | None, bool]:
        """The cursor after this page: a timeline is read newest first; when a poll finds only
        posts newer than the newest of the last poll, the older pages are read at once until
        it reaches that post (``more``), so no post is skipped between two polls."""
        asked = _Cursor.parse(_cursor_of(capture.request))
        newest = max(page.ordered, default=None)
        if target.kind != "user":  # ranked or selected listings: their first page, each poll
            return None, False
        if asked.page is None:  # a first page
            top = max(newest or 0, asked.top or 0) or None
            if asked.top is None or newest is None or min(page.ordered) <= asked.top:
                return _Cursor(top).text, False
            if token is None:
                return _Cursor(top).text, False
            return _Cursor(top, asked.top, token, 1).text, True
        reached = not page.ordered or min(page.ordered) <= (asked.stop or 0)
        if reached or token is None or asked.depth >= MAX_CATCH_UP_PAGES:
            return _Cursor(asked.top).text, False
        return _Cursor(asked.top, asked.stop, token, asked.depth + 1).text, True

    def _refused(self, target: Target, body: dict[str, Any]) -> Discovery:
        errno = str(body.get("errno", ""))
        message = str(body.get("msg", ""))
        if target.kind == "user" and errno == ERRNO_USER_DOES_NOT_EXIST:
            status = account_status(message)
            return Discovery(
                (), None, status, f"account refused (20003): {message}", confirm_all=True
            )
        if target.kind == "user" and notice_of(message) is not None:
            status, code = notice_of(message) or (Status.REMOVED_UNKNOWN, "")
            if status is Status.ACCOUNT_SUSPENDED:
                return Discovery((), None, status, f"{code}: {message}", confirm_all=True)
        return Discovery(
            (), None, Status.UNREACHABLE, refusal_detail(body.get("ok"), errno, message)
        )

    # -- checks ---------------------------------------------------------------------------------

    def check_request(self, post: PostRef) -> Request:
        # A Request is immutable: one per post id (and base URL) serves all of its checks.
        key = (self.base_url, post.post_id)
        request = self._check_requests.get(key)
        if request is None:
            if len(self._check_requests) > 1 << 17:
                self._check_requests.clear()
            request = Request(
                "GET", f"{self.base_url}/statuses/show", (("id", post.post_id),), self._headers
            )
            self._check_requests[key] = request
        return request

    def long_text_request(self, post: PostRef) -> Request:
        return Request(
            "GET", f"{self.base_url}/statuses/extend", (("id", post.post_id),), self._headers
        )

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        body, problem = json_body(capture)
        if problem is not None:
            return transient(problem)
        if not isinstance(body, dict) or "ok" not in body:
            return transient("answer is not a Weibo API envelope")
        if url_path(capture.request.url).endswith("/statuses/extend"):
            return transient("a statuses/extend answer names no post: it only completes a check")
        if body["ok"] == 1:
            return self._visible(post, capture, body.get("data"))
        errno = str(body.get("errno", ""))
        message = str(body.get("msg", ""))
        removal = REMOVAL_BY_ERRNO.get(errno)
        if removal is not None:
            status, detail = removal
            return Observation(status, code=errno, detail=join_detail(detail, message))
        if errno == ERRNO_USER_DOES_NOT_EXIST:
            return Observation(
                account_status(message), code=errno, detail=f"account refused (20003): {message}"
            )
        return transient(refusal_detail(body["ok"], errno, message), code=errno or None)

    def _visible(self, post: PostRef, capture: Capture, data: Any) -> Observation:
        if not isinstance(data, dict):
            return transient("ok answer without a post")
        mid = mblog_id(data)
        if post.post_id not in (mid, data.get("bid"), mid_to_bid(mid)):
            return transient(f"ok answer about another post ({mid!r})")
        user = data.get("user")
        if not isinstance(user, dict) or user.get("id") is None:
            found = notice_of(visible_text(str(data.get("text") or "")))
            if found is not None:
                status, code = found
                return Observation(status, code=code, detail="the post's page shows a notice")
            return transient("ok answer whose post has no author")
        published = parse_created_at(data.get("created_at"))
        text, whole = full_text(data)
        media = media_detail(mblog_media(data)) if "pics" in data or "page_info" in data else ""
        if not whole:  # the full text is one more request away: /statuses/extend
            return Observation(
                Status.LIVE,
                detail=join_detail("visible; long text cut short, its full text follows", media),
                published_at=published,
                follow_up=self.long_text_request(post),
            )
        return Observation(
            Status.LIVE,
            content_hash=content_hash(text),
            text=text,
            detail=join_detail("visible", media),
            published_at=published,
        )

    def complete_check(self, post: PostRef, first: Observation, capture: Capture) -> Observation:
        """A visible long post's check, completed by its ``/statuses/extend`` answer: the full
        text is what gets hashed. Without a readable answer, the check stays what it was (the
        post was visible; its text is not hashed this time)."""
        body, problem = json_body(capture)
        data = body.get("data") if isinstance(body, dict) and body.get("ok") == 1 else None
        text = data.get("longTextContent") if isinstance(data, dict) else None
        if problem is not None or not isinstance(text, str):
            why = problem or "no longTextContent"
            return _replace_detail(first, join_detail(first.detail, f"full text not read: {why}"))
        visible = visible_text(text)
        return Observation(
            first.status,
            content_hash=content_hash(visible),
            text=visible,
            code=first.code,
            detail=first.detail.replace("long text cut short, its full text follows", "long text"),
            published_at=first.published_at,
        )


def account_status(message: str) -> Status:
    """An account-level refusal: suspended where its words say the account was blocked, else
    ``unknown`` (``用户不存在``: closed by its owner or by the platform, it does not say)."""
    return (
        Status.ACCOUNT_SUSPENDED
        if any(words in message for words in _BLOCKED_ACCOUNT)
        else Status.REMOVED_UNKNOWN
    )


def refusal_detail(ok: object, errno: str, message: str) -> str:
    if errno == ERRNO_TOO_FREQUENT:
        return f"rate limited (errno 100005: {message})"
    if ok == -100:
        return f"login wall (ok -100: {message})"
    if message == "这里还没有内容":
        return "empty container (这里还没有内容: no content, or no such account)"
    return f"refused (ok {ok!r}, errno {errno!r}: {message})"


def _replace_detail(observation: Observation, detail: str) -> Observation:
    return Observation(
        observation.status,
        content_hash=observation.content_hash,
        text=observation.text,
        code=observation.code,
        detail=detail,
        published_at=observation.published_at,
    )


_CURSOR_NOTE = "cursor="


def _cursor_of(request: Request) -> str | None:
    """The cursor a listing request was built from (the fragment of its URL)."""
    fragment = urlsplit(request.url).fragment
    return fragment[len(_CURSOR_NOTE) :] if fragment.startswith(_CURSOR_NOTE) else None


class _Cursor:
    """A timeline's cursor: ``top`` is the newest post id seen at the top of the timeline; a
    catch-up in progress also has ``stop`` (the newest post of the poll before, where it ends),
    the next older page's token and how many pages it has read. Text form:
    ``top`` or ``top:stop:token:depth``."""

    def __init__(
        self, top: int | None, stop: int | None = None, page: str | None = None, depth: int = 0
    ) -> None:
        self.top, self.stop, self.page, self.depth = top, stop, page, depth

    @property
    def text(self) -> str | None:
        if self.page is None:
            return str(self.top) if self.top else None
        return f"{self.top or ''}:{self.stop or ''}:{self.page}:{self.depth}"

    @classmethod
    def parse(cls, text: str | None) -> _Cursor:
        if not text:
            return cls(None)
        parts = text.split(":")
        if len(parts) == 4 and parts[3].isdigit():
            return cls(_int(parts[0]), _int(parts[1]), parts[2] or None, int(parts[3]))
        return cls(_int(text))


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def iter_mblogs(body: Any) -> Iterator[dict[str, Any]]:
    """Every ``mblog`` of a listing answer (grouped cards included), for importers."""
    data = body.get("data") if isinstance(body, dict) else None
    stack = list(_cards(data) or []) if isinstance(data, dict) else []
    while stack:
        card = stack.pop(0)
        if not isinstance(card, dict):
            continue
        group = card.get("card_group")
        if isinstance(group, list):
            stack[:0] = group
        elif isinstance(card.get("mblog"), dict):
            yield card["mblog"]


def search_url_key(query: str) -> str:
    return quote(query, safe="")
