"""The simulator's response shapes, one module per platform (``sim serve --platform NAME``).

Each shape renders the same scenario (posts, edits, removals, suspensions) the way that platform
would answer at ``now``; ``SimPlatform`` keeps the scenario's state and routes every request to
its shape. Weibo's shapes are ``SimPlatform``'s own (``sim/platform.py``); the others live here.
How each scenario removal kind shows on each platform is in docs/simulator.md.
"""

from __future__ import annotations

import bisect
import json
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from memoryhole.model import Target

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

Headers = tuple[tuple[str, str], ...]
Answer = tuple[int, Headers, bytes]

JSON_HEADERS: Headers = (("content-type", "application/json; charset=utf-8"),)
HTML_HEADERS: Headers = (("content-type", "text/html; charset=utf-8"),)

#: Every ``--platform`` value the simulator speaks.
PLATFORMS = ("weibo", "reddit", "mastodon", "rss", "json", "bluesky", "telegram", "youtube")


#: What to watch on the simulator, per platform: its whole public stream.
WATCH: dict[str, Target] = {
    "weibo": Target("weibo", "all"),
    "reddit": Target("reddit", "r", "all"),
    "mastodon": Target("mastodon", "local"),
    "rss": Target("rss", "feed", "feeds/all.rss"),
    "json": Target("json", "all"),
}
WATCH["bluesky"] = Target("bluesky", "all")  # the simulator's own feed (bluesky:all)
WATCH["telegram"] = Target("telegram", "all")  # the simulator's own stream (telegram:all)
WATCH["youtube"] = Target("youtube", "all")  # the simulator's own feed (youtube:all)


class Shape(Protocol):
    name: str

    def handle(
        self, sim: SimPlatform, method: str, path: str, query: Mapping[str, str], now: float
    ) -> Answer: ...


def get_shape(name: str) -> Shape | None:
    """The renderer for ``name`` (None for Weibo, which ``SimPlatform`` renders itself)."""
    if name == "weibo":
        return None
    if name == "reddit":
        from memoryhole.sim.shapes.reddit import RedditShape

        return RedditShape()
    if name == "mastodon":
        from memoryhole.sim.shapes.mastodon import MastodonShape

        return MastodonShape()
    if name == "rss":
        from memoryhole.sim.shapes.rss import RssShape

        return RssShape()
    if name == "json":
        from memoryhole.sim.shapes.generic_json import JsonShape

        return JsonShape()
    if name == "bluesky":
        from memoryhole.sim.shapes.bluesky import BlueskyShape

        return BlueskyShape()
    if name == "telegram":
        from memoryhole.sim.shapes.telegram import TelegramShape

        return TelegramShape()
    if name == "youtube":
        from memoryhole.sim.shapes.youtube import YouTubeShape

        return YouTubeShape()
    from memoryhole.errors import ConfigError

    raise ConfigError(f"unknown simulator platform {name!r}; use one of {', '.join(PLATFORMS)}")


def json_answer(payload: object, status: int = 200) -> Answer:
    return status, JSON_HEADERS, json.dumps(payload, ensure_ascii=False).encode()


def iso(epoch: float) -> str:
    """``2024-11-23T06:05:00.000Z`` (Mastodon's and most JSON APIs' time format)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


#: Where media links point unless the simulator knows its own address (``sim serve`` does).
MEDIA_BASE = "https://media.sim.invalid"


def media_of(post: ScenarioPost, base: str = MEDIA_BASE) -> list[tuple[str, str]]:
    """Deterministic media for some posts (one in five has an image, one in twenty a video):
    scenarios have no media, and adapters must keep the references of those that do. The
    simulator serves them at ``{base}/media/{post_id}.jpg|.mp4`` (``sim.media``)."""
    draw = zlib.crc32(post.post_id.encode()) % 20
    if draw == 0:
        return [("video", f"{base}/media/{post.post_id}.mp4")]
    if draw % 5 == 0:
        return [("image", f"{base}/media/{post.post_id}.jpg")]
    return []


def pick(post_id: str, choices: Sequence[str]) -> str:
    """A deterministic choice per post (the same on every answer)."""
    return choices[zlib.crc32(post_id.encode()) % len(choices)]


def limit_of(query: Mapping[str, str], default: int, maximum: int) -> int:
    try:
        return max(1, min(maximum, int(query.get("limit", str(default)))))
    except ValueError:
        return default


def published_until(sim: SimPlatform, now: float) -> int:
    """How many posts (in publication order) are published at ``now``."""
    return bisect.bisect_right(sim.published, now)


def visible(sim: SimPlatform, index: int, now: float) -> bool:
    post = sim.posts[index]
    return post.published_at <= now and sim.removal_at(post, now) is None


def newer_than(
    sim: SimPlatform, indices: Sequence[int], after: int, now: float, limit: int
) -> list[int]:
    """The ``limit`` visible posts immediately after position ``after``, oldest first."""
    start = bisect.bisect_right(indices, after)
    found: list[int] = []
    for index in indices[start:]:
        if sim.posts[index].published_at > now:
            break
        if visible(sim, index, now):
            found.append(index)
            if len(found) >= limit:
                break
    return found


def newest(sim: SimPlatform, indices: Sequence[int], now: float, limit: int) -> list[int]:
    """The ``limit`` newest visible posts among ``indices`` (sorted positions), newest first."""
    end = bisect.bisect_left(indices, published_until(sim, now))
    found: list[int] = []
    for position in range(end - 1, -1, -1):
        if visible(sim, indices[position], now):
            found.append(indices[position])
            if len(found) >= limit:
                break
    return found
