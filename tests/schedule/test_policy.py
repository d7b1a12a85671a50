from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from memoryhole.classify import first_verdict, fold
from memoryhole.model import Observation, Status
from memoryhole.schedule.policy import AgeProportional

POLICY = AgeProportional(first_check_after=60, max_interval=3600, horizon=86400)


def test_gaps_grow_with_age_and_are_clamped() -> None:
    assert POLICY.regular_gap(0) == 60
    assert POLICY.regular_gap(1000) == 500
    assert POLICY.regular_gap(10**6) == 3600


def test_live_post_is_checked_until_the_horizon_and_the_last_check_is_at_the_horizon() -> None:
    verdict = first_verdict(0.0, "h")
    now = 0.0
    checks = []
    next_at = POLICY.after_discovery(0.0, now)
    while next_at is not None:
        assert next_at > now
        now = next_at
        checks.append(now)
        next_at = POLICY.after_check(verdict, 0.0, now)
    assert checks[-1] == 86400.0
    assert all(b - a <= 3600 + 1e-9 for a, b in itertools.pairwise(checks))
    assert len(checks) < 60


def test_removed_post_gets_a_bounded_number_of_confirmations() -> None:
    verdict = first_verdict(0.0, "h")
    fold(verdict, Observation(Status.CENSORED), 500.0, 500.0)
    now, confirmations = 500.0, 0
    next_at = POLICY.after_check(verdict, 0.0, now)
    while next_at is not None:
        now = next_at
        confirmations += 1
        next_at = POLICY.after_check(verdict, 0.0, now)
    assert confirmations == POLICY.confirmations


@given(
    failures=st.integers(min_value=1, max_value=50),
    now=st.floats(min_value=0, max_value=86400),
    retry_after=st.none() | st.floats(min_value=0, max_value=600),
)
def test_failed_checks_are_retried_soon_and_honour_retry_after(failures, now, retry_after) -> None:
    next_at = POLICY.after_failure(0.0, now, failures, retry_after)
    assert next_at is not None  # a failure never silently ends the checks of a post
    assert next_at > now or (retry_after == 0 and next_at >= now)
    if retry_after is not None:
        assert next_at >= now + retry_after
    assert next_at - now <= max(POLICY.regular_gap(now), retry_after or 0) + 1e-9
