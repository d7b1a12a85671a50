"""`memoryhole proof`: proofs that verify against the signed checkpoints, across runs."""

from __future__ import annotations

import hashlib
from pathlib import Path

from memoryhole.evidence.checkpoint import verify_note
from memoryhole.evidence.log import checkpoint_consistency, observation_proof, stored_checkpoints
from memoryhole.evidence.merkle import leaf_hash, verify_consistency, verify_inclusion
from memoryhole.sim.replay import replay
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0


def test_inclusion_and_consistency_proofs_across_two_runs(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    posts = known_removals(T0, posts=30)
    replay(study, posts, until=T0 + 3600.0)  # first run: ends with a checkpoint
    replay(study, posts, until=T0 + 86400.0)  # resumed run: a second, larger checkpoint
    first, second = stored_checkpoints(study.engine)[-2:]
    assert first.size < second.size

    key = study.verifier_key()
    for observation_id in (1, first.size, second.size):
        result = observation_proof(study, observation_id)
        signed = verify_note(str(result["checkpoint"]), key)
        leaf = str(result["leaf"]).encode()
        assert leaf_hash(leaf).hex() == result["leaf_hash"]
        proof = [bytes.fromhex(h) for h in result["inclusion_proof"]]
        assert verify_inclusion(
            leaf_hash(leaf), observation_id - 1, signed.size, proof, signed.root_hash
        )
        assert not verify_inclusion(
            hashlib.sha256(leaf).digest(), observation_id - 1, signed.size, proof, signed.root_hash
        )

    result = checkpoint_consistency(study, first.id, second.id)
    old = verify_note(str(result["old"]["note"]), key)
    new = verify_note(str(result["new"]["note"]), key)
    proof = [bytes.fromhex(h) for h in result["consistency_proof"]]
    assert verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
    assert not verify_consistency(old.size, new.size, new.root_hash, old.root_hash, proof)
    study.close()
