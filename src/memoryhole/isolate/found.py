"""The rules a study has found, read back from its evidence log: when each was first and last
confirmed, and the dated changes of the filter list they show. Light to import (no collector):
the dashboard and the report read it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from memoryhole.isolate.rules import Rule
from memoryhole.store.schema import observations, targets
from memoryhole.study import Study

RULE_KIND = "rule"


@dataclass(frozen=True)
class RuleRecord:
    rule: Rule
    first_confirmed: float
    last_confirmed: float
    confirmations: int
    lapsed_at: float | None  # the latest "no longer triggers", if after the last confirmation


def study_rules(study: Study, platform: str | None = None) -> list[RuleRecord]:
    """The rules the study's log states, with when each was first and last confirmed."""
    query = (
        select(observations.c.observed_at, observations.c.facts, targets.c.platform)
        .join(targets, targets.c.id == observations.c.target_pk)
        .where(observations.c.kind == RULE_KIND)
        .order_by(observations.c.id)
    )
    if platform is not None:
        query = query.where(targets.c.platform == platform)
    seen: dict[Rule, list[float | None]] = {}
    counts: dict[Rule, int] = {}
    with study.engine.connect() as connection:
        for at, facts, _ in connection.execute(query):
            stated = json.loads(facts or "{}")
            rule = Rule.of(stated.get("rule", []), ordered=bool(stated.get("ordered")))
            first, last, lapsed = seen.get(rule, [None, None, None])
            if stated.get("triggers", True):
                first = at if first is None else first
                last, lapsed = at, None
                counts[rule] = counts.get(rule, 0) + 1
            else:
                lapsed = at
            seen[rule] = [first, last, lapsed]
    return [
        RuleRecord(rule, first, last, counts[rule], lapsed)
        for rule, (first, last, lapsed) in sorted(seen.items())
        if first is not None and last is not None
    ]


def rule_changes(records: Sequence[RuleRecord]) -> list[tuple[float, str, str]]:
    """The dated changes of the platform's filter list the rules show, oldest first, as
    ``(at, what, rule)``: each rule's first confirmation, and when one stopped triggering."""
    changes = [(r.first_confirmed, "rule first confirmed", str(r.rule)) for r in records]
    changes += [
        (r.lapsed_at, "rule stopped triggering", str(r.rule))
        for r in records
        if r.lapsed_at is not None
    ]
    return sorted(changes)


__all__ = ["RULE_KIND", "RuleRecord", "rule_changes", "study_rules"]
