"""The per-post term cache: each post is tokenised once, and its terms kept in the store.

Rows of ``post_terms`` (``store/schema.py``) hold a post's set of terms (space-separated,
sorted; no term contains a space) for one tokenizer, named by :func:`tokenizer_key`: the cache
format, the segmentation engine and its version, the views and a digest of the stopwords, so a
change of any of them gives a new key and a fresh tokenisation, never a silent mix.
:func:`refresh_terms` tokenises the posts that have no row yet (a few thousand posts a second
with jieba, five times that with rjieba) and nothing else: an analysis never re-segments the
corpus. ``text_sha256`` records which text the terms came from.

Taken-down authors: their posts are never tokenised, and :func:`refresh_terms` deletes any
cached terms of theirs first (their terms are their words).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Protocol

from sqlalchemy import Engine, Select, and_, delete, exists, func, insert, select

from memoryhole.analysis.tokens import (
    DEFAULT_VIEWS,
    STOPWORDS,
    Tokenizer,
    _view_ngram_size,
)
from memoryhole.analysis.tokens import (
    Engine as Segmenter,
)
from memoryhole.store.schema import authors, post_terms, posts, redactions

#: Bump when the stored representation or the tokenisation rules change.
CACHE_FORMAT = 1

_BATCH = 2_000

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
        purged = connection.execute(
            delete(post_terms).where(post_terms.c.post_pk.in_(_redacted_posts()))
        ).rowcount
        total_posts = int(
            connection.execute(
                select(func.count()).select_from(posts).where(posts.c.id.not_in(_redacted_posts()))
            ).scalar()
            or 0
        )
    todo = missing_count(engine, key)
    done = 0
    if progress is not None:
        progress(0, todo)
    for batch in _batches(engine, key, todo):
        rows = [
            {
                "post_pk": pk,
                "tokenizer": key,
                "text_sha256": text_digest(text),
                "terms": encode_terms(tokenizer(text)),
            }
            for pk, text in batch
        ]
        with engine.begin() as connection:
            connection.execute(insert(post_terms).prefix_with("OR IGNORE", dialect="sqlite"), rows)
        done += len(rows)
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
    """Delete cached terms (of one tokenizer, or all); returns the rows deleted."""
    query = delete(post_terms)
    if key is not None:
        query = query.where(post_terms.c.tokenizer == key)
    with engine.begin() as connection:
        return int(connection.execute(query).rowcount or 0)
