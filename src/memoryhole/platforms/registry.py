"""Registry of platform adapters: built-ins plus the ``memoryhole.platforms`` entry-point group."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from memoryhole.errors import ConfigError, TargetError
from memoryhole.model import Target
from memoryhole.platforms.base import Platform

PlatformFactory = Callable[..., Platform]


def _builtin() -> dict[str, PlatformFactory]:
    from memoryhole.platforms.bluesky import BlueskyPlatform
    from memoryhole.platforms.generic_json import GenericJsonPlatform
    from memoryhole.platforms.mastodon import MastodonPlatform
    from memoryhole.platforms.reddit import RedditPlatform
    from memoryhole.platforms.rss import RssPlatform
    from memoryhole.platforms.telegram import TelegramPlatform
    from memoryhole.platforms.weibo import WeiboPlatform
    from memoryhole.platforms.youtube import YouTubePlatform

    return {
        "weibo": WeiboPlatform,
        "reddit": RedditPlatform,
        "mastodon": MastodonPlatform,
        "rss": RssPlatform,
        "json": GenericJsonPlatform,
        "bluesky": BlueskyPlatform,
        "telegram": TelegramPlatform,
        "youtube": YouTubePlatform,
    }


def available(study_dir: Path | None = None) -> dict[str, PlatformFactory]:
    """Every adapter by name: built-ins first, then installed plugins, then the study's own
    TOML descriptions (``STUDY/platforms/*.toml``, when ``study_dir`` is given), then the
    user's (``generic_json.declared_platforms``). None may shadow an earlier one: a user-level
    description that tries is ignored, a study's is an error naming its file."""
    from memoryhole.platforms.generic_json import declared_platforms, study_platforms

    factories = _builtin()
    for entry in entry_points(group="memoryhole.platforms"):
        factories.setdefault(entry.name, entry.load())
    if study_dir is not None:
        for name, (path, factory) in study_platforms(study_dir).items():
            if name in factories:
                raise ConfigError(
                    f"{path}: name = {name!r} is a built-in or installed platform; "
                    "give the description another name"
                )
            factories[name] = factory
    for name, factory in declared_platforms().items():
        factories.setdefault(name, factory)
    return factories


def takes_token(factory: PlatformFactory) -> bool:
    """True when the adapter accepts a ``token`` keyword (it sends it as a credential)."""
    try:
        return "token" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def get(
    name: str,
    base_url: str | None = None,
    *,
    token: str | None = None,
    study_dir: Path | None = None,
) -> Platform:
    """An adapter for ``name``, talking to ``base_url`` (default: the real platform's), with
    ``token`` as its credential (see ``[platforms.NAME] token_env``); ``study_dir`` adds the
    study's own platform descriptions."""
    factories = available(study_dir)
    if name not in factories:
        known = ", ".join(sorted(factories))
        raise TargetError(f"unknown platform {name!r}; known platforms: {known}")
    factory = factories[name]
    kwargs: dict[str, Any] = {}
    if token is not None:
        if not takes_token(factory):
            raise ConfigError(
                f"platform {name!r} does not take a token; remove token_env from "
                f"[platforms.{name}] in memoryhole.toml"
            )
        kwargs["token"] = token
    return factory(base_url, **kwargs) if base_url else factory(**kwargs)


def parse_target(spec: str, base_url: str = "", *, study_dir: Path | None = None) -> Target:
    """``"weibo:user/123"`` → Target, checked by the platform's own adapter (``study_dir``:
    also the study's own platform descriptions)."""
    platform, sep, rest = spec.partition(":")
    if not sep or not platform or not rest:
        raise TargetError(
            f"target {spec!r} is not PLATFORM:WHAT; try e.g. weibo:user/1234567 or reddit:r/news"
        )
    return get(platform, base_url or None, study_dir=study_dir).parse_target(rest)
