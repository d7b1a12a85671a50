"""Term statistics that say when nothing is significant, and why (issue 24): the heading of a
list, the message, how many posts it would take, one row per text, and the dashboard's
filters on ``overview.term_table``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from memoryhole.analysis import overview
from memoryhole.analysis.terms import (
    PostTerms,
    TermIndex,
    frame_significance,
    merge_term_views,
    posts_needed,
    term_significance,
    term_stats,
)


def _index(
    removed_with_word: int, posts_with_word: int, others: int, removed_others: int
) -> TermIndex:
    records = [
        PostTerms(
            frozenset({"w:六四", "c2:六四"} if i < posts_with_word else {"w:天气"}),
            "censored"
            if (i < removed_with_word) or (posts_with_word <= i < posts_with_word + removed_others)
            else "live",
        )
        for i in range(posts_with_word + others)
    ]
    return TermIndex.build(records)


def test_no_significant_term_is_said_with_the_data_it_would_take() -> None:
    frame = term_stats(_index(3, 30, 300, 30), min_posts=20)
    assert not frame["significant"].any()
    summary = frame_significance(frame)
    assert summary.tested == len(frame) == 3 and summary.significant == 0
    assert "most significant" not in summary.heading(3)
    assert summary.heading(3).endswith("none is significant (q < 0.05)")
    message = summary.message()
    assert message is not None and message.startswith("No term is significant at q < 0.05")
    assert f"p < {0.05 / 3:.1e}" in message
    needed = summary.needed_posts[2.0]
    assert needed is not None and f"about {needed:,} posts" in message


def test_a_significant_list_is_headed_as_such_and_needs_no_message() -> None:
    frame = term_stats(_index(28, 30, 300, 10), min_posts=20)
    summary = frame_significance(frame)
    assert summary.significant == 2  # w:六四 and c2:六四
    assert summary.message() is None
    assert summary.heading(2) == "the 2 most significant terms (q < 0.05; 2 in all)"
    assert "2 of them significant" in summary.heading(3)


@pytest.mark.parametrize(
    ("posts", "removed", "tested", "min_posts", "says"),
    [
        (0, 0, 0, 20, "No post to analyse"),
        (100, 0, 5, 20, "none of the 100 posts analysed was removed"),
        (100, 5, 0, 20, "none is found in at least 20 posts"),
    ],
)
def test_why_nothing_could_be_significant(
    posts: int, removed: int, tested: int, min_posts: int, says: str
) -> None:
    summary = term_significance([0.5] * tested, posts=posts, removed=removed, min_posts=min_posts)
    assert says in (summary.message() or "")


@pytest.mark.parametrize(("baseline", "lift", "needed_p"), [(0.02, 2, 1e-4), (0.1, 3, 0.05 / 400)])
def test_posts_needed_is_the_smallest_n_that_reaches_the_threshold(
    baseline: float, lift: float, needed_p: float
) -> None:
    n = posts_needed(baseline, lift, needed_p, minimum=1)
    assert n is not None

    def p_at(size: int) -> float:
        k = math.ceil(size * lift * baseline - 1e-9)
        return float(sps.binomtest(k, size, baseline, alternative="greater").pvalue)

    assert p_at(n) < needed_p
    assert all(p_at(m) >= needed_p for m in range(max(1, n - 5), n))
    assert posts_needed(0.4, 3, 1e-3) is None  # a rate of 120%: no such term


def test_merge_keeps_one_row_per_text_with_the_lowest_q() -> None:
    frame = pd.DataFrame(
        {
            "term": ["w:六四", "c2:六四", "c3:六四天", "w:六四天", "c2:天安", "w:a + w:b"],
            "posts": [10, 12, 5, 5, 3, 4],
            "p_value": [0.1, 0.05, 0.2, 0.2, 0.01, 0.001],
            "q_value": [0.5, 0.2, 0.3, 0.3, 0.1, 0.01],
        }
    )
    merged = merge_term_views(frame)
    assert merged["term"].tolist() == ["c2:六四", "w:六四天", "c2:天安", "w:a + w:b"]
    assert merged["views"].tolist() == ["c2,w", "w,c3", "c2", ""]  # a tie: w before c3
    assert merged["text"].tolist() == ["六四", "六四天", "天安", "w:a + w:b"]


def test_overview_term_table_takes_the_clis_filters() -> None:
    index = _index(20, 30, 300, 10)
    full = overview.term_table(index, min_posts=20)
    assert full.significance is not None and full.significance.tested == 3
    merged = overview.term_table(index, min_posts=20, merge_views=True)
    assert {r["text"] for r in merged.rows} == {"六四", "天气"} and len(merged.rows) == 2
    assert merged.significance == full.significance  # counted over every tested term
    only = overview.term_table(index, min_posts=20, significant=True)
    assert all(r["q_value"] < 0.05 for r in only.rows) and only.rows
    fewer = overview.term_table(index, min_posts=31)
    assert [r["term"] for r in fewer.rows] == ["w:天气"]
    excluded = overview.term_table(index, exclude_outcomes=("live",), kind="censored")
    assert excluded.posts == 30 and excluded.exclude_outcomes == ("live",)
    assert "c2: two Chinese characters" in full.legend
    assert set(overview.TERM_FILTERS) >= {"kind", "min_posts", "test", "alpha"}
    assert np.isfinite(full.rows[0]["q_value"])
