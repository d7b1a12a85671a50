"""``memoryhole bench isolate``: how exactly, and with how few probes, rules are isolated.

Texts of about 100 characters are cut from real Chinese text (the shipped reviews corpus) and
0–3 rules are planted in each (single keywords and combinations of 2–4 components, some of
them overlapping). The rules are generated from the corpus's own words, so that results are not
tuned to one list (``--rules FILE`` gives a list in Citizen Lab's format instead). Every text
is served through the simulator's filtered Weibo search (``sim/search_filter.py``), with a
share of wrong answers (``--noise``), and isolated by two methods in the same run:

- ``memoryhole``: ``isolate/search.py`` (galloping component starts, every rule of a text in
  one run, votes where an answer decides the result when answers may be wrong), with the rules
  found in the texts before tried first, as a study does; ``memoryhole-cold``: the same with
  no memory (every text as if it were the study's first);
- ``bisection``: component-aware bisection as Xiong & Knockel (FOCI 2019) describe it, written
  from that description: a binary search for each component's end and for its start, one
  rule per run (the found rule's component cut out of the text, and the text probed again),
  the rule verified (alone filtered, without any one component not), every answer trusted.

Figures per method: rules recovered exactly, false rules (any found rule that is not a planted
one, or a planted one found with other components), probes per text and per rule. The bound
the issue names: locating one keyword among ~100 positions takes about log2(100·4) ≈ 9 answers
(end and length), a two-part rule about twice that.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from memoryhole.clock import VirtualClock
from memoryhole.isolate.oracle import Judge, Oracle
from memoryhole.isolate.probing import PlatformOracle
from memoryhole.isolate.rules import Rule
from memoryhole.isolate.search import Matching, isolate
from memoryhole.platforms.weibo_probe import SEPARATOR
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.search_filter import SearchFilter

BASE_URL = "http://simulator.invalid"
TEXT_LENGTH = 100


@dataclass
class MethodFigures:
    name: str
    planted: int = 0
    recovered: int = 0
    false_rules: int = 0
    probes: int = 0
    texts: int = 0
    incomplete: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.name,
            "planted": self.planted,
            "recovered": self.recovered,
            "recovered_share": self.recovered / self.planted if self.planted else 1.0,
            "false_rules": self.false_rules,
            "probes_per_text": self.probes / self.texts if self.texts else 0.0,
            "probes_per_rule": self.probes / self.planted if self.planted else 0.0,
            "incomplete": self.incomplete,
        }


@dataclass
class Workload:
    rules: list[Rule]
    texts: list[tuple[str, list[Rule]]] = field(default_factory=list)


def corpus() -> list[str]:
    data = resources.files("memoryhole.sim").joinpath("data/reviews.txt")
    return [line.strip() for line in data.read_text(encoding="utf-8").splitlines() if line]


def generated_rules(lines: Sequence[str], count: int, rng: random.Random) -> list[Rule]:
    """Rules from the corpus's own words (jieba): half single keywords, the rest 2–4 parts,
    a tenth of them with overlapping components (``ABC`` and ``BCD``)."""
    import jieba

    words = sorted(
        {w for line in lines for w in jieba.lcut(line) if 2 <= len(w) <= 4 and w.isalpha()}
    )
    rules: set[Rule] = set()
    while len(rules) < count:
        roll = rng.random()
        if roll < 0.5:
            rules.add(Rule.of([rng.choice(words)]))
        elif roll < 0.6:
            word = rng.choice([w for w in words if len(w) == 4] or words)
            rules.add(Rule.of([word[:3], word[1:]]) if len(word) == 4 else Rule.of([word]))
        else:
            rules.add(Rule.of(rng.sample(words, rng.randint(2, 4))))
    return sorted(rules)


def minimal(rules: Sequence[Rule]) -> list[Rule]:
    """Leave out rules that another triggered rule makes unobservable (its superset)."""
    keep = []
    for rule in rules:
        parts = set(rule.components)
        if not any(
            other != rule
            and all(any(o in p for p in parts) for o in other.components)
            and len(other.components) <= len(parts)
            for other in rules
        ):
            keep.append(rule)
    return keep


def build(rules: list[Rule], texts: int, rng: random.Random, lines: Sequence[str]) -> Workload:
    work = Workload(rules)
    flat = "".join(lines)
    while len(work.texts) < texts:
        start = rng.randrange(0, len(flat) - TEXT_LENGTH)
        base = flat[start : start + TEXT_LENGTH]
        if any(rule.matches([base]) for rule in rules):
            continue
        chars = list(base)
        for rule in rng.sample(rules, rng.randint(0, 3)):
            floor = 0  # an ordered rule's parts go in its order
            for part in rule.components:
                at = rng.randrange(floor if rule.ordered else 0, len(chars) + 1)
                chars[at:at] = list(part)
                floor = at + len(part)
        text = "".join(chars).replace(SEPARATOR, "，")
        truth = minimal([rule for rule in rules if rule.matches([text])])
        work.texts.append((text, truth))
    return work


async def bisection(text: str, oracle: Oracle) -> list[Rule]:
    """Component-aware bisection, one rule per run (see the module's docstring)."""
    found: list[Rule] = []
    current = [text]
    for _ in range(10):
        if not await oracle.filtered(tuple(current)):
            return found
        parts: list[str] = []
        whole = SEPARATOR.join(current)
        limit = len(whole)
        while True:
            low, high = 0, limit
            while high - low > 1:
                middle = (low + high) // 2
                probe = (*_split(whole[:middle]), *parts)
                if await oracle.filtered(probe):
                    high = middle
                else:
                    low = middle
            end = high
            low, high = 0, end  # the largest start that keeps it filtered
            while high - low > 1:
                middle = (low + high) // 2
                probe = (*_split(whole[:middle]), whole[middle:end], *parts)
                if await oracle.filtered(probe):
                    low = middle
                else:
                    high = middle
            if end - low < 1 or end <= 1:
                return found  # a wrong answer led nowhere: this run gives up
            parts.append(whole[low:end])
            if await oracle.filtered(tuple(parts)) or len(parts) >= 8:
                break
            limit = end - 1
        rule = Rule.of(parts)
        if not await oracle.filtered(rule.components):
            return found
        for left_out in rule.components:
            rest = tuple(p for p in rule.components if p != left_out)
            if rest and await oracle.filtered(rest):
                return found
        found.append(rule)
        current = _split(whole.replace(rule.components[0], SEPARATOR))
    return found


def _split(text: str) -> list[str]:
    return [part for part in text.split(SEPARATOR) if part]


def _oracle(rules: Sequence[Rule], noise: float, seed: int) -> PlatformOracle:
    clock = VirtualClock(0.0)
    platform = SimPlatform([], clock, "weibo")
    platform.search_filter = SearchFilter(hard=rules, noise=noise, seed=seed)
    return PlatformOracle(InProcessTransport(platform), BASE_URL, clock, rate=1e9, retry_wait=0.0)


def score(figures: MethodFigures, truth: Sequence[Rule], found: Sequence[Rule]) -> None:
    figures.texts += 1
    figures.planted += len(truth)
    figures.recovered += len(set(truth) & set(found))
    figures.false_rules += len(set(found) - set(truth))


async def _run(work: Workload, noise: float, seed: int) -> list[MethodFigures]:
    learning, cold = MethodFigures("memoryhole"), MethodFigures("memoryhole-cold")
    theirs = MethodFigures("bisection")
    known: list[Rule] = []  # what a study has found so far: tried first in the next text
    matching = Matching()  # and what it has learned of the platform's matching
    for index, (text, truth) in enumerate(work.texts):
        for figures, memory in ((learning, known), (cold, [])):
            oracle = _oracle(work.rules, noise, seed + index)
            result = await isolate(
                text,
                Judge(oracle, votes=3 if noise else 1),
                known=memory,
                matching=matching if memory is known else Matching(),
            )
            found = [f.rule for f in result.rules]
            score(figures, truth, found)
            figures.probes += oracle.probes
            figures.incomplete += not result.complete
            if memory is known:
                known.extend(rule for rule in found if rule not in known)
        oracle = _oracle(work.rules, noise, seed + index)
        score(theirs, truth, await bisection(text, oracle))
        theirs.probes += oracle.probes
    return [learning, cold, theirs]


def run_isolate_bench(
    *,
    texts: int,
    seed: int,
    noises: Sequence[float],
    rules: list[Rule] | None = None,
    ordered: bool = False,
) -> dict[str, Any]:
    """``ordered``: the simulated platform matches each rule's components in order only (in
    the list's order; texts plant them in that order; the bisection, as published, assumes
    unordered matching)."""
    rng = random.Random(seed)
    lines = corpus()
    chosen = rules if rules is not None else generated_rules(lines, 400, rng)
    if ordered:
        chosen = [Rule.of(r.components, ordered=len(r.components) > 1) for r in chosen]
    work = build(chosen, texts, rng, lines)
    out: dict[str, Any] = {
        "texts": texts,
        "seed": seed,
        "rules_in_list": len(chosen),
        "matching": "ordered" if ordered else "unordered",
        "runs": [],
    }
    for noise in noises:
        for figures in asyncio.run(_run(work, noise, seed)):
            out["runs"].append({"noise": noise, **figures.as_dict()})
    out["bound_one_keyword"] = math.log2(TEXT_LENGTH * 4)
    return out
