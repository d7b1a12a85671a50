"""Time to removal on a replayed study: the Turnbull median covers the true one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from memoryhole.analysis.study_data import StudyData
from memoryhole.analysis.tables import ALL_POSTS, OTHER_POSTS, survival_table
from memoryhole.scenario import effective_removal, suspension_times
from tests.analysis.study_fixtures import PLANTED, PlantedStudy


@pytest.fixture(scope="module")
def data(planted_data: StudyData) -> StudyData:
    return planted_data


def _true_delays(study: PlantedStudy, kind: str, until: float) -> np.ndarray:
    """Publication-to-removal times of the posts the scenario removes by ``kind`` before the
    study's last observation (the population the study can see)."""
    posts = [p.post for p in study.planted]
    suspended = suspension_times(posts)
    delays = []
    for post in posts:
        removal = effective_removal(post, suspended)
        if removal is not None and removal[1] == kind and removal[0] <= until:
            delays.append(removal[0] - post.published_at)
    return np.array(delays)


def test_turnbull_median_covers_the_true_median(
    data: StudyData, planted_study: PlantedStudy
) -> None:
    assert data.observed_until is not None
    truth = _true_delays(planted_study, "censored", data.observed_until)
    curves, summary = survival_table(data, bootstrap=200)
    row = summary.iloc[0]
    assert row["group"] == ALL_POSTS
    assert row["n"] == row["events"] == int((data.posts["verdict"] == "censored").sum())
    assert abs(row["n"] - truth.size) <= 0.05 * truth.size
    true_median = float(np.median(truth))
    assert row["median_ci_low"] <= true_median <= row["median_ci_high"]
    assert row["median"] == pytest.approx(true_median, rel=0.25)
    # The naive estimate (removal = when it was first seen gone) is late.
    _, naive = survival_table(data, method="km_naive", bootstrap=0)
    assert naive.iloc[0]["median"] > row["median"]
    assert curves["survival"].is_monotonic_decreasing
    assert curves["survival"].iloc[0] == 1.0 and curves["survival"].iloc[-1] < 0.01


def test_curves_by_kind_and_by_term(data: StudyData) -> None:
    _, by_kind = survival_table(data, kind=None, group_by="kind", bootstrap=0)
    counts = data.posts["verdict"].value_counts()
    # on Weibo an author's deletion reads "unknown" (errno 20101)
    assert set(by_kind["group"]) == {"censored", "unknown", "account_suspended"}
    for _, row in by_kind.iterrows():
        assert row["n"] == row["events"] == counts[row["group"]]
        assert math.isfinite(row["median"])
    _, by_term = survival_table(data, group_by=f"term:{PLANTED[0]},{PLANTED[1]}", bootstrap=0)
    assert list(by_term["group"]) == [PLANTED[0], PLANTED[1], OTHER_POSTS]
    assert by_term["n"].iloc[0] == int(
        (data.term_mask(PLANTED[0]) & (data.posts["verdict"] == "censored")).sum()
    )


def test_all_posts_population_right_censors_the_rest(data: StudyData) -> None:
    _, summary = survival_table(data, population="all", bootstrap=0)
    row = summary.iloc[0]
    assert row["n"] == data.n_posts
    assert row["events"] == int((data.posts["verdict"] == "censored").sum())
    assert math.isnan(row["median"])  # far fewer than half the posts are censored


def test_term_mask_finds_plain_words_terms_and_substrings(data: StudyData) -> None:
    texts = data.texts()
    truth = texts.str.contains(PLANTED[0]).to_numpy()
    assert (data.term_mask(PLANTED[0]) == truth).all()  # no such term: a substring search
    bigram = data.term_mask(f"c2:{PLANTED[0][:2]}")
    assert (bigram >= truth).all() and bigram.sum() == truth.sum()
    assert not data.term_mask("w:nonexistent").any()
