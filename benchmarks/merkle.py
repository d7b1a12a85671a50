"""Merkle log speed vs plain SHA-256 of the same entries, same run.

    .venv/bin/python benchmarks/merkle.py [--leaves 1000000] [--entry-bytes 64] [--proofs 1000]

Measures, over ``--leaves`` random entries:

* plain ``sha256(entry)`` per entry: the floor any hashing log pays;
* ``leaf_hash`` + ``MerkleLog.append`` per entry (the collector's write path) and the root;
* a cold inclusion proof (one O(n) pass that fills the subtree cache), then warm inclusion
  and consistency proofs, and their verification.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

from memoryhole.evidence.merkle import (
    MerkleLog,
    MerkleTree,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--entry-bytes", type=int, default=64)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--cache-level", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n, width = args.leaves, args.entry_bytes
    blob = os.urandom(n * width)
    entries = [blob[i * width : (i + 1) * width] for i in range(n)]
    print(f"{n:,} entries of {width} bytes")

    sha256 = hashlib.sha256
    _, t_sha = timed(lambda: [sha256(e).digest() for e in entries])
    print(f"plain sha256 per entry         {t_sha:7.2f} s  {n / t_sha:12,.0f} /s")

    hashes, t_leaf = timed(lambda: [leaf_hash(e) for e in entries])
    log = MerkleLog()
    append = log.append
    _, t_append = timed(lambda: [append(h) for h in hashes])
    log_root, t_root = timed(log.root)
    write = t_leaf + t_append
    print(f"leaf_hash                      {t_leaf:7.2f} s  {n / t_leaf:12,.0f} /s")
    print(
        f"MerkleLog.append               {t_append:7.2f} s  {n / t_append:12,.0f} appends/s"
        f"  ({t_append / t_sha:.2f}x plain sha256)"
    )
    print(
        f"leaf_hash + append (write path){write:7.2f} s  {n / write:12,.0f} /s"
        f"  ({write / t_sha:.2f}x plain sha256)"
    )
    print(f"MerkleLog.root                 {t_root * 1e6:7.1f} µs")
    full_root, t_full = timed(lambda: root(hashes))
    assert full_root == log_root
    print(f"root(all leaf hashes)          {t_full:7.2f} s  ({t_full / t_sha:.2f}x plain sha256)")

    rng = random.Random(args.seed)
    fetched = 0

    def source(start: int, end: int) -> list[bytes]:
        nonlocal fetched
        fetched += end - start
        return hashes[start:end]

    tree = MerkleTree(source, cache_level=args.cache_level)
    first, t_cold = timed(lambda: tree.inclusion_proof(rng.randrange(n), n))
    print(
        f"cold inclusion proof           {t_cold:7.2f} s  ({t_cold / t_sha:.2f}x plain sha256; "
        f"read {fetched:,} leaf hashes, cached {args.cache_level}+ levels)"
    )
    assert tree.root(n) == log_root

    picks = [rng.randrange(n) for _ in range(args.proofs)]
    fetched = 0
    proofs, t_incl = timed(lambda: [tree.inclusion_proof(i, n) for i in picks])
    per_incl = t_incl / len(picks)
    print(
        f"warm inclusion proof           {per_incl * 1e6:7.1f} µs  "
        f"({len(first)} hashes, {fetched / len(picks):,.0f} leaf hashes read per proof)"
    )
    ok, t_verify = timed(
        lambda: all(
            verify_inclusion(hashes[i], i, n, p, log_root)
            for i, p in zip(picks, proofs, strict=True)
        )
    )
    assert ok
    print(f"verify inclusion               {t_verify / len(picks) * 1e6:7.1f} µs")

    olds = [1 + rng.randrange(n - 1) for _ in range(args.proofs)]
    fetched = 0
    cons, t_cons = timed(lambda: [tree.consistency_proof(m, n) for m in olds])
    print(
        f"warm consistency proof         {t_cons / len(olds) * 1e6:7.1f} µs  "
        f"({fetched / len(olds):,.0f} leaf hashes read per proof)"
    )
    checked = list(zip(olds, cons, strict=True))[:20]
    assert all(verify_consistency(m, n, tree.root(m), log_root, p) for m, p in checked)


if __name__ == "__main__":
    main()
