"""Keyword rules as censors apply them: a set of components, all of which must appear.

A rule is filtered when every component appears in the probed text, each within one
fragment (fragments are joined by a separator the platform does not read across, so two
fragments never merge into a component). ``ordered`` rules need their components in order.
Citizen Lab's list format: one rule a line, components joined by ``+``; ``#`` starts a
comment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from memoryhole.errors import MemoryholeError


@dataclass(frozen=True, order=True)
class Rule:
    components: tuple[str, ...]
    ordered: bool = False

    @classmethod
    def of(cls, components: Iterable[str], *, ordered: bool = False) -> Rule:
        parts = tuple(components)
        if not parts or any(not part for part in parts):
            raise ValueError(f"a rule needs non-empty components, not {parts!r}")
        return cls(parts if ordered else tuple(sorted(set(parts))), ordered)

    def matches(self, fragments: Sequence[str]) -> bool:
        """Whether these fragments trigger the rule."""
        if not self.ordered:
            return all(any(part in fragment for fragment in fragments) for part in self.components)
        text = "\x00".join(fragments)  # order across fragments; never a match across them
        at = 0
        for part in self.components:
            found = text.find(part, at)
            if found < 0:
                return False
            at = found + len(part)
        return True

    def line(self) -> str:
        return "+".join(self.components)

    def __str__(self) -> str:
        return (" → " if self.ordered else " + ").join(self.components)


def parse_rules(lines: Iterable[str], *, ordered: bool = False) -> list[Rule]:
    """Rules in Citizen Lab's format (one a line, components joined by ``+``); ``ordered``:
    for a platform whose matching is ordered, the components in the line's order."""
    rules: list[Rule] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [part.strip() for part in line.split("+")]
        if any(not part for part in parts):
            raise MemoryholeError(f"line {number}: an empty component in {raw.strip()!r}")
        rules.append(Rule.of(parts, ordered=ordered and len(parts) > 1))
    return sorted(set(rules))


def read_rules(path: Path, *, ordered: bool = False) -> list[Rule]:
    try:
        return parse_rules(path.read_text(encoding="utf-8").splitlines(), ordered=ordered)
    except UnicodeDecodeError as exc:
        raise MemoryholeError(f"{path} is not UTF-8 ({exc}); save the list as UTF-8") from None


def triggered(rules: Sequence[Rule], fragments: Sequence[str]) -> list[Rule]:
    return [rule for rule in rules if rule.matches(fragments)]
