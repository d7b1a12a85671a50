"""A JSON API described in TOML: add a simple platform without writing code.

A description names URL templates for listings and for one post, a small JSONPath-like mapping
for each post's id, text, time, author and media, and *signals*: which HTTP statuses and field
values mean which removal. docs/adapters.md documents the format; ``DEFAULT_CONFIG`` below is a
complete example (it describes the simulator's ``--platform json`` shapes and is the built-in
``json`` platform).

Paths: ``$`` is the answer; ``.name`` or ``['name']`` a key; ``[0]``/``[-1]`` an index; ``[*]``
or ``.*`` every element. A field path that finds nothing leaves the post unread (a listing skips
it; a check is UNREACHABLE).

Safety rules, enforced when a description is loaded: a signal can never match a 429, a 3xx, a
5xx or no answer (those are always UNREACHABLE), and by default a signal on an HTTP status needs
the answer to be JSON too (``any_body = true`` lifts that), so an HTML error page from a proxy
is not mistaken for the platform's answer. An answer no signal matches and that is not a
readable post is UNREACHABLE.

Where descriptions come from: the built-in ``json`` platform uses ``DEFAULT_CONFIG``; every
``*.toml`` file in ``$XDG_CONFIG_HOME/memoryhole/platforms/`` (``~/.config/…`` by default) and
every file or folder listed in ``$MEMORYHOLE_PLATFORMS`` (``os.pathsep``-separated) declares one
more platform, named by its ``name`` key (``memoryhole watch myforum:all``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from memoryhole.errors import ConfigError, TargetError
from memoryhole.model import (
    Capture,
    Discovery,
    Observation,
    PostRef,
    Request,
    SeenPost,
    Status,
    Target,
    content_hash,
)
from memoryhole.platforms._shared import (
    answer_problem,
    join_detail,
    looks_like_html,
    media_detail,
    parse_iso8601,
)
from memoryhole.platforms.base import json_body, transient

# -- paths ----------------------------------------------------------------------------------

_STEP = re.compile(
    r"""\.(?P<name>[^.\[\]'"*]+)|\.\*|\[\*\]|\[(?P<index>-?\d+)\]|\[(?P<q>['"])(?P<quoted>.*?)(?P=q)\]"""
)
_WILDCARD = object()


class JsonPath:
    """A compiled path: ``JsonPath("$.data.items[*].id").find(answer)`` → every match."""

    def __init__(self, text: str) -> None:
        self.text = text
        if not text.startswith("$"):
            raise ValueError(f"path {text!r} must start with '$'")
        steps: list[str | int | object] = []
        position = 1
        while position < len(text):
            match = _STEP.match(text, position)
            if match is None:
                raise ValueError(f"path {text!r}: cannot read {text[position:]!r}")
            if match.group("name") is not None:
                steps.append(match.group("name"))
            elif match.group("index") is not None:
                steps.append(int(match.group("index")))
            elif match.group("quoted") is not None:
                steps.append(match.group("quoted"))
            else:
                steps.append(_WILDCARD)
            position = match.end()
        self.steps = tuple(steps)

    def find(self, value: Any) -> list[Any]:
        current = [value]
        for step in self.steps:
            found: list[Any] = []
            for item in current:
                if step is _WILDCARD:
                    if isinstance(item, list):
                        found.extend(item)
                    elif isinstance(item, dict):
                        found.extend(item.values())
                elif isinstance(step, int):
                    if isinstance(item, list) and -len(item) <= step < len(item):
                        found.append(item[step])
                elif isinstance(item, dict) and step in item:
                    found.append(item[step])
            current = found
        return current

    def first(self, value: Any) -> Any:
        found = self.find(value)
        return found[0] if found else None

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


def _path(value: Any) -> JsonPath:
    if isinstance(value, JsonPath):
        return value
    if not isinstance(value, str):
        raise ValueError("a path must be a string such as '$.data.id'")
    return JsonPath(value)


def _paths(value: Any) -> tuple[JsonPath, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(_path(item) for item in values)


Path_ = Annotated[JsonPath, BeforeValidator(_path)]
Paths = Annotated[tuple[JsonPath, ...], BeforeValidator(_paths)]

# -- the description ------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SignalStatus = Literal["censored", "author_deleted", "account_suspended", "unknown", "unreachable"]


def _check_template(template: str, allowed: set[str], where: str) -> str:
    for name in _PLACEHOLDER.findall(template):
        if name not in allowed:
            known = ", ".join("{" + a + "}" for a in sorted(allowed))
            raise ValueError(f"{where}: unknown placeholder {{{name}}}; use {known}")
    return template


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)


class Listing(_Model):
    targets: dict[str, str] = Field(description="target kind → URL template")
    items: Path_
    cursor_param: str | None = None
    next_cursor: Path_ | None = None
    cursor_from: Literal["last", "first", "none"] = "last"
    limit_param: str | None = None
    limit: int = Field(50, ge=1, le=10_000)

    @model_validator(mode="after")
    def _templates(self) -> Listing:
        if not self.targets:
            raise ValueError("listing.targets needs at least one target kind")
        for kind, template in self.targets.items():
            if not re.match(r"^[a-z][a-z0-9_-]*$", kind):
                raise ValueError(f"listing.targets: {kind!r} is not a target kind name")
            _check_template(template, {"base_url", "key"}, f"listing.{kind}")
            if not template.startswith(("{base_url}", "http://", "https://")):
                raise ValueError(
                    f"listing.{kind} = {template!r}: a listing URL starts with {{base_url}} or "
                    "http(s):// (is this a misspelt setting?)"
                )
        return self


class Item(_Model):
    url: str
    post: Path_ = Field(default_factory=lambda: JsonPath("$"))

    @model_validator(mode="after")
    def _template(self) -> Item:
        _check_template(self.url, {"base_url", "id", "author"}, "item.url")
        return self


class Fields(_Model):
    id: Path_
    text: Paths
    time: Path_
    author: Path_
    media: Path_ | None = None
    media_type: Path_ | None = None
    time_format: str | None = None


class Signal(_Model):
    status: SignalStatus
    http: tuple[int, ...] = ()
    path: Path_ | None = None
    equals: str | int | float | bool | None = None
    in_: tuple[str | int | float | bool, ...] | None = Field(None, alias="in")
    exists: bool | None = None
    any_body: bool = False
    code: str | None = None
    detail: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _http_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("http"), int):
            return {**data, "http": [data["http"]]}
        return data

    @model_validator(mode="after")
    def _safe(self) -> Signal:
        tests = [self.equals is not None, self.in_ is not None, self.exists is not None]
        if sum(tests) > 1:
            raise ValueError("a signal tests its path with one of equals, in, exists")
        if any(tests) and self.path is None:
            raise ValueError("equals, in and exists need a path")
        if self.path is not None and not any(tests):
            raise ValueError(f"signal on {self.path.text}: say equals, in or exists")
        if not self.http and self.path is None:
            raise ValueError("a signal needs http, a path test, or both")
        for code in self.http:
            if code == 429 or code < 200 or 300 <= code < 400 or code >= 500:
                raise ValueError(
                    f"HTTP {code} cannot be a signal: 429, 3xx and 5xx are never definitive"
                )
        return self

    def matches(self, capture: Capture, body: Any, is_json: bool) -> bool:
        status = capture.status or 0
        if self.http:
            if status not in self.http or (not is_json and not self.any_body):
                return False
        elif not 200 <= status < 300:
            return False
        if self.path is None:
            return True
        if not is_json:
            return False
        found = self.path.find(body)
        if self.exists is not None:
            return bool(found) is self.exists
        if self.equals is not None:
            return any(_same(value, self.equals) for value in found)
        assert self.in_ is not None
        return any(_same(value, option) for value in found for option in self.in_)

    def observation(self, capture: Capture, body: Any) -> Observation:
        value = self.path.first(body) if self.path is not None and body is not None else None
        code = self.code or (str(value) if value is not None else str(capture.status))
        detail = self.detail or (
            f"HTTP {capture.status}" + (f", {self.path.text} = {value!r}" if self.path else "")
        )
        return Observation(Status(self.status), code=code[:200], detail=detail)


def _same(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    return bool(value == expected)


class Auth(_Model):
    header: str = "Authorization"
    value_env: str = Field(description="environment variable holding the secret")
    prefix: str = "Bearer "


class Description(_Model):
    name: str
    base_url: str = ""
    user_agent: str = "memoryhole/0.1 (censorship research)"
    listing: Listing
    item: Item
    fields: Fields
    signals: tuple[Signal, ...] = ()
    auth: Auth | None = None

    @model_validator(mode="after")
    def _name(self) -> Description:
        if not _NAME.match(self.name):
            raise ValueError(f"name {self.name!r}: lowercase letters, digits, - and _ only")
        return self


def load_description(text: str, source: str) -> Description:
    """Parse and check a description; errors name the source and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    if isinstance(raw.get("listing"), dict):
        listing = dict(raw["listing"])
        reserved = set(Listing.model_fields) - {"targets"}
        given = listing.pop("targets", None)
        targets = {k: v for k, v in listing.items() if k not in reserved and isinstance(v, str)}
        rest = {k: v for k, v in listing.items() if k not in targets}
        merged = {**given, **targets} if isinstance(given, dict) else targets
        raw = {**raw, "listing": {**rest, "targets": merged}}
    try:
        return Description.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top)'}: "
            + str(error["msg"]).removeprefix("Value error, ")
            for error in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None


DEFAULT_CONFIG = """\
# The built-in `json` platform: the simulator's `--platform json` shapes. Copy and adapt.
name = "json"
base_url = "http://127.0.0.1:8000"

[listing]                      # target kind = URL template ({base_url}, {key})
all = "{base_url}/api/v1/posts"
user = "{base_url}/api/v1/users/{key}/posts"
items = "$.items"              # the list of posts in a listing answer
cursor_param = "since_id"      # the next poll sends the cursor in this query parameter
next_cursor = "$.next_cursor"  # where the answer says the cursor (default: the last item's id)
limit_param = "limit"
limit = 50

[item]
url = "{base_url}/api/v1/posts/{id}"   # ({base_url}, {id}, {author})
post = "$.post"                        # where the post is in the answer

[fields]                       # paths inside one post object
id = "$.id"
text = "$.text"                # or a list: ["$.title", "$.body"], joined by line breaks
time = "$.created_at"          # epoch seconds, or ISO 8601 with a zone (or set time_format)
author = "$.author.id"
media = "$.media[*].url"
media_type = "$.media[*].type"

# Signals, first match wins. `http` alone needs a JSON body (any_body = true lifts that);
# without `http` a signal looks at 2xx answers only. 429, 3xx, 5xx are never signals.
[[signals]]
http = 451
status = "censored"
detail = "451 Unavailable For Legal Reasons"

[[signals]]
http = 410
path = "$.reason"
equals = "deleted_by_author"
status = "author_deleted"

[[signals]]
http = 403
path = "$.reason"
equals = "account_suspended"
status = "account_suspended"

[[signals]]
http = [404, 410]
status = "unknown"
detail = "gone, no reason given"
"""


@functools.lru_cache(maxsize=1)
def default_description() -> Description:
    return load_description(DEFAULT_CONFIG, "built-in json")


# -- the adapter ----------------------------------------------------------------------------


def _time(value: Any, time_format: str | None) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and time_format:
        try:
            return datetime.strptime(value, time_format).timestamp()
        except ValueError:
            return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return parse_iso8601(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value) / 1000.0 if value > 1e11 else float(value)  # milliseconds
    return None


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text or None


class GenericJsonPlatform:
    """The adapter for one description (``DEFAULT_CONFIG`` unless given)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        description: Description | None = None,
        token: str | None = None,
    ) -> None:
        """``token`` (the study's ``[platforms.NAME] token_env``) wins over the description's
        ``[auth] value_env``; it goes in ``[auth]``'s header (default ``Authorization: Bearer``)."""
        self.description = description or default_description()
        self.name = self.description.name
        self.base_url = (base_url or self.description.base_url).rstrip("/")
        headers = [("User-Agent", self.description.user_agent), ("Accept", "application/json")]
        auth = self.description.auth
        secret = token if token is not None else None
        if secret is None and auth is not None:
            secret = os.environ.get(auth.value_env)
        if secret:
            header, prefix = (auth.header, auth.prefix) if auth else ("Authorization", "Bearer ")
            headers.append((header, f"{prefix}{secret}"))
        self._headers = tuple(headers)

    # -- targets and listings -------------------------------------------------------------

    def parse_target(self, text: str) -> Target:
        kinds = self.description.listing.targets
        kind, _, key = text.partition("/")
        if kind in kinds:
            needs_key = "{key}" in kinds[kind]
            if bool(key) == needs_key:
                return Target(self.name, kind, key)
        forms = ", ".join(
            f"{self.name}:{k}/<key>" if "{key}" in t else f"{self.name}:{k}"
            for k, t in kinds.items()
        )
        raise TargetError(f"{self.name} target {text!r} not understood; use {forms}")

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        listing = self.description.listing
        template = listing.targets.get(target.kind, "")
        url = template.replace("{base_url}", self.base_url).replace(
            "{key}", quote(target.key, safe="")
        )
        params: list[tuple[str, str]] = []
        if listing.limit_param:
            params.append((listing.limit_param, str(listing.limit)))
        if cursor and listing.cursor_param:
            params.append((listing.cursor_param, cursor))
        return Request("GET", url, tuple(params), self._headers)

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        body, problem = json_body(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        listing = self.description.listing
        items = listing.items.first(body)
        if not isinstance(items, list):
            return Discovery((), None, Status.UNREACHABLE, f"no list at {listing.items.text}")
        posts, unread = [], 0
        for item in items:
            seen = self._seen(item)
            if seen is None:
                unread += 1
            else:
                posts.append(seen)
        cursor: str | None = None
        if listing.next_cursor is not None:
            cursor = _scalar(listing.next_cursor.first(body))
        elif posts and listing.cursor_from != "none":
            cursor = posts[-1 if listing.cursor_from == "last" else 0].post_id
        detail = f"{len(posts)} posts listed" + (f", {unread} unreadable" if unread else "")
        more = bool(listing.cursor_param) and cursor is not None and len(items) >= listing.limit
        return Discovery(tuple(posts), cursor, detail=detail, more=more)

    def _seen(self, item: Any) -> SeenPost | None:
        fields = self.description.fields
        post_id, author = _scalar(fields.id.first(item)), _scalar(fields.author.first(item))
        published = _time(fields.time.first(item), fields.time_format)
        if post_id is None or author is None or published is None:
            return None
        return SeenPost(post_id, author, published, self._text(item))

    def _text(self, item: Any) -> str:
        parts = [_scalar(path.first(item)) for path in self.description.fields.text]
        return "\n".join(part for part in parts if part)

    def _media(self, item: Any) -> list[tuple[str, str]]:
        fields = self.description.fields
        if fields.media is None:
            return []
        urls = [u for u in fields.media.find(item) if isinstance(u, str)]
        kinds = fields.media_type.find(item) if fields.media_type is not None else []
        return [
            (str(kinds[i]) if i < len(kinds) and kinds[i] else "media", url)
            for i, url in enumerate(urls)
        ]

    # -- checks ---------------------------------------------------------------------------

    def check_request(self, post: PostRef) -> Request:
        url = (
            self.description.item.url.replace("{base_url}", self.base_url)
            .replace("{id}", quote(post.post_id, safe=""))
            .replace("{author}", quote(post.author_id, safe=""))
        )
        return Request("GET", url, (), self._headers)

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        problem = answer_problem(capture)
        if problem is not None:
            return transient(problem)
        body: Any = None
        is_json = False
        if not looks_like_html(capture):
            with contextlib.suppress(UnicodeDecodeError, json.JSONDecodeError):
                body, is_json = json.loads(capture.body), True
        for signal in self.description.signals:
            if signal.matches(capture, body, is_json):
                return signal.observation(capture, body)
        value, problem = json_body(capture)
        if problem is not None:
            return transient(f"{problem} (no signal matches it)")
        item = self.description.item.post.first(value)
        if not isinstance(item, dict):
            return transient(f"no post at {self.description.item.post.text}")
        post_id = _scalar(self.description.fields.id.first(item))
        if post.post_id and post_id != post.post_id:
            return transient("answer is not the requested post")
        text = self._text(item)
        return Observation(
            Status.LIVE,
            content_hash=content_hash(text),
            text=text,
            detail=join_detail("visible", media_detail(self._media(item))),
        )


# -- declared platforms ---------------------------------------------------------------------

PLATFORMS_ENV = "MEMORYHOLE_PLATFORMS"
#: A study's own descriptions: ``STUDY/platforms/*.toml``.
STUDY_PLATFORMS_DIR = "platforms"


def description_files() -> Iterator[Path]:
    """Every ``*.toml`` description: the user's config folder, then ``$MEMORYHOLE_PLATFORMS``."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    places = [Path(config_home) / "memoryhole" / "platforms"]
    places += [Path(p) for p in os.environ.get(PLATFORMS_ENV, "").split(os.pathsep) if p]
    for place in places:
        if place.is_dir():
            yield from sorted(place.glob("*.toml"))
        elif place.is_file():
            yield place


def study_platforms(study_dir: Path) -> dict[str, tuple[Path, Callable[..., GenericJsonPlatform]]]:
    """The platforms a study declares in ``STUDY/platforms/*.toml``: name → (file, factory).

    A bad file, or two files declaring one name, is a ConfigError naming the file(s)."""
    found: dict[str, tuple[Path, Callable[..., GenericJsonPlatform]]] = {}
    folder = study_dir / STUDY_PLATFORMS_DIR
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.toml")):
        try:
            stamp = path.stat().st_mtime_ns
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read platform description ({exc})") from None
        ((name, factory),) = _declared(((str(path), stamp),))
        if name in found:
            raise ConfigError(
                f"{path}: name = {name!r} is already declared by {found[name][0]}; "
                "one file per platform (rename or remove one)"
            )
        found[name] = (path, factory)
    return found


def declared_platforms() -> dict[str, Callable[..., GenericJsonPlatform]]:
    """Platforms declared by description files, by name (a bad file is a ConfigError)."""
    stamps = []
    for path in description_files():
        try:
            stamps.append((str(path), path.stat().st_mtime_ns))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read platform description ({exc})") from None
    return dict(_declared(tuple(stamps)))


@functools.lru_cache(maxsize=64)
def _declared(
    stamps: tuple[tuple[str, int], ...],
) -> tuple[tuple[str, Callable[..., GenericJsonPlatform]], ...]:
    factories: dict[str, Callable[..., GenericJsonPlatform]] = {}
    for name, _ in stamps:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: cannot read platform description ({exc})") from None
        description = load_description(text, name)
        factories.setdefault(description.name, _factory(description))
    return tuple(factories.items())


def _factory(description: Description) -> Callable[..., GenericJsonPlatform]:
    def make(base_url: str | None = None, *, token: str | None = None) -> GenericJsonPlatform:
        return GenericJsonPlatform(base_url, description=description, token=token)

    return make
