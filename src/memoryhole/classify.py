"""The verdict state machine: the only place where observations become verdicts.

Rules (docs/methodology.md explains why):
- UNREACHABLE observations never change a verdict: a timeout, 429, 5xx, captcha page or
  malformed body says nothing about the post.
- A definitive removal answer moves a visible post to that removal kind and fixes the
  interval: ``last_seen_alive_at`` < true removal time <= ``first_seen_removed_at``.
- The first removal kind sticks: a post censored and later hidden by an account suspension
  stays censored (the history records both); ``unknown`` is refined by a specific kind.
- A removed post that is visible again ("ghost" posts) becomes visible again; the removal stays
  in ``history`` and the interval restarts.
- A visible post whose text hash changed is EDITED (still visible; the export says live).
- WITHHELD (served to others, not to this vantage point) is not a removal: a visible post
  becomes withheld with the same interval (``first_seen_removed_at`` is when it was first
  seen withheld); a later removal answer replaces it (the post went everywhere, dated by that
  answer); a withheld answer after a removal changes nothing but the history (a region's
  block does not say the post is back); seen visible again, it is visible again.
"""

from __future__ import annotations

from memoryhole.model import Observation, Status, Verdict


def first_verdict(seen_at: float, content_hash: str | None) -> Verdict:
    return Verdict(
        status=Status.LIVE,
        first_seen_at=seen_at,
        last_seen_alive_at=seen_at,
        content_hash=content_hash,
        history=[(seen_at, Status.LIVE.value)],
    )


def fold(verdict: Verdict, observation: Observation, sent_at: float, answered_at: float) -> bool:
    """Apply one observation; return True when the verdict changed.

    A visible answer is dated ``sent_at`` and a removal ``answered_at``: the platform looked at
    the post somewhere in between, so this keeps the true removal time inside the interval.
    """
    status = observation.status
    if not status.is_definitive:
        return False
    if status.is_visible:
        return _seen_visible(verdict, observation, sent_at)
    return _seen_removed(verdict, observation, answered_at)


def _seen_visible(verdict: Verdict, observation: Observation, at: float) -> bool:
    status = verdict.status
    new_status = status if status.is_visible else Status.LIVE
    seen_hash = observation.content_hash
    if seen_hash is not None:
        if verdict.content_hash is not None and seen_hash != verdict.content_hash:
            new_status = Status.EDITED
            verdict.edited = True
        verdict.content_hash = seen_hash
    if new_status is not status:
        verdict.history.append((at, new_status.value))
        verdict.status = new_status
        verdict.first_seen_removed_at = None
        verdict.signal = "visible again" if verdict.signal else ""
    last = verdict.last_seen_alive_at
    if last is None or at > last:  # max(last, at), without the call
        verdict.last_seen_alive_at = at
    return True


def _seen_removed(verdict: Verdict, observation: Observation, at: float) -> bool:
    status = observation.status
    if verdict.status.is_visible or (
        verdict.status is Status.WITHHELD and status is not Status.WITHHELD
    ):
        verdict.status = status
        verdict.first_seen_removed_at = at
        verdict.signal = observation.detail
        verdict.history.append((at, status.value))
        return True
    if (
        verdict.status is Status.REMOVED_UNKNOWN
        and status.is_removal
        and status is not (Status.REMOVED_UNKNOWN)
    ):
        verdict.status = status
        verdict.signal = observation.detail
        verdict.history.append((at, status.value))
        return True
    if status is not verdict.status and (not verdict.history or verdict.history[-1][1] != status):
        verdict.history.append((at, status.value))
        return True
    return False
