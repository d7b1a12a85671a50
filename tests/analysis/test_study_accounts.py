"""Accounts (pseudonyms only) and platforms side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update

from memoryhole.analysis.study_data import StudyData, load_study_data
from memoryhole.analysis.tables import (
    ACCOUNT_COLUMNS,
    PLATFORM_COLUMNS,
    accounts_table,
    platforms_table,
    suspensions_table,
)
from memoryhole.scenario import suspension_times
from memoryhole.store.schema import authors, posts
from memoryhole.study import Study
from tests.analysis.study_fixtures import PlantedStudy


@pytest.fixture(scope="module")
def data(planted_data: StudyData) -> StudyData:
    return planted_data


def test_suspended_accounts_match_the_truth(data: StudyData, planted_study: PlantedStudy) -> None:
    table = accounts_table(data)
    assert list(table.columns) == list(ACCOUNT_COLUMNS)
    study = Study.open(planted_study.path)
    suspended = suspension_times([p.post for p in planted_study.planted])
    expected = {study.pseudonym("weibo", raw) for raw in suspended}
    flagged = set(table[table["suspended"]]["author"])
    assert flagged == expected and len(flagged) >= 1
    assert table["suspended"].iloc[: len(flagged)].all()  # suspended accounts come first
    for raw, at in suspended.items():
        row = table.set_index("author").loc[study.pseudonym("weibo", raw)]
        assert at <= row["suspended_seen_at"] <= at + 6 * 3600  # first seen within a few hours
    assert table["posts"].sum() == data.n_posts
    assert table["removed"].sum() == int((data.posts["verdict"] == "censored").sum())
    assert all(a.startswith("a_") for a in table["author"])
    raw_ids = {p.post.author_id for p in planted_study.planted}
    assert not raw_ids & set(table["author"])


def test_suspensions_over_time(data: StudyData) -> None:
    bins = suspensions_table(data, bin="day")
    per_account = accounts_table(data)
    assert bins["accounts"].sum() == int(per_account["suspended"].sum())
    assert bins["posts"].sum() == int((data.posts["verdict"] == "account_suspended").sum())
    assert bins["cumulative_accounts"].iloc[-1] == bins["accounts"].sum()
    assert np.all(bins["bin_start"] % 86400 == 0)


def test_platforms_side_by_side(small_study: Path) -> None:
    study = Study.open(small_study)
    with study.engine.begin() as connection:  # move two of the four authors to another platform
        moved = [
            pk
            for (pk,) in connection.exec_driver_sql(
                "select id from authors where raw_id in ('1000000', '1000001')"
            )
        ]
        connection.execute(update(authors).where(authors.c.id.in_(moved)).values(platform="other"))
        connection.execute(
            update(posts).where(posts.c.author_pk.in_(moved)).values(platform="other")
        )
    data = load_study_data(study)
    table = platforms_table(data, min_posts=3, bootstrap=20)
    assert list(table.columns) == list(PLATFORM_COLUMNS)
    assert list(table["platform"]) == ["other", "weibo"]
    assert table["posts"].sum() == data.n_posts == 60
    assert table["authors"].tolist() == [2, 2]
    for _, row in table.iterrows():
        part = data.posts[data.posts["platform"] == row["platform"]]
        assert row["censored"] == int((part["verdict"] == "censored").sum())
        assert row["rate"] == pytest.approx(row["censored"] / row["posts"])
        assert row["ci_low"] <= row["rate"] <= row["ci_high"]
        assert row["median_time_to_removal"] > 0
    assert table.set_index("platform").loc["weibo", "suspended_accounts"] == 1
    only = load_study_data(study, platforms=["other"])
    assert only.n_posts == int(table.set_index("platform").loc["other", "posts"])
