"""The vectorised term index (from the stored terms, pyarrow) gives the reference's numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from memoryhole.analysis.cache import encode_terms
from memoryhole.analysis.study_data import load_study_data
from memoryhole.analysis.terms import PostTerms, TermIndex, term_stats
from memoryhole.imports import run_import
from memoryhole.study import Study
from tests.analysis.synthetic import planted_corpus
from tests.analysis.test_wechatscope_real import SAMPLE

pytest.importorskip("pyarrow")


def by_term(index: TermIndex) -> dict[str, dict[str, int]]:
    return {
        term: {o: int(index.counts[i, t]) for i, o in enumerate(index.outcomes)}
        for t, term in enumerate(index.vocab)
    }


def incidence(index: TermIndex) -> list[frozenset[str]]:
    assert index.indptr is not None and index.indices is not None
    return [
        frozenset(index.vocab[j] for j in index.indices[index.indptr[i] : index.indptr[i + 1]])
        for i in range(index.n_posts)
    ]


def stats(index: TermIndex, **options: object) -> pd.DataFrame:
    frame = term_stats(index, min_posts=5, **options)  # type: ignore[arg-type]
    return frame.sort_values("term").reset_index(drop=True)


def posts() -> list[PostTerms]:
    corpus = planted_corpus(n_posts=6_000, seed=4).posts
    extra = [
        PostTerms(frozenset(), "live", "nobody"),  # no terms at all
        PostTerms(frozenset({"w:C1", "c2:六四"}), "some_new_outcome", None),  # unknown, no author
    ]
    return corpus[:3_000] + extra + corpus[3_000:]


@pytest.mark.parametrize("chunk", [1, 777, 100_000])
def test_from_stored_equals_build(chunk: int) -> None:
    records = posts()
    reference = TermIndex.build(records, keep_incidence=True)
    stored = [encode_terms(frozenset(r.terms)) for r in records]
    chunks = [stored[i : i + chunk] for i in range(0, len(stored), chunk)]
    fast = TermIndex.from_stored(
        chunks, [r.outcome for r in records], [r.author for r in records], keep_incidence=True
    )
    assert fast.outcomes == reference.outcomes
    assert fast.authors == reference.authors
    np.testing.assert_array_equal(fast.post_outcome, reference.post_outcome)
    np.testing.assert_array_equal(fast.post_author, reference.post_author)
    assert by_term(fast) == by_term(reference)
    assert incidence(fast) == incidence(reference)
    assert incidence(fast)[3_000] == frozenset()
    pd.testing.assert_frame_equal(stats(fast), stats(reference))
    pd.testing.assert_frame_equal(
        stats(fast, kind=("censored", "author_deleted"), test="fisher"),
        stats(reference, kind=("censored", "author_deleted"), test="fisher"),
    )
    counts_only = TermIndex.from_stored(
        chunks, [r.outcome for r in records], [r.author for r in records], keep_incidence=False
    )
    assert counts_only.indices is None
    pd.testing.assert_frame_equal(stats(counts_only), stats(reference))


def test_from_stored_refuses_misaligned_chunks() -> None:
    with pytest.raises(ValueError, match="2 posts' terms for 3 outcomes"):
        TermIndex.from_stored([["w:a", "w:b"]], ["live"] * 3)


def test_study_term_counts_equal_the_post_by_post_index(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")  # real titles, imported: no simulator needed
    run_import(study, "wechatscope", SAMPLE)
    data = load_study_data(study)
    reference = TermIndex.build(data.records(), keep_incidence=True)
    fast = data.term_counts()
    assert fast.indices is None
    assert by_term(fast) == by_term(reference)
    assert len(stats(reference)) > 50
    pd.testing.assert_frame_equal(stats(fast), stats(reference))
    assert incidence(data.term_index()) == incidence(reference)
    assert data.term_counts() is data.term_index()  # the full index serves counts too
    study.close()
