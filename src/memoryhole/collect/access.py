"""Asked once, at ``watch``: can the study read each new target, or does it need a token?

An adapter that can tell offers ``access_request(target) -> Request | None`` (None: nothing to
ask) and ``timeline_access(target, capture)``, whose answer has ``complete`` (the listing, polled
with the study's token or without one, shows every post of the target) and ``detail`` (what the
platform says, and what to do). Mastodon does: its instance's ``configuration.timelines_access``
says whether logged-out visitors may read its local, federated and hashtag timelines
(mastodon.social's local and federated timelines are closed to all but its staff).

The answer is advice for the person typing ``watch``: it is not logged as evidence, the target
is watched whatever it says, and no answer (offline, a proxy's page) is said, never an error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memoryhole.collect.transport import AiohttpTransport, BodyTooLarge, send_capped
from memoryhole.errors import MemoryholeError, TransportError
from memoryhole.model import Capture, Request, Target

if TYPE_CHECKING:
    from memoryhole.study import Study

#: An instance description is tens of kilobytes; anything far larger is not one.
MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class AccessNote:
    target: str
    readable: bool  # the platform says the study can read the whole listing as it is set up
    detail: str


def access_notes(study: Study, targets: list[Target], *, timeout: float = 5.0) -> list[AccessNote]:
    """One note per target whose adapter can tell (one request per distinct question)."""
    from memoryhole.collect.runner import build_adapter
    from memoryhole.platforms import registry

    factories = registry.available(study.path)
    notes: list[AccessNote] = []
    answers: dict[str, Capture] = {}
    for target in targets:
        if not hasattr(factories.get(target.platform), "access_request"):
            continue  # this platform's adapter cannot tell
        try:
            adapter: Any = build_adapter(study, target.platform)
        except MemoryholeError as exc:
            notes.append(AccessNote(target.spec, False, f"{target.spec}: not asked ({exc})"))
            continue
        ask = getattr(adapter, "access_request", None)
        request: Request | None = ask(target) if ask is not None else None
        if request is None:
            continue
        key = request.full_url()
        if key not in answers:
            answers[key] = asyncio.run(_ask(request, timeout))
        said = adapter.timeline_access(target, answers[key])
        readable = bool(said.complete) and bool(getattr(said, "known", True))
        notes.append(AccessNote(target.spec, readable, str(said.detail)))
    return notes


async def _ask(request: Request, timeout: float) -> Capture:
    transport = AiohttpTransport(timeout=timeout, concurrency=1)
    try:
        raw = await send_capped(transport, request, MAX_BYTES)
        return Capture(request, raw.status, raw.headers, raw.body, 0.0, 0.0)
    except (TransportError, BodyTooLarge) as exc:
        return Capture(request, None, (), b"", 0.0, 0.0, error=str(exc))
    finally:
        await transport.close()
