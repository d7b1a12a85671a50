"""``memoryhole serve``: the dashboard on uvicorn, plus the optional webhook poller."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable
from dataclasses import replace

from memoryhole.errors import ConfigError
from memoryhole.study import Study
from memoryhole.web.app import LOOPBACK_HOSTS, ServeOptions, create_app, post_path, serve_token
from memoryhole.web.cache import CacheSettings
from memoryhole.web.webhook import WebhookConfig, WebhookPoller, load_webhook_config

TOKEN_ENV = "MEMORYHOLE_TOKEN"


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    study: Study,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    public: bool = False,
    webhook_url: str | None = None,
    allowed_hosts: tuple[str, ...] = (),
    say: Callable[[str], None] = print,
    engine: str = "pandas",
) -> None:
    """Run the dashboard until Ctrl-C. Local mode must bind a loopback address. ``engine``:
    how the time-to-removal curves and the term table are computed, ``pandas`` (in memory),
    ``duckdb`` (out of core) or ``auto`` (duckdb from ``AUTO_THRESHOLD`` posts)."""
    import uvicorn

    from memoryhole.analysis.engines.choose import choose_figure_engine

    if not public and not is_loopback_host(host):
        raise ConfigError(
            f"local mode shows raw responses and real author ids, so it binds loopback only; "
            f"--host {host} needs --public (pseudonyms only, read-only)"
        )
    token = os.environ.get(TOKEN_ENV) or serve_token()
    hosts = frozenset({*LOOPBACK_HOSTS, host, *allowed_hosts})
    chosen = choose_figure_engine(engine, study.path)
    options = ServeOptions(
        public=public,
        token=token,
        allowed_hosts=hosts,
        check_host=not public,
        cache=CacheSettings(engine=chosen),
    )
    app = create_app(study, options)
    webhook = load_webhook_config(study.path)
    if webhook_url:
        webhook = replace(webhook, url=webhook_url) if webhook else WebhookConfig(url=webhook_url)
    poller: WebhookPoller | None = None
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{port}"
    if webhook is not None:
        poller = WebhookPoller(study, webhook, lambda p, i: base + post_path(p, i))
        poller.start()
        say(f"webhook: new removals are POSTed to {webhook.url} (polled every {webhook.every:g} s)")
    mode = "public" if public else "local"
    say(f"dashboard of {study.path} on {base} ({mode} mode, {chosen} figures; Ctrl-C stops)")
    if os.environ.get(TOKEN_ENV):
        say(f"state-changing API: token from ${TOKEN_ENV}")
    else:
        say(f"state-changing API token (POST /api/watch, /api/takedown): {token}")
    logging.getLogger("memoryhole.web").setLevel(logging.INFO)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    finally:
        if poller is not None:
            poller.stop()
