"""A large synthetic study written straight into a study's SQLite store, for measuring the
dashboard's figures (``benchmarks/dashboard_scale.py``): posts with real Chinese text (the
simulator's reviews with censor keywords put in), their authors, verdicts and every check as
an observation row, in bulk inserts, chunk by chunk (never the whole study in memory).

Each post is checked ``checks`` times at a doubling back-off from a minute after publication
(``published + 60 * 2^j``); a removal (censored more often when the text holds a hot
keyword; a suspended author's posts all ``account_suspended``) happens an exponential time
after publication, and the verdict's ``last_seen_alive_at``/``first_seen_removed_at`` are the
checks around it (a removal after the last check is never seen: the post stays live). The
observations carry no leaf hashes and no checkpoint covers them: the figures never read
them, and hashing 10^8 leaves would measure the hash log, not the dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from memoryhole.sim.policy import DEFAULT_POLICY_PATH
from memoryhole.study import Study

START: Final = 1_767_225_600.0  # 2026-01-01 UTC
SPAN: Final = 30 * 86400.0
BASE_URL: Final = "http://simulator.invalid"
KINDS: Final = ("censored", "author_deleted", "account_suspended")
_CODES: Final = {"censored": "20112", "author_deleted": "20101", "account_suspended": "20003"}
_SHA: Final = "0" * 64
#: Texts with a keyword are one of the first this many reviews and the keyword: about 70,000
#: distinct texts however many posts, so the term cache can be filled by tokenising each
#: distinct text once (:func:`fill_term_cache`).
_WORDED: Final = 100


@dataclass(frozen=True)
class StudySpec:
    posts: int
    checks: int = 10  # observations per post (a removed post stops at its removal)
    authors: int = 0  # 0: one per ten posts
    seed: int = 7
    chunk: int = 100_000
    platforms: tuple[str, ...] = ("weibo",)


def _texts() -> tuple[list[str], list[str]]:
    data = DEFAULT_POLICY_PATH.parent
    reviews = [
        line.strip()[:120]
        for line in (data / "reviews.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    words: list[str] = []
    for path in sorted((data / "keywords").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and len(line) <= 8:
                words.append(line)
    return reviews, words


def generate_study(
    path: Path, spec: StudySpec, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Write the study at ``path`` (a new study folder). Returns (posts, observations)."""
    study = Study.init(path)
    study.set_base_url("weibo", BASE_URL)
    reviews, keywords = _texts()
    hot = keywords[: max(1, len(keywords) // 20)]
    rng = np.random.default_rng(spec.seed)
    n_authors = spec.authors or max(10, spec.posts // 10)
    suspended = np.zeros(n_authors, dtype=bool)
    suspended[rng.choice(n_authors, max(1, n_authors // 200), replace=False)] = True
    raw = study.engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute(
        "INSERT INTO targets (id, platform, spec, kind, key, added_at, cursor, next_poll_at, "
        "active) VALUES (1, 'weibo', 'weibo:all', 'all', '', ?, NULL, 0, 1)",
        (START,),
    )
    step = 50_000
    for low in range(0, n_authors, step):
        cursor.executemany(
            "INSERT INTO authors (id, platform, raw_id, pseudonym) VALUES (?, 'weibo', ?, ?)",
            [
                (a + 1, str(1_000_000 + a), study.pseudonym("weibo", str(1_000_000 + a)))
                for a in range(low, min(n_authors, low + step))
            ],
        )
    back_off = 60.0 * 2.0 ** np.arange(spec.checks)
    next_obs = 1
    done = 0
    while done < spec.posts:
        m = min(spec.chunk, spec.posts - done)
        crng = np.random.default_rng([spec.seed, done])
        pk = np.arange(done + 1, done + m + 1, dtype=np.int64)
        published = START + SPAN * (pk - 1) / spec.posts
        author = crng.integers(0, n_authors, m)
        hot_word = crng.random(m) < 0.05
        other_word = crng.random(m) < 0.15
        roll = crng.random(m)
        p_censor = 0.04 + 0.45 * hot_word + 0.15 * (hot_word | other_word)
        kind = np.full(m, "", dtype=object)
        kind[roll < p_censor + 0.05] = "author_deleted"
        kind[roll < p_censor] = "censored"
        kind[suspended[author]] = "account_suspended"
        removed_after = crng.exponential(3600.0, m) + 30.0
        first_seen = published + crng.uniform(5, 60, m)
        times = published[:, None] + back_off[None, :]  # check j of post i
        seen_removed = (kind != "")[:, None] & (back_off[None, :] >= removed_after[:, None])
        first_removed = np.where(seen_removed.any(axis=1), seen_removed.argmax(axis=1), -1)
        n_checks = np.where(first_removed >= 0, first_removed + 1, spec.checks)
        status = np.where(first_removed >= 0, kind, "live").astype(object)
        edited = (status == "live") & (crng.random(m) < 0.02)
        status[edited] = "edited"
        alive_index = np.where(first_removed >= 0, first_removed - 1, spec.checks - 1)
        rows = np.arange(m)
        last_alive = np.where(alive_index >= 0, times[rows, alive_index.clip(0)], np.nan)
        removed_at = np.where(first_removed >= 0, times[rows, first_removed.clip(0)], np.nan)
        picks = crng.integers(0, len(reviews), m)
        worded = crng.integers(0, min(_WORDED, len(reviews)), m)
        hot_pick = crng.integers(0, len(hot), m)
        other_pick = crng.integers(0, len(keywords), m)
        texts = [
            reviews[int(worded[i])] + "，" + hot[int(hot_pick[i])]
            if hot_word[i]
            else reviews[int(worded[i])] + "，" + keywords[int(other_pick[i])]
            if other_word[i]
            else reviews[int(picks[i])]
            for i in range(m)
        ]
        platform = np.asarray(spec.platforms, dtype=object)[
            crng.integers(0, len(spec.platforms), m)
        ]
        post_ids = [str(4_900_000_000_000_000 + int(p)) for p in pk]
        cursor.executemany(
            "INSERT INTO posts (id, platform, post_id, author_pk, target_pk, published_at, "
            "first_seen_at, text) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
            list(
                zip(
                    pk.tolist(),
                    platform.tolist(),
                    post_ids,
                    (author + 1).tolist(),
                    published.tolist(),
                    first_seen.tolist(),
                    texts,
                    strict=True,
                )
            ),
        )
        last_alive_l = [None if np.isnan(v) else v for v in last_alive.tolist()]
        removed_l = [None if np.isnan(v) else v for v in removed_at.tolist()]
        cursor.executemany(
            "INSERT INTO verdicts (post_pk, status, first_seen_at, last_seen_alive_at, "
            "first_seen_removed_at, signal, edited, content_hash, checks, failures, history, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, 0, '[]', ?)",
            list(
                zip(
                    pk.tolist(),
                    status.tolist(),
                    first_seen.tolist(),
                    last_alive_l,
                    removed_l,
                    [_CODES.get(s, "visible") for s in status.tolist()],
                    edited.tolist(),
                    n_checks.tolist(),
                    times[rows, n_checks - 1].tolist(),
                    strict=True,
                )
            ),
        )
        # Observations: check j of post i for j < n_checks[i], in time order per chunk.
        owner = np.repeat(rows, n_checks)
        seq = np.arange(owner.size) - np.repeat(np.cumsum(n_checks) - n_checks, n_checks)
        at = times[owner, seq]
        order = np.argsort(at, kind="stable")
        owner, seq, at = owner[order], seq[order], at[order]
        is_removal = seq == first_removed[owner]
        obs_status = np.where(is_removal, kind[owner], "live").tolist()
        ids = range(next_obs, next_obs + owner.size)
        urls = [f"{BASE_URL}/statuses/show?id={post_ids[i]}" for i in owner.tolist()]
        codes = [_CODES.get(s) for s in obs_status]
        at_l = at.tolist()
        cursor.executemany(
            "INSERT INTO observations (id, kind, post_pk, seq, status, sent_at, observed_at, "
            "received_at, elapsed, method, url, http_status, response_headers, body_sha256, "
            "body_size, code, detail) VALUES (?, 'check', ?, ?, ?, ?, ?, ?, 0.2, 'GET', ?, 200, "
            "'[]', ?, 300, ?, ?)",
            list(
                zip(
                    ids,
                    pk[owner].tolist(),
                    (seq + 1).tolist(),
                    obs_status,
                    at_l,
                    at_l,
                    at_l,
                    urls,
                    [_SHA] * owner.size,
                    codes,
                    ["visible" if c is None else c for c in codes],
                    strict=True,
                )
            ),
        )
        next_obs += owner.size
        done += m
        raw.commit()
        if progress:
            progress(done, spec.posts)
    raw.commit()
    raw.close()
    study.close()
    return spec.posts, next_obs - 1


def fill_term_cache(path: Path, tokenizer: Any, chunk: int = 200_000) -> int:
    """The study's term cache for ``tokenizer`` (as ``analysis.cache.refresh_terms`` writes
    it: ``post_terms``, ``post_term_ids``, ``term_vocab``), tokenising each distinct text
    once and writing in bulk: minutes for ten million generated posts, not hours. Only for a
    study whose cache for this tokenizer is empty. Returns the posts cached."""
    import hashlib

    from memoryhole.analysis.cache import encode_terms, tokenizer_key
    from memoryhole.store.terms import encode_ids

    key = tokenizer_key(tokenizer)
    study = Study.open(path)
    raw = study.engine.raw_connection()
    reader = study.engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    vocabulary: dict[str, int] = {}
    encoded: dict[str, tuple[str, str, bytes]] = {}
    done = 0
    last = 0
    while True:
        rows = (
            reader.cursor()
            .execute("SELECT id, text FROM posts WHERE id > ? ORDER BY id LIMIT ?", (last, chunk))
            .fetchall()
        )
        if not rows:
            break
        last = int(rows[-1][0])
        term_rows: list[tuple[int, str, str, str]] = []
        id_rows: list[tuple[int, str, bytes]] = []
        for pk, text in rows:
            found = encoded.get(text)
            if found is None:
                terms = tokenizer(text)
                ids = [vocabulary.setdefault(t, len(vocabulary)) for t in sorted(terms)]
                found = encoded[text] = (
                    hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    encode_terms(terms),
                    encode_ids(ids),
                )
            term_rows.append((pk, key, found[0], found[1]))
            id_rows.append((pk, key, found[2]))
        cursor.executemany(
            "INSERT INTO post_terms (post_pk, tokenizer, text_sha256, terms) VALUES (?, ?, ?, ?)",
            term_rows,
        )
        cursor.executemany(
            "INSERT INTO post_term_ids (post_pk, tokenizer, term_ids) VALUES (?, ?, ?)", id_rows
        )
        raw.commit()
        done += len(rows)
    cursor.executemany(
        "INSERT INTO term_vocab (tokenizer, term_id, term) VALUES (?, ?, ?)",
        [(key, i, term) for term, i in vocabulary.items()],
    )
    raw.commit()
    raw.close()
    reader.close()
    study.close()
    return done


def write_meta(path: Path, spec: StudySpec, posts: int, observations: int, seconds: float) -> None:
    (path / "bench-study.json").write_text(
        json.dumps(
            {"posts": posts, "observations": observations, "checks": spec.checks, "s": seconds}
        )
        + "\n"
    )
