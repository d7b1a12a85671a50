"""A plain JSON API (``sim serve --platform json``): what the built-in ``json`` platform's
description (``memoryhole.platforms.generic_json.DEFAULT_CONFIG``) reads.

- ``GET /api/v1/posts?since_id=C&limit=N``: ``{"items": [post, …], "next_cursor": "…"}``, the
  posts after cursor ``C`` oldest first (removed ones are skipped);
  ``GET /api/v1/users/{id}/posts``: one author's, the same way.
- ``GET /api/v1/posts/{id}``: ``{"post": {…}}`` while visible. Once removed: ``censored`` →
  ``451 {"error": "unavailable_for_legal_reasons", "reason": "legal"}``; ``author_deleted`` →
  ``410 {"error": "gone", "reason": "deleted_by_author"}``; ``account_suspended`` → ``403
  {"error": "forbidden", "reason": "account_suspended"}`` (also for the author's listing).

A post: ``{"id", "author": {"id", "name"}, "text", "created_at" (ISO 8601, UTC), "edited_at",
"media": [{"type", "url"}]}``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from memoryhole.sim.shapes import Answer, iso, json_answer, limit_of, media_of

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

REMOVED: dict[str, tuple[int, dict[str, str]]] = {
    "censored": (451, {"error": "unavailable_for_legal_reasons", "reason": "legal"}),
    "author_deleted": (410, {"error": "gone", "reason": "deleted_by_author"}),
    "account_suspended": (403, {"error": "forbidden", "reason": "account_suspended"}),
}
NOT_FOUND = {"error": "not_found"}

_POSTS = re.compile(r"^/api/v1/posts$")
_USER_POSTS = re.compile(r"^/api/v1/users/([^/]+)/posts$")
_POST = re.compile(r"^/api/v1/posts/([^/]+)$")


def record(sim: SimPlatform, post: ScenarioPost, now: float) -> dict[str, Any]:
    version, text = sim.text_at(post, now)
    return {
        "id": post.post_id,
        "author": {"id": post.author_id, "name": f"user{post.author_id[-6:]}"},
        "text": text,
        "created_at": iso(post.published_at),
        "edited_at": iso(post.edits[version - 1][0]) if version else None,
        "media": [{"type": kind, "url": url} for kind, url in media_of(post, sim.media_base)],
    }


class JsonShape:
    name = "json"

    def handle(
        self, sim: SimPlatform, method: str, path: str, query: Mapping[str, str], now: float
    ) -> Answer:
        if method != "GET":
            return json_answer({"error": "method_not_allowed"}, 405)
        if _POSTS.match(path):
            return self.listing(sim, range(len(sim.posts)), query, now)
        if match := _USER_POSTS.match(path):
            author = match.group(1)
            if author not in sim.by_author:
                return json_answer(NOT_FOUND, 404)
            if sim.is_suspended(author, now):
                status, body = REMOVED["account_suspended"]
                return json_answer(body, status)
            return self.listing(sim, sim.by_author[author], query, now)
        if match := _POST.match(path):
            post = sim.by_id.get(match.group(1))
            if post is None or post.published_at > now:
                return json_answer(NOT_FOUND, 404)
            removal = sim.removal_at(post, now)
            if removal is not None:
                status, body = REMOVED[removal]
                return json_answer(body, status)
            return json_answer({"post": record(sim, post, now)})
        return json_answer(NOT_FOUND, 404)

    def listing(
        self, sim: SimPlatform, indices: range | list[int], query: Mapping[str, str], now: float
    ) -> Answer:
        limit = limit_of(query, 20, 100)
        since = query.get("since_id") or None
        after = sim.position.get(since, -1) if since else -1
        items: list[dict[str, Any]] = []
        cursor = since
        for index in indices[bisect.bisect_right(indices, after) :]:
            post = sim.posts[index]
            if post.published_at > now:
                break
            cursor = post.post_id
            if sim.removal_at(post, now) is None:
                items.append(record(sim, post, now))
                if len(items) >= limit:
                    break
        return json_answer({"items": items, "next_cursor": cursor})
