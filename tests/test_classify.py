"""The verdict state machine: only definitive answers move a verdict, and intervals are honest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memoryhole.classify import first_verdict, fold
from memoryhole.model import Observation, Status

LIVE = Observation(Status.LIVE, content_hash="h1")
EDITED = Observation(Status.LIVE, content_hash="h2")
CENSORED = Observation(Status.CENSORED, code="20112", detail="permission denied")
DELETED = Observation(Status.AUTHOR_DELETED, code="20101")
SUSPENDED = Observation(Status.ACCOUNT_SUSPENDED, code="20003")
UNKNOWN = Observation(Status.REMOVED_UNKNOWN)
TRANSIENT = Observation(Status.UNREACHABLE, detail="timeout")
WITHHELD = Observation(
    Status.WITHHELD, code="local_laws", detail="withheld in RU: can't be displayed (local laws)"
)


def test_transient_never_changes_a_verdict() -> None:
    verdict = first_verdict(0.0, "h1")
    assert not fold(verdict, TRANSIENT, 10.0, 11.0)
    assert verdict.status is Status.LIVE and verdict.last_seen_alive_at == 0.0


def test_removal_interval_uses_send_time_for_alive_and_answer_time_for_removed() -> None:
    verdict = first_verdict(0.0, "h1")
    fold(verdict, LIVE, 10.0, 12.0)
    fold(verdict, CENSORED, 20.0, 22.0)
    assert verdict.status is Status.CENSORED
    assert verdict.last_seen_alive_at == 10.0
    assert verdict.first_seen_removed_at == 22.0
    assert verdict.signal == "permission denied"


def test_first_removal_kind_sticks_but_history_records_later_ones() -> None:
    verdict = first_verdict(0.0, "h1")
    fold(verdict, CENSORED, 5.0, 5.0)
    fold(verdict, SUSPENDED, 9.0, 9.0)
    assert verdict.status is Status.CENSORED
    assert verdict.first_seen_removed_at == 5.0
    assert [s for _, s in verdict.history] == ["live", "censored", "account_suspended"]


def test_unknown_is_refined_by_a_specific_kind() -> None:
    verdict = first_verdict(0.0, None)
    fold(verdict, UNKNOWN, 5.0, 5.0)
    fold(verdict, DELETED, 9.0, 9.0)
    assert verdict.status is Status.AUTHOR_DELETED
    assert verdict.first_seen_removed_at == 5.0


def test_ghost_post_comes_back_and_keeps_its_history() -> None:
    verdict = first_verdict(0.0, "h1")
    fold(verdict, CENSORED, 5.0, 5.0)
    fold(verdict, LIVE, 9.0, 9.5)
    assert verdict.status is Status.LIVE
    assert verdict.first_seen_removed_at is None
    assert verdict.last_seen_alive_at == 9.0
    assert "censored" in [s for _, s in verdict.history]


def test_edit_is_detected_and_still_exports_as_live() -> None:
    verdict = first_verdict(0.0, "h1")
    fold(verdict, EDITED, 5.0, 5.0)
    assert verdict.status is Status.EDITED and verdict.edited
    assert verdict.export_value == "live"


def test_withheld_is_not_a_removal_and_keeps_the_region_and_reason() -> None:
    assert not Status.WITHHELD.is_removal and not Status.WITHHELD.is_visible
    assert Status.WITHHELD.is_definitive and Status.WITHHELD.is_unavailable
    verdict = first_verdict(0.0, "h1")
    fold(verdict, LIVE, 4.0, 4.5)
    assert fold(verdict, WITHHELD, 10.0, 11.0)
    assert verdict.status is Status.WITHHELD and verdict.export_value == "withheld"
    assert (verdict.last_seen_alive_at, verdict.first_seen_removed_at) == (4.0, 11.0)
    assert verdict.signal == "withheld in RU: can't be displayed (local laws)"


def test_a_removal_after_withheld_replaces_it_dated_by_its_own_answer() -> None:
    verdict = first_verdict(0.0, "h1")
    fold(verdict, WITHHELD, 5.0, 5.5)
    assert fold(verdict, CENSORED, 9.0, 9.5)
    assert verdict.status is Status.CENSORED
    assert (verdict.last_seen_alive_at, verdict.first_seen_removed_at) == (0.0, 9.5)
    assert [s for _, s in verdict.history] == ["live", "withheld", "censored"]


def test_withheld_after_a_removal_is_history_only_and_never_refines_unknown() -> None:
    for removal in (CENSORED, UNKNOWN):
        verdict = first_verdict(0.0, "h1")
        fold(verdict, removal, 5.0, 5.0)
        fold(verdict, WITHHELD, 9.0, 9.0)
        assert verdict.status is removal.status and verdict.first_seen_removed_at == 5.0
        assert [s for _, s in verdict.history][-1] == "withheld"


def test_withheld_then_visible_is_visible_again() -> None:
    verdict = first_verdict(0.0, "h1")
    fold(verdict, WITHHELD, 5.0, 5.0)
    fold(verdict, LIVE, 9.0, 9.5)
    assert verdict.status is Status.LIVE and verdict.first_seen_removed_at is None
    assert verdict.signal == "visible again" and verdict.last_seen_alive_at == 9.0


observations = st.sampled_from(
    [LIVE, EDITED, CENSORED, DELETED, SUSPENDED, UNKNOWN, WITHHELD, TRANSIENT]
)


@given(st.lists(observations, max_size=30))
def test_a_verdict_is_never_unreachable_and_removals_rest_on_definitive_answers(sequence) -> None:
    verdict = first_verdict(0.0, "h1")
    for index, observation in enumerate(sequence, start=1):
        fold(verdict, observation, float(index), float(index) + 0.5)
        assert verdict.status is not Status.UNREACHABLE
    definitive = [o for o in sequence if o.status.is_definitive]
    if verdict.status.is_removal:
        assert any(o.status.is_removal for o in definitive)
        assert verdict.first_seen_removed_at is not None
        assert verdict.last_seen_alive_at is not None
        assert verdict.last_seen_alive_at < verdict.first_seen_removed_at
    if verdict.status is Status.WITHHELD:  # only ever from a withheld answer, never a removal
        assert any(o.status is Status.WITHHELD for o in definitive)
        assert verdict.first_seen_removed_at is not None
    if not definitive:
        assert verdict.status is Status.LIVE
