"""A large synthetic study written directly as an analysis dataset (Parquet partitioned by
platform / month, :mod:`memoryhole.analysis.engines.dataset`), plus its observations, for
``memoryhole bench analysis``.

Each post is checked ``observations / posts`` times on average (a geometric back-off from its
discovery); a removal happens at a random time after publication and the verdict's times come
from the checks around it, so the posts table is exactly what the observations say
(:func:`verdicts_from_observations` recomputes it). Terms follow a Zipf law over the
vocabulary; ``PLANTED`` terms (ids 0-9) raise a post's chance of being censored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from memoryhole.analysis.engines.dataset import Dataset, DatasetWriter, partitions, split_by

START: Final = 1_704_067_200.0  # 2024-01-01 UTC
SPAN: Final = 180 * 86400.0  # publication over six months
PLATFORMS: Final = ("weibo", "reddit", "wechat")
PLANTED: Final = 10
KINDS: Final = ("censored", "author_deleted", "account_suspended", "unknown")


@dataclass(frozen=True)
class Spec:
    posts: int
    observations: int
    terms_per_post: int = 20
    vocabulary: int = 200_000
    authors: int = 0  # 0: one per ten posts
    seed: int = 0
    chunk: int = 500_000


def generate(
    spec: Spec, directory: Path, progress: Callable[[int, int], None] | None = None
) -> tuple[Dataset, int]:
    """Write the synthetic study to ``directory`` (replaced), ``spec.chunk`` posts at a time.
    Returns the dataset and the observations written."""
    import pyarrow as pa

    writer = DatasetWriter(directory)
    rng = np.random.default_rng(spec.seed)
    n_authors = spec.authors or max(spec.posts // 10, 1)
    pool = pa.array([f"a_{i:020x}" for i in rng.permutation(n_authors)], type=pa.string())
    per_post = spec.observations / max(spec.posts, 1)
    # At most ~20M drawn terms (and checks) a chunk: about 2 GB of numpy arrays at once.
    step = max(1, min(spec.chunk, 20_000_000 // max(spec.terms_per_post, int(per_post), 1)))
    done = observed = 0
    last = -np.inf
    while done < spec.posts:
        m = min(step, spec.posts - done)
        chunk_rng = np.random.default_rng([spec.seed, done])
        posts, counts, ids, checks = _chunk(chunk_rng, done, m, spec, per_post)
        posts["author"] = pool.take(pa.array(chunk_rng.integers(0, n_authors, m)))
        writer.add(pa.table(posts), counts, ids)
        observed += _write_observations(directory, done, posts, checks)
        last = max(last, float(checks["observed_at"].max()))
        done += m
        if progress:
            progress(done, spec.posts)
    vocabulary = [f"w:planted{i}" for i in range(PLANTED)]
    vocabulary += [f"w:t{i}" for i in range(spec.vocabulary)]
    until = last if np.isfinite(last) else None
    return writer.finish(vocabulary, "synthetic", None, until), observed


def _chunk(
    rng: np.random.Generator, first: int, m: int, spec: Spec, per_post: float
) -> tuple[dict[str, Any], npt.NDArray[np.int64], npt.NDArray[np.uint32], dict[str, Any]]:
    platform_code = rng.choice(len(PLATFORMS), m, p=[0.6, 0.3, 0.1])
    published = np.sort(START + rng.random(m) * SPAN)
    # Terms: Zipf over the vocabulary, at most once a post; planted ones 2% of posts each.
    draws = rng.poisson(spec.terms_per_post, m).astype(np.int64)
    owner = np.repeat(np.arange(m), draws)
    term = (rng.zipf(1.3, owner.size) - 1) % spec.vocabulary + PLANTED
    planted = rng.random((m, PLANTED)) < 0.02
    p_owner, p_term = np.nonzero(planted)
    owner = np.concatenate([owner, p_owner])
    term = np.concatenate([term, p_term])
    key = np.unique(owner * (spec.vocabulary + PLANTED) + term)
    owner, term = key // (spec.vocabulary + PLANTED), key % (spec.vocabulary + PLANTED)
    counts = np.bincount(owner, minlength=m).astype(np.int64)
    # Removal: censored more often with a planted term; other kinds at a flat rate.
    censor = np.where(planted.any(axis=1), 0.35, 0.05)
    draw = rng.random(m)
    kind = np.full(m, -1)
    kind[draw < censor] = 0
    rest = (draw >= censor) & (draw < censor + 0.06)
    kind[rest] = rng.integers(1, len(KINDS), int(rest.sum()))
    removed_after = rng.exponential(6 * 3600.0, m)
    # Checks: discovered 30-300 s after publication, then a geometric back-off.
    n_checks = np.maximum(rng.poisson(max(per_post - 1, 0), m) + 1, 1)
    check_owner = np.repeat(np.arange(m), n_checks)
    seq = np.arange(check_owner.size) - np.repeat(np.cumsum(n_checks) - n_checks, n_checks)
    discovered = published + rng.uniform(30, 300, m)
    at = discovered[check_owner] + 60.0 * (np.power(1.6, seq) - 1)
    gone = (kind[check_owner] >= 0) & (at >= published[check_owner] + removed_after[check_owner])
    status = np.where(gone, kind[check_owner], -1)
    alive_at = np.where(~gone, at, -np.inf)
    removed_at = np.where(gone, at, np.inf)
    last_alive = np.maximum.reduceat(alive_at, np.cumsum(n_checks) - n_checks)
    first_removed = np.minimum.reduceat(removed_at, np.cumsum(n_checks) - n_checks)
    seen_removed = np.isfinite(first_removed)
    verdict = np.where(seen_removed, kind, -1)
    names = np.array(["live", *KINDS], dtype=object)
    within = np.where((platform_code == 2) & (rng.random(m) < 0.2), 3600.0, 0.0)
    gap = seen_removed & (rng.random(m) < 0.005)
    posts = {
        "post_pk": np.arange(first + 1, first + m + 1, dtype=np.int64),
        "published_at": published,
        "first_seen_at": discovered,
        "last_seen_alive_at": np.where(np.isfinite(last_alive), last_alive, np.nan),
        "first_seen_removed_at": np.where(seen_removed, first_removed, np.nan),
        "verdict": names[verdict + 1],
        "published_within": within,
        "interval_spans_gap": gap,
        "platform": np.array(PLATFORMS, dtype=object)[platform_code],
    }
    checks = {"owner": check_owner, "seq": seq + 1, "observed_at": at, "status": status}
    return posts, counts, term.astype(np.uint32), checks


def _write_observations(
    directory: Path, part: int, posts: dict[str, Any], checks: dict[str, Any]
) -> int:
    """``observations/platform=P/month=M/part-N.parquet``: post_pk, seq, observed_at, status
    (partitioned by the post's platform and month of publication)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    owner = checks["owner"]
    names = np.array(["live", *KINDS], dtype=object)
    folders, of_post = partitions(np.asarray(posts["platform"]), posts["published_at"])
    for folder, rows in zip(folders, split_by(of_post[owner], len(folders)), strict=True):
        target = directory / "observations" / folder
        target.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "post_pk": pa.array(posts["post_pk"][owner[rows]]),
                "seq": pa.array(checks["seq"][rows].astype(np.int32)),
                "observed_at": pa.array(checks["observed_at"][rows]),
                "status": pa.array(names[checks["status"][rows] + 1], type=pa.string()),
            }
        )
        pq.write_table(table, target / f"part-{part:012d}.parquet", compression="zstd")
    return int(owner.size)


def verdicts_from_observations(directory: Path, memory_limit: str = "2GB") -> tuple[int, int]:
    """Recompute every post's first sighting, last live and first removed check from the
    observations (one DuckDB group-by over all of them) and compare with the posts table.
    Returns ``(observations, posts that differ)``: 0 differing is the check."""
    import duckdb

    db = duckdb.connect()
    db.execute(f"SET memory_limit = '{memory_limit}'")
    db.execute(f"SET temp_directory = '{directory / '.duckdb-spill'}'")
    db.execute("SET preserve_insertion_order = false")
    db.execute("SET enable_progress_bar = false")
    observations = f"read_parquet('{directory}/observations/**/*.parquet', hive_partitioning=1)"
    posts = f"read_parquet('{directory}/posts/**/*.parquet', hive_partitioning=1)"
    total = db.sql(f"SELECT count(*) FROM {observations}").fetchall()[0][0]
    differ = db.sql(
        f"""
        WITH seen AS (
            SELECT post_pk, min(observed_at) AS first_seen,
                max(observed_at) FILTER (WHERE status = 'live') AS alive,
                min(observed_at) FILTER (WHERE status <> 'live') AS removed,
                arg_min(status, observed_at) FILTER (WHERE status <> 'live') AS kind
            FROM {observations} GROUP BY post_pk
        )
        SELECT count(*) FROM {posts} p JOIN seen s USING (post_pk)
        WHERE p.first_seen_at IS DISTINCT FROM s.first_seen
            OR p.last_seen_alive_at IS DISTINCT FROM s.alive
            OR p.first_seen_removed_at IS DISTINCT FROM s.removed
            OR p.verdict IS DISTINCT FROM coalesce(s.kind, 'live')
        """
    ).fetchall()[0][0]
    db.close()
    return int(total), int(differ)
