"""Asking again from elsewhere: a post unavailable here may be withheld, not removed.

A study may name vantage points (``[vantages.NAME]`` with a ``region`` and a ``proxy``:
``http://`` or ``socks5://``, the latter through aiohttp-socks). When a check finds a post
unavailable (a removal, or withheld), the same request is sent again from each vantage, on that
vantage's own budget for the platform (``VantageBudgets``: the platform meters each address on
its own), each answer logged (kind ``vantage``, never folded into the verdict by itself). If
any vantage sees the post, the check's verdict is ``withheld`` in the regions that did not
("withheld in CN, visible in DE"), never a removal; if none does, the removal stands, now known
to hold everywhere asked ("also gone from DE").

A request carries its vantage in the ``X-Memoryhole-Vantage`` header: ``VantageTransport``
sends it through that vantage's proxy and drops the header; a loopback simulator without a
proxy reads the header to answer as that region would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from aiohttp_socks import ProxyConnector, ProxyError

from memoryhole.clock import Clock
from memoryhole.collect.budgets import SharedBucket, SharedBudgets
from memoryhole.collect.limiter import PlatformBudgets, TokenBucket
from memoryhole.collect.transport import AiohttpTransport, RawResponse, Transport, send_capped
from memoryhole.errors import TransportError
from memoryhole.model import Observation, Request, Status, withheld_detail

VANTAGE_HEADER = "X-Memoryhole-Vantage"


@dataclass(frozen=True)
class Vantage:
    name: str
    region: str
    proxy: str | None = None
    budget_per_second: float | None = None  # None: the platform's own budget


_STATED = re.compile(r"^withheld in (.+?): ")


def via(request: Request, vantage: Vantage) -> Request:
    """The same request, asked from ``vantage``."""
    headers = tuple((k, v) for k, v in request.headers if k != VANTAGE_HEADER)
    return replace(request, headers=(*headers, (VANTAGE_HEADER, vantage.region)))


def verdict_across(
    here: Observation, home: str | None, seen: list[tuple[Vantage, Observation]]
) -> Observation:
    """What the check says once every vantage has answered: ``withheld`` where the post was
    not served if some vantage saw it; else ``here`` (a removal), with who else was asked."""
    visible = [v.region for v, o in seen if o.status.is_visible]
    if visible:
        stated = _STATED.match(here.detail) if here.status is Status.WITHHELD else None
        where = home or (stated.group(1) if stated else None)  # else: not known, and not said
        also = [v.region for v, o in seen if not o.status.is_visible and o.status.is_definitive]
        blocked = ", ".join([where, *also] if where else also) or None
        said = f"visible in {', '.join(visible)}; here: {here.detail or here.status.value}"
        detail = withheld_detail(said, blocked)
        return Observation(Status.WITHHELD, code=here.code or "vantage", detail=detail)
    gone = [v.region for v, o in seen if o.status.is_definitive]
    mute = [v.region for v, o in seen if not o.status.is_definitive]
    notes = [f"also gone from {', '.join(gone)}"] if gone else []
    if mute:  # not known there: a later check asks again
        notes.append(f"no answer from {', '.join(mute)}")
    if not notes:
        return here
    return replace(here, detail="; ".join(d for d in (here.detail, *notes) if d))


class VantageTransport:
    """Sends a request marked with a vantage (``via``) through that vantage's proxy, without
    the mark; a vantage without a proxy (a loopback simulator) gets the request as it is, mark
    included, and reads it; unmarked requests go out directly."""

    def __init__(
        self, inner: Transport, vantages: list[Vantage], *, timeout: float, concurrency: int
    ) -> None:
        self.inner = inner
        self.through: dict[str, Transport] = {  # by region
            v.region: proxied(v.proxy, timeout=timeout, concurrency=concurrency)
            for v in vantages
            if v.proxy
        }

    def _route(self, request: Request) -> tuple[Transport, Request]:
        region = dict(request.headers).get(VANTAGE_HEADER)
        through = self.through.get(region) if region else None
        if through is None:
            return self.inner, request
        headers = tuple((k, v) for k, v in request.headers if k != VANTAGE_HEADER)
        return through, replace(request, headers=headers)

    async def send(self, request: Request) -> RawResponse:
        transport, request = self._route(request)
        return await transport.send(request)

    async def send_capped(
        self, request: Request, max_bytes: int, *, keep_partial: bool = False
    ) -> RawResponse:
        transport, request = self._route(request)
        return await send_capped(transport, request, max_bytes, keep_partial=keep_partial)

    async def close(self) -> None:
        await self.inner.close()
        for transport in self.through.values():
            await transport.close()


def proxied(proxy: str, *, timeout: float, concurrency: int) -> Transport:
    """A pooled transport through ``proxy``: aiohttp's own for ``http://``, aiohttp-socks for
    ``socks5://`` (host names resolved by the proxy, in the vantage's country)."""
    if proxy.lower().startswith("socks"):
        return SocksTransport(proxy, timeout=timeout, concurrency=concurrency)
    return AiohttpTransport(timeout=timeout, concurrency=concurrency, proxy=proxy)


class SocksTransport(AiohttpTransport):
    """``AiohttpTransport`` whose every connection goes through a SOCKS proxy."""

    def __init__(self, proxy: str, *, timeout: float, concurrency: int) -> None:
        super().__init__(timeout=timeout, concurrency=concurrency)
        self._socks = proxy

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = ProxyConnector.from_url(self._socks, limit=self._concurrency, rdns=True)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, auto_decompress=True
            )
        return self._session

    async def send(self, request: Request) -> RawResponse:
        try:
            return await super().send(request)
        except ProxyError as exc:  # the proxy refused: transient, like any connection error
            raise TransportError(f"proxy error ({exc})") from None

    async def send_capped(
        self, request: Request, max_bytes: int, *, keep_partial: bool = False
    ) -> RawResponse:
        try:
            return await super().send_capped(request, max_bytes, keep_partial=keep_partial)
        except ProxyError as exc:
            raise TransportError(f"proxy error ({exc})") from None


class VantageBudgets:
    """One token bucket per (vantage, platform): a vantage asks from its own address, which
    the platform meters apart from the study's. Its rate is the vantage's
    ``budget_per_second``, else the platform's; in a shared study (several workers) the bucket
    is the study's, in the database, named ``platform@vantage``."""

    def __init__(self, clock: Clock, platforms: PlatformBudgets) -> None:
        self.clock = clock
        self.platforms = platforms
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def bucket(self, vantage: Vantage, platform: str) -> TokenBucket:
        key = (vantage.name, platform)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = vantage.budget_per_second or self.platforms.rate(platform)
            shared = self.platforms
            if isinstance(shared, SharedBudgets):
                name = f"{platform}@{vantage.name}"
                bucket = SharedBucket(self.clock, rate, shared.engine, name)
            else:
                bucket = TokenBucket(self.clock, rate)
            self._buckets[key] = bucket
        return bucket


def study_vantages(settings: Mapping[str, Any]) -> list[Vantage]:
    """The study's ``[vantages.NAME]`` (``StudyConfig.vantages``), by name."""
    return [
        Vantage(name, v.region, v.proxy, v.budget_per_second)
        for name, v in sorted(settings.items())
    ]
