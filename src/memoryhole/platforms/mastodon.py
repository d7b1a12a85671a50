"""Mastodon, through its REST API (any instance: the base URL is the instance's).

Modelled shapes (docs/adapters.md has the table; each is held against a real captured answer in
tests/data/real, ``tests/platforms/test_real_mastodon.py``; the sources are Mastodon's API
documentation and source):

- Listings, newest first, paged forward with ``min_id`` (the statuses immediately newer than it):
  ``GET /api/v1/timelines/public?local=true`` (``mastodon:local``), ``…/timelines/public``
  (``mastodon:public``, federated), ``GET /api/v1/timelines/tag/{tag}`` (``mastodon:tag/{tag}``),
  ``GET /api/v1/accounts/{id}/statuses?exclude_reblogs=true`` (``mastodon:account/{id}``). The
  next cursor is the newest listed id, which the answer's ``Link: <…min_id=…>; rel="prev"``
  names too (it is taken from there when the ids are not numbers, as on other servers).
- One status: ``GET /api/v1/statuses/{id}``: the Status entity; ``404 {"error": "Record not
  found"}`` once it is gone ("does not exist or is private"). ``edited_at`` is set after an edit;
  ``GET /api/v1/statuses/{id}/history`` lists every version (``history_request``).
- An account: ``GET /api/v1/accounts/{id}``: ``"suspended": true`` for a suspended account
  (since 3.3.0); ``410 Gone`` with an empty body for one (2.4.0 to 3.2); 404 for a deleted one.
- Who may read the live and hashtag timelines: ``GET /api/v2/instance``,
  ``configuration.timelines_access`` (4.5+; ``public``, ``authenticated``, or ``disabled``: only
  staff with the "View live and topic feeds" permission). ``timeline_access`` reads it for a
  target, so that ``watch`` can say a target needs a token. mastodon.social disables its local
  and federated timelines: logged out, they answer ``422 {"error": "This method requires an
  authenticated user"}``; with an ordinary account's token, an empty list.

The status endpoint answers a post deleted by its author, a post deleted by a moderator and a
post of a suspended account alike (404), so a gone status is ``unknown`` and its next check asks
for its author's account: a suspended account makes it ``account_suspended``; anything else
leaves it ``unknown``, because the API cannot tell censorship from deletion and memoryhole does
not guess. (Since 3.3 an account its owner deleted is kept as a suspended record too: the
detail says whether the account still counts statuses, as after a moderator's suspension.) A
404 or 410 counts only with Mastodon's JSON error body (an HTML 404 is a proxy or a wrong base
URL; a status never answers an empty 410); 401 (authorized-fetch instances), 403, 422, 429,
5xx, HTML and malformed JSON are UNREACHABLE.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

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
from memoryhole.platforms.base import json_body, listing, transient

PAGE_SIZE = 40
GONE_STATUSES = (404, 410)
#: Mastodon's answer when a method needs a logged-in user and none is (``require_user!``).
NEEDS_USER = 422
#: ``configuration.timelines_access`` values, most open first (Mastodon 4.5+).
ACCESS_LEVELS = ("public", "authenticated", "disabled")

TOKEN_HINT = (
    "set MEMORYHOLE_MASTODON_TOKEN (or the variable that [platforms.mastodon] token_env names) "
    "to the access token of an account on this instance with the read:statuses scope"
)

_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_TAG = re.compile(r"^[^\s/#]{1,100}$")
_ACCOUNT_PATH = re.compile(r"/api/v1/accounts/[^/]+$")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]*)"?')

#: Which ``timelines_access`` group governs a target, and which of its parts its listing shows
#: (the federated timeline, asked without ``local``/``remote``, shows both).
_ACCESS_GROUP = {"local": "live_feeds", "public": "live_feeds", "tag": "hashtag_feeds"}
_ACCESS_PARTS = {"local": ("local",), "public": ("local", "remote"), "tag": ("local", "remote")}


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


def listed_status(index: int, item: Any) -> SeenPost | str | None:
    """One item of a listing: the post it shows, None for a boost (a copy of another post, not
    a post of the target: skipped on purpose), or why it could not be read."""
    if not isinstance(item, dict):
        return f"item {index}: not a Status object but {_json_kind(item)}"
    post_id = item.get("id")
    if not isinstance(post_id, str) or not _ID.match(post_id):
        return f"item {index}: no status id ({post_id!r})"
    if item.get("reblog"):
        return None
    account = item.get("account")
    author = account.get("id") if isinstance(account, dict) else None
    if not isinstance(author, str) or not author:
        return f"item {index} (status {post_id}): no account id"
    published = parse_iso8601(item.get("created_at"))
    if published is None:
        when = item.get("created_at")
        return f"item {index} (status {post_id}): created_at {when!r} is not a time"
    if not isinstance(item.get("content"), str):
        return f"item {index} (status {post_id}): no content"
    return SeenPost(post_id, author, published, status_text(item))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _error_body(capture: Capture) -> dict[str, Any] | None:
    """Mastodon's own error answer (``{"error": "…"}``), or None for anything else."""
    if looks_like_html(capture):
        return None
    try:
        body = json.loads(capture.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) and isinstance(body.get("error"), str) else None


def _empty(capture: Capture) -> bool:
    return not capture.body.strip()


def _newest(ids: list[str]) -> str:
    if all(value.isdigit() for value in ids):
        return max(ids, key=lambda value: (len(value), value))
    return ids[0]


def link_param(capture: Capture, rel: str, name: str) -> str | None:
    """A query parameter of the answer's ``Link`` header's ``rel`` URL (``prev`` → ``min_id``)."""
    header = capture.header("Link")
    if not header:
        return None
    for url, relation in _LINK.findall(header):
        if relation == rel:
            values = parse_qs(urlsplit(url).query).get(name)
            return values[0] if values else None
    return None


def _asked_limit(request: Request) -> int:
    for key, value in request.params:
        if key == "limit" and value.isdigit():
            return int(value)
    return PAGE_SIZE


def _instead(target: Target) -> str:
    if target.kind == "tag":
        return "or watch the accounts that post it (mastodon:account/<account id>) instead"
    return "or watch mastodon:account/<account id> or mastodon:tag/<hashtag> instead"


@dataclass(frozen=True, slots=True)
class TimelineAccess:
    """What an instance says about reading one target's listing (``timeline_access``).

    ``known``: the instance said (Mastodon 4.5+); else nothing below is certain. ``needs_token``:
    logged-out polls of the listing are refused (``422``). ``complete``: polled with the token
    the adapter holds (or without one), the listing shows every post the target covers (False:
    it is refused, empty or partial). ``detail``: what the instance says, and what to do."""

    known: bool
    needs_token: bool
    complete: bool
    detail: str


def timeline_access(target: Target, capture: Capture, *, has_token: bool) -> TimelineAccess:
    """Whether ``target`` needs a token, from the instance's ``GET /api/v2/instance`` answer.

    Mastodon's timeline controllers ask for a logged-in user when any part of the timeline they
    show is not ``public``; its feeds then leave out each ``disabled`` part for everyone but
    staff with the "View live and topic feeds" permission (an empty list when every part is),
    and each ``authenticated`` part for logged-out visitors."""
    spec = target.spec
    group = _ACCESS_GROUP.get(target.kind)
    if group is None:
        return TimelineAccess(
            True,
            False,
            True,
            f"{spec}: an account's statuses need no token (the instance's "
            "timeline settings govern its live and hashtag timelines only)",
        )
    levels, why = _access_levels(capture, group)
    if levels is None:
        return TimelineAccess(
            False,
            False,
            True,
            f"the instance does not say whether {spec} needs a token ({why}); if its polls "
            f"answer 422 'This method requires an authenticated user', {TOKEN_HINT}, "
            + _instead(target),
        )
    domain = _domain(capture)
    parts = {part: levels[part] for part in _ACCESS_PARTS[target.kind]}
    setting = ", ".join(f"{group}.{part} {level}" for part, level in parts.items())
    needs_token = any(level != "public" for level in parts.values())
    disabled = [part for part, level in parts.items() if level == "disabled"]
    if not needs_token:
        return TimelineAccess(
            True, False, True, f"{spec}: {domain} lets anyone read it ({setting})"
        )
    refused = "" if has_token else "logged-out polls are refused (422); "
    if len(disabled) == len(parts):
        return TimelineAccess(
            True,
            True,
            False,
            f"{spec} is closed on {domain} to all but its staff ({setting}): {refused}an "
            "ordinary account's token gets an empty list. Use the token of a staff account "
            "with the 'View live and topic feeds' permission, " + _instead(target),
        )
    if disabled:
        shown = next(part for part in parts if part not in disabled)
        return TimelineAccess(
            True,
            True,
            False,
            f"{spec} on {domain} shows only {shown} posts to all but its staff ({setting}): "
            f"{refused}its {' and '.join(disabled)} posts are never listed. Use the token of a "
            "staff account with the 'View live and topic feeds' permission, " + _instead(target),
        )
    if has_token:
        return TimelineAccess(
            True, True, True, f"{spec} needs a token on {domain} ({setting}): the study's is sent"
        )
    return TimelineAccess(
        True,
        True,
        False,
        f"{spec} needs a token on {domain} ({setting}): logged-out polls are refused (422); "
        f"{TOKEN_HINT}, " + _instead(target),
    )


def _access_levels(capture: Capture, group: str) -> tuple[dict[str, str] | None, str]:
    body, problem = json_body(capture)
    if problem is not None:
        return None, f"/api/v2/instance: {problem}"
    configuration = body.get("configuration") if isinstance(body, dict) else None
    if not isinstance(configuration, dict):
        return None, "/api/v2/instance has no configuration"
    access = configuration.get("timelines_access")
    if not isinstance(access, dict):
        return None, "no configuration.timelines_access: Mastodon before 4.5 does not say"
    feeds = access.get(group)
    if not isinstance(feeds, dict):
        return None, f"no timelines_access.{group}"
    levels = {}
    for part in ("local", "remote"):
        level = feeds.get(part)
        if level not in ACCESS_LEVELS:
            return None, f"timelines_access.{group}.{part} {level!r} is not one of {ACCESS_LEVELS}"
        levels[part] = str(level)
    return levels, ""


def _domain(capture: Capture) -> str:
    try:
        body = json.loads(capture.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    domain = body.get("domain") if isinstance(body, dict) else None
    return domain if isinstance(domain, str) and domain else "this instance"


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
        refused = self._refused_listing(target, capture)
        if refused is not None:
            return refused
        body, problem = json_body(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        if not isinstance(body, list):
            detail = f"answer is not a list of statuses but {_json_kind(body)}"
            return Discovery((), None, Status.UNREACHABLE, detail)
        posts: list[SeenPost] = []
        unreadable: list[str] = []
        ids: list[str] = []
        for index, item in enumerate(body):
            read = listed_status(index, item)
            if isinstance(read, SeenPost):
                posts.append(read)
            elif isinstance(read, str):
                unreadable.append(read)
            if isinstance(item, dict) and isinstance(item.get("id"), str) and _ID.match(item["id"]):
                ids.append(item["id"])
        anchored = any(key == "min_id" for key, _ in capture.request.params)
        return listing(
            posts,
            self._cursor(ids, capture),
            unreadable=unreadable,
            more=anchored and len(body) >= _asked_limit(capture.request),
        )

    @staticmethod
    def _cursor(ids: list[str], capture: Capture) -> str | None:
        """The newest listed id: the ``min_id`` of the ``rel="prev"`` link when it names one of
        them (Mastodon's does), else the largest (Mastodon's ids grow) or the first listed."""
        if not ids:
            return None
        linked = link_param(capture, "prev", "min_id")
        return linked if linked in ids else _newest(ids)

    def _refused_listing(self, target: Target, capture: Capture) -> Discovery | None:
        """A listing Mastodon refused, saying why; None for any other answer."""
        if capture.status is None or answer_problem(capture) is not None:
            return None
        status = capture.status
        error = _error_body(capture)
        if target.kind == "account" and status == 410 and (error is not None or _empty(capture)):
            return Discovery(
                (),
                None,
                Status.ACCOUNT_SUSPENDED,
                "account suspended (410 Gone, as Mastodon 2.4 to 3.2 answered for one): nothing "
                "is listed; every known post of it is checked now",
                confirm_all=True,
            )
        if error is None or 200 <= status < 300:
            return None
        said = f"{status} {error['error']!r}"
        if status in (401, NEEDS_USER):
            detail = self._login_detail(target, status, said)
            return Discovery((), None, Status.UNREACHABLE, detail)
        if status == 404 and target.kind == "account":
            return Discovery(
                (),
                None,
                Status.UNREACHABLE,
                f"account not found ({said}): deleted, or not an account id of this instance; "
                "every known post of it is checked now",
                confirm_all=True,
            )
        if status == 404 and target.kind == "tag":
            detail = f"no such hashtag on this instance yet ({said}); not a removal"
            return Discovery((), None, Status.UNREACHABLE, detail)
        detail = f"refused ({said}): not a removal"
        if status == 403:
            detail += "; the token may lack the read:statuses scope, or its account is disabled"
        return Discovery((), None, Status.UNREACHABLE, detail)

    def _login_detail(self, target: Target, status: int, said: str) -> str:
        if self._headers and status == 401:
            return (
                f"the instance refused the token ({said}): it is invalid, expired or revoked; "
                "put a valid one in MEMORYHOLE_MASTODON_TOKEN (or the variable that "
                "[platforms.mastodon] token_env names)"
            )
        if target.kind == "account":
            return f"this instance lets only logged-in users read its API ({said}): {TOKEN_HINT}"
        if self._headers:
            return (
                f"{target.spec} needs a logged-in user ({said}): the token sent is an app's, "
                f"with no user; {TOKEN_HINT}, " + _instead(target)
            )
        return (
            f"{target.spec} needs a token on this instance ({said}): it does not let logged-out "
            f"visitors read this timeline; {TOKEN_HINT}, " + _instead(target)
        )

    def instance_request(self) -> Request:
        """``GET /api/v2/instance``: what ``timeline_access`` reads."""
        return Request("GET", f"{self.base_url}/api/v2/instance", (), self._headers)

    def access_request(self, target: Target) -> Request | None:
        """The request whose answer says whether ``target`` needs a token (None: none does)."""
        return self.instance_request() if target.kind in _ACCESS_GROUP else None

    def timeline_access(self, target: Target, capture: Capture) -> TimelineAccess:
        """``timeline_access`` for this adapter's token (or its absence)."""
        return timeline_access(target, capture, has_token=bool(self._headers))

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
        error = _error_body(capture)
        if capture.status in GONE_STATUSES:
            if error is None:
                return transient(
                    f"{capture.status} without Mastodon's JSON error body: a proxy's or another "
                    "server's answer (or a wrong base URL), not Mastodon's for a status"
                )
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
        if error is not None and capture.status in (401, 403, NEEDS_USER):
            return transient(f"refused ({capture.status} {error['error']!r}): not a removal")
        body, problem = json_body(capture)
        if problem is not None:
            return transient(problem)
        if not isinstance(body, dict) or (post.post_id and body.get("id") != post.post_id):
            return transient("answer is not the requested status")
        if not isinstance(body.get("content"), str):
            return transient("the status has no content")
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
            published_at=parse_iso8601(body.get("created_at")),
        )

    def _parse_account(self, post: PostRef, capture: Capture) -> Observation:
        """The author's account, asked after the status answered 404 or 410."""
        code = note_of(capture.request.url) or "404"
        problem = answer_problem(capture)
        error = _error_body(capture) if problem is None else None
        if problem is None and capture.status == 410 and (error is not None or _empty(capture)):
            return self._suspended(
                post,
                code,
                "410",
                "the account is gone (410 Gone: how Mastodon 2.4 to 3.2 "
                "answered for a suspended account)",
            )
        if error is not None and capture.status == 404:
            return transient(
                f"status gone ({code}); the account is not found ({error['error']!r}: deleted): "
                "the removal stays unattributed",
                code=code,
            )
        body, problem = json_body(capture)
        if problem is not None or not isinstance(body, dict) or "id" not in body:
            if post.post_id:
                self._follow_ups.retry(post.post_id, code)  # ask again next time
            return transient(problem or "answer is not a Mastodon account")
        if body.get("suspended") is True:
            return self._suspended(post, code, "suspended", _suspension(body))
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


def _suspension(account: dict[str, Any]) -> str:
    """What ``"suspended": true`` says: since 3.3, Mastodon keeps an account its owner deleted
    as a suspended record with its counts zeroed, while a moderator's suspension keeps them."""
    count = account.get("statuses_count")
    if isinstance(count, int) and not isinstance(count, bool) and count > 0:
        return (
            f"the author's account is suspended (statuses_count {count}: its statuses are "
            "kept, as after a moderator's suspension; an owner's deletion leaves none)"
        )
    return (
        "the author's account is suspended (no statuses counted: a moderator's suspension, or "
        "its owner deleted it, which Mastodon 3.3+ records as a suspension too)"
    )


def parse_history(capture: Capture) -> list[tuple[float, str]] | None:
    """``GET …/history`` → ``[(created_at, text), …]`` oldest first, or None if not an answer."""
    body, problem = json_body(capture)
    if problem is not None or not isinstance(body, list):
        return None
    versions = []
    for edit in body:
        at = parse_iso8601(edit.get("created_at")) if isinstance(edit, dict) else None
        if at is None or not isinstance(edit.get("content"), str):
            return None
        versions.append((at, status_text(edit)))
    return sorted(versions, key=lambda version: version[0])
