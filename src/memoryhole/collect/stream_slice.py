"""One slice of a WebSocket stream (Bluesky's Jetstream), read as if it were one answer.

A request whose URL is ``ws://`` or ``wss://`` opens the stream, reads text frames until
``max_events`` of them, ``max_bytes`` of them, the stream going quiet for ``idle`` seconds or
``limit`` seconds in all, and closes it. The answer is status 101 (the server switched
protocols) with the frames one a line, byte for byte: the evidence log keeps what the stream
said, and the next slice resumes from the cursor the adapter reads in it.
"""

from __future__ import annotations

import time

import aiohttp

from memoryhole.errors import TransportError
from memoryhole.model import Request

STREAM_HEADERS = (("content-type", "application/x-ndjson; charset=utf-8"),)


def is_stream(request: Request) -> bool:
    return request.url.startswith(("ws://", "wss://"))


async def read_slice(
    session: aiohttp.ClientSession,
    request: Request,
    *,
    max_events: int = 500,
    max_bytes: int = 8 << 20,
    idle: float = 1.0,
    limit: float = 10.0,
) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """(status, headers, body) of the slice (``RawResponse``'s fields)."""
    frames: list[bytes] = []
    size = 0
    deadline = time.monotonic() + limit
    try:
        async with session.ws_connect(
            request.url, params=request.params, headers=request.headers, autoping=True
        ) as socket:
            while len(frames) < max_events and size < max_bytes:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    message = await socket.receive(timeout=min(idle, left))
                except TimeoutError:
                    break  # quiet: this slice is read
                if message.type == aiohttp.WSMsgType.TEXT:
                    data = str(message.data).encode()
                elif message.type == aiohttp.WSMsgType.BINARY:
                    data = bytes(message.data)
                else:  # closed, closing or an error: what was read is the slice
                    break
                frames.append(data.replace(b"\n", b" "))
                size += len(data) + 1
    except TimeoutError:
        raise TransportError("timeout opening the stream") from None
    except aiohttp.WSServerHandshakeError as exc:
        raise TransportError(f"the stream refused the connection (HTTP {exc.status})") from None
    except aiohttp.ClientError as exc:
        raise TransportError(f"connection error ({exc.__class__.__name__}: {exc})") from None
    return 101, STREAM_HEADERS, b"\n".join(frames)
