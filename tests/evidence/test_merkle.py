"""RFC 9162 Merkle tree: known answers, pymerkle as an oracle, tampering.

Oracle notes (pymerkle 7, ``InmemoryTree(algorithm="sha256")``): with its default security
mode it hashes exactly as RFC 9162 §2.1.1 (leaf ``H(0x00‖d)``, node ``H(0x01‖l‖r)``, empty
tree ``H("")``), stores entries as given, and counts leaves from one. So

* its roots (``get_root(size)``; ``get_state`` is the deprecated alias) are compared as is;
* its inclusion proof path is ``[leaf hash, sibling, ...]``: the tail is the RFC 9162 PATH;
* its consistency proofs use a finer decomposition than RFC 9162 §2.1.4 (it splits down to
  the old tree's last leaf), so they are not comparable element by element. Instead our
  proofs are compared with a literal transcription of SUBPROOF whose subtree hashes come from
  pymerkle, and pymerkle's own consistency proofs must verify against our roots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import pymerkle
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from memoryhole.evidence.merkle import (
    EMPTY_ROOT,
    MerkleLog,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --- known answers ----------------------------------------------------------------------------
# The RFC 6962 test tree of certificate-transparency-go / transparency-dev/merkle
# (proof/verify_test.go): eight leaves, the root of every prefix, and some proofs.
KAT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
KAT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index counting from 0, tree size, audit path)
KAT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, consistency proof)
KAT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
KAT_HASHES = [leaf_hash(d) for d in KAT_LEAVES]
SOME_HASH = "abacaba000000000000000000000000000000000000000000060061e00123456"


def _hexes(hashes: Sequence[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_hash_primitives() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == EMPTY_ROOT == MerkleLog().root() == MerkleTree([]).root(0)
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )


def test_known_roots() -> None:
    log = MerkleLog()
    tree = MerkleTree(KAT_HASHES, cache_level=1)
    for size, expected in enumerate(KAT_ROOTS, start=1):
        log.append(KAT_HASHES[size - 1])
        assert root(KAT_HASHES[:size]).hex() == expected
        assert tree.root(size).hex() == expected
        assert log.root().hex() == expected


@pytest.mark.parametrize(("index", "size", "path"), KAT_INCLUSION)
def test_known_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(KAT_HASHES, index, size)
    assert _hexes(proof) == path
    root_hash = bytes.fromhex(KAT_ROOTS[size - 1])
    leaf = KAT_HASHES[index]
    assert verify_inclusion(leaf, index, size, proof, root_hash)
    # The corruptions transparency-dev/merkle probes: none may verify.
    some_hash = bytes.fromhex(SOME_HASH)
    probes = [
        (leaf, index - 1, size, proof, root_hash),
        (leaf, index + 1, size, proof, root_hash),
        (leaf, index ^ 2, size, proof, root_hash),
        (leaf, index, size * 2, proof, root_hash),
        (leaf, index, size // 2, proof, root_hash),
        (b"WrongLeaf", index, size, proof, root_hash),
        (leaf, index, size, proof, EMPTY_ROOT),
        (leaf, index, size, proof, some_hash),
        (leaf, index, size, [*proof, b""], root_hash),
        (leaf, index, size, [*proof, root_hash], root_hash),
        (leaf, index, size, [b"", *proof], root_hash),
        (leaf, index, size, [root_hash, *proof], root_hash),
    ]
    if proof:
        probes.append((leaf, index, size, proof[:-1], root_hash))
    if len(proof) > 1:
        probes.append((leaf, index, size, [proof[0], some_hash, *proof[1:]], root_hash))
    for probe in probes:
        assert not verify_inclusion(*probe), probe


@pytest.mark.parametrize(("old", "new", "path"), KAT_CONSISTENCY)
def test_known_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    proof = consistency_proof(KAT_HASHES, old, new)
    assert _hexes(proof) == path
    old_root, new_root = bytes.fromhex(KAT_ROOTS[old - 1]), bytes.fromhex(KAT_ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, proof)
    if not proof:
        return
    probes = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, b"WrongRoot", new_root, proof),
        (old, new, old_root, b"WrongRoot", proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, b""]),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [b"", *proof]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
    ]
    for probe in probes:
        assert not verify_consistency(*probe), probe


def test_trivial_consistency_cases() -> None:
    a, b = KAT_HASHES[1], KAT_HASHES[2]
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, a, [])
    assert verify_consistency(3, 3, a, a, [])
    assert not verify_consistency(0, 5, a, b, [])  # size 0 must have the empty root
    assert not verify_consistency(3, 3, a, b, [])
    assert not verify_consistency(3, 3, a, a, [EMPTY_ROOT])
    assert not verify_consistency(0, 1, EMPTY_ROOT, a, [EMPTY_ROOT])
    assert not verify_consistency(2, 1, a, b, [])  # time travel
    assert not verify_consistency(1, 2, a, b, [])  # a real step needs a proof
    assert not verify_consistency(-1, 2, a, b, [a])
    assert not verify_consistency(1, 1 << 64, a, b, [a])


def test_inclusion_edge_cases() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h)  # a one-leaf tree's root is its leaf hash
    for index, size in [(0, 0), (1, 1), (-1, 1), (2, 1)]:
        assert not verify_inclusion(h, index, size, [], h)
    assert not verify_inclusion(b"", 0, 1, [], b"")
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(KAT_HASHES, 8, 8)
    with pytest.raises(ValueError, match="exceeds"):
        inclusion_proof(KAT_HASHES, 0, 9)
    with pytest.raises(ValueError, match="between"):
        consistency_proof(KAT_HASHES, 5, 4)
    with pytest.raises(ValueError, match="32 bytes"):
        root([b"short"])


def test_leaf_source_must_answer_exactly() -> None:
    tree = MerkleTree(lambda start, end: KAT_HASHES[start : end - 1], cache_level=1)
    with pytest.raises(ValueError, match="returned"):
        tree.root(8)


# --- pymerkle as an oracle ------------------------------------------------------------------


def _entries(seed: int, size: int) -> list[bytes]:
    """Deterministic entries of varied length (0 to 39 bytes), some empty."""
    prefix = seed.to_bytes(8, "big")
    return [
        hashlib.sha256(prefix + i.to_bytes(4, "big")).digest()[: (i * 7 + seed) % 40]
        for i in range(size)
    ]


def _oracle(entries: Sequence[bytes]) -> pymerkle.InmemoryTree:
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for entry in entries:
        tree.append_entry(entry)
    return tree


def _rfc_subproof(
    m: int, start: int, n: int, complete: bool, mth: Callable[[int, int], bytes]
) -> list[bytes]:
    """SUBPROOF(m, D[start:start+n], b) transcribed from RFC 9162 §2.1.4.1."""
    if m == n:
        return [] if complete else [mth(start, start + n)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*_rfc_subproof(m, start, k, complete, mth), mth(start + k, start + n)]
    return [*_rfc_subproof(m - k, start + k, n - k, False, mth), mth(start, start + k)]


sizes = st.integers(min_value=1, max_value=3000)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    size=sizes,
    picks=st.lists(st.integers(0, 2**62), min_size=12, max_size=12),
)
@example(seed=7, size=3000, picks=[2**61 + 17 * i for i in range(12)])
@example(seed=8, size=2048, picks=[2047, 2047, 2048, 1023, 1, 0, 4095, 2048, 99, 1024, 2**40, 5])
@example(seed=9, size=2049, picks=[2048, 2048, 2047, 2047, 1024, 1023, 0, 1, 4097, 3, 7, 2**33])
def test_against_pymerkle(seed: int, size: int, picks: list[int]) -> None:
    entries = _entries(seed, size)
    hashes = [leaf_hash(e) for e in entries]
    oracle = _oracle(entries)
    assert [oracle.get_leaf(i + 1) for i in (0, size - 1)] == [hashes[0], hashes[-1]]
    tree = MerkleTree(hashes, cache_level=3)
    assert root(hashes) == tree.root(size) == oracle.get_root(size)

    log = MerkleLog()
    checkpoints = sorted({1 + p % size for p in picks} | {size})
    for n in range(1, size + 1):
        log.append(hashes[n - 1])
        if n == checkpoints[0]:
            checkpoints.pop(0)
            assert log.root() == tree.root(n) == oracle.get_root(n)

    def oracle_mth(start: int, end: int) -> bytes:
        sub = oracle if start == 0 else _oracle(entries[start:end])
        return bytes(sub.get_root(end - start))

    for a, b in zip(picks[::2], picks[1::2], strict=True):
        new = 1 + a % size
        index, old = b % new, 1 + b % new
        new_root, old_root = oracle.get_root(new), oracle.get_root(old)

        path = tree.inclusion_proof(index, new)
        expected = oracle.prove_inclusion(index + 1, new)
        assert path == expected.path[1:]
        assert verify_inclusion(hashes[index], index, new, path, new_root)
        pymerkle.verify_inclusion(hashes[index], tree.root(new), expected, index + 1, new)

        proof = tree.consistency_proof(old, new)
        assert proof == _rfc_subproof(old, 0, new, True, oracle_mth)
        assert verify_consistency(old, new, old_root, new_root, proof)
        their = oracle.prove_consistency(old, new)
        pymerkle.verify_consistency(tree.root(old), tree.root(new), their, old, new)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), split=st.integers(0, 300), data=st.data())
def test_log_resumes_from_frontier(size: int, split: int, data: st.DataObject) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    split %= size + 1
    first = MerkleLog()
    first.extend(hashes[:split])
    resumed = MerkleLog.from_frontier(first.size, list(first.frontier))
    assert resumed.root() == first.root()
    resumed.extend(hashes[split:])
    assert resumed.size == size
    assert len(resumed.frontier) == size.bit_count()
    assert resumed.root() == root(hashes)
    bad = data.draw(st.integers(0, 64).filter(lambda n: n != split.bit_count()))
    with pytest.raises(ValueError, match="frontier hashes"):
        MerkleLog.from_frontier(split, [EMPTY_ROOT] * bad)


def test_warm_proofs_fetch_little() -> None:
    """After the first proof, proofs over 2**14 leaves refetch only O(log n) batches."""
    size = 1 << 14
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size + 100)]
    fetched = 0

    def source(start: int, end: int) -> Sequence[bytes]:
        nonlocal fetched
        fetched += end - start
        return hashes[start:end]

    tree = MerkleTree(source, cache_level=4)
    first = tree.inclusion_proof(1234, size)
    assert fetched == size - 1  # one pass over the leaves but the proven one
    fetched = 0
    assert tree.inclusion_proof(9876, size) == inclusion_proof(hashes, 9876, size)
    assert tree.consistency_proof(size, size + 100) == consistency_proof(hashes, size, size + 100)
    assert first == inclusion_proof(hashes, 1234, size)
    assert fetched <= 2 * 16 + 100  # two 16-leaf batches, then the 100 new leaves


def test_shared_subtree_cache() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(1000)]
    cache: dict[tuple[int, int], bytes] = {}
    MerkleTree(hashes[:600], subtree_cache=cache, cache_level=2).root(600)
    assert cache
    later = MerkleTree(hashes, subtree_cache=cache, cache_level=2)
    assert later.root(1000) == root(hashes)
    assert later.consistency_proof(600, 1000) == consistency_proof(hashes, 600, 1000)


# --- tampering --------------------------------------------------------------------------------


def _flip(value: bytes, position: int, mask: int) -> bytes:
    changed = bytearray(value)
    changed[position % len(changed)] ^= mask
    return bytes(changed)


masks = st.integers(1, 255)


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 700),
    pick=st.integers(0, 2**62),
    element=st.integers(0, 2**62),
    position=st.integers(0, 31),
    mask=masks,
)
def test_tampered_inclusion_fails(
    size: int, pick: int, element: int, position: int, mask: int
) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    index = pick % size
    proof = inclusion_proof(hashes, index, size)
    root_hash = root(hashes)
    assert verify_inclusion(hashes[index], index, size, proof, root_hash)
    tampered_root = _flip(root_hash, position, mask)
    assert not verify_inclusion(hashes[index], index, size, proof, tampered_root)
    tampered_leaf = _flip(hashes[index], position, mask)
    assert not verify_inclusion(tampered_leaf, index, size, proof, root_hash)
    if proof:
        at = element % len(proof)
        bad = [*proof[:at], _flip(proof[at], position, mask), *proof[at + 1 :]]
        assert not verify_inclusion(hashes[index], index, size, bad, root_hash)


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 700),
    pick=st.integers(0, 2**62),
    element=st.integers(0, 2**62),
    position=st.integers(0, 31),
    mask=masks,
)
def test_tampered_consistency_fails(
    size: int, pick: int, element: int, position: int, mask: int
) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    old = pick % (size + 1)
    proof = consistency_proof(hashes, old, size)
    old_root, new_root = root(hashes[:old]), root(hashes)
    assert verify_consistency(old, size, old_root, new_root, proof)
    assert not verify_consistency(old, size, _flip(old_root, position, mask), new_root, proof)
    if old:  # every tree extends the empty one, whatever its root
        assert not verify_consistency(old, size, old_root, _flip(new_root, position, mask), proof)
    if proof:
        at = element % len(proof)
        bad = [*proof[:at], _flip(proof[at], position, mask), *proof[at + 1 :]]
        assert not verify_consistency(old, size, old_root, new_root, bad)
