"""``memoryhole takedown``: remove an author's content for their safety; the log still verifies.

What goes: the raw responses of the author's posts (check answers that hold their text) and of
every listing that showed one of their posts (those also hold other people's posts, which is
the price of removing theirs), the posts' text in the store, and the posts from every export.
What stays: every leaf hash and observation row (they hold no author id and no text, only
hashes), so the log and its checkpoints still verify, plus a redaction record per removed body
(which body, whose pseudonym, why, when) that ``verify`` accepts in place of the body.
An identical body that other posts' evidence also uses (e.g. a bare "permission denied"
answer) holds none of the author's content and is kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from memoryhole.errors import MemoryholeError
from memoryhole.store.schema import authors, observations, posts, redactions
from memoryhole.store.terms import forget_posts_terms

if TYPE_CHECKING:
    from memoryhole.study import Study


@dataclass(frozen=True)
class TakedownResult:
    pseudonym: str
    posts: int
    blobs_removed: int
    blobs_kept_shared: int


def takedown(study: Study, author: str, *, platform: str, reason: str) -> TakedownResult:
    with study.engine.begin() as conn:
        row = conn.execute(
            select(authors.c.id, authors.c.pseudonym).where(
                authors.c.platform == platform,
                (authors.c.raw_id == author) | (authors.c.pseudonym == author),
            )
        ).first()
        if row is None:
            raise MemoryholeError(
                f"no author {author!r} on {platform} in {study.path}; give the platform's id "
                "or the pseudonym shown in exports (a_…)"
            )
        author_pk, pseudonym = row
        post_rows = conn.execute(
            select(posts.c.id, posts.c.discovered_by).where(posts.c.author_pk == author_pk)
        ).all()
        post_pks = [pk for pk, _ in post_rows]
        listing_ids = {d for _, d in post_rows if d is not None}
        own = set(
            conn.execute(
                select(observations.c.body_sha256).where(observations.c.post_pk.in_(post_pks))
            ).scalars()
        )
        shared = set(
            conn.execute(
                select(observations.c.body_sha256)
                .where(observations.c.body_sha256.in_(own))
                .where((observations.c.post_pk.not_in(post_pks)) | observations.c.post_pk.is_(None))
                .distinct()
            ).scalars()
        )
        listings = set(
            conn.execute(
                select(observations.c.body_sha256).where(observations.c.id.in_(listing_ids))
            ).scalars()
        )
        doomed = (own - shared) | listings
        now = time.time()
        if doomed:
            conn.execute(
                redactions.insert(),
                [
                    {
                        "body_sha256": sha,
                        "author_pseudonym": pseudonym,
                        "reason": reason,
                        "redacted_at": now,
                    }
                    for sha in sorted(doomed)
                ],
            )
        conn.execute(update(posts).where(posts.c.author_pk == author_pk).values(text=""))
        # Their words, cached for the term statistics, go too (and from the vocabulary).
        forget_posts_terms(conn, list(post_pks))
    for sha in doomed:
        study.blobs.delete(sha)
    return TakedownResult(pseudonym, len(post_pks), len(doomed), len(own & shared))
