"""``memoryhole takedown``: remove an author's content for their safety; the log still verifies.

What goes: every raw response that holds the author's content, found by what the study knows
(the answers to checks of their posts, the listings that first showed them) and by a byte
search of every other kept body for their id, pseudonym and post texts (a feed polled later,
another post's page quoting them); the posts' text in the store; their posts from every export,
page and report. The author goes on the study's deny list (their pseudonym in ``redactions``):
a collector never creates, checks or keeps a body of theirs again, also one running during the
takedown (it reloads the list at its next commit).
What stays: every leaf hash and observation row (they hold no author id and no text, only
hashes), so the log and its checkpoints still verify. Each removed body gets a redaction
record, and a *logged* redaction: a leaf of kind ``redaction`` (its body: the statement "this
body was removed, for this author commitment, for this reason"; its facts: the body's sha256 and
the author commitment). ``verify`` accepts a missing body only when a logged redaction names it,
so a forged redaction row (a body deleted and a row inserted by hand) fails verification. Only
the study's writer appends leaves: the takedown logs them itself when no collector runs, and a
running collector logs pending ones at its next commit (``pending_redactions``).
An identical body that other posts' evidence also uses and that holds none of the author's
content (a bare "permission denied" answer) is kept.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from memoryhole.errors import MemoryholeError
from memoryhole.evidence.leaf import author_commitment
from memoryhole.model import Target
from memoryhole.store.queries import add_targets
from memoryhole.store.schema import authors, observations, posts, redactions, targets
from memoryhole.store.terms import forget_posts_terms

if TYPE_CHECKING:
    from memoryhole.study import Study

REDACTION_KIND = "redaction"
#: What a redaction names when it blanks another author's post text that quoted the author
#: (``text:<platform>:<post id>``) rather than a body's sha256.
TEXT_REDACTION = "text:"


def text_redaction(platform: str, post_id: str) -> str:
    return f"{TEXT_REDACTION}{platform}:{post_id}"


TEXT_NEEDLE = 12  # characters of each post's text searched for in kept bodies


@dataclass(frozen=True)
class TakedownResult:
    pseudonym: str
    posts: int
    blobs_removed: int
    blobs_kept_shared: int
    pending: int = 0  # redactions waiting for the writer to log them
    started_at: float = 0.0  # wall clock
    #: What the author's content looks like in a body (for ``sweep``); not exported.
    finder: re.Pattern[bytes] | None = None


@dataclass(frozen=True)
class PendingRedaction:
    id: int
    body_sha256: str
    pseudonym: str
    reason: str
    platform: str

    def statement(self) -> bytes:
        """The body of the redaction's leaf: what was removed, for whom, why."""
        return json.dumps(
            {
                "redacts": self.body_sha256,
                "author": author_commitment(self.pseudonym),
                "reason": self.reason,
            },
            sort_keys=True,
            ensure_ascii=False,
        ).encode()

    def facts(self) -> dict[str, Any]:
        return {"redacts": self.body_sha256, "author": author_commitment(self.pseudonym)}


def takedown(study: Study, author: str, *, platform: str, reason: str) -> TakedownResult:
    started = time.time()
    with study.engine.begin() as conn:
        row = conn.execute(
            select(authors.c.id, authors.c.pseudonym, authors.c.raw_id).where(
                authors.c.platform == platform,
                (authors.c.raw_id == author) | (authors.c.pseudonym == author),
            )
        ).first()
        if row is None:
            raise MemoryholeError(
                f"no author {author!r} on {platform} in {study.path}; give the platform's id "
                "or the pseudonym shown in exports (a_…)"
            )
        author_pk, pseudonym, raw_id = row
        post_rows = conn.execute(
            select(posts.c.id, posts.c.discovered_by, posts.c.text).where(
                posts.c.author_pk == author_pk
            )
        ).all()
        post_pks = [pk for pk, _, _ in post_rows]
        own = set(
            conn.execute(
                select(observations.c.body_sha256).where(observations.c.post_pk.in_(post_pks))
            ).scalars()
        )
        listing_ids = {d for _, d, _ in post_rows if d is not None}
        listings = set(
            conn.execute(
                select(observations.c.body_sha256).where(observations.c.id.in_(listing_ids))
            ).scalars()
        )
        everything = set(conn.execute(select(observations.c.body_sha256).distinct()).scalars())
        already = set(conn.execute(select(redactions.c.body_sha256)).scalars())
        pieces = {_piece(text) for _, _, text in post_rows} - {""}
        # A text other authors' posts also hold (a platform's default caption, a copied text)
        # is not theirs to erase: a sock puppet's takedown must not delete its victims' evidence.
        own_pieces = sorted(p for p in pieces if not _said_by_others(conn, p, author_pk))
        holds = _content_finder(str(raw_id), pseudonym, own_pieces)
        holding = {sha for sha in everything - already if _holds(study, sha, holds)}
        # A body other posts' evidence also uses stays if it holds none of the author's content.
        kept = {sha for sha in own if sha not in holding} - listings
        kept = {sha for sha in kept if _used_by_others(conn, sha, post_pks)}
        doomed = ((own - kept) | listings | holding) - already
        quoting = _quoting_posts(conn, author_pk, holds)
        doomed |= {text_redaction(platform_, post_id) for _, platform_, post_id in quoting}
        doomed -= already
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
                        "observation_id": None,
                    }
                    for sha in sorted(doomed)
                ],
            )
        else:  # on the deny list all the same
            conn.execute(
                redactions.insert(),
                [
                    {
                        "body_sha256": "",
                        "author_pseudonym": pseudonym,
                        "reason": reason,
                        "redacted_at": now,
                        "observation_id": 0,  # nothing to log: no body was removed
                    }
                ],
            )
        conn.execute(update(posts).where(posts.c.author_pk == author_pk).values(text=""))
        quoted = [pk for pk, _, _ in quoting]
        conn.execute(update(posts).where(posts.c.id.in_(quoted)).values(text=""))
        # Their words, cached for the term statistics, go too (and from the vocabulary).
        forget_posts_terms(conn, [*post_pks, *quoted])
    for sha in doomed:
        if not sha.startswith(TEXT_REDACTION):
            study.blobs.delete(sha)
    return TakedownResult(
        pseudonym, len(post_pks), len(doomed), len(kept), len(doomed), started, holds
    )


def sweep(study: Study, result: TakedownResult, *, reason: str) -> int:
    """Bodies a running collector committed after the takedown began and before it reloaded
    the deny list, searched for the author's content like the takedown's own: each one found
    is taken down too (its redaction logged by the writer). Returns how many."""
    if result.finder is None:
        return 0
    with study.engine.begin() as conn:
        # Posts of theirs a collector created in between: their text goes too.
        author_pks = select(authors.c.id).where(authors.c.pseudonym == result.pseudonym)
        late = list(
            conn.execute(select(posts.c.id).where(posts.c.author_pk.in_(author_pks))).scalars()
        )
        conn.execute(update(posts).where(posts.c.id.in_(late)).values(text=""))
        forget_posts_terms(conn, late)
        recent = set(
            conn.execute(
                select(observations.c.body_sha256).where(
                    observations.c.received_at >= result.started_at - 1.0
                )
            ).scalars()
        )
        found = sorted(
            sha for sha in recent - redacted_bodies(conn) if _holds(study, sha, result.finder)
        )
        if found:
            now = time.time()
            conn.execute(
                redactions.insert(),
                [
                    {
                        "body_sha256": sha,
                        "author_pseudonym": result.pseudonym,
                        "reason": reason,
                        "redacted_at": now,
                        "observation_id": None,
                    }
                    for sha in found
                ],
            )
    for sha in found:
        study.blobs.delete(sha)
    return len(found)


def _used_by_others(conn: Connection, sha: str, post_pks: list[int]) -> bool:
    return (
        conn.execute(
            select(observations.c.id)
            .where(observations.c.body_sha256 == sha)
            .where(observations.c.post_pk.not_in(post_pks) | observations.c.post_pk.is_(None))
            .limit(1)
        ).first()
        is not None
    )


def _quoting_posts(
    conn: Connection, author_pk: int, holds: re.Pattern[bytes]
) -> list[tuple[int, str, str]]:
    """Other authors' posts whose text holds the author's id, pseudonym or words (a quote, a
    repost's comment): their text is blanked too, each blanking a logged redaction."""
    rows = conn.execute(
        select(posts.c.id, posts.c.platform, posts.c.post_id, posts.c.text).where(
            posts.c.author_pk != author_pk, posts.c.text != ""
        )
    )
    return [
        (pk, platform, post_id)
        for pk, platform, post_id, text in rows
        if text and holds.search(text.encode()) is not None
    ]


def _piece(text: str | None) -> str:
    """The start of a post's text searched for in kept bodies ("" when too short to tell)."""
    piece = (text or "").strip()[:TEXT_NEEDLE]
    return piece if len(piece) >= 4 else ""


def _said_by_others(conn: Connection, piece: str, author_pk: int) -> bool:
    pattern = "%" + piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found = conn.execute(
        select(posts.c.id)
        .where(posts.c.author_pk != author_pk, posts.c.text.like(pattern, escape="\\"))
        .limit(1)
    ).first()
    return found is not None


def _content_finder(raw_id: str, pseudonym: str, pieces: list[str]) -> re.Pattern[bytes]:
    """A pattern for the author's id (not inside a longer token), pseudonym and the starts of
    their post texts (``_piece``; as UTF-8, JSON-escaped and HTML-escaped)."""
    needles = [re.escape(pseudonym.encode())]
    if raw_id:
        needles.append(rb"(?<![0-9A-Za-z_])" + re.escape(raw_id.encode()) + rb"(?![0-9A-Za-z_])")
    for piece in pieces:
        for form in {piece, json.dumps(piece)[1:-1], html.escape(piece)}:
            needles.append(re.escape(form.encode()))
    return re.compile(b"|".join(needles))


def _holds(study: Study, sha: str, pattern: re.Pattern[bytes]) -> bool:
    if not sha:
        return False
    try:  # one request where the bodies are in a bucket
        body = study.blobs.get(sha)
    except FileNotFoundError:
        return False
    return pattern.search(body) is not None


def denied_pseudonyms(conn: Connection) -> set[str]:
    """The study's deny list: every author taken down."""
    return set(conn.execute(select(redactions.c.author_pseudonym).distinct()).scalars())


def redacted_bodies(conn: Connection) -> set[str]:
    return set(conn.execute(select(redactions.c.body_sha256).distinct()).scalars()) - {""}


def pending_redactions(conn: Connection) -> list[PendingRedaction]:
    """Redactions the writer has not logged yet, with the platform of their author."""
    rows = conn.execute(
        select(
            redactions.c.id,
            redactions.c.body_sha256,
            redactions.c.author_pseudonym,
            redactions.c.reason,
            authors.c.platform,
        )
        .join(authors, authors.c.pseudonym == redactions.c.author_pseudonym)
        .where(redactions.c.observation_id.is_(None))
        .order_by(redactions.c.id)
    ).all()
    return [PendingRedaction(*row) for row in rows]


def takedown_target(study: Study, platform: str) -> int:
    """The inactive target redaction leaves hang from (``PLATFORM:takedown``)."""
    target = Target(platform, "takedown", "")
    add_targets(study.engine, [target], time.time())
    with study.engine.begin() as conn:
        where = targets.c.spec == target.spec
        conn.execute(update(targets).where(where).values(active=False))
        pk = conn.execute(select(targets.c.id).where(where)).scalar()
    assert pk is not None
    return int(pk)
