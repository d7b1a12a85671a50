"""Post heads: what makes a bundle prove it holds *every* observation of its post.

An inclusion proof shows that a leaf is in the log; it cannot show that no other leaf of the
same post is. So every signed checkpoint also commits to each post's **chain**: the number of
the post's observations in the log so far and a running digest of their leaf indices,

    chain_0 = 32 zero bytes,  chain_k = SHA-256(chain_(k-1) ‖ uint64_be(index_k))

over the post's observations (``observations.post_pk``) in log order. The checkpoint's
extension line ``memoryhole/heads <n> <base64 root>`` is the RFC 9162 Merkle root of the ``n``
posts' *head entries*, sorted by (platform, post id); an entry's leaf is ``SHA-256(0x00 ‖
canonical JSON {"count", "digest", "platform", "post_id"})``. A bundle carries its post's entry
and its inclusion proof: the verifier recomputes the chain from the observations the bundle
holds and needs the same count and digest. Dropping any observation (a censored post's last
checks, a reappeared post's "visible again"), or adding one from another post, changes the
digest; changing the entry breaks its proof against the signed root.

The signer is trusted to list each post once; what this defends against is a bundle altered
after it was made (by anyone without the study's key).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from memoryhole.errors import EvidenceError
from memoryhole.evidence.leaf import canonical_bytes
from memoryhole.evidence.merkle import MerkleTree, leaf_hash, root, verify_inclusion

EMPTY_CHAIN = bytes(32)
HEADS_EXTENSION = "memoryhole/heads"


def extend_chain(chain: bytes, index: int) -> bytes:
    """The chain after one more observation of the post, at leaf ``index``."""
    return hashlib.sha256(chain + struct.pack(">Q", index)).digest()


def chain_of(indices: Iterable[int]) -> tuple[int, bytes]:
    """(count, digest) of a post's observations at these leaf indices, in log order."""
    count, chain = 0, EMPTY_CHAIN
    for index in sorted(indices):
        chain = extend_chain(chain, index)
        count += 1
    return count, chain


@dataclass(frozen=True, slots=True)
class Head:
    platform: str
    post_id: str
    count: int
    digest: bytes

    @property
    def record(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "post_id": self.post_id,
            "count": self.count,
            "digest": self.digest.hex(),
        }

    @property
    def leaf(self) -> bytes:
        return leaf_hash(canonical_bytes(self.record))

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Head:
        try:
            return cls(
                str(record["platform"]),
                str(record["post_id"]),
                int(str(record["count"])),
                bytes.fromhex(str(record["digest"])),
            )
        except (KeyError, ValueError) as exc:
            raise EvidenceError(f"malformed head entry ({exc})") from None


def sorted_heads(heads: Iterable[Head]) -> list[Head]:
    """The entries the root is over: posts with at least one observation, in key order."""
    return sorted((h for h in heads if h.count > 0), key=lambda h: (h.platform, h.post_id))


def heads_root(heads: Sequence[Head]) -> bytes:
    """The Merkle root of ``sorted_heads`` output."""
    return root([head.leaf for head in heads])


def extension_line(heads: Sequence[Head]) -> str:
    encoded = base64.b64encode(heads_root(heads)).decode("ascii")
    return f"{HEADS_EXTENSION} {len(heads)} {encoded}"


def parse_extension(extensions: Sequence[str]) -> tuple[int, bytes] | None:
    """(entries, root) from a checkpoint's extension lines, or None if it has none."""
    for line in extensions:
        parts = line.split(" ")
        if parts[0] != HEADS_EXTENSION:
            continue
        if len(parts) != 3 or not parts[1].isdigit():
            raise EvidenceError(f"malformed checkpoint extension {line!r}")
        try:
            digest = base64.b64decode(parts[2], validate=True)
        except ValueError:
            raise EvidenceError(f"malformed checkpoint extension {line!r}") from None
        return int(parts[1]), digest
    return None


def head_proof(heads: Sequence[Head], platform: str, post_id: str) -> dict[str, object] | None:
    """The entry of one post with its inclusion proof against the root of ``heads``."""
    for index, head in enumerate(heads):
        if (head.platform, head.post_id) == (platform, post_id):
            tree = MerkleTree([h.leaf for h in heads])
            proof = tree.inclusion_proof(index, len(heads))
            return {"entry": head.record, "index": index, "proof": [p.hex() for p in proof]}
    return None


def check_head_proof(proof: Mapping[str, object], size: int, signed_root: bytes) -> Head:
    """The head entry a bundle carries, if its proof leads to the signed root; else raises."""
    entry = proof.get("entry")
    if not isinstance(entry, Mapping):
        raise EvidenceError("the head entry is missing")
    head = Head.from_record(entry)
    index = proof.get("index")
    path = proof.get("proof")
    if not isinstance(index, int) or not isinstance(path, list):
        raise EvidenceError("the head entry's proof is malformed")
    try:
        hashes = [bytes.fromhex(str(p)) for p in path]
    except ValueError:
        raise EvidenceError("the head entry's proof is malformed") from None
    if not verify_inclusion(head.leaf, index, size, hashes, signed_root):
        raise EvidenceError("the head entry is not the one the checkpoint signed")
    return head
