"""Real captured answers of the platforms (``tests/data/real/``, sources in its NOTICE.md).

``samples/NAME.body`` is a response body, verbatim; ``samples/NAME.meta.json`` says what was
asked (``url``, ``op``), the answer's ``status`` and ``headers``, and where it was captured.
``feeds/`` holds real RSS, Atom, RDF and JSON feeds and article pages. Nobody on this project
wrote them: where they and the simulator or a doc disagree, they are right.

Every sample is claimed by exactly one conformance test table (``CLAIMED`` below collects the
tables; ``test_real_samples.py`` fails when a sample is left out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memoryhole.model import Capture, Request

REAL = Path(__file__).parents[1] / "data" / "real"
SAMPLES = REAL / "samples"
FEEDS = REAL / "feeds"

#: When the samples were answered, on the platform's clock, unless a test says otherwise.
ANSWERED_AT = 1_700_000_000.0


@dataclass(frozen=True)
class Sample:
    name: str
    meta: dict[str, Any]
    body: bytes

    @property
    def status(self) -> int | None:
        status = self.meta.get("status")
        return int(status) if status is not None else None

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return tuple((str(name), str(value)) for name, value in self.meta.get("headers") or ())

    def capture(self, request: Request | None = None, at: float = ANSWERED_AT) -> Capture:
        """The answer as the collector would have captured it for ``request`` (by default the
        request the sample records)."""
        if request is None:
            request = Request("GET", str(self.meta.get("url", "https://example.invalid/")))
        return Capture(request, self.status, self.headers, self.body, at, at, sent_at=at - 0.5)


def sample(name: str) -> Sample:
    meta = json.loads((SAMPLES / f"{name}.meta.json").read_text(encoding="utf-8"))
    return Sample(name, meta, (SAMPLES / f"{name}.body").read_bytes())


def sample_names(prefix: str = "") -> list[str]:
    return sorted(path.name[: -len(".meta.json")] for path in SAMPLES.glob(f"{prefix}*.meta.json"))


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def feed_names() -> list[str]:
    return sorted(path.name for path in FEEDS.iterdir() if path.is_file())


def json_types(value: Any, path: str = "") -> dict[str, set[str]]:
    """Every path in a JSON value (``data.cards[].mblog.user.id``) with the JSON types found
    there: what "the same shape" means when the simulator is held against a real answer."""
    found: dict[str, set[str]] = {}

    def walk(node: Any, at: str) -> None:
        found.setdefault(at, set()).add(_json_type(node))
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{at}.{key}" if at else str(key))
        elif isinstance(node, list):
            for child in node:
                walk(child, f"{at}[]")

    walk(value, path)
    return found


def _json_type(node: Any) -> str:
    if node is None:
        return "null"
    if isinstance(node, bool):
        return "bool"
    if isinstance(node, int | float):
        return "number"
    if isinstance(node, str):
        return "string"
    return "array" if isinstance(node, list) else "object"


def shape_differences(
    simulated: Any, real: list[Any], paths: list[str], *, optional: frozenset[str] = frozenset()
) -> list[str]:
    """Where the simulator's answer differs from the real ones at the paths an adapter reads:
    a path the simulator lacks (unless ``optional``) or gives a type no real answer has there.
    A path no real answer has is reported too: the adapter must not read what Weibo never sent."""
    sim_types = json_types(simulated)
    real_types: dict[str, set[str]] = {}
    for answer in real:
        for path, types in json_types(answer).items():
            real_types.setdefault(path, set()).update(types)
    problems = []
    for path in paths:
        if path not in real_types:
            if path not in optional:
                problems.append(f"{path}: in no real answer")
            continue
        if path not in sim_types:
            if path not in optional:
                problems.append(f"{path}: the simulator does not send it")
            continue
        extra = sim_types[path] - real_types[path]
        if extra:
            problems.append(
                f"{path}: simulator sends {sorted(extra)}, real {sorted(real_types[path])}"
            )
    return problems
