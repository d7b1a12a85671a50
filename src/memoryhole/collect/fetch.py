"""Sending one request and capturing its answer, as the collector's checks and polls do.

An answer larger than its cap (decompressed) is cut there and captured with its status and an
``error`` saying so: what it leads to is never a removal. A ``429`` pauses the platform's
budget for its Retry-After. Redirects are followed only where the adapter allows
(``collect/redirects.py``), each hop on the platform's budget and logged as its own
observation. A platform that cannot be reached at all (a wrong base URL) is said at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

from memoryhole.collect.parts import Parts, retry_after_seconds
from memoryhole.collect.redirects import MAX_HOPS, REDIRECT_STATUSES, next_hop, redirect_policy
from memoryhole.collect.transport import BodyTooLarge, Transport, send_capped, strip_secrets
from memoryhole.errors import TransportError
from memoryhole.model import Capture, Request, Status
from memoryhole.store.state import PostState, TargetState

TOO_LARGE = "answer too large"
_CONNECTION_FAILURES = (
    "connection refused",
    "cannot connect",
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "network is unreachable",
    "no route to host",
    "connect call failed",
)


class Fetcher:
    def __init__(
        self,
        parts: Parts,
        transport: Transport,
        *,
        check_cap: int,
        listing_cap: int,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.parts = parts
        self.transport = transport
        self.check_cap, self.listing_cap = check_cap, listing_cap
        #: Told at once, once per platform, when a platform cannot be reached at all (a wrong
        #: base URL: connection refused, no such host), so a run does not end with "0 checks".
        self.on_problem = on_problem
        self._unreachable_platforms: set[str] = set()

    async def fetch(self, request: Request, platform: str, cap: int) -> Capture:
        """One request, its answer cut at ``cap`` bytes."""
        # ``Timer.start`` and ``Timer.capture``, inline: a frozen Timer per request costs.
        clock = self.parts.clock
        sent_at, wall_start = clock.now(), time.time()
        try:
            raw = await send_capped(self.transport, request, cap, keep_partial=True)
            status: int | None = raw.status
            headers, body, error = strip_secrets(raw.headers), raw.body, None
        except TransportError as exc:
            status, headers, body, error = None, (), b"", str(exc)
            self._cannot_connect(platform, request, error)
        except BodyTooLarge as exc:
            status, headers, body = exc.status, strip_secrets(exc.headers), exc.partial
            declared = f", Content-Length {exc.declared:,}" if exc.declared is not None else ""
            error = f"{TOO_LARGE}: over the {cap:,}-byte cap{declared}; cut there"
        received = time.time()
        capture = Capture(
            request=request,
            status=status,
            headers=headers,
            body=body,
            fetched_at=clock.now(),
            received_at=received,
            elapsed=received - wall_start,
            error=error,
            sent_at=sent_at,
        )
        if status == 429:
            wait = retry_after_seconds(capture) or 1.0
            self.parts.budgets.bucket(platform).pause_until(
                capture.fetched_at + self.parts.platform_seconds(wait)
            )
        return capture

    async def fetch_following(
        self,
        request: Request,
        platform: str,
        *,
        post: PostState | None = None,
        target: TargetState | None = None,
    ) -> tuple[Capture, int]:
        """``fetch``, then the redirects the adapter allows. Returns the last answer and how
        many hops led to it."""
        cap = self.check_cap if target is None else self.listing_cap
        capture = await self.fetch(request, platform, cap)
        hops = 0
        if capture.status not in REDIRECT_STATUSES:
            return capture, hops
        policy = redirect_policy(self.parts.adapters[platform])
        base_url = self.parts.study.base_url(platform)
        while capture.status in REDIRECT_STATUSES:
            follow, why = next_hop(capture, policy, base_url) if hops < MAX_HOPS else (None, "")
            if why == "followed":  # else the answer itself is the check's or listing's
                self._record_hop(capture, platform, post, target)
            if follow is None:
                break
            await self.parts.budgets.bucket(platform).acquire()
            hops += 1
            capture = await self.fetch(follow, platform, cap)
        if hops and capture.status in REDIRECT_STATUSES:
            capture = replace(capture, error=f"more than {MAX_HOPS} redirects", status=None)
        return capture, hops

    def _record_hop(
        self,
        capture: Capture,
        platform: str,
        post: PostState | None,
        target: TargetState | None,
    ) -> None:
        """A redirect, as its own observation: never a removal, never another post's answer."""
        location = capture.header("Location") or ""
        if post is not None:
            post.checks += 1
        self.parts.recorder.observe(
            capture,
            kind="check" if post is not None else "discover",
            status=Status.UNREACHABLE,
            platform=platform,
            post=post,
            target_pk=target.pk if target is not None else None,
            code=f"redirect_{capture.status}",
            detail=f"{capture.status} redirect to {location}, followed",
        )

    def _cannot_connect(self, platform: str, request: Request, error: str) -> None:
        if platform in self._unreachable_platforms or not _is_connection_failure(error):
            return
        self._unreachable_platforms.add(platform)
        if self.on_problem is not None:
            self.on_problem(
                f"{platform}: cannot connect to {_origin(request.url)} ({error}). If that is "
                f"not the platform's address, set it: memoryhole watch {platform}:… "
                f"--base-url URL, or [platforms.{platform}] base_url in memoryhole.toml"
            )


def _is_connection_failure(error: str) -> bool:
    lowered = error.lower()
    return any(words in lowered for words in _CONNECTION_FAILURES)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
