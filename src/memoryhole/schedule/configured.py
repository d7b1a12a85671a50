"""The schedule a study's configuration asks for: ``[collector] scheduler`` (docs/formats.md)."""

from __future__ import annotations

from memoryhole.config import CollectorSettings
from memoryhole.schedule.base import Policy
from memoryhole.schedule.policy import AgeProportional


def configured_policy(settings: CollectorSettings) -> Policy:
    """``budget`` (the default): the budget-aware scheduler on the study's request budget and
    horizon; ``age``: ``AgeProportional`` with the study's first check and longest gap."""
    if settings.scheduler == "budget":
        from memoryhole.schedule.scheduler import Scheduler, SchedulerSettings

        return Scheduler(
            SchedulerSettings(
                budget_per_second=settings.budget_per_second, horizon=settings.horizon
            )
        )
    return AgeProportional(
        first_check_after=settings.first_check_after,
        max_interval=settings.max_interval,
        horizon=settings.horizon,
    )
