"""The transport seam: one method, ``send``. The collector owns I/O through it.

``AiohttpTransport`` is for live traffic. ``memoryhole.sim.InProcessTransport`` calls the
simulator without sockets (virtual-time replays). ``MockTransport`` answers from a function,
for tests. A transport never raises for an HTTP answer, whatever its status; it raises
``TransportError`` only when no answer arrived (timeout, reset, refused), with a short reason.
It never follows a redirect: a ``3xx`` is the answer (``collect/redirects.py`` decides).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from memoryhole.clock import Clock
from memoryhole.collect.stream_slice import is_stream, read_slice
from memoryhole.errors import TransportError
from memoryhole.model import Capture, Request

#: Headers never kept in captures: they carry the collector's credentials.
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"}
)


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Transport(Protocol):
    async def send(self, request: Request) -> RawResponse: ...

    async def close(self) -> None: ...


class BodyTooLarge(Exception):
    """An answer's body is larger than the caller's cap: it was not (all) read.

    ``declared`` is its Content-Length when it gave one; ``read`` how many bytes were read
    before giving up (0 when the Content-Length alone said so)."""

    def __init__(
        self,
        status: int,
        headers: tuple[tuple[str, str], ...],
        declared: int | None,
        read: int,
        partial: bytes = b"",
    ) -> None:
        super().__init__(f"body larger than the cap (Content-Length {declared}, read {read})")
        self.status = status
        self.headers = headers
        self.declared = declared
        self.read = read
        self.partial = partial  # what was read, up to the cap


async def send_capped(
    transport: Transport, request: Request, max_bytes: int, *, keep_partial: bool = False
) -> RawResponse:
    """``transport.send``, but an answer over ``max_bytes`` raises ``BodyTooLarge`` (with the
    first ``max_bytes`` in ``partial`` if ``keep_partial``).

    A transport with its own ``send_capped`` (``AiohttpTransport``) stops reading at the cap
    (or before, from Content-Length); others hold the body in memory already and are checked
    after the fact."""
    capped = getattr(transport, "send_capped", None)
    if capped is not None:
        raw: RawResponse = await capped(request, max_bytes, keep_partial=keep_partial)
        return raw
    raw = await transport.send(request)
    if len(raw.body) > max_bytes:
        raise BodyTooLarge(raw.status, raw.headers, None, len(raw.body), raw.body[:max_bytes])
    return raw


_stripped: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}


def strip_secrets(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    # Answers repeat the same headers (the Date changes once a second): strip each once.
    kept = _stripped.get(headers)
    if kept is None:
        if len(_stripped) > 4096:
            _stripped.clear()
        kept = _stripped[headers] = tuple(
            (k, v) for k, v in headers if k.lower() not in SECRET_HEADERS
        )
    return kept


class AiohttpTransport:
    """Live HTTP through one pooled aiohttp session."""

    def __init__(
        self, *, timeout: float = 10.0, concurrency: int = 64, proxy: str | None = None
    ) -> None:
        self._proxy = proxy  # an HTTP proxy every request goes through (a vantage point's)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._concurrency, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, auto_decompress=True
            )
        return self._session

    async def send(self, request: Request) -> RawResponse:
        session = self._get_session()
        if is_stream(request):
            return RawResponse(*await read_slice(session, request))
        try:
            async with session.request(
                request.method,
                request.url,
                params=request.params,
                headers=request.headers,
                allow_redirects=False,  # the collector decides (collect/redirects.py)
                proxy=self._proxy,
            ) as response:
                body = await response.read()
                return RawResponse(response.status, tuple(response.headers.items()), body)
        except TimeoutError:
            raise TransportError("timeout") from None
        except aiohttp.ClientPayloadError as exc:
            raise TransportError(f"truncated response ({exc.__class__.__name__})") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"connection error ({exc.__class__.__name__}: {exc})") from None

    async def send_capped(
        self, request: Request, max_bytes: int, *, keep_partial: bool = False
    ) -> RawResponse:
        """Read the body up to ``max_bytes`` (decompressed: a gzip bomb stops there too), then
        drop the connection. ``keep_partial``: read that much even when the Content-Length
        already says it is larger, and hand it over with the error (to be recorded as cut)."""
        session = self._get_session()
        if is_stream(request):
            return RawResponse(*await read_slice(session, request, max_bytes=max_bytes))
        try:
            async with session.request(
                request.method,
                request.url,
                params=request.params,
                headers=request.headers,
                allow_redirects=False,  # the collector decides (collect/redirects.py)
                proxy=self._proxy,
            ) as response:
                headers = tuple(response.headers.items())
                declared = response.content_length
                if declared is not None and declared > max_bytes and not keep_partial:
                    response.close()
                    raise BodyTooLarge(response.status, headers, declared, 0)
                encoding = (response.headers.get("Content-Encoding") or "identity").lower()
                if declared is not None and declared <= max_bytes and encoding == "identity":
                    return RawResponse(response.status, headers, await response.read())
                chunks: list[bytes] = []
                total = 0
                async for chunk in response.content.iter_chunked(1 << 16):
                    total += len(chunk)
                    chunks.append(chunk)
                    if total > max_bytes:
                        response.close()
                        partial = b"".join(chunks)[:max_bytes] if keep_partial else b""
                        raise BodyTooLarge(response.status, headers, declared, total, partial)
                return RawResponse(response.status, headers, b"".join(chunks))
        except TimeoutError:
            raise TransportError("timeout") from None
        except aiohttp.ClientPayloadError as exc:
            raise TransportError(f"truncated response ({exc.__class__.__name__})") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"connection error ({exc.__class__.__name__}: {exc})") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


REDACTED = b"[REDACTED]"


class RedactingTransport:
    """Wraps a transport: the study's tokens never come back in what it returns.

    Credentials go out in request headers only (never in URLs, which are logged). A platform
    that echoes one (an error page quoting the header, a debug header) would otherwise put it
    in a stored body or header; this replaces every occurrence with ``[REDACTED]`` before the
    collector sees the answer, and in transport error messages too.
    """

    def __init__(self, inner: Transport, secrets: list[str]) -> None:
        self.inner = inner
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._raw = [s.encode() for s in self._secrets]

    def redact_text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED.decode())
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        for secret in self._raw:
            if secret in data:
                data = data.replace(secret, REDACTED)
        return data

    async def send(self, request: Request) -> RawResponse:
        try:
            raw = await self.inner.send(request)
        except TransportError as exc:
            raise TransportError(self.redact_text(str(exc))) from None
        return self._redact(raw)

    async def send_capped(
        self, request: Request, max_bytes: int, *, keep_partial: bool = False
    ) -> RawResponse:
        try:
            raw = await send_capped(self.inner, request, max_bytes, keep_partial=keep_partial)
        except TransportError as exc:
            raise TransportError(self.redact_text(str(exc))) from None
        except BodyTooLarge as exc:
            headers = tuple((k, self.redact_text(v)) for k, v in exc.headers)
            partial = self.redact_bytes(exc.partial)
            raise BodyTooLarge(exc.status, headers, exc.declared, exc.read, partial) from None
        return self._redact(raw)

    def _redact(self, raw: RawResponse) -> RawResponse:
        headers = tuple((k, self.redact_text(v)) for k, v in raw.headers)
        return RawResponse(raw.status, headers, self.redact_bytes(raw.body))

    async def close(self) -> None:
        await self.inner.close()


class MockTransport:
    """Answers every request with ``handler(request)``; the handler may raise TransportError."""

    def __init__(self, handler: Callable[[Request], RawResponse]) -> None:
        self._handler = handler

    async def send(self, request: Request) -> RawResponse:
        await asyncio.sleep(0)
        return self._handler(request)

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Timer:
    """When a request went out, on the platform's clock and on the wall."""

    clock: Clock
    sent_at: float
    wall_start: float

    @classmethod
    def start(cls, clock: Clock) -> Timer:
        return cls(clock, clock.now(), time.time())

    def capture(
        self,
        request: Request,
        status: int | None,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        error: str | None,
    ) -> Capture:
        """The answer (or its absence) as captured now."""
        received = time.time()
        return Capture(
            request=request,
            status=status,
            headers=headers,
            body=body,
            fetched_at=self.clock.now(),
            received_at=received,
            elapsed=received - self.wall_start,
            error=error,
            sent_at=self.sent_at,
        )
