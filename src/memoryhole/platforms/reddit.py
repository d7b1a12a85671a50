"""Reddit, through its public JSON views (``www.reddit.com/….json``, or ``oauth.reddit.com``
with a token).

Modelled shapes (docs/adapters.md has the full table and the sources):

- Listing: ``GET /r/{sub}/new.json?limit=100&raw_json=1[&before=t3_X]`` (``reddit:r/{sub}``,
  ``reddit:all`` is ``/r/all``) or ``GET /user/{name}/submitted.json?sort=new&…``
  (``reddit:user/{name}``): ``{"kind": "Listing", "data": {"children": [{"kind": "t3",
  "data": {post}}], "before": …, "after": …}}``, newest first.
- One post: ``GET /by_id/t3_{id}.json?raw_json=1``: the same Listing with that one post.
- An account: ``GET /user/{name}/about.json``: ``{"kind": "t2", "data": {…}}``; a suspended
  account answers only ``{"name": …, "is_suspended": true}``; a shadowbanned or deleted one 404.

A removed post stays in ``by_id`` with ``removed_by_category`` set (null while it is up):
``moderator`` (the subreddit's moderators), ``automod_filtered`` (AutoModerator held it),
``reddit`` (Reddit's spam filters or admins), ``anti_evil_ops`` and ``community_ops`` (Reddit's
admin teams), ``content_takedown`` and ``copyright_takedown`` (legal takedowns), ``deleted`` and
``author`` (its author deleted it). Its text then reads ``[removed]``, or ``[deleted]`` with the
author ``[deleted]`` when the author deleted it.

Attribution (the category is always kept as the observation's ``code`` so analysis can split
moderators from the platform): moderator and AutoModerator removals and legal takedowns are
``censored`` (a moderator is the censor of a subreddit); author deletions are
``author_deleted``. A removal by Reddit itself (``reddit``, ``anti_evil_ops``,
``community_ops``) is what both a platform removal and an account suspension look like, so the
first such answer is ``unknown`` and the post's next check asks for its author's account: a
suspended account makes it ``account_suspended``, an account in good standing ``censored``, a
profile that is not found (shadowbanned or deleted) leaves it ``unknown``.

Anything else (429, 5xx, 403 for private or quarantined communities, 404, an empty answer, HTML
such as Reddit's "whoa there" block page, malformed JSON) is UNREACHABLE: never a removal.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

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
from memoryhole.platforms._shared import (
    AccountFollowUps,
    join_detail,
    media_detail,
    note_of,
    url_path,
    with_note,
)
from memoryhole.platforms.base import json_body, transient

PAGE_SIZE = 100
#: The cursor that means "no anchor: the newest page" (a cursor must be non-empty to be kept).
NEWEST = "newest"
USER_AGENT = "memoryhole/0.1 (censorship research; +https://github.com/memoryhole)"

MODERATOR_CATEGORIES = {
    "moderator": "removed by the subreddit's moderators",
    "automod_filtered": "filtered by AutoModerator (held for the moderators' review)",
}
LEGAL_CATEGORIES = {
    "content_takedown": "removed by Reddit: content takedown (legal)",
    "copyright_takedown": "removed by Reddit: copyright takedown",
}
PLATFORM_CATEGORIES = {
    "reddit": "removed by Reddit (spam filters or admins)",
    "anti_evil_ops": "removed by Reddit's Anti-Evil Operations (admins)",
    "community_ops": "removed by Reddit's Community team (admins)",
}
AUTHOR_CATEGORIES = {"deleted": "deleted by its author", "author": "deleted by its author"}

_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_USER = re.compile(r"^[A-Za-z0-9_-]{3,20}$")
_ACCOUNT_PATH = re.compile(r"/user/[^/]+/about\.json$")


def post_text(data: dict[str, Any]) -> str:
    """What a reader sees of a post: its title, then its body (or the link it points to)."""
    title = str(data.get("title") or "")
    body = str(data.get("selftext") or "")
    if not body and not data.get("is_self", True):
        body = str(data.get("url") or "")
    return f"{title}\n{body}" if body else title


def post_media(data: dict[str, Any]) -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    hint = str(data.get("post_hint") or "")
    url = str(data.get("url_overridden_by_dest") or data.get("url") or "")
    if hint == "image" and url:
        refs.append(("image", url))
    media = data.get("secure_media") or data.get("media")
    video = media.get("reddit_video") if isinstance(media, dict) else None
    if isinstance(video, dict) and video.get("fallback_url"):
        refs.append(("video", str(video["fallback_url"])))
    metadata = data.get("media_metadata")
    if isinstance(metadata, dict):
        for item in metadata.values():
            source = item.get("s") if isinstance(item, dict) else None
            if isinstance(source, dict) and (source.get("u") or source.get("gif")):
                kind = "video" if item.get("e") == "AnimatedImage" else "image"
                refs.append((kind, str(source.get("u") or source.get("gif"))))
    return refs


def _seen_post(child: Any) -> SeenPost | None:
    if not isinstance(child, dict) or child.get("kind") != "t3":
        return None
    data = child.get("data")
    if not isinstance(data, dict):
        return None
    post_id, author, created = data.get("id"), data.get("author"), data.get("created_utc")
    if not isinstance(post_id, str) or not post_id or not isinstance(author, str):
        return None
    if isinstance(created, bool) or not isinstance(created, int | float):
        return None
    return SeenPost(post_id, author, float(created), post_text(data))


def _children(body: Any) -> list[Any] | None:
    if not isinstance(body, dict) or body.get("kind") != "Listing":
        return None
    data = body.get("data")
    children = data.get("children") if isinstance(data, dict) else None
    return children if isinstance(children, list) else None


class RedditPlatform:
    name = "reddit"

    def __init__(
        self, base_url: str = "https://www.reddit.com", *, token: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = [("User-Agent", USER_AGENT)]
        if token:
            headers.append(("Authorization", f"bearer {token}"))
        self._headers = tuple(headers)
        self._follow_ups = AccountFollowUps()

    # -- targets and listings -------------------------------------------------------------

    def parse_target(self, text: str) -> Target:
        if text == "all":
            return Target(self.name, "r", "all")
        kind, _, key = text.partition("/")
        if kind == "r" and _SUBREDDIT.match(key):
            return Target(self.name, "r", key)
        if kind in ("user", "u") and _USER.match(key):
            return Target(self.name, "user", key)
        raise TargetError(
            f"reddit target {text!r} not understood; use reddit:r/<subreddit>, "
            "reddit:user/<name> or reddit:all"
        )

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        params: list[tuple[str, str]] = [("limit", str(PAGE_SIZE)), ("raw_json", "1")]
        if target.kind == "user":
            url = f"{self.base_url}/user/{quote(target.key)}/submitted.json"
            params.insert(0, ("sort", "new"))
        else:
            url = f"{self.base_url}/r/{quote(target.key)}/new.json"
        if cursor and cursor != NEWEST:
            params.append(("before", cursor))
        return Request("GET", url, tuple(params), self._headers)

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        body, problem = json_body(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        children = _children(body)
        if children is None:
            return Discovery((), None, Status.UNREACHABLE, "answer is not a Reddit Listing")
        posts = [seen for child in children if (seen := _seen_post(child)) is not None]
        anchored = any(key == "before" for key, _ in capture.request.params)
        if not children:
            # An empty page after an anchor: nothing new, or the anchor post was removed (Reddit
            # then answers empty forever). Either way the next poll starts from the newest page.
            return Discovery((), NEWEST if anchored else None, detail="no new posts listed")
        first = children[0].get("data") if isinstance(children[0], dict) else None
        newest = first.get("name") if isinstance(first, dict) else None
        cursor = str(newest) if isinstance(newest, str) and newest else None
        more = anchored and len(children) >= PAGE_SIZE
        return Discovery(tuple(posts), cursor, more=more)

    # -- checks ---------------------------------------------------------------------------

    def check_request(self, post: PostRef) -> Request:
        category = self._follow_ups.take(post.post_id)
        if category is not None and post.author_id and post.author_id != "[deleted]":
            url = f"{self.base_url}/user/{quote(post.author_id)}/about.json"
            return Request("GET", with_note(url, category), (), self._headers)
        url = f"{self.base_url}/by_id/t3_{quote(post.post_id)}.json"
        return Request("GET", url, (("raw_json", "1"),), self._headers)

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        if _ACCOUNT_PATH.search(url_path(capture.request.url)):
            return self._parse_account(post, capture)
        body, problem = json_body(capture)
        if problem is not None:
            return transient(problem)
        children = _children(body)
        if children is None:
            return transient("answer is not a Reddit Listing")
        wanted = [
            child["data"]
            for child in children
            if isinstance(child, dict)
            and child.get("kind") == "t3"
            and isinstance(child.get("data"), dict)
            and (not post.post_id or child["data"].get("id") == post.post_id)
        ]
        if len(wanted) != 1:
            return transient(
                "the post is not in the answer (unknown id, or a private, quarantined or "
                "banned community: none of these says the post was removed)"
            )
        observation = classify_post(wanted[0])
        category = observation.code
        if category in PLATFORM_CATEGORIES and post.post_id:
            known = self._follow_ups.answer(post.post_id, category)
            if known is not None:
                return replace(known, detail=f"{known.detail} (account checked earlier)")
            self._follow_ups.want(post.post_id, category)
        return observation

    def _parse_account(self, post: PostRef, capture: Capture) -> Observation:
        """The author's account, asked after the post was removed by Reddit itself."""
        category = note_of(capture.request.url) or "reddit"
        removed = PLATFORM_CATEGORIES.get(category, f"removed by Reddit ({category})")
        if capture.status == 404 and capture.body.lstrip().startswith(b"{"):
            return transient(
                f"{removed}; the author's profile is not found (shadowbanned or deleted "
                "account): the removal stays unattributed",
                code=category,
            )
        body, problem = json_body(capture)
        data = body.get("data") if isinstance(body, dict) and body.get("kind") == "t2" else None
        if problem is not None or not isinstance(data, dict):
            if post.post_id:
                self._follow_ups.retry(post.post_id, category)  # ask again next time
            return transient(problem or "answer is not a Reddit account (t2)")
        if data.get("is_suspended") is True:
            observation = Observation(
                Status.ACCOUNT_SUSPENDED,
                code=category,
                detail=f"{removed}; the author's account is suspended",
            )
        else:
            observation = Observation(
                Status.CENSORED,
                code=category,
                detail=f"{removed}; the author's account is in good standing",
            )
        if post.post_id:
            self._follow_ups.remember(post.post_id, category, observation)
        return observation


def classify_post(data: dict[str, Any]) -> Observation:
    """One post object (``t3`` data) → what it says about the post."""
    category = data.get("removed_by_category")
    if isinstance(category, str) and category:
        if category in AUTHOR_CATEGORIES:
            return Observation(
                Status.AUTHOR_DELETED, code=category, detail=AUTHOR_CATEGORIES[category]
            )
        for table in (MODERATOR_CATEGORIES, LEGAL_CATEGORIES):
            if category in table:
                return Observation(Status.CENSORED, code=category, detail=table[category])
        if category in PLATFORM_CATEGORIES:
            return Observation(
                Status.REMOVED_UNKNOWN,
                code=category,
                detail=f"{PLATFORM_CATEGORIES[category]}: platform removal or account "
                "suspension; the author's account is checked next",
            )
        return Observation(
            Status.REMOVED_UNKNOWN,
            code=category,
            detail=f"removed ({category}: not a known category)",
        )
    if data.get("removal_reason") == "legal":
        return Observation(
            Status.CENSORED, code="legal", detail="removed by Reddit for legal reasons"
        )
    author, selftext = data.get("author"), data.get("selftext")
    if author == "[deleted]" and selftext == "[deleted]":
        return Observation(Status.AUTHOR_DELETED, code="[deleted]", detail="deleted by its author")
    if "removed_by_category" not in data and selftext == "[removed]":
        # Older shapes have no category: "[removed]" means a moderator or Reddit, not by whom.
        return Observation(
            Status.REMOVED_UNKNOWN, code="[removed]", detail="removed (no removed_by_category)"
        )
    text = post_text(data)
    flags = {"locked": "thread locked", "archived": "archived", "quarantine": "quarantined"}
    edited = data.get("edited")
    when = edited if isinstance(edited, int | float) and not isinstance(edited, bool) else None
    return Observation(
        Status.LIVE,
        content_hash=content_hash(text),
        text=text,
        detail=join_detail(
            "visible",
            *(label for key, label in flags.items() if data.get(key) is True),
            f"edited at {when:.0f}" if when else "",
            media_detail(post_media(data)),
        ),
    )
