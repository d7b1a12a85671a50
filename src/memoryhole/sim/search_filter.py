"""The simulator's keyword filter on Weibo's search (``sim serve --search-rules FILE``).

A search whose query triggers a rule (Citizen Lab's list format; the query's fragments are
split at ``platforms.weibo_probe.SEPARATOR``, and no component is matched across them) is
answered, for a *hard* rule, with the filter's notice card and no results; for a *soft* rule,
with results from one authorised (media) account only. ``noise``: the share of searches
answered wrongly (a flaky backend, a cache), drawn from a seeded generator.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from memoryhole.isolate.rules import Rule
from memoryhole.platforms.weibo_probe import SEPARATOR

JSON_HEADERS = (("Content-Type", "application/json; charset=utf-8"),)
Answer = tuple[int, tuple[tuple[str, str], ...], bytes]


@dataclass
class SearchFilter:
    hard: Sequence[Rule] = ()
    soft: Sequence[Rule] = ()
    noise: float = 0.0
    seed: int = 0
    searches: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def answer(self, container: str, query: str) -> Answer | None:
        """The filtered answer to this search, or None to answer it as usual."""
        self.searches += 1
        fragments = [part for part in query.split(SEPARATOR) if part]
        hard = any(rule.matches(fragments) for rule in self.hard)
        soft = not hard and any(rule.matches(fragments) for rule in self.soft)
        if self.noise and self._random.random() < self.noise:
            hard, soft = not (hard or soft), False  # a wrong answer, either way
        if hard:
            return _cards(container, [_notice(query)])
        if soft:
            return _cards(container, [_official(query)])
        return None


def _notice(query: str) -> dict[str, object]:
    return {"card_type": 4, "desc": f"根据相关法律法规和政策，“{query}”搜索结果未予显示。"}


def _official(query: str) -> dict[str, object]:
    user = {"id": 2803301701, "screen_name": "人民日报", "verified": True, "verified_type": 3}
    blog = {"id": "4900000000000001", "mid": "4900000000000001", "text": query, "user": user}
    return {"card_type": 9, "mblog": blog}


def _cards(container: str, cards: list[dict[str, object]]) -> Answer:
    info = {"containerid": container, "v_p": 42, "show_style": 1, "total": len(cards)}
    payload = {"ok": 1, "data": {"cardlistInfo": info, "cards": cards}}
    return 200, JSON_HEADERS, json.dumps(payload, ensure_ascii=False).encode()
