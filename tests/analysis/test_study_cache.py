"""The term cache: every post tokenised once, kept per tokenizer, never for taken-down authors."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from memoryhole.analysis.cache import (
    decode_terms,
    encode_terms,
    missing_count,
    refresh_terms,
    tokenizer_key,
)
from memoryhole.analysis.study_data import load_study_data
from memoryhole.analysis.tokens import Tokenizer, tokens_for
from memoryhole.evidence.takedown import takedown
from memoryhole.store.schema import post_terms, posts
from memoryhole.study import Study


def test_each_post_is_tokenised_once_and_matches_the_tokenizer(small_study: Path) -> None:
    study = Study.open(small_study)
    first = refresh_terms(study.engine)
    assert first.tokenized == 60 and first.cached == 0
    again = refresh_terms(study.engine)
    assert again.tokenized == 0 and again.cached == 60
    key = tokenizer_key(Tokenizer())
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.text, post_terms.c.terms)
            .join(post_terms, post_terms.c.post_pk == posts.c.id)
            .where(post_terms.c.tokenizer == key)
        ).all()
    assert len(rows) == 60
    for text, stored in rows:
        assert decode_terms(stored) == tokens_for(text)


def test_a_new_post_is_tokenised_on_the_next_analysis_only(small_study: Path) -> None:
    study = Study.open(small_study)
    refresh_terms(study.engine)
    key = tokenizer_key(Tokenizer())
    with study.engine.begin() as connection:
        connection.execute(post_terms.delete().where(post_terms.c.post_pk == 1))
    assert missing_count(study.engine, key) == 1
    data = load_study_data(study)
    assert missing_count(study.engine, key) == 0
    assert data.n_posts == 60


def test_views_and_engine_make_separate_cache_entries(small_study: Path) -> None:
    words = Tokenizer(views=("word",))
    assert tokenizer_key(words) != tokenizer_key(Tokenizer())
    assert tokenizer_key(Tokenizer()).startswith("t1/jieba-")
    study = Study.open(small_study)
    refresh_terms(study.engine)
    refresh_terms(study.engine, words)
    with study.engine.connect() as connection:
        per_key = dict(
            connection.execute(
                select(post_terms.c.tokenizer, func.count()).group_by(post_terms.c.tokenizer)
            ).all()
        )
    assert per_key == {tokenizer_key(Tokenizer()): 60, tokenizer_key(words): 60}
    data = load_study_data(study, tokenizer=words)
    assert all(t.startswith("w:") for terms in data.iter_terms() for t in terms)


def test_encoding_round_trips() -> None:
    terms = frozenset({"w:六四", "c2:六四", "w:tiananmen", "w:64"})
    assert decode_terms(encode_terms(terms)) == terms
    assert decode_terms(encode_terms(frozenset())) == frozenset()


def test_taken_down_authors_terms_are_purged_and_their_posts_left_out(small_study: Path) -> None:
    study = Study.open(small_study)
    refresh_terms(study.engine)
    result = takedown(study, "1000001", platform="weibo", reason="test")
    assert result.posts > 0
    with study.engine.connect() as connection:
        left_now = connection.execute(select(func.count()).select_from(post_terms)).scalar()
    assert left_now == 60 - result.posts, "takedown itself drops the author's cached terms"
    stats = refresh_terms(study.engine)
    assert stats.purged == 0
    data = load_study_data(study)
    assert data.n_posts == 60 - result.posts
    assert result.pseudonym not in set(data.posts["author"])
    with study.engine.connect() as connection:
        left = connection.execute(select(func.count()).select_from(post_terms)).scalar()
    assert left == 60 - result.posts
