"""Logging takedown records as redaction leaves when no collector is running.

The study's writer appends leaves; a running collector logs pending redactions at its next
commit (``collect/recorder.py``). Without one, ``memoryhole takedown`` takes the writer lock
and commits them itself (``StudyLockedError`` when a collector holds it).
"""

from __future__ import annotations

import asyncio
import time

from memoryhole.collect.recorder import StoreRecorder
from memoryhole.errors import StudyLockedError
from memoryhole.evidence.takedown import TakedownResult, pending_redactions, sweep, takedown
from memoryhole.store.state import load_state
from memoryhole.study import Study


async def log_pending_redactions(study: Study) -> int:
    """Log every takedown record not in the log yet; returns how many were."""
    with study.writer_lock():
        recorder = StoreRecorder(study, load_state(study.engine), now=time.time)
        before = recorder.log.size
        await recorder.flush(final=True)
        return recorder.log.size - before


async def take_down(
    study: Study, author: str, *, platform: str, reason: str, wait: float = 30.0
) -> tuple[TakedownResult, int | None]:
    """``evidence.takedown.takedown``, then its redactions logged; None when a collector holds
    the study: then this waits (up to ``wait`` seconds) for it to log them, which it does once
    it has reloaded the deny list, and sweeps what it committed in between (``sweep``)."""
    result = takedown(study, author, platform=platform, reason=reason)
    try:
        return result, await log_pending_redactions(study)
    except StudyLockedError:
        pass
    deadline = time.time() + wait
    while time.time() < deadline and _pending(study):
        await asyncio.sleep(0.2)
    sweep(study, result, reason=reason)
    return result, None


def _pending(study: Study) -> bool:
    with study.engine.connect() as connection:
        return bool(pending_redactions(connection))
