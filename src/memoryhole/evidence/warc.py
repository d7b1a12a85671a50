"""WARC 1.1 export of captures (warcio): what was asked, what came back, how it was judged.

Each observation gives up to three records, linked by ``WARC-Concurrent-To``:

- ``request``: the GET that was sent (no credentials are ever stored, so none are written);
- ``response``: the HTTP status line, the stored headers and the raw body, byte for byte
  (absent when no answer arrived, or when the body was taken down);
- ``metadata``: the observation's leaf record (evidence/leaf.py) as JSON, so a WARC reader
  sees memoryhole's verdict for the capture and its place in the log.

``WARC-Date`` is when the answer came (``observed_at``, the platform clock; for a real platform
that is the collector's clock). Record ids are UUIDv5 of the study origin and observation id,
so exporting twice gives the same ids. Replay: ``pip install pywb; wb-manager init study;
wb-manager add study captures.warc.gz; wayback`` then open http://localhost:8080/study/.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import IO, Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from memoryhole.evidence.leaf import canonical_bytes
from memoryhole.times import utc_datetime


def warc_date(epoch: float, fallback: float | None = None) -> str:
    """``epoch`` as a WARC-Date; one no calendar can show (an edited store) gives
    ``fallback`` (when memoryhole received the answer), else the Unix epoch: never a crash."""
    moment = utc_datetime(epoch) or utc_datetime(fallback) or datetime.fromtimestamp(0, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record_id(origin: str, observation_id: int, kind: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{origin}#{observation_id}/{kind}')}>"


def write_captures(
    out: IO[bytes],
    origin: str,
    records: Iterable[Mapping[str, Any]],
    body_of: Callable[[str], bytes | None],
) -> int:
    """Write the captures of leaf ``records``; ``body_of(sha256)`` is None if taken down."""
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    count = 0
    for record in records:
        observation_id = int(record["id"])
        url = str(record["url"])
        date = warc_date(float(record["observed_at"]), record.get("received_at"))
        request_id = _record_id(origin, observation_id, "request")
        path = url.split("://", 1)[-1]
        path = path[path.find("/") :] if "/" in path else "/"
        request_headers = StatusAndHeaders(
            f"{record['method']} {path} HTTP/1.1", [], is_http_request=True
        )
        writer.write_record(
            writer.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(b""),
                http_headers=request_headers,
                warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": request_id},
            )
        )
        body = body_of(str(record["body_sha256"]))
        if record["http_status"] is not None and body is not None:
            status = int(record["http_status"])
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Unknown"
            headers = [
                (str(k), str(v))
                for k, v in record["headers"]
                if str(k).lower() not in {"content-encoding", "transfer-encoding"}
            ]
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(body),
                    http_headers=StatusAndHeaders(f"{status} {phrase}", headers, "HTTP/1.1"),
                    warc_headers_dict={
                        "WARC-Date": date,
                        "WARC-Record-ID": _record_id(origin, observation_id, "response"),
                        "WARC-Concurrent-To": request_id,
                    },
                )
            )
        writer.write_record(
            writer.create_warc_record(
                url,
                "metadata",
                payload=io.BytesIO(canonical_bytes(record)),
                warc_content_type="application/json",
                warc_headers_dict={
                    "WARC-Date": date,
                    "WARC-Record-ID": _record_id(origin, observation_id, "metadata"),
                    "WARC-Concurrent-To": request_id,
                },
            )
        )
        count += 1
    return count


def describe(record: Mapping[str, Any]) -> str:
    return json.dumps({k: record[k] for k in ("id", "status", "url")}, ensure_ascii=False)
