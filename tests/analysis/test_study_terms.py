"""Per-term statistics on a replayed study recover the planted censor rules."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pytest

from memoryhole.analysis.study_data import StudyData, load_study_data
from memoryhole.analysis.tables import terms_table
from memoryhole.study import Study
from tests.analysis.study_fixtures import CONTROLS, NEW_RULE, OLD_RULE, PLANTED, PlantedStudy


@pytest.fixture(scope="module")
def data(planted_data: StudyData) -> StudyData:
    return planted_data


@pytest.fixture(scope="module")
def table(data: StudyData) -> pd.DataFrame:
    return terms_table(data)


def _text(term: str) -> str:
    return term.partition(":")[2]


def _related(term: str, rules: Iterable[str]) -> bool:
    """The term is part of a rule, or holds one (two characters or more either way)."""
    text = _text(term)
    return any((text in r and len(text) >= 2) or (r in text and len(r) >= 2) for r in rules)


def _single_rules(study: PlantedStudy) -> set[str]:
    """Rules of one keyword that the censor enforces (combination rules need all parts)."""
    return {
        rule[0]
        for keyword_list in study.policy.keyword_lists
        if keyword_list.remove > 0
        for rule in keyword_list.rules
        if len(rule) == 1
    }


def test_every_planted_rule_is_found_with_q_below_005(table: pd.DataFrame) -> None:
    significant = table[table["q_value"] < 0.05]
    for rule in (*PLANTED, NEW_RULE, OLD_RULE):
        bigrams = {f"c2:{rule[i : i + 2]}" for i in range(len(rule) - 1)}
        found = bigrams & set(significant["term"])
        assert found == bigrams, f"{rule}: only {sorted(found)} of {sorted(bigrams)}"
        rows = table[table["term"].isin(bigrams)]
        assert (rows["lift"] > 2).all()  # the new and old rules apply half of the time


def test_control_terms_are_not_flagged(table: pd.DataFrame) -> None:
    control_terms = table[[_related(t, CONTROLS) for t in table["term"]]]
    assert len(control_terms) >= 5 * 5  # tested: each control writes ~300 posts' worth of terms
    assert control_terms["posts"].min() >= 20
    assert int((control_terms["q_value"] < 0.05).sum()) == 0
    # Their removal rate is the corpus's: the null is true for them.
    assert control_terms["rate"].mean() == pytest.approx(table.attrs["baseline"], abs=0.05)


def test_top_50_significant_terms_are_triggers(
    table: pd.DataFrame, planted_study: PlantedStudy
) -> None:
    """Precision of the top 50 >= 0.9 and recall >= 0.9 of the enforced one-keyword rules
    found in 20 posts or more (the issue's validation figures)."""
    rules = _single_rules(planted_study)
    significant = table[table["q_value"] < 0.05]
    top = significant.head(50)
    precision = sum(_related(t, rules) for t in top["term"]) / len(top)
    assert precision >= 0.9
    texts = [p.post.text for p in planted_study.planted]
    frequent = [r for r in rules if sum(r in text for text in texts) >= 20]
    assert set(PLANTED) <= set(frequent)
    found = {_text(t) for t in significant["term"]}
    recalled = [r for r in frequent if any(len(f) >= 2 and f in r for f in found)]
    assert len(recalled) / len(frequent) >= 0.9


def test_contract_columns_and_sorting(table: pd.DataFrame) -> None:
    assert list(table.columns[:9]) == [
        "term",
        "posts",
        "removed",
        "rate",
        "ci_low",
        "ci_high",
        "lift",
        "p_value",
        "q_value",
    ]
    assert table["q_value"].is_monotonic_increasing
    assert (table["posts"] >= 20).all()
    assert ((table["ci_low"] <= table["rate"]) & (table["rate"] <= table["ci_high"])).all()


def test_same_author_comparison_still_finds_the_planted_rules(data: StudyData) -> None:
    matched = terms_table(data, matched=True)
    significant = set(matched[matched["q_value"] < 0.05]["term"])
    for rule in PLANTED:
        assert f"c2:{rule[:2]}" in significant
    assert not any(_related(t, CONTROLS) for t in significant)


def test_pairs_are_tested(data: StudyData) -> None:
    pairs = terms_table(data, pairs=True, top_k=60)
    assert len(pairs) > 0
    assert pairs["term"].str.contains(r" \+ ").all()
    assert {"p_vs_singles", "q_vs_singles", "above_singles"} <= set(pairs.columns)


def test_author_deletions_are_analysed_apart(data: StudyData) -> None:
    deleted = terms_table(data, kind="author_deleted")
    assert deleted.attrs["kind"] == "author_deleted"
    assert deleted.attrs["removed"] == int((data.posts["verdict"] == "author_deleted").sum())
    # Authors delete at random here: no planted rule explains their deletions.
    significant = deleted[deleted["q_value"] < 0.05]
    assert not any(_related(t, PLANTED) for t in significant["term"])


def test_platform_and_time_window_filters(planted_study: PlantedStudy) -> None:
    study = Study.open(planted_study.path)
    middle = planted_study.rule_change_at
    early = load_study_data(study, until=middle)
    late = load_study_data(study, since=middle)
    everything = load_study_data(study)
    assert early.n_posts + late.n_posts == everything.n_posts
    assert early.posts["published_at"].max() < middle <= late.posts["published_at"].min()
    assert load_study_data(study, platforms=["nowhere"]).n_posts == 0
    assert load_study_data(study, platforms=["weibo"]).n_posts == everything.n_posts
    # The old rule is enforced early only: significant early, not late.
    early_terms = terms_table(early, min_posts=10)
    late_terms = terms_table(late, min_posts=10)
    old = f"c2:{OLD_RULE[:2]}"
    assert early_terms.set_index("term").loc[old, "q_value"] < 0.05
    assert late_terms.set_index("term").loc[old, "q_value"] > 0.05
