"""The simulator's media files: ``GET /media/{post_id}.jpg`` and ``/media/{post_id}.mp4``.

Every shape links a post's media (``media_of``) under the simulator's own address, so a
collector with ``[collector] media = "download"`` can fetch them on loopback. The bytes are
deterministic per post (the same on every answer, so their sha256 is stable): an image is 20 to
80 KB (a JPEG's first and last markers around pseudo-random bytes), a video 1.5 to 4.5 MB (an
MP4 ``ftyp`` box first). A post's media answers 404 once the post is removed, or before it is
published, as platforms take a removed post's files down with it.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from typing import TYPE_CHECKING

from memoryhole.sim.shapes import Answer, media_of

if TYPE_CHECKING:
    from memoryhole.sim.platform import SimPlatform

_MEDIA = re.compile(r"^/media/([^/]+)\.(jpg|mp4)$")
_NOT_FOUND: Answer = (404, (("content-type", "text/plain; charset=utf-8"),), b"not found")
_TYPES = {"jpg": "image/jpeg", "mp4": "video/mp4"}


def media_size(post_id: str, extension: str) -> int:
    draw = zlib.crc32(f"size:{post_id}".encode())
    if extension == "mp4":
        return 1_500_000 + draw % 3_000_000
    return 20_000 + draw % 60_000


@functools.lru_cache(maxsize=64)
def media_bytes(post_id: str, extension: str) -> bytes:
    size = media_size(post_id, extension)
    head = (
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        if extension == "mp4"
        else b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    )
    tail = b"" if extension == "mp4" else b"\xff\xd9"
    filler = hashlib.shake_256(f"{post_id}.{extension}".encode()).digest(
        size - len(head) - len(tail)
    )
    return head + filler + tail


def is_media_path(path: str) -> bool:
    return path.startswith("/media/")


def media_answer(sim: SimPlatform, path: str, now: float) -> Answer:
    match = _MEDIA.match(path)
    if match is None:
        return _NOT_FOUND
    post_id, extension = match.group(1), match.group(2)
    post = sim.by_id.get(post_id)
    if post is None or post.published_at > now or sim.removal_at(post, now) is not None:
        return _NOT_FOUND
    if not any(url.endswith(f"/media/{post_id}.{extension}") for _, url in media_of(post)):
        return _NOT_FOUND
    return 200, (("content-type", _TYPES[extension]),), media_bytes(post_id, extension)
