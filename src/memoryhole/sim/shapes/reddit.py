"""Reddit's public JSON shapes (``sim serve --platform reddit``).

- ``GET /r/{sub}/new.json?limit=N[&before=t3_X]`` (any subreddit name: the whole scenario is
  one community, ``r/memoryhole_sim``) and ``GET /user/{name}/submitted.json``: a ``Listing`` of
  ``t3`` children, newest first. ``before`` gives the page just newer than the anchor; an
  anchor that is no longer listed (removed) gives an empty page, as on Reddit.
- ``GET /by_id/t3_{id}.json``: a ``Listing`` with that post, removed or not (an unknown id:
  an empty ``Listing``).
- ``GET /user/{name}/about.json``: the account (``t2``); ``{"name", "is_suspended": true}``
  once suspended; 404 for an unknown name.

Removal kinds: ``censored`` → ``removed_by_category`` one of ``moderator``,
``automod_filtered``, ``anti_evil_ops``, ``reddit``, ``content_takedown`` (a fixed choice per
post), text ``[removed]``; ``author_deleted`` → ``deleted``, author and text ``[deleted]``;
``account_suspended`` → ``reddit`` with text ``[removed]`` and the account suspended. A
suspended account's ``submitted`` listing answers 404 (a simplification).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from memoryhole.sim.shapes import Answer, json_answer, limit_of, media_of, newer_than, newest, pick

if TYPE_CHECKING:
    from memoryhole.sim.platform import SimPlatform
    from memoryhole.sim.scenario import ScenarioPost

SUBREDDIT = "memoryhole_sim"
CENSOR_CATEGORIES = ("moderator", "automod_filtered", "anti_evil_ops", "reddit", "content_takedown")
NOT_FOUND: dict[str, object] = {"message": "Not Found", "error": 404}

_LISTING = re.compile(r"^/r/[^/]+/new\.json$")
_SUBMITTED = re.compile(r"^/user/([^/]+)/submitted\.json$")
_ABOUT = re.compile(r"^/user/([^/]+)/about\.json$")
_BY_ID = re.compile(r"^/by_id/t3_([^/,]+)\.json$")


def title_of(post: ScenarioPost) -> str:
    """A title that edits do not change (Reddit lets authors edit the body only)."""
    first = post.text.strip().splitlines()[0] if post.text.strip() else ""
    return first[:60] or f"post {post.post_id}"


def link(sim: SimPlatform, post: ScenarioPost, now: float) -> dict[str, Any]:
    """The ``t3`` object of ``post`` as Reddit shows it at ``now``."""
    version, text = sim.text_at(post, now)
    permalink = f"/r/{SUBREDDIT}/comments/{post.post_id}/"
    data: dict[str, Any] = {
        "id": post.post_id,
        "name": f"t3_{post.post_id}",
        "subreddit": SUBREDDIT,
        "subreddit_name_prefixed": f"r/{SUBREDDIT}",
        "title": title_of(post),
        "selftext": text,
        "is_self": True,
        "author": post.author_id,
        "author_fullname": f"t2_{post.author_id}",
        "created_utc": post.published_at,
        "permalink": permalink,
        "url": f"https://www.reddit.com{permalink}",
        "removed_by_category": None,
        "locked": False,
        "archived": False,
        "edited": post.edits[version - 1][0] if version else False,
        "num_comments": 0,
        "score": 1,
        "over_18": False,
        "stickied": False,
    }
    media = media_of(post, sim.media_base)
    if media:
        kind, url = media[0]
        data["media_metadata"] = {
            f"m{post.post_id}": {
                "status": "valid",
                "e": "AnimatedImage" if kind == "video" else "Image",
                "s": {"u": url, "x": 640, "y": 480},
            }
        }
    removal = sim.removal_at(post, now)
    if removal == "author_deleted":
        data.update(removed_by_category="deleted", author="[deleted]", selftext="[deleted]")
        del data["author_fullname"]
        data.pop("media_metadata", None)
    elif removal == "censored":
        category = pick(post.post_id, CENSOR_CATEGORIES)
        data.update(removed_by_category=category, selftext="[removed]")
        data.pop("media_metadata", None)
    elif removal == "account_suspended":
        data.update(removed_by_category="reddit", selftext="[removed]")
        data.pop("media_metadata", None)
    return data


def listing(children: list[dict[str, Any]]) -> dict[str, Any]:
    names = [child["data"]["name"] for child in children]
    return {
        "kind": "Listing",
        "data": {
            "after": names[-1] if names else None,
            "before": names[0] if names else None,
            "dist": len(children),
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
            return self.listing(sim, range(len(sim.posts)), query, now)
        if match := _SUBMITTED.match(path):
            name = match.group(1)
            if name not in sim.by_author or sim.is_suspended(name, now):
                return json_answer(NOT_FOUND, 404)
            return self.listing(sim, sim.by_author[name], query, now)
        if match := _BY_ID.match(path):
            post = sim.by_id.get(match.group(1))
            if post is None or post.published_at > now:
                return json_answer(listing([]))
            return json_answer(listing([{"kind": "t3", "data": link(sim, post, now)}]))
        if match := _ABOUT.match(path):
            return self.about(sim, match.group(1), now)
        return json_answer(NOT_FOUND, 404)

    def listing(
        self, sim: SimPlatform, indices: range | list[int], query: Mapping[str, str], now: float
    ) -> Answer:
        limit = limit_of(query, 25, 100)
        before = query.get("before", "")
        if before:
            anchor_id = before.removeprefix("t3_")
            anchor = sim.by_id.get(anchor_id)
            if anchor is None or anchor.published_at > now or sim.removal_at(anchor, now):
                return json_answer(listing([]))  # Reddit's answer to a vanished anchor
            chosen = newer_than(sim, indices, sim.position[anchor_id], now, limit)[::-1]
        else:
            chosen = newest(sim, indices, now, limit)
        children = [{"kind": "t3", "data": link(sim, sim.posts[i], now)} for i in chosen]
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
            "created_utc": first - 86400.0 * 400,
            "link_karma": 1,
            "comment_karma": 0,
            "verified": True,
            "has_verified_email": True,
        }
        return json_answer({"kind": "t2", "data": data})
