"""The recorder seam: what the collector's answers become in the study.

The collector decides what to request and when; a recorder turns each answer into an
observation row (its canonical leaf in the evidence log, its place in its post's chain), stages
new posts and authors, verdicts, the schedule and target cursors, and commits them in batches
with signed checkpoints (``StoreRecorder``: the one writer of collection results). The lab's
fast replays use ``CountingRecorder``, which only numbers observations: scheduling and
classification are the same, nothing is written.

Observation rows are built by ``evidence.rows.observation_row``, which the imports use too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import func, select

from memoryhole.errors import EvidenceError
from memoryhole.evidence.heads import Head, extend_chain, extension_line, sorted_heads
from memoryhole.evidence.leaf import POST_KIND, author_commitment, text_digest
from memoryhole.evidence.log import checkpoint_row, latest_checkpoint, load_log, sign_checkpoint
from memoryhole.evidence.merkle import MerkleLog
from memoryhole.evidence.rows import HeadersJson, observation_row, verdict_row
from memoryhole.evidence.takedown import (
    REDACTION_KIND,
    PendingRedaction,
    denied_pseudonyms,
    pending_redactions,
    redacted_bodies,
    takedown_target,
)
from memoryhole.model import Capture, Request, SeenPost, Status
from memoryhole.store.schema import redactions
from memoryhole.store.state import CollectorState, PostState, TargetState
from memoryhole.store.writer import Batch, commit_batch
from memoryhole.study import Study

DENIALS_EVERY = 1.0  # seconds between looks at the deny list and pending redactions


class Recorder(Protocol):
    #: The collector's and its schedule's working state, committed with each batch.
    state_rows: Callable[[], dict[str, bytes]]

    def observe(
        self,
        capture: Capture | None,
        *,
        kind: str,
        status: Status,
        platform: str,
        post: PostState | None = None,
        target_pk: int | None = None,
        content: str | None = None,
        code: str | None = None,
        detail: str = "",
        facts: dict[str, Any] | None = None,
    ) -> int:
        """One observation (``capture``: the answer; None only where nothing is written):
        returns its id, its leaf's index + 1."""
        ...

    def post_facts(
        self, capture: Capture, post: PostState, seen: SeenPost, spec: str, listing_id: int
    ) -> None:
        """A new post's facts as its listing gave them (a ``post`` leaf, format 2)."""
        ...

    def new_post(self, row: dict[str, Any]) -> None: ...

    def author_pk(self, platform: str, raw_id: str) -> int: ...

    def denies(self, platform: str, raw_id: str) -> bool:
        """Whether the author was taken down (the study's deny list)."""
        ...

    def withhold(self, capture: Capture, platform: str, raw_id: str) -> None:
        """The body of an answer that showed a denied author's posts is not kept: it gets a
        takedown record, logged as a redaction in the same batch."""
        ...

    def stage_verdict(self, post: PostState, now: float) -> None: ...

    def stage_post_update(self, pk: int, values: dict[str, Any]) -> None: ...

    def stage_schedule(self, pk: int, when: float | None) -> None: ...

    def stage_target(self, target: TargetState) -> None: ...

    def staged(self) -> int:
        """Observations staged since the last flush."""
        ...

    async def flush(self, *, final: bool = False) -> int:
        """Commit what is staged (a signed checkpoint at intervals and when ``final``);
        returns the observations committed."""
        ...


class StoreRecorder:
    """Everything the collector learns, into the study's store and evidence log."""

    def __init__(
        self,
        study: Study,
        state: CollectorState,
        *,
        now: Callable[[], float],
        checkpoint_interval: float = 300.0,
    ) -> None:
        self.study, self.state, self.now = study, state, now
        self.batch = Batch()
        #: The collector's and its schedule's working state, committed with each batch
        #: (``collect/durable.py``); set by the collector.
        self.state_rows: Callable[[], dict[str, bytes]] = dict
        self.log = self._open_log()
        if self.log.size != state.next_observation_id - 1:
            raise EvidenceError(
                f"the evidence log holds {self.log.size} leaves but the store "
                f"{state.next_observation_id - 1} observations; run `memoryhole verify`"
            )
        self.checkpoint_interval = checkpoint_interval
        self._signing_key = study.signing_key()
        self._log_origin = study.log_origin
        latest = latest_checkpoint(study.engine)
        self._checkpointed_size = latest.size if latest is not None else 0
        self._last_checkpoint_at = time.time()
        self._headers = HeadersJson()
        self._chained: set[int] = set()  # posts whose chain grew since the last flush
        self._lock = asyncio.Lock()
        self.denied: set[str] = set()  # pseudonyms taken down
        self.redacted: set[str] = set()  # bodies taken down
        self._denial_count = -1
        self._denial_checked = 0.0
        self._takedown_targets: dict[str, int] = {}
        self._apply_denials(self._read_denials())

    def _open_log(self) -> MerkleLog:
        return load_log(self.study.engine)

    def observe(
        self,
        capture: Capture | None,
        *,
        kind: str,
        status: Status,
        platform: str,
        post: PostState | None = None,
        target_pk: int | None = None,
        content: str | None = None,
        code: str | None = None,
        detail: str = "",
        facts: dict[str, Any] | None = None,
    ) -> int:
        if capture is None:
            raise ValueError("a logged observation needs the answer it records")
        observation_id = self.state.next_observation_id
        self.state.next_observation_id += 1
        sha256 = capture.body_sha256
        if sha256 not in self.redacted:
            self.batch.blobs[sha256] = capture.body
        row = observation_row(
            observation_id,
            kind=kind,
            status=status.value,
            platform=platform,
            post_pk=post.pk if post is not None else None,
            post_id=post.post_id if post is not None else None,
            target_pk=target_pk,
            seq=post.checks if post and kind == "check" else None,
            sent_at=capture.alive_at,
            observed_at=capture.fetched_at,
            received_at=capture.received_at,
            elapsed=capture.elapsed,
            method=capture.request.method,
            url=capture.request.full_url(),
            http_status=capture.status,
            headers=capture.headers,
            headers_json=self._headers(capture.headers),
            body_sha256=sha256,
            body_size=len(capture.body),
            content_hash=content,
            code=code,
            detail=detail,
            error=capture.error,
            facts=facts,
        )
        self.log.append(row["leaf_hash"])
        self.batch.observations.append(row)
        if post is not None:  # the post's chain of observations (evidence/heads.py)
            post.chain = extend_chain(post.chain, observation_id - 1)
            post.chain_length += 1
            self._chained.add(post.pk)
        return observation_id

    def post_facts(
        self, capture: Capture, post: PostState, seen: SeenPost, spec: str, listing_id: int
    ) -> None:
        pseudonym = self.study.pseudonym(post.platform, seen.author_id)
        self.observe(
            capture,
            kind=POST_KIND,
            status=Status.LIVE,
            platform=post.platform,
            post=post,
            content=post.verdict.content_hash,
            detail=f"listed by {spec}",
            facts={
                "author": author_commitment(pseudonym),
                "published_at": seen.published_at,
                "published_until": seen.published_until,
                "first_seen_at": capture.alive_at,
                "text_sha256": text_digest(seen.text),
                "discovered_by": listing_id,
            },
        )

    def new_post(self, row: dict[str, Any]) -> None:
        self.batch.posts.append(row)

    def author_pk(self, platform: str, raw_id: str) -> int:
        key = (platform, raw_id)
        pk = self.state.author_keys.get(key)
        if pk is None:
            pk = self.state.new_author_pk()
            self.state.author_keys[key] = pk
            self.batch.authors.append(
                {
                    "id": pk,
                    "platform": platform,
                    "raw_id": raw_id,
                    "pseudonym": self.study.pseudonym(platform, raw_id),
                }
            )
        return pk

    def denies(self, platform: str, raw_id: str) -> bool:
        return bool(self.denied) and self.study.pseudonym(platform, raw_id) in self.denied

    def withhold(self, capture: Capture, platform: str, raw_id: str) -> None:
        sha = capture.body_sha256
        if sha in self.redacted:
            return
        self.redacted.add(sha)
        self.batch.blobs.pop(sha, None)
        redaction = PendingRedaction(
            0,
            sha,
            self.study.pseudonym(platform, raw_id),
            "an answer that showed a taken-down author's posts",
            platform,
        )
        # Logged in the same batch as its record: nothing waits for a later commit.
        self.batch.redactions.append(
            {
                "body_sha256": sha,
                "author_pseudonym": redaction.pseudonym,
                "reason": redaction.reason,
                "redacted_at": time.time(),
                "observation_id": self._log_redaction(redaction),
            }
        )

    def _read_denials(self) -> tuple[int, set[str], set[str]] | None:
        """The deny list as the store has it now, if it changed (a takedown may run beside
        the collector); None if not."""
        with self.study.engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(redactions)).scalar()
            if count == self._denial_count:
                return None
            return int(count or 0), denied_pseudonyms(connection), redacted_bodies(connection)

    def _apply_denials(self, read: tuple[int, set[str], set[str]] | None) -> None:
        if read is None:
            return
        self._denial_count, self.denied, self.redacted = read
        for post in self.state.posts.values():  # never checked again
            if post.next_check_at is not None and self.denies(post.platform, post.author_id):
                post.next_check_at = None
                self.batch.schedule[post.pk] = None

    def _log_redactions(self) -> None:
        """Each takedown record not logged yet becomes a leaf of kind ``redaction``."""
        with self.study.engine.connect() as connection:
            pending = pending_redactions(connection)
        for redaction in pending:
            self.batch.redactions_logged[redaction.id] = self._log_redaction(redaction)

    def _log_redaction(self, redaction: PendingRedaction) -> int:
        """The redaction's leaf (its statement as the body); returns its observation id."""
        target = self._takedown_targets.get(redaction.platform)
        if target is None:
            target = takedown_target(self.study, redaction.platform)
            self._takedown_targets[redaction.platform] = target
        now = self.now()
        statement = Capture(
            request=Request("POST", f"memoryhole:takedown/{redaction.body_sha256}"),
            status=None,
            headers=(),
            body=redaction.statement(),
            fetched_at=now,
            received_at=time.time(),
            sent_at=now,
        )
        return self.observe(
            statement,
            kind=REDACTION_KIND,
            status=Status.UNREACHABLE,  # says nothing about a post
            platform=redaction.platform,
            target_pk=target,
            detail=f"taken down: {redaction.reason}",
            facts=redaction.facts(),
        )

    def stage_verdict(self, post: PostState, now: float) -> None:
        self.batch.verdicts[post.pk] = verdict_row(post, now)

    def stage_post_update(self, pk: int, values: dict[str, Any]) -> None:
        self.batch.post_updates.setdefault(pk, {}).update(values)

    def stage_schedule(self, pk: int, when: float | None) -> None:
        self.batch.schedule[pk] = when

    def stage_target(self, target: TargetState) -> None:
        self.batch.targets[target.pk] = {
            "cursor": target.cursor,
            "next_poll_at": target.next_poll_at,
            "unreadable": target.unreadable,
            "last_unreadable": target.last_unreadable,
        }

    def staged(self) -> int:
        return len(self.batch)

    def _settle_chains(self) -> None:
        """Every post whose chain grew in this batch has it in its staged verdict row (a media
        download or a long text can follow the check that staged it)."""
        staged = self.batch.verdicts
        for pk in self._chained:
            post = self.state.posts.get(pk)
            if post is None:
                continue
            row = staged.get(pk)
            if row is None:
                self.stage_verdict(post, self.now())
            else:
                row["chain"], row["chain_length"] = post.chain.hex(), post.chain_length
        self._chained.clear()

    async def flush(self, *, final: bool = False) -> int:
        async with self._lock:
            if final or time.time() - self._denial_checked >= DENIALS_EVERY:
                self._denial_checked = time.time()
                self._apply_denials(await asyncio.to_thread(self._read_denials))
                self._log_redactions()
            self._settle_chains()
            batch, self.batch = self.batch, Batch()
            batch.state = self.state_rows()  # the schedule's state as of exactly this batch
            due = time.time() - self._last_checkpoint_at >= self.checkpoint_interval
            if (final or due) and self.log.size > self._checkpointed_size:
                heads = sorted_heads(
                    Head(p.platform, p.post_id, p.chain_length, p.chain)
                    for p in self.state.posts.values()
                )
                size, root, note = sign_checkpoint(
                    self._signing_key, self._log_origin, self.log, (extension_line(heads),)
                )
                batch.checkpoint = checkpoint_row(size, root, note)
                self._checkpointed_size = size
                self._last_checkpoint_at = time.time()
            if (
                not batch.observations
                and not batch.targets
                and batch.checkpoint is None
                and not batch.state
                and not batch.schedule
            ):
                return 0
            commit = asyncio.ensure_future(
                asyncio.to_thread(commit_batch, self.study.engine, self.study.blobs, batch)
            )
            try:
                await asyncio.shield(commit)
            except asyncio.CancelledError:
                # The commit runs on in its thread whatever happens here: finish it, under the
                # lock, before giving up, or a later flush would commit around it (and a signed
                # checkpoint could cover leaves not yet in the store).
                await commit
                raise
            return len(batch.observations)


class CountingRecorder:
    """Numbers observations and authors, writes nothing (the lab's fast replays: the verdicts
    stay in the collector's state)."""

    def __init__(self, state: CollectorState) -> None:
        self.state = state
        self.state_rows: Callable[[], dict[str, bytes]] = dict

    def observe(self, capture: Capture | None, **fields: Any) -> int:
        observation_id = self.state.next_observation_id
        self.state.next_observation_id += 1
        return observation_id

    def post_facts(
        self, capture: Capture, post: PostState, seen: SeenPost, spec: str, listing_id: int
    ) -> None:
        self.observe(capture)

    def new_post(self, row: dict[str, Any]) -> None:
        return None

    def author_pk(self, platform: str, raw_id: str) -> int:
        key = (platform, raw_id)
        pk = self.state.author_keys.get(key)
        if pk is None:
            pk = self.state.author_keys[key] = self.state.next_author_pk
            self.state.next_author_pk += 1
        return pk

    def stage_verdict(self, post: PostState, now: float) -> None:
        return None

    def denies(self, platform: str, raw_id: str) -> bool:
        return False

    def withhold(self, capture: Capture, platform: str, raw_id: str) -> None:
        return None

    def stage_post_update(self, pk: int, values: dict[str, Any]) -> None:
        return None

    def stage_schedule(self, pk: int, when: float | None) -> None:
        return None

    def stage_target(self, target: TargetState) -> None:
        return None

    def staged(self) -> int:
        return 0

    async def flush(self, *, final: bool = False) -> int:
        return 0
