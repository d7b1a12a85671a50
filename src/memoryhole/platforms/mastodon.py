"""Mastodon, through its REST API (any instance: the base URL is the instance's).

Modelled shapes (docs/adapters.md has the table and the sources, Mastodon's API docs):

- Listings, newest first, paged forward with ``min_id`` (the statuses immediately newer than it):
  ``GET /api/v1/timelines/public?local=true`` (``mastodon:local``), ``…/timelines/public``
  (``mastodon:public``, federated), ``GET /api/v1/timelines/tag/{tag}`` (``mastodon:tag/{tag}``),
  ``GET /api/v1/accounts/{id}/statuses?exclude_reblogs=true`` (``mastodon:account/{id}``).
- One status: ``GET /api/v1/statuses/{id}``: the Status entity; ``404 {"error": "Record not
  found"}`` once it is gone ("does not exist or is private"). ``edited_at`` is set after an edit;
  ``GET /api/v1/statuses/{id}/history`` lists every version (``history_request``).
- An account: ``GET /api/v1/accounts/{id}``: ``"suspended": true`` for a suspended account
  (since 3.3.0); ``410 Gone`` for one (2.4.0 to 3.3.0); 404 for a deleted one.

The status endpoint answers a post deleted by its author, a post deleted by a moderator and a
post of a suspended account alike (404), so a gone status is ``unknown`` and its next check asks
for its author's account: a suspended account makes it ``account_suspended``; anything else
leaves it ``unknown``, because the API cannot tell censorship from deletion and memoryhole does
not guess. A 404 or 410 counts only with Mastodon's JSON error body (an HTML 404 is a proxy or a
wrong base URL); 401 (authorized-fetch instances), 403, 429, 5xx, HTML, malformed JSON are
UNREACHABLE.
"""

from __future__ import annotations

import json
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
    answer_problem,
    html_text,
    join_detail,
    looks_like_html,
    media_detail,
    note_of,
    parse_iso8601,
    url_path,
    with_note,
)
from memoryhole.platforms.base import json_body, transient

PAGE_SIZE = 40
GONE_STATUSES = (404, 410)

_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_TAG = re.compile(r"^[^\s/#]{1,100}$")
_ACCOUNT_PATH = re.compile(r"/api/v1/accounts/[^/]+$")


def status_text(status: dict[str, Any]) -> str:
    """A reader's view: the content warning (if any), then the text (HTML made plain)."""
    spoiler = str(status.get("spoiler_text") or "")
    body = html_text(str(status.get("content") or ""))
    return f"{spoiler}\n{body}" if spoiler else body


def status_media(status: dict[str, Any]) -> list[tuple[str, str]]:
    refs = []
    for item in status.get("media_attachments") or ():
        if isinstance(item, dict):
            url = item.get("url") or item.get("remote_url")
            if isinstance(url, str) and url:
                refs.append((str(item.get("type") or "media"), url))
    return refs


def _seen_post(status: Any) -> SeenPost | None:
    if not isinstance(status, dict) or status.get("reblog"):
        return None
    account = status.get("account")
    published = parse_iso8601(status.get("created_at"))
    post_id = status.get("id")
    if not isinstance(post_id, str) or not isinstance(account, dict) or published is None:
        return None
    author = account.get("id")
    if not isinstance(author, str) or not author:
        return None
    return SeenPost(post_id, author, published, status_text(status))


def _error_body(capture: Capture) -> dict[str, Any] | None:
    """Mastodon's own error answer (``{"error": "…"}``), or None for anything else."""
    if looks_like_html(capture):
        return None
    try:
        body = json.loads(capture.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) and isinstance(body.get("error"), str) else None


def _newest(ids: list[str]) -> str:
    if all(value.isdigit() for value in ids):
        return max(ids, key=lambda value: (len(value), value))
    return ids[0]


class MastodonPlatform:
    name = "mastodon"

    def __init__(
        self, base_url: str = "https://mastodon.social", *, token: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers: tuple[tuple[str, str], ...] = (
            (("Authorization", f"Bearer {token}"),) if token else ()
        )
        self._follow_ups = AccountFollowUps()

    # -- targets and listings -------------------------------------------------------------

    def parse_target(self, text: str) -> Target:
        if text in ("local", "public"):
            return Target(self.name, text)
        kind, _, key = text.partition("/")
        if kind == "account" and _ID.match(key):
            return Target(self.name, "account", key)
        if kind == "tag" and _TAG.match(key):
            return Target(self.name, "tag", key.lstrip("#"))
        raise TargetError(
            f"mastodon target {text!r} not understood; use mastodon:local, mastodon:public, "
            "mastodon:account/<account id> or mastodon:tag/<hashtag>"
        )

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        params: list[tuple[str, str]] = [("limit", str(PAGE_SIZE))]
        if target.kind == "account":
            url = f"{self.base_url}/api/v1/accounts/{quote(target.key)}/statuses"
            params.append(("exclude_reblogs", "true"))
        elif target.kind == "tag":
            url = f"{self.base_url}/api/v1/timelines/tag/{quote(target.key)}"
        else:
            url = f"{self.base_url}/api/v1/timelines/public"
            if target.kind == "local":
                params.append(("local", "true"))
        if cursor:
            params.append(("min_id", cursor))
        return Request("GET", url, tuple(params), self._headers)

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        if target.kind == "account" and capture.status == 410 and _error_body(capture):
            return Discovery((), None, Status.ACCOUNT_SUSPENDED, "account suspended (410 Gone)")
        body, problem = json_body(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        if not isinstance(body, list):
            return Discovery((), None, Status.UNREACHABLE, "answer is not a list of statuses")
        posts = [seen for status in body if (seen := _seen_post(status)) is not None]
        ids = [s["id"] for s in body if isinstance(s, dict) and isinstance(s.get("id"), str)]
        anchored = any(key == "min_id" for key, _ in capture.request.params)
        return Discovery(
            tuple(posts),
            _newest(ids) if ids else None,
            more=anchored and len(body) >= PAGE_SIZE,
        )

    # -- checks ---------------------------------------------------------------------------

    def check_request(self, post: PostRef) -> Request:
        code = self._follow_ups.take(post.post_id)
        if code is not None and post.author_id:
            url = f"{self.base_url}/api/v1/accounts/{quote(post.author_id)}"
            return Request("GET", with_note(url, code), (), self._headers)
        url = f"{self.base_url}/api/v1/statuses/{quote(post.post_id)}"
        return Request("GET", url, (), self._headers)

    def history_request(self, post: PostRef) -> Request:
        """Every known version of a status (Mastodon 3.5+), for an edit's evidence."""
        url = f"{self.base_url}/api/v1/statuses/{quote(post.post_id)}/history"
        return Request("GET", url, (), self._headers)

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        if _ACCOUNT_PATH.search(url_path(capture.request.url)):
            return self._parse_account(post, capture)
        problem = answer_problem(capture)
        if problem is not None:
            return transient(problem)
        if capture.status in GONE_STATUSES:
            error = _error_body(capture)
            if error is None:
                return transient(f"{capture.status} without Mastodon's error body (a proxy?)")
            code = str(capture.status)
            if post.post_id:
                known = self._follow_ups.answer(post.post_id, code)
                if known is not None:
                    return replace(known, detail=f"{known.detail} (account checked earlier)")
                self._follow_ups.want(post.post_id, code)
            return Observation(
                Status.REMOVED_UNKNOWN,
                code=code,
                detail=f"status gone ({code} {error['error']!r}): deleted by its author, by a "
                "moderator, or its account suspended; the account is checked next",
            )
        body, problem = json_body(capture)
        if problem is not None:
            return transient(problem)
        if not isinstance(body, dict) or (post.post_id and body.get("id") != post.post_id):
            return transient("answer is not the requested status")
        text = status_text(body)
        edited = body.get("edited_at")
        return Observation(
            Status.LIVE,
            content_hash=content_hash(text),
            text=text,
            detail=join_detail(
                "visible",
                f"edited at {edited}" if isinstance(edited, str) and edited else "",
                media_detail(status_media(body)),
            ),
        )

    def _parse_account(self, post: PostRef, capture: Capture) -> Observation:
        """The author's account, asked after the status answered 404 or 410."""
        code = note_of(capture.request.url) or "404"
        problem = answer_problem(capture)
        if problem is None and capture.status == 410 and _error_body(capture) is not None:
            return self._suspended(post, code, "410", "the account is suspended (410 Gone)")
        if problem is None and capture.status == 404 and _error_body(capture) is not None:
            return transient(
                f"status gone ({code}); the account is not found (deleted): the removal stays "
                "unattributed",
                code=code,
            )
        body, problem = json_body(capture)
        if problem is not None or not isinstance(body, dict) or "id" not in body:
            if post.post_id:
                self._follow_ups.retry(post.post_id, code)  # ask again next time
            return transient(problem or "answer is not a Mastodon account")
        if body.get("suspended") is True:
            return self._suspended(post, code, "suspended", "the author's account is suspended")
        return transient(
            f"status gone ({code}); the author's account is in good standing: author deletion "
            "and moderation look the same here, so the removal stays unattributed",
            code=code,
        )

    def _suspended(self, post: PostRef, code: str, signal: str, what: str) -> Observation:
        observation = Observation(
            Status.ACCOUNT_SUSPENDED, code=signal, detail=f"status gone ({code}); {what}"
        )
        if post.post_id:
            self._follow_ups.remember(post.post_id, code, observation)
        return observation


def parse_history(capture: Capture) -> list[tuple[float, str]] | None:
    """``GET …/history`` → ``[(created_at, text), …]`` oldest first, or None if not an answer."""
    body, problem = json_body(capture)
    if problem is not None or not isinstance(body, list):
        return None
    versions = []
    for edit in body:
        at = parse_iso8601(edit.get("created_at")) if isinstance(edit, dict) else None
        if at is None:
            return None
        versions.append((at, status_text(edit)))
    return sorted(versions, key=lambda version: version[0])
