"""Asking again from elsewhere: a post unavailable here may be withheld, not removed.

A study may name vantage points (``[vantages.NAME]`` with a ``region`` and an HTTP ``proxy``).
When a check finds a post unavailable (a removal, or withheld), the same request is sent again
from each vantage, on the platform's budget, each answer logged (kind ``vantage``, never folded
into the verdict by itself). If any vantage sees the post, the check's verdict is ``withheld``
in the regions that did not ("withheld in CN, visible in DE"), never a removal; if none does,
the removal stands, now known to hold everywhere asked ("also gone from DE").

A request carries its vantage in the ``X-Memoryhole-Vantage`` header: ``VantageTransport``
sends it through that vantage's proxy and drops the header; a loopback simulator without a
proxy reads the header to answer as that region would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from memoryhole.collect.transport import AiohttpTransport, RawResponse, Transport, send_capped
from memoryhole.model import Observation, Request, Status, withheld_detail

VANTAGE_HEADER = "X-Memoryhole-Vantage"


@dataclass(frozen=True)
class Vantage:
    name: str
    region: str
    proxy: str | None = None


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
        where = home or "where the study asks from"
        also = [v.region for v, o in seen if not o.status.is_visible and o.status.is_definitive]
        blocked = ", ".join([where, *also]) if also else where
        said = f"visible in {', '.join(visible)}; here: {here.detail or here.status.value}"
        detail = withheld_detail(said, blocked)
        return Observation(Status.WITHHELD, code=here.code or "vantage", detail=detail)
    gone = [v.region for v, o in seen if o.status.is_definitive]
    if not gone:
        return here
    return replace(here, detail=f"{here.detail}; also gone from {', '.join(gone)}")


class VantageTransport:
    """Sends a request marked with a vantage (``via``) through that vantage's proxy, without
    the mark; a vantage without a proxy (a loopback simulator) gets the request as it is, mark
    included, and reads it; unmarked requests go out directly."""

    def __init__(
        self, inner: Transport, vantages: list[Vantage], *, timeout: float, concurrency: int
    ) -> None:
        self.inner = inner
        self.through: dict[str, Transport] = {  # by region
            v.region: AiohttpTransport(timeout=timeout, concurrency=concurrency, proxy=v.proxy)
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


def study_vantages(settings: Mapping[str, Any]) -> list[Vantage]:
    """The study's ``[vantages.NAME]`` (``StudyConfig.vantages``), by name."""
    return [Vantage(name, v.region, v.proxy) for name, v in sorted(settings.items())]
