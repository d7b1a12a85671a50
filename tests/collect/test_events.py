"""The collector's event queue (collect/events.py): what is due when, and which entries count."""

from __future__ import annotations

from memoryhole.classify import first_verdict
from memoryhole.collect.events import CHECK, POLL, EventQueue
from memoryhole.model import Target
from memoryhole.store.state import CollectorState, PostState, TargetState


def make_state(posts: int = 2, feeds: int = 1, timelines: int = 1) -> CollectorState:
    state = CollectorState({}, {}, {}, {}, 1, 1, 1)
    for pk in range(1, posts + 1):
        post = PostState(pk, "weibo", str(pk), "a", 0.0, first_verdict(0.0, None))
        post.next_check_at = 100.0 + pk
        state.posts[pk] = post
        state.post_keys[("weibo", str(pk))] = pk
    for i in range(feeds + timelines):
        pk = 10 + i
        target = Target("weibo", "all") if i < feeds else Target("weibo", "user", str(i))
        state.targets[pk] = TargetState(pk, target, None, 50.0)
    return state


def drain(queue: EventQueue) -> list[tuple[float, int, int]]:
    due = []
    while queue.head() is not None:
        event = queue.pop()
        if queue.is_current(*event):
            due.append(event)
    return due


def test_events_come_in_time_order_polls_before_checks_at_equal_times() -> None:
    state = make_state()
    state.posts[1].next_check_at = 50.0  # same time as the polls
    queue = EventQueue(state)
    assert drain(queue) == [
        (50.0, POLL, 10),
        (50.0, POLL, 11),
        (50.0, CHECK, 1),
        (102.0, CHECK, 2),
    ]


def test_a_rescheduled_check_leaves_a_stale_entry_that_no_longer_counts() -> None:
    state = make_state()
    queue = EventQueue(state)
    post = state.posts[1]
    queue.push_check(post, 500.0)
    assert post.next_check_at == 500.0
    assert not queue.is_current(101.0, CHECK, 1)
    queue.push_check(state.posts[2], None)  # no more checks
    assert [e for e in drain(queue) if e[1] == CHECK] == [(500.0, CHECK, 1)]


def test_a_planned_poll_leaves_the_feeds_and_a_feed_poll_joins_them() -> None:
    state = make_state()
    queue = EventQueue(state)
    assert queue.feed_head("weibo") == (50.0, 10)
    queue.push_poll(state.targets[10], 70.0, planned=True)  # the policy plans it now
    queue.push_poll(state.targets[11], 60.0)  # the collector's own rhythm
    assert 10 in queue.planned and 11 not in queue.planned
    assert queue.feed_head("weibo") == (60.0, 11)
    assert queue.pop_feed("weibo") == 11
    assert queue.feed_head("weibo") is None


def test_restored_planned_polls_are_not_feeds_and_unknown_targets_are_ignored() -> None:
    state = make_state(feeds=2, timelines=0)
    queue = EventQueue(state)
    queue.restore_planned([10, 999])
    assert queue.planned == {10}
    assert queue.feed_head("weibo") == (50.0, 11)


def test_a_listing_being_polled_is_not_due_until_it_is_put_back() -> None:
    state = make_state(posts=0)
    queue = EventQueue(state)
    assert queue.taken(POLL, 10) == (POLL, 10)
    assert not queue.is_current(50.0, POLL, 10)
    assert queue.feed_head("weibo") == (50.0, 11)  # another worker leaves it alone
    queue.requeue(POLL, 10)
    assert queue.is_current(50.0, POLL, 10)
    assert (50.0, POLL, 10) in drain(queue)


def test_a_check_put_back_keeps_its_time_and_one_without_a_time_is_dropped() -> None:
    state = make_state(feeds=0, timelines=0)
    queue = EventQueue(state)
    drain(queue)
    queue.requeue(CHECK, 1)
    state.posts[2].next_check_at = None
    queue.requeue(CHECK, 2)
    assert drain(queue) == [(101.0, CHECK, 1)]


def test_stale_feed_entries_do_not_pile_up_on_a_platform_without_checks() -> None:
    state = make_state(posts=0)
    queue = EventQueue(state)
    for i in range(1000):
        queue.push_poll(state.targets[10], 100.0 + i)
    assert len(queue.feeds["weibo"]) <= 64 + 2 * len(state.targets) + 1
    assert queue.feed_head("weibo") == (50.0, 11)


def test_scheduling_wakes_idle_workers() -> None:
    state = make_state()
    queue = EventQueue(state)
    queue.wake.clear()
    queue.push_check(state.posts[1], 10.0)
    assert queue.wake.is_set()
    queue.wake.clear()
    queue.push_check(state.posts[1], None)
    assert not queue.wake.is_set()
