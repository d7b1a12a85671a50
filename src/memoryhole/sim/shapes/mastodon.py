"""Mastodon's REST API shapes (``sim serve --platform mastodon``), as of Mastodon 4.

- ``GET /api/v1/timelines/public`` (``local`` ignored: one instance), ``GET
  /api/v1/timelines/tag/{tag}`` (every post) and ``GET /api/v1/accounts/{id}/statuses``: arrays
  of Status, newest first; ``min_id`` gives the statuses immediately newer than it, ``limit``
  at most 40. A suspended account's statuses: ``[]``.
- ``GET /api/v1/statuses/{id}``: the Status (``edited_at`` after an edit); once gone, whatever
  the reason, ``404 {"error": "Record not found"}``.
- ``GET /api/v1/statuses/{id}/history``: every version (StatusEdit), oldest first.
- ``GET /api/v1/accounts/{id}``: the Account; ``"suspended": true`` once suspended (3.3+).
- ``GET /api/v2/instance``: the Instance, whose ``configuration.timelines_access`` (4.5+) says
  every timeline is public (no token needed).

Listings carry Mastodon's ``Link`` header: ``rel="next"`` (``max_id`` = the oldest listed id)
and ``rel="prev"`` (``min_id`` = the newest), as the real ones do.

So ``censored`` (a moderator deleted the status) and ``author_deleted`` look the same: 404.
Only ``account_suspended`` is told apart, by the account.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from memoryhole.sim.shapes import Answer, iso, json_answer, limit_of, media_of, newer_than, newest

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

INSTANCE = "https://mastodon.sim.invalid"
NOT_FOUND: dict[str, object] = {"error": "Record not found"}
#: The query parameters a listing's ``Link`` URLs repeat (not its cursor).
_KEPT_PARAMS = ("limit", "local", "remote", "exclude_reblogs", "only_media")

_STATUS = re.compile(r"^/api/v1/statuses/([^/]+)$")
_HISTORY = re.compile(r"^/api/v1/statuses/([^/]+)/history$")
_ACCOUNT = re.compile(r"^/api/v1/accounts/([^/]+)$")
_ACCOUNT_STATUSES = re.compile(r"^/api/v1/accounts/([^/]+)/statuses$")
_TIMELINE = re.compile(r"^/api/v1/timelines/(public|tag/[^/]+)$")
_INSTANCE = re.compile(r"^/api/v2/instance/?$")


def content(text: str) -> str:
    return "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in text.split("\n"))


def account(sim: SimPlatform, author: str, now: float) -> dict[str, Any]:
    suspended = sim.is_suspended(author, now)
    record: dict[str, Any] = {
        "id": author,
        "username": f"u{author}",
        "acct": f"u{author}",
        "display_name": "" if suspended else f"用户{author[-6:]}",
        "locked": False,
        "bot": False,
        "discoverable": not suspended,
        "group": False,
        "created_at": iso(sim.posts[sim.by_author[author][0]].published_at - 86400.0 * 400),
        "note": "",
        "url": f"{INSTANCE}/@u{author}",
        "avatar": f"{INSTANCE}/avatars/original/missing.png",
        "header": f"{INSTANCE}/headers/original/missing.png",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": len(sim.by_author[author]),  # a suspension keeps the count
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }
    if suspended:
        record["suspended"] = True
    return record


def attachments(sim: SimPlatform, post: ScenarioPost) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{post.post_id}{index}",
            "type": kind,
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "description": None,
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
        }
        for index, (kind, url) in enumerate(media_of(post, sim.media_base))
    ]


def status(sim: SimPlatform, post: ScenarioPost, now: float) -> dict[str, Any]:
    version, text = sim.text_at(post, now)
    url = f"{INSTANCE}/@u{post.author_id}/{post.post_id}"
    return {
        "id": post.post_id,
        "created_at": iso(post.published_at),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "zh",
        "uri": f"{INSTANCE}/users/u{post.author_id}/statuses/{post.post_id}",
        "url": url,
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": iso(post.edits[version - 1][0]) if version else None,
        "content": content(text),
        "reblog": None,
        "application": None,
        "account": account(sim, post.author_id, now),
        "media_attachments": attachments(sim, post),
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def link_header(path: str, query: Mapping[str, str], statuses: list[dict[str, Any]]) -> str:
    """``<…max_id=OLDEST>; rel="next", <…min_id=NEWEST>; rel="prev"``, as Mastodon pages."""
    kept = "".join(f"{key}={value}&" for key, value in query.items() if key in _KEPT_PARAMS)
    url = f"{INSTANCE}{path}?{kept}"
    oldest, newest_id = statuses[-1]["id"], statuses[0]["id"]
    return f'<{url}max_id={oldest}>; rel="next", <{url}min_id={newest_id}>; rel="prev"'


def instance() -> dict[str, Any]:
    """``GET /api/v2/instance`` (the parts a client reads): every timeline open to anyone."""
    everyone = {"local": "public", "remote": "public"}
    return {
        "domain": INSTANCE.removeprefix("https://"),
        "title": "Mastodon (simulated)",
        "version": "4.5.0",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "",
        "usage": {"users": {"active_month": 0}},
        "languages": ["zh"],
        "configuration": {
            "urls": {"streaming": "wss://mastodon.sim.invalid"},
            "statuses": {"max_characters": 500, "max_media_attachments": 4},
            "translation": {"enabled": False},
            "timelines_access": {
                "live_feeds": dict(everyone),
                "hashtag_feeds": dict(everyone),
                "trending_link_feeds": dict(everyone),
            },
            "limited_federation": False,
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": "", "account": None},
        "rules": [],
    }


class MastodonShape:
    name = "mastodon"

    def handle(
        self, sim: SimPlatform, method: str, path: str, query: Mapping[str, str], now: float
    ) -> Answer:
        if method != "GET":
            return json_answer({"error": "This action is not allowed"}, 403)
        if match := _STATUS.match(path):
            post = self._visible(sim, match.group(1), now)
            return json_answer(status(sim, post, now)) if post else json_answer(NOT_FOUND, 404)
        if match := _HISTORY.match(path):
            post = self._visible(sim, match.group(1), now)
            return (
                json_answer(self.history(sim, post, now)) if post else json_answer(NOT_FOUND, 404)
            )
        if match := _ACCOUNT.match(path):
            author = match.group(1)
            if author not in sim.by_author:
                return json_answer(NOT_FOUND, 404)
            return json_answer(account(sim, author, now))
        if match := _ACCOUNT_STATUSES.match(path):
            author = match.group(1)
            if author not in sim.by_author:
                return json_answer(NOT_FOUND, 404)
            if sim.is_suspended(author, now):
                return json_answer([])
            return self.timeline(sim, sim.by_author[author], query, now, path)
        if _TIMELINE.match(path):
            return self.timeline(sim, range(len(sim.posts)), query, now, path)
        if _INSTANCE.match(path):
            return json_answer(instance())
        return json_answer(NOT_FOUND, 404)

    def _visible(self, sim: SimPlatform, post_id: str, now: float) -> ScenarioPost | None:
        post = sim.by_id.get(post_id)
        if post is None or post.published_at > now or sim.removal_at(post, now) is not None:
            return None
        return post

    def timeline(
        self,
        sim: SimPlatform,
        indices: range | list[int],
        query: Mapping[str, str],
        now: float,
        path: str,
    ) -> Answer:
        limit = limit_of(query, 20, 40)
        anchor = query.get("min_id") or query.get("since_id")
        if anchor:
            after = sim.position.get(anchor, -1)
            chosen = newer_than(sim, indices, after, now, limit)[::-1]
            if query.get("since_id") and not query.get("min_id"):
                chosen = newest(sim, indices, now, limit)
                chosen = [i for i in chosen if i > after]
        else:
            chosen = newest(sim, indices, now, limit)
        statuses = [status(sim, sim.posts[i], now) for i in chosen]
        code, headers, body = json_answer(statuses)
        if statuses:
            headers = (*headers, ("link", link_header(path, query, statuses)))
        return code, headers, body

    def history(self, sim: SimPlatform, post: ScenarioPost, now: float) -> list[dict[str, Any]]:
        versions = [(post.published_at, post.text)]
        versions += [(at, text) for at, text in post.edits if at <= now]
        who = account(sim, post.author_id, now)
        return [
            {
                "content": content(text),
                "spoiler_text": "",
                "sensitive": False,
                "created_at": iso(at),
                "account": who,
                "media_attachments": attachments(sim, post),
                "emojis": [],
            }
            for at, text in versions
        ]
