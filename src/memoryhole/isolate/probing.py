"""Probing a real (or simulated) platform's filter, every probe kept as evidence.

``PlatformOracle`` sends each probe through a transport (``platforms/weibo_probe.py`` builds
the search and reads its answer), waits for the platform's rate budget, asks again after a
transient answer (never an answer itself), checks a soft answer against a control search, and
hands every answer to ``record`` (``memoryhole isolate`` logs each as an observation of kind
``probe`` in the study's evidence log, with the fragments and the answer as its facts).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from memoryhole.clock import Clock
from memoryhole.collect.limiter import TokenBucket
from memoryhole.collect.transport import Transport
from memoryhole.errors import MemoryholeError, TransportError
from memoryhole.isolate.oracle import Fragments
from memoryhole.model import Capture, FilterAnswer, Request
from memoryhole.platforms.weibo_probe import CONTROL_QUERY, parse_probe, probe_request

Record = Callable[[Capture, FilterAnswer, Fragments], None]
RETRIES = 5


class ProbeError(MemoryholeError):
    """The platform kept answering transiently: no answer could be had."""


class PlatformOracle:
    def __init__(
        self,
        transport: Transport,
        base_url: str,
        clock: Clock,
        *,
        rate: float = 1.0,
        record: Record | None = None,
        retry_wait: float = 2.0,
    ) -> None:
        self.transport, self.base_url, self.clock = transport, base_url, clock
        self.bucket = TokenBucket(clock, rate)
        self.record = record
        self.retry_wait = retry_wait
        self.probes = 0
        self.captures: dict[Fragments, Capture] = {}  # the latest answer to each question
        self._control: bool | None = None  # whether the control search looks ordinary

    async def filtered(self, fragments: Fragments) -> bool:
        answer = await self._answer(fragments)
        if answer is FilterAnswer.FILTERED_SOFT:
            if self._control is None:
                control = await self._answer((CONTROL_QUERY,))
                self._control = control is FilterAnswer.NOT_FILTERED
            if not self._control:
                raise ProbeError(
                    "every search shows authorised accounts only, a plain word's too: a soft "
                    "filter cannot be told from the platform's ranking; try again later"
                )
        return answer.filtered

    async def _answer(self, fragments: Fragments) -> FilterAnswer:
        for attempt in range(RETRIES):
            capture = await self._send(probe_request(self.base_url, fragments))
            answer = parse_probe(capture)
            self.probes += 1
            self.captures[fragments] = capture
            if self.record is not None:
                self.record(capture, answer, fragments)
            if answer is not FilterAnswer.TRANSIENT:
                return answer
            await asyncio.sleep(self.retry_wait * 2**attempt if self.retry_wait else 0)
        raise ProbeError(
            f"{RETRIES} transient answers in a row for one probe (timeouts, rate limits, "
            "captchas): the platform is not answering; try again later or lower --rate"
        )

    async def _send(self, request: Request) -> Capture:
        await self.bucket.acquire()
        sent_at, started = self.clock.now(), time.time()
        try:
            raw = await self.transport.send(request)
            status, headers, body, error = raw.status, raw.headers, raw.body, None
        except TransportError as exc:
            status, headers, body, error = None, (), b"", str(exc)
        received = time.time()
        return Capture(
            request=request,
            status=status,
            headers=headers,
            body=body,
            fetched_at=self.clock.now(),
            received_at=received,
            elapsed=received - started,
            error=error,
            sent_at=sent_at,
        )
