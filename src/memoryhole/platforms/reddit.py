"""Reddit, through its public JSON views (``www.reddit.com/….json``, or ``oauth.reddit.com``
with a token).

Modelled shapes (docs/adapters.md has the full table; each is held against a real captured
answer in tests/data/real, ``tests/platforms/test_real_reddit.py``):

- Listings, newest first, ``{"kind": "Listing", "data": {"children": [{"kind": "t3" | "t1",
  "data": {…}}], "before": …, "after": …}}``, paged forward with ``before=<fullname>``:
  ``GET /r/{sub}/new.json`` (``reddit:r/{sub}``; ``reddit:all`` is ``/r/all``),
  ``GET /user/{name}/submitted.json`` (``reddit:user/{name}``), a community's comments
  ``GET /r/{sub}/comments.json`` (``reddit:comments/{sub}``) and an account's comments
  ``GET /user/{name}/comments.json`` (``reddit:user-comments/{name}``), and both an account's
  posts and comments ``GET /user/{name}/overview.json`` (``reddit:user-all/{name}``).
- One post (``t3``): ``GET /by_id/t3_{id}.json``; one comment (``t1``):
  ``GET /api/info.json?id=t1_{id}``. Both answer a Listing holding the item (``/api/info``
  holds every fullname asked for, comments, posts and communities mixed).
- An account: ``GET /user/{name}/about.json``: ``{"kind": "t2", "data": {…}}``; a suspended
  account answers only ``{"name": …, "is_suspended": true}``; a shadowbanned or deleted one 404.
- A community Reddit banned answers ``404 {"reason": "banned", …}``; a private one
  ``403 {"reason": "private", …}``; a quarantined one 403 (with ``"reason": "quarantined"`` or
  none).

Ids: a post is known by its bare id (``1kh35wk``), a comment by its fullname (``t1_d7ltv31``):
Reddit numbers the two kinds separately, so the kind stays in the comment's id.

A removed post stays in ``by_id`` with ``removed_by_category`` set (null while it is up):
``moderator`` (the subreddit's moderators), ``automod_filtered`` (AutoModerator held it for the
moderators' review), ``reddit`` (Reddit's spam filters or admins), ``anti_evil_ops`` and
``community_ops`` (Reddit's admin teams), ``content_takedown`` and ``copyright_takedown`` (legal
takedowns), ``deleted`` and ``author`` (its author deleted it). A comment has no category: a
removed one reads ``[removed]`` and one its author deleted ``[deleted]``, both with the author
``[deleted]``.

Attribution (the category is always kept as the observation's ``code`` so analysis can split
moderators from the platform): moderator removals and legal takedowns are ``censored`` (a
moderator is the censor of a subreddit); author deletions are ``author_deleted``; a post held by
AutoModerator is ``unknown`` until the moderators decide (it then reads ``moderator`` or comes
back). A removal by Reddit itself (``reddit``, ``anti_evil_ops``, ``community_ops``) is what
both a platform removal and an account suspension look like, so the first such answer is
``unknown`` and the post's next check asks for its author's account: a suspended account makes
it ``account_suspended``, an account in good standing ``censored``, a profile that is not found
(shadowbanned or deleted) leaves it ``unknown``. A ``[removed]`` without a category (every
removed comment, older posts) names nobody: its account is asked for too, and only a
suspension changes its ``unknown``. A banned community is ``censored`` for each of its posts
(code ``community_banned``), and its listing asks for every known post of it to be checked.

A ``451 Unavailable For Legal Reasons`` is ``withheld`` (code ``451``): Reddit, or a network on a
state's order, does not serve the post where the request came from; it is not a removal (its
listing stays UNREACHABLE). Anything else (429, 5xx, 403 for private or quarantined communities,
a plain 404, an empty answer, HTML such as Reddit's "whoa there" block page, malformed JSON) is
UNREACHABLE: never a removal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

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
from memoryhole.platforms._shared import (
    AccountFollowUps,
    join_detail,
    legal_block,
    media_detail,
    note_of,
    url_path,
    with_note,
)
from memoryhole.platforms.base import json_body, listing, transient

PAGE_SIZE = 100
#: The cursor that means "no anchor: the newest page" (a cursor must be non-empty to be kept).
NEWEST = "newest"
USER_AGENT = "memoryhole/0.1 (censorship research; +https://github.com/memoryhole)"

LINK = "t3"
COMMENT = "t1"
COMMENT_PREFIX = f"{COMMENT}_"
#: What Reddit writes in place of a removed text, and the author of a removed comment.
REMOVED_TEXT = "[removed]"
DELETED = "[deleted]"
#: The code of a removal that names no category (every removed comment, older posts).
UNATTRIBUTED = REMOVED_TEXT
COMMUNITY_BANNED = "community_banned"

MODERATOR_CATEGORIES = {"moderator": "removed by the subreddit's moderators"}
HELD_CATEGORIES = {
    "automod_filtered": "held by AutoModerator for the moderators' review: not decided yet "
    "(it reads moderator once they remove it, or comes back once they approve it)",
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
#: Removals whose author's account is asked for next (a suspension looks the same).
FOLLOWED_UP = frozenset(PLATFORM_CATEGORIES) | {UNATTRIBUTED}
UNATTRIBUTED_DETAIL = (
    "removed by the subreddit's moderators, AutoModerator (perhaps only held for review) or "
    "Reddit: the answer does not say which"
)

#: Listing targets: kind → (path, extra parameters).
LISTINGS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "r": ("/r/{key}/new.json", ()),
    "user": ("/user/{key}/submitted.json", (("sort", "new"),)),
    "comments": ("/r/{key}/comments.json", ()),
    "user-comments": ("/user/{key}/comments.json", (("sort", "new"),)),
    "user-all": ("/user/{key}/overview.json", (("sort", "new"),)),
}

_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_USER = re.compile(r"^[A-Za-z0-9_-]{3,20}$")
#: ``/user/NAME/about.json`` (www) or ``/user/NAME/about`` (oauth, as praw asks).
_ACCOUNT_PATH = re.compile(r"/user/[^/]+/about(?:\.json|/)?$")


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


def fullname(post_id: str) -> str:
    """The Reddit fullname of a watched item: a comment's id is one; a post's is its bare id."""
    if post_id.startswith((COMMENT_PREFIX, f"{LINK}_")):
        return post_id
    return f"{LINK}_{post_id}"


def _kind_and_id(post_id: str) -> tuple[str, str]:
    kind, _, thing_id = fullname(post_id).partition("_")
    return kind, thing_id


def _children(body: Any) -> list[Any] | None:
    if not isinstance(body, dict) or body.get("kind") != "Listing":
        return None
    data = body.get("data")
    children = data.get("children") if isinstance(data, dict) else None
    return children if isinstance(children, list) else None


def _time(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Reddit refusing a community's content (``403``/``404`` with a JSON ``reason``)."""

    banned: bool
    detail: str


def community_refusal(capture: Capture) -> Refusal | None:
    """What a 403 or 404 says about the community asked for, or None for any other answer.

    Only Reddit's exact ``404 {"reason": "banned", "error": 404}`` is a ban; a 404 without it is
    an unknown name or path and a 403 is a community closed to this reader, neither a removal.
    """
    if capture.status not in (403, 404):
        return None
    try:
        body = json.loads(capture.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    reason = body.get("reason") if isinstance(body, dict) else None
    if capture.status == 404:
        if reason == "banned" and isinstance(body, dict) and body.get("error") == 404:
            return Refusal(True, "the community is banned by Reddit (404 banned)")
        return Refusal(
            False,
            "not found (404"
            + (f" {reason}" if isinstance(reason, str) and reason else "")
            + "): an unknown name or path, never a removal by itself",
        )
    if reason == "private":
        return Refusal(
            False,
            "the community is private (403 private): its posts cannot be read from outside it, "
            "which says nothing about them (not a removal)",
        )
    if reason == "quarantined":
        return Refusal(
            False,
            "the community is quarantined (403 quarantined): readable only by an account that "
            "opted in; not a removal",
        )
    if isinstance(reason, str) and reason:
        return Refusal(False, f"the community refuses this reader (403 {reason}); not a removal")
    return Refusal(
        False,
        "forbidden (403): a private or quarantined community, a blocked client or a bad token; "
        "not a removal",
    )


def _status_problem(capture: Capture, problem: str) -> str:
    if capture.status == 451:
        return (
            "unavailable for legal reasons (451) where this request came from: a legal block of "
            "the requester's location, not a removal of the post"
        )
    return problem


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
        parts = text.split("/")
        if len(parts) == 3 and parts[2] == "comments":  # r/<sub>/comments, user/<name>/comments
            kind = {"r": "comments", "user": "user-comments", "u": "user-comments"}.get(parts[0])
            parts = [kind or "", parts[1]]
        if len(parts) == 2:
            kind, key = parts
            if kind in ("r", "comments") and _SUBREDDIT.match(key):
                return Target(self.name, kind, key)
            if kind in ("user", "u") and _USER.match(key):
                return Target(self.name, "user", key)
            if kind in ("user-comments", "user-all") and _USER.match(key):
                return Target(self.name, kind, key)
        raise TargetError(
            f"reddit target {text!r} not understood; use reddit:r/<subreddit>, reddit:all, "
            "reddit:user/<name> (posts), reddit:comments/<subreddit> and "
            "reddit:user-comments/<name> (comments), reddit:user-all/<name> (both)"
        )

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        path, extra = LISTINGS.get(target.kind, LISTINGS["r"])
        params: list[tuple[str, str]] = [*extra, ("limit", str(PAGE_SIZE)), ("raw_json", "1")]
        if cursor and cursor != NEWEST:
            # A cursor is the fullname of the newest item seen (or, from a timeline view, its id).
            params.append(("before", fullname(cursor)))
        url = self.base_url + path.format(key=quote(target.key))
        return Request("GET", url, tuple(params), self._headers)

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        refusal = community_refusal(capture)
        if refusal is not None and refusal.banned:
            return Discovery(
                (),
                None,
                Status.UNREACHABLE,
                f"{refusal.detail}: nothing is listed; every known post of it is checked now",
                confirm_all=True,
            )
        if refusal is not None:
            return Discovery((), None, Status.UNREACHABLE, refusal.detail)
        body, problem = json_body(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, _status_problem(capture, problem))
        children = _children(body)
        if children is None:
            return Discovery((), None, Status.UNREACHABLE, "answer is not a Reddit Listing")
        anchored = any(key == "before" for key, _ in capture.request.params)
        if not children:
            # An empty page after an anchor: nothing new, or the anchor post was removed (Reddit
            # then answers empty forever). Either way the next poll starts from the newest page.
            return Discovery((), NEWEST if anchored else None, detail="no new posts listed")
        posts: list[SeenPost] = []
        notices: list[Notice] = []
        unreadable: list[str] = []
        cursor: str | None = None
        for index, child in enumerate(children):
            item = listed_item(index, child)
            if isinstance(item, SeenPost):
                posts.append(item)
            elif isinstance(item, Notice):
                notices.append(item)
            elif isinstance(item, str):
                unreadable.append(item)
            listed = isinstance(child, dict) and child.get("kind") in (LINK, COMMENT)
            data = child.get("data") if listed else None
            name = data.get("name") if isinstance(data, dict) else None
            if cursor is None and isinstance(name, str) and name:
                cursor = name
        more = anchored and len(children) >= PAGE_SIZE
        return listing(posts, cursor, unreadable=unreadable, notices=notices, more=more)

    # -- checks ---------------------------------------------------------------------------

    def check_request(self, post: PostRef) -> Request:
        category = self._follow_ups.take(post.post_id)
        if category is not None and _has_account(post.author_id):
            url = f"{self.base_url}/user/{quote(post.author_id)}/about.json"
            return Request("GET", with_note(url, quote(category, safe="")), (), self._headers)
        kind, _ = _kind_and_id(post.post_id)
        if kind == COMMENT:
            params = (("id", fullname(post.post_id)), ("raw_json", "1"))
            return Request("GET", f"{self.base_url}/api/info.json", params, self._headers)
        url = f"{self.base_url}/by_id/{quote(fullname(post.post_id))}.json"
        return Request("GET", url, (("raw_json", "1"),), self._headers)

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        if _ACCOUNT_PATH.search(url_path(capture.request.url)):
            return self._parse_account(post, capture)
        refusal = community_refusal(capture)
        if refusal is not None and refusal.banned:
            return Observation(
                Status.CENSORED,
                code=COMMUNITY_BANNED,
                detail=f"{refusal.detail}: Reddit removed the community and every post in it",
            )
        if refusal is not None:
            return transient(refusal.detail)
        withheld = legal_block(capture)
        if withheld is not None:
            return withheld
        body, problem = json_body(capture)
        if problem is not None:
            return transient(_status_problem(capture, problem))
        children = _children(body)
        if children is None:
            return transient("answer is not a Reddit Listing")
        kind, thing_id = _kind_and_id(post.post_id)
        wanted = [
            (child["kind"], child["data"])
            for child in children
            if isinstance(child, dict)
            and child.get("kind") in (LINK, COMMENT)
            and isinstance(child.get("data"), dict)
            and (not post.post_id or (child["kind"], child["data"].get("id")) == (kind, thing_id))
        ]
        if len(wanted) != 1:
            return transient(
                "the item is not in the answer (an unknown id, or one Reddit does not show this "
                "reader: neither says it was removed)"
            )
        found_kind, data = wanted[0]
        problem = _text_missing(found_kind, data)
        if problem is not None:
            return transient(problem)
        observation = classify_comment(data) if found_kind == COMMENT else classify_post(data)
        code = observation.code
        if code in FOLLOWED_UP and post.post_id and _has_account(post.author_id):
            known = self._follow_ups.answer(post.post_id, code)
            if known is not None:
                return replace(known, detail=f"{known.detail} (account checked earlier)")
            self._follow_ups.want(post.post_id, code)
            why = (
                "a suspension would explain it"
                if code == UNATTRIBUTED
                else "platform removal or account suspension"
            )
            return replace(
                observation,
                detail=f"{observation.detail}; {why}: the author's account is checked next",
            )
        return observation

    def _parse_account(self, post: PostRef, capture: Capture) -> Observation:
        """The author's account, asked after the post was removed by Reddit or by somebody the
        answer did not name."""
        category = note_of(capture.request.url) or "reddit"
        removed = _removal_phrase(category)
        if capture.status == 404 and capture.body.lstrip().startswith(b"{"):
            return transient(
                f"{removed}; the author's profile is not found (shadowbanned or deleted "
                "account): the removal stays unattributed",
                code=category,
            )
        body, problem = json_body(capture)
        data = body.get("data") if isinstance(body, dict) and body.get("kind") == "t2" else None
        if not isinstance(data, dict):
            problem = problem or "answer is not a Reddit account (t2)"
        elif data.get("is_suspended") is not True and _time(data.get("created_utc")) is None:
            # Neither the suspended stub nor a whole account: good standing is not shown.
            problem = "the account answer is neither suspended nor a whole account"
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
        elif category == UNATTRIBUTED:
            observation = Observation(
                Status.REMOVED_UNKNOWN,
                code=category,
                detail=f"{removed}; the author's account is in good standing, so not a "
                "suspension, and who removed it is not said",
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


def _has_account(author_id: str) -> bool:
    return bool(author_id) and author_id != DELETED


def _removal_phrase(category: str) -> str:
    if category == UNATTRIBUTED:
        return UNATTRIBUTED_DETAIL
    return PLATFORM_CATEGORIES.get(category, f"removed by Reddit ({category})")


def listed_item(index: int, child: Any) -> SeenPost | Notice | str | None:
    """One child of a listing: a post or comment seen, a notice of one shown removed, the
    reason it could not be read, or None for a ``more`` stub (it names further comments, it is
    not one)."""
    if not isinstance(child, dict):
        return f"child {index}: not an object"
    kind = child.get("kind")
    if kind == "more":
        return None
    data = child.get("data")
    if kind not in (LINK, COMMENT):
        return f"child {index}: kind {kind!r} is neither a post (t3) nor a comment (t1)"
    if not isinstance(data, dict):
        return f"child {index} ({kind}): no data object"
    thing_id, author = data.get("id"), data.get("author")
    created = _time(data.get("created_utc"))
    if not isinstance(thing_id, str) or not thing_id:
        return f"child {index} ({kind}): no id"
    if not isinstance(author, str) or not author:
        return f"child {index} ({kind}_{thing_id}): no author"
    if created is None:
        when = data.get("created_utc")
        return f"child {index} ({kind}_{thing_id}): created_utc {when!r} is not a time"
    problem = _text_missing(kind, data)
    if problem is not None:
        return f"child {index} ({kind}_{thing_id}): {problem}"
    post_id = f"{COMMENT_PREFIX}{thing_id}" if kind == COMMENT else thing_id
    observation = classify_comment(data) if kind == COMMENT else classify_post(data)
    if observation.status.is_removal:
        return Notice(
            post_id,
            observation.status,
            code=observation.code,
            detail=f"listed as removed: {observation.detail}",
            author_id=author if _has_account(author) else None,
            published_at=created,
        )
    return SeenPost(post_id, author, created, observation.text or "")


def _text_missing(kind: str, data: dict[str, Any]) -> str | None:
    """Why an item's text cannot be read (a comment's ``body``, a post's ``title``), or None:
    an item read without its text would look edited to nothing."""
    field = "body" if kind == COMMENT else "title"
    if isinstance(data.get(field), str):
        return None
    return f"the {'comment' if kind == COMMENT else 'post'} has no {field} text"


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
        if category in HELD_CATEGORIES:
            return Observation(
                Status.REMOVED_UNKNOWN, code=category, detail=HELD_CATEGORIES[category]
            )
        if category in PLATFORM_CATEGORIES:
            return Observation(
                Status.REMOVED_UNKNOWN, code=category, detail=PLATFORM_CATEGORIES[category]
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
    if author == DELETED and selftext == DELETED:
        return Observation(Status.AUTHOR_DELETED, code=DELETED, detail="deleted by its author")
    if "removed_by_category" not in data and selftext == REMOVED_TEXT:
        # Older shapes have no category: "[removed]" means a moderator or Reddit, not by whom.
        return Observation(
            Status.REMOVED_UNKNOWN,
            code=UNATTRIBUTED,
            detail=f"{UNATTRIBUTED_DETAIL} (no removed_by_category)",
        )
    text = post_text(data)
    flags = {"locked": "thread locked", "archived": "archived", "quarantine": "quarantined"}
    return _visible(text, data, flags, media_detail(post_media(data)))


def classify_comment(data: dict[str, Any]) -> Observation:
    """One comment object (``t1`` data) → what it says about the comment.

    Reddit shows a removed comment to everyone but its community's moderators as the text
    ``[removed]`` by ``[deleted]``, and one its author deleted as ``[deleted]`` by
    ``[deleted]``: a comment has no ``removed_by_category``. The same text under a named author
    is what that author wrote. A moderator's token sees the text with ``removed: true``.
    """
    author, body = data.get("author"), data.get("body")
    if data.get("removal_reason") == "legal":
        return Observation(
            Status.CENSORED, code="legal", detail="removed by Reddit for legal reasons"
        )
    if author == DELETED and body == DELETED:
        return Observation(Status.AUTHOR_DELETED, code=DELETED, detail="deleted by its author")
    if author == DELETED and body == REMOVED_TEXT:
        return Observation(Status.REMOVED_UNKNOWN, code=UNATTRIBUTED, detail=UNATTRIBUTED_DETAIL)
    if data.get("removed") is True:
        remover = data.get("banned_by")
        by = f" (by {remover})" if isinstance(remover, str) and remover else ""
        return Observation(
            Status.REMOVED_UNKNOWN,
            code=UNATTRIBUTED,
            detail=f"removed{by}, as a moderator's token sees it: {UNATTRIBUTED_DETAIL}",
        )
    text = body if isinstance(body, str) else ""
    return _visible(text, data, {"locked": "thread locked", "archived": "archived"})


def _visible(
    text: str, data: dict[str, Any], flags: dict[str, str], media: str = ""
) -> Observation:
    edited = _time(data.get("edited"))
    return Observation(
        Status.LIVE,
        content_hash=content_hash(text),
        text=text,
        detail=join_detail(
            "visible",
            *(label for key, label in flags.items() if data.get(key) is True),
            f"edited at {edited:.0f}" if edited else "",
            media,
        ),
    )
