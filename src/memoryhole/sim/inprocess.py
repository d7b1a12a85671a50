"""A transport that calls the simulator in process: no sockets, no sleeping, deterministic.

Used by virtual-clock replays and benchmarks, it goes through the same ``SimPlatform`` code that
``sim serve`` puts behind HTTP, and injects the same faults (a ``slow`` answer is a timeout here:
virtual time does not wait for it, and the collector treats both alike).
"""

from __future__ import annotations

import random
from urllib.parse import urlsplit

from memoryhole.collect.transport import RawResponse
from memoryhole.collect.vantages import VANTAGE_HEADER
from memoryhole.errors import TransportError
from memoryhole.model import Request
from memoryhole.sim.faults import CAPTCHA_PAGE, SERVER_ERROR_PAGE, FaultSpec, truncated
from memoryhole.sim.platform import Answer, SimPlatform
from memoryhole.sim.ratelimit import RefusingBucket

HTML_HEADERS: tuple[tuple[str, str], ...] = (("content-type", "text/html; charset=utf-8"),)


class InProcessTransport:
    def __init__(
        self,
        platform: SimPlatform,
        *,
        faults: FaultSpec | None = None,
        seed: int = 0,
        rate_limit: float | None = None,
    ) -> None:
        self.platform = platform
        self.faults = faults or FaultSpec()
        self.rng = random.Random(seed)
        self.requests = 0
        self._bucket = RefusingBucket(rate_limit, platform.clock) if rate_limit else None
        self._responses: dict[int, tuple[Answer, RawResponse]] = {}
        self._paths: dict[str, str] = {}  # each URL's path: a few URLs, every request

    @property
    def rate_limited(self) -> bool:
        """Whether the simulator refuses requests over a rate (429 with Retry-After)."""
        return self._bucket is not None

    async def send(self, request: Request) -> RawResponse:
        self.requests += 1
        wait = self._bucket.admit() if self._bucket is not None else None
        if wait is not None:
            headers = (*HTML_HEADERS, ("retry-after", f"{wait:.0f}"))
            return RawResponse(429, headers, b"<html><body>Too Many Requests</body></html>")
        fault = self.faults.draw(self.rng)
        if fault == "reset":
            raise TransportError("connection reset by peer")
        if fault == "slow":
            raise TransportError("timeout")
        if fault == "5xx":
            return RawResponse(502, HTML_HEADERS, SERVER_ERROR_PAGE)
        if fault == "captcha":
            return RawResponse(200, HTML_HEADERS, CAPTCHA_PAGE)
        path = self._paths.get(request.url)
        if path is None:
            if len(self._paths) > 4096:
                self._paths.clear()
            path = self._paths[request.url] = urlsplit(request.url).path
        self.platform.vantage = dict(request.headers).get(VANTAGE_HEADER)
        answer = self.platform.handle(request.method, path, dict(request.params))
        status, headers, body = answer
        if fault == "truncate":
            return RawResponse(status, headers, truncated(body))
        # The simulator answers a check from its cache with the same tuple: wrap each once.
        cached = self._responses.get(id(answer))
        if cached is not None and cached[0] is answer:
            return cached[1]
        raw = RawResponse(status, headers, body)
        if len(self._responses) > 1 << 17:
            self._responses.clear()
        self._responses[id(answer)] = (answer, raw)  # the answer kept: its id is not reused
        return raw

    async def close(self) -> None:
        return None
