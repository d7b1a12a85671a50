"""The evidence behind one post, as the post page shows it.

Two checks, one per mode:

* :func:`verify_post_in_log` (every mode; read-only): the latest signed checkpoint verifies
  with the study's public key; every observation of the post re-hashes to its stored leaf and
  is in the signed tree (an RFC 9162 inclusion proof against the checkpoint's root); every raw
  response still hashes to what the log says; and the verdict follows from the logged
  observations by the same state machine (``evidence.rederive``). The Merkle tree is shared
  across requests, so once warm a proof costs O(log n) hashes.
* :func:`bundle_with_report` (local mode only): builds the post's evidence bundle with
  ``evidence.bundle.build_bundle`` (which may sign a new checkpoint, as ``memoryhole evidence``
  does) and checks it with ``evidence.verify.verify_bundle``, exactly as a reader would.
  Bundles hold raw platform responses, which name people: public mode never serves them.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from memoryhole.errors import EvidenceError, MemoryholeError
from memoryhole.evidence.checkpoint import verify_note
from memoryhole.evidence.leaf import POST_LEAF_KINDS, leaf_record, record_leaf_hash
from memoryhole.evidence.log import latest_checkpoint, log_tree
from memoryhole.evidence.merkle import MerkleTree, verify_inclusion
from memoryhole.evidence.rederive import is_post_check, rederive_verdict, verdict_mismatches
from memoryhole.store.blobs import BlobCorruptError
from memoryhole.store.schema import observations, posts, verdicts
from memoryhole.study import Study


@dataclass
class PostVerification:
    passed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checkpoint_size: int | None = None

    @property
    def success(self) -> bool:
        return not self.failures and self.checkpoint_size is not None


class TreeCache:
    """One Merkle tree per study for the server's lifetime (its subtree cache stays warm)."""

    def __init__(self, study: Study) -> None:
        self._engine = study.engine
        self._tree: MerkleTree = log_tree(study.engine)
        self.lock = threading.Lock()

    def warm(self) -> int:
        """Hash the whole signed tree once (O(n): ~10 s per million observations), so that
        every later proof is O(log n). Returns the size warmed."""
        stored = latest_checkpoint(self._engine)
        if stored is None or stored.size == 0:
            return 0
        self.proof(0, stored.size)
        return stored.size

    def proof(self, index: int, size: int) -> list[bytes]:
        with self.lock:
            return self._tree.inclusion_proof(index, size)


def verify_post_in_log(study: Study, trees: TreeCache, post_pk: int) -> PostVerification:
    result = PostVerification()
    stored = latest_checkpoint(study.engine)
    if stored is None:
        result.failures.append("the study has no signed checkpoint yet (run the collector)")
        return result
    try:
        checkpoint = verify_note(stored.note, study.verifier_key(), origin=study.log_origin)
    except (EvidenceError, MemoryholeError) as exc:
        result.failures.append(f"the latest checkpoint does not verify: {exc}")
        return result
    if checkpoint.size != stored.size or checkpoint.root_hash != stored.root_hash:
        result.failures.append("the checkpoint's signed size or root differs from the store's")
        return result
    result.checkpoint_size = checkpoint.size
    result.passed.append(
        f"checkpoint of {checkpoint.size:,} observations is signed by the study's key"
    )
    with study.engine.connect() as conn:
        post = conn.execute(select(posts).where(posts.c.id == post_pk)).mappings().one()
        verdict = conn.execute(select(verdicts).where(verdicts.c.post_pk == post_pk)).mappings()
        verdict_row = verdict.first()
        rows = [
            dict(row)
            for row in conn.execute(
                select(observations)
                .where(
                    (observations.c.post_pk == post_pk)
                    | (observations.c.id == post["discovered_by"])
                )
                .order_by(observations.c.id)
            ).mappings()
        ]
    covered = [row for row in rows if row["id"] <= checkpoint.size]
    pending = len(rows) - len(covered)
    bad = 0
    checks: list[dict[str, Any]] = []
    first_seen: float | None = None
    for row in covered:
        is_check = row["kind"] in POST_LEAF_KINDS
        record = leaf_record(row, post["platform"], post["post_id"] if is_check else None)
        digest = record_leaf_hash(record)
        where = f"observation {row['id']}"
        if row["leaf_hash"] is None or bytes(row["leaf_hash"]) != digest:
            result.failures.append(f"{where}: its row no longer hashes to its logged leaf")
            bad += 1
            continue
        proof = trees.proof(row["id"] - 1, checkpoint.size)
        if not verify_inclusion(
            digest, row["id"] - 1, checkpoint.size, proof, checkpoint.root_hash
        ):
            result.failures.append(f"{where}: not in the signed log (inclusion proof fails)")
            bad += 1
            continue
        if is_post_check(record):  # a check, or an import's statement about this post
            checks.append(record)
            try:
                study.blobs.get(row["body_sha256"])
            except FileNotFoundError:
                result.notes.append(f"{where}: raw response withheld (taken down or not kept)")
            except BlobCorruptError:
                result.failures.append(f"{where}: the stored raw response was altered")
                bad += 1
        elif first_seen is None:
            first_seen = float(row["sent_at"])
    if covered and not bad:
        result.passed.append(
            f"{len(covered)} observations re-hash to their leaves and are in the signed log"
        )
    if pending:
        result.notes.append(
            f"{pending} newer observations are not covered by a signed checkpoint yet"
        )
    if verdict_row is not None and not pending:
        derived = rederive_verdict(
            first_seen if first_seen is not None else float(post["first_seen_at"]),
            str(post["text"]),
            checks,
        )
        status = verdict_row["status"]
        claimed = {
            "verdict": "live" if status == "edited" else status,
            "last_seen_alive_at": verdict_row["last_seen_alive_at"],
            "first_seen_removed_at": verdict_row["first_seen_removed_at"],
            "edited": bool(verdict_row["edited"]),
        }
        problems = verdict_mismatches(claimed, derived)
        result.failures.extend(f"verdict: {problem}" for problem in problems)
        if not problems:
            result.passed.append(
                f"the verdict ({derived.export_value}) follows from the logged observations"
            )
    return result


@dataclass(frozen=True)
class BundleResult:
    data: bytes
    filename: str
    passed: list[str]
    failures: list[str]


def bundle_with_report(study: Study, platform: str, post_id: str) -> BundleResult:
    """Build the post's bundle in a temporary folder and verify it as a reader would."""
    from memoryhole.evidence.bundle import build_bundle
    from memoryhole.evidence.verify import verify_bundle

    safe = "".join(c if c.isalnum() else "_" for c in post_id)[:80] or "post"
    filename = f"{platform}-{safe}.zip"
    with tempfile.TemporaryDirectory(prefix="memoryhole-bundle-") as folder:
        path = Path(folder) / filename
        build_bundle(study, post_id, path, platform)
        report = verify_bundle(path, study.verifier_key())
        return BundleResult(path.read_bytes(), filename, report.passed, report.failures)
