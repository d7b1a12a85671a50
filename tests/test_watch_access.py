"""``memoryhole watch`` says at once when a target needs a token its platform wants: a Mastodon
timeline its instance closes to logged-out visitors (mastodon.social's real ``/api/v2/instance``
answer), and nothing alarming for the simulator, whose timelines are public, or when nothing
answers the question."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from memoryhole.clock import VirtualClock
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.platform import SimPlatform
from memoryhole.study import Study
from tests.platforms.real_samples import sample
from tests.test_cli import memoryhole

Answer = tuple[int, tuple[tuple[str, str], ...], bytes]


@contextmanager
def serving(answer: Callable[[str, dict[str, str]], Answer]) -> Iterator[tuple[str, list[str]]]:
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            url = urlsplit(self.path)
            status, headers, body = answer(url.path, dict(parse_qsl(url.query)))
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()


def said(result: object) -> str:
    return " ".join(str(getattr(result, "stdout", "")).split())


def test_watching_mastodon_socials_closed_timelines_says_so_and_what_to_do(tmp_path: Path) -> None:
    real = sample("mast_social_instance_v2")

    def instance(path: str, _: dict[str, str]) -> Answer:
        if path == "/api/v2/instance":
            return real.status or 200, real.headers, real.body
        return 404, (("Content-Type", "text/html"),), b"<h1>Not Found</h1>"

    study = str(tmp_path / "s")
    assert memoryhole("init", study).returncode == 0
    with serving(instance) as (url, asked):
        result = memoryhole(
            "watch", "mastodon:local", "mastodon:public", "mastodon:tag/news",
            "mastodon:account/13179", "--base-url", url, "--study", study,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = said(result)
    assert "watching mastodon:local" in out and "watching mastodon:account/13179" in out
    assert "mastodon:local is closed on mastodon.social to all but its staff" in out
    assert "mastodon:public is closed on mastodon.social" in out
    assert "watch mastodon:account/<account id> or mastodon:tag/<hashtag> instead" in out
    assert "mastodon:tag/news: mastodon.social lets anyone read it" in out
    assert asked == ["/api/v2/instance"], "asked once, and never about an account"
    # the targets are watched all the same
    status = said(memoryhole("status", "--study", study))
    assert "mastodon:local" in status and "mastodon:tag/news" in status


def test_watching_the_simulator_needs_no_token(tmp_path: Path) -> None:
    posts = [ScenarioPost("1", "7", 1_700_000_000.0, "第一条")]
    sim = SimPlatform(posts, VirtualClock(1_700_000_100.0), "mastodon")
    study = str(tmp_path / "s")
    assert memoryhole("init", study).returncode == 0
    with serving(lambda path, query: sim.handle("GET", path, query)) as (url, asked):
        result = memoryhole("watch", "mastodon:local", "--base-url", url, "--study", study)
    assert result.returncode == 0, result.stderr
    assert "mastodon:local: mastodon.sim.invalid lets anyone read it" in said(result)
    assert asked == ["/api/v2/instance"]
    assert Study.open(tmp_path / "s").base_url("mastodon") == url


def test_no_answer_to_the_question_is_said_and_the_target_watched(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    study = str(tmp_path / "s")
    assert memoryhole("init", study).returncode == 0
    url = f"http://127.0.0.1:{port}"
    result = memoryhole("watch", "mastodon:public", "--base-url", url, "--study", study)
    assert result.returncode == 0, result.stderr
    out = said(result)
    assert "watching mastodon:public" in out
    assert "does not say whether mastodon:public needs a token" in out
    assert "MEMORYHOLE_MASTODON_TOKEN" in out
    assert "Traceback" not in result.stderr
