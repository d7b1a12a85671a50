"""Timelines and the change-point detector: a rule switched on (or off) at a known time is
flagged near that time; terms whose rule never changed are not."""

from __future__ import annotations

import numpy as np
import pytest

from memoryhole.analysis.changepoint import _union_bound, detect_change
from memoryhole.analysis.study_data import StudyData
from memoryhole.analysis.tables import ALL_POSTS, change_points, timeline_table
from tests.analysis.study_fixtures import CONTROLS, NEW_RULE, OLD_RULE, PLANTED, PlantedStudy

HOUR = 3600.0


@pytest.fixture(scope="module")
def data(planted_data: StudyData) -> StudyData:
    return planted_data


@pytest.fixture(scope="module")
def changes(data: StudyData) -> object:
    return change_points(data)


def test_rule_switched_on_and_off_is_flagged_near_the_true_time(
    changes: object, planted_study: PlantedStudy
) -> None:
    import pandas as pd

    assert isinstance(changes, pd.DataFrame)
    significant = changes[changes["significant"]]
    by_term = significant.set_index("term")
    true_time = planted_study.rule_change_at
    # jieba splits the invented rules into two words each; every one of them is flagged.
    new_words = [t for t in by_term.index if t[2:] in NEW_RULE]
    old_words = [t for t in by_term.index if t[2:] in OLD_RULE]
    assert new_words and old_words
    for term in new_words:
        row = by_term.loc[term]
        assert row["direction"] == "up"
        assert abs(row["change_at"] - true_time) < 3 * HOUR
        assert row["ci_before_high"] < row["ci_after_low"]
    for term in old_words:
        row = by_term.loc[term]
        assert row["direction"] == "down"
        assert abs(row["change_at"] - true_time) < 3 * HOUR
        assert row["q_value"] < 1e-6


def test_terms_without_a_rule_change_are_not_flagged(changes: object) -> None:
    import pandas as pd

    assert isinstance(changes, pd.DataFrame)
    significant = set(changes[changes["significant"]]["term"])
    for rule in (*PLANTED, *CONTROLS):
        assert not any(term[2:] in rule for term in significant), rule
    # Only the switched rules' words change; the scan covered many words.
    assert len(significant) <= 6
    assert changes.attrs["series"] > 100
    assert ALL_POSTS in set(changes["term"])


def test_timeline_of_a_term_shows_the_jump(data: StudyData, planted_study: PlantedStudy) -> None:
    bins = timeline_table(data, bin="day", term=NEW_RULE)
    published = bins[bins["posts"] > 0]
    assert published["posts"].sum() == int(data.term_mask(NEW_RULE).sum())
    day_of_change = int((planted_study.rule_change_at - published["bin_start"].min()) // 86400)
    before = published.iloc[:day_of_change]
    after = published.iloc[day_of_change + 1 :]
    assert (before["rate"] < 0.3).all() and (after["rate"] > 0.5).all()
    assert ((bins["ci_low"] <= bins["rate"]) | bins["rate"].isna()).all()


def test_timeline_counts_add_up(data: StudyData) -> None:
    bins = timeline_table(data, bin="6h", within=None)
    assert bins["posts"].sum() == data.n_posts
    assert bins["eligible"].sum() == data.n_posts
    censored = int((data.posts["verdict"] == "censored").sum())
    assert bins["removed"].sum() == bins["removed_any"].sum() == censored
    assert bins["removals_seen"].sum() == censored
    assert np.all(np.diff(bins["bin_start"]) == 6 * HOUR)
    within = timeline_table(data, bin="day", within=3600.0)
    assert within["removed"].sum() < censored


# ----------------------------------------------------------------------------- the detector


def test_detector_finds_a_synthetic_jump() -> None:
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0, 48 * HOUR, 400))
    removed = rng.random(400) < np.where(times < 30 * HOUR, 0.05, 0.5)
    change = detect_change(times, removed)
    assert change is not None
    assert abs(change.change_at - 30 * HOUR) < 2 * HOUR
    assert change.p_value < 1e-6 and change.direction == "up"


def test_detector_is_calibrated_under_no_change() -> None:
    rng = np.random.default_rng(4)
    p_values = []
    for seed in range(120):
        times = np.sort(rng.uniform(0, 48 * HOUR, 150))
        change = detect_change(times, rng.random(150) < 0.2, permutations=199, seed=seed)
        assert change is not None
        p_values.append(change.p_value)
    p = np.array(p_values)
    assert np.mean(p < 0.05) <= 0.08
    assert np.mean(p < 0.5) >= 0.3  # not degenerate either


def test_union_bound_matches_brute_force() -> None:
    from itertools import combinations

    n, k = 9, 3
    cum_n = np.arange(2, 8, dtype=np.float64)  # splits leaving 2+ posts each side

    def max_llr(ones: tuple[int, ...]) -> float:
        y = np.zeros(n, dtype=bool)
        y[list(ones)] = True
        best = 0.0
        for m in cum_n.astype(int):
            a, b = y[:m], y[m:]
            ll = 0.0
            for part in (a, b):
                p = part.mean()
                ll += sum(np.log(p if v else 1 - p) for v in part if 0 < p < 1)
            p0 = k / n
            best = max(best, 2 * (ll - sum(np.log(p0 if v else 1 - p0) for v in y)))
        return best

    observed = max_llr((0, 1, 2))
    exact_tail = np.mean([max_llr(c) >= observed - 1e-9 for c in combinations(range(n), k)])
    bound = _union_bound(cum_n, n, k, observed)
    assert exact_tail <= bound + 1e-12
    assert bound < 0.2


def test_detector_declines_series_that_cannot_change() -> None:
    times = np.arange(50, dtype=np.float64)
    assert detect_change(times, np.zeros(50, dtype=bool)) is None
    assert detect_change(times[:15], np.arange(15) % 2 == 0) is None
