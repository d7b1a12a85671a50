"""The dashboard's and report's term index reads the per-post term cache: posts are tokenised
once, and the counts equal tokenising every text afresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from memoryhole.analysis import overview
from memoryhole.analysis.terms import PostTerms, TermIndex
from memoryhole.analysis.tokens import Tokenizer
from memoryhole.imports import run_import
from memoryhole.store.schema import post_terms, posts, verdicts
from memoryhole.study import Study
from tests.analysis.test_wechatscope_real import SAMPLE


def counts(index: TermIndex) -> dict[tuple[str, str], int]:
    return {
        (term, outcome): int(index.counts[o, t])
        for t, term in enumerate(index.vocab)
        for o, outcome in enumerate(index.outcomes)
        if index.counts[o, t]
    }


def test_build_term_index_tokenises_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = Study.init(tmp_path / "study")
    run_import(study, "wechatscope", SAMPLE)
    tokenizer = Tokenizer()
    with study.engine.connect() as conn:
        rows = conn.execute(
            select(posts.c.text, verdicts.c.status).join(verdicts, verdicts.c.post_pk == posts.c.id)
        ).all()
    reference = TermIndex.build(
        (PostTerms(tokenizer(text), status) for text, status in rows), keep_incidence=False
    )

    first = overview.build_term_index(study.engine, segmenter="jieba")
    assert counts(first) == counts(reference)
    with study.engine.connect() as conn:
        cached = conn.execute(select(func.count()).select_from(post_terms)).scalar()
    assert cached == len(rows)

    def no_tokenising(self: Tokenizer, text: str) -> frozenset[str]:
        raise AssertionError(f"re-tokenised {text!r}")

    monkeypatch.setattr(Tokenizer, "__call__", no_tokenising)
    again = overview.build_term_index(study.engine, segmenter="jieba")
    assert counts(again) == counts(reference)
    study.close()
