"""Redirects: never followed silently, never to where the collector must not go.

The transport never follows a redirect (``AiohttpTransport`` sends ``allow_redirects=False``):
a ``3xx`` comes back as the answer it is. The collector then asks ``next_hop`` whether to
follow it. It does so only where the adapter says its answers may move (``Platform.redirects``,
default ``"never"``): ``"same_origin"`` (the platform's own scheme, host and port, or the same
host upgraded to https), or ``"public"`` (an RSS item's page may live on another site). Never to
a non-HTTP URL, and never to a loopback, private, link-local or otherwise reserved address
unless the study's base URL for that platform is one itself (a simulator on this machine).

Each hop is logged as its own observation (its status and ``Location`` kept, status
``unreachable``, code ``redirect_<status>``), so the evidence shows the whole chain; and an
answer reached through a redirect is never a removal and never another post's answer (the
collector turns any removal the adapter reads from it into ``unreachable``).
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urljoin, urlsplit

from memoryhole.model import Capture, Request

MAX_HOPS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
Policy = Literal["never", "same_origin", "public"]


def redirect_policy(adapter: object) -> Policy:
    policy = getattr(adapter, "redirects", "never")
    if policy == "same_origin":
        return "same_origin"
    return "public" if policy == "public" else "never"


def next_hop(capture: Capture, policy: Policy, base_url: str | None) -> tuple[Request | None, str]:
    """The request that follows ``capture``'s redirect, or None; and why (for the log)."""
    if capture.status not in REDIRECT_STATUSES:
        return None, ""
    location = capture.header("Location")
    if not location:
        return None, f"{capture.status} without a Location"
    target = urljoin(capture.request.full_url(), location.strip())
    if policy == "never":
        return None, f"{capture.status} to {target}: this platform's answers are not followed"
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, f"{capture.status} to {target}: not an http(s) URL"
    if is_internal(parts.hostname) and not (base_url and is_internal(_host(base_url))):
        return None, f"{capture.status} to {target}: an internal address"
    if policy == "same_origin" and not same_origin(capture.request.url, target):
        return None, f"{capture.status} to {target}: off the platform's origin"
    return Request(capture.request.method, target, (), capture.request.headers), ""


def same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    if (a.hostname or "").lower() != (b.hostname or "").lower():
        return False
    if a.scheme == b.scheme:
        return _port(a.scheme, a.port) == _port(b.scheme, b.port)
    return a.scheme == "http" and b.scheme == "https" and b.port in (None, 443)  # an upgrade


def is_internal(host: str) -> bool:
    """Loopback, private, link-local, unspecified or reserved: never reached by a redirect."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
        or address.is_reserved
        or address.is_multicast
    )


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)
