"""The term cache as integer ids: the same counts as the stored text, filled in for rows from
before the ids existed, and one vocabulary however many refreshes write at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Connection, func, select

from memoryhole.analysis import cache
from memoryhole.analysis.cache import (
    Vocabulary,
    decode_terms,
    load_vocabulary,
    refresh_terms,
    tokenizer_key,
)
from memoryhole.analysis.study_data import load_study_data
from memoryhole.analysis.terms import TermIndex
from memoryhole.analysis.tokens import Tokenizer
from memoryhole.store.schema import post_term_ids, post_terms, term_vocab
from memoryhole.store.terms import decode_ids
from memoryhole.study import Study


def _counts(index: TermIndex) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, term in enumerate(index.vocab):
        column = index.counts[:, i]
        out[term] = [int(column[index.outcomes.index(o)]) if o in index.outcomes else 0
                     for o in ("live", "censored", "author_deleted")]  # fmt: skip
    return out


def _stored_ids_match_text(study: Study) -> int:
    key = tokenizer_key(Tokenizer())
    vocab = load_vocabulary(study.engine, key)
    assert len(set(vocab)) == len(vocab), "one id per term"
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(post_terms.c.terms, post_term_ids.c.term_ids)
            .outerjoin(
                post_term_ids,
                (post_term_ids.c.post_pk == post_terms.c.post_pk)
                & (post_term_ids.c.tokenizer == post_terms.c.tokenizer),
            )
            .where(post_terms.c.tokenizer == key)
        ).all()
    for stored, ids in rows:
        assert ids is not None
        assert {vocab[i] for i in decode_ids(ids)} == decode_terms(stored)
        assert np.all(np.diff(decode_ids(ids).astype(np.int64)) > 0), "ids ascending, distinct"
    return len(rows)


def test_counts_from_ids_equal_counts_from_the_stored_text(small_study: Path) -> None:
    study = Study.open(small_study)
    data = load_study_data(study)
    assert _stored_ids_match_text(study) == 60
    chunks = list(data.iter_term_ids(chunk=7))  # several chunks, and the ids path really runs
    assert sum(int(p.size) for p, _ in chunks) == 60
    from_ids = data.term_index()
    from_text = TermIndex.build(data.records(), keep_incidence=True)
    assert _counts(from_ids) == _counts(from_text)
    assert from_ids.vocab and from_ids.indptr is not None and from_ids.indices is not None
    for post in range(data.n_posts):  # the incidence: each post's own terms
        a, b = from_ids.indptr[post], from_ids.indptr[post + 1]
        c, d = from_text.indptr[post], from_text.indptr[post + 1]  # type: ignore[index]
        assert {from_ids.vocab[i] for i in from_ids.indices[a:b]} == {
            from_text.vocab[i]
            for i in from_text.indices[c:d]  # type: ignore[index]
        }


def test_a_filtered_subset_reads_only_its_posts(small_study: Path) -> None:
    study = Study.open(small_study)
    everything = load_study_data(study)
    middle = float(everything.posts["published_at"].median())
    later = load_study_data(study, since=middle)
    assert 0 < later.n_posts < everything.n_posts
    assert _counts(later.term_counts()) == _counts(
        TermIndex.build(later.records(), keep_incidence=False)
    )


def test_rows_from_before_the_ids_get_them_from_their_text(small_study: Path) -> None:
    study = Study.open(small_study)
    refresh_terms(study.engine)
    key = tokenizer_key(Tokenizer())
    with study.engine.begin() as connection:  # as migration 0006 leaves an older study
        connection.execute(post_term_ids.delete())
        connection.execute(term_vocab.delete())
    stats = refresh_terms(study.engine)
    assert stats.tokenized == 0, "filled from the stored terms, not re-segmented"
    assert _stored_ids_match_text(study) == 60
    with study.engine.connect() as connection:
        with_ids = connection.execute(
            select(func.count()).select_from(post_term_ids).where(post_term_ids.c.tokenizer == key)
        ).scalar()
    assert with_ids == 60


def test_a_post_without_ids_falls_back_to_the_stored_text(small_study: Path) -> None:
    study = Study.open(small_study)
    data = load_study_data(study)
    expected = _counts(data.term_counts())
    with study.engine.begin() as connection:
        connection.execute(post_term_ids.delete().where(post_term_ids.c.post_pk == 3))
    with pytest.raises(LookupError):
        list(data.iter_term_ids())
    fresh = load_study_data(study)  # the refresh fills it in again
    list(fresh.iter_term_ids())
    with study.engine.begin() as connection:
        connection.execute(post_term_ids.delete().where(post_term_ids.c.post_pk == 3))
    assert _counts(fresh.term_counts()) == expected  # via the text, same counts


def test_a_refresh_that_lost_a_race_for_new_ids_is_redone(
    small_study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = Study.open(small_study)
    key = tokenizer_key(Tokenizer())
    other = Vocabulary(key)
    raced = []
    real_add = Vocabulary.add

    def add_after_another_writer(self: Vocabulary, connection: Connection, terms: object) -> None:
        if not raced and self is not other:
            raced.append(True)  # another refresh commits ids 0.. first, on its own connection
            with study.engine.begin() as theirs:
                other.sync(theirs)
                real_add(other, theirs, {"w:另一个", "w:进程"})
        real_add(self, connection, terms)  # type: ignore[arg-type]

    monkeypatch.setattr(Vocabulary, "add", add_after_another_writer)
    stats = refresh_terms(study.engine)
    assert raced and stats.tokenized == 60
    vocab = load_vocabulary(study.engine, key)
    assert vocab[:2] == ["w:另一个", "w:进程"], "the other writer's ids stand"
    assert _stored_ids_match_text(study) == 60


def test_clear_terms_drops_the_vocabulary_too(small_study: Path) -> None:
    study = Study.open(small_study)
    refresh_terms(study.engine)
    key = tokenizer_key(Tokenizer())
    assert load_vocabulary(study.engine, key)
    cache.clear_terms(study.engine, key)
    assert load_vocabulary(study.engine, key) == []


def test_a_takedown_leaves_none_of_the_authors_own_terms_in_the_vocabulary(
    small_study: Path,
) -> None:
    from memoryhole.evidence.takedown import takedown
    from memoryhole.store.schema import authors, posts

    study = Study.open(small_study)
    refresh_terms(study.engine)
    key = tokenizer_key(Tokenizer())
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(authors.c.raw_id, post_terms.c.terms)
            .join(posts, posts.c.id == post_terms.c.post_pk)
            .join(authors, authors.c.id == posts.c.author_pk)
            .where(post_terms.c.tokenizer == key)
        ).all()
    theirs = {t for raw, stored in rows if raw == "1000001" for t in decode_terms(stored)}
    others = {t for raw, stored in rows if raw != "1000001" for t in decode_terms(stored)}
    own = theirs - others
    assert own and theirs & others, "the fixture has both kinds of term"
    before = load_vocabulary(study.engine, key)
    takedown(study, "1000001", platform="weibo", reason="test")
    after = load_vocabulary(study.engine, key)
    assert len(after) == len(before), "ids are kept (as tombstones): no id is reused"
    assert not own & set(after), "no term only they used is left"
    assert theirs & others <= set(after), "terms others use stay"
    refresh_terms(study.engine)  # a new post with one of their terms gets a fresh id
    assert _stored_ids_match_text(study) == 60 - sum(1 for raw, _ in rows if raw == "1000001")


def test_a_damaged_vocabulary_says_how_to_rebuild_it_and_the_rebuild_works(
    small_study: Path,
) -> None:
    from memoryhole.errors import MemoryholeError

    study = Study.open(small_study)
    expected = _counts(load_study_data(study).term_counts())
    key = tokenizer_key(Tokenizer())
    with study.engine.begin() as connection:
        connection.execute(term_vocab.delete().where(term_vocab.c.term_id == 3))
    with pytest.raises(MemoryholeError, match="DELETE FROM post_term_ids") as caught:
        load_vocabulary(study.engine, key)
    assert key in str(caught.value)
    with study.engine.begin() as connection:  # what the message says to do
        connection.execute(post_term_ids.delete().where(post_term_ids.c.tokenizer == key))
        connection.execute(term_vocab.delete().where(term_vocab.c.tokenizer == key))
    rebuilt = load_study_data(study)
    list(rebuilt.iter_term_ids())  # the ids are back
    assert _counts(rebuilt.term_counts()) == expected
