"""Asking a platform's filter: one probe is one question, "is this text filtered?".

``Oracle`` is the seam: the lab answers from a rule list (``sim/``), the product through a
platform adapter, the transport and the evidence log (``isolate/probing.py``). A transient
answer (timeout, 429, captcha) is never an answer: the oracle asks again within its budget.
``Judge`` puts answers to use: single answers while searching, and a vote (two of three
agreeing) where an answer decides the result, so that a filter that is sometimes wrong (a
flaky backend, a cache) does not make a false rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from memoryhole.errors import MemoryholeError

Fragments = tuple[str, ...]


class OutOfBudget(MemoryholeError):
    """The probe budget is spent (``--budget``): what was found so far is kept."""


class Oracle(Protocol):
    #: Probes sent so far (transient answers included: each was a request).
    probes: int

    async def filtered(self, fragments: Fragments) -> bool:
        """Whether the platform filters a text made of these fragments."""
        ...


class Judge:
    """Answers for the search: cached per question, and voted on where ``decisive``."""

    def __init__(self, oracle: Oracle, *, votes: int = 1, budget: int | None = None) -> None:
        self.oracle = oracle
        self.votes = votes  # 1: trust every answer; 3: two of three where it decides
        self.budget = budget
        self._answers: dict[Fragments, bool] = {}
        self._voted: dict[Fragments, bool] = {}
        self._weight: dict[Fragments, int] = {}  # the votes each voted answer rests on

    @property
    def probes(self) -> int:
        return self.oracle.probes

    async def ask(
        self, fragments: Sequence[str], *, decisive: bool = False, final: bool = False
    ) -> bool:
        """``decisive``: voted on (when votes are asked for); ``final``: an answer a rule's
        verification rests on, voted on with two more votes (a false rule is the worst
        outcome: it would be published and tried first ever after)."""
        key = tuple(fragment for fragment in fragments if fragment)
        if not key:
            return False
        if (decisive or final) and self.votes > 1:
            return await self._vote(key, self.votes + 2 if final else self.votes)
        known = self._voted.get(key, self._answers.get(key))
        if known is not None:
            return known
        answer = await self._probe(key)
        self._answers[key] = answer
        return answer

    async def _vote(self, key: Fragments, votes: int) -> bool:
        known = self._voted.get(key)
        if known is not None and self._weight.get(key, 0) >= votes:
            return known
        seen = [self._answers[key]] if key in self._answers else []
        need = votes // 2 + 1
        while seen.count(True) < need and seen.count(False) < need:
            seen.append(await self._probe(key))
        answer = seen.count(True) >= need
        self._voted[key] = self._answers[key] = answer
        self._weight[key] = votes
        return answer

    def forget(self) -> None:
        """Drop single answers (after a verification failed: one of them was wrong)."""
        self._answers = dict(self._voted)

    async def _probe(self, key: Fragments) -> bool:
        if self.budget is not None and self.oracle.probes >= self.budget:
            raise OutOfBudget(f"the budget of {self.budget} probes is spent")
        return await self.oracle.filtered(key)
