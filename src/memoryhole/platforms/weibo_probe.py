"""Weibo's search as a filter oracle: one probe is one search (``containerid=100103type=1``).

The probed text's fragments are joined by ``SEPARATOR`` (a space, which Weibo's search does
not read a keyword across). The answer is:

- ``filtered``: the filter's notice (``根据相关法律法规和政策，…搜索结果未予显示``), in a card
  of its own or as the page's message;
- ``filtered_soft``: results, all from authorised accounts (``verified_type`` in
  ``AUTHORISED``: government and media), which only counts when a control search of a plain
  word shows ordinary accounts (``memoryhole isolate`` sends that control);
- ``not_filtered``: results from anyone, or none and no notice;
- ``transient``: anything else (an error status, a login or captcha page, a body that is not
  the search's JSON): never an answer.

The notice's wording is the one widely reported for Weibo's search; no captured answer of it is
in the shared real samples yet, so the simulator's shape (``sim/platform.py``) follows this
module, not a recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memoryhole.model import Capture, FilterAnswer, Request
from memoryhole.platforms.base import json_body

SEPARATOR = " "
SEARCH_PREFIX = "100103"
NOTICE_MARKS = ("未予显示", "根据相关法律法规和政策")
#: ``verified_type`` values of government (1) and media (3) accounts.
AUTHORISED = frozenset({1, 3})
#: A word any search finds posts for: the control of a soft filter.
CONTROL_QUERY = "的"


def probe_request(base_url: str, fragments: Sequence[str]) -> Request:
    query = SEPARATOR.join(fragment for fragment in fragments if fragment)
    return Request(
        "GET",
        f"{base_url.rstrip('/')}/api/container/getIndex",
        (("containerid", f"{SEARCH_PREFIX}type=1&q={query}"), ("page_type", "searchall")),
    )


def parse_probe(capture: Capture) -> FilterAnswer:
    if capture.status != 200 or capture.error:
        return FilterAnswer.TRANSIENT
    payload, problem = json_body(capture)
    if problem is not None or not isinstance(payload, dict):
        return FilterAnswer.TRANSIENT
    if any(mark in str(payload.get("msg", "")) for mark in NOTICE_MARKS):
        return FilterAnswer.FILTERED
    data = payload.get("data")
    if payload.get("ok") not in (1, 0) or not isinstance(data, dict):
        return FilterAnswer.TRANSIENT
    cards = data.get("cards")
    if not isinstance(cards, list):
        return FilterAnswer.TRANSIENT
    authors: list[int] = []
    for card in _flatten(cards):
        if any(mark in str(card.get("desc", "")) for mark in NOTICE_MARKS):
            return FilterAnswer.FILTERED
        blog = card.get("mblog")
        if isinstance(blog, dict):
            user = blog.get("user") if isinstance(blog.get("user"), dict) else {}
            kind = user.get("verified_type", -1) if isinstance(user, dict) else -1
            authors.append(kind if isinstance(kind, int) else -1)
    if authors and all(kind in AUTHORISED for kind in authors):
        return FilterAnswer.FILTERED_SOFT
    return FilterAnswer.NOT_FILTERED


def _flatten(cards: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for card in cards:
        if isinstance(card, dict):
            out.append(card)
            group = card.get("card_group")
            if isinstance(group, list):
                out.extend(c for c in group if isinstance(c, dict))
    return out
