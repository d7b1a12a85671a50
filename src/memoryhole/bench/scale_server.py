"""The simulator as ``bench scale`` serves it: per-account rate limits and 100–300 ms latency.

``python -m memoryhole.bench.scale_server SCENARIO PORT SPEED RATE``: the Weibo simulator
(``sim.server.SimApp``) behind a wrapper that, for each request, waits a latency drawn
uniformly from 100–300 ms (what a distant platform costs) and refuses past ``RATE`` requests
per wall second *per account* (the ``access_token``, ``Authorization`` or Weibo ``SUB``
cookie the request carries, or its absence: one anonymous account) with 429 and Retry-After,
as a platform rations each account. It counts the refusals it sent (``GET /__sim__/refused``).
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from urllib.parse import parse_qsl

from memoryhole.clock import SystemClock
from memoryhole.scenario import load_scenario
from memoryhole.sim.ratelimit import RefusingBucket
from memoryhole.sim.server import HTML, Receive, Scope, Send, SimApp

LATENCY = (0.1, 0.3)


class RationedApp:
    def __init__(self, inner: SimApp, rate: float, seed: int = 0) -> None:
        self.inner, self.rate = inner, rate
        self.buckets: dict[str, RefusingBucket] = {}
        self.refused = 0
        self.rng = random.Random(seed)

    def _account(self, scope: Scope) -> str:
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        if "access_token" in query:
            return str(query["access_token"])
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                return str(value.decode("latin-1"))
            if name == b"cookie":  # Weibo: the account's SUB session cookie
                for part in value.decode("latin-1").split(";"):
                    key, _, cookie = part.strip().partition("=")
                    if key == "SUB":
                        return str(cookie)
        return "anonymous"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__sim__/"):
            if scope.get("path") == "/__sim__/refused":
                await self.inner._respond(send, 200, b"text/plain", str(self.refused).encode())
                return
            await self.inner(scope, receive, send)
            return
        await asyncio.sleep(self.rng.uniform(*LATENCY))
        account = self._account(scope)
        bucket = self.buckets.get(account)
        if bucket is None:
            bucket = self.buckets[account] = RefusingBucket(self.rate, SystemClock())
        wait = bucket.admit()
        if wait is not None:
            self.refused += 1
            body = b"<html><body><h1>429 Too Many Requests</h1></body></html>"
            await self.inner._respond(
                send, 429, HTML, body, [(b"retry-after", f"{wait:.0f}".encode())]
            )
            return
        await self.inner(scope, receive, send)


def main(argv: list[str]) -> None:
    import uvicorn

    scenario, port, speed, rate = Path(argv[0]), int(argv[1]), float(argv[2]), float(argv[3])
    inner = SimApp.from_posts(load_scenario(scenario), speed=speed)
    inner.platform.media_base = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        RationedApp(inner, rate),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main(sys.argv[1:])
