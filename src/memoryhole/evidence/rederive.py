"""Re-derive a post's verdict from its logged observations (what a verifier trusts).

The verdict the store (or a bundle) claims must follow, by the same state machine the
collector runs (``classify.fold``), from the leaf records alone: the discovery that first
listed the post, then its checks in order. A verdict edited afterwards no longer matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from memoryhole.classify import first_verdict, fold
from memoryhole.model import Observation, Status, Verdict, content_hash


def rederive_verdict(
    first_seen_at: float, text: str | None, checks: Sequence[Mapping[str, Any]]
) -> Verdict:
    """The verdict after ``checks`` (leaf records, in log order) of a post first seen then."""
    verdict = first_verdict(first_seen_at, content_hash(text) if text is not None else None)
    for record in sorted(checks, key=lambda r: int(r["id"])):
        observation = Observation(
            Status(record["status"]),
            content_hash=record["content_hash"],
            code=record["code"],
            detail=record["detail"],
        )
        fold(verdict, observation, float(record["sent_at"]), float(record["observed_at"]))
    return verdict


def verdict_mismatches(claimed: Mapping[str, Any], derived: Verdict) -> list[str]:
    """What differs between a claimed verdict (export fields) and the re-derived one."""
    problems = []
    if claimed["verdict"] != derived.export_value:
        problems.append(
            f"verdict {claimed['verdict']!r} but the log gives {derived.export_value!r}"
        )
    for name in ("last_seen_alive_at", "first_seen_removed_at"):
        value, expected = claimed[name], getattr(derived, name)
        if value != expected:
            problems.append(f"{name} {value} but the log gives {expected}")
    if "edited" in claimed and bool(claimed["edited"]) != derived.edited:
        problems.append(f"edited {bool(claimed['edited'])} but the log gives {derived.edited}")
    return problems
