"""The webhook poller: new first removal sightings, once each, signed, retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from memoryhole.errors import ConfigError
from memoryhole.study import Study
from memoryhole.web.webhook import WebhookConfig, WebhookPoller, load_webhook_config
from tests.web.conftest import TAKEN_DOWN_TEXT


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[tuple[bytes, str | None]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.bodies.append((body, self.headers.get("x-memoryhole-signature")))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def test_posts_each_new_removal_once_signed_and_retries(study: Study, receiver: Receiver) -> None:
    config = WebhookConfig(url=receiver.url, secret="s3cret", kinds=("censored", "unknown"))
    poller = WebhookPoller(study, config, lambda p, i: f"http://dash/post/{p}/{i}")
    assert poller.poll_once() == 0  # what was in the store at start is not sent
    poller.high_water = 0  # as if the server had started before the collector
    receiver.status = 500
    assert poller.poll_once() == 0 and poller.failures == 1 and poller.pending
    receiver.status = 200
    sent = poller.poll_once()
    assert sent == len(poller.pending) + sent and sent > 10
    body, signature = receiver.bodies[-1]
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    payload = json.loads(body)
    removals = payload["removals"]
    assert {r["verdict"] for r in removals} == {"censored", "unknown"}
    keys = [(r["platform"], r["post_id"]) for r in removals]
    assert len(keys) == len(set(keys)), "a removal is announced once"
    assert all(r["author_id"].startswith("a_") for r in removals)
    assert all(r["url"].startswith("http://dash/post/weibo/") for r in removals)
    assert TAKEN_DOWN_TEXT not in body.decode()
    assert poller.poll_once() == 0  # nothing new


def test_alerts_file(tmp_path: Path) -> None:
    assert load_webhook_config(tmp_path) is None
    (tmp_path / "alerts.toml").write_text(
        '[webhook]\nurl = "https://example.org/h"\nkinds = ["censored"]\nevery = "30s"\n'
    )
    config = load_webhook_config(tmp_path)
    assert config == WebhookConfig("https://example.org/h", ("censored",), None, 30.0)
    (tmp_path / "alerts.toml").write_text('[webhook]\nurl = "ftp://x"\n')
    with pytest.raises(ConfigError):
        load_webhook_config(tmp_path)
    (tmp_path / "alerts.toml").write_text('[webhook]\nurl = "http://x"\nkinds = ["live"]\n')
    with pytest.raises(ConfigError):
        load_webhook_config(tmp_path)
