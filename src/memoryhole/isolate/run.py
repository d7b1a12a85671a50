"""``memoryhole isolate``: probe a platform's filter for a text's rules, as evidence.

Every probe is an observation of kind ``probe`` in the study's evidence log (its answer's raw
bytes, the fragments and the answer as its facts), under the inactive target
``PLATFORM:probe`` (never polled). Every rule found, or a known rule that no longer triggers,
is an observation of kind ``rule``: the answer to the rule's own probe, with the rule and
``triggers`` as its facts; ``memoryhole rules`` reads those back, so the study's list of rules
is exactly what its log states. Rules the study has found (the latest record of each still
triggering) and rules from ``--known FILE`` are tried first.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import select, update

from memoryhole.clock import Clock, SystemClock
from memoryhole.collect.recorder import StoreRecorder
from memoryhole.collect.transport import AiohttpTransport, Transport
from memoryhole.errors import ConfigError
from memoryhole.isolate.found import RULE_KIND, study_rules
from memoryhole.isolate.oracle import Fragments, Judge
from memoryhole.isolate.probing import PlatformOracle
from memoryhole.isolate.rules import Rule
from memoryhole.isolate.search import Isolation, Matching, isolate
from memoryhole.model import Capture, FilterAnswer, Status, Target
from memoryhole.store.queries import add_targets
from memoryhole.store.schema import targets
from memoryhole.store.state import load_state
from memoryhole.study import Study

PROBE_KIND = "probe"
PLATFORMS = ("weibo",)


def probe_target(study: Study, platform: str) -> int:
    """The inactive target probes hang from (created once)."""
    target = Target(platform, "probe", "")
    add_targets(study.engine, [target], time.time())
    with study.engine.begin() as connection:
        connection.execute(
            update(targets).where(targets.c.spec == target.spec).values(active=False)
        )
        pk = connection.execute(select(targets.c.id).where(targets.c.spec == target.spec)).scalar()
    assert pk is not None
    return int(pk)


async def run_isolation(
    study: Study,
    text: str,
    *,
    platform: str = "weibo",
    budget: int | None = None,
    rate: float = 1.0,
    votes: int = 3,
    known: Sequence[Rule] = (),
    transport: Transport | None = None,
    clock: Clock | None = None,
) -> Isolation:
    if platform not in PLATFORMS:
        raise ConfigError(
            f"no filter oracle for {platform}; isolate works on {', '.join(PLATFORMS)}"
        )
    base_url = study.base_url(platform)
    if base_url is None:
        raise ConfigError(
            f"no base URL for {platform}: pass --base-url (https://m.weibo.cn, or a simulator's)"
        )
    clock = clock or SystemClock()
    own = transport is None
    transport = transport or AiohttpTransport(timeout=study.config.collector.timeout)
    with study.writer_lock():
        target_pk = probe_target(study, platform)
        recorder = StoreRecorder(study, load_state(study.engine), now=clock.now)

        def record(capture: Capture, answer: FilterAnswer, fragments: Fragments) -> None:
            recorder.observe(
                capture,
                kind=PROBE_KIND,
                status=Status.UNREACHABLE if answer is FilterAnswer.TRANSIENT else Status.LIVE,
                platform=platform,
                target_pk=target_pk,
                code=answer.value,
                detail="probe: " + " | ".join(fragments),
                facts={"fragments": list(fragments), "answer": answer.value},
            )

        oracle = PlatformOracle(transport, base_url, clock, rate=rate, record=record)
        remembered = [r.rule for r in study_rules(study, platform) if r.lapsed_at is None]
        tried = list(dict.fromkeys([*remembered, *known]))
        try:
            result = await isolate(
                text,
                Judge(oracle, votes=votes, budget=budget),
                known=tried,
                matching=learned_matching(remembered),
            )
            statements = [(f.rule, True, f.probes) for f in result.rules]
            statements += [(rule, False, 0) for rule in result.lapsed]
            for rule, triggers, probes in statements:
                capture = _capture_of(oracle, rule)
                if capture is None:
                    continue
                recorder.observe(
                    capture,
                    kind=RULE_KIND,
                    status=Status.LIVE,
                    platform=platform,
                    target_pk=target_pk,
                    code="triggers" if triggers else "lapsed",
                    detail=str(rule),
                    facts={
                        "rule": list(rule.components),
                        "ordered": rule.ordered,
                        "triggers": triggers,
                        "probes": probes,
                    },
                )
        finally:
            await recorder.flush(final=True)
            if own:
                await transport.close()
    return result


def learned_matching(rules: Sequence[Rule]) -> Matching:
    """What the study's rules say of the platform's matching: the order of the first rule
    with several components was tested when it was found."""
    several = next((rule for rule in rules if len(rule.components) > 1), None)
    return Matching(None if several is None else several.ordered)


def _capture_of(oracle: PlatformOracle, rule: Rule) -> Capture | None:
    """The answer to the probe of the rule alone (its components asked in any order)."""
    found = oracle.captures.get(rule.components)
    if found is not None or rule.ordered:
        return found
    parts = sorted(rule.components)
    return next((c for key, c in oracle.captures.items() if sorted(key) == parts), None)
