"""Per-term removal statistics: which terms make a post more likely to be removed?

The method follows Bamman, O'Connor & Smith (2012, "Censorship and deletion practices in
Chinese social media", First Monday 17(3)), who ranked terms by the deletion rate of the posts
containing them against the overall rate, with three improvements:

* every rate has a confidence interval (Wilson 1927 score interval, or Clopper–Pearson);
* each term is tested, exactly, against the corpus baseline (one-sided binomial test, or
  Fisher's exact test of "posts with the term vs the rest"), and the many tests are corrected
  with Benjamini & Hochberg (1995) q-values, so a list "q < 0.05" is expected to hold at most
  5 % false discoveries;
* removal kinds are kept apart: ``kind`` chooses which verdict counts as "removed" (default
  ``censored``), so an author's own deletions do not pass for censorship.

Also: co-occurring term pairs ("A + B" rules in censor lists), and a same-author matched
comparison (after Fu, Chan & Chau 2013) by a stratified Cochran–Mantel–Haenszel test.

Everything is count based. Posts are read once into a :class:`TermIndex`: an integer id per
term, per-term counts by outcome (``numpy.bincount`` over ids, chunk by chunk) and, if kept, the
sparse post x term incidence (CSR arrays). No statistic ever scans the corpus per term.

Assumptions (see docs/statistics.md): posts are independent units (a repost storm of one text
is many posts); the baseline rate is the rate over all analysed posts; presence, not frequency,
of a term in a post is what counts; p-values are valid one term at a time, and BH needs
independence or positive dependence between the tests (terms that co-occur are positively
dependent, which BH tolerates).
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Collection, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from memoryhole.analysis.stats import (
    FloatArray,
    IntArray,
    bh_qvalues,
    binomial_greater_pvalues,
    clopper_pearson_interval,
    cmh_greater,
    fisher_greater_pvalues,
    wilson_interval,
)
from memoryhole.model import VERDICT_VALUES

if TYPE_CHECKING:
    import pandas as pd

Test = Literal["binomial", "fisher"]
Interval = Literal["wilson", "clopper-pearson"]

#: The verdicts that are removals: each can be chosen as ``kind``.
REMOVAL_OUTCOMES: Final = ("censored", "author_deleted", "account_suspended", "unknown")

#: The columns every result table starts with (the JSON field names are a contract).
COLUMNS: Final = (
    "term",
    "posts",
    "removed",
    "rate",
    "ci_low",
    "ci_high",
    "lift",
    "p_value",
    "q_value",
)

_CHUNK = 50_000
_BLOCK = 4_000_000  # incidences per block of terms in matched_author_stats


class PostTerms(NamedTuple):
    """One post for the term statistics: its set of terms, its verdict and its author."""

    terms: AbstractSet[str]
    outcome: str
    author: str | None = None


Record = PostTerms | tuple[AbstractSet[str], str] | tuple[AbstractSet[str], str, str | None]


def _iter_records(records: Any) -> Iterator[tuple[AbstractSet[str], str, str | None]]:
    """Records as (terms, outcome, author): tuples, PostTerms, or a DataFrame with the columns
    ``terms``, ``outcome`` and optionally ``author``."""
    if hasattr(records, "itertuples") and hasattr(records, "columns"):
        columns = list(records.columns)
        if "terms" not in columns or "outcome" not in columns:
            raise ValueError("a DataFrame of posts needs the columns 'terms' and 'outcome'")
        authors = records["author"] if "author" in columns else [None] * len(records)
        yield from zip(records["terms"], records["outcome"], authors, strict=True)
        return
    for record in records:
        if len(record) == 2:
            yield record[0], record[1], None
        else:
            yield record[0], record[1], record[2]


@dataclass
class TermIndex:
    """Posts read once: term ids, per-term counts by outcome, and the sparse incidence.

    ``counts[o, t]`` is the number of posts with outcome ``outcomes[o]`` containing term
    ``vocab[t]``; ``post_outcome[i]`` is post ``i``'s outcome code and ``post_author[i]`` its
    author code (-1 when unknown). When built with ``keep_incidence=True`` (the default), the
    terms of post ``i`` are ``indices[indptr[i]:indptr[i + 1]]`` (CSR layout), which the pair
    and same-author analyses need. Memory: 4 bytes per (post, term) incidence.
    """

    vocab: list[str]
    outcomes: list[str]
    counts: IntArray
    post_outcome: npt.NDArray[np.int16]
    post_author: npt.NDArray[np.int32]
    authors: list[str]
    indptr: IntArray | None = None
    indices: npt.NDArray[np.int32] | None = None
    _term_ids: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, records: Iterable[Record] | Any, keep_incidence: bool = True) -> TermIndex:
        """Read posts (see :class:`PostTerms`, or ``(terms, outcome[, author])`` tuples, or a
        DataFrame with columns ``terms``, ``outcome``, ``author``) in one streaming pass."""
        term_ids: dict[str, int] = {}
        outcome_ids: dict[str, int] = {name: i for i, name in enumerate(VERDICT_VALUES)}
        author_ids: dict[str, int] = {}
        counts = np.zeros((len(outcome_ids), 0), dtype=np.int64)
        post_outcome = array("h")
        post_author = array("i")
        all_indices = array("i")
        lengths_all = array("q")
        chunk_ids: list[int] = []
        chunk_lengths: list[int] = []
        chunk_outcomes: list[int] = []

        def flush() -> None:
            nonlocal counts
            if not chunk_lengths:
                return
            ids = np.fromiter(chunk_ids, dtype=np.int64, count=len(chunk_ids))
            codes = np.repeat(np.asarray(chunk_outcomes, dtype=np.int64), np.asarray(chunk_lengths))
            n_terms, n_out = len(term_ids), len(outcome_ids)
            if counts.shape != (n_out, n_terms):
                grown = np.zeros((n_out, n_terms), dtype=np.int64)
                grown[: counts.shape[0], : counts.shape[1]] = counts
                counts = grown
            if ids.size:
                counts += np.bincount(codes * n_terms + ids, minlength=n_out * n_terms).reshape(
                    n_out, n_terms
                )
            if keep_incidence:
                all_indices.frombytes(ids.astype(np.int32).tobytes())
                lengths_all.extend(chunk_lengths)
            chunk_ids.clear()
            chunk_lengths.clear()
            chunk_outcomes.clear()

        for terms, outcome, author in _iter_records(records):
            code = outcome_ids.get(outcome)
            if code is None:
                code = outcome_ids[outcome] = len(outcome_ids)
            post_outcome.append(code)
            if author is None:
                post_author.append(-1)
            else:
                a = author_ids.get(author)
                if a is None:
                    a = author_ids[author] = len(author_ids)
                post_author.append(a)
            before = len(chunk_ids)
            chunk_ids.extend([term_ids.setdefault(t, len(term_ids)) for t in terms])
            chunk_lengths.append(len(chunk_ids) - before)
            chunk_outcomes.append(code)
            if len(chunk_lengths) >= _CHUNK:
                flush()
        flush()
        n_terms, n_out = len(term_ids), len(outcome_ids)
        if counts.shape != (n_out, n_terms):
            grown = np.zeros((n_out, n_terms), dtype=np.int64)
            grown[: counts.shape[0], : counts.shape[1]] = counts
            counts = grown
        indptr: IntArray | None = None
        indices: npt.NDArray[np.int32] | None = None
        if keep_incidence:
            indptr = np.zeros(len(lengths_all) + 1, dtype=np.int64)
            np.cumsum(np.frombuffer(lengths_all, dtype=np.int64), out=indptr[1:])
            indices = np.frombuffer(all_indices, dtype=np.int32).copy()
        return cls(
            vocab=list(term_ids),
            outcomes=list(outcome_ids),
            counts=counts,
            post_outcome=np.frombuffer(post_outcome, dtype=np.int16).copy(),
            post_author=np.frombuffer(post_author, dtype=np.int32).copy(),
            authors=list(author_ids),
            indptr=indptr,
            indices=indices,
            _term_ids=term_ids,
        )

    @classmethod
    def from_stored(
        cls,
        chunks: Iterable[Sequence[str]],
        outcomes: Sequence[str],
        authors: Sequence[str | None] | None = None,
        keep_incidence: bool = True,
    ) -> TermIndex:
        """The same index as :meth:`build`, from the posts' terms as stored in the cache
        (``analysis.cache.encode_terms``: a post's distinct terms, space-separated), in
        chunks of posts, with their ``outcomes`` and ``authors`` aligned. Vectorised with
        pyarrow (split, dictionary-encode, ``bincount``): no Python work per term, so it is
        the path for large studies. Term ids follow first appearance in the chunks, so they
        may differ from :meth:`build`'s; every count is the same. Needs pyarrow."""
        import pyarrow as pa
        import pyarrow.compute as pc

        outcome_ids, post_outcome, post_author, author_names = _post_codes(outcomes, authors)
        n_out = len(outcome_ids)
        if not keep_incidence and _has_duckdb():
            vocab, counts = _count_with_duckdb(chunks, post_outcome, n_out)
            return cls(
                vocab=vocab,
                outcomes=list(outcome_ids),
                counts=counts,
                post_outcome=post_outcome,
                post_author=post_author,
                authors=author_names,
            )
        term_ids: dict[str, int] = {}
        counts = np.zeros((n_out, 0), dtype=np.int64)
        pieces: list[npt.NDArray[np.int32]] = []
        lengths: list[npt.NDArray[np.int64]] = []
        done = 0
        for chunk in chunks:
            m = len(chunk)
            if m == 0:
                continue
            strings = pa.array(chunk, type=pa.string())
            split = pc.split_pattern(strings, " ")  # stored: one space between terms
            per_post = pc.list_value_length(split).to_numpy(zero_copy_only=False)
            per_post = np.where(pc.equal(strings, "").to_numpy(zero_copy_only=False), 0, per_post)
            encoded = pc.dictionary_encode(pc.list_flatten(split))
            local = encoded.dictionary.to_pylist()
            to_global = np.fromiter(
                (term_ids.setdefault(t, len(term_ids)) if t else -1 for t in local),
                dtype=np.int64,
                count=len(local),
            )
            ids = to_global[encoded.indices.to_numpy(zero_copy_only=False)]
            if "" in local:  # a post with no terms is stored as "": one empty token, dropped
                ids = ids[ids >= 0]
            n_terms = len(term_ids)
            if counts.shape[1] != n_terms:
                grown = np.zeros((n_out, n_terms), dtype=np.int64)
                grown[:, : counts.shape[1]] = counts
                counts = grown
            code = np.repeat(post_outcome[done : done + m].astype(np.int64), per_post)
            counts += np.bincount(code * n_terms + ids, minlength=n_out * n_terms).reshape(
                n_out, n_terms
            )
            if keep_incidence:
                pieces.append(ids.astype(np.int32))
                lengths.append(per_post.astype(np.int64))
            done += m
        if done != len(outcomes):
            raise ValueError(f"{done} posts' terms for {len(outcomes)} outcomes")
        indptr: IntArray | None = None
        indices: npt.NDArray[np.int32] | None = None
        if keep_incidence:
            indptr = np.zeros(done + 1, dtype=np.int64)
            if lengths:
                np.cumsum(np.concatenate(lengths), out=indptr[1:])
            indices = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
        if counts.shape[1] != len(term_ids):
            counts = np.zeros((n_out, len(term_ids)), dtype=np.int64)
        return cls(
            vocab=list(term_ids),
            outcomes=list(outcome_ids),
            counts=counts,
            post_outcome=post_outcome,
            post_author=post_author,
            authors=author_names,
            indptr=indptr,
            indices=indices,
            _term_ids=term_ids,
        )

    @classmethod
    def from_ids(
        cls,
        chunks: Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]]],
        vocab: Sequence[str],
        outcomes: Sequence[str],
        authors: Sequence[str | None] | None = None,
        keep_incidence: bool = True,
    ) -> TermIndex:
        """The same index as :meth:`build`, from the posts' cached term ids
        (``post_term_ids.term_ids`` into ``vocab``): chunks of ``(terms per post, ids)`` in the
        order of ``outcomes``. Per chunk one ``bincount`` per outcome, nothing per term in
        Python: the path for large studies. Terms no post here contains are left out."""
        outcome_ids, post_outcome, post_author, author_names = _post_codes(outcomes, authors)
        n_out, n_vocab = len(outcome_ids), len(vocab)
        counts = np.zeros((n_out, n_vocab), dtype=np.int64)
        pieces: list[npt.NDArray[np.uint32]] = []
        lengths: list[npt.NDArray[np.int64]] = []
        # Most posts share one outcome (live): count every post's terms once, then only the
        # other posts' terms by outcome, and take those from the common outcome's counts.
        common = int(np.bincount(post_outcome).argmax()) if post_outcome.size else 0
        done = 0
        for per_post, ids in chunks:
            m = per_post.size
            outcome = post_outcome[done : done + m]
            counts[common] += np.bincount(ids, minlength=n_vocab)
            other = outcome != common
            if other.any():
                other_ids = ids[np.repeat(other, per_post)].astype(np.int64)
                code = np.repeat(outcome[other].astype(np.int64), per_post[other])
                by_outcome = np.bincount(code * n_vocab + other_ids, minlength=n_out * n_vocab)
                by_outcome = by_outcome.reshape(n_out, n_vocab)
                counts += by_outcome
                counts[common] -= by_outcome.sum(axis=0)
            if keep_incidence:
                pieces.append(ids)
                lengths.append(per_post)
            done += m
        if done != len(outcomes):
            raise ValueError(f"{done} posts' terms for {len(outcomes)} outcomes")
        present = np.flatnonzero(counts.sum(axis=0))
        new_id = np.full(n_vocab, -1, dtype=np.int64)
        new_id[present] = np.arange(present.size)
        indptr: IntArray | None = None
        indices: npt.NDArray[np.int32] | None = None
        if keep_incidence:
            indptr = np.zeros(done + 1, dtype=np.int64)
            if lengths:
                np.cumsum(np.concatenate(lengths), out=indptr[1:])
            indices = (
                new_id[np.concatenate(pieces)].astype(np.int32)
                if pieces
                else np.zeros(0, dtype=np.int32)
            )
        return cls(
            vocab=[vocab[int(i)] for i in present],
            outcomes=list(outcome_ids),
            counts=np.ascontiguousarray(counts[:, present]),
            post_outcome=post_outcome,
            post_author=post_author,
            authors=author_names,
            indptr=indptr,
            indices=indices,
        )

    @property
    def n_posts(self) -> int:
        return int(self.post_outcome.size)

    def term_id(self, term: str) -> int | None:
        if not self._term_ids and self.vocab:
            self._term_ids = {t: i for i, t in enumerate(self.vocab)}
        return self._term_ids.get(term)

    def outcome_codes(self, names: Iterable[str]) -> list[int]:
        return [self.outcomes.index(n) for n in names if n in self.outcomes]

    def _require_incidence(self) -> tuple[IntArray, npt.NDArray[np.int32]]:
        if self.indptr is None or self.indices is None:
            raise ValueError("this analysis needs a TermIndex built with keep_incidence=True")
        return self.indptr, self.indices

    def per_incidence(self, per_post: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """A per-post array repeated for each of the post's terms (parallel to ``indices``)."""
        indptr, _ = self._require_incidence()
        return np.repeat(per_post, np.diff(indptr))


def _post_codes(
    outcomes: Sequence[str], authors: Sequence[str | None] | None
) -> tuple[dict[str, int], npt.NDArray[np.int16], npt.NDArray[np.int32], list[str]]:
    """Outcome ids (the verdict values first), each post's outcome and author code (-1
    when no authors are given), and the authors by code."""
    import pandas as pd

    outcome_ids: dict[str, int] = {name: i for i, name in enumerate(VERDICT_VALUES)}
    for name in pd.unique(pd.Series(list(outcomes), dtype=object)):
        outcome_ids.setdefault(str(name), len(outcome_ids))
    post_outcome = np.fromiter(
        (outcome_ids[str(o)] for o in outcomes), dtype=np.int16, count=len(outcomes)
    )
    if authors is None:
        return outcome_ids, post_outcome, np.full(len(outcomes), -1, dtype=np.int32), []
    codes, uniques = pd.factorize(pd.Series(list(authors), dtype=object))
    return outcome_ids, post_outcome, codes.astype(np.int32), [str(a) for a in uniques]


def _has_duckdb() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def _count_with_duckdb(
    chunks: Iterable[Sequence[str]], post_outcome: npt.NDArray[np.int16], n_out: int
) -> tuple[list[str], IntArray]:
    """Per-term counts by outcome from stored terms, by one DuckDB ``GROUP BY`` over the
    chunks streamed as Arrow batches (split and hashed in C on every core). Returns the
    vocabulary (sorted) and ``counts[outcome, term]``."""
    import duckdb
    import pyarrow as pa

    schema = pa.schema([("terms", pa.string()), ("outcome", pa.int16())])
    seen = [0]

    def batches() -> Iterator[pa.RecordBatch]:
        for chunk in chunks:
            m = len(chunk)
            if m:
                codes = post_outcome[seen[0] : seen[0] + m]
                yield pa.record_batch(
                    [pa.array(chunk, type=pa.string()), pa.array(codes)], schema=schema
                )
                seen[0] += m

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    connection = duckdb.connect()
    try:
        connection.register("stored_terms", reader)
        table = connection.sql(
            "SELECT term, outcome, count(*)::BIGINT AS n FROM ("
            "SELECT unnest(string_split(terms, ' ')) AS term, outcome FROM stored_terms"
            ") WHERE term <> '' GROUP BY term, outcome ORDER BY term, outcome"
        ).to_arrow_table()
    finally:
        connection.close()
    if seen[0] != post_outcome.size:
        raise ValueError(f"{seen[0]} posts' terms for {post_outcome.size} outcomes")
    encoded = table.column("term").combine_chunks().dictionary_encode()
    vocab = [str(t) for t in encoded.dictionary.to_pylist()]
    counts = np.zeros((n_out, len(vocab)), dtype=np.int64)
    term = encoded.indices.to_numpy(zero_copy_only=False)
    outcome = table.column("outcome").to_numpy().astype(np.int64)
    counts[outcome, term] = table.column("n").to_numpy()
    return vocab, counts


def _kind_set(kind: str | Collection[str]) -> tuple[str, ...]:
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    for k in kinds:
        if k not in REMOVAL_OUTCOMES:
            raise ValueError(f"kind {k!r} is not a removal verdict: use one of {REMOVAL_OUTCOMES}")
    if not kinds:
        raise ValueError("kind must name at least one removal verdict")
    return kinds


@dataclass(frozen=True)
class _Selection:
    """Which posts are analysed and which count as removed, as masks over outcome codes."""

    removed_codes: npt.NDArray[np.bool_]  # per outcome code
    included_codes: npt.NDArray[np.bool_]
    n_posts: int
    n_removed: int

    def post_masks(self, index: TermIndex) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        return self.included_codes[index.post_outcome], self.removed_codes[index.post_outcome]


def _select(
    index: TermIndex, kind: str | Collection[str], exclude_outcomes: Collection[str]
) -> _Selection:
    kinds = _kind_set(kind)
    removed = np.array([o in kinds for o in index.outcomes], dtype=bool)
    included = np.array([o not in exclude_outcomes for o in index.outcomes], dtype=bool)
    if np.any(removed & ~included):
        raise ValueError("an excluded outcome cannot also be the removal kind")
    per_outcome = np.bincount(index.post_outcome, minlength=len(index.outcomes))
    return _Selection(
        removed_codes=removed,
        included_codes=included,
        n_posts=int(per_outcome[included].sum()),
        n_removed=int(per_outcome[removed].sum()),
    )


def _as_index(data: TermIndex | Iterable[Record] | Any) -> TermIndex:
    return data if isinstance(data, TermIndex) else TermIndex.build(data)


def _rate_table(
    terms: Sequence[str],
    posts: IntArray,
    removed: IntArray,
    n_posts: int,
    n_removed: int,
    test: Test,
    ci: Interval,
    alpha: float,
) -> dict[str, Any]:
    """The contract columns for a set of (posts, removed) counts against the baseline."""
    baseline = n_removed / n_posts if n_posts else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = removed / posts
        lift = rate / baseline if baseline > 0 else np.full(rate.shape, np.nan)
    if ci == "wilson":
        low, high = wilson_interval(removed, posts, alpha)
    elif ci == "clopper-pearson":
        low, high = clopper_pearson_interval(removed, posts, alpha)
    else:
        raise ValueError(f"unknown interval {ci!r}: use 'wilson' or 'clopper-pearson'")
    if test == "binomial":
        p = binomial_greater_pvalues(removed, posts, baseline if n_posts else 0.0)
    elif test == "fisher":
        p = fisher_greater_pvalues(removed, posts, n_removed, n_posts)
    else:
        raise ValueError(f"unknown test {test!r}: use 'binomial' or 'fisher'")
    return {
        "term": list(terms),
        "posts": posts,
        "removed": removed,
        "rate": rate,
        "ci_low": low,
        "ci_high": high,
        "lift": lift,
        "p_value": p,
        "q_value": bh_qvalues(p),
    }


def _sorted_frame(columns: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(columns)
    frame = frame.sort_values(
        ["q_value", "lift", "posts", "term"],
        ascending=[True, False, False, True],
        na_position="last",
        kind="mergesort",
    )
    return frame.reset_index(drop=True)


def term_stats(
    data: TermIndex | Iterable[Record] | Any,
    *,
    kind: str | Collection[str] = "censored",
    min_posts: int = 20,
    test: Test = "binomial",
    ci: Interval = "wilson",
    alpha: float = 0.05,
    exclude_outcomes: Collection[str] = (),
) -> pd.DataFrame:
    """Removal statistics for every term found in at least ``min_posts`` posts.

    ``data``: a :class:`TermIndex` or the records to build one from. ``kind``: the verdict(s)
    that count as removed; every other analysed post counts as not removed.
    ``exclude_outcomes``: verdicts whose posts are left out altogether (e.g. ``("unknown",)``,
    or the other removal kinds to compare "censored" against surviving posts only).

    Returns one row per tested term, sorted by ``q_value`` then ``lift`` (descending):

    ``term, posts, removed, rate, ci_low, ci_high, lift, p_value, q_value`` (the contract),
    then ``n_<outcome>`` (posts of each verdict containing the term) and ``significant``
    (``q_value < alpha``). ``rate = removed / posts``; ``ci_*`` its ``1 - alpha`` interval;
    ``lift = rate / baseline`` with ``baseline = removed posts / analysed posts`` (NaN when
    nothing was removed); ``p_value`` the one-sided exact test of "rate > baseline"
    (``test="binomial"``: ``P(Bin(posts, baseline) >= removed)``; ``test="fisher"``: the
    hypergeometric tail of the table term vs rest, which, unlike the binomial test, does not
    count the term's own posts in its baseline); ``q_value`` the Benjamini–Hochberg adjusted
    p-value over all tested terms. The baseline is stored in ``frame.attrs``.
    """
    if min_posts < 1:
        raise ValueError("min_posts must be at least 1")
    index = _as_index(data)
    sel = _select(index, kind, exclude_outcomes)
    posts_all = index.counts[sel.included_codes].sum(axis=0)
    removed_all = index.counts[sel.removed_codes].sum(axis=0)
    tested = np.flatnonzero(posts_all >= min_posts)
    columns = _rate_table(
        [index.vocab[i] for i in tested],
        posts_all[tested],
        removed_all[tested],
        sel.n_posts,
        sel.n_removed,
        test,
        ci,
        alpha,
    )
    for code, name in enumerate(index.outcomes):
        if sel.included_codes[code]:
            columns[f"n_{name}"] = index.counts[code, tested]
    columns["significant"] = columns["q_value"] < alpha
    frame = _sorted_frame(columns)
    frame.attrs.update(_attrs(sel, kind, test, alpha, min_posts))
    return frame


def _attrs(
    sel: _Selection, kind: str | Collection[str], test: str, alpha: float, min_posts: int
) -> dict[str, Any]:
    return {
        "min_posts": min_posts,
        "posts": sel.n_posts,
        "removed": sel.n_removed,
        "baseline": sel.n_removed / sel.n_posts if sel.n_posts else float("nan"),
        "kind": kind if isinstance(kind, str) else list(kind),
        "test": test,
        "alpha": alpha,
    }


def _overlapping(a: str, b: str) -> bool:
    """True when one term's text contains the other's (``c2:六四`` and ``w:六四天``)."""
    ta, tb = a.partition(":")[2] or a, b.partition(":")[2] or b
    return ta in tb or tb in ta


def pair_stats(
    data: TermIndex | Iterable[Record] | Any,
    *,
    kind: str | Collection[str] = "censored",
    top_k: int = 200,
    min_posts: int = 20,
    test: Test = "binomial",
    ci: Interval = "wilson",
    alpha: float = 0.05,
    exclude_outcomes: Collection[str] = (),
    skip_overlapping: bool = True,
) -> pd.DataFrame:
    """Statistics for co-occurring pairs among the ``top_k`` most frequent terms.

    A pair "A + B" counts the posts containing both. The contract columns are computed as in
    :func:`term_stats` (``term`` is ``"A + B"``, ``q_value`` is BH over the tested pairs), and
    the pair is compared with each single: ``p_vs_a`` is the one-sided Fisher exact test,
    within posts containing A, of "posts with B are removed more often than posts without B"
    (and ``p_vs_b`` symmetrically). ``p_vs_singles = max(p_vs_a, p_vs_b)`` is the
    intersection–union test of "the pair's rate is above both singles' other posts'";
    ``q_vs_singles`` is its BH q-value over the pairs and ``above_singles`` flags
    ``q_vs_singles < alpha`` — candidates for an "A + B" rule. ``skip_overlapping`` drops pairs
    where one term's text contains the other's (e.g. ``c2:六四`` with ``c3:六四天``), which
    co-occur by construction.

    Cost: a sparse product over the posts' top-K terms (scipy.sparse), O(incidences + K^2).
    """
    from scipy import sparse

    index = _as_index(data)
    indptr, indices = index._require_incidence()
    sel = _select(index, kind, exclude_outcomes)
    posts_all = index.counts[sel.included_codes].sum(axis=0)
    removed_all = index.counts[sel.removed_codes].sum(axis=0)
    candidates = np.flatnonzero(posts_all >= min_posts)
    order = np.lexsort((candidates, -posts_all[candidates]))
    top = candidates[order[:top_k]]
    if top.size < 2:
        empty = _sorted_frame({c: [] for c in COLUMNS})
        empty.attrs.update(_attrs(sel, kind, test, alpha, min_posts))
        return empty
    included, removed_post = sel.post_masks(index)
    column_of = np.full(len(index.vocab), -1, dtype=np.int32)
    column_of[top] = np.arange(top.size, dtype=np.int32)
    cols = column_of[indices]
    keep = (cols >= 0) & index.per_incidence(included)
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    x = sparse.csr_matrix(
        (np.ones(int(kept_before[-1]), dtype=np.int64), cols[keep], kept_before[indptr]),
        shape=(index.n_posts, top.size),
    )
    both = (x.T @ x).toarray()
    xr = x[np.flatnonzero(removed_post)]
    both_removed = (xr.T @ xr).toarray()
    ii, jj = np.triu_indices(top.size, k=1)
    n_pair = both[ii, jj]
    ok = n_pair >= min_posts
    ii, jj = ii[ok], jj[ok]
    names = [index.vocab[i] for i in top]
    if skip_overlapping:
        mask = np.array([not _overlapping(names[i], names[j]) for i, j in zip(ii, jj, strict=True)])
        if mask.size:
            ii, jj = ii[mask], jj[mask]
    n_pair = both[ii, jj].astype(np.int64)
    k_pair = both_removed[ii, jj].astype(np.int64)
    columns = _rate_table(
        [f"{names[i]} + {names[j]}" for i, j in zip(ii, jj, strict=True)],
        n_pair,
        k_pair,
        sel.n_posts,
        sel.n_removed,
        test,
        ci,
        alpha,
    )
    n_a, k_a = posts_all[top][ii], removed_all[top][ii]
    n_b, k_b = posts_all[top][jj], removed_all[top][jj]
    with np.errstate(divide="ignore", invalid="ignore"):
        columns["rate_a"] = k_a / n_a
        columns["rate_b"] = k_b / n_b
    p_a = fisher_greater_pvalues(k_pair, n_pair, k_a, n_a)
    p_b = fisher_greater_pvalues(k_pair, n_pair, k_b, n_b)
    p_both = np.maximum(p_a, p_b)
    q_both = bh_qvalues(p_both)
    columns["p_vs_a"] = p_a
    columns["p_vs_b"] = p_b
    columns["p_vs_singles"] = p_both
    columns["q_vs_singles"] = q_both
    columns["above_singles"] = q_both < alpha
    columns["significant"] = columns["q_value"] < alpha
    frame = _sorted_frame(columns)
    frame.attrs.update(_attrs(sel, kind, test, alpha, min_posts))
    return frame


def matched_author_stats(
    data: TermIndex | Iterable[Record] | Any,
    *,
    kind: str | Collection[str] = "censored",
    min_posts: int = 20,
    ci: Interval = "wilson",
    alpha: float = 0.05,
    exclude_outcomes: Collection[str] = (),
    correction: bool = True,
) -> pd.DataFrame:
    """Same-author matched comparison (after Fu, Chan & Chau 2013): is a term associated with
    removal *within* authors, i.e. beyond who tends to be censored?

    Each author is a stratum; per term, the 2x2 table of each author's posts (term present or
    not) x (removed or not) is combined with the one-sided Cochran–Mantel–Haenszel test
    (Mantel & Haenszel 1959; normal approximation, continuity-corrected by default; see
    :func:`memoryhole.analysis.stats.cmh_greater`). Authors whose posts are all removed or all
    kept, or who only posted once, carry no information and drop out of the statistic by
    construction. Columns: the contract columns (``posts``, ``removed``, ``rate``, the CI and
    ``lift`` are the plain pooled ones; ``p_value`` and ``q_value`` are the CMH ones), then
    ``odds_ratio_mh`` (the Mantel–Haenszel common odds ratio), ``z``, ``informative_authors``
    and ``significant``. Terms with no informative author have ``p_value`` and ``q_value`` NaN
    and are not counted in the BH correction (that selection depends on the table margins
    only, on which the test conditions). Posts without an author are left out.

    Not done: the exact conditional (hypergeometric-convolution) CMH test for sparse tables,
    and a conditional-logistic model with several terms at once.
    """
    index = _as_index(data)
    _, indices = index._require_incidence()
    sel = _select(index, kind, exclude_outcomes)
    included, removed_post = sel.post_masks(index)
    usable = included & (index.post_author >= 0)
    n_authors = max(len(index.authors), 1)
    author = index.post_author.astype(np.int64)
    n_by_author = np.bincount(author[usable], minlength=n_authors)
    m_by_author = np.bincount(author[usable & removed_post], minlength=n_authors)
    n_terms = len(index.vocab)

    # Pooled counts over the usable posts decide which terms are tested.
    on_usable = index.per_incidence(usable)
    term_ids = indices[on_usable]
    posts_all = np.bincount(term_ids, minlength=n_terms)
    removed_all = np.bincount(
        term_ids[index.per_incidence(removed_post)[on_usable]], minlength=n_terms
    )
    tested = np.flatnonzero(posts_all >= min_posts)
    is_tested = np.zeros(n_terms, dtype=bool)
    is_tested[tested] = True

    # Only authors with 2+ posts, some removed and some not, carry information: a stratum of
    # any other author adds 0 to every sum of the CMH statistic and the MH odds ratio.
    informative_author = (n_by_author > 1) & (m_by_author > 0) & (m_by_author < n_by_author)
    keep = on_usable & index.per_incidence(informative_author[np.maximum(author, 0)])
    term_ids = indices[keep].astype(np.int64)
    post_author = index.per_incidence(author)[keep]
    post_removed = index.per_incidence(removed_post)[keep]
    sub = is_tested[term_ids]
    term_ids, post_author, post_removed = term_ids[sub], post_author[sub], post_removed[sub]
    del keep, sub, on_usable

    p = np.full(n_terms, np.nan)
    z = np.full(n_terms, np.nan)
    odds = np.full(n_terms, np.nan)
    informative = np.zeros(n_terms, dtype=np.int64)
    # One row per (term, author) stratum present, built for a block of terms at a time so
    # memory stays bounded (about 100 bytes per incidence of the block).
    load = np.bincount(term_ids, minlength=n_terms).cumsum()
    bounds = np.unique(np.searchsorted(load, np.arange(0, load[-1] if load.size else 0, _BLOCK)))
    edges = np.concatenate((bounds, [n_terms])) if bounds.size else np.array([0, n_terms])
    for lo, hi in itertools.pairwise(edges):
        block = (term_ids >= lo) & (term_ids < hi)
        keys = (term_ids[block] - lo) * n_authors + post_author[block]
        uniq, inverse = np.unique(keys, return_inverse=True)
        n1 = np.bincount(inverse, minlength=uniq.size)
        a = np.bincount(inverse, weights=post_removed[block], minlength=uniq.size)
        stratum_term = uniq // n_authors
        stratum_author = uniq % n_authors
        n_k = n_by_author[stratum_author]
        m_k = m_by_author[stratum_author]
        width = int(hi - lo)
        bp, bz, bodds, _ = cmh_greater(stratum_term, a, n1, m_k, n_k, width, correction)
        p[lo:hi], z[lo:hi], odds[lo:hi] = bp, bz, bodds
        informative[lo:hi] = np.bincount(
            stratum_term, weights=(n1 < n_k).astype(np.float64), minlength=width
        ).astype(np.int64)
    n_usable = int(usable.sum())
    n_removed_usable = int((usable & removed_post).sum())
    columns = _rate_table(
        [index.vocab[i] for i in tested],
        posts_all[tested],
        removed_all[tested],
        n_usable,
        n_removed_usable,
        "binomial",
        ci,
        alpha,
    )
    columns["p_value"] = p[tested]
    columns["q_value"] = bh_qvalues(p[tested])
    columns["odds_ratio_mh"] = odds[tested]
    columns["z"] = z[tested]
    columns["informative_authors"] = informative[tested]
    columns["significant"] = columns["q_value"] < alpha
    frame = _sorted_frame(columns)
    frame.attrs.update(_attrs(sel, kind, "cmh", alpha, min_posts))
    frame.attrs["posts"] = n_usable
    frame.attrs["removed"] = n_removed_usable
    frame.attrs["authors"] = int(np.count_nonzero(n_by_author))
    return frame


#: How each view's prefix reads, for a table's legend.
VIEW_LABELS: Final = {
    "w": "a word (jieba for Chinese)",
    "c2": "two Chinese characters in a row",
    "c3": "three Chinese characters in a row",
}
#: The order in which views win a tie when :func:`merge_term_views` keeps one row per text.
_VIEW_ORDER: Final = ("w", "c2", "c3")


def split_term(term: str) -> tuple[str, str]:
    """``"w:六四"`` → ``("w", "六四")``; a term without a view prefix → ``("", term)``."""
    if " + " in term:  # a pair (``pair_stats``): two terms, no one view
        return "", term
    view, colon, text = term.partition(":")
    if colon and view and (view == "w" or (view[0] == "c" and view[1:].isdigit())):
        return view, text
    return "", term


def view_legend(views: Iterable[str] = _VIEW_ORDER) -> str:
    """The prefixes in words: ``w: a word (jieba …); c2: two Chinese characters in a row …``."""
    parts = []
    for view in views:
        label = VIEW_LABELS.get(view) or (
            f"{view[1:]} Chinese characters in a row" if view[1:].isdigit() else view
        )
        parts.append(f"{view}: {label}")
    return "; ".join(parts) + " (spaces and punctuation between characters ignored)"


def merge_term_views(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per text: where several views give the same text (``w:六四`` and ``c2:六四``),
    keep the row with the lowest q-value (then p-value, then more posts, then ``w`` before
    ``c2`` before ``c3``), in the frame's order. Two columns are added at the end: ``text``
    (the term without its prefix) and ``views`` (the prefixes that gave it, comma-separated,
    the kept one first). Rows whose term has no view prefix (pairs ``A + B``) stay as they are.

    q-values are not recomputed: they stay Benjamini–Hochberg over every tested term, each
    view counted, which is conservative for the merged list.
    """
    import pandas as pd

    if frame.empty or "term" not in frame.columns:
        out = frame.copy()
        out["text"] = pd.Series(dtype=object)
        out["views"] = pd.Series(dtype=object)
        out.attrs.update(frame.attrs)
        return out
    parts = [split_term(str(t)) for t in frame["term"]]
    views = [v for v, _ in parts]
    texts = [t if v else str(term) for (v, t), term in zip(parts, frame["term"], strict=True)]
    rank = [_VIEW_ORDER.index(v) if v in _VIEW_ORDER else len(_VIEW_ORDER) for v in views]
    # A row without a view (a pair) is a group of its own.
    keys = [texts[i] if views[i] else f"\0{i}" for i in range(len(views))]
    work = pd.DataFrame(
        {
            "_pos": np.arange(len(frame)),
            "_text": keys,
            "_q": frame["q_value"].to_numpy(dtype=np.float64) if "q_value" in frame else 0.0,
            "_p": frame["p_value"].to_numpy(dtype=np.float64) if "p_value" in frame else 0.0,
            "_n": -frame["posts"].to_numpy(dtype=np.float64) if "posts" in frame else 0.0,
            "_rank": rank,
        }
    )
    ordered = work.sort_values(
        ["_text", "_q", "_p", "_n", "_rank", "_pos"], na_position="last", kind="mergesort"
    )
    group_views: dict[str, list[str]] = {}
    for text, position in zip(ordered["_text"], ordered["_pos"], strict=True):
        if views[position]:
            group_views.setdefault(text, []).append(views[position])
    kept = np.sort(ordered.drop_duplicates("_text", keep="first")["_pos"].to_numpy())
    out = frame.iloc[kept].reset_index(drop=True)
    out["text"] = [texts[i] for i in kept]
    out["views"] = [",".join(group_views.get(texts[i], [])) for i in kept]
    out.attrs.update(frame.attrs)
    out.attrs["merged_views"] = True
    return out


@dataclass(frozen=True)
class TermSignificance:
    """Whether any term is significant, and, when none is, why: how much data it would take.

    ``tested``: terms tested (the Benjamini–Hochberg family); ``significant``: of them, those
    with ``q < alpha``. ``needed_p``: the p-value the most significant term must beat to be a
    discovery at all (BH's first step, ``alpha / tested``). ``needed_posts``: for a few lifts
    (a term's removal rate ÷ the baseline), about how many posts containing the term, removed
    at exactly that rate, would reach ``needed_p`` in a one-sided exact binomial test (None
    when the lift would put the rate at 100% or more, or past a billion posts): rough, since
    the test is exact and counts are whole, but of the right size.
    """

    tested: int
    significant: int
    posts: int
    removed: int
    baseline: float | None
    alpha: float
    min_posts: int
    kind: str
    lowest_q: float | None
    needed_p: float | None
    needed_posts: dict[float, int | None] = field(default_factory=dict)

    @property
    def any_significant(self) -> bool:
        return self.significant > 0

    def heading(self, shown: int) -> str:
        """What a list of ``shown`` rows sorted by q-value is, honestly: never "the N most
        significant terms" when they are not."""
        if self.significant == 0:
            return (
                f"the {shown:,} terms with the lowest q-values: none is significant "
                f"(q < {self.alpha:g})"
            )
        if self.significant < shown:
            return (
                f"the {shown:,} terms with the lowest q-values, {self.significant:,} of them "
                f"significant (q < {self.alpha:g})"
            )
        return (
            f"the {shown:,} most significant terms (q < {self.alpha:g}; "
            f"{self.significant:,} in all)"
        )

    def message(self) -> str | None:
        """None when some term is significant; else one paragraph saying so and why."""
        if self.significant:
            return None
        kind = self.kind
        if self.posts == 0:
            return "No post to analyse: no term can be tested."
        if self.removed == 0:
            return (
                f"No term is significant: none of the {self.posts:,} posts analysed was "
                f"removed ({kind}), so there is no removal to associate terms with."
            )
        if self.tested == 0:
            return (
                f"No term is significant: no term was tested, since none is found in at least "
                f"{self.min_posts:,} posts (min_posts) among the {self.posts:,} analysed. A "
                f"lower min_posts tests rarer terms, each with less power."
            )
        lowest = "" if self.lowest_q is None else f"; the lowest q-value is {self.lowest_q:.2g}"
        text = (
            f"No term is significant at q < {self.alpha:g} ({self.tested:,} terms tested, each "
            f"in at least {self.min_posts:,} posts{lowest}): the rows are ranked by q-value, "
            f"not evidence that these terms get posts removed."
        )
        baseline = self.baseline
        if baseline is None or self.needed_p is None:
            return text
        sizes = []
        for lift, n in self.needed_posts.items():
            if n is None:
                continue
            k = math.ceil(n * min(1.0, lift * baseline))
            sizes.append(f"{lift:g}× the baseline: about {n:,} posts containing it ({k:,} removed)")
        if sizes:
            text += (
                f" With {self.removed:,} of {self.posts:,} posts removed (a baseline of "
                f"{baseline:.2%}) and {self.tested:,} terms tested, the first discovery needs "
                f"p < {self.needed_p:.1e}. A term removed at " + "; at ".join(sizes) + "."
            )
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "tested": self.tested,
            "significant": self.significant,
            "posts": self.posts,
            "removed": self.removed,
            "baseline": self.baseline,
            "alpha": self.alpha,
            "min_posts": self.min_posts,
            "kind": self.kind,
            "lowest_q": self.lowest_q,
            "needed_p": self.needed_p,
            "needed_posts": {f"{lift:g}": n for lift, n in self.needed_posts.items()},
            "message": self.message(),
        }


#: The lifts :func:`term_significance` says how many posts would be needed for.
DETECTABLE_LIFTS: Final = (2.0, 5.0)


def posts_needed(baseline: float, lift: float, needed_p: float, minimum: int = 1) -> int | None:
    """The smallest number of posts ``n`` (at least ``minimum``) such that a term whose posts
    are removed at ``lift × baseline`` (``ceil(n × rate)`` of ``n`` removed) has a one-sided
    exact binomial p-value below ``needed_p`` against ``baseline``; None when the rate would be
    100% or more, or when a billion posts would not do."""
    from scipy import stats as sps

    rate = lift * baseline
    if not 0.0 < baseline < 1.0 or rate >= 1.0 or not 0.0 < needed_p < 1.0:
        return None

    def significant(n: int) -> bool:
        k = math.ceil(n * rate - 1e-9)
        return bool(sps.binom.sf(k - 1, n, baseline) < needed_p)

    start = max(1, minimum)
    if significant(start):
        return start
    low, high = start, start * 2
    while not significant(high):
        low, high = high, high * 2
        if high > 1_000_000_000:
            return None
    while high - low > 1:
        middle = (low + high) // 2
        if significant(middle):
            high = middle
        else:
            low = middle
    # Whole counts make the p-value zigzag with n (a period of about 1 / rate): the smallest n
    # lies within a couple of periods below the crossing bisection found.
    for n in range(max(start, high - math.ceil(2 / rate)), high):
        if significant(n):
            return n
    return high


def term_significance(
    q_values: Iterable[float | None],
    *,
    posts: int,
    removed: int,
    alpha: float = 0.05,
    min_posts: int = 20,
    kind: str | Collection[str] = "censored",
    lifts: Sequence[float] = DETECTABLE_LIFTS,
) -> TermSignificance:
    """:class:`TermSignificance` of a term table: its q-values (one per tested term, before any
    :func:`merge_term_views`), the posts analysed and of them the removed."""
    values = np.array([np.nan if q is None else float(q) for q in q_values], dtype=np.float64)
    finite = values[np.isfinite(values)]
    tested = int(finite.size)
    baseline = removed / posts if posts else None
    needed_p = alpha / tested if tested else None
    needed: dict[float, int | None] = {}
    if baseline is not None and needed_p is not None and 0 < removed < posts:
        for lift in lifts:
            needed[float(lift)] = posts_needed(baseline, float(lift), needed_p, min_posts)
    return TermSignificance(
        tested=tested,
        significant=int(np.count_nonzero(finite < alpha)),
        posts=int(posts),
        removed=int(removed),
        baseline=baseline,
        alpha=alpha,
        min_posts=int(min_posts),
        kind=kind if isinstance(kind, str) else ", ".join(kind),
        lowest_q=float(finite.min()) if tested else None,
        needed_p=needed_p,
        needed_posts=needed,
    )


def frame_significance(frame: pd.DataFrame, min_posts: int | None = None) -> TermSignificance:
    """:func:`term_significance` of a frame from :func:`term_stats` (or the pair and matched
    analyses), from its ``q_value`` column and ``attrs``."""
    attrs = frame.attrs
    q = frame["q_value"].tolist() if "q_value" in frame.columns else []
    return term_significance(
        q,
        posts=int(attrs.get("posts", 0)),
        removed=int(attrs.get("removed", 0)),
        alpha=float(attrs.get("alpha", 0.05)),
        min_posts=int(min_posts if min_posts is not None else attrs.get("min_posts", 20)),
        kind=attrs.get("kind", "censored"),
    )


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN and infinities become None, numpy scalars plain)."""
    out: list[dict[str, Any]] = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, float) and not np.isfinite(value):
                value = None
            clean[str(key)] = value
        out.append(clean)
    return out


__all__ = [
    "COLUMNS",
    "DETECTABLE_LIFTS",
    "REMOVAL_OUTCOMES",
    "VIEW_LABELS",
    "FloatArray",
    "PostTerms",
    "TermIndex",
    "TermSignificance",
    "frame_significance",
    "matched_author_stats",
    "merge_term_views",
    "pair_stats",
    "posts_needed",
    "split_term",
    "term_significance",
    "term_stats",
    "to_records",
    "view_legend",
]
