"""The recorder of a worker on a shared study: ``StoreRecorder``, with the index left to the
sequencer (``collect/sequencer.py``).

An observation is staged with a provisional id (``PROVISIONAL`` and up: what ``observe``
returns, what a new post's ``discovered_by`` names until the commit); its leaf hash and its
post's chain are computed when the sequencer numbers it. The schedule's working state
(``collect/durable.py``) is not committed: a partition changes hands, and the state of one
worker's schedule does not fit another's share (docs/scheduler.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from memoryhole.collect.recorder import StoreRecorder
from memoryhole.collect.sequencer import PROVISIONAL, LeaseLostError, Sequenced, Sequencer
from memoryhole.evidence.merkle import MerkleLog
from memoryhole.model import Capture, Status
from memoryhole.store.state import CollectorState, PostState
from memoryhole.store.writer import Batch
from memoryhole.study import Study


class SharedRecorder(StoreRecorder):
    def __init__(
        self,
        study: Study,
        state: CollectorState,
        sequencer: Sequencer,
        *,
        now: Callable[[], float],
        final: Callable[[], bool],
    ) -> None:
        self.sequencer = sequencer
        self._provisional = PROVISIONAL
        #: Whether the worker is stopping (its last flush signs a checkpoint).
        self.final = final
        #: A commit was refused (a partition given back or its lease lost): the worker builds
        #: a new collector from what is committed.
        self.lost = False
        super().__init__(study, state, now=now, checkpoint_interval=sequencer.checkpoint_interval)

    def _open_log(self) -> MerkleLog:
        # The sequencer keeps the log; this recorder never appends to it.
        log = MerkleLog()
        self.state.next_observation_id = log.size + 1
        return log

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
        provisional = self._provisional
        self._provisional += 1
        if capture.body_sha256 not in self.redacted:
            self.batch.blobs[capture.body_sha256] = capture.body
        self.batch.observations.append(
            {
                "provisional": provisional,
                "capture": capture,
                "kind": kind,
                "status": status.value,
                "platform": platform,
                "post_pk": post.pk if post is not None else None,
                "post_id": post.post_id if post is not None else None,
                "target_pk": target_pk,
                "seq": post.checks if post and kind == "check" else None,
                "content": content,
                "code": code,
                "detail": detail,
                "facts": facts,
            }
        )
        if post is not None:
            self._chained.add(post.pk)
        return provisional

    async def flush(self, *, final: bool = False) -> int:
        async with self._lock:
            if final or time.time() - self._denial_checked >= 1.0:
                self._denial_checked = time.time()
                self._apply_denials(await asyncio.to_thread(self._read_denials))
                self._log_redactions()
            self._settle_chains()
            batch, self.batch = self.batch, Batch()
            if not (batch.observations or batch.targets or batch.schedule or batch.verdicts):
                return 0
            due = self.sequencer.checkpoint_due(final and self.final())
            commit = asyncio.ensure_future(
                asyncio.to_thread(self.sequencer.commit, batch, self.state, checkpoint=due)
            )
            try:
                done = await asyncio.shield(commit)
            except asyncio.CancelledError:
                self._settle(await commit)  # (as StoreRecorder.flush: finish it under the lock)
                raise
            except LeaseLostError:
                self.lost = True  # the batch is dropped: this collector's memory is stale
                raise
            self._settle(done)
            return done.observations

    def _settle(self, done: Sequenced) -> None:
        """The worker's memory after a commit: chains, stored authors' ids, foreign posts."""
        posts = self.state.posts
        for pk, (chain, length) in done.chains.items():
            post = posts.get(pk)
            if post is not None:
                post.chain, post.chain_length = chain, length
        self.state.author_keys.update(done.authors)
        for pk in done.dropped_posts:
            post = posts.pop(pk, None)
            if post is not None:
                self.state.post_keys.pop((post.platform, post.post_id), None)
                post.next_check_at = None  # its queued events are stale now
