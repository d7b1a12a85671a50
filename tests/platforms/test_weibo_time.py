"""Weibo's ``created_at`` in every form real answers use, read as an honest interval that
always contains the true publication time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memoryhole.platforms.weibo_time import read_created_at
from memoryhole.sim.shapes.weibo import full_created_at, reader_created_at

BEIJING = timezone(timedelta(hours=8))


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING).timestamp()


ANSWER = at("2019-06-15 12:00:30")  # when the answer was made (Beijing time)


@pytest.mark.parametrize(
    ("value", "earliest", "latest"),
    [
        ("Sat Jun 15 11:44:46 +0800 2019", "2019-06-15 11:44:46", "2019-06-15 11:44:46"),
        ("刚刚", "2019-06-15 11:59:30", "2019-06-15 12:00:30"),
        ("5分钟前", "2019-06-15 11:54:30", "2019-06-15 11:55:30"),
        ("15小时前", "2019-06-14 20:00:30", "2019-06-14 21:00:30"),
        ("30秒前", "2019-06-15 11:59:59", "2019-06-15 12:00:00"),
        ("今天 09:41", "2019-06-15 09:41:00", "2019-06-15 09:42:00"),
        ("昨天 23:59", "2019-06-14 23:59:00", "2019-06-15 00:00:00"),
        ("06-14", "2019-06-14 00:00:00", "2019-06-15 00:00:00"),
        ("06-15", "2019-06-15 00:00:00", "2019-06-15 12:00:30"),  # today: not after the answer
        ("12-31", "2018-12-31 00:00:00", "2019-01-01 00:00:00"),  # later this year: last year's
        ("06-14 08:05", "2019-06-14 08:05:00", "2019-06-14 08:06:00"),
        ("2017-03-02", "2017-03-02 00:00:00", "2017-03-03 00:00:00"),
        ("2017-03-02 20:15", "2017-03-02 20:15:00", "2017-03-02 20:16:00"),
    ],
)
def test_each_form_is_the_interval_its_words_allow(value: str, earliest: str, latest: str) -> None:
    assert read_created_at(value, ANSWER, ANSWER) == (at(earliest), at(latest))


def test_a_relative_time_uses_both_ends_of_the_request() -> None:
    sent = ANSWER - 20.0  # the server made the answer somewhere in between
    assert read_created_at("2分钟前", sent, ANSWER) == (sent - 180.0, ANSWER - 120.0)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "前天",
        "2019年6月14日",
        "13-40",
        "02-30",
        "25:61",
        "昨天 25:00",
        "3 hours ago",
        None,
        True,
    ],
)
def test_what_cannot_be_read_is_none_never_a_guess(value: object) -> None:
    assert read_created_at(value, ANSWER, ANSWER) is None


def test_a_date_after_the_answer_is_refused() -> None:
    assert read_created_at("2019-06-16", ANSWER, ANSWER) is None


@given(
    published=st.floats(min_value=1.3e9, max_value=1.9e9),
    age=st.floats(min_value=0.0, max_value=3 * 365 * 86400.0),
    lag=st.floats(min_value=0.0, max_value=30.0),
)
def test_the_simulators_words_always_contain_the_true_time(
    published: float, age: float, lag: float
) -> None:
    """Whatever the simulator shows a reader (as Weibo does), the interval read back holds the
    true publication time; the full form gives it exactly."""
    answered = published + age
    words = reader_created_at(published, answered - lag / 2)
    interval = read_created_at(words, answered - lag, answered)
    assert interval is not None, words
    assert interval[0] <= published <= interval[1] + 1e-6, (words, interval)
    exact = read_created_at(full_created_at(published), answered, answered)
    assert exact is not None and exact[0] == exact[1]  # the full form is an instant
    assert abs(exact[0] - published) < 1.0  # to the second it states
