"""Isolating every keyword rule a text triggers, with as few probes as it takes.

The text is probed as *views*: its characters, split into fragments at chosen points (a
separator the platform does not read across) and with some characters left out. A view is
filtered when some rule has every component inside one of its fragments.

One rule at a time (``_find_one``), from a filtered view:

1. the shortest prefix of the view that is still filtered (binary search) ends where the last
   component of some rule ends;
2. that component's start: the shortest tail ending there that, as a fragment of its own,
   keeps the probe filtered, found by galloping from two characters (keywords are short: two
   to four probes, where a binary search over the text takes seven);
3. the components found so far, alone, filtered? Then the rule is complete; else its other
   components lie before the last one: repeat 1–2 there, with the found ones kept as fragments;
4. verified: the rule alone is filtered, and without any one component it is not (a voted
   answer each, when answers may be wrong).

Then the rule is *neutralised* in the view (every occurrence of one component split, or a
one-character component left out) and the search goes on while the view is still filtered.
Rules already known (found in the study, or imported) are tried first: a text holding a known
rule costs one probe for it. A rule hidden by a neutralising split (its component crossed the
split point) is looked for once more with the rules split elsewhere.

Components are kept in the text's order in every probe, so the search works on a platform
whose matching is ordered too. Whether it is (``Matching``) is asked once, of the first rule
with several components (its components in reverse order: still filtered, the matching is
unordered), and remembered for the rest of the study.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from memoryhole.isolate.oracle import Judge, OutOfBudget
from memoryhole.isolate.rules import Rule

MAX_COMPONENTS = 8
ALTERNATES = (False, True)
Span = tuple[int, int]


@dataclass
class FoundRule:
    rule: Rule
    probes: int  # spent on finding and verifying it
    known: bool = False  # tried first because the study (or a list) knew it

    def as_dict(self) -> dict[str, object]:
        return {
            "components": list(self.rule.components),
            "ordered": self.rule.ordered,
            "probes": self.probes,
            "known": self.known,
        }


@dataclass
class Matching:
    """What is known of the platform's matching: ``ordered`` None until a rule with several
    components has been tested (then every such rule is read that way)."""

    ordered: bool | None = None


@dataclass
class Isolation:
    rules: list[FoundRule] = field(default_factory=list)
    probes: int = 0
    complete: bool = True  # False: the budget ran out, or a rule could not be verified
    problems: list[str] = field(default_factory=list)
    #: Known rules whose components the text holds but which no longer trigger.
    lapsed: list[Rule] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "rules": [found.as_dict() for found in self.rules],
            "probes": self.probes,
            "complete": self.complete,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class View:
    """The text split at ``cuts`` (a cut at p separates text[p-1] and text[p]), without the
    characters at ``gone``."""

    text: str
    cuts: frozenset[int] = frozenset()
    gone: frozenset[int] = frozenset()

    def spans(self, start: int = 0, end: int | None = None) -> list[Span]:
        end = len(self.text) if end is None else end
        spans: list[Span] = []
        begin = None
        for at in range(start, end):
            if at in self.gone or (at in self.cuts and begin is not None):
                if begin is not None:
                    spans.append((begin, at))
                begin = None if at in self.gone else at
                continue
            if begin is None:
                begin = at
        if begin is not None:
            spans.append((begin, end))
        return spans

    def fragments(self, start: int = 0, end: int | None = None) -> list[str]:
        return [self.text[s:e] for s, e in self.spans(start, end)]

    def positions(self) -> list[int]:
        return [at for at in range(len(self.text)) if at not in self.gone]

    def without(self, rule: Rule, alternate: bool = False) -> View:
        """This view with ``rule`` unable to match: one of its components split (or left
        out, if one character long) at every occurrence."""
        parts = sorted(rule.components, key=len, reverse=not alternate)
        part = parts[0]
        cuts, gone = set(self.cuts), set(self.gone)
        at = self.text.find(part)
        while at >= 0:
            if len(part) == 1:
                gone.add(at)
            else:
                middle = len(part) // 2 + (1 if alternate and len(part) > 2 else 0)
                cuts.add(at + min(middle, len(part) - 1))
            at = self.text.find(part, at + 1)
        return View(self.text, frozenset(cuts), frozenset(gone))


async def isolate(
    text: str,
    judge: Judge,
    *,
    known: Iterable[Rule] = (),
    max_rules: int = 50,
    matching: Matching | None = None,
) -> Isolation:
    """Every rule ``text`` triggers (as far as the budget goes). ``matching``: what is known
    of the platform's matching (learned here when unknown; pass the same one to later runs)."""
    matching = Matching() if matching is None else matching
    result = Isolation()
    started = judge.probes
    view = View(text)
    try:
        if not await judge.ask(view.fragments(), decisive=True):
            result.probes = judge.probes - started
            return result
        for old in known:
            if old.matches([text]):  # an ordered rule: its parts in its order
                before = judge.probes
                if await judge.ask(old.components, final=True):
                    result.rules.append(FoundRule(old, judge.probes - before, known=True))
                    view = view.without(old)
                else:
                    result.lapsed.append(old)
        for alternate in ALTERNATES:
            if alternate:
                if not result.rules:
                    break
                view = View(text)
                for found in result.rules:
                    view = view.without(found.rule, alternate=True)
            clear = 0  # a prefix of the view this long is known not to be filtered
            while len(result.rules) < max_rules and await judge.ask(
                view.fragments(), decisive=True
            ):
                before = judge.probes
                rule, first_end = await _find_verified(view, judge, matching, clear)
                if rule is None:
                    result.complete = False
                    result.problems.append("a filtered view whose rule could not be verified")
                    break
                if any(found.rule == rule for found in result.rules):
                    result.complete = False
                    result.problems.append(f"{rule} found again: left as it is")
                    break
                result.rules.append(FoundRule(rule, judge.probes - before))
                view = view.without(rule, alternate=alternate)
                # No rule ends before the one found did (its prefix search said so), and
                # neutralising a rule only takes away: the next search starts there.
                clear = max(clear, first_end - 1)
    except OutOfBudget as exc:
        result.complete = False
        result.problems.append(str(exc))
    result.probes = judge.probes - started
    return result


async def _find_verified(
    view: View, judge: Judge, matching: Matching, clear: int = 0
) -> tuple[Rule | None, int]:
    """One rule of a filtered view and where its first prefix search ended; searched again
    with every answer voted when its verification fails (a wrong answer misled the search)."""
    for attempt in range(2):
        rule, end = await _find_one(
            view, judge, decisive=attempt > 0, clear=0 if attempt else clear
        )
        if rule is not None and await _verified(rule, judge):
            return await _settle_order(rule, judge, matching), end
        judge.forget()
        if judge.votes == 1:
            break
    return None, 0


async def _settle_order(rule: Rule, judge: Judge, matching: Matching) -> Rule:
    """The rule found (components in the text's order) as the platform matches it."""
    if len(rule.components) < 2:
        return Rule.of(rule.components)
    if matching.ordered is None:
        reverse = tuple(reversed(rule.components))
        matching.ordered = not await judge.ask(reverse, final=True)
    return Rule.of(rule.components, ordered=matching.ordered)


async def _verified(rule: Rule, judge: Judge) -> bool:
    """The rule alone is filtered; without any one component it is not; and, where answers
    may be wrong, no component is filtered with its first or last character cut off (with
    exact answers the search itself made each component as short as it can be)."""
    if not await judge.ask(rule.components, final=True):
        return False
    for left_out in rule.components:
        rest = tuple(part for part in rule.components if part != left_out)
        if rest and await judge.ask(rest, final=True):
            return False
        if judge.votes > 1 and len(left_out) > 1:
            for shorter in (left_out[1:], left_out[:-1]):
                if await judge.ask((*rest, shorter), final=True):
                    return False
    return True


async def _find_one(
    view: View, judge: Judge, *, decisive: bool, clear: int = 0
) -> tuple[Rule | None, int]:
    """One rule of a filtered view, unverified (its components in the text's order), and where
    its first prefix search ended."""
    text = view.text
    parts: list[str] = []  # in the text's order: the search finds the last one first
    limit = len(text)
    first_end = 0
    for _ in range(MAX_COMPONENTS):
        end = await _shortest_prefix(view, judge, limit, parts, decisive, 0 if parts else clear)
        first_end = first_end or end
        start = await _component_start(view, judge, end, parts, decisive)
        before = view.fragments(0, start)  # where the rule's other parts may still be
        parts[:0] = await _pieces(text[start:end], before, parts, judge, decisive)
        if await judge.ask(parts, decisive=decisive):
            return Rule.of(parts, ordered=True), first_end
        limit = end - 1  # the others end before (a component may overlap this one)
        if limit <= 0:
            break
    return None, first_end


async def _pieces(
    component: str, before: Sequence[str], after: Sequence[str], judge: Judge, decisive: bool
) -> list[str]:
    """A component found as one string may be two that overlap or touch (``什么世`` and
    ``么世道`` found as ``什么世道``): if its two one-shorter ends, as fragments of their own,
    still trigger, it is those two pieces, each as short as it can be. ``before`` and
    ``after``: the probe's other fragments, kept on their side of it."""
    if len(component) < 3 or not await judge.ask(
        [*before, component[:-1], component[1:], *after], decisive=decisive
    ):
        return [component]
    low, high = 0, len(component) - 1  # the shortest head that still triggers with the tail
    while high - low > 1:
        middle = (low + high) // 2
        if await judge.ask([*before, component[:middle], component[1:], *after], decisive=decisive):
            high = middle
        else:
            low = middle
    head = component[:high]
    low, high = 1, len(component)  # the shortest tail that triggers with that head
    while high - low > 1:
        middle = (low + high) // 2
        if await judge.ask([*before, head, component[middle:], *after], decisive=decisive):
            low = middle
        else:
            high = middle
    return [head, component[low:]]


async def _shortest_prefix(
    view: View, judge: Judge, limit: int, parts: Sequence[str], decisive: bool, clear: int = 0
) -> int:
    """The smallest ``end`` such that the view's part before ``end``, with ``parts`` as
    fragments of their own, is filtered (binary search). The whole of it is taken to be (the
    view was, and ``parts`` came from its end): if it was not, the search ends at ``limit``
    and the rule fails its verification."""
    # filtered(low) is False (``parts`` alone were not, or ``clear`` is known), filtered(high)
    low, high = min(clear, limit - 1), limit
    while high - low > 1:
        middle = (low + high) // 2
        if await judge.ask([*view.fragments(0, middle), *parts], decisive=decisive):
            high = middle
        else:
            low = middle
    return high


async def _component_start(
    view: View, judge: Judge, end: int, parts: Sequence[str], decisive: bool
) -> int:
    """The start of the component that ends at ``end``: the largest ``start`` such that
    ``text[start:end]`` as a fragment of its own keeps the probe filtered; galloping from two
    characters back, never across a cut or a left-out character."""
    floor = next((s for s, e in view.spans(0, end) if s < end <= e), None)
    if floor is None:  # ``end`` follows a left-out character: a wrong answer led here
        return max(0, end - 1)

    async def keeps(start: int) -> bool:
        probe = [*view.fragments(0, start), view.text[start:end], *parts]
        return await judge.ask(probe, decisive=decisive)

    good, bad = floor, end  # keeps(floor) holds: the whole span, as before
    length = 2
    while end - length > floor:
        if await keeps(end - length):
            good = end - length
            break
        bad = end - length
        length *= 2
    while bad - good > 1:
        middle = (good + bad) // 2
        if await keeps(middle):
            good = middle
        else:
            bad = middle
    return good
