"""p95 response time of every dashboard page on a generated large study (target: <= 200 ms).

    .venv/bin/python benchmarks/web_pages.py [--posts 1000000] [--dir /tmp/memoryhole-web-bench]
                                             [--requests 40] [--reuse]

Generates a study of ``--posts`` posts written straight into the store (the collector's path
would take hours at this size): ~100k authors, ~3 checks per post plus the listings that found
them, every observation with its canonical leaf hash and one signed checkpoint over them all,
so the evidence pages see a real log. Raw response bodies are written for a sample of posts
only (a million small files would measure the file system, not the dashboard); the post pages
timed are drawn from that sample. Removal rates depend on censor keywords in the text.

Then starts ``memoryhole serve`` on 127.0.0.1, waits until its figure cache is warm, requests
every page ``--requests`` times (the removals feed and the post page with varying filters and
posts) and prints p50, p95 and max per page, plus how long generation and warm-up took.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from memoryhole.evidence.leaf import canonical_bytes, leaf_record
from memoryhole.evidence.log import checkpoint_row, sign_checkpoint
from memoryhole.evidence.merkle import MerkleLog, leaf_hash
from memoryhole.sim.platform import ERRORS, created_at
from memoryhole.sim.policy import DEFAULT_POLICY_PATH
from memoryhole.store.schema import checkpoints
from memoryhole.study import Study

BASE_URL = "http://simulator.invalid"
START = 1_767_225_600.0  # 2026-01-01 UTC
SPAN = 30 * 86400.0
HEADERS = '[["content-type", "application/json; charset=utf-8"]]'
SIM_DATA = DEFAULT_POLICY_PATH.parent
KEYWORDS_DIR = SIM_DATA / "keywords"
REVIEWS_PATH = SIM_DATA / "reviews.txt"
REMOVAL_CODES = {"censored": "20112", "author_deleted": "20101", "account_suspended": "20003"}
DETAILS = {
    "censored": "permission denied (20112): removed by platform",
    "author_deleted": "does not exist (20101): deleted by author",
    "account_suspended": "user does not exist (20003)",
}


def _removal_body(kind: str) -> bytes:
    code, message = ERRORS[kind]
    return json.dumps({"ok": 0, "errno": code, "msg": message}, ensure_ascii=False).encode()


def _visible_body(post_id: str, author: str, published: float, text: str) -> bytes:
    mblog = {
        "created_at": created_at(published),
        "id": post_id,
        "mid": post_id,
        "text": text,
        "user": {"id": int(author), "screen_name": f"用户{author[-6:]}"},
    }
    return b'{"ok":1,"data":' + json.dumps(mblog, ensure_ascii=False).encode() + b"}"


def _keywords() -> list[str]:
    words: list[str] = []
    for path in sorted(KEYWORDS_DIR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and len(line) <= 8:
                words.append(line)
    return words


def generate(path: Path, n_posts: int, seed: int = 7, blob_sample: int = 4000) -> list[str]:
    """Write a study of ``n_posts`` posts at ``path``; returns the post ids with raw bodies."""
    rng = random.Random(seed)
    study = Study.init(path)
    study.set_base_url("weibo", BASE_URL)
    reviews = [
        line.strip()
        for line in REVIEWS_PATH.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    keywords = _keywords()
    hot = keywords[: max(1, len(keywords) // 20)]
    n_authors = max(10, n_posts // 10)
    suspended = set(rng.sample(range(n_authors), max(1, n_authors // 200)))
    raw = study.engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute(
        "INSERT INTO targets (platform, spec, kind, key, added_at, cursor, next_poll_at, active) "
        "VALUES ('weibo', 'weibo:all', 'all', '', ?, NULL, 0, 1)",
        (START,),
    )
    for uid in range(3):
        key = str(1_000_000 + uid)
        cursor.execute(
            "INSERT INTO targets (platform, spec, kind, key, added_at, cursor, next_poll_at, "
            "active) VALUES ('weibo', ?, 'user', ?, ?, NULL, 0, 1)",
            (f"weibo:user/{key}", key, START),
        )
    cursor.executemany(
        "INSERT INTO authors (id, platform, raw_id, pseudonym) VALUES (?, 'weibo', ?, ?)",
        [
            (a + 1, str(1_000_000 + a), study.pseudonym("weibo", str(1_000_000 + a)))
            for a in range(n_authors)
        ],
    )
    removal_blobs = {kind: _removal_body(kind) for kind in REMOVAL_CODES}
    for body in removal_blobs.values():
        study.blobs.put(hashlib.sha256(body).hexdigest(), body)
    sample = set(rng.sample(range(n_posts), min(blob_sample, n_posts)))
    sampled_ids: list[str] = []
    log = MerkleLog()
    next_obs = 1
    post_rows: list[tuple[Any, ...]] = []
    verdict_rows: list[tuple[Any, ...]] = []
    obs_rows: list[tuple[Any, ...]] = []
    listing_sha = hashlib.sha256(b"listing").hexdigest()

    def observation(
        kind: str,
        post_pk: int | None,
        seq: int | None,
        status: str,
        at: float,
        url: str,
        body_sha: str,
        size: int,
        chash: str | None,
        code: str | None,
        detail: str,
        post_id: str | None,
    ) -> None:
        nonlocal next_obs
        row = {
            "id": next_obs,
            "kind": kind,
            "seq": seq,
            "status": status,
            "sent_at": at,
            "observed_at": at + 0.2,
            "received_at": at + 0.2,
            "elapsed": 0.2,
            "method": "GET",
            "url": url,
            "http_status": 200,
            "response_headers": HEADERS,
            "body_sha256": body_sha,
            "body_size": size,
            "content_hash": chash,
            "code": code,
            "detail": detail,
            "error": None,
        }
        hashed = leaf_hash(canonical_bytes(leaf_record(row, "weibo", post_id)))
        log.append(hashed)
        obs_rows.append(
            (
                next_obs,
                kind,
                post_pk,
                1 if kind == "discover" else None,
                seq,
                status,
                at,
                at + 0.2,
                at + 0.2,
                0.2,
                "GET",
                url,
                200,
                HEADERS,
                body_sha,
                size,
                chash,
                code,
                detail,
                None,
                hashed,
            )
        )
        next_obs += 1

    def flush() -> None:
        cursor.executemany(
            "INSERT INTO posts (id, platform, post_id, author_pk, target_pk, published_at, "
            "first_seen_at, text, discovered_by) VALUES (?, 'weibo', ?, ?, 1, ?, ?, ?, ?)",
            post_rows,
        )
        cursor.executemany(
            "INSERT INTO observations (id, kind, post_pk, target_pk, seq, status, sent_at, "
            "observed_at, received_at, elapsed, method, url, http_status, response_headers, "
            "body_sha256, body_size, content_hash, code, detail, error, leaf_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            obs_rows,
        )
        cursor.executemany(
            "INSERT INTO verdicts (post_pk, status, first_seen_at, last_seen_alive_at, "
            "first_seen_removed_at, signal, edited, content_hash, checks, failures, history, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            verdict_rows,
        )
        post_rows.clear()
        obs_rows.clear()
        verdict_rows.clear()

    listing_obs = 0
    for i in range(n_posts):
        pk = i + 1
        published = START + SPAN * i / n_posts
        author = rng.randrange(n_authors)
        author_id = str(1_000_000 + author)
        text = rng.choice(reviews)[:120]
        words = rng.sample(hot, 1) if rng.random() < 0.05 else []
        if rng.random() < 0.15:
            words.append(rng.choice(keywords))
        for word in words:
            cut = rng.randrange(len(text) + 1)
            text = text[:cut] + word + text[cut:]
        if i % 50 == 0:
            listing_obs = next_obs
            url = f"{BASE_URL}/api/container/getIndex?containerid=102803&count=50"
            observation(
                "discover",
                None,
                None,
                "live",
                published,
                url,
                listing_sha,
                20_000,
                None,
                None,
                "50 posts listed",
                None,
            )
        p_censor = 0.04 + (0.45 if words and words[0] in hot else 0.0) + 0.15 * (len(words) > 0)
        roll = rng.random()
        kind: str | None = None
        if author in suspended:
            kind = "account_suspended"
        elif roll < p_censor:
            kind = "censored"
        elif roll < p_censor + 0.05:
            kind = "author_deleted"
        edited = kind is None and rng.random() < 0.02
        post_id = str(4_900_000_000_000_000 + i)
        first_seen = published + rng.uniform(5, 60)
        post_rows.append((pk, post_id, author + 1, published, first_seen, text, listing_obs))
        checks = rng.randint(2, 4)
        check_url = f"{BASE_URL}/statuses/show?id={post_id}"
        body = _visible_body(post_id, author_id, published, text)
        body_sha = hashlib.sha256(body).hexdigest()
        if i in sample:
            study.blobs.put(body_sha, body)
            sampled_ids.append(post_id)
        chash = hashlib.sha256(text.encode()).hexdigest()
        removed_after = rng.expovariate(1 / 3600.0) + 60 if kind else None
        at = first_seen + 60
        last_alive: float | None = None
        removed_at: float | None = None
        history: list[list[Any]] = [[first_seen, "live"]]
        for seq in range(1, checks + 1):
            if kind and removed_after is not None and at - published >= removed_after:
                rbody = removal_blobs[kind]
                observation(
                    "check",
                    pk,
                    seq,
                    kind,
                    at,
                    check_url,
                    hashlib.sha256(rbody).hexdigest(),
                    len(rbody),
                    None,
                    REMOVAL_CODES[kind],
                    DETAILS[kind],
                    post_id,
                )
                removed_at = at + 0.2
                history.append([removed_at, kind])
                break
            observation(
                "check",
                pk,
                seq,
                "live",
                at,
                check_url,
                body_sha,
                len(body),
                chash,
                None,
                "visible",
                post_id,
            )
            last_alive = at
            at += max(60.0, (at - published) / 2)
        if kind and removed_at is None:
            rbody = removal_blobs[kind]
            at = max(at, published + (removed_after or 0) + 1)
            observation(
                "check",
                pk,
                checks + 1,
                kind,
                at,
                check_url,
                hashlib.sha256(rbody).hexdigest(),
                len(rbody),
                None,
                REMOVAL_CODES[kind],
                DETAILS[kind],
                post_id,
            )
            removed_at = at + 0.2
            history.append([removed_at, kind])
            checks += 1
        status = kind or ("edited" if edited else "live")
        verdict_rows.append(
            (
                pk,
                status,
                first_seen,
                last_alive,
                removed_at,
                DETAILS.get(kind or "", "visible"),
                edited,
                None if kind else chash,
                checks,
                json.dumps(history),
                at,
            )
        )
        if len(post_rows) >= 20_000:
            flush()
    flush()
    raw.commit()
    raw.close()
    size, root, note = sign_checkpoint(study.signing_key(), study.log_origin, log)
    with study.engine.begin() as conn:
        conn.execute(checkpoints.insert(), checkpoint_row(size, root, note))
    study.close()
    return sampled_ids


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pages(rng: random.Random, sample: list[str], requests: int) -> dict[str, list[str]]:
    posts = [f"/post/weibo/{quote(rng.choice(sample), safe='')}" for _ in range(requests)]
    feeds = [
        "/removals",
        "/removals?kind=censored",
        "/removals?kind=author_deleted&platform=weibo",
        "/removals?term=%E5%85%AD%E5%9B%9B",
        "/removals?since=2026-01-10&until=2026-01-20",
    ]
    return {
        "overview /": ["/"] * requests,
        "overview live fragment": ["/fragments/live"] * requests,
        "removals feed (filters vary)": [feeds[i % len(feeds)] for i in range(requests)],
        "post page": posts,
        "terms": [
            ["/terms", "/terms?q=%E5%85%AD", "/terms?sort=posts&order=desc", "/terms?page=2"][i % 4]
            for i in range(requests)
        ],
        "speed": ["/speed"] * requests,
        "accounts": [
            ["/accounts", "/accounts?suspended=1", "/accounts?page=3"][i % 3]
            for i in range(requests)
        ],
        "platforms": ["/platforms"] * requests,
        "atom feed": [["/feed.atom", "/feed.atom?kind=censored"][i % 2] for i in range(requests)],
        "chart: removals over time": ["/charts/removals.json"] * requests,
        "chart: terms": ["/charts/terms.json"] * requests,
        "chart: speed": ["/charts/speed.json"] * requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/memoryhole-web-bench"))
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="keep an existing generated study")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    study_dir = args.dir / f"study-{args.posts}"
    sample_file = args.dir / f"sample-{args.posts}.json"
    if not (args.reuse and sample_file.exists()):
        shutil.rmtree(study_dir, ignore_errors=True)
        args.dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        sample = generate(study_dir, args.posts, args.seed)
        sample_file.write_text(json.dumps(sample))
        print(f"generated {args.posts:,} posts in {time.perf_counter() - started:.0f} s")
    sample = json.loads(sample_file.read_text())
    size = sum(f.stat().st_size for f in study_dir.glob("store.sqlite*"))
    print(f"study: {study_dir} ({size / 1e6:,.0f} MB of database)")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "memoryhole",
            "serve",
            "--study",
            str(study_dir),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        with httpx.Client(base_url=base, timeout=120.0) as client:
            while True:
                try:
                    status = client.get("/healthz").json()
                except httpx.TransportError:
                    status = {}
                if status.get("warm"):
                    break
                if time.perf_counter() - started > 1800 or server.poll() is not None:
                    raise SystemExit(f"the server did not warm up: {status}")
                time.sleep(1.0)
            print(f"figure cache warm after {time.perf_counter() - started:.0f} s: {status}")
            rng = random.Random(args.seed)
            print(f"\n{'page':32} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'KB':>6}")
            worst = 0.0
            for name, urls in _pages(rng, sample, args.requests).items():
                client.get(urls[0])  # first request warms per-page caches (jinja, sqlite pages)
                times: list[float] = []
                kb = 0.0
                for url in urls:
                    t0 = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{url}: HTTP {response.status_code}")
                    kb = len(response.content) / 1024
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                worst = max(worst, p95)
                print(
                    f"{name:32} {len(times):4d} {statistics.median(times):8.1f} {p95:8.1f} "
                    f"{times[-1]:8.1f} {kb:6.0f}"
                )
            print(f"\nworst p95: {worst:.1f} ms (target <= 200 ms)")
            verify = f"/verify/weibo/{quote(sample[0], safe='')}"
            for label in ("first", "second"):
                t0 = time.perf_counter()
                client.get(verify)
                print(
                    f"evidence verification fragment ({label} call): "
                    f"{(time.perf_counter() - t0) * 1000:,.0f} ms"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
