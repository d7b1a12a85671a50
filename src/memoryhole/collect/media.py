"""Media download: ``[collector] media = "download"`` (off by default: ``"refs"``).

Adapters keep a visible post's image and video references in its check's ``detail``
(``media: image https://…``, ``platforms._shared.media_detail``). With downloads on, the
collector fetches each referenced URL of a post once, right after the check that showed it,
through the same transport and the post's platform's request budget, and logs the fetch as an
observation of the post of kind ``media`` (so it is a leaf of the evidence log like any check):

- its ``url`` is the media URL, ``body_sha256``/``body_size`` the bytes fetched, which are in
  the blob store (content-addressed) when ``code`` is ``media_stored``;
- ``media_too_large``: the answer was larger than ``media_max_bytes``; reading stopped at the
  cap (or at once, from Content-Length) and nothing is kept (``body_size`` 0);
- ``media_http_<status>``, ``media_not_media`` (an HTML page instead of a file: a login wall or
  a captcha), ``media_failed`` (no answer): nothing kept (beyond a small error body).

Its ``status`` is ``live`` when the media answered with a file (stored or too large) and
``unreachable`` otherwise; it has no ``seq``, and is never folded into the post's verdict: a
failed media fetch cannot change what the post is. A fetch with no answer, a 429 or a 5xx is
tried again at the post's next visible check, at most ``MAX_ATTEMPTS`` times; any other answer
is final. A 429 from the platform's own host pauses its budget like any 429 (not one from
another host, such as a CDN). Only http(s) URLs are fetched, and an address on this machine or
a private network only when the platform itself is there (the simulator), so a feed cannot
point the collector at internal services. No credentials are sent with media requests.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from memoryhole.clock import Clock
from memoryhole.collect.transport import (
    BodyTooLarge,
    Timer,
    Transport,
    send_capped,
    strip_secrets,
)
from memoryhole.errors import TransportError
from memoryhole.model import Capture, Request, Status
from memoryhole.platforms._shared import MAX_MEDIA, media_refs
from memoryhole.store.schema import observations
from memoryhole.study import Study

MEDIA_KIND = "media"
MAX_ATTEMPTS = 3
USER_AGENT = "memoryhole/0.1 (censorship research; media of watched posts)"


@dataclass(frozen=True, slots=True)
class MediaResult:
    capture: Capture
    status: Status
    code: str
    detail: str


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def _transient(code: str) -> bool:
    if code == "media_failed" or code == "media_http_429":
        return True
    return code.startswith("media_http_5")


class MediaFetcher:
    """Which media of which post to fetch next, and the fetch itself (capped)."""

    def __init__(self, max_bytes: int, platform_urls: dict[str, str | None]) -> None:
        self.max_bytes = max_bytes
        self._local_ok = {name: bool(url and _is_local(url)) for name, url in platform_urls.items()}
        self._hosts = {name: urlsplit(url or "").hostname for name, url in platform_urls.items()}
        self._done: set[tuple[int, str]] = set()
        self._attempts: Counter[tuple[int, str]] = Counter()
        self.fetched = 0
        self.stored_bytes = 0
        self.too_large = 0
        self.failed = 0
        self.refused = 0

    def load(self, engine: Engine) -> MediaFetcher:
        """What earlier runs fetched (a restart fetches nothing twice)."""
        query = select(observations.c.post_pk, observations.c.url, observations.c.code).where(
            observations.c.kind == MEDIA_KIND
        )
        with engine.connect() as connection:
            for post_pk, url, code in connection.execute(query):
                key = (int(post_pk), str(url))
                self._attempts[key] += 1
                if not _transient(str(code or "media_failed")):
                    self._done.add(key)
        return self

    def same_host(self, platform: str, url: str) -> bool:
        """True when ``url`` is on the platform's own host: its 429 pauses the platform's
        budget (a CDN's rate limit is not the platform's)."""
        host = self._hosts.get(platform)
        return host is not None and urlsplit(url).hostname == host

    def wanted(self, post_pk: int, platform: str, detail: str) -> list[tuple[str, str]]:
        """The references in a visible check's detail still to fetch for this post."""
        wanted = []
        for kind, url in media_refs(detail)[:MAX_MEDIA]:
            key = (post_pk, url)
            if key in self._done or self._attempts[key] >= MAX_ATTEMPTS:
                continue
            if urlsplit(url).scheme not in ("http", "https") or (
                _is_local(url) and not self._local_ok.get(platform, False)
            ):
                self._done.add(key)
                self.refused += 1
                continue
            wanted.append((kind, url))
        return wanted

    async def fetch(
        self, transport: Transport, clock: Clock, post_pk: int, kind: str, url: str, label: str
    ) -> MediaResult:
        """Fetch one media URL (``label`` names the post in the detail)."""
        request = Request("GET", url, (), (("User-Agent", USER_AGENT),))
        timer = Timer.start(clock)
        status: int | None = None
        headers: tuple[tuple[str, str], ...] = ()
        body, error = b"", None
        too_large: BodyTooLarge | None = None
        try:
            raw = await send_capped(transport, request, self.max_bytes)
            status, headers, body = raw.status, strip_secrets(raw.headers), raw.body
        except BodyTooLarge as exc:
            status, headers, too_large = exc.status, strip_secrets(exc.headers), exc
        except TransportError as exc:
            error = str(exc)
        capture = timer.capture(request, status, headers, body, error)
        self._attempts[(post_pk, url)] += 1
        self.fetched += 1
        where = f"{kind} of {label}"
        content_type = (capture.header("Content-Type") or "").lower()
        if status is None:
            code, detail, outcome = (
                "media_failed",
                f"{where}: no answer ({error})",
                Status.UNREACHABLE,
            )
        elif not 200 <= status < 300:
            code, detail = f"media_http_{status}", f"{where}: HTTP {status}, nothing kept"
            outcome = Status.UNREACHABLE
        elif "html" in content_type:
            code, detail = "media_not_media", f"{where}: an HTML page, not a file; nothing kept"
            outcome = Status.UNREACHABLE
        elif too_large is not None:
            size = f"Content-Length {too_large.declared:,}" if too_large.declared else "no length"
            code, outcome = "media_too_large", Status.LIVE
            detail = (
                f"{where}: too large, more than {self.max_bytes:,} bytes ({size}, "
                f"{too_large.read:,} read); not kept"
            )
            self.too_large += 1
        else:
            code, outcome = "media_stored", Status.LIVE
            detail = f"{where}: stored, {len(body):,} bytes"
            self.stored_bytes += len(body)
        if outcome is Status.UNREACHABLE:
            self.failed += 1
        if not _transient(code):
            self._done.add((post_pk, url))
        return MediaResult(capture, outcome, code, detail)


def media_fetcher(study: Study, adapters: Mapping[str, object]) -> MediaFetcher | None:
    """A fetcher when the study downloads media (``[collector] media = "download"``)."""
    settings = study.config.collector
    if settings.media != "download":
        return None
    urls = {
        name: study.base_url(name) or getattr(adapter, "base_url", None)
        for name, adapter in adapters.items()
    }
    return MediaFetcher(settings.media_max_bytes, urls).load(study.engine)
