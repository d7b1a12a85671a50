"""One poll of one listing (a timeline, a search, a feed): new posts, sightings and notices.

A listing creates the posts it shows that the study does not hold (each with a ``post`` leaf
stating its facts) and plans their first checks. It never states a removal: a post missing from
a listing is only checked sooner, a listing that says its whole target went (a suspended
account) makes each of its posts be checked now, and a removal notice it shows about a known
post (a repost's original) is folded like a check, attributed by the notice's own words.
Items that could not be read are counted on the target and logged with the listing.
"""

from __future__ import annotations

from memoryhole.classify import first_verdict
from memoryhole.collect.fetch import Fetcher
from memoryhole.collect.parts import Parts
from memoryhole.model import Capture, Discovery, Observation, Status, content_hash
from memoryhole.schedule.base import ListingRequest, WideView, wide_view
from memoryhole.store.state import PostState, TargetState


class Listings:
    def __init__(self, parts: Parts, fetcher: Fetcher, *, poll_interval: float) -> None:
        self.parts = parts
        self.fetcher = fetcher
        self.poll_interval = poll_interval

    async def poll(self, target: TargetState) -> None:
        parts = self.parts
        platform = target.target.platform
        adapter = parts.adapters[platform]
        wide = wide_view(parts.policy)
        request = wide.listing_request(target, parts.clock.now()) if wide is not None else None
        cursor = request.cursor if request is not None else target.cursor
        capture, _ = await self.fetcher.fetch_following(
            adapter.discover_request(target.target, cursor), platform, target=target
        )
        discovery = adapter.parse_discover(target.target, capture)
        if capture.status is not None and capture.error is not None:  # cut at the size cap
            discovery = Discovery((), None, Status.UNREACHABLE, capture.error)
        parts.stats.polls += 1
        observation_id = parts.recorder.observe(
            capture,
            kind="discover",
            status=discovery.status,
            platform=platform,
            target_pk=target.pk,
            detail=discovery.detail or f"{len(discovery.posts)} posts listed",
        )
        now = capture.fetched_at
        if discovery.confirm_all:
            self._confirm_all(target, now)
        if discovery.status is Status.UNREACHABLE:
            self._count_unreadable(target, discovery)
            parts.stats.transient += 1
            # A refusal that said what happened (a banned community) is not retried sooner.
            retry = self.poll_interval if discovery.confirm_all else min(self.poll_interval, 30.0)
            parts.schedule_poll(target, now + retry, planned=target.pk in parts.queue.planned)
            return
        self._create_posts(target, discovery, capture, observation_id)
        self._count_unreadable(target, discovery)
        if discovery.notices:
            self._apply_notices(discovery, capture, platform)
        if discovery.accounts_gone:
            self._confirm_accounts(platform, frozenset(discovery.accounts_gone), now)
        if wide is not None and request is not None:
            next_poll = self._apply_listing(
                wide, target, request, discovery, capture, observation_id
            )
            if next_poll is not None:
                parts.schedule_poll(target, next_poll, planned=True)
                return
        # "More" with the cursor it was asked with would ask the same page again at once, for
        # ever: a listing that does not move on waits for its next poll.
        moved = discovery.next_cursor is not None and discovery.next_cursor != cursor
        if discovery.next_cursor:
            target.cursor = discovery.next_cursor
        parts.schedule_poll(target, now if discovery.more and moved else now + self.poll_interval)

    def postponed(self, target_pk: int) -> bool:
        """A wide-view policy may put a listing poll off (no request, no token spent)."""
        parts = self.parts
        wide = wide_view(parts.policy)
        if wide is None:
            return False
        target = parts.state.targets[target_pk]
        later = wide.listing_request(target, parts.clock.now()).postpone_until
        if later is None:
            return False
        parts.schedule_poll(target, later, planned=True)
        return True

    def _create_posts(
        self, target: TargetState, discovery: Discovery, capture: Capture, listing_id: int
    ) -> None:
        parts, state = self.parts, self.parts.state
        platform, now = target.target.platform, capture.fetched_at
        withheld = False
        for seen in discovery.posts:
            if parts.recorder.denies(platform, seen.author_id):
                if not withheld:  # the listing's body shows them: it is not kept
                    parts.recorder.withhold(capture, platform, seen.author_id)
                    withheld = True
                continue
            if (platform, seen.post_id) in state.post_keys:
                continue
            post = PostState(
                pk=state.new_post_pk(),
                platform=platform,
                post_id=seen.post_id,
                author_id=seen.author_id,
                published_at=seen.published_at,
                verdict=first_verdict(
                    capture.alive_at, None if seen.truncated else content_hash(seen.text)
                ),
                published_until=seen.published_until,
                target_pk=target.pk,
            )
            state.posts[post.pk] = post
            state.post_keys[(platform, seen.post_id)] = post.pk
            parts.recorder.new_post(
                {
                    "id": post.pk,
                    "platform": platform,
                    "post_id": seen.post_id,
                    "author_pk": parts.recorder.author_pk(platform, seen.author_id),
                    "target_pk": target.pk,
                    "published_at": seen.published_at,
                    "published_until": seen.published_until,
                    "first_seen_at": capture.alive_at,
                    "text": seen.text,
                    "discovered_by": listing_id,
                }
            )
            parts.stats.discovered += 1
            # Its facts as the listing gave them, as a leaf of the post (``post``: format 2),
            # so that what exports say of it (author, times, text) is checked against the log.
            parts.recorder.post_facts(capture, post, seen, target.target.spec, listing_id)
            parts.recorder.stage_verdict(post, now)
            next_at = parts.policy.after_discovery(
                seen.published_at, now, post=post, text=seen.text
            )
            parts.schedule_check(post, next_at)

    def _count_unreadable(self, target: TargetState, discovery: Discovery) -> None:
        if discovery.unreadable:
            self.parts.stats.unreadable += len(discovery.unreadable)
            target.unreadable += len(discovery.unreadable)
            target.last_unreadable = discovery.unreadable[-1][:500]

    def _apply_notices(self, discovery: Discovery, capture: Capture, platform: str) -> None:
        """A listing's notice about a known post is an observation of that post, folded like a
        check. Notices about posts the study does not hold are in the listing's logged answer
        (its body) and nowhere else: there is no post to date them against."""
        parts = self.parts
        keys, posts = parts.state.post_keys, parts.state.posts
        for notice in discovery.notices:
            pk = keys.get((platform, notice.post_id))
            if pk is None:
                continue
            post = posts[pk]
            parts.stats.notices += 1
            if parts.sightings:
                parts.log_sighting(post)
            observation = Observation(notice.status, code=notice.code, detail=notice.detail)
            post.checks += 1
            parts.recorder.observe(
                capture,
                kind="check",
                status=notice.status,
                platform=platform,
                post=post,
                code=notice.code,
                detail=notice.detail,
            )
            parts.fold_check(post, observation, capture.alive_at, capture.fetched_at)
            parts.recorder.stage_verdict(post, capture.fetched_at)

    def _confirm_all(self, target: TargetState, now: float) -> None:
        """The listing says every post of its target went at once (an account suspended, a
        community banned): each known visible post of it gets its own check now, which is what
        states its removal (a listing never does)."""
        for post in self.parts.state.posts.values():
            if post.verdict.status.is_visible and _of_target(post, target):
                self.parts.schedule_check(post, now)

    def _confirm_accounts(self, platform: str, authors: frozenset[str], now: float) -> None:
        """Accounts the answer says went inactive: each known visible post of theirs is
        checked now (the check, not the listing, states what happened to it)."""
        for post in self.parts.state.posts.values():
            if (
                post.platform == platform
                and post.author_id in authors
                and post.verdict.status.is_visible
            ):
                self.parts.schedule_check(post, now)

    def _apply_listing(
        self,
        wide: WideView,
        target: TargetState,
        request: ListingRequest,
        discovery: Discovery,
        capture: Capture,
        observation_id: int,
    ) -> float | None:
        """A listing shows known posts visible: the policy plans checks (``now`` confirms a
        post missing from it: a missing post is never a removal by itself) and polls."""
        parts = self.parts
        now, platform = capture.fetched_at, target.target.platform
        sightings, keys, posts = parts.sightings, parts.state.post_keys, parts.state.posts
        sighting = (capture, target.target.spec, observation_id)
        listed: list[PostState] = []
        for seen in discovery.posts:
            pk = keys.get((platform, seen.post_id))
            if pk is not None:
                listed.append(posts[pk])
                sightings[pk] = sighting  # logged, if still news, before the post's next check
        plan = wide.on_listing(target, request, discovery, listed, now)
        for pk, when in plan.checks.items():
            if pk in posts:
                parts.schedule_check(posts[pk], when)
        for pk, when in plan.polls.items():
            other = parts.state.targets.get(pk)
            if other is not None and when < other.next_poll_at:
                parts.schedule_poll(other, when, planned=True)
        return plan.next_poll_at


def _of_target(post: PostState, target: TargetState) -> bool:
    spec = target.target
    if post.platform != spec.platform:
        return False
    if spec.kind == "user":
        return post.author_id == spec.key
    return post.target_pk == target.pk
