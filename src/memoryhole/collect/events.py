"""The collector's event queue: which check or listing poll is due when.

One heap orders every event by time (``POLL`` before ``CHECK`` at equal times, so new posts
exist before their checks). Rescheduling pushes a new entry; the old one goes stale and is
dropped when it comes up (``is_current``), which is cheaper than removing it.

Listings are polled on one of two rhythms: the policy's (it plans the poll: a timeline it
watches as a wide view) or the collector's own (a feed, every ``poll_interval``). The feeds'
polls also wait in a queue per platform (``feed_head``): a poll of a feed that has come due
takes the next token ahead of checks, so discovery is never pushed back behind them.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Iterable

from memoryhole.store.state import CollectorState, PostState, TargetState

POLL, CHECK = 0, 1  # event kinds; polls first at equal times, so new posts exist before checks

Event = tuple[float, int, int]  # (due, kind, post or target pk)


class EventQueue:
    def __init__(self, state: CollectorState) -> None:
        self.state = state
        self.heap: list[Event] = []
        #: Each platform's listings polled on the collector's own rhythm, by due time.
        self.feeds: dict[str, list[tuple[float, int]]] = {}
        self.planned: set[int] = set()  # listings whose polls the policy plans
        self.polling: set[int] = set()  # listings being polled now (workers run several)
        self.wake = asyncio.Event()  # set when something is scheduled
        for post in state.posts.values():
            if post.next_check_at is not None:
                self.heap.append((post.next_check_at, CHECK, post.pk))
        for target in state.targets.values():
            self.heap.append((target.next_poll_at, POLL, target.pk))
            self.feeds.setdefault(target.target.platform, []).append(
                (target.next_poll_at, target.pk)
            )
        heapq.heapify(self.heap)
        for waiting in self.feeds.values():
            heapq.heapify(waiting)

    def __len__(self) -> int:
        return len(self.heap)

    def head(self) -> Event | None:
        return self.heap[0] if self.heap else None

    def pop(self) -> Event:
        return heapq.heappop(self.heap)

    def restore_planned(self, planned: Iterable[int]) -> None:
        """The listings whose polls the policy plans, as committed: they leave the feeds."""
        self.planned = {pk for pk in planned if pk in self.state.targets}
        for waiting in self.feeds.values():
            waiting[:] = [(at, pk) for at, pk in waiting if pk not in self.planned]
            heapq.heapify(waiting)

    def is_current(self, when: float, kind: int, key: int) -> bool:
        """Whether an entry is still its event's time (not rescheduled, not being polled)."""
        if kind == CHECK:
            post = self.state.posts.get(key)
            return post is not None and post.next_check_at == when
        target = self.state.targets.get(key)
        return target is not None and target.next_poll_at == when and key not in self.polling

    def platform_of(self, kind: int, key: int) -> str:
        if kind == CHECK:
            return self.state.posts[key].platform
        return self.state.targets[key].target.platform

    def push_check(self, post: PostState, when: float | None) -> None:
        post.next_check_at = when
        if when is not None:
            heapq.heappush(self.heap, (when, CHECK, post.pk))
            self.wake.set()

    def push_poll(self, target: TargetState, when: float, *, planned: bool = False) -> None:
        """``planned``: the policy set this time, not the collector's own rhythm."""
        target.next_poll_at = when
        heapq.heappush(self.heap, (when, POLL, target.pk))
        if planned:
            self.planned.add(target.pk)
        else:
            self.planned.discard(target.pk)
            waiting = self.feeds.setdefault(target.target.platform, [])
            heapq.heappush(waiting, (when, target.pk))
            if len(waiting) > 64 + 2 * len(self.state.targets):
                # Checks drain it; on a platform without checks stale entries would pile up.
                waiting[:] = [(at, pk) for at, pk in waiting if self.is_current(at, POLL, pk)]
                heapq.heapify(waiting)
        self.wake.set()

    def take_due_checks(
        self, now: float, limit: int, accept: Callable[[PostState], bool], scan: int = 256
    ) -> list[PostState]:
        """Up to ``limit`` checks due by ``now`` whose posts ``accept`` takes, off the queue
        (their time cleared: nobody else checks them meanwhile); the other due events stay.
        Looks at ``scan`` due entries at most."""
        taken: list[PostState] = []
        kept: list[Event] = []
        while self.heap and self.heap[0][0] <= now and len(taken) < limit and scan > 0:
            scan -= 1
            when, kind, key = heapq.heappop(self.heap)
            if not self.is_current(when, kind, key):
                continue  # stale: dropped, as it would be when it came up
            post = self.state.posts[key] if kind == CHECK else None
            if post is not None and accept(post):
                post.next_check_at = None
                taken.append(post)
            else:
                kept.append((when, kind, key))
        for entry in kept:
            heapq.heappush(self.heap, entry)
        return taken

    def feed_head(self, platform: str) -> tuple[float, int] | None:
        """The platform's next feed poll (due time, target), after dropping the entries
        rescheduled since, being polled, or planned by the policy."""
        waiting = self.feeds.get(platform)
        while waiting:
            when, pk = waiting[0]
            if self.is_current(when, POLL, pk) and pk not in self.planned:
                return when, pk
            heapq.heappop(waiting)
        return None

    def pop_feed(self, platform: str) -> int:
        """Take the platform's feed poll that ``feed_head`` showed."""
        return heapq.heappop(self.feeds[platform])[1]

    def taken(self, kind: int, key: int) -> tuple[int, int]:
        """A listing a worker has taken is being polled from now, while it waits for its
        token too: another worker that meets it in the queue leaves it alone."""
        if kind == POLL:
            self.polling.add(key)
        return kind, key

    def requeue(self, kind: int, key: int) -> None:
        """Put back an event taken but not run (the run is stopping, or a feed poll took its
        token): it stays scheduled."""
        if kind == CHECK:
            post = self.state.posts[key]
            if post.next_check_at is not None:
                heapq.heappush(self.heap, (post.next_check_at, CHECK, key))
        else:
            self.polling.discard(key)
            target = self.state.targets[key]
            heapq.heappush(self.heap, (target.next_poll_at, POLL, key))
