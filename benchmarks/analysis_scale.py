"""Scale benchmark: synthetic Chinese posts stored as a study stores them, then terms + survival
+ timeline, with the wall time and peak memory of each phase.

    .venv/bin/python benchmarks/analysis_scale.py --posts 1000000 [--pool 100000] [--keep DIR]

Phases, each timed and with its own peak resident memory (the kernel's high-water mark,
reset between phases through ``/proc/self/clear_refs``):

1. **tokenise**: ``--pool`` distinct posts are made from clauses of the simulator's review
   corpus (``sim/data/reviews.txt``; lengths log-normal, median 50 characters, at most 140;
   3 % with a keyword of the simulator's lists put in) and tokenised with the study tokenizer
   (jieba, the default views word + char2 + char3); its rate in posts/s is the ingest
   tokenisation cost.
2. **ingest**: ``--posts`` posts written into a fresh study's store (authors, posts, verdicts,
   ``post_terms``, the tokenize-once cache), each post's text one of the pool's (so the
   ``post_terms`` rows are the tokenizer's own output), 20 posts per author, published over 30
   days; a post whose text holds a keyword is censored with probability 0.6, any other with
   0.03, author-deleted 0.02; removal delays log-normal (median 2 h), seen within an hourly
   re-check. Bulk SQL: not the collector's path (its rate is ``benchmarks/throughput.py``).
3. **load**: ``StudyData.load`` (every post already cached: nothing re-tokenised).
4. **terms**: ``terms_table`` (binomial test, BH, censored).
5. **survival**: ``survival_table`` (Turnbull, 200 bootstrap resamples, removed posts).
6. **timeline**: ``timeline_table`` (per day, removed within 1 day).

The texts repeat (``--posts / --pool`` times each on average): the vocabulary is the pool's,
smaller than a real corpus of that size; the per-post work (terms per post) is realistic.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import os
import random
import re
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "src" / "memoryhole" / "sim" / "data"
DAY = 86_400.0
START = 1_700_000_000.0
CHUNK = 200_000


def rss_mb() -> float:
    """The process's resident memory now (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def peak_mb() -> float:
    """The resident high-water mark since the last :func:`reset_peak` (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def phase(name: str, results: list[tuple[str, float, float]], run: Callable[[], Any]) -> Any:
    reset_peak()
    began = time.perf_counter()
    out = run()
    seconds = time.perf_counter() - began
    results.append((name, seconds, peak_mb()))
    print(f"  {name:<10} {seconds:8.1f} s   peak {peak_mb():7.0f} MB   now {rss_mb():7.0f} MB   "
          f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    return out


def make_pool(size: int, seed: int) -> tuple[list[str], list[bool]]:
    """``size`` distinct posts of clauses of the review corpus, lengths log-normal (median 50
    characters, 8-140 like a Weibo post), 3 % with a keyword of the simulator's lists."""
    corpus = (DATA / "reviews.txt").read_text(encoding="utf-8")
    clauses = [c.strip() for c in re.split(r"[，。！？；!?;,\n]+", corpus) if len(c.strip()) > 1]
    keywords = sorted(
        {
            word.strip()
            for path in (DATA / "keywords").glob("*.txt")
            for word in path.read_text(encoding="utf-8").splitlines()
            if word.strip() and not word.startswith("#")
        }
    )
    rng = random.Random(seed)
    texts: list[str] = []
    flagged: list[bool] = []
    seen: set[str] = set()
    while len(texts) < size:
        target = min(140, max(8, int(rng.lognormvariate(math.log(50), 0.5))))
        parts: list[str] = []
        while sum(map(len, parts)) < target:
            parts.append(rng.choice(clauses))
        text = "，".join(parts)[:140] + "。"
        hot = rng.random() < 0.03
        if hot:
            cut = rng.randrange(len(text))
            text = text[:cut] + rng.choice(keywords) + text[cut:]
        if text in seen:
            continue
        seen.add(text)
        texts.append(text)
        flagged.append(hot)
    return texts, flagged


def tokenise(texts: list[str]) -> tuple[list[tuple[str, bytes]], list[str], str]:
    """Each text's cached terms as ``refresh_terms`` stores them (text and ids), the
    vocabulary (by id) and the tokenizer's key."""
    from memoryhole.analysis.cache import encode_terms, tokenizer_key
    from memoryhole.analysis.tokens import Tokenizer
    from memoryhole.store.terms import encode_ids

    tokenizer = Tokenizer()
    tokenizer("预热")  # load the dictionary outside the count
    vocab: dict[str, int] = {}
    out = []
    for text in texts:
        terms = tokenizer(text)
        ids = [vocab.setdefault(t, len(vocab)) for t in sorted(terms)]
        out.append((encode_terms(terms), encode_ids(ids)))
    return out, list(vocab), tokenizer_key(tokenizer)


def ingest(
    store: Path,
    n: int,
    texts: list[str],
    flagged: list[bool],
    terms: list[tuple[str, bytes]],
    vocab: list[str],
    key: str,
) -> None:
    rng = np.random.default_rng(1)
    conn = sqlite3.connect(store)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    n_authors = max(1, n // 20)
    conn.executemany(
        "INSERT INTO authors (id, platform, raw_id, pseudonym) VALUES (?, 'weibo', ?, ?)",
        (
            (a + 1, f"u{a}", hashlib.sha256(f"a{a}".encode()).hexdigest()[:16])
            for a in range(n_authors)
        ),
    )
    conn.executemany(
        "INSERT INTO term_vocab (tokenizer, term_id, term) VALUES (?, ?, ?)",
        ((key, i, term) for i, term in enumerate(vocab)),
    )
    sha = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    hot = np.asarray(flagged)
    end = START + 30 * DAY
    for begin in range(0, n, CHUNK):
        m = min(CHUNK, n - begin)
        ids = np.arange(begin + 1, begin + m + 1)
        pick = rng.integers(0, len(texts), m)
        author = rng.integers(0, n_authors, m) + 1
        published = START + (ids - 1) * (30 * DAY / n) + rng.uniform(0, 30 * DAY / n, m)
        first_seen = published + rng.uniform(0, 600, m)
        u = rng.random(m)
        censored = u < np.where(hot[pick], 0.6, 0.03)
        deleted = ~censored & (u < np.where(hot[pick], 0.62, 0.05))
        removed_at = first_seen + rng.lognormal(math.log(2 * 3600), 1.0, m)
        seen_removed = removed_at + rng.uniform(0, 3600, m)
        gone = (censored | deleted) & (seen_removed <= end)
        alive = np.where(gone, np.maximum(seen_removed - 3600, first_seen), end)
        status = np.where(gone & censored, "censored", np.where(gone, "author_deleted", "live"))
        conn.executemany(
            "INSERT INTO posts (id, platform, post_id, author_pk, published_at, first_seen_at, "
            "text) VALUES (?, 'weibo', ?, ?, ?, ?, ?)",
            (
                (int(i), f"p{i}", int(a), float(p), float(f), texts[j])
                for i, a, p, f, j in zip(ids, author, published, first_seen, pick, strict=True)
            ),
        )
        conn.executemany(
            "INSERT INTO verdicts (post_pk, status, first_seen_at, last_seen_alive_at, "
            "first_seen_removed_at, signal, edited, checks, failures, history, updated_at) "
            "VALUES (?, ?, ?, ?, ?, '', 0, 3, 0, '[]', ?)",
            (
                (int(i), str(s), float(f), float(a), float(r) if g else None, float(a))
                for i, s, f, a, r, g in zip(
                    ids, status, first_seen, alive, seen_removed, gone, strict=True
                )
            ),
        )
        conn.executemany(
            "INSERT INTO post_terms (post_pk, tokenizer, text_sha256, terms) VALUES (?, ?, ?, ?)",
            ((int(i), key, sha[j], terms[j][0]) for i, j in zip(ids, pick, strict=True)),
        )
        conn.executemany(
            "INSERT INTO post_term_ids (post_pk, tokenizer, term_ids) VALUES (?, ?, ?)",
            ((int(i), key, terms[j][1]) for i, j in zip(ids, pick, strict=True)),
        )
        conn.commit()
    conn.execute("INSERT INTO observations (id, kind, status, sent_at, observed_at, received_at, "
                 "elapsed, method, url, response_headers, body_sha256, body_size, detail) "
                 "VALUES (1, 'check', 'live', ?, ?, ?, 0, 'GET', '', '[]', '', 0, '')",
                 (end, end, end))  # fmt: skip
    conn.commit()
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--pool", type=int, default=100_000, help="distinct texts tokenised")
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="make the study here (reused if it exists)")
    parser.add_argument("--profile", type=Path, help="cProfile the analysis phases into FILE")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also time the term counts post by post (TermIndex.build) and with pyarrow, "
        "and check that all three agree",
    )
    args = parser.parse_args()

    from memoryhole.analysis.study_data import StudyData
    from memoryhole.analysis.tables import survival_table, terms_table, timeline_table
    from memoryhole.study import Study

    root = args.keep or Path(tempfile.mkdtemp(prefix="memoryhole-scale-"))
    results: list[tuple[str, float, float]] = []
    print(f"{args.posts:,} posts, pool {args.pool:,} texts; {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f} at start", flush=True)  # fmt: skip
    study_path = root / f"study-{args.posts}"
    if not (study_path / "store.sqlite").exists():
        texts, flagged = make_pool(args.pool, seed=3)
        chars = sum(map(len, texts)) / len(texts)
        terms, vocab, key = phase("tokenise", results, lambda: tokenise(texts))
        per_post = sum(len(ids) / 4 for _, ids in terms) / len(terms)
        rate = len(texts) / results[-1][1]
        minutes = args.posts / rate / 60
        print(f"    {rate:,.0f} posts/s ({chars:.0f} chars, {per_post:.0f} terms a post): "
              f"{minutes:,.1f} min for {args.posts:,} posts on one core")  # fmt: skip
        study = Study.init(study_path)
        study.close()
        store = study_path / "store.sqlite"
        phase(
            "ingest",
            results,
            lambda: ingest(store, args.posts, texts, flagged, terms, vocab, key),
        )
        print(f"    store {store.stat().st_size / 1e9:.1f} GB", flush=True)
        del texts, terms, vocab
    else:
        print(f"  reusing {study_path}")
    study = Study.open(study_path)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    data = phase("load", results, lambda: StudyData.load(study))
    terms_frame = phase("terms", results, lambda: terms_table(data, min_posts=20))
    _curves, summary = phase(
        "survival", results, lambda: survival_table(data, bootstrap=args.bootstrap)
    )
    timeline = phase("timeline", results, lambda: timeline_table(data, bin="day"))
    if args.reference:
        from memoryhole.analysis.terms import TermIndex

        def check(index: TermIndex) -> dict[str, list[int]]:
            return {t: index.counts[:, i].tolist() for i, t in enumerate(index.vocab)}

        fast = check(data.term_counts())
        arrow = phase(
            "arrow",
            results,
            lambda: TermIndex.from_stored(
                data.iter_stored_terms(), data.posts["verdict"].tolist(), keep_incidence=True
            ),
        )
        slow = phase(
            "reference", results, lambda: TermIndex.build(data.records(), keep_incidence=False)
        )
        same = check(arrow) == fast == check(slow)
        print(f"  term counts: DuckDB, pyarrow (with incidence) and post by post agree: {same}")
        if not same:
            return 1
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    analysis = [r for r in results if r[0] in ("load", "terms", "survival", "timeline")]
    total = sum(s for _, s, _ in analysis)
    print(f"analysis (load + terms + survival + timeline): {total:.1f} s, peak "
          f"{max(p for _, _, p in analysis):.0f} MB")  # fmt: skip
    significant = int((terms_frame["q_value"] < 0.05).sum())
    print(f"  {data.n_posts:,} posts; {len(terms_frame):,} terms with >= 20 posts, "
          f"{significant:,} with q < 0.05; censored median "
          f"{summary['median'].iloc[0] / 3600:.2f} h (n = {summary['n'].iloc[0]:,}); "
          f"{len(timeline)} days")  # fmt: skip
    study.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
