"""Probing Weibo's search through the simulator's filter: the answers read as the filter
meant them, every probe and every rule logged as evidence that verifies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select

from memoryhole.clock import VirtualClock
from memoryhole.evidence.verify import verify_study
from memoryhole.isolate.rules import Rule, parse_rules
from memoryhole.isolate.run import run_isolation, study_rules
from memoryhole.model import Capture, FilterAnswer, Request
from memoryhole.platforms.weibo_probe import parse_probe, probe_request
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.search_filter import SearchFilter
from memoryhole.store.schema import observations
from memoryhole.study import Study

BASE = "http://simulator.invalid"


def simulator(hard: list[Rule], soft: list[Rule] = ()) -> SimPlatform:  # type: ignore[assignment]
    platform = SimPlatform([], VirtualClock(0.0), "weibo")
    platform.search_filter = SearchFilter(hard=hard, soft=list(soft))
    return platform


def answer(platform: SimPlatform, *fragments: str) -> FilterAnswer:
    request = probe_request(BASE, fragments)
    raw = asyncio.run(InProcessTransport(platform).send(request))
    return parse_probe(Capture(request, raw.status, raw.headers, raw.body, 0.0, 0.0))


def test_hard_soft_and_plain_answers() -> None:
    platform = simulator([Rule.of(["六四", "天安门"])], [Rule.of(["新疆"])])
    assert answer(platform, "六四", "天安门") is FilterAnswer.FILTERED
    assert answer(platform, "六四天安门") is FilterAnswer.FILTERED
    assert answer(platform, "六", "四天安门") is FilterAnswer.NOT_FILTERED  # never across
    assert answer(platform, "去新疆旅游") is FilterAnswer.FILTERED_SOFT
    assert answer(platform, "旅游") is FilterAnswer.NOT_FILTERED


def test_a_simulated_platform_with_ordered_matching_filters_its_rules_in_order() -> None:
    (rule,) = parse_rules(["天安门+六四"], ordered=True)  # sim serve --ordered-matching
    assert rule.components == ("天安门", "六四") and rule.ordered
    platform = simulator([rule])
    assert answer(platform, "天安门", "六四") is FilterAnswer.FILTERED
    assert answer(platform, "六四", "天安门") is FilterAnswer.NOT_FILTERED
    assert answer(platform, "天安门广场，六四") is FilterAnswer.FILTERED


def test_what_is_not_the_searchs_answer_is_transient() -> None:
    request = Request("GET", BASE)
    for status, body in ((429, b"{}"), (200, b"<html>captcha</html>"), (502, b""), (200, b"{}")):
        capture = Capture(request, status, (), body, 0.0, 0.0)
        assert parse_probe(capture) is FilterAnswer.TRANSIENT
    notice = json.dumps({"ok": 0, "msg": "根据相关法律法规和政策，搜索结果未予显示"}).encode()
    assert parse_probe(Capture(request, 200, (), notice, 0.0, 0.0)) is FilterAnswer.FILTERED


def test_isolation_in_a_study_is_evidence_and_its_rules_are_the_logs(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    study.set_base_url("weibo", BASE)
    rules = [Rule.of(["法轮功"]), Rule.of(["六四", "天安门"])]
    platform = simulator(rules)
    text = "我们讨论了法轮功的问题以及六四事件还有天安门广场"

    def run(**kwargs: object) -> object:
        transport = InProcessTransport(platform)
        clock = VirtualClock(0.0)
        return asyncio.run(
            run_isolation(study, text, rate=1e9, transport=transport, clock=clock, **kwargs)  # type: ignore[arg-type]
        )

    first = run(votes=1)
    assert {f.rule for f in first.rules} == set(rules)  # type: ignore[attr-defined]
    with study.engine.connect() as connection:
        kinds = connection.execute(select(observations.c.kind, observations.c.facts)).all()
    probes = [json.loads(facts) for kind, facts in kinds if kind == "probe"]
    assert len(probes) == first.probes  # type: ignore[attr-defined]
    assert {p["answer"] for p in probes} == {"filtered", "not_filtered"}
    assert {tuple(r.rule.components) for r in study_rules(study)} == {r.components for r in rules}
    report = verify_study(study)
    assert report.success, report.failures

    platform.search_filter = SearchFilter(hard=[Rule.of(["法轮功"])])  # the list changed
    second = run(votes=1)
    assert [f.rule for f in second.rules] == [Rule.of(["法轮功"])]  # type: ignore[attr-defined]
    assert second.probes < first.probes  # type: ignore[attr-defined]
    by_rule = {r.rule: r for r in study_rules(study)}
    assert by_rule[Rule.of(["六四", "天安门"])].lapsed_at is not None
    assert by_rule[Rule.of(["法轮功"])].confirmations == 2
    assert verify_study(study).success
