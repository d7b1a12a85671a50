"""Re-derive a post's verdict from its logged observations (what a verifier trusts).

The verdict the store (or a bundle) claims must follow, by the same state machine the
collector runs (``classify.fold``), from the leaf records alone: the discovery that first
listed the post, then its checks in order. A verdict edited afterwards no longer matches.

Imported posts (``memoryhole import``, kind ``import``): the import leaf without a ``seq``
is the post's sighting (like a discovery), those with a ``seq`` are folded like checks. An
import leaf whose ``code`` starts with ``undated:`` records a removal its dataset does not
date: the verdict's ``first_seen_removed_at`` stays empty (the removal lies after
``last_seen_alive_at``; when, the dataset does not say).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from memoryhole.classify import first_verdict, fold
from memoryhole.model import Observation, Status, Verdict, content_hash

#: The code prefix of an import leaf that records a removal its dataset does not date.
UNDATED = "undated:"


def is_post_check(record: Mapping[str, Any]) -> bool:
    """True for a leaf that is folded into its post's verdict: a check, or an import's
    statement about one post (it has a ``seq``)."""
    kind = record.get("kind")
    return kind == "check" or (kind == "import" and record.get("seq") is not None)


def fold_record(verdict: Verdict, record: Mapping[str, Any]) -> bool:
    """Fold one leaf record (a check or an import statement) into ``verdict``."""
    observation = Observation(
        Status(record["status"]),
        content_hash=record["content_hash"],
        code=record["code"],
        detail=record["detail"],
    )
    removed_before = verdict.first_seen_removed_at
    changed = fold(verdict, observation, float(record["sent_at"]), float(record["observed_at"]))
    if (
        record.get("kind") == "import"
        and str(record.get("code") or "").startswith(UNDATED)
        and removed_before is None
    ):
        verdict.first_seen_removed_at = None
    return changed


def rederive_verdict(
    first_seen_at: float, text: str | None, checks: Sequence[Mapping[str, Any]]
) -> Verdict:
    """The verdict after ``checks`` (leaf records, in log order) of a post first seen then."""
    verdict = first_verdict(first_seen_at, content_hash(text) if text is not None else None)
    for record in sorted(checks, key=lambda r: int(r["id"])):
        fold_record(verdict, record)
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


#: What a post's row and a bundle's manifest say of it that its leaves must state too.
FACT_FIELDS = ("published_at", "published_until", "first_seen_at")


def stated_facts(records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """What a post's leaves state of it (leaf format 2: the ``post`` leaf, then the checks that
    made a fact more exact), the later over the earlier; None when no leaf states any (a post
    listed before leaves stated facts)."""
    stated: dict[str, Any] | None = None
    for record in sorted(records, key=lambda r: int(r["id"])):
        facts = record.get("facts")
        if not isinstance(facts, Mapping):
            continue
        if stated is None:
            if record.get("kind") != "post":
                continue  # a refinement of a post whose first facts are not stated
            stated = {}
        stated.update(facts)
    return stated


def facts_mismatches(post: Mapping[str, Any], stated: Mapping[str, Any]) -> list[str]:
    """What differs between a post as the store or a manifest gives it (``author_id``: its
    pseudonym; ``text``: None when withheld) and what its leaves state."""
    from memoryhole.evidence.leaf import author_commitment, text_digest

    problems = []
    author = post.get("author_id")
    if author is not None and author_commitment(str(author)) != stated.get("author"):
        problems.append("its author is not the one the log states")
    for name in FACT_FIELDS:
        if name in post and post.get(name) != stated.get(name):
            problems.append(f"{name} {post.get(name)} but the log states {stated.get(name)}")
    text = post.get("text")
    if text is not None and text_digest(str(text)) != stated.get("text_sha256"):
        problems.append("its text is not the one the log states")
    return problems
