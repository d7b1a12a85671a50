"""The per-post term cache: each post is tokenised once, and its terms kept in the store.

Rows of ``post_terms`` (``store/schema.py``) hold a post's set of terms (space-separated,
sorted; no term contains a space) for one tokenizer, named by :func:`tokenizer_key`: the cache
format, the segmentation engine and its version, the views and a digest of the stopwords, so a
change of any of them gives a new key and a fresh tokenisation, never a silent mix.
:func:`refresh_terms` tokenises the posts that have no row yet (a few thousand posts a second
with jieba, five times that with rjieba) and nothing else: an analysis never re-segments the
corpus. ``text_sha256`` records which text the terms came from.

Each row has its terms also as integer ids in ``post_term_ids`` (``term_ids``: uint32
little-endian, ascending; a table of its own, so a scan reads only those) into
``term_vocab``, the tokenizer's vocabulary (ids dense from 0, assigned in the same
transaction as the rows that first use them, so concurrent refreshes cannot disagree). The
counts of a large study read these ids (about 530 bytes a post, no string per term), not the
text. Rows written before the ids existed (migration 0006) get them from their stored text on
the next refresh, without re-segmenting.

Taken-down authors: their posts are never tokenised, and :func:`refresh_terms` deletes any
cached terms of theirs first (their terms are their words).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from memoryhole.analysis.tokens import (
    DEFAULT_VIEWS,
    STOPWORDS,
    Tokenizer,
    _view_ngram_size,
)
from memoryhole.analysis.tokens import (
    Engine as Segmenter,
)
from memoryhole.errors import MemoryholeError
from memoryhole.store.bulk import driver_chunks
from memoryhole.store.schema import (
    authors,
    post_term_ids,
    post_terms,
    posts,
    redactions,
    term_vocab,
)
from memoryhole.store.terms import encode_ids

#: Bump when the stored representation or the tokenisation rules change.
CACHE_FORMAT = 1

_BATCH = 2_000
_ATTEMPTS = 5  # a batch whose vocabulary raced another refresh is redone this many times

#: ``progress(done, total)``: called after each batch of posts tokenised.
Progress = Callable[[int, int], None]


@lru_cache(maxsize=8)
def _engine_version(engine: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(engine)
    except PackageNotFoundError:
        return "0"


class TokenizerLike(Protocol):
    """What names a tokenisation: a :class:`Tokenizer` or a :class:`LazyTokenizer`."""

    @property
    def views(self) -> Sequence[str]: ...

    @property
    def engine(self) -> Segmenter: ...

    @property
    def stopwords(self) -> frozenset[str]: ...

    def __call__(self, text: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class LazyTokenizer:
    """A :class:`Tokenizer` built on first use: naming the tokenisation (for the cache key)
    does not load the segmenter's dictionary (about a second), so an analysis of a fully
    cached study never loads it."""

    views: tuple[str, ...] = tuple(DEFAULT_VIEWS)
    engine: Segmenter = "jieba"
    stopwords: frozenset[str] = STOPWORDS

    def __post_init__(self) -> None:
        if not self.views:
            raise ValueError("at least one token view is needed")
        for view in self.views:
            _view_ngram_size(view)  # ValueError for an unknown view, now
        if self.engine not in ("jieba", "rjieba"):
            raise ValueError(f"unknown segmentation engine {self.engine!r}: use jieba or rjieba")

    @cached_property
    def tokenizer(self) -> Tokenizer:
        return Tokenizer(views=self.views, engine=self.engine, stopwords=self.stopwords)

    def __call__(self, text: str) -> frozenset[str]:
        return self.tokenizer(text)


def tokenizer_key(tokenizer: TokenizerLike) -> str:
    """A short name for everything that decides a post's terms, e.g.
    ``"t1/jieba-0.42.1/word+char2+char3/1f3c09a2"`` (at most 64 characters)."""
    stop = hashlib.sha256(" ".join(sorted(tokenizer.stopwords)).encode()).hexdigest()[:8]
    views = "+".join(tokenizer.views)
    key = f"t{CACHE_FORMAT}/{tokenizer.engine}-{_engine_version(tokenizer.engine)}/{views}/{stop}"
    if len(key) > 64:
        key = f"t{CACHE_FORMAT}/" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode_terms(terms: frozenset[str]) -> str:
    return " ".join(sorted(terms))


def decode_terms(stored: str) -> frozenset[str]:
    return frozenset(stored.split()) if stored else frozenset()


def _redacted_posts() -> Select[Any]:
    return (
        select(posts.c.id)
        .join(authors, authors.c.id == posts.c.author_pk)
        .where(authors.c.pseudonym.in_(select(redactions.c.author_pseudonym)))
    )


@dataclass(frozen=True)
class CacheStats:
    tokenizer: str
    cached: int  # posts whose terms were already stored
    tokenized: int  # posts tokenised by this call
    purged: int  # rows deleted (taken-down authors)


def missing_count(engine: Engine, key: str) -> int:
    """Posts (of authors not taken down) with no cached terms for tokenizer ``key``."""
    with engine.connect() as connection:
        return int(connection.execute(_missing_query(key, count=True)).scalar() or 0)


def _all_cached(connection: Connection, key: str, total_posts: int) -> bool:
    """Whether every post counted in ``total_posts`` has a row: cached rows are of distinct
    posts, and taken-down authors' rows are purged first, so equal counts say so without the
    anti-join (which reads every post: seconds per million)."""
    return _count_rows(connection, post_terms, key) == total_posts


class Vocabulary:
    """A tokenizer's ``term_vocab`` as far as this process has read it, growing inside the
    write transactions that add terms (:meth:`add`), undone if that transaction fails."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.ids: dict[str, int] = {}
        self._committed = 0

    def sync(self, connection: Connection) -> None:
        """Read the ids other writers committed since this process last looked."""
        rows = connection.execute(
            select(term_vocab.c.term_id, term_vocab.c.term)
            .where(term_vocab.c.tokenizer == self.key, term_vocab.c.term_id >= len(self.ids))
            .order_by(term_vocab.c.term_id)
        )
        for term_id, term in rows:
            if term_id != len(self.ids):
                raise _damaged_vocabulary(self.key, f"a gap at id {len(self.ids)}")
            self.ids[term] = int(term_id)

    def add(self, connection: Connection, terms: Iterator[str] | set[str]) -> None:
        """Give the terms not known yet the next ids (in this transaction)."""
        fresh = sorted(t for t in set(terms) if t not in self.ids)
        if not fresh:
            return
        start = len(self.ids)
        connection.execute(
            insert(term_vocab),
            [{"tokenizer": self.key, "term_id": start + i, "term": t} for i, t in enumerate(fresh)],
        )
        self.ids.update((t, start + i) for i, t in enumerate(fresh))

    def encode(self, terms: frozenset[str]) -> bytes:
        return encode_ids([self.ids[t] for t in terms])

    def committed(self) -> None:
        self._committed = len(self.ids)

    def rolled_back(self) -> None:
        if len(self.ids) > self._committed:
            self.ids = dict(list(self.ids.items())[: self._committed])


def _write_with_vocabulary(
    engine: Engine, vocab: Vocabulary, write: Callable[[Connection], None]
) -> None:
    """Run ``write`` (which adds to ``vocab``) in one transaction; another refresh that took
    the same new ids first makes it fail (a unique key, or SQLite's stale snapshot), and it is
    redone on the vocabulary as committed."""
    for attempt in range(_ATTEMPTS):
        try:
            with engine.begin() as connection:
                vocab.sync(connection)
                write(connection)
        except (IntegrityError, OperationalError):
            vocab.rolled_back()
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        vocab.committed()
        return


def _damaged_vocabulary(key: str, what: str) -> MemoryholeError:
    return MemoryholeError(
        f"the term cache's vocabulary for {key} is damaged ({what}); it is derived data: "
        f"delete it and the next analysis rebuilds it from the cached terms, e.g. "
        f"sqlite3 STUDY/store.sqlite \"DELETE FROM post_term_ids WHERE tokenizer = '{key}'; "
        f"DELETE FROM term_vocab WHERE tokenizer = '{key}'\""
    )


def load_vocabulary(engine: Engine, key: str) -> list[str]:
    """Every term of tokenizer ``key``, indexed by term id (read through the database
    driver: no row objects, about a second per million terms)."""
    query = (
        select(term_vocab.c.term_id, term_vocab.c.term)
        .where(term_vocab.c.tokenizer == key)
        .order_by(term_vocab.c.term_id)
    )
    rows = [row for chunk in driver_chunks(engine, query, 500_000) for row in chunk]
    if rows and int(rows[-1][0]) != len(rows) - 1:
        raise _damaged_vocabulary(key, f"{len(rows)} terms with ids up to {rows[-1][0]}")
    return [str(term) for _, term in rows]


def _without_ids(key: str) -> Select[Any]:
    has_ids = exists().where(
        and_(post_term_ids.c.post_pk == post_terms.c.post_pk, post_term_ids.c.tokenizer == key)
    )
    return select(post_terms.c.post_pk, post_terms.c.terms).where(
        post_terms.c.tokenizer == key, ~has_ids
    )


def _count_rows(connection: Connection, table: Any, key: str) -> int:
    query = select(func.count()).select_from(table).where(table.c.tokenizer == key)
    return int(connection.execute(query).scalar() or 0)


def fill_term_ids(engine: Engine, key: str) -> int:
    """Give the rows stored before migration 0006 their term ids, from their stored terms
    (no re-segmentation). Returns the rows filled."""
    with engine.connect() as connection:
        if _count_rows(connection, post_terms, key) == _count_rows(connection, post_term_ids, key):
            return 0  # every row has its ids (both are counts of distinct posts)
    vocab = Vocabulary(key)
    filled = 0
    last = -1
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                _without_ids(key)
                .where(post_terms.c.post_pk > last)
                .order_by(post_terms.c.post_pk)
                .limit(_BATCH)
            ).all()
        if not rows:
            return filled
        last = int(rows[-1][0])
        decoded = [(int(pk), decode_terms(stored)) for pk, stored in rows]

        def write(
            connection: Connection,
            decoded: list[tuple[int, frozenset[str]]] = decoded,
            vocab: Vocabulary = vocab,
        ) -> None:
            vocab.add(connection, {t for _, terms in decoded for t in terms})
            connection.execute(
                insert(post_term_ids).prefix_with("OR IGNORE", dialect="sqlite"),
                [
                    {"post_pk": pk, "tokenizer": key, "term_ids": vocab.encode(terms)}
                    for pk, terms in decoded
                ],
            )

        _write_with_vocabulary(engine, vocab, write)
        filled += len(rows)


def _missing_query(key: str, *, count: bool = False) -> Select[Any]:
    cached = exists().where(and_(post_terms.c.post_pk == posts.c.id, post_terms.c.tokenizer == key))
    columns = [func.count()] if count else [posts.c.id, posts.c.text]
    query = (
        select(*columns)
        .select_from(posts)
        .where(~cached)
        .where(posts.c.id.not_in(_redacted_posts()))
    )
    return query if count else query.order_by(posts.c.id)


def refresh_terms(
    engine: Engine, tokenizer: TokenizerLike | None = None, progress: Progress | None = None
) -> CacheStats:
    """Tokenise every post not yet cached for ``tokenizer`` (default: the default views),
    after deleting the cached terms of taken-down authors. Safe while a collector runs (short
    write transactions) and resumable: an interrupted run keeps the batches it committed."""
    tokenizer = tokenizer or LazyTokenizer()
    key = tokenizer_key(tokenizer)
    with engine.begin() as connection:
        # The taken-down authors' posts, listed first: usually none, and a DELETE with the
        # subquery inside reads the whole cache (tens of seconds at ten million posts).
        any_redacted = connection.execute(select(redactions.c.author_pseudonym).limit(1)).first()
        hidden = list(connection.execute(_redacted_posts()).scalars()) if any_redacted else []
        purged = 0
        for start in range(0, len(hidden), 500):
            part = hidden[start : start + 500]
            purged += int(
                connection.execute(
                    delete(post_terms).where(post_terms.c.post_pk.in_(part))
                ).rowcount
                or 0
            )
            connection.execute(delete(post_term_ids).where(post_term_ids.c.post_pk.in_(part)))
        every_post = int(connection.execute(select(func.count()).select_from(posts)).scalar() or 0)
        total_posts = every_post - len(hidden)
        complete = _all_cached(connection, key, total_posts)
    fill_term_ids(engine, key)
    todo = 0 if complete else missing_count(engine, key)
    done = 0
    if progress is not None:
        progress(0, todo)
    vocab = Vocabulary(key)
    for batch in _batches(engine, key, todo):
        tokenized = [(pk, text_digest(text), tokenizer(text)) for pk, text in batch]

        def write(
            connection: Connection, tokenized: list[tuple[int, str, frozenset[str]]] = tokenized
        ) -> None:
            vocab.add(connection, {t for _, _, terms in tokenized for t in terms})
            rows = [
                {
                    "post_pk": pk,
                    "tokenizer": key,
                    "text_sha256": sha,
                    "terms": encode_terms(terms),
                }
                for pk, sha, terms in tokenized
            ]
            ids = [
                {"post_pk": pk, "tokenizer": key, "term_ids": vocab.encode(terms)}
                for pk, _, terms in tokenized
            ]
            connection.execute(insert(post_terms).prefix_with("OR IGNORE", dialect="sqlite"), rows)
            connection.execute(
                insert(post_term_ids).prefix_with("OR IGNORE", dialect="sqlite"), ids
            )

        _write_with_vocabulary(engine, vocab, write)
        done += len(batch)
        if progress is not None:
            progress(done, todo)
    return CacheStats(key, total_posts - todo, done, int(purged or 0))


def _batches(engine: Engine, key: str, todo: int) -> Iterator[list[tuple[int, str]]]:
    """The uncached posts in batches, read by primary key ranges (no long-lived cursor, so
    the inserts in between never wait on a reader)."""
    if todo == 0:
        return
    last = -1
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                _missing_query(key).where(posts.c.id > last).limit(_BATCH)
            ).all()
        if not rows:
            return
        last = int(rows[-1][0])
        yield [(int(pk), str(text)) for pk, text in rows]


def clear_terms(engine: Engine, key: str | None = None) -> int:
    """Delete cached terms, their ids and their vocabulary (of one tokenizer, or all);
    returns the rows of ``post_terms`` deleted."""
    with engine.begin() as connection:
        deleted = 0
        for table in (post_terms, post_term_ids, term_vocab):
            query = delete(table)
            if key is not None:
                query = query.where(table.c.tokenizer == key)
            count = int(connection.execute(query).rowcount or 0)
            deleted = count if table is post_terms else deleted
        return deleted
