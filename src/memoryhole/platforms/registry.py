"""Registry of platform adapters: built-ins plus the ``memoryhole.platforms`` entry-point group."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from memoryhole.errors import TargetError
from memoryhole.model import Target
from memoryhole.platforms.base import Platform

PlatformFactory = Callable[..., Platform]


def _builtin() -> dict[str, PlatformFactory]:
    from memoryhole.platforms.generic_json import GenericJsonPlatform
    from memoryhole.platforms.mastodon import MastodonPlatform
    from memoryhole.platforms.reddit import RedditPlatform
    from memoryhole.platforms.rss import RssPlatform
    from memoryhole.platforms.weibo import WeiboPlatform

    return {
        "weibo": WeiboPlatform,
        "reddit": RedditPlatform,
        "mastodon": MastodonPlatform,
        "rss": RssPlatform,
        "json": GenericJsonPlatform,
    }


def available() -> dict[str, PlatformFactory]:
    """Every adapter by name: built-ins first, then installed plugins, then platforms declared
    in TOML descriptions (``generic_json.declared_platforms``); none may shadow an earlier one."""
    from memoryhole.platforms.generic_json import declared_platforms

    factories = _builtin()
    for entry in entry_points(group="memoryhole.platforms"):
        factories.setdefault(entry.name, entry.load())
    for name, factory in declared_platforms().items():
        factories.setdefault(name, factory)
    return factories


def get(name: str, base_url: str | None = None) -> Platform:
    """An adapter for ``name``, talking to ``base_url`` (default: the real platform's)."""
    factories = available()
    if name not in factories:
        known = ", ".join(sorted(factories))
        raise TargetError(f"unknown platform {name!r}; known platforms: {known}")
    return factories[name](base_url) if base_url else factories[name]()


def parse_target(spec: str, base_url: str = "") -> Target:
    """``"weibo:user/123"`` → Target, checked by the platform's own adapter."""
    platform, sep, rest = spec.partition(":")
    if not sep or not platform or not rest:
        raise TargetError(
            f"target {spec!r} is not PLATFORM:WHAT; try e.g. weibo:user/1234567 or weibo:all"
        )
    return get(platform, base_url or None).parse_target(rest)
