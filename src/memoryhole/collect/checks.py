"""One check of one post: ask, classify, fold into its verdict, plan the next check.

The adapter builds the request and reads the answer (``platforms/``); ``classify.fold`` turns a
definitive answer into the verdict; a transient one (timeout, 429, 5xx, captcha) only counts a
failure and asks the policy when to try again. Nothing that came through a redirect, or an
answer cut at its size cap, is ever a removal. A visible post's media are fetched after its
check when the study keeps media.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from memoryhole.collect.fetch import Fetcher
from memoryhole.collect.media import MEDIA_KIND, MediaFetcher
from memoryhole.collect.parts import Parts, retry_after_seconds
from memoryhole.collect.vantages import (
    Vantage,
    VantageBudgets,
    study_vantages,
    verdict_across,
    via,
)
from memoryhole.evidence.leaf import text_digest
from memoryhole.model import Capture, Observation, PostRef, Status
from memoryhole.platforms.base import ManyPosts
from memoryhole.schedule.base import counts_requests
from memoryhole.store.state import PostState

TEXT_KIND = "text"  # an observation holding a long post's whole text (``_follow_up``)

#: The lab's replays only (``bench/``): an answer known without sending the request (what the
#: adapter classified last for exactly the answer the simulator would send now), or None to
#: send it. It counts its own requests; a check it answers is folded like a sent one.
Shortcut = Callable[[PostState, float], Observation | None]


#: How long a removal that needs confirming must keep being answered before it is stated: a
#: page's 404 during a deploy or a cache's hiccup lasts less.
CONFIRM_AFTER = 300.0


def _confirmed(post: PostState, observation: Observation, now: float) -> Observation:
    """A removal that needs confirming (``Observation.confirm_first``) is transient until a
    check at least ``CONFIRM_AFTER`` seconds after the first such answer gives it again (any
    other definitive answer in between starts over)."""
    status = observation.status
    if not (observation.confirm_first and status.is_removal and post.verdict.status.is_visible):
        if status.is_definitive:
            post.unconfirmed = None
        return observation
    first = post.unconfirmed
    if first is not None and first[0] == observation.code and now - first[1] >= CONFIRM_AFTER:
        post.unconfirmed = None
        return observation
    if first is None or first[0] != observation.code:
        post.unconfirmed = (observation.code, now)
    since = post.unconfirmed[1] if post.unconfirmed else now
    return Observation(
        Status.UNREACHABLE,
        code=f"unconfirmed_{observation.code}",
        detail=f"{observation.detail}; a removal only if still so {CONFIRM_AFTER:.0f} s after "
        f"it was first answered (at {since:.0f})",
    )


class Checks:
    def __init__(
        self,
        parts: Parts,
        fetcher: Fetcher,
        *,
        media: MediaFetcher | None = None,
        shortcut: Shortcut | None = None,
    ) -> None:
        self.parts = parts
        self.fetcher = fetcher
        self.media = media
        self.shortcut = shortcut
        self._refs: dict[int, PostRef] = {}  # each post's, for its checks
        #: Posts a many-posts answer did not show: their next check is their own request.
        self._single: set[int] = set()
        #: The platforms that answer for many posts at once (checked once: a Protocol's
        #: isinstance is too slow for every check).
        self._many_posts: dict[str, ManyPosts] = {
            name: adapter
            for name, adapter in parts.adapters.items()
            if isinstance(adapter, ManyPosts)
        }
        config = parts.study.config
        self.home_region = config.region
        self.vantages = study_vantages(config.vantages)
        self.vantage_budgets = VantageBudgets(parts.clock, parts.budgets)

    async def _across_vantages(
        self, post: PostState, ref: PostRef, here: Observation
    ) -> Observation:
        """The same check asked from every vantage (collect/vantages.py), each answer logged."""
        adapter = self.parts.adapters[post.platform]
        seen: list[tuple[Vantage, Observation]] = []
        for vantage in self.vantages:
            await self.vantage_budgets.bucket(vantage, post.platform).acquire()
            request = via(adapter.check_request(ref), vantage)
            capture = await self.fetcher.fetch(request, post.platform, self.fetcher.check_cap)
            answer = adapter.parse_check(ref, capture)
            seen.append((vantage, answer))
            self.parts.recorder.observe(
                capture,
                kind="vantage",
                status=answer.status,
                platform=post.platform,
                post=post,
                content=answer.content_hash,
                code=answer.code,
                detail=f"from {vantage.name} ({vantage.region}): {answer.detail}",
            )
        return verdict_across(here, self.home_region, seen)

    async def check(self, post: PostState) -> None:
        parts = self.parts
        if parts.sightings:  # without a pending sighting there is nothing to log
            parts.log_sighting(post)
        if self.shortcut is not None and self._answered(post):
            return
        if parts.recorder.denies(post.platform, post.author_id):  # taken down meanwhile
            parts.schedule_check(post, None)
            return
        platform = post.platform
        adapter = parts.adapters[platform]
        ref = self._ref(post)
        if platform in self._many_posts and self._many_at_once(post):
            await self._check_many(post, self._many_posts[platform])
            return
        self._single.discard(post.pk)
        capture, hops = await self.fetcher.fetch_following(
            adapter.check_request(ref), platform, post=post
        )
        observation = adapter.parse_check(ref, capture)
        if capture.status is not None and capture.error is not None:  # cut at the size cap
            observation = Observation(Status.UNREACHABLE, code="too_large", detail=capture.error)
        if hops and observation.status.is_removal:
            observation = Observation(
                Status.UNREACHABLE,
                code=observation.code,
                detail=f"through {hops} redirect(s): never a removal ({observation.detail})",
            )
        if observation.follow_up is not None:
            observation = await self._follow_up(post, ref, observation)
        observation = _confirmed(post, observation, capture.fetched_at)
        if self.vantages and observation.status.is_unavailable:
            observation = await self._across_vantages(post, ref, observation)
        await self._record(post, observation, capture)

    async def _record(self, post: PostState, observation: Observation, capture: Capture) -> None:
        """A check's answer, classified: logged as the post's observation, folded into its
        verdict when definitive, and its next check scheduled."""
        parts = self.parts
        platform = post.platform
        status = observation.status
        post.checks += 1
        parts.stats.checks += 1
        facts = self._refine_post(post, observation) if status.is_visible else None
        parts.recorder.observe(
            capture,
            kind="check",
            status=status,
            platform=platform,
            post=post,
            content=observation.content_hash,
            code=observation.code,
            detail=observation.detail,
            facts=facts,
        )
        now = capture.fetched_at
        if status.is_definitive:
            next_at = parts.fold_check(post, observation, capture.alive_at, now)
        elif (
            post.unconfirmed is not None
            and observation.code == f"unconfirmed_{post.unconfirmed[0]}"
        ):
            parts.stats.transient += 1  # not a failure: asked again once it can be confirmed
            next_at = max(now, post.unconfirmed[1] + CONFIRM_AFTER)
        else:
            post.failures += 1
            parts.stats.transient += 1
            retry = retry_after_seconds(capture) if capture.status == 429 else None
            retry_platform = parts.platform_seconds(retry) if retry else None
            next_at = parts.policy.after_failure(
                post.published_at, now, post.failures, retry_platform, post=post
            )
        parts.recorder.stage_verdict(post, now)
        parts.schedule_check(post, next_at)
        if self.media is not None and status.is_visible:
            await self._fetch_media(post, observation.detail)

    def _ref(self, post: PostState) -> PostRef:
        ref = self._refs.get(post.pk)
        if ref is None:  # a post's platform, id and author never change: one ref per post
            ref = self._refs[post.pk] = PostRef(post.platform, post.post_id, post.author_id)
        return ref

    def _many_at_once(self, post: PostState) -> bool:
        """Whether this check can ask for many posts in one request (``ManyPosts``): a post
        seen live, not waiting for its own confirming check."""
        return (
            post.platform in self._many_posts
            and post.verdict.status.is_visible
            and post.unconfirmed is None
            and post.pk not in self._single
        )

    async def _check_many(self, first: PostState, adapter: ManyPosts) -> None:
        """One request for ``first`` and the platform's other due checks of live posts (up to
        the adapter's limit): each post asked gets its own observation of the one answer. A
        post the answer does not show is never a removal by itself: it gets its own check now
        (``_single``), which says what happened."""
        parts = self.parts
        platform = first.platform
        denies = parts.recorder.denies

        def accept(post: PostState) -> bool:
            return (
                post.platform == platform
                and self._many_at_once(post)
                and not denies(post.platform, post.author_id)
            )

        others = parts.queue.take_due_checks(
            parts.clock.now(), adapter.max_posts_per_request - 1, accept
        )
        asked = [first, *others]
        parts.stats.shared_checks += len(others)
        for post in others:
            if parts.sightings:
                parts.log_sighting(post)
        refs = [self._ref(post) for post in asked]
        request = adapter.posts_request(refs)
        try:
            capture = await self.fetcher.fetch(request, platform, self.fetcher.check_cap)
        except asyncio.CancelledError:  # the run stops: the posts taken along stay scheduled
            for post in others:
                parts.queue.push_check(post, parts.clock.now())
            raise
        view = adapter.parse_posts(refs, capture)
        status, detail = view.status, view.detail
        if capture.status is not None and capture.error is not None:  # cut at the size cap
            status, detail = Status.UNREACHABLE, capture.error
        now = capture.fetched_at
        for post, ref in zip(asked, refs, strict=True):
            seen = view.seen.get(ref.post_id) if status is Status.LIVE else None
            if seen is not None:
                await self._record(post, seen, capture)  # as its own check would say it
                continue
            post.checks += 1
            parts.stats.checks += 1
            missing = status is Status.LIVE
            parts.recorder.observe(
                capture,
                kind="check",
                status=Status.UNREACHABLE,
                platform=platform,
                post=post,
                code="not_in_wide_view" if missing else None,
                detail=f"{len(asked)} posts asked at once; not shown: its own check follows now"
                if missing
                else f"{len(asked)} posts asked at once: {detail}",
            )
            if missing:  # not a failure: asked alone, at once
                self._single.add(post.pk)
                next_at: float | None = now
            else:
                post.failures += 1
                parts.stats.transient += 1
                next_at = parts.policy.after_failure(
                    post.published_at, now, post.failures, None, post=post
                )
            parts.recorder.stage_verdict(post, now)
            parts.schedule_check(post, next_at)

    def _answered(self, post: PostState) -> bool:
        """The lab's shortcut: a definitive answer known without sending, folded."""
        assert self.shortcut is not None
        parts = self.parts
        now = parts.clock.now()
        observation = self.shortcut(post, now)
        if observation is None or not observation.status.is_definitive:
            return False
        post.checks += 1
        parts.stats.checks += 1
        parts.recorder.observe(None, kind="check", status=observation.status, platform="")
        parts.schedule_check(post, parts.fold_check(post, observation, now, now))
        return True

    async def _follow_up(self, post: PostState, ref: PostRef, first: Observation) -> Observation:
        """A check that needs one more request (Weibo's long text): sent at once on the
        platform's budget, its answer logged (kind ``text``: not folded by itself), and the
        check completed by the adapter from both answers."""
        assert first.follow_up is not None
        parts = self.parts
        adapter = parts.adapters[post.platform]
        complete = getattr(adapter, "complete_check", None)
        if complete is None:
            return first
        await parts.budgets.bucket(post.platform).acquire()
        planner = counts_requests(parts.policy)
        if planner is not None:
            planner.after_other_request(post.platform, parts.clock.now())
        capture = await self.fetcher.fetch(first.follow_up, post.platform, self.fetcher.check_cap)
        completed: Observation = complete(ref, first, capture)
        parts.recorder.observe(
            capture,
            kind=TEXT_KIND,
            status=completed.status if completed.content_hash else Status.UNREACHABLE,
            platform=post.platform,
            post=post,
            content=completed.content_hash,
            detail="the whole text, for this post's check that follows"
            if completed.content_hash
            else "the whole text could not be read",
        )
        return completed

    def _refine_post(self, post: PostState, observation: Observation) -> dict[str, Any] | None:
        """What a visible answer says more exactly than the listing did: the publication time
        (a listing may give only the day or hour) and, the first time the text is hashed (a
        long post listed cut short), the whole text. Returns the facts its leaf states (so the
        post's row stays checked against the log), or None."""
        update: dict[str, Any] = {}
        exact = observation.published_at
        if (
            post.published_until is not None
            and exact is not None
            and post.published_at - 1.0 <= exact <= post.published_until + 1.0
        ):
            post.published_at, post.published_until = exact, None
            update.update(published_at=exact, published_until=None)
        if (
            post.verdict.content_hash is None
            and observation.content_hash is not None
            and observation.text is not None
        ):
            update["text"] = observation.text
        if not update:
            return None
        self.parts.recorder.stage_post_update(post.pk, update)
        facts: dict[str, Any] = {key: value for key, value in update.items() if key != "text"}
        if "text" in update:
            facts["text_sha256"] = text_digest(update["text"])
        return facts

    async def _fetch_media(self, post: PostState, detail: str) -> None:
        """Each media reference of a visible post not fetched yet, once, on the platform's
        budget; logged as a ``media`` observation, never folded into the verdict (media.py)."""
        assert self.media is not None
        parts = self.parts
        bucket = parts.budgets.bucket(post.platform)
        label = f"{post.platform} post {post.post_id}"
        planner = counts_requests(parts.policy)
        for kind, url in self.media.wanted(post.pk, post.platform, detail):
            await bucket.acquire()
            if planner is not None:
                planner.after_other_request(post.platform, parts.clock.now())
            transport = self.fetcher.transport
            result = await self.media.fetch(transport, parts.clock, post.pk, kind, url, label)
            capture = result.capture
            if capture.status == 429 and self.media.same_host(post.platform, url):
                wait = retry_after_seconds(capture) or 1.0
                bucket.pause_until(capture.fetched_at + parts.platform_seconds(wait))
            parts.recorder.observe(
                capture,
                kind=MEDIA_KIND,
                status=result.status,
                platform=post.platform,
                post=post,
                code=result.code,
                detail=result.detail,
            )
