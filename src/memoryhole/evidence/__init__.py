"""Verifiable evidence: an RFC 9162 Merkle log of observations and signed checkpoints.

* :mod:`memoryhole.evidence.merkle` — tree hashing, inclusion and consistency proofs, the
  incremental :class:`~memoryhole.evidence.merkle.MerkleLog` (RFC 9162 §2.1);
* :mod:`memoryhole.evidence.checkpoint` — C2SP tlog-checkpoint bodies signed as C2SP signed
  notes with Ed25519, keys and verification.
"""
