"""One scheduler per platform: each spends its own platform's budget and learns its own platform.

A study may watch several platforms, each with its own request budget (``[platforms.NAME]
budget_per_second``, else ``[collector] budget_per_second``) and its own token bucket in the
collector (``collect/limiter.py``). Platforms also differ in what they remove and how fast, and
an author id means nothing across platforms. So ``PlatformSchedulers`` keeps one ``Scheduler``
per platform, made when the platform's first post or listing arrives, and hands every call to
the scheduler of the post's (or the listing's) platform. Each has:

- its platform's budget, so its threshold is planned for what that platform's bucket lets
  through (one threshold over all platforms would plan the sum of the posts' demands against
  one platform's budget, and a slow platform's backlog would raise every platform's threshold);
- its own removal hazard and risk model (removal times differ by platform; a term removed
  on one platform says little about another);
- its own authors (the same id on two platforms is two people; a suspension on one wakes no
  posts on the other).

It is durable like the scheduler (``schedule.base.Durable``): its snapshot holds each
platform's, arrays named ``NAME@PLATFORM``. It also takes back a lone ``Scheduler``'s snapshot
(what studies committed before there was one per platform) when every post it holds is of one
platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from memoryhole.model import Discovery, Verdict
from memoryhole.schedule.base import ListingPlan, ListingRequest, PostView, TargetView
from memoryhole.schedule.scheduler import Scheduler, SchedulerSettings

VERSION = 1


class PlatformSchedulers:
    """A ``Policy``, ``WideView`` and ``Durable`` made of one ``Scheduler`` per platform."""

    #: Policies whose committed state ``restore`` takes back (``collect/durable.py``).
    restores_from = ("Scheduler",)

    def __init__(
        self, settings: SchedulerSettings | None = None, budgets: Mapping[str, float] | None = None
    ) -> None:
        self.settings = settings or SchedulerSettings()
        self.budgets = dict(budgets or {})
        for platform, budget in self.budgets.items():
            if budget <= 0:
                raise ValueError(f"the budget of {platform!r} must be positive")
        self.schedulers: dict[str, Scheduler] = {}

    def budget(self, platform: str) -> float:
        return self.budgets.get(platform, self.settings.budget_per_second)

    def scheduler(self, platform: str) -> Scheduler:
        """The platform's scheduler (made on first use, on the platform's budget)."""
        scheduler = self.schedulers.get(platform)
        if scheduler is None:
            scheduler = Scheduler(self.settings, budget_per_second=self.budget(platform))
            self.schedulers[platform] = scheduler
        return scheduler

    def _of(self, post: PostView | None) -> Scheduler:
        # Without a post (only callers outside the collector do that) the scheduler answers
        # from the times alone; any platform's would give the same answer.
        return self.scheduler(post.platform if post is not None else "")

    @property
    def horizon(self) -> float:
        return self.settings.horizon

    @property
    def requests(self) -> int:
        return sum(scheduler.requests for scheduler in self.schedulers.values())

    # -- Policy -----------------------------------------------------------------------------

    def after_discovery(
        self, published_at: float, now: float, *, post: PostView | None = None, text: str = ""
    ) -> float | None:
        return self._of(post).after_discovery(published_at, now, post=post, text=text)

    def after_check(
        self, verdict: Verdict, published_at: float, now: float, *, post: PostView | None = None
    ) -> float | None:
        return self._of(post).after_check(verdict, published_at, now, post=post)

    def after_failure(
        self,
        published_at: float,
        now: float,
        failures: int,
        retry_after: float | None,
        *,
        post: PostView | None = None,
    ) -> float | None:
        return self._of(post).after_failure(published_at, now, failures, retry_after, post=post)

    def after_other_request(self, platform: str, now: float) -> None:
        self.scheduler(platform).after_other_request(platform, now)

    # -- WideView ---------------------------------------------------------------------------

    def check_early(self, post: PostView, now: float) -> bool:
        return self._of(post).check_early(post, now)

    def poll_early(self, target: TargetView, now: float) -> bool:
        return self.scheduler(target.target.platform).poll_early(target, now)

    def listing_request(self, target: TargetView, now: float) -> ListingRequest:
        return self.scheduler(target.target.platform).listing_request(target, now)

    def on_listing(
        self,
        target: TargetView,
        request: ListingRequest,
        discovery: Discovery,
        listed: Sequence[PostView],
        now: float,
    ) -> ListingPlan:
        scheduler = self.scheduler(target.target.platform)
        return scheduler.on_listing(target, request, discovery, listed, now)

    # -- Durable ----------------------------------------------------------------------------

    def snapshot(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        metas: dict[str, Any] = {}
        arrays: dict[str, npt.NDArray[Any]] = {}
        for platform, scheduler in self.schedulers.items():
            meta, platform_arrays = scheduler.snapshot()
            metas[platform] = meta
            for name, array in platform_arrays.items():
                arrays[f"{name}@{platform}"] = array
        return {"version": VERSION, "platforms": metas}, arrays

    def restore(
        self,
        meta: dict[str, Any],
        arrays: dict[str, npt.NDArray[Any]],
        posts: Mapping[int, PostView],
    ) -> None:
        """Take back a ``snapshot``, or a lone ``Scheduler``'s of a one-platform study. Every
        platform's state is checked before any is taken, so a state that does not fit leaves
        this policy as it was."""
        if "platforms" not in meta:
            platform = _only_platform(arrays, posts)
            meta, arrays = (
                {"version": VERSION, "platforms": {platform: meta}},
                {f"{name}@{platform}": array for name, array in arrays.items()},
            )
        if meta.get("version") != VERSION:
            raise ValueError(f"unknown per-platform scheduler state version {meta['version']!r}")
        restored: dict[str, Scheduler] = {}
        for platform, platform_meta in meta["platforms"].items():
            suffix = f"@{platform}"
            own = {
                name.removesuffix(suffix): array
                for name, array in arrays.items()
                if name.endswith(suffix)
            }
            scheduler = Scheduler(self.settings, budget_per_second=self.budget(platform))
            scheduler.restore(platform_meta, own, posts)
            restored[platform] = scheduler
        self.schedulers = restored


def _only_platform(arrays: Mapping[str, npt.NDArray[Any]], posts: Mapping[int, PostView]) -> str:
    """The one platform of the posts a lone scheduler's state holds."""
    pks = np.asarray(arrays["posts.ints"]).reshape(-1, 3)[:, 0]
    platforms = {posts[int(pk)].platform for pk in pks if int(pk) in posts}
    if len(platforms) != 1:
        raise ValueError(
            "it was saved by one scheduler for posts of "
            + (f"{len(platforms)} platforms" if platforms else "no platform")
        )
    return platforms.pop()
