"""A run against a loopback server that answers with real captured bodies at the real API paths
discovers every post those bodies hold and claims no removal (issue 20, "Done when").

The server knows only the recorded answers (matched by path, and by ``containerid`` for Weibo's
one listing path); anything else it answers 404, as an unknown path would. ``memoryhole run``
goes through its real transport, adapters and store. The samples in ``tests/data/real/holdout``
were kept out of the adapters' development (their expected counts were written down by whoever
collected them, from reading the bodies); the development samples run too.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.platforms.real_samples import REAL, SAMPLES

HOLDOUT = REAL / "holdout"


@dataclass(frozen=True)
class Recorded:
    name: str
    platform: str
    path: str
    container: str | None
    status: int
    headers: list[list[str]]
    body: bytes
    expected_posts: int
    target: str


def _target(meta: dict[str, Any], path: str, query: dict[str, list[str]]) -> str:
    platform = str(meta["platform"])
    if platform == "weibo":
        return f"weibo:user/{query['containerid'][0][len('107603') :]}"
    if platform == "reddit":
        parts = [p for p in canonical_path(path).split("/") if p]
        if parts[0] in ("user", "u"):
            kind = {"submitted": "user", "comments": "user-comments", "overview": "user-all"}
            return f"reddit:{kind[parts[2]]}/{parts[1]}"
        return f"reddit:{'comments' if 'comments' in parts[2] else 'r'}/{parts[1]}"
    if platform == "bluesky":
        return f"bluesky:actor/{query['actor'][0]}"
    if platform == "telegram":  # t.me/s/<channel>
        return f"telegram:channel/{path.strip('/').split('/')[1]}"
    if platform == "youtube":  # /feeds/videos.xml?channel_id=… (or a legacy ?user=…)
        if "channel_id" in query:
            return f"youtube:channel/{query['channel_id'][0]}"
        return f"youtube:user/{query['user'][0]}"
    if "/timelines/public" in path:
        local = query.get("local", ["false"])[0] == "true"
        return "mastodon:local" if local else "mastodon:public"
    if "/timelines/tag/" in path:
        return f"mastodon:tag/{path.rsplit('/', 1)[1]}"
    return f"mastodon:account/{path.split('/')[4]}"


def canonical_path(path: str) -> str:
    """One spelling per listing: Reddit answers ``/x`` and ``/x.json`` alike (``www`` and
    ``oauth`` hosts), and ``/user/NAME/`` is that account's overview."""
    path = path.removesuffix(".json").rstrip("/")
    parts = path.split("/")
    if len(parts) == 3 and parts[1] in ("user", "u"):
        path += "/overview"
    return path


def recorded(directory: Path, names: list[str]) -> list[Recorded]:
    found = []
    for name in names:
        meta = json.loads((directory / f"{name}.meta.json").read_text(encoding="utf-8"))
        url = urlsplit(str(meta["url"]))
        query = parse_qs(url.query)
        found.append(
            Recorded(
                name=name,
                platform=str(meta["platform"]),
                path=canonical_path(url.path),
                container=query.get("containerid", [None])[0],
                status=int(meta["status"]),
                headers=[list(map(str, pair)) for pair in meta.get("headers") or []],
                body=(directory / f"{name}.body").read_bytes(),
                expected_posts=int(meta["expected_posts"]),
                target=_target(meta, url.path, query),
            )
        )
    return found


def holdout_names() -> list[str]:
    if not HOLDOUT.is_dir():
        return []
    return sorted(p.name[: -len(".meta.json")] for p in HOLDOUT.glob("*.meta.json"))


#: Development samples of a listing, with the number of posts their README says they hold.
DEVELOPMENT = {
    "wb_timeline_2019_dilireba": 10,
    "mast_public_tl_anon": 8,
    "mast_tag_tl": 1,
    "bsky_authorfeed_page_cursor": 43,
    "tg_s_channel_page_durov": 20,
    "yt_rss_feed_user_kurzgesagt": 15,
}


def development() -> list[Recorded]:
    items = []
    for name, count in DEVELOPMENT.items():
        meta = json.loads((SAMPLES / f"{name}.meta.json").read_text(encoding="utf-8"))
        meta["expected_posts"] = count
        url = urlsplit(str(meta["url"]))
        query = parse_qs(url.query)
        items.append(
            Recorded(
                name=name,
                platform=str(meta["platform"]),
                path=canonical_path(url.path),
                container=query.get("containerid", [None])[0],
                status=int(meta["status"]),
                headers=[list(map(str, pair)) for pair in meta.get("headers") or []],
                body=(SAMPLES / f"{name}.body").read_bytes(),
                expected_posts=count,
                target=_target(meta, url.path, query),
            )
        )
    return items


class Replay:
    """A loopback HTTP server answering recorded requests with their recorded answers."""

    def __init__(self, answers: list[Recorded]) -> None:
        self.answers = answers
        self.asked: list[str] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                replay.asked.append(self.path)
                url = urlsplit(self.path)
                container = parse_qs(url.query).get("containerid", [None])[0]
                for answer in replay.answers:
                    if answer.path == canonical_path(url.path) and answer.container == container:
                        self._answer(answer.status, answer.headers, answer.body)
                        return
                self._answer(404, [["Content-Type", "text/html"]], b"<h1>Not Found</h1>")

            def _answer(self, status: int, headers: list[list[str]], body: bytes) -> None:
                self.send_response(status)
                skip = {"content-length", "transfer-encoding", "content-encoding", "connection"}
                for name, value in headers:
                    if name.lower() not in skip:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def memoryhole(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memoryhole", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def run_against(tmp_path: Path, answers: list[Recorded]) -> list[dict[str, Any]]:
    study = str(tmp_path / "study")
    assert memoryhole("init", study).returncode == 0
    replay = Replay(answers)
    try:
        for answer in answers:
            url = replay.base_url
            watched = memoryhole("watch", answer.target, "--base-url", url, "--study", study)
            assert watched.returncode == 0, watched.stderr + watched.stdout
        ran = memoryhole("run", "--for", "4s", "--study", study)
        assert ran.returncode == 0, ran.stderr + ran.stdout
        assert "cannot connect" not in ran.stdout
    finally:
        replay.close()
    out = tmp_path / "exported"
    exported = memoryhole("export", "csv", str(out), "--study", study)
    assert exported.returncode == 0, exported.stderr
    with (out / "verdicts.csv").open(encoding="utf-8", newline="") as table:
        return list(csv.DictReader(table))


def check_everything_found_nothing_claimed(
    rows: list[dict[str, Any]], answers: list[Recorded]
) -> None:
    by_platform: dict[str, int] = {}
    for row in rows:
        by_platform[row["platform"]] = by_platform.get(row["platform"], 0) + 1
    for platform in {a.platform for a in answers}:
        expected = sum(a.expected_posts for a in answers if a.platform == platform)
        assert by_platform.get(platform, 0) == expected, (platform, by_platform, expected)
    removed = [row for row in rows if row["verdict"] != "live"]
    assert removed == [], "a recorded timeline claims no removal"


@pytest.mark.slow
def test_the_development_samples_replayed_at_their_paths(tmp_path: Path) -> None:
    answers = development()
    check_everything_found_nothing_claimed(run_against(tmp_path, answers), answers)


@pytest.mark.slow
@pytest.mark.parametrize("name", holdout_names())
def test_each_held_out_sample_replayed_at_its_path(tmp_path: Path, name: str) -> None:
    answers = recorded(HOLDOUT, [name])
    check_everything_found_nothing_claimed(run_against(tmp_path, answers), answers)


def test_the_held_out_set_covers_the_three_real_listings() -> None:
    platforms = {name.split("_")[0] for name in holdout_names()}
    assert {"wb", "rd", "mast", "bsky", "tg", "yt"} <= platforms, holdout_names()
