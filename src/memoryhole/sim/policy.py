"""The censor policy (TOML): who posts on the simulated platform, and how posts disappear.

``data/default_policy.toml`` is the shipped policy; its comments document every key. Paths in
a policy are relative to the policy file. Every problem raises ``PolicyError`` naming the file
and, where it can be found, the line.
"""

from __future__ import annotations

import math
import random
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from statistics import NormalDist
from typing import Any, NoReturn

from memoryhole.config import parse_duration
from memoryhole.errors import PolicyError

DEFAULT_POLICY_PATH: Path = Path(__file__).parent / "data" / "default_policy.toml"

Where = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Log-normal with this median and log-scale ``sigma``, cut off at ``maximum`` if set."""

    median: float
    sigma: float
    maximum: float | None = None

    def sample(self, rng: random.Random) -> float:
        if self.sigma == 0:
            return self.median
        mu = math.log(self.median)
        while True:  # truncation by rejection: maximum > median, so at least half are kept
            value = rng.lognormvariate(mu, self.sigma)
            if self.maximum is None or value <= self.maximum:
                return value

    def quantile(self, q: float) -> float:
        """The q-quantile (0 < q < 1) of the distribution as sampled, truncation included."""
        if self.sigma == 0:
            return self.median
        normal = NormalDist(math.log(self.median), self.sigma)
        top = 1.0 if self.maximum is None else normal.cdf(math.log(self.maximum))
        return math.exp(normal.inv_cdf(q * top))


@dataclass(frozen=True, slots=True)
class Chance:
    """Each post independently, with probability ``rate``, gets an event ``delay`` after it."""

    rate: float
    delay: LogNormal


@dataclass(frozen=True, slots=True)
class KeywordList:
    """Terms people write and the censor removes; a rule is the parts that must all appear."""

    name: str
    path: Path
    rules: tuple[tuple[str, ...], ...]
    inject: float  # share of posts given one of this list's rules
    remove: float  # probability the censor removes a post matching a rule of this list
    delay: LogNormal  # seconds from publication to removal
    active_from: float | None = None  # the list applies to posts published in this window
    active_until: float | None = None

    def active_at(self, published: float) -> bool:
        return (self.active_from is None or published >= self.active_from) and (
            self.active_until is None or published < self.active_until
        )


@dataclass(frozen=True, slots=True)
class Suspension:
    """``share`` of the authors lose their account, ``delay`` after one of their flagged posts.

    Authors are drawn with weight ``1 + weight_per_flagged_post * flagged posts``.
    """

    share: float
    weight_per_flagged_post: float
    delay: LogNormal


@dataclass(frozen=True, slots=True)
class Policy:
    path: Path
    start: float  # epoch seconds
    duration: float  # seconds of posting
    authors: int
    posts_per_day: LogNormal  # each author's rate, drawn once per author
    texts: tuple[str, ...]  # ordinary traffic, one post per line
    keyword_lists: tuple[KeywordList, ...]
    background: Chance  # removals by the censor that no keyword list explains
    author_deletion: Chance
    suspension: Suspension
    edits: Chance

    @property
    def end(self) -> float:
        return self.start + self.duration


# The censor's delay when a policy gives none: log-normal fitted to Zhu et al. (2013) as the
# project's data README states it, ~30% removed within an hour and ~75% within a day.
ZHU_2013_DELAY = LogNormal(median=4 * 3600.0, sigma=2.65, maximum=30 * 86400.0)
_ABOUT_AN_HOUR = LogNormal(median=3600.0, sigma=1.0)  # other delays a policy leaves out

_LIST_KEYS = (
    *("name", "file", "combinations", "inject", "remove", "delay"),
    *("active_from", "active_until"),
)
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def _dotted(name: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in name.split("."))


def key_lines(text: str) -> dict[Where, int]:
    """Best-effort map from key paths, e.g. ``("keyword_list", 1, "inject")``, to line numbers.

    Arrays of tables count from 0. Only used to place error messages, after TOML parsing has
    succeeded; the first occurrence of a path wins.
    """
    lines: dict[Where, int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    prefix: Where = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = _dotted(header.group(2))
            if header.group(1) == "[[":
                arrays[name] = arrays.get(name, -1) + 1
                prefix = (*name, arrays[name])
            else:
                prefix = name
            lines.setdefault(prefix, number)
            continue
        key = _KEY.match(line)
        if key and not line.lstrip().startswith("#"):
            lines.setdefault((*prefix, *_dotted(key.group(1))), number)
    return lines


class _Source:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = key_lines(text)

    def line(self, where: Where) -> int | None:
        for end in range(len(where), 0, -1):
            if where[:end] in self.lines:
                return self.lines[where[:end]]
        return None

    def fail(self, where: Where, problem: str) -> NoReturn:
        raise PolicyError(str(self.path), self.line(where), problem)


def _name(where: Where) -> str:
    return ".".join(f"[{part}]" if isinstance(part, int) else part for part in where)


class _Table:
    """One TOML table being read: typed getters whose errors point at the key's line."""

    def __init__(
        self, source: _Source, data: Mapping[str, Any], where: Where, keys: tuple[str, ...]
    ) -> None:
        self.source, self.data, self.where = source, data, where
        for key in data:
            if key not in keys:
                self.fail(key, f"unknown key {_name((*where, key))!r}; expected {', '.join(keys)}")

    def fail(self, key: str, problem: str) -> NoReturn:
        self.source.fail((*self.where, key), problem)

    def has(self, key: str) -> bool:
        return key in self.data

    def table(self, key: str, keys: tuple[str, ...]) -> _Table:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, f"{_name((*self.where, key))} must be a table")
        return _Table(self.source, value, (*self.where, key), keys)

    def number(self, key: str, default: float | None = None, *, low: float = 0.0) -> float:
        value = self.data.get(key, default)
        if value is None:
            self.fail(key, f"{_name((*self.where, key))} is missing")
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or number < low:
            self.fail(key, f"{_name((*self.where, key))} must be a number >= {low:g}")
        return float(number)

    def probability(self, key: str, default: float | None = None) -> float:
        value = self.number(key, default)
        if value > 1:
            self.fail(key, f"{_name((*self.where, key))} is a probability: between 0 and 1")
        return value

    def duration(self, key: str, default: float | None = None) -> float:
        value = self.data.get(key, default)
        if value is None:
            self.fail(key, f"{_name((*self.where, key))} is missing")
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            self.fail(key, f"{_name((*self.where, key))}: {exc}")
        if not math.isfinite(seconds):
            self.fail(key, f"{_name((*self.where, key))} must be finite")
        return seconds

    def string(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"{_name((*self.where, key))} must be a non-empty string")
        return value

    def lognormal(
        self, key: str, default: LogNormal | None = None, *, seconds: bool = True
    ) -> LogNormal:
        """``{ median, sigma, max }``; median and max are durations when ``seconds``."""
        if not self.has(key):
            if default is None:
                self.fail(key, f"{_name((*self.where, key))} is missing")
            return default
        spec = self.table(key, ("median", "sigma", "max"))
        median = spec.duration("median") if seconds else spec.number("median")
        if median <= 0:
            spec.fail("median", f"{_name((*spec.where, 'median'))} must be positive")
        sigma = spec.number("sigma")
        maximum = None
        if spec.has("max"):
            maximum = spec.duration("max") if seconds else spec.number("max")
        if maximum is not None and maximum <= median:
            spec.fail("max", f"{_name((*spec.where, 'max'))} must be above the median")
        return LogNormal(median, sigma, maximum)

    def instant(self, key: str, start: float | None = None) -> float:
        """A datetime, date or ISO string; or, given ``start``, a duration after it."""
        value = self.data.get(key)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                if start is None:
                    self.fail(key, f"{_name((*self.where, key))} must be an ISO date or time")
                return start + self.duration(key)
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
        if start is not None:
            return start + self.duration(key)
        return self.number(key)  # epoch seconds


def _read(source: _Source, where: Where, relative: str, what: str) -> list[str]:
    path = source.path.parent / relative
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        source.fail(where, f"cannot read {what} {str(path)!r}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        source.fail(where, f"{what} {str(path)!r} is not UTF-8 text")


def _keyword_list(table: _Table, start: float, censor_delay: LogNormal) -> KeywordList:
    name = table.string("name")
    combinations = table.data.get("combinations", False)
    if not isinstance(combinations, bool):
        table.fail("combinations", "'combinations' must be true or false")
    rules: dict[tuple[str, ...], None] = {}
    for line in _read(table.source, (*table.where, "file"), table.string("file"), "keyword list"):
        parts = tuple(part.strip() for part in (line.split("+") if combinations else [line]))
        if all(parts):
            rules[parts] = None
    if not rules:
        table.fail("file", f"keyword list {name!r} has no keywords")
    active_from = table.instant("active_from", start) if table.has("active_from") else None
    active_until = table.instant("active_until", start) if table.has("active_until") else None
    if active_from is not None and active_until is not None and active_until <= active_from:
        table.fail("active_until", "'active_until' must be after 'active_from'")
    return KeywordList(
        name=name,
        path=table.source.path.parent / table.string("file"),
        rules=tuple(rules),
        inject=table.probability("inject"),
        remove=table.probability("remove"),
        delay=table.lognormal("delay", censor_delay),
        active_from=active_from,
        active_until=active_until,
    )


def _chance(table: _Table, rate_key: str, default_delay: LogNormal) -> Chance:
    return Chance(table.probability(rate_key, 0.0), table.lognormal("delay", default_delay))


def _policy(source: _Source, data: dict[str, Any]) -> Policy:
    sections = ("authors", "text", "censor", "keyword_list", "author_deletion", "suspension")
    top = _Table(source, data, (), ("start", "duration", *sections, "edits"))
    start = top.instant("start")
    duration = top.duration("duration")
    if duration <= 0:
        top.fail("duration", "'duration' must be positive")
    authors = top.table("authors", ("count", "posts_per_day"))
    count = authors.number("count", low=1)
    if count != int(count):
        authors.fail("count", "authors.count must be a whole number")
    text = top.table("text", ("sources",))
    sources = text.data.get("sources")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        text.fail("sources", "text.sources must be a non-empty list of file names")
    lines = [
        line.strip() for s in sources for line in _read(source, ("text", "sources"), s, "text")
    ]
    texts = tuple(dict.fromkeys(line for line in lines if line))
    if not texts:
        text.fail("sources", "the text sources hold no lines")
    censor = top.table("censor", ("background", "delay"))
    censor_delay = censor.lognormal("delay", ZHU_2013_DELAY)
    raw_lists = data.get("keyword_list", [])
    if not isinstance(raw_lists, list):
        top.fail("keyword_list", "keyword lists are written [[keyword_list]]")
    if not all(isinstance(raw, dict) for raw in raw_lists):
        top.fail("keyword_list", "keyword lists are written [[keyword_list]]")
    lists = tuple(
        _keyword_list(_Table(source, raw, ("keyword_list", i), _LIST_KEYS), start, censor_delay)
        for i, raw in enumerate(raw_lists)
    )
    names = [keyword_list.name for keyword_list in lists]
    for i, name in enumerate(names):
        if name in names[:i]:
            source.fail(("keyword_list", i, "name"), f"two keyword lists are named {name!r}")
    suspension = top.table("suspension", ("share", "weight_per_flagged_post", "delay"))
    return Policy(
        path=source.path,
        start=start,
        duration=duration,
        authors=int(count),
        posts_per_day=authors.lognormal("posts_per_day", seconds=False),
        texts=texts,
        keyword_lists=lists,
        background=_chance(censor, "background", censor_delay),
        author_deletion=_chance(
            top.table("author_deletion", ("rate", "delay")), "rate", _ABOUT_AN_HOUR
        ),
        suspension=Suspension(
            share=suspension.probability("share", 0.0),
            weight_per_flagged_post=suspension.number("weight_per_flagged_post", 0.0),
            delay=suspension.lognormal("delay", _ABOUT_AN_HOUR),
        ),
        edits=_chance(top.table("edits", ("rate", "delay")), "rate", _ABOUT_AN_HOUR),
    )


def load_policy(path: str | Path) -> Policy:
    """Read and check a censor policy, with its keyword lists and text sources."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(str(path), None, f"cannot open policy: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(str(path), None, "the policy is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.search(message)
        if where:
            problem = f"not valid TOML: {message[: where.start()]} (column {where.group(2)})"
            raise PolicyError(str(path), int(where.group(1)), problem) from None
        line = max(1, len(text.splitlines())) if "end of document" in message else None
        raise PolicyError(str(path), line, f"not valid TOML: {message}") from None
    return _policy(_Source(path, text), data)
