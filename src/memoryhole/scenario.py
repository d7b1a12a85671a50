"""The scenario format: what a simulated platform publishes and what happens to each post.

A product-side format: ``import scenario`` reads it as ground truth, and the lab (``sim/``,
``bench/``) generates, serves and scores it.

JSONL, one post per line (a public contract, documented in docs/formats.md)::

    {"post_id": str, "author_id": str, "published_at": float, "text": str,
     "removed_at": float | null,
     "removal": "censored" | "author_deleted" | "account_suspended" | null}

Times are epoch seconds. ``account_suspended`` means the author's account is suspended at
``removed_at``: from then on all of that author's posts are gone. Extra keys are allowed and
ignored, except the optional ``edits``: a list of ``[at, new_text]`` pairs, and the optional
``withhold``: a list of ``[at, region]`` pairs, the post withheld from that region (a country
block) from ``at`` on while others still see it, which is not a removal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memoryhole.errors import ScenarioError

REMOVAL_KINDS = ("censored", "author_deleted", "account_suspended")


@dataclass(frozen=True, slots=True)
class ScenarioPost:
    post_id: str
    author_id: str
    published_at: float
    text: str
    removed_at: float | None = None
    removal: str | None = None
    edits: tuple[tuple[float, str], ...] = ()
    withhold: tuple[tuple[float, str], ...] = ()  # (from when, region): a country block

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "post_id": self.post_id,
            "author_id": self.author_id,
            "published_at": self.published_at,
            "text": self.text,
            "removed_at": self.removed_at,
            "removal": self.removal,
        }
        if self.edits:
            record["edits"] = [list(edit) for edit in self.edits]
        if self.withhold:
            record["withhold"] = [list(block) for block in self.withhold]
        return record


def _number(record: dict[str, Any], key: str, path: str, line: int) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(path, line, f"{key!r} must be a finite number (epoch seconds)")
    return float(value)


def parse_scenario_line(raw: str, path: str, line: int) -> ScenarioPost:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ScenarioError(path, line, f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ScenarioError(path, line, "each line must be a JSON object")
    for key in ("post_id", "author_id", "text"):
        if not isinstance(record.get(key), str) or (key != "text" and not record[key]):
            raise ScenarioError(path, line, f"{key!r} must be a non-empty string")
    published = _number(record, "published_at", path, line)
    removal = record.get("removal")
    removed_at: float | None = None
    if removal is not None:
        if removal not in REMOVAL_KINDS:
            raise ScenarioError(
                path, line, f"'removal' must be one of {', '.join(REMOVAL_KINDS)} or null"
            )
        removed_at = _number(record, "removed_at", path, line)
        if removed_at < published:
            raise ScenarioError(path, line, "'removed_at' is before 'published_at'")
    elif record.get("removed_at") is not None:
        raise ScenarioError(path, line, "'removed_at' is set but 'removal' is null")
    edits: list[tuple[float, str]] = []
    for edit in record.get("edits") or ():
        if (
            not isinstance(edit, list)
            or len(edit) != 2
            or isinstance(edit[0], bool)
            or not isinstance(edit[0], int | float)
            or not isinstance(edit[1], str)
        ):
            raise ScenarioError(path, line, "'edits' must be a list of [at, new_text] pairs")
        edits.append((float(edit[0]), edit[1]))
    withhold = _pairs(record.get("withhold"), "withhold", "[at, region]", path, line)
    return ScenarioPost(
        post_id=record["post_id"],
        author_id=record["author_id"],
        published_at=published,
        text=record["text"],
        removed_at=removed_at,
        removal=removal,
        edits=tuple(sorted(edits)),
        withhold=withhold,
    )


def _pairs(
    value: object, key: str, shape: str, path: str, line: int
) -> tuple[tuple[float, str], ...]:
    """``[[at, text], …]`` (``at`` epoch seconds, ``text`` non-empty), sorted by time."""
    if value is not None and not isinstance(value, list):
        raise ScenarioError(path, line, f"{key!r} must be a list of {shape} pairs")
    pairs: list[tuple[float, str]] = []
    for item in value or ():
        if (
            not isinstance(item, list)
            or len(item) != 2
            or isinstance(item[0], bool)
            or not isinstance(item[0], int | float)
            or not math.isfinite(item[0])
            or not isinstance(item[1], str)
            or not item[1]
        ):
            raise ScenarioError(path, line, f"{key!r} must be a list of {shape} pairs")
        pairs.append((float(item[0]), item[1]))
    return tuple(sorted(pairs))


def iter_scenario(path: str | Path) -> Iterator[ScenarioPost]:
    """Stream a scenario file, validating every line; errors name the file and line."""
    name = str(path)
    seen: set[str] = set()
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise ScenarioError(name, None, f"cannot open scenario: {exc.strerror}") from None
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                post = parse_scenario_line(raw, name, number)
                if post.post_id in seen:
                    raise ScenarioError(name, number, f"duplicate post_id {post.post_id!r}")
                seen.add(post.post_id)
                yield post
        except UnicodeDecodeError:
            raise ScenarioError(name, None, "scenario is not UTF-8 text") from None


def load_scenario(path: str | Path) -> list[ScenarioPost]:
    posts = list(iter_scenario(path))
    if not posts:
        raise ScenarioError(str(path), None, "scenario has no posts")
    return posts


def write_scenario(posts: Iterable[ScenarioPost], path: str | Path) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for post in posts:
            handle.write(json.dumps(post.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


def suspension_times(posts: Iterable[ScenarioPost]) -> dict[str, float]:
    """When each suspended author's account was suspended (the earliest such record)."""
    times: dict[str, float] = {}
    for post in posts:
        if post.removal == "account_suspended" and post.removed_at is not None:
            current = times.get(post.author_id)
            times[post.author_id] = (
                post.removed_at if current is None else min(current, post.removed_at)
            )
    return times


def effective_removal(
    post: ScenarioPost, suspended_at: dict[str, float]
) -> tuple[float, str] | None:
    """The first thing that made this post disappear (time, kind), or None if it never did.

    A post of a suspended author vanishes at the suspension even if its own record says
    nothing, and an earlier removal of the post itself wins over a later suspension.
    """
    candidates: list[tuple[float, str]] = []
    if post.removed_at is not None and post.removal is not None:
        candidates.append((post.removed_at, post.removal))
    suspension = suspended_at.get(post.author_id)
    if suspension is not None:
        candidates.append((max(suspension, post.published_at), "account_suspended"))
    return min(candidates) if candidates else None
