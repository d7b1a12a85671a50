"""The seam between the collector and a schedule: what a policy is told, and what it answers.

A *policy* decides when each post is checked next. The collector calls it at three moments:
when a post is discovered, after a definitive answer about it, and after a failed request.
Each call returns the platform time of the post's next check, or None when the post needs no
more checks. Policies get the post itself (``PostView``: ids, author, publication time, verdict,
counters) and, at discovery, its text; ``AgeProportional`` ignores both.

A policy may also implement ``WideView``, to use a platform's *wide view*: one listing request
(a user's timeline) shows many of an author's recent posts at once. The collector then asks the
policy, before each poll of a listing, where the page should start (or to postpone it, without
a request), and tells it afterwards which known posts the listing showed; the policy answers
with the checks to schedule (``now`` for a post missing from the listing: a missing post is
never a removal by itself, it is confirmed by a single-post request that gives the reason),
its next poll, and possibly earlier polls of other listings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

import numpy.typing as npt

from memoryhole.model import Discovery, Target, Verdict


class PostView(Protocol):
    """What a policy may read about a post (``store.state.PostState`` is one)."""

    pk: int
    platform: str
    post_id: str
    author_id: str
    published_at: float
    verdict: Verdict
    checks: int
    failures: int


class TargetView(Protocol):
    """What a policy may read about a watched listing (``store.state.TargetState``)."""

    pk: int
    target: Target
    cursor: str | None


class Policy(Protocol):
    """When to check a post next. Every method returns a platform time, or None for never."""

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None: ...

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None: ...

    def after_failure(
        self,
        published_at: float,
        now: float,
        failures: int,
        retry_after: float | None,
        *,
        post: PostView | None = None,
    ) -> float | None: ...


@dataclass(frozen=True, slots=True)
class ListingRequest:
    """Where a listing poll starts (``cursor``), or a later time to poll instead (no request)."""

    cursor: str | None
    postpone_until: float | None = None


@dataclass(slots=True)
class ListingPlan:
    """A policy's answer to a listing.

    ``checks``: post pk → its next check (``now`` confirms a post missing from the listing);
    ``polls``: target pk → an earlier poll of that listing; ``next_poll_at``: this listing's
    next poll, or None to keep the collector's own rhythm (and cursor) for it.
    """

    checks: dict[int, float | None] = field(default_factory=dict)
    polls: dict[int, float] = field(default_factory=dict)
    next_poll_at: float | None = None


@runtime_checkable
class WideView(Protocol):
    def listing_request(self, target: TargetView, now: float) -> ListingRequest: ...

    def on_listing(
        self,
        target: TargetView,
        request: ListingRequest,
        discovery: Discovery,
        listed: Sequence[PostView],
        now: float,
    ) -> ListingPlan: ...


class Durable(Protocol):
    """A policy whose decisions depend on what it learnt: the collector commits its
    ``snapshot`` (a small JSON-able dict and named numpy arrays, ``schedule/snapshot.py``) with
    each batch of observations and hands it back to ``restore`` when a run resumes, with the
    collector's posts by pk. ``AgeProportional`` needs none: it reads only the store."""

    def snapshot(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]: ...

    def restore(
        self,
        meta: dict[str, Any],
        arrays: dict[str, npt.NDArray[Any]],
        posts: Mapping[int, PostView],
    ) -> None: ...


class CountsRequests(Protocol):
    """A policy that plans a budget and must know of requests it did not ask for: the
    collector calls ``after_other_request`` for each (a media download, on the post's
    platform's budget), so the plan leaves room for them."""

    def after_other_request(self, platform: str, now: float) -> None: ...


class SpendsIdleTokens(Protocol):
    """A policy that would rather run a planned check or timeline poll early than let a token
    of its budget go to waste: when the platform's token bucket is full and more than one
    token would be lost before the next event is due, the collector asks ``check_early`` /
    ``poll_early`` whether it may run that event now (never a feed poll: the feed keeps its
    rhythm, and no early event takes the token a feed poll due meanwhile needs). A yes from
    ``poll_early`` also means the policy now expects the poll (it would otherwise put it
    off); the policy then plans from when the event ran, as for any other."""

    def check_early(self, post: PostView, now: float) -> bool: ...

    def poll_early(self, target: TargetView, now: float) -> bool: ...


def spends_idle_tokens(policy: Policy) -> SpendsIdleTokens | None:
    """The policy as a ``SpendsIdleTokens`` if it is one."""
    if hasattr(policy, "check_early") and hasattr(policy, "poll_early"):
        return cast(SpendsIdleTokens, policy)
    return None


def counts_requests(policy: Policy) -> CountsRequests | None:
    """The policy as a ``CountsRequests`` if it is one."""
    if hasattr(policy, "after_other_request"):
        return cast(CountsRequests, policy)
    return None


def durable(policy: Policy) -> Durable | None:
    """The policy as a ``Durable`` if it is one."""
    if hasattr(policy, "snapshot") and hasattr(policy, "restore"):
        return cast(Durable, policy)
    return None


def wide_view(policy: Policy) -> WideView | None:
    """The policy as a ``WideView`` if it is one (cheaper than a runtime protocol check)."""
    if hasattr(policy, "listing_request") and hasattr(policy, "on_listing"):
        return cast(WideView, policy)
    return None


def retry_time(
    published_at: float,
    now: float,
    failures: int,
    retry_after: float | None,
    *,
    base: float = 5.0,
    cap: float = 3600.0,
    horizon: float = 7 * 86400.0,
    slack: float = 6 * 3600.0,
) -> float | None:
    """Exponential back-off after a failed request, at least ``retry_after``, at most ``cap``.

    A failure never ends a post's checks before its horizon; a post whose check at the horizon
    keeps failing is retried for ``slack`` more, so its last check is not silently dropped.
    """
    gap = min(base * 2.0 ** min(failures - 1, 16), cap)
    if retry_after is not None:
        gap = max(gap, retry_after)
    if now >= published_at + horizon + slack:
        return None
    return now + gap
