"""The adapter seam. An adapter builds requests and classifies responses; it never sends.

The collector owns I/O, rate limits, retries and capture, so an adapter is testable from
fixture files alone and behaves the same on a real platform, a recording or the simulator.

Rule for every ``parse_*``: anything that is not a definitive platform answer (non-2xx other
than documented removal answers, HTML where JSON was expected, truncated or malformed bodies,
captcha pages, no response at all) is ``Status.UNREACHABLE``. A removal needs a definitive
signal; the verdict state machine, not the adapter, turns observations into verdicts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

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
)


@runtime_checkable
class Platform(Protocol):
    name: str

    def parse_target(self, text: str) -> Target:
        """``"user/123"`` → Target; raise ``TargetError`` with a hint when not understood."""
        ...

    def discover_request(self, target: Target, cursor: str | None) -> Request: ...

    def parse_discover(self, target: Target, capture: Capture) -> Discovery: ...

    def check_request(self, post: PostRef) -> Request: ...

    def parse_check(self, post: PostRef, capture: Capture) -> Observation: ...


@dataclass(frozen=True)
class PostsView:
    """What one answer about many posts says (``ManyPosts``): ``seen`` the visible ones (each
    as its own check would say it), ``missing`` the others: never a removal by themselves,
    each is confirmed by its own check. ``status`` UNREACHABLE: the answer says nothing
    (``detail`` why)."""

    status: Status
    detail: str
    seen: dict[str, Observation] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


@runtime_checkable
class ManyPosts(Protocol):
    """A platform that answers for many posts in one request (Bluesky's ``getPosts``): the
    collector checks live posts that many at a time (``collect/checks.py``)."""

    max_posts_per_request: int

    def posts_request(self, posts: Sequence[PostRef]) -> Request: ...

    def parse_posts(self, posts: Sequence[PostRef], capture: Capture) -> PostsView: ...


def transient(detail: str, code: str | None = None) -> Observation:
    return Observation(status=Status.UNREACHABLE, code=code, detail=detail)


#: How many unreadable items a listing's detail names (the rest are counted).
NAMED_UNREADABLE = 3


def listing(
    posts: list[SeenPost] | tuple[SeenPost, ...],
    next_cursor: str | None,
    *,
    unreadable: list[str] | tuple[str, ...] = (),
    notices: list[Notice] | tuple[Notice, ...] = (),
    more: bool = False,
) -> Discovery:
    """A listing that was answered. Never silent: items that could not be read are kept
    (``Discovery.unreadable``), and a listing that held items of which none could be read is
    UNREACHABLE with a detail naming what was not understood, never a successful empty listing
    (a changed date format must not look like an account that stopped posting)."""
    posts, unreadable, notices = tuple(posts), tuple(unreadable), tuple(notices)
    if unreadable and not posts and not notices:
        return Discovery(
            (),
            None,
            Status.UNREACHABLE,
            f"listing held {len(unreadable)} item(s) and none could be read: "
            + unreadable_summary(unreadable),
            unreadable=unreadable,
        )
    detail = f"{len(posts)} posts listed"
    if unreadable:
        detail += f"; {len(unreadable)} unreadable: " + unreadable_summary(unreadable)
    return Discovery(
        posts, next_cursor, detail=detail, more=more, unreadable=unreadable, notices=notices
    )


def unreadable_summary(unreadable: tuple[str, ...]) -> str:
    named = "; ".join(unreadable[:NAMED_UNREADABLE])
    rest = len(unreadable) - NAMED_UNREADABLE
    return named + (f"; +{rest} more" if rest > 0 else "")


def json_body(capture: Capture) -> tuple[Any, str | None]:
    """Decode a JSON body, or say why it is not a definitive JSON answer.

    Returns ``(value, None)`` on success and ``(None, reason)`` otherwise.
    """
    if capture.status is None:
        return None, f"no response: {capture.error or 'unknown transport error'}"
    if capture.status == 429:
        retry = capture.header("Retry-After")
        return None, f"rate limited (429, Retry-After {retry})" if retry else "rate limited (429)"
    if capture.status >= 500:
        return None, f"server error {capture.status}"
    if not 200 <= capture.status < 300:
        return None, f"unexpected HTTP status {capture.status}"
    content_type = (capture.header("Content-Type") or "").lower()
    head = capture.body[:64].lstrip().lower()
    if "html" in content_type or head.startswith(b"<"):
        return None, "HTML page instead of JSON (captcha or login wall)"
    try:
        return json.loads(capture.body), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"malformed JSON ({type(exc).__name__}: {exc})"
