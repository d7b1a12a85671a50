"""Per-term removal statistics: counts, planted truth, pairs, same-author CMH, edge cases."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from memoryhole.analysis.terms import (
    COLUMNS,
    PostTerms,
    TermIndex,
    matched_author_stats,
    pair_stats,
    term_stats,
    to_records,
)
from tests.analysis.synthetic import planted_corpus

OUTCOMES = ("live", "censored", "author_deleted", "account_suspended", "unknown")

posts_strategy = st.lists(
    st.tuples(
        st.frozensets(st.sampled_from(["w:a", "w:b", "c2:六四", "w:d", "w:e"]), max_size=4),
        st.sampled_from(OUTCOMES),
    ),
    max_size=60,
)


@given(posts_strategy, st.sampled_from(["censored", "author_deleted", "account_suspended"]))
@settings(max_examples=100, deadline=None)
def test_counts_and_pvalues_match_brute_force(
    posts: list[tuple[frozenset[str], str]], kind: str
) -> None:
    frame = term_stats(posts, kind=kind, min_posts=1)
    n_all = len(posts)
    n_removed = sum(outcome == kind for _, outcome in posts)
    support = Counter(t for terms, _ in posts for t in terms)
    assert set(frame.term) == set(support)
    for row in frame.itertuples():
        removed = sum(row.term in terms and outcome == kind for terms, outcome in posts)
        assert row.posts == support[row.term]
        assert row.removed == removed
        assert row.rate == pytest.approx(removed / row.posts)
        baseline = n_removed / n_all
        want = sps.binomtest(removed, row.posts, baseline, alternative="greater").pvalue
        assert row.p_value == pytest.approx(want, rel=1e-9)
        assert row.ci_low <= row.rate <= row.ci_high
        if n_removed:
            assert row.lift == pytest.approx(row.rate / baseline)
        else:
            assert math.isnan(row.lift)
    if len(frame):
        np.testing.assert_allclose(
            frame.q_value, sps.false_discovery_control(frame.p_value.to_numpy())
        )


def test_contract_columns_sorting_and_json() -> None:
    corpus = planted_corpus(n_posts=3_000, seed=1)
    frame = term_stats(corpus.posts, min_posts=5)
    assert tuple(frame.columns[: len(COLUMNS)]) == COLUMNS
    q = frame.q_value.to_numpy()
    assert np.all(np.diff(q) >= 0)
    ties = frame[frame.q_value == frame.q_value.iloc[-1]]
    assert np.all(np.diff(ties.lift.to_numpy()) <= 0)
    records = to_records(frame)
    text = json.dumps(records, ensure_ascii=False)
    assert json.loads(text)[0]["term"] == frame.term.iloc[0]
    assert set(COLUMNS) <= set(records[0])
    assert frame.attrs["posts"] == 3_000


@pytest.mark.parametrize("test", ["binomial", "fisher"])
def test_planted_triggers_found_and_fdr_controlled(test: str) -> None:
    fdps = []
    for seed in range(6):
        corpus = planted_corpus(n_posts=20_000, seed=seed)
        frame = term_stats(corpus.posts, test=test, min_posts=20)
        flagged = set(frame.term[frame.q_value < 0.05])
        assert flagged == set(frame.term[frame.significant])
        for trigger in corpus.triggers:
            row = frame[frame.term == trigger]
            if len(row) and int(row.posts.iloc[0]) >= 20:
                assert trigger in flagged, (seed, trigger)
        false = flagged & set(corpus.controls)
        fdps.append(len(false) / max(len(flagged), 1))
    assert float(np.mean(fdps)) <= 0.05, fdps


def test_removal_kinds_are_separate() -> None:
    posts = [({"w:x"}, "author_deleted")] * 30 + [({"w:y"}, "live")] * 300
    posts += [({"w:y"}, "censored")] * 10
    censored = term_stats(posts, kind="censored", min_posts=1).set_index("term")
    deleted = term_stats(posts, kind="author_deleted", min_posts=1).set_index("term")
    assert censored.loc["w:x", "removed"] == 0
    assert deleted.loc["w:x", "removed"] == 30
    assert deleted.loc["w:x", "significant"]
    assert not censored.loc["w:x", "significant"]
    both = term_stats(posts, kind=("censored", "author_deleted"), min_posts=1)
    assert both.set_index("term").loc["w:y", "removed"] == 10
    excluded = term_stats(posts, min_posts=1, exclude_outcomes=("author_deleted",))
    assert set(excluded.term) == {"w:y"}
    assert excluded.attrs["posts"] == 310
    with pytest.raises(ValueError, match="removal verdict"):
        term_stats(posts, kind="deleted")


def test_degenerate_inputs() -> None:
    empty = term_stats([])
    assert list(empty.columns[: len(COLUMNS)]) == list(COLUMNS) and len(empty) == 0
    one = term_stats([({"w:a"}, "censored")], min_posts=1)
    assert one.posts.iloc[0] == 1 and one.rate.iloc[0] == 1.0 and one.p_value.iloc[0] == 1.0
    none_removed = term_stats([({"w:a"}, "live")] * 50, min_posts=1)
    assert none_removed.p_value.iloc[0] == 1.0 and math.isnan(none_removed.lift.iloc[0])
    all_removed = term_stats([({"w:a", "w:b"}, "censored")] * 50, min_posts=1)
    assert (all_removed.p_value == 1.0).all() and (all_removed.lift == 1.0).all()
    assert len(pair_stats([({"w:a"}, "live")])) == 0
    assert len(matched_author_stats([({"w:a"}, "live", "x")], min_posts=1)) == 1


def test_dataframe_input_and_index_reuse() -> None:
    corpus = planted_corpus(n_posts=2_000, seed=2)
    frame = pd.DataFrame(
        {
            "terms": [p.terms for p in corpus.posts],
            "outcome": [p.outcome for p in corpus.posts],
            "author": [p.author for p in corpus.posts],
        }
    )
    index = TermIndex.build(corpus.posts)
    assert index.n_posts == 2_000
    pd.testing.assert_frame_equal(term_stats(frame), term_stats(index))
    lean = TermIndex.build(corpus.posts, keep_incidence=False)
    pd.testing.assert_frame_equal(term_stats(lean), term_stats(index))
    with pytest.raises(ValueError, match="keep_incidence"):
        pair_stats(lean)


def test_pair_rule_flagged_above_both_singles() -> None:
    rng = np.random.default_rng(7)
    posts: list[PostTerms] = []
    fillers = [f"w:f{i}" for i in range(40)]
    for _ in range(20_000):
        terms = set(rng.choice(fillers, size=3, replace=False))
        if rng.random() < 0.15:
            terms.add("w:A")
        if rng.random() < 0.15:
            terms.add("w:B")
        rate = 0.8 if {"w:A", "w:B"} <= terms else 0.05
        posts.append(PostTerms(frozenset(terms), "censored" if rng.random() < rate else "live"))
    frame = pair_stats(posts, top_k=50, min_posts=20)
    assert tuple(frame.columns[: len(COLUMNS)]) == COLUMNS
    top = frame.iloc[0]
    assert top.term in ("w:A + w:B", "w:B + w:A")
    assert top.above_singles and top.rate > max(top.rate_a, top.rate_b)
    flagged = frame[frame.above_singles]
    assert list(flagged.term) == [top.term]


def test_pair_overlapping_views_skipped() -> None:
    posts = [({"c2:六四", "c3:六四天", "w:x"}, "censored")] * 30 + [({"w:x"}, "live")] * 30
    frame = pair_stats(posts, min_posts=5)
    assert "c2:六四 + c3:六四天" not in set(frame.term)
    assert len(pair_stats(posts, min_posts=5, skip_overlapping=False)) == 3


def _author_confounded(seed: int) -> list[PostTerms]:
    """Some authors are censored a lot and like the term 'w:style'; 'w:bad' is censored
    within every author."""
    rng = np.random.default_rng(seed)
    posts: list[PostTerms] = []
    for author in range(400):
        hot = author < 100
        base = 0.5 if hot else 0.03
        for _ in range(25):
            terms = {f"w:f{rng.integers(30)}"}
            if rng.random() < (0.6 if hot else 0.05):
                terms.add("w:style")
            rate = base
            if rng.random() < 0.08:
                terms.add("w:bad")
                rate = min(0.95, base + 0.4)
            outcome = "censored" if rng.random() < rate else "live"
            posts.append(PostTerms(frozenset(terms), outcome, f"u{author}"))
    return posts


def test_same_author_cmh_removes_author_confounding() -> None:
    posts = _author_confounded(3)
    pooled = term_stats(posts).set_index("term")
    matched = matched_author_stats(posts).set_index("term")
    # The pooled test is fooled by who writes 'w:style'; the matched one is not.
    assert pooled.loc["w:style", "q_value"] < 1e-6
    assert matched.loc["w:style", "q_value"] > 0.05
    assert matched.loc["w:bad", "q_value"] < 1e-6
    assert matched.loc["w:bad", "odds_ratio_mh"] > 2
    assert tuple(matched.reset_index().columns[: len(COLUMNS)]) == COLUMNS
    assert matched.attrs["authors"] == 400


def test_cmh_term_without_informative_author_is_nan() -> None:
    posts = [PostTerms(frozenset({"w:a"}), "censored", f"u{i}") for i in range(30)]
    posts += [PostTerms(frozenset({"w:b"}), "live", "v") for _ in range(30)]
    frame = matched_author_stats(posts, min_posts=1).set_index("term")
    assert math.isnan(frame.loc["w:a", "p_value"]) and math.isnan(frame.loc["w:a", "q_value"])
    assert frame.loc["w:a", "informative_authors"] == 0


@pytest.mark.parametrize("block", [3, 10_000_000])
def test_matched_equals_per_term_cmh_loop(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from memoryhole.analysis import terms as terms_module
    from tests.analysis.test_stats import _cmh_loop

    monkeypatch.setattr(terms_module, "_BLOCK", block)
    rng = np.random.default_rng(5)
    vocab = [f"w:{c}" for c in "abcdefgh"]
    posts = [
        PostTerms(
            frozenset(rng.choice(vocab, size=int(rng.integers(1, 4)), replace=False)),
            str(rng.choice(["live", "censored", "author_deleted"], p=[0.6, 0.3, 0.1])),
            f"u{rng.integers(12)}",
        )
        for _ in range(300)
    ]
    frame = matched_author_stats(posts, min_posts=1).set_index("term")
    for term in vocab:
        tables = []
        for author in sorted({p.author for p in posts}):
            mine = [p for p in posts if p.author == author]
            a = sum(term in p.terms and p.outcome == "censored" for p in mine)
            b = sum(term in p.terms and p.outcome != "censored" for p in mine)
            c = sum(term not in p.terms and p.outcome == "censored" for p in mine)
            d = len(mine) - a - b - c
            tables.append((a, b, c, d))
        want_p, want_or = _cmh_loop(tables, correction=True)
        assert frame.loc[term, "p_value"] == pytest.approx(want_p, rel=1e-9)
        assert frame.loc[term, "odds_ratio_mh"] == pytest.approx(want_or, rel=1e-9)
