"""Wiring a study to its adapters, transport and clock, and running the collector."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

import aiohttp

from memoryhole.clock import AcceleratedClock, Clock, SystemClock
from memoryhole.collect.collector import Collector, CollectorStats
from memoryhole.collect.limiter import Identity, PlatformBudgets
from memoryhole.collect.transport import AiohttpTransport, RedactingTransport, Transport
from memoryhole.collect.vantages import VantageTransport, study_vantages
from memoryhole.config import PlatformSettings
from memoryhole.errors import ConfigError
from memoryhole.platforms import registry
from memoryhole.platforms.base import Platform
from memoryhole.schedule.base import Policy
from memoryhole.store.queries import watched_platforms
from memoryhole.study import Study

LEASE, TERM = 30.0, 10.0  # a shared study's worker (collect/shared.py)
T = TypeVar("T")


def _named(study: Study, table: Mapping[str, T], name: str, what: str, add: str) -> T:
    """``table[name]`` of the study's config, or an error naming those there are."""
    found = table.get(name)
    if found is None:
        known = ", ".join(sorted(table)) or "none yet"
        raise ConfigError(
            f"no {what} {name!r} in {study.config_path.name} (known: {known}); add {add}"
        )
    return found


def study_identity(study: Study, accounts: list[str], egress: str | None) -> Identity:
    """Whom this collector asks as (``run --account NAME``, ``--egress NAME``), from the study's
    ``[accounts.NAME]`` and ``[egress.NAME]``."""
    config = study.config
    chosen: dict[str, tuple[str, float]] = {}
    for name in accounts:
        add = f'[accounts.{name}] with platform = "…", budget_per_second = … and token_env'
        account = _named(study, config.accounts, name, "account", add)
        if account.platform in chosen:
            raise ConfigError(
                f"--account {chosen[account.platform][0]} and --account {name} are both "
                f"{account.platform} accounts; a collector asks as one account per platform "
                "(run another collector for the other)"
            )
        chosen[account.platform] = (name, account.budget_per_second)
    address: tuple[str, float] | None = None
    if egress is not None:
        add = f"[egress.{egress}] with budget_per_second = …"
        settings = _named(study, config.egress, egress, "egress address", add)
        address = (egress, settings.budget_per_second)
    return Identity(chosen, address)


def _account_token(study: Study, identity: Identity, platform: str) -> str | None:
    account = identity.accounts.get(platform)
    if account is None:
        return None
    settings = study.config.accounts[account[0]]
    token = settings.token()
    if settings.token_env is not None and token is None:
        raise ConfigError(
            f"[accounts.{account[0]}] token_env = {settings.token_env!r}, but that environment "
            "variable is not set; export it before `memoryhole run`"
        )
    return token


def build_adapter(study: Study, name: str, identity: Identity | None = None) -> Platform:
    """The adapter for one platform of the study: its base URL, its token and the study's own
    platform descriptions (``STUDY/platforms/*.toml``).

    The token is read from the environment variable ``[platforms.NAME] token_env`` names
    (default ``MEMORYHOLE_<NAME>_TOKEN``), or ``[accounts.NAME] token_env`` for the account the
    collector asks as, and handed to the adapter only: it is never written in the study, and
    the collector redacts it from anything a platform echoes back.
    """
    identity = identity or Identity()
    if name in identity.accounts:
        token = _account_token(study, identity, name)
        return registry.get(name, study.base_url(name), token=token, study_dir=study.path)
    settings = study.config.platforms.get(name) or PlatformSettings()
    token = settings.token(name)
    if token is not None and settings.token_env is None:
        factory = registry.available(study.path).get(name)
        if factory is not None and not registry.takes_token(factory):
            token = None  # a default-named variable is only a hint; token_env is an order
    if settings.token_env is not None and token is None:
        raise ConfigError(
            f"[platforms.{name}] token_env = {settings.token_env!r}, but that environment "
            f"variable is not set; export it before `memoryhole run`, or remove token_env"
        )
    return registry.get(name, study.base_url(name), token=token, study_dir=study.path)


def build_adapters(study: Study, identity: Identity | None = None) -> dict[str, Platform]:
    return {name: build_adapter(study, name, identity) for name in watched_platforms(study.engine)}


def adapter_secrets(
    study: Study, adapters: dict[str, Platform], identity: Identity | None = None
) -> list[str]:
    """The tokens the adapters were given (to redact from answers); never logged."""
    found = []
    for name in adapters:
        if identity is not None and name in identity.accounts:
            token = _account_token(study, identity, name)
            if token:
                found.append(token)
            continue
        settings = study.config.platforms.get(name) or PlatformSettings()
        token = settings.token(name)
        if token:
            found.append(token)
    return found


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def simulator_clock(base_url: str) -> AcceleratedClock | None:
    """The clock of a simulator at ``base_url``, if that is one on this machine."""
    if not is_loopback(base_url):
        return None
    try:
        timeout = aiohttp.ClientTimeout(total=2)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(base_url.rstrip("/") + "/__sim__/clock") as response,
        ):
            if response.status != 200:
                return None
            info = await response.json()
        if not info.get("speed"):
            return None
        return AcceleratedClock(
            float(info["platform_origin"]), float(info["wall_origin"]), float(info["speed"])
        )
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError):
        return None


async def resolve_clock(study: Study) -> Clock:
    if study.config.collector.clock == "auto":
        for name in watched_platforms(study.engine):
            base_url = study.base_url(name)
            if base_url:
                clock = await simulator_clock(base_url)
                if clock is not None:
                    return clock
    return SystemClock()


def study_policy(study: Study, rates: Mapping[str, float] | None = None) -> Policy | None:
    """The schedule the study's configuration asks for (None: the collector's default);
    ``rates``: what this collector may spend per platform, where that is not the study's own
    budget (an account's, a worker's share)."""
    settings = study.config.collector
    if settings.scheduler != "budget":
        return None
    from memoryhole.schedule.by_platform import PlatformSchedulers
    from memoryhole.schedule.scheduler import SchedulerSettings

    return PlatformSchedulers(
        SchedulerSettings(
            budget_per_second=settings.budget_per_second,
            horizon=settings.horizon,
            half_life=settings.learning_half_life,
        ),
        {**study.config.platform_budgets(), **(rates or {})},
    )


def plan_rates(
    study: Study, identity: Identity, platforms: set[str], workers: int = 1
) -> dict[str, float]:
    """What a collector's schedule plans to spend per platform: the rate its requests can be
    sent at (its account's budget, under its address's), or, with no account there, its share
    of the platform's budget among ``workers`` collectors."""
    budgets = PlatformBudgets(
        SystemClock(),
        study.config.collector.budget_per_second,
        study.config.platform_budgets(),
        identity,
    )
    return {
        platform: budgets.rate(platform)
        if platform in identity.accounts
        else min(budgets.rate(platform), budgets.platform_rate(platform) / max(1, workers))
        for platform in platforms
    }


def identity_rates(study: Study, identity: Identity) -> dict[str, float]:
    """Per platform with an account or an egress address: the rate its requests can be sent at."""
    platforms = set(identity.accounts) | (
        set(watched_platforms(study.engine)) if identity.egress else set()
    )
    return plan_rates(study, identity, platforms)


async def run_study(
    study: Study,
    *,
    for_seconds: float | None = None,
    stop: asyncio.Event | None = None,
    transport: Transport | None = None,
    clock: Clock | None = None,
    on_start: Callable[[Collector], None] | None = None,
    lease: float | None = None,
    term: float | None = None,
    identity: Identity | None = None,
) -> CollectorStats:
    """Run the collector on a study until ``stop``, ``for_seconds`` of wall time, or no work.

    On PostgreSQL this process is one worker of as many as run on the study
    (``collect/shared.py``: ``lease`` and ``term`` in wall seconds); on SQLite it is the
    study's one collector. ``identity``: the account (per platform) and the egress address it
    asks as, each spending its own budget."""
    identity = identity or Identity()
    if study.engine.dialect.name == "postgresql":
        timing = {"lease": lease or LEASE, "term": term or TERM}
        return await _run_worker(
            study, for_seconds, stop, transport, clock, on_start, timing, identity
        )
    with study.writer_lock():
        adapters = build_adapters(study, identity)
        if not adapters:
            raise ConfigError(
                "nothing to watch; add targets with `memoryhole watch weibo:user/<uid>` "
                "(or weibo:all on the simulator)"
            )
        clock = clock or await resolve_clock(study)
        settings = study.config.collector
        transport = transport or AiohttpTransport(
            timeout=settings.timeout, concurrency=settings.concurrency
        )
        vantages = study_vantages(study.config.vantages)
        if any(v.proxy for v in vantages):
            transport = VantageTransport(
                transport, vantages, timeout=settings.timeout, concurrency=settings.concurrency
            )
        secrets = adapter_secrets(study, adapters, identity)
        if secrets:
            transport = RedactingTransport(transport, secrets)
        budgets = PlatformBudgets(
            clock, settings.budget_per_second, study.config.platform_budgets(), identity
        )
        policy = study_policy(study, identity_rates(study, identity))
        collector = Collector(study, adapters, transport, clock, policy=policy, budgets=budgets)
        if on_start is not None:
            on_start(collector)
        deadline = time.time() + for_seconds if for_seconds is not None else None
        try:
            return await collector.run(stop=stop, wall_deadline=deadline)
        finally:
            await transport.close()


async def _run_worker(
    study: Study,
    for_seconds: float | None,
    stop: asyncio.Event | None,
    transport: Transport | None,
    clock: Clock | None,
    on_start: Callable[[Collector], None] | None,
    timing: dict[str, float],
    identity: Identity,
) -> CollectorStats:
    from memoryhole.collect.shared import Worker

    adapters = build_adapters(study, identity)
    if not adapters:
        raise ConfigError(
            "nothing to watch; add targets with `memoryhole watch weibo:user/<uid>` "
            "(or weibo:all on the simulator)"
        )
    clock = clock or await resolve_clock(study)
    transport = transport or AiohttpTransport(
        timeout=study.config.collector.timeout, concurrency=study.config.collector.concurrency
    )
    secrets = adapter_secrets(study, adapters, identity)
    if secrets:
        transport = RedactingTransport(transport, secrets)
    worker = Worker(study, adapters, transport, clock, identity, **timing)
    deadline = time.time() + for_seconds if for_seconds is not None else None
    try:
        return await worker.run(stop or asyncio.Event(), deadline, on_start)
    finally:
        await transport.close()
