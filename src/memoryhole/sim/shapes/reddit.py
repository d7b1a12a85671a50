"""Reddit's public JSON shapes (``sim serve --platform reddit``), held against real captured
answers (``tests/platforms/test_real_reddit.py``).

- ``GET /r/{sub}/new.json?limit=N[&before=t3_X]`` (any subreddit name: the whole scenario is
  one community, ``r/memoryhole_sim``) and ``GET /user/{name}/submitted.json``: a ``Listing`` of
  ``t3`` children, newest first. ``before`` gives the page just newer than the anchor; an
  anchor that is no longer listed (removed) gives an empty page, as on Reddit.
- The same scenario as comments: ``GET /r/{sub}/comments.json[?before=t1_X]`` and
  ``GET /user/{name}/comments.json`` list each scenario post as a ``t1`` comment (id the post's,
  fullname ``t1_{id}``) in one thread of the community.
- ``GET /by_id/t3_{id}.json``: a ``Listing`` with that post, removed or not (an unknown id:
  an empty ``Listing``). ``GET /api/info.json?id=t1_A,t3_B,…``: a ``Listing`` of each known
  comment and post asked for, in the order asked.
- ``GET /user/{name}/about.json``: the account (``t2``); ``{"name", "is_suspended": true}``
  once suspended; 404 for an unknown name.

Removal kinds: ``censored`` → ``removed_by_category`` one of ``moderator``,
``copyright_takedown``, ``anti_evil_ops``, ``reddit``, ``content_takedown`` (a fixed choice per
post; never ``automod_filtered``, which is a hold for review, not a decision), text
``[removed]``; ``author_deleted`` → ``deleted``, author
and text ``[deleted]``; ``account_suspended`` → ``reddit`` with text ``[removed]`` and the
account suspended. A suspended account's ``submitted`` and ``comments`` listings answer 404 (a
simplification). As a comment, a removal is body ``[removed]`` (``[deleted]`` when its author
deleted it) by the author ``[deleted]``: comments carry no category.

Media as Reddit sends it: an image post is a link post (``post_hint: image``, ``url`` and
``url_overridden_by_dest`` the image), a video post ``is_video`` with ``secure_media`` and
``media`` holding ``reddit_video.fallback_url``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from memoryhole.sim.shapes import Answer, json_answer, limit_of, media_of, newer_than, newest, pick

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

SUBREDDIT = "memoryhole_sim"
SUBREDDIT_ID = "t5_3sim0"
#: The one thread every simulated comment is in.
THREAD = "t3_simthread"
CENSOR_CATEGORIES = (
    "moderator",
    "copyright_takedown",
    "anti_evil_ops",
    "reddit",
    "content_takedown",
)
NOT_FOUND: dict[str, object] = {"message": "Not Found", "error": 404}
DELETED = "[deleted]"

_LISTING = re.compile(r"^/r/[^/]+/new\.json$")
_COMMENTS = re.compile(r"^/r/[^/]+/comments\.json$")
_SUBMITTED = re.compile(r"^/user/([^/]+)/submitted\.json$")
_USER_COMMENTS = re.compile(r"^/user/([^/]+)/comments\.json$")
_ABOUT = re.compile(r"^/user/([^/]+)/about\.json$")
_BY_ID = re.compile(r"^/by_id/t3_([^/,]+)\.json$")
_INFO = "/api/info.json"


def title_of(post: ScenarioPost) -> str:
    """A title that edits do not change (Reddit lets authors edit the body only)."""
    first = post.text.strip().splitlines()[0] if post.text.strip() else ""
    return first[:60] or f"post {post.post_id}"


def _edited(sim: SimPlatform, post: ScenarioPost, now: float) -> tuple[str, float | bool]:
    version, text = sim.text_at(post, now)
    return text, post.edits[version - 1][0] if version else False


def link(sim: SimPlatform, post: ScenarioPost, now: float) -> dict[str, Any]:
    """The ``t3`` object of ``post`` as Reddit shows it at ``now``."""
    text, edited = _edited(sim, post, now)
    permalink = f"/r/{SUBREDDIT}/comments/{post.post_id}/"
    data: dict[str, Any] = {
        "id": post.post_id,
        "name": f"t3_{post.post_id}",
        "subreddit": SUBREDDIT,
        "subreddit_id": SUBREDDIT_ID,
        "subreddit_name_prefixed": f"r/{SUBREDDIT}",
        "title": title_of(post),
        "selftext": text,
        "is_self": True,
        "is_video": False,
        "domain": f"self.{SUBREDDIT}",
        "author": post.author_id,
        "author_fullname": f"t2_{post.author_id}",
        "created": post.published_at,
        "created_utc": post.published_at,
        "permalink": permalink,
        "url": f"https://www.reddit.com{permalink}",
        "removed_by_category": None,
        "removal_reason": None,
        "banned_by": None,
        "secure_media": None,
        "media": None,
        "locked": False,
        "archived": False,
        "quarantine": False,
        "edited": edited,
        "num_comments": 0,
        "score": 1,
        "over_18": False,
        "stickied": False,
    }
    media = media_of(post, sim.media_base)
    if media:
        kind, url = media[0]
        data.update(is_self=False, domain=url.split("/")[2], url=url)
        if kind == "video":
            video = {"reddit_video": {"fallback_url": url, "is_gif": False, "duration": 10}}
            data.update(is_video=True, secure_media=video, media=video)
        else:
            data.update(post_hint="image", url_overridden_by_dest=url)
    removal = sim.removal_at(post, now)
    if removal is not None:
        for key in ("post_hint", "url_overridden_by_dest"):
            data.pop(key, None)
        data.update(secure_media=None, media=None, url=f"https://www.reddit.com{permalink}")
    if removal == "author_deleted":
        data.update(removed_by_category="deleted", author=DELETED, selftext=DELETED)
        del data["author_fullname"]
    elif removal == "censored":
        category = pick(post.post_id, CENSOR_CATEGORIES)
        data.update(removed_by_category=category, selftext="[removed]")
    elif removal == "account_suspended":
        data.update(removed_by_category="reddit", selftext="[removed]")
    return data


def comment(sim: SimPlatform, post: ScenarioPost, now: float) -> dict[str, Any]:
    """``post`` as a ``t1`` comment in the community's thread, as Reddit shows it at ``now``."""
    text, edited = _edited(sim, post, now)
    data: dict[str, Any] = {
        "id": post.post_id,
        "name": f"t1_{post.post_id}",
        "link_id": THREAD,
        "parent_id": THREAD,
        "link_title": "memoryhole simulator thread",
        "link_permalink": f"https://www.reddit.com/r/{SUBREDDIT}/comments/simthread/",
        "permalink": f"/r/{SUBREDDIT}/comments/simthread/-/{post.post_id}/",
        "subreddit": SUBREDDIT,
        "subreddit_id": SUBREDDIT_ID,
        "subreddit_name_prefixed": f"r/{SUBREDDIT}",
        "author": post.author_id,
        "author_fullname": f"t2_{post.author_id}",
        "body": text,
        "created": post.published_at,
        "created_utc": post.published_at,
        "edited": edited,
        "removal_reason": None,
        "banned_by": None,
        "collapsed": False,
        "collapsed_reason_code": None,
        "locked": False,
        "archived": False,
        "stickied": False,
        "score": 1,
        "replies": "",
    }
    removal = sim.removal_at(post, now)
    if removal is not None:
        data.update(author=DELETED, body=DELETED if removal == "author_deleted" else "[removed]")
        del data["author_fullname"]
    return data


def listing(children: list[dict[str, Any]]) -> dict[str, Any]:
    names = [child["data"]["name"] for child in children]
    return {
        "kind": "Listing",
        "data": {
            "after": names[-1] if names else None,
            "before": None,
            "dist": len(children),
            "modhash": "",
            "geo_filter": "",
            "children": children,
        },
    }


class RedditShape:
    name = "reddit"

    def handle(
        self, sim: SimPlatform, method: str, path: str, query: Mapping[str, str], now: float
    ) -> Answer:
        if method != "GET":
            return json_answer({"message": "Method Not Allowed", "error": 405}, 405)
        if _LISTING.match(path):
            return self.listing(sim, range(len(sim.posts)), query, now, "t3")
        if _COMMENTS.match(path):
            return self.listing(sim, range(len(sim.posts)), query, now, "t1")
        if (match := _SUBMITTED.match(path)) or (match := _USER_COMMENTS.match(path)):
            name = match.group(1)
            if name not in sim.by_author or sim.is_suspended(name, now):
                return json_answer(NOT_FOUND, 404)
            kind = "t1" if path.endswith("/comments.json") else "t3"
            return self.listing(sim, sim.by_author[name], query, now, kind)
        if match := _BY_ID.match(path):
            post = sim.by_id.get(match.group(1))
            if post is None or post.published_at > now:
                return json_answer(listing([]))
            return json_answer(listing([{"kind": "t3", "data": link(sim, post, now)}]))
        if path == _INFO:
            return json_answer(listing(self.info(sim, query.get("id", ""), now)))
        if match := _ABOUT.match(path):
            return self.about(sim, match.group(1), now)
        return json_answer(NOT_FOUND, 404)

    def info(self, sim: SimPlatform, ids: str, now: float) -> list[dict[str, Any]]:
        children = []
        for name in ids.split(","):
            kind, _, thing_id = name.partition("_")
            post = sim.by_id.get(thing_id)
            if post is None or post.published_at > now or kind not in ("t1", "t3"):
                continue
            data = comment(sim, post, now) if kind == "t1" else link(sim, post, now)
            children.append({"kind": kind, "data": data})
        return children

    def listing(
        self,
        sim: SimPlatform,
        indices: range | list[int],
        query: Mapping[str, str],
        now: float,
        kind: str,
    ) -> Answer:
        limit = limit_of(query, 25, 100)
        before = query.get("before", "")
        if before:
            anchor_id = before.removeprefix(f"{kind}_")
            anchor = sim.by_id.get(anchor_id)
            if anchor is None or anchor.published_at > now or sim.removal_at(anchor, now):
                return json_answer(listing([]))  # Reddit's answer to a vanished anchor
            chosen = newer_than(sim, indices, sim.position[anchor_id], now, limit)[::-1]
        else:
            chosen = newest(sim, indices, now, limit)
        render = comment if kind == "t1" else link
        children = [{"kind": kind, "data": render(sim, sim.posts[i], now)} for i in chosen]
        return json_answer(listing(children))

    def about(self, sim: SimPlatform, name: str, now: float) -> Answer:
        if name not in sim.by_author:
            return json_answer(NOT_FOUND, 404)
        if sim.is_suspended(name, now):
            return json_answer({"kind": "t2", "data": {"name": name, "is_suspended": True}})
        first = sim.posts[sim.by_author[name][0]].published_at
        data = {
            "name": name,
            "id": name,
            "created": first - 86400.0 * 400,
            "created_utc": first - 86400.0 * 400,
            "link_karma": 1,
            "comment_karma": 0,
            "verified": True,
            "has_verified_email": True,
        }
        return json_answer({"kind": "t2", "data": data})
