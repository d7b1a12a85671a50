"""Isolating keyword rules (isolate/search.py): every rule of a text, exactly, verified; wrong
answers outvoted; known rules first; the budget respected."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest

from memoryhole.isolate.oracle import Fragments, Judge
from memoryhole.isolate.rules import Rule, parse_rules
from memoryhole.isolate.search import Isolation, Matching, View, isolate

TEXT = (
    "今天天气很好我们一起去公园散步然后讨论了法轮功的问题以及六四事件还有其他的东西"
    "比如说天安门广场上的人很多大家都很开心什么世道啊"
)


class ListOracle:
    """Answers from a rule list, wrong with probability ``noise``."""

    def __init__(self, rules: Sequence[Rule], noise: float = 0.0, seed: int = 0) -> None:
        self.rules, self.noise, self.random = rules, noise, random.Random(seed)
        self.probes = 0
        self.asked: list[Fragments] = []

    async def filtered(self, fragments: Fragments) -> bool:
        self.probes += 1
        self.asked.append(fragments)
        answer = any(rule.matches(fragments) for rule in self.rules)
        return not answer if self.random.random() < self.noise else answer


def run(
    text: str,
    rules: Sequence[Rule],
    *,
    noise: float = 0.0,
    seed: int = 0,
    votes: int = 1,
    budget: int | None = None,
    known: Sequence[Rule] = (),
) -> tuple[Isolation, ListOracle]:
    oracle = ListOracle(rules, noise, seed)
    judge = Judge(oracle, votes=votes, budget=budget)
    return asyncio.run(isolate(text, judge, known=known)), oracle


RULES = parse_rules(["法轮功", "六四+天安门", "公园+散步+开心", "什么世+么世道", "无关词"])


def test_every_rule_of_a_text_exactly_in_one_run() -> None:
    result, oracle = run(TEXT, RULES)
    found = {f.rule for f in result.rules}
    assert found == set(RULES) - {Rule.of(["无关词"])}
    assert result.complete and not result.problems
    assert result.probes == oracle.probes
    for found_rule in result.rules:  # verified: alone filtered, without any one part not
        assert found_rule.rule.matches(list(found_rule.rule.components))


def test_overlapping_components_are_two_rule_parts_not_one_word() -> None:
    result, _ = run("那真是什么世道啊", [Rule.of(["什么世", "么世道"])])
    assert [f.rule for f in result.rules] == [Rule.of(["什么世", "么世道"])]


def test_an_unfiltered_text_costs_one_probe() -> None:
    result, oracle = run("今天天气很好", RULES)
    assert result.rules == [] and oracle.probes == 1 and result.complete


def test_known_rules_cost_a_probe_each_and_lapsed_ones_are_said() -> None:
    _, cold = run(TEXT, RULES)
    known = [Rule.of(["法轮功"]), Rule.of(["六四", "天安门"]), Rule.of(["天气", "公园"])]
    result, warm = run(TEXT, RULES, known=known)
    assert {f.rule for f in result.rules} == {f.rule for f in run(TEXT, RULES)[0].rules}
    assert warm.probes < cold.probes - 20
    assert [f.known for f in result.rules].count(True) == 2
    assert result.lapsed == [Rule.of(["天气", "公园"])]


@pytest.mark.parametrize("seed", range(5))
def test_wrong_answers_do_not_make_false_rules(seed: int) -> None:
    result, _ = run(TEXT, RULES, noise=0.03, seed=seed, votes=3)
    assert {f.rule for f in result.rules} <= set(RULES)


def test_the_budget_stops_the_search_and_says_so() -> None:
    result, oracle = run(TEXT, RULES, budget=12)
    assert oracle.probes == 12
    assert not result.complete and any("budget" in p for p in result.problems)


def test_a_neutralised_rule_cannot_match_and_nothing_else_changes() -> None:
    view = View("AB法轮功CD法轮功")
    without = view.without(Rule.of(["法轮功"]))
    assert not Rule.of(["法轮功"]).matches(without.fragments())
    assert "".join(without.fragments()) == "AB法轮功CD法轮功"
    assert View("a六b").without(Rule.of(["六"])).fragments() == ["a", "b"]


def test_rules_in_citizen_labs_format() -> None:
    assert parse_rules(["# comment", "", "A+B", "B + A", "C"]) == [
        Rule.of(["A", "B"]),
        Rule.of(["C"]),
    ]
    assert Rule.of(["A", "B"]).line() == "A+B"
    assert Rule.of(["AB"]).matches(["xABx"]) and not Rule.of(["AB"]).matches(["xA", "Bx"])
    ordered = Rule.of(["B", "A"], ordered=True)
    assert ordered.matches(["B", "A"]) and not ordered.matches(["A", "B"])


ORDERED = parse_rules(["法轮功", "六四+天安门", "公园+散步+开心", "开心+公园"], ordered=True)


def test_on_a_platform_whose_matching_is_ordered_rules_come_back_in_order() -> None:
    # TEXT holds 公园 … 散步 … 开心 in order; 开心 never comes before 公园.
    result, oracle = run(TEXT, ORDERED)
    found = {f.rule for f in result.rules}
    assert found == {
        Rule.of(["法轮功"]),
        Rule.of(["六四", "天安门"], ordered=True),
        Rule.of(["公园", "散步", "开心"], ordered=True),
    }
    assert all(rule.ordered for rule in found if len(rule.components) > 1)
    # Every probe kept the found components in the text's order: no probe had 散步 before 公园.
    for probe in oracle.asked:
        joined = "\x00".join(probe)
        if "公园" in joined and "散步" in joined:
            assert joined.index("公园") < joined.rindex("散步")


def test_the_matching_is_learned_once_and_an_unordered_platform_says_so() -> None:
    matching = Matching()
    oracle = ListOracle(RULES)
    result = asyncio.run(isolate(TEXT, Judge(oracle), matching=matching))
    assert matching.ordered is False
    assert not any(f.rule.ordered for f in result.rules)
    # Asked once, of the first rule with several parts: its parts in reverse text order.
    in_text_order = [
        tuple(sorted(f.rule.components, key=TEXT.index))
        for f in result.rules
        if len(f.rule.components) > 1
    ]
    reversed_asked = [p for p in oracle.asked if tuple(reversed(p)) in in_text_order]
    assert len(in_text_order) == 3 and len(reversed_asked) == 1


def test_a_known_ordered_rule_whose_parts_come_in_the_other_order_is_not_claimed() -> None:
    known = Rule.of(["开心", "公园"], ordered=True)  # TEXT has 公园 before 开心 only
    platform = [known]
    result, _ = run(TEXT, platform, known=[known])
    assert result.rules == []
