"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

The tree is the one of RFC 9162 §2.1 (unchanged from RFC 6962 §2.1), with SHA-256:

* leaf hash ``H(0x00 ‖ data)`` and interior node ``H(0x01 ‖ left ‖ right)`` (§2.1.1);
* a tree of ``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``;
* the empty tree hashes to ``H("")``.

Everything here works on *leaf hashes*, never on the entries themselves, so a store only has
to keep 32 bytes per entry. Three layers:

* :func:`root`, :func:`inclusion_proof`, :func:`consistency_proof` — one-shot functions;
* :class:`MerkleTree` — the read side: proofs over leaf hashes held in a sequence or fetched
  through a ``get_leaf_hashes(start, end)`` callback, caching the hashes of complete subtrees
  so that, once warm, a proof over a million leaves costs O(log n) hashing, not O(n);
* :class:`MerkleLog` — the write side: the O(log n) frontier ("compact range" [0, n)) that
  appends a leaf and yields the current root in O(log n), and resumes from a stored frontier.

:func:`verify_inclusion` and :func:`verify_consistency` follow the verification algorithms of
RFC 9162 §2.1.3.2 and §2.1.4.2 step by step; they return ``False`` for any malformed input
instead of raising.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from typing import TypeAlias

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LeafSource",
    "MerkleLog",
    "MerkleTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 digest: every leaf hash, node hash, root and proof element."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = HASH(), the root of the empty tree (RFC 9162 §2.1.1)."""

MAX_TREE_SIZE = 1 << 64
"""Sizes are uint64 on the wire (RFC 9162 §4.10 TreeHead); larger ones are rejected."""

LeafSource: TypeAlias = Sequence[bytes] | Callable[[int, int], Sequence[bytes]]
"""Leaf hashes in log order: a sequence, or ``get_leaf_hashes(start, end)`` returning
the hashes of leaves ``start`` (inclusive) to ``end`` (exclusive)."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = HASH(0x00 ‖ d), the hash of one log entry (RFC 9162 §2.1.1)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 ‖ left ‖ right), an interior node (RFC 9162 §2.1.1)."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1), RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _fold_level(hashes: list[bytes]) -> list[bytes]:
    """Hash adjacent pairs; an odd last node is carried up unchanged."""
    paired = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
    if len(hashes) % 2:
        paired.append(hashes[-1])
    return paired


def _fold(hashes: list[bytes]) -> bytes:
    """MTH over leaf hashes by level-wise pairing.

    Carrying the lone right node of each level up unchanged builds exactly the tree of
    RFC 9162 §2.1.1 (left subtrees are always complete, of size k), without recursion.
    """
    if not hashes:
        return EMPTY_ROOT
    while len(hashes) > 1:
        hashes = _fold_level(hashes)
    return hashes[0]


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the given leaf hashes, RFC 9162 §2.1.1. O(n) time."""
    hashes = list(leaves)
    for h in hashes:
        _check_hash(h, "leaf hash")
    return _fold(hashes)


def inclusion_proof(leaves: LeafSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]), RFC 9162 §2.1.3.1, over the first ``size`` leaf hashes."""
    return MerkleTree(leaves).inclusion_proof(index, size)


def consistency_proof(leaves: LeafSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]), RFC 9162 §2.1.4.1; empty if old_size is 0 or new_size."""
    return MerkleTree(leaves).consistency_proof(old_size, new_size)


class MerkleTree:
    """Roots and proofs over an append-only sequence of leaf hashes.

    Every hash a proof needs is the root of a subtree ``[start, end)`` of the RFC 9162 tree.
    Those subtrees are built from *complete* subtrees (2**level leaves, aligned on a multiple
    of 2**level) whose hashes never change as the log grows, so they are cached in
    ``subtree_cache`` keyed by ``(level, index)`` for every level ``>= cache_level``. Below
    that level hashes are recomputed from a batch of ``2**cache_level`` leaf hashes, which
    bounds the cache at about ``2 * n / 2**cache_level`` entries (8 192 for a million leaves
    at the default level 8) while keeping a warm proof at O(log n · 2**cache_level) hashing.

    The first proof over n leaves is O(n); later proofs, and proofs for larger sizes of the
    same log, reuse what is cached. Pass a persistent mapping as ``subtree_cache`` to keep the
    work across processes. The leaf source must be append-only: the cache assumes leaf ``i``
    never changes.
    """

    def __init__(
        self,
        leaves: LeafSource,
        *,
        cache_level: int = 8,
        subtree_cache: MutableMapping[tuple[int, int], bytes] | None = None,
    ) -> None:
        if cache_level < 1:
            raise ValueError("cache_level must be at least 1")
        self._get: Callable[[int, int], Sequence[bytes]]
        self._known_size: int | None
        if callable(leaves):
            self._get = leaves
            self._known_size = None
        else:
            self._get = _slicer(leaves)
            self._known_size = len(leaves)
        self._cache_level = cache_level
        self._cache: MutableMapping[tuple[int, int], bytes] = (
            {} if subtree_cache is None else subtree_cache
        )

    # -- public API ---------------------------------------------------------------------------

    def root(self, size: int) -> bytes:
        """MTH(D[size]), RFC 9162 §2.1.1."""
        self._check_size(size)
        return self._mth(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]), RFC 9162 §2.1.3.1: sibling hashes from the leaf upwards."""
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of size {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._mth(start + k, end))
                end = start + k
            else:
                path.append(self._mth(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[new_size]) = SUBPROOF(old_size, D[new_size], true), RFC 9162 §2.1.4.1.

        Empty when ``old_size`` is 0 or equal to ``new_size`` (nothing to prove).
        """
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} is not between 0 and new size {new_size}")
        if old_size in (0, new_size):
            return []
        path: list[bytes] = []
        start, m, n, whole = 0, old_size, new_size, True
        while m != n:
            k = _split(n)
            if m <= k:
                path.append(self._mth(start + k, start + n))
                n = k
            else:
                path.append(self._mth(start, start + k))
                start, m, n, whole = start + k, m - k, n - k, False
        if not whole:
            path.append(self._mth(start, start + m))
        path.reverse()
        return path

    # -- subtree hashing ----------------------------------------------------------------------

    def _check_size(self, size: int) -> None:
        if not 0 <= size < MAX_TREE_SIZE:
            raise ValueError(f"tree size {size} is out of range")
        if self._known_size is not None and size > self._known_size:
            raise ValueError(f"tree size {size} exceeds the {self._known_size} leaves available")

    def _mth(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end), where start is aligned as in the RFC recursion."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0:  # complete subtree
            level = n.bit_length() - 1
            return self._complete(level, start >> level)
        k = _split(n)
        return node_hash(self._mth(start, start + k), self._mth(start + k, end))

    def _complete(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of 2**level leaves starting at leaf index * 2**level."""
        cacheable = level >= self._cache_level
        if cacheable:
            cached = self._cache.get((level, index))
            if cached is not None:
                return cached
        if level <= self._cache_level:
            value = _fold(self._fetch(index << level, (index + 1) << level))
        else:
            left = self._complete(level - 1, 2 * index)
            value = node_hash(left, self._complete(level - 1, 2 * index + 1))
        if cacheable:
            self._cache[(level, index)] = value
        return value

    def _fetch(self, start: int, end: int) -> list[bytes]:
        hashes = list(self._get(start, end))
        if len(hashes) != end - start:
            raise ValueError(
                f"leaf source returned {len(hashes)} hashes for leaves [{start}, {end})"
            )
        for h in hashes:
            _check_hash(h, "leaf hash")
        return hashes


def _slicer(leaves: Sequence[bytes]) -> Callable[[int, int], Sequence[bytes]]:
    def get(start: int, end: int) -> Sequence[bytes]:
        return leaves[start:end]

    return get


class MerkleLog:
    """The append side of the log: a compact range [0, size) of RFC 9162 tree hashes.

    Holds one hash per set bit of ``size``: the roots of the complete subtrees that tile
    leaves [0, size), largest (leftmost) first. Appending merges equal-sized subtrees like a
    binary counter carry, so :meth:`append` and :meth:`root` are O(log n) in time and space.
    The frontier is all a writer needs to persist to resume (:meth:`from_frontier`).
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> MerkleLog:
        """Resume a log of ``size`` leaves from its stored :attr:`frontier`."""
        if not 0 <= size < MAX_TREE_SIZE:
            raise ValueError(f"tree size {size} is out of range")
        if len(frontier) != size.bit_count():
            raise ValueError(
                f"a log of {size} leaves has {size.bit_count()} frontier hashes, "
                f"got {len(frontier)}"
            )
        for h in frontier:
            _check_hash(h, "frontier hash")
        log = cls()
        log._size = size
        log._frontier = [bytes(h) for h in frontier]
        return log

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """Roots of the complete subtrees covering [0, size), largest first."""
        return tuple(self._frontier)

    def append(self, leaf: bytes) -> int:
        """Append one leaf hash (see :func:`leaf_hash`); return its index."""
        _check_hash(leaf, "leaf hash")
        if self._size + 1 >= MAX_TREE_SIZE:
            raise ValueError("the log is full")
        index = self._size
        h, n = leaf, index
        while n & 1:
            h = node_hash(self._frontier.pop(), h)
            n >>= 1
        self._frontier.append(h)
        self._size = index + 1
        return index

    def extend(self, leaves: Iterable[bytes]) -> int:
        """Append leaf hashes in order; return the new size."""
        for leaf in leaves:
            self.append(leaf)
        return self._size

    def root(self) -> bytes:
        """MTH(D[size]), RFC 9162 §2.1.1, folding the frontier from the right."""
        if not self._frontier:
            return EMPTY_ROOT
        h = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            h = node_hash(left, h)
        return h


def _valid_hash(value: bytes) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof (audit path), RFC 9162 §2.1.3.2."""
    if not (0 <= index < size < MAX_TREE_SIZE):
        return False
    if not (_valid_hash(leaf_hash) and _valid_hash(root)) or not all(map(_valid_hash, proof)):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof between two tree heads, RFC 9162 §2.1.4.2.

    The trivial cases the RFC algorithm leaves out are decided strictly: equal sizes need an
    empty proof and equal roots; an old size of 0 needs an empty proof and ``old_root`` equal
    to the empty-tree hash (every tree extends the empty one).
    """
    if not (0 <= old_size <= new_size < MAX_TREE_SIZE):
        return False
    if not (_valid_hash(old_root) and _valid_hash(new_root)) or not all(map(_valid_hash, proof)):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:  # step 1
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: old tree is a complete left subtree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0  # step 7
