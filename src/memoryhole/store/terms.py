"""The term cache's storage (``post_terms``, ``post_term_ids``, ``term_vocab``): how a post's
term ids are stored, and forgetting a taken-down author's posts' terms. The analysis that fills
the cache is ``analysis/cache.py``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, bindparam, delete, select, update

from memoryhole.store.schema import post_term_ids, post_terms, term_vocab


def encode_ids(ids: npt.ArrayLike) -> bytes:
    """A post's term ids as stored in ``post_term_ids.term_ids``."""
    return np.unique(np.asarray(ids, dtype=np.int64)).astype("<u4").tobytes()


def decode_ids(stored: bytes | None) -> npt.NDArray[np.uint32]:
    return np.frombuffer(stored or b"", dtype="<u4")


def forget_posts_terms(connection: Connection, post_pks: Sequence[int]) -> int:
    """Delete the cached terms of these posts (a takedown: their terms are their words),
    and blank every vocabulary entry that no other post's cached terms use any more, so no
    string of theirs stays in ``term_vocab`` (the id is kept as a tombstone that no post
    holds; a later post with that term gets a fresh id). Reads every remaining row's ids of
    the tokenizers concerned: seconds per million posts, for a rare operation. Returns the
    vocabulary entries blanked."""
    if not post_pks:
        return 0
    theirs: dict[str, set[int]] = {}
    for start in range(0, len(post_pks), 500):
        part = list(post_pks[start : start + 500])
        rows = connection.execute(
            select(post_term_ids.c.tokenizer, post_term_ids.c.term_ids).where(
                post_term_ids.c.post_pk.in_(part)
            )
        )
        for key, stored in rows:
            theirs.setdefault(str(key), set()).update(int(i) for i in decode_ids(stored))
    doomed = set(post_pks)
    for start in range(0, len(post_pks), 500):
        part = list(post_pks[start : start + 500])
        connection.execute(delete(post_terms).where(post_terms.c.post_pk.in_(part)))
        connection.execute(delete(post_term_ids).where(post_term_ids.c.post_pk.in_(part)))
    blanked = 0
    for key, ids in theirs.items():
        if not ids:
            continue
        candidates = np.fromiter(ids, dtype=np.int64, count=len(ids))
        used = np.zeros(candidates.size, dtype=bool)
        rows = connection.execution_options(stream_results=True).execute(
            select(post_term_ids.c.post_pk, post_term_ids.c.term_ids).where(
                post_term_ids.c.tokenizer == key
            )
        )
        for part_rows in rows.partitions(50_000):
            blobs = [stored or b"" for pk, stored in part_rows if pk not in doomed]
            if blobs:
                used |= np.isin(candidates, np.frombuffer(b"".join(blobs), dtype="<u4"))
        unused = candidates[~used].tolist()
        if unused:
            connection.execute(
                update(term_vocab)
                .where(term_vocab.c.tokenizer == key, term_vocab.c.term_id == bindparam("id"))
                .values(term=bindparam("tombstone")),
                [{"id": i, "tombstone": f"(taken down {i})"} for i in unused],
            )
            blanked += len(unused)
    return blanked
