"""A study's posts, verdicts and terms, loaded into what the analysis functions take.

:class:`StudyData` holds one row per analysed post (a DataFrame, see :data:`POST_COLUMNS`)
and streams the posts' cached terms (``analysis.cache``) on demand, in the same order, into a
:class:`~memoryhole.analysis.terms.TermIndex` built once. Posts can be restricted to some
platforms and to a publication-time window (:class:`Filters`).

Always left out: posts of authors taken down (``memoryhole takedown``), as in every export.
Authors appear by pseudonym only, unless ``raw_author_ids=True`` is asked for explicitly
(on the study owner's own machine).
"""

from __future__ import annotations

import gc
import math
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Engine, Select, func, select

from memoryhole.analysis.cache import (
    LazyTokenizer,
    Progress,
    TokenizerLike,
    decode_terms,
    encode_terms,
    load_vocabulary,
    refresh_terms,
    tokenizer_key,
)
from memoryhole.analysis.terms import PostTerms, TermIndex
from memoryhole.errors import MemoryholeError
from memoryhole.store.bulk import driver_chunks
from memoryhole.store.coverage import TIMELINE_KINDS, GapIndex, coverage_gaps
from memoryhole.store.schema import (
    authors,
    imports,
    observations,
    post_term_ids,
    post_terms,
    posts,
    redactions,
    targets,
    verdicts,
)
from memoryhole.times import ANALYSABLE_FROM, ANALYSABLE_UNTIL
from memoryhole.times import WECHATSCOPE_PUBLISHED_WITHIN as WECHATSCOPE_WITHIN

if TYPE_CHECKING:
    import pandas as pd

    from memoryhole.study import Study

#: The columns of :attr:`StudyData.posts`, in order (``text`` only when asked for).
POST_COLUMNS: Final = (
    "post_pk",
    "post_id",
    "platform",
    "author",
    "published_at",
    "first_seen_at",
    "last_seen_alive_at",
    "first_seen_removed_at",
    "verdict",
    "edited",
    "checks",
    "published_within",
    "interval_spans_gap",
)

#: Import kinds whose removals are dated but whose publication time is known only to a window:
#: kind -> the window's width in seconds after ``published_at``. Their time to removal is
#: ``T in [R - width, R]`` (``R = first_seen_removed_at - published_at``), see
#: :meth:`~memoryhole.analysis.survival.Timings.intervals`.
PUBLICATION_WINDOWS: Final[dict[str, float]] = {"wechatscope": WECHATSCOPE_WITHIN}

_TERM_CHUNK: Final = 25_000  # posts per chunk of stored terms

_TERM = re.compile(r"^(w|c[1-9]):.")


def parse_instant(value: str | float | None) -> float | None:
    """Epoch seconds from a number, an ISO date (midnight UTC) or date-time (naive: UTC)."""
    if value is None or isinstance(value, float | int):
        return None if value is None else float(value)
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise MemoryholeError(
                f"not a time: {value!r}; use an ISO date or date-time (2024-06-04, "
                "2024-06-04T12:00+08:00; naive means UTC) or epoch seconds"
            ) from None
        moment = datetime(day.year, day.month, day.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True)
class Filters:
    """Which posts to analyse: on these platforms (all if empty), published in
    ``[since, until)`` (epoch seconds; open ends when None); ``post_pks``: only posts whose
    row id is in ``[low, high)`` (the out-of-core dataset is written a window at a time)."""

    platforms: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    post_pks: tuple[int, int] | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [
            authors.c.pseudonym.not_in(select(redactions.c.author_pseudonym))
        ]
        if self.platforms:
            out.append(posts.c.platform.in_(self.platforms))
        if self.since is not None:
            out.append(posts.c.published_at >= self.since)
        if self.until is not None:
            out.append(posts.c.published_at < self.until)
        if self.post_pks is not None:
            out.append(posts.c.id >= self.post_pks[0])
            out.append(posts.c.id < self.post_pks[1])
        return out


def load_posts(
    engine: Engine,
    filters: Filters | None = None,
    *,
    raw_author_ids: bool = False,
    text: bool = False,
    gaps: GapIndex | None = None,
) -> pd.DataFrame:
    """One row per post with a verdict (columns :data:`POST_COLUMNS`, then ``text`` if asked),
    ordered by ``post_pk``. ``verdict`` is the export value (an edited post is ``live``);
    ``published_within`` the seconds after ``published_at`` the post may have been published
    (0: exact; see :data:`PUBLICATION_WINDOWS`); ``interval_spans_gap``: the removal's
    interval overlaps a coverage gap (``gaps``: ``Study.gap_index()``; by default the
    shortest thresholds, ``store/coverage.py``).

    Built for ten million posts: posts and verdicts are each read in one pass in primary-key
    order through the database driver and joined in numpy (not row by row in SQL), authors and
    imports are small tables mapped by key, numbers are numpy arrays, the repeated strings
    (platform, author, verdict) one shared object each, post ids an Arrow string array when
    pyarrow is there."""
    import pandas as pd

    filters = filters or Filters()
    with engine.connect() as connection:
        author_rows = connection.execute(
            select(authors.c.id, authors.c.raw_id if raw_author_ids else authors.c.pseudonym)
        ).all()
        redacted = set(connection.execute(select(redactions.c.author_pseudonym)).scalars())
        if redacted:
            hidden = set(
                connection.execute(
                    select(authors.c.id).where(authors.c.pseudonym.in_(redacted))
                ).scalars()
            )
        else:
            hidden = set()
        import_kinds = dict(connection.execute(select(imports.c.id, imports.c.kind)).all())
    post_columns: list[Any] = [
        posts.c.id,
        posts.c.post_id,
        posts.c.platform,
        posts.c.author_pk,
        posts.c.published_at,
        posts.c.imported_from,
        posts.c.published_until,
        posts.c.target_pk,
    ]
    if text:
        post_columns.append(posts.c.text)
    post_query = select(*post_columns).order_by(posts.c.id)
    for condition in filters.conditions()[1:]:  # [0] is the redaction filter, done below
        post_query = post_query.where(condition)
    verdict_query = select(
        verdicts.c.post_pk,
        verdicts.c.first_seen_at,
        verdicts.c.last_seen_alive_at,
        verdicts.c.first_seen_removed_at,
        verdicts.c.status,
        verdicts.c.edited,
        verdicts.c.checks,
    ).order_by(verdicts.c.post_pk)
    if filters.post_pks is not None:  # a window of posts: only its verdicts (not all of them)
        verdict_query = verdict_query.where(
            verdicts.c.post_pk >= filters.post_pks[0], verdicts.c.post_pk < filters.post_pks[1]
        )
    # Two scans at once: the driver lets go of the GIL while SQLite steps through pages.
    with ThreadPoolExecutor(max_workers=2) as pool:
        kinds = "iUsiffff" + ("o" if text else "")
        posts_read = pool.submit(_read_columns, engine, post_query, kinds)
        verdict_parts = _read_columns(engine, verdict_query, "ifffsfi")
        post_parts = posts_read.result()

    pk = _numbers(post_parts[0], np.int64)
    author_pk = _numbers(post_parts[3], np.int64)
    v_pk = _numbers(verdict_parts[0], np.int64)
    at = np.searchsorted(v_pk, pk)
    has_verdict = at < v_pk.size
    has_verdict[has_verdict] = v_pk[at[has_verdict]] == pk[has_verdict]
    if hidden:
        has_verdict &= ~np.isin(author_pk, np.fromiter(hidden, dtype=np.int64))
    keep = np.flatnonzero(has_verdict)
    take = at[keep]
    del at, has_verdict
    # Every post kept and every verdict used, in order (the usual case): no copies.
    posts_all = keep.size == pk.size
    verdicts_all = take.size == v_pk.size
    del v_pk

    def of_posts(values: Any) -> Any:
        return values if posts_all else values[keep]

    def of_verdicts(values: Any) -> Any:
        return values if verdicts_all else values[take]

    def column(parts: list[list[Any]], position: int, make: Callable[[list[Any]], Any]) -> Any:
        made = make(parts[position])
        parts[position] = []  # the chunks go as soon as the column is made
        return made

    author_ids = np.fromiter((a for a, _ in author_rows), dtype=np.int64, count=len(author_rows))
    order = np.argsort(author_ids)
    names = np.array([n for _, n in author_rows], dtype=object)[order]
    author_at = np.searchsorted(author_ids[order], of_posts(author_pk))
    del author_pk

    imported = of_posts(column(post_parts, 5, _floats))
    within = np.zeros(keep.size, dtype=np.float64)
    for import_id, kind in import_kinds.items():
        width = PUBLICATION_WINDOWS.get(str(kind), 0.0)
        if width:
            within[imported == float(import_id)] = width
    del imported
    published = of_posts(column(post_parts, 4, _floats))
    # A listing that gave only the day or hour (Weibo's "06-14"): published in a window too.
    until = of_posts(column(post_parts, 6, _floats))
    known = ~np.isnan(until)
    if known.any():
        within[known] = np.maximum(within[known], until[known] - published[known])
    del until, known
    target_pk = of_posts(column(post_parts, 7, _floats))

    status = of_verdicts(column(verdict_parts, 4, _shared_strings))
    status[status == "edited"] = "live"
    frame = pd.DataFrame(index=pd.RangeIndex(keep.size))
    frame["post_pk"] = of_posts(pk)
    del pk
    frame["post_id"] = column(post_parts, 1, lambda p: _post_ids(p, keep, posts_all))
    frame["platform"] = of_posts(column(post_parts, 2, _shared_strings))
    frame["author"] = names[author_at] if keep.size else np.zeros(0, dtype=object)
    del author_at
    frame["published_at"] = published
    for position, name in enumerate(
        ("first_seen_at", "last_seen_alive_at", "first_seen_removed_at"), start=1
    ):
        frame[name] = of_verdicts(column(verdict_parts, position, _floats))
    frame["verdict"] = status
    del status
    frame["edited"] = of_verdicts(column(verdict_parts, 5, _floats)) != 0
    frame["checks"] = of_verdicts(column(verdict_parts, 6, lambda p: _numbers(p, np.int64)))
    frame["published_within"] = within
    if text:
        frame["text"] = of_posts(
            np.array([t for part in post_parts[8] for t in part], dtype=object)
        )
    frame["interval_spans_gap"] = spans_gap_flags(
        frame, target_pk, gaps if gaps is not None else default_gap_index(engine)
    )
    del target_pk
    usable = usable_times(frame)
    left_out = int(usable.size - np.count_nonzero(usable))
    if left_out:
        frame = frame[usable].reset_index(drop=True)
    frame.attrs[IMPOSSIBLE_TIMES] = left_out
    return frame


def default_gap_index(engine: Engine) -> GapIndex:
    """The coverage gaps with the shortest thresholds (when the study's are not known)."""
    with engine.connect() as connection:
        pks = dict(connection.execute(select(targets.c.spec, targets.c.id)).all())
    return GapIndex(coverage_gaps(engine, planned_kinds=TIMELINE_KINDS), pks)


def spans_gap_flags(
    frame: pd.DataFrame, target_pk: npt.NDArray[np.float64], gaps: GapIndex
) -> npt.NDArray[np.bool_]:
    """Per row of ``frame`` (``platform``, ``last_seen_alive_at``, ``first_seen_removed_at``;
    ``target_pk``: the listing that found each post, NaN if none): whether its removal
    interval spans a coverage gap."""
    flags = np.zeros(len(frame), dtype=bool)
    if not gaps:
        return flags
    removed = frame["first_seen_removed_at"].to_numpy(dtype=np.float64)
    alive = frame["last_seen_alive_at"].to_numpy(dtype=np.float64)
    platforms = frame["platform"].to_numpy(dtype=object)
    for i in np.flatnonzero(~np.isnan(removed)):
        target = None if np.isnan(target_pk[i]) else int(target_pk[i])
        low = None if np.isnan(alive[i]) else float(alive[i])
        flags[i] = gaps.spans(str(platforms[i]), target, low, float(removed[i]))
    return flags


#: ``posts.attrs`` key: how many posts :func:`load_posts` left out for impossible times.
IMPOSSIBLE_TIMES: Final = "posts_with_impossible_times"


def usable_times(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Which posts' times an analysis can use: every time set is finite and in
    ``[1970, 2200)`` (:func:`memoryhole.times.analysable`), and a removal is not before the
    publication or the last sighting (less the publication window). Imports refuse anything
    else; a post that got such times another way (an edited store) is left out, not a crash."""
    published = frame["published_at"].to_numpy(dtype=np.float64)

    def in_range(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            return (values >= ANALYSABLE_FROM) & (values < ANALYSABLE_UNTIL)

    usable = in_range(published)
    for name in ("first_seen_at", "last_seen_alive_at", "first_seen_removed_at"):
        if name in frame.columns:
            values = frame[name].to_numpy(dtype=np.float64)
            usable &= np.isnan(values) | in_range(values)
    alive = frame["last_seen_alive_at"].to_numpy(dtype=np.float64)
    alive = np.where(np.isnan(alive), published, alive)
    within = np.zeros(len(frame))
    if "published_within" in frame.columns:
        within = np.nan_to_num(frame["published_within"].to_numpy(dtype=np.float64))
    removed = frame["first_seen_removed_at"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ordered = (removed >= published) & (removed >= alive - within)
    usable &= np.isnan(removed) | ordered
    return np.asarray(usable, dtype=bool)


_LOAD_CHUNK: Final = 200_000  # rows read at a time: the Python objects of one chunk at most


def _read_columns(engine: Engine, query: Select[Any], kinds: str) -> list[list[Any]]:
    """The query's result column by column, each chunk of rows converted at once (so only
    one chunk's Python objects exist at a time), by ``kinds``, one letter a column: ``i``
    int64 and ``f`` float64 arrays (None: NaN), ``s`` a few distinct strings as
    ``(codes, uniques)``, ``U`` unique strings as an Arrow array (Python strings without
    pyarrow), ``o`` the driver's values."""
    out: list[list[Any]] = [[] for _ in kinds]
    with _collector_paused:
        for rows in driver_chunks(engine, query, _LOAD_CHUNK):
            for position, column in enumerate(zip(*rows, strict=True)):
                out[position].append(_convert(kinds[position], column))
            del rows
    return out


def _convert(kind: str, column: tuple[Any, ...]) -> Any:
    import pandas as pd

    if kind == "i":
        return np.array(column, dtype=np.int64)
    if kind == "f":
        return np.array(column, dtype=np.float64)
    if kind == "s":
        codes, uniques = pd.factorize(np.array(column, dtype=object))
        return codes, list(uniques)
    if kind == "U" and _has_pyarrow():
        import pyarrow as pa

        return pa.array(column, type=pa.large_string())
    return column


class _CollectorPause:
    """The cyclic garbage collector off while any thread is inside (if it was on before)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._inside += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._was_enabled:
                gc.enable()


_collector_paused = _CollectorPause()


def _floats(parts: list[Any]) -> npt.NDArray[np.float64]:
    return _numbers(parts, np.float64)


def _numbers(parts: list[Any], dtype: type[np.generic]) -> npt.NDArray[Any]:
    """Chunks of a numeric column (kind ``i`` or ``f``) as one array."""
    if not parts:
        return np.zeros(0, dtype=dtype)
    return np.concatenate(parts).astype(dtype, copy=False)


def _shared_strings(parts: list[tuple[npt.NDArray[np.intp], list[Any]]]) -> npt.NDArray[np.object_]:
    """Chunks of kind ``s`` as one object array holding one object per distinct value."""
    if not parts:
        return np.zeros(0, dtype=object)
    codes = []
    uniques: dict[Any, int] = {}
    for local_codes, local_uniques in parts:
        mapping = np.array([uniques.setdefault(u, len(uniques)) for u in local_uniques])
        codes.append(mapping[local_codes] if local_codes.size else local_codes)
    values = np.array(list(uniques), dtype=object)
    shared: npt.NDArray[np.object_] = values[np.concatenate(codes)]
    return shared


def _post_ids(parts: list[Any], keep: npt.NDArray[np.intp], every: bool) -> Any:
    """Post ids (kind ``U``): an Arrow string array (about 20 bytes a post instead of 60)
    when pyarrow is there, else Python strings."""
    import pandas as pd

    if not _has_pyarrow():
        values = np.array([v for part in parts for v in part], dtype=object)
        return values if every else values[keep]
    import pyarrow as pa

    chunked = pa.chunked_array(parts, type=pa.large_string())
    taken = (chunked if every else chunked.take(pa.array(keep))).combine_chunks()
    return pd.Series(pd.arrays.ArrowStringArray(taken))


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def observed_until(engine: Engine) -> float | None:
    """The latest observation of the study (platform clock), or None before any."""
    with engine.connect() as connection:
        value = connection.execute(select(func.max(observations.c.observed_at))).scalar()
    return None if value is None else float(value)


@dataclass
class StudyData:
    """The analysed posts of a study and, streamed on demand, their terms.

    Build with :meth:`load`. ``posts``: see :data:`POST_COLUMNS`. ``observed_until``: the
    study's last observation, the end of what it could see.
    """

    engine: Engine
    posts: pd.DataFrame
    filters: Filters
    tokenizer: TokenizerLike
    observed_until: float | None
    _index: TermIndex | None = field(default=None, repr=False)
    _counts: TermIndex | None = field(default=None, repr=False)
    _texts: pd.Series | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        source: Study | Engine,
        filters: Filters | None = None,
        *,
        tokenizer: TokenizerLike | None = None,
        progress: Progress | None = None,
        raw_author_ids: bool = False,
    ) -> StudyData:
        """Read the posts (and make sure every one has cached terms: only posts never
        tokenised before are tokenised, ``progress(done, total)`` reporting)."""
        engine = source if isinstance(source, Engine) else source.engine
        tokenizer = tokenizer or LazyTokenizer()
        refresh_terms(engine, tokenizer, progress)
        gaps = None if isinstance(source, Engine) else source.gap_index()
        frame = load_posts(engine, filters, raw_author_ids=raw_author_ids, gaps=gaps)
        return cls(engine, frame, filters or Filters(), tokenizer, observed_until(engine))

    # ------------------------------------------------------------------ terms

    @property
    def n_posts(self) -> int:
        return len(self.posts)

    def iter_terms(self) -> Iterator[frozenset[str]]:
        """Each post's terms, in the order of :attr:`posts` (one SQL pass)."""
        for part in self.iter_stored_terms():
            for stored in part:
                yield decode_terms(stored)

    def iter_stored_terms(self, chunk: int = _TERM_CHUNK) -> Iterator[list[str]]:
        """Each post's terms as stored (``encode_terms``), in the order of :attr:`posts`, in
        lists of up to ``chunk`` posts (one SQL pass; a post not cached yet is tokenised)."""
        key = tokenizer_key(self.tokenizer)
        wanted = self.posts["post_pk"].to_numpy()
        query = (
            select(post_terms.c.post_pk, post_terms.c.terms)
            .join(posts, posts.c.id == post_terms.c.post_pk)
            .join(authors, authors.c.id == posts.c.author_pk)
            .where(post_terms.c.tokenizer == key, *self.filters.conditions())
            .order_by(post_terms.c.post_pk)
        )
        out: list[str] = []
        position = 0
        with self.engine.connect() as connection:
            result = connection.execution_options(stream_results=True).execute(query)
            for part in result.partitions(chunk):
                for pk, stored in part:
                    while position < wanted.size and wanted[position] < pk:
                        out.append(encode_terms(self._tokenize_now(int(wanted[position]))))
                        position += 1
                    if position < wanted.size and wanted[position] == pk:
                        out.append(stored)
                        position += 1
                if len(out) >= chunk:
                    yield out
                    out = []
        while position < wanted.size:
            out.append(encode_terms(self._tokenize_now(int(wanted[position]))))
            position += 1
        if out:
            yield out

    def iter_term_ids(
        self, chunk: int = 200_000
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]]]:
        """Each post's cached term ids (``post_term_ids.term_ids``), in the order of
        :attr:`posts`, as chunks of ``(terms per post, ids)``: one pass over the cache by
        primary key, through the database driver (no row objects), keeping the posts
        analysed. Raises :class:`LookupError` if a post has no ids (not cached, or cached
        after :meth:`load`): the caller then reads the stored text instead."""
        key = tokenizer_key(self.tokenizer)
        wanted = self.posts["post_pk"].to_numpy(dtype=np.int64)
        query = (
            select(post_term_ids.c.post_pk, post_term_ids.c.term_ids)
            .where(post_term_ids.c.tokenizer == key)
            .order_by(post_term_ids.c.post_pk)
        )
        position = 0
        chunks = driver_chunks(self.engine, query, chunk)
        try:
            for rows in chunks:
                if position >= wanted.size:
                    break
                pk_column, blob_column = zip(*rows, strict=True)
                del rows
                pks = np.array(pk_column, dtype=np.int64)
                window = wanted[position : position + pks.size]
                every = pks.size == window.size and np.array_equal(pks, window)
                keep = np.arange(pks.size) if every else np.flatnonzero(np.isin(pks, window))
                if keep.size == 0:
                    continue
                blobs = blob_column if every else [blob_column[int(i)] for i in keep]
                if not np.array_equal(pks[keep], wanted[position : position + keep.size]):
                    raise LookupError("a post's terms are not cached as ids")
                per_post = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)) // 4
                yield per_post, np.frombuffer(b"".join(blobs), dtype="<u4")
                position += keep.size
        finally:
            chunks.close()
        if position != wanted.size:
            raise LookupError("a post's terms are not cached as ids")

    def _tokenize_now(self, pk: int) -> frozenset[str]:
        with self.engine.connect() as connection:
            text = connection.execute(select(posts.c.text).where(posts.c.id == pk)).scalar()
        return self.tokenizer(text or "")

    def records(self) -> Iterator[PostTerms]:
        """``PostTerms(terms, verdict, author)`` per post, for ``analysis.terms``."""
        verdict = self.posts["verdict"].tolist()
        author = self.posts["author"].tolist()
        for i, terms in enumerate(self.iter_terms()):
            yield PostTerms(terms, verdict[i], author[i])

    def term_index(self) -> TermIndex:
        """The posts' :class:`TermIndex` (with incidence), built on first use."""
        if self._index is None:
            self._index = self._build_index(keep_incidence=True)
        return self._index

    def term_counts(self) -> TermIndex:
        """The per-term counts only (no incidence: 4 bytes per post and term saved, which
        at 10 million posts is gigabytes): what :func:`~memoryhole.analysis.terms.term_stats`
        needs. The full :meth:`term_index` when it is built already."""
        if self._index is not None:
            return self._index
        if self._counts is None:
            self._counts = self._build_index(keep_incidence=False)
        return self._counts

    def _build_index(self, keep_incidence: bool) -> TermIndex:
        """Vectorised from the stored terms (:meth:`TermIndex.from_stored`) when pyarrow is
        installed, else post by post (:meth:`TermIndex.build`); the counts are the same."""
        try:
            return TermIndex.from_ids(
                self.iter_term_ids(),
                load_vocabulary(self.engine, tokenizer_key(self.tokenizer)),
                self.posts["verdict"].tolist(),
                self.posts["author"].tolist(),
                keep_incidence=keep_incidence,
            )
        except LookupError:
            pass
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            return TermIndex.build(self.records(), keep_incidence=keep_incidence)
        return TermIndex.from_stored(
            self.iter_stored_terms(),
            self.posts["verdict"].tolist(),
            self.posts["author"].tolist(),
            keep_incidence=keep_incidence,
        )

    def texts(self) -> pd.Series:
        """The posts' texts, aligned with :attr:`posts` (read on first use)."""
        if self._texts is None:
            import pandas as pd

            pks = self.posts["post_pk"].tolist()
            found: dict[int, str] = {}
            with self.engine.connect() as connection:
                for start in range(0, len(pks), 20_000):
                    chunk = pks[start : start + 20_000]
                    query = select(posts.c.id, posts.c.text).where(
                        posts.c.id.between(chunk[0], chunk[-1])
                    )
                    found.update((int(pk), str(text)) for pk, text in connection.execute(query))
            self._texts = pd.Series([found.get(pk, "") for pk in pks], index=self.posts.index)
        return self._texts

    def term_mask(self, term: str) -> npt.NDArray[np.bool_]:
        """Which posts contain ``term``: a prefixed term (``w:六四``, ``c2:六四``) as
        tokenised; plain text as the word ``w:X`` or the n-gram ``cN:X`` where one was
        found, else as a case-insensitive substring of the text."""
        index = self.term_index()
        term = term.strip()
        if not term:
            raise MemoryholeError("an empty term")
        candidates = (
            [term] if _TERM.match(term) else [f"w:{term.casefold()}", f"c{len(term)}:{term}"]
        )
        ids = [i for i in (index.term_id(c) for c in candidates) if i is not None]
        if ids:
            indptr, indices = index._require_incidence()
            hit = np.isin(indices, np.asarray(ids, dtype=np.int32))
            rows = np.repeat(np.arange(index.n_posts), np.diff(indptr))[hit]
            mask = np.zeros(index.n_posts, dtype=bool)
            mask[rows] = True
            return mask
        if _TERM.match(term):
            return np.zeros(self.n_posts, dtype=bool)
        needle = term.casefold()
        return np.array([needle in t.casefold() for t in self.texts()], dtype=bool)

    # ------------------------------------------------------------------ subsets

    def subset(self, mask: Sequence[bool] | npt.NDArray[np.bool_]) -> StudyData:
        """The same study restricted to some posts (a boolean mask over :attr:`posts`)."""
        keep = np.asarray(mask, dtype=bool)
        frame = self.posts[keep].reset_index(drop=True)
        return replace(self, posts=frame, _index=None, _counts=None, _texts=None)

    def by_platform(self) -> dict[str, StudyData]:
        return {
            str(name): self.subset((self.posts["platform"] == name).to_numpy())
            for name in sorted(self.posts["platform"].unique())
        }

    @property
    def platforms(self) -> list[str]:
        return sorted(str(p) for p in self.posts["platform"].unique())

    def span(self) -> tuple[float, float] | None:
        """First and last publication time of the analysed posts."""
        if not self.n_posts:
            return None
        return float(self.posts["published_at"].min()), float(self.posts["published_at"].max())


def load_study_data(
    source: Study | Engine,
    *,
    platforms: Sequence[str] = (),
    since: str | float | None = None,
    until: str | float | None = None,
    tokenizer: TokenizerLike | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StudyData:
    """Convenience wrapper: :meth:`StudyData.load` with the filters as keywords."""
    filters = checked_filters(platforms, since, until)
    return StudyData.load(source, filters, tokenizer=tokenizer, progress=progress)


def checked_filters(
    platforms: Sequence[str] = (),
    since: str | float | None = None,
    until: str | float | None = None,
) -> Filters:
    """The posts to analyse: on ``platforms`` (all if empty), published in ``[since, until)``
    (ISO times or epoch seconds), refused with what is wrong when the range is not one."""
    filters = Filters(tuple(platforms), parse_instant(since), parse_instant(until))
    if filters.since is not None and filters.until is not None and filters.until <= filters.since:
        raise MemoryholeError("--until must be after --since")
    for bound in (filters.since, filters.until):
        if bound is not None and not math.isfinite(bound):
            raise MemoryholeError("times must be finite")
    return filters
