"""Faults the simulator injects, so that every failure a real platform shows is exercised.

A fault spec is a comma-separated list of ``kind=probability`` (plus ``slow_seconds=S``)::

    5xx=0.05,slow=0.02,truncate=0.05,captcha=0.02,reset=0.02,slow_seconds=3

Each request draws at most one fault. None of them is a removal, and the collector must never
record one as such: ``5xx`` answers 502/503 with an HTML error page; ``slow`` delays the answer by
``slow_seconds`` (a timeout for a client that waits less); ``truncate`` cuts the JSON body in
half; ``captcha`` answers status 200 with an HTML verification page (as Weibo's anti-bot wall
does); ``reset`` drops the connection (over HTTP: mid-body, after the headers; in process: no
answer at all).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields

from memoryhole.errors import ConfigError

FAULT_KINDS = ("5xx", "slow", "truncate", "captcha", "reset")

CAPTCHA_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>安全验证</title></head>"
    "<body><div class='verify'><p>您的访问频率过高，请完成下方验证后继续访问。</p>"
    "<img src='/captcha.png' alt='验证码'><form><input name='code'>"
    "<button>提交</button></form></div></body></html>"
).encode()

SERVER_ERROR_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    server_error: float = 0.0
    slow: float = 0.0
    truncate: float = 0.0
    captcha: float = 0.0
    reset: float = 0.0
    slow_seconds: float = 3.0

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        values: dict[str, float] = {}
        names = {"5xx": "server_error", **{kind: kind for kind in FAULT_KINDS[1:]}}
        names["slow_seconds"] = "slow_seconds"
        for part in filter(None, (piece.strip() for piece in spec.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip()
            if not sep or key not in names:
                raise ConfigError(
                    f"fault {part!r} not understood; use kind=probability with kind one of "
                    f"{', '.join(FAULT_KINDS)}, or slow_seconds=S"
                )
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"fault {key!r} needs a number, got {raw!r}") from None
            if key != "slow_seconds" and not 0.0 <= value <= 1.0:
                raise ConfigError(f"fault probability {key}={value} must be between 0 and 1")
            if key == "slow_seconds" and value < 0:
                raise ConfigError("slow_seconds must not be negative")
            values[names[key]] = value
        faults = cls(**values)
        if faults.total > 1.0:
            raise ConfigError(f"fault probabilities add up to {faults.total:g}, more than 1")
        return faults

    @property
    def total(self) -> float:
        return self.server_error + self.slow + self.truncate + self.captcha + self.reset

    def draw(self, rng: random.Random) -> str | None:
        """One fault kind for this request, or None for a normal answer."""
        if self.total <= 0.0:
            return None
        roll = rng.random()
        for kind, name in zip(FAULT_KINDS, (f.name for f in fields(self)), strict=False):
            roll -= getattr(self, name)
            if roll < 0.0:
                return kind
        return None


def truncated(body: bytes) -> bytes:
    return body[: max(1, len(body) // 2)]
