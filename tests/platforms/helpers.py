"""Shared by the adapter tests: captures from fixture files, and the faults no adapter may
ever read as a removal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from memoryhole.model import Capture, Request
from memoryhole.sim.faults import CAPTCHA_PAGE, SERVER_ERROR_PAGE

DATA = Path(__file__).parents[1] / "data"
JSON = (("Content-Type", "application/json; charset=utf-8"),)
HTML = (("Content-Type", "text/html; charset=utf-8"),)
XML = (("Content-Type", "application/rss+xml; charset=utf-8"),)

Headers = tuple[tuple[str, str], ...]


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def capture(
    request: Request,
    body: bytes,
    status: int | None = 200,
    headers: Headers = JSON,
    error: str | None = None,
) -> Capture:
    return Capture(request, status, headers, body, 100.0, 100.0, error=error, sent_at=99.0)


#: (name, make) pairs: ``make(request, body, headers)`` turns a definitive answer into a fault.
Fault = Callable[[Request, bytes, Headers], Capture]
FAULTS: list[tuple[str, Fault]] = [
    ("timeout", lambda r, b, h: capture(r, b"", None, (), "timeout")),
    ("connection reset", lambda r, b, h: capture(r, b"", None, (), "connection reset by peer")),
    ("429 with the same body", lambda r, b, h: capture(r, b, 429, (*h, ("Retry-After", "30")))),
    ("500 with the same body", lambda r, b, h: capture(r, b, 500, h)),
    ("502 nginx page", lambda r, b, h: capture(r, SERVER_ERROR_PAGE, 502, HTML)),
    ("503 with the same body", lambda r, b, h: capture(r, b, 503, h)),
    ("504 empty", lambda r, b, h: capture(r, b"", 504, h)),
    ("200 captcha page", lambda r, b, h: capture(r, CAPTCHA_PAGE, 200, HTML)),
    ("200 captcha page labelled JSON", lambda r, b, h: capture(r, CAPTCHA_PAGE, 200, JSON)),
    ("200 truncated body", lambda r, b, h: capture(r, b[: len(b) // 2], 200, h)),
    ("200 empty body", lambda r, b, h: capture(r, b"", 200, h)),
    ("200 malformed JSON", lambda r, b, h: capture(r, b'{"kind": "Listing", "data": [', 200, JSON)),
    ("200 JSON null", lambda r, b, h: capture(r, b"null", 200, JSON)),
    ("302 redirect to a login page", lambda r, b, h: capture(r, b, 302, (("Location", "/login"),))),
    ("401 with the same body", lambda r, b, h: capture(r, b, 401, h)),
    ("403 with the same body", lambda r, b, h: capture(r, b, 403, h)),
]
