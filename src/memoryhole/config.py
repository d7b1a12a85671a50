"""A study's configuration: ``memoryhole.toml`` in the study folder (see docs/formats.md)."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import tomlkit
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from memoryhole.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: str | float | int) -> float:
    """``"90s"``, ``"15m"``, ``"6h"``, ``"7d"``, ``"2w"`` or a number of seconds → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; use e.g. 90s, 15m, 6h, 7d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


Duration = Annotated[float, BeforeValidator(parse_duration)]


class CollectorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_per_second: float = Field(5.0, gt=0, description="requests per platform second")
    concurrency: int = Field(32, ge=1, le=1024)
    timeout: float = Field(10.0, gt=0, description="seconds before a request counts as failed")
    poll_interval: Duration = Field(60.0, description="between polls of each watched listing")
    horizon: Duration = Field(7 * 86400.0, description="keep re-checking posts this long")
    first_check_after: Duration = Field(60.0, description="first re-check after discovery")
    max_interval: Duration = Field(6 * 3600.0, description="longest gap between two checks")
    clock: Literal["auto", "system"] = "auto"
    scheduler: Literal["age", "budget"] = "budget"
    learning_half_life: Duration | None = Field(
        None,
        gt=0,
        description="the scheduler's learnt removal times and risks fade by half this often",
    )
    media: Literal["refs", "download"] = Field(
        "refs", description="refs: keep media references; download: fetch each once, capped"
    )
    media_max_bytes: int = Field(
        10_000_000, gt=0, description="a media file larger than this is not kept ('too large')"
    )
    check_max_bytes: int = Field(
        5_000_000,
        gt=0,
        description="an answer to a check larger than this (decompressed) is cut there and "
        "recorded as too large: never a removal",
    )
    listing_max_bytes: int = Field(
        20_000_000,
        gt=0,
        description="the same for a listing poll (a feed can be large)",
    )


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def default_token_env(platform: str) -> str:
    """``MEMORYHOLE_<PLATFORM>_TOKEN``: where a platform's token is looked for by default."""
    return "MEMORYHOLE_" + re.sub(r"[^A-Za-z0-9]", "_", platform).upper() + "_TOKEN"


def env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name; name the variable that holds "
            "the token (e.g. MEMORYHOLE_REDDIT_TOKEN), never the token itself"
        )
    return value


class PlatformSettings(BaseModel):
    """``[platforms.NAME]``: where the platform is, its own request budget, its token.

    A token is never written in the study: ``token_env`` names the environment variable that
    holds it (default ``MEMORYHOLE_<NAME>_TOKEN``), read when the collector starts.
    """

    model_config = ConfigDict(extra="allow")

    base_url: str | None = None
    budget_per_second: float | None = Field(
        default=None, gt=0, description="requests per platform second for this platform"
    )
    token_env: str | None = Field(
        default=None, description="environment variable holding the token"
    )

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return env_name(value)

    @model_validator(mode="after")
    def _known_keys(self) -> PlatformSettings:
        for key in self.model_extra or {}:
            if key.lower() in _SECRET_KEYS:
                raise ValueError(
                    f"{key}: a secret does not belong in memoryhole.toml; put it in an "
                    'environment variable and name it with token_env = "VARIABLE"'
                )
            known = ", ".join(type(self).model_fields)
            raise ValueError(f"unknown setting {key!r} (is it misspelt?); use {known}")
        return self

    def token(self, platform: str) -> str | None:
        """The token from the environment (``token_env``, else the default name), or None."""
        value = os.environ.get(self.token_env or default_token_env(platform), "")
        return value or None


_SECRET_KEYS = frozenset({"token", "password", "secret", "api_key", "authorization"})


class BlobSettings(BaseModel):
    """``[blobs]``: where the study's raw bodies go (``store/blobs.py``, docs/formats.md).

    ``url``: unset for the study's ``blobs/`` folder, another folder (relative to the study),
    or ``s3://BUCKET/PREFIX`` for an S3-compatible store at ``endpoint_url`` (default AWS).
    Its credentials are read from the environment variables ``key_env`` and ``secret_env``
    name, never from the study.
    """

    model_config = ConfigDict(extra="allow")

    url: str | None = Field(None, description="a folder, or s3://bucket/prefix")
    endpoint_url: str | None = Field(None, description="e.g. http://127.0.0.1:9000 (MinIO)")
    region: str | None = None
    key_env: str = "AWS_ACCESS_KEY_ID"
    secret_env: str = "AWS_SECRET_ACCESS_KEY"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value):
            return value  # unset, or a folder
        if not re.match(r"^s3://[A-Za-z0-9][A-Za-z0-9._-]{1,254}(/[^?#]*)?$", value):
            raise ValueError(
                f"{value!r}: give s3://BUCKET/PREFIX or a folder (the server of an "
                "S3-compatible store goes in endpoint_url)"
            )
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+/?$", value):
            raise ValueError(f"{value!r} is not an endpoint; give http(s)://host:port")
        return value

    @field_validator("key_env", "secret_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(
                f"{value!r} is not an environment variable name; name the variable that holds "
                "the key (e.g. AWS_ACCESS_KEY_ID), never the key itself"
            )
        return value

    @model_validator(mode="after")
    def _known_keys(self) -> BlobSettings:
        for key in self.model_extra or {}:
            if any(word in key.lower() for word in ("key", "secret", "password", "token")):
                raise ValueError(
                    f"{key}: a secret does not belong in memoryhole.toml; put it in an "
                    'environment variable and name it with key_env / secret_env = "VARIABLE"'
                )
            known = ", ".join(type(self).model_fields)
            raise ValueError(f"unknown setting {key!r} (is it misspelt?); use {known}")
        return self


class VantageSettings(BaseModel):
    """``[vantages.NAME]``: another place to ask from (an HTTP proxy there) and its region. A
    check that finds a post unavailable is asked again from each vantage before the verdict
    is chosen: seen there, the post is ``withheld`` where it was not, never removed."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=1, max_length=64, description="e.g. DE, a country code")
    proxy: str | None = Field(
        None, description="http://host:port or socks5://host:port (None: a loopback simulator)"
    )
    #: Requests per second from this vantage to each platform (default: the platform's own).
    budget_per_second: float | None = Field(None, gt=0)

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(https?|socks[45])://[^\s/]+", value):
            raise ValueError(
                f"{value!r} is not a proxy URL; give http://host:port or socks5://host:port"
            )
        return value


class AccountSettings(BaseModel):
    """``[accounts.NAME]``: one account on a platform, with its token and the budget the platform
    rations it to. ``memoryhole run --account NAME`` makes a collector ask as that account: its
    token is sent, and its requests spend the account's budget (shared through the database by
    every worker that runs as it), not the platform's."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=64)
    budget_per_second: float = Field(gt=0, description="requests per platform second")
    token_env: str | None = Field(
        default=None, description="environment variable holding the account's token"
    )

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return env_name(value)

    def token(self) -> str | None:
        value = os.environ.get(self.token_env, "") if self.token_env else ""
        return value or None


class EgressSettings(BaseModel):
    """``[egress.NAME]``: an address requests leave from (a host's public IP). Platforms ration
    per address as well as per account: ``memoryhole run --egress NAME`` makes every request of
    that collector spend this budget too (per platform; shared by every worker on that
    address)."""

    model_config = ConfigDict(extra="forbid")

    budget_per_second: float = Field(gt=0, description="requests per platform second, each")


class StudyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str | None = None
    blobs: BlobSettings = Field(default_factory=BlobSettings)  # type: ignore[arg-type]
    #: Where the study's own connection asks from (``withheld in <region>``), when known.
    region: str | None = None
    collector: CollectorSettings = Field(default_factory=CollectorSettings)  # type: ignore[arg-type]
    platforms: dict[str, PlatformSettings] = Field(default_factory=dict)
    vantages: dict[str, VantageSettings] = Field(default_factory=dict)
    accounts: dict[str, AccountSettings] = Field(default_factory=dict)
    egress: dict[str, EgressSettings] = Field(default_factory=dict)

    def platform_budgets(self) -> dict[str, float]:
        """The platforms that set a budget of their own (the others get the collector's)."""
        return {
            name: platform.budget_per_second
            for name, platform in self.platforms.items()
            if platform.budget_per_second is not None
        }


DEFAULT_CONFIG = """\
# memoryhole study configuration. Durations: 90s, 15m, 6h, 7d. See docs/formats.md.

# database_url = "postgresql+psycopg://user@localhost/study"   # default: store.sqlite here

[collector]
budget_per_second = 5.0     # request budget per platform, per second of the platform's clock
concurrency = 32            # requests in flight at most
timeout = 10.0              # seconds before a request counts as failed (never as a removal)
poll_interval = "60s"       # how often each watched listing (feed, timeline) is polled
horizon = "7d"              # re-check each post for this long after publication
first_check_after = "60s"   # first re-check after a post is discovered
max_interval = "6h"         # longest gap between two checks of one post
clock = "auto"              # auto: follow a simulator on loopback if one answers; else system
scheduler = "budget"        # spends the budget where it catches removals soonest, learning
                            # removal times and risks (docs/scheduler.md); "age": every post
                            # at gaps of half its age, whatever the budget
# learning_half_life = "1d" # what the scheduler learnt fades by half this often (default: never)
media = "refs"              # "download": fetch each image/video once (docs/adapters.md, Media)
media_max_bytes = 10000000  # with media = "download": larger files are not kept
check_max_bytes = 5000000   # a check's answer is read (decompressed) up to this, then cut
listing_max_bytes = 20000000  # the same for a listing

[platforms.weibo]
# base_url = "https://m.weibo.cn"
# budget_per_second = 2.0   # this platform's own budget (default: the collector's)
# token_env = "MEMORYHOLE_WEIBO_TOKEN"   # the variable holding a token (never the token)

# An account a collector can ask as (`memoryhole run --account lab-1`): its token and its own
# budget, which replaces the platform's for that collector (shared by all that run as it).
# [accounts.lab-1]
# platform = "weibo"
# budget_per_second = 1.0
# token_env = "MEMORYHOLE_WEIBO_LAB1"

# An address requests leave from (`memoryhole run --egress host-a`): its budget per platform
# is spent too, by every collector on that address.
# [egress.host-a]
# budget_per_second = 3.0

# Raw bodies elsewhere: a folder every worker mounts, or an S3-compatible bucket (keys from
# $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY, never written here).
# [blobs]
# url = "s3://bucket/prefix"
# endpoint_url = "http://127.0.0.1:9000"
"""


def load_config(path: Path) -> StudyConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing; run `memoryhole init` first") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        return StudyConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None


def update_config(path: Path, section: tuple[str, ...], key: str, value: Any) -> None:
    """Set one key, keeping the user's comments and layout."""
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    table: Any = document
    for name in section:
        if name not in table:
            table[name] = tomlkit.table()
        table = table[name]
    table[key] = value
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    load_config(path)  # refuse to leave an invalid file behind silently
