"""A policy's learnt state as rows of the store, written only where it changed.

A durable policy (``schedule.base.Durable``; the ``Scheduler`` is one) describes its state as
``(meta, arrays)``: a small JSON-able dict and named numpy arrays. The collector commits that
state in the same transaction as each batch of observations (table ``scheduler_state``), so a
run killed at any point resumes with exactly the state that produced the last committed batch.

Arrays are cut into chunks of ``CHUNK_BYTES``; a chunk is written again only when its bytes
changed since the last commit. Most of the state grows by appending (posts, features, the
feature vocabulary) and the rest changes for young posts only, so a commit rewrites a few
chunks, not the whole state. Row names: ``NAMESPACE/meta`` (JSON: the meta plus each array's
dtype, shape and length) and ``NAMESPACE/ARRAY/CHUNK``. No pickle: loading a store never runs
code from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

CHUNK_BYTES = 1 << 16

AnyArray = npt.NDArray[Any]


def _chunk_size(array: AnyArray) -> int:
    return max(1, CHUNK_BYTES // max(array.itemsize, 1))


def encode(
    namespace: str,
    meta: Mapping[str, Any],
    arrays: Mapping[str, AnyArray],
    written: dict[str, bytes],
) -> dict[str, bytes]:
    """The rows to upsert for this state: the meta, and every chunk that differs from
    ``written`` (the rows as last committed, updated in place)."""
    shapes: dict[str, list[Any]] = {}
    rows: dict[str, bytes] = {}
    for name, array in arrays.items():
        flat = np.ascontiguousarray(array).reshape(-1)
        shapes[name] = [flat.dtype.str, list(array.shape)]
        step = _chunk_size(flat)
        for index, start in enumerate(range(0, len(flat), step)):
            key = f"{namespace}/{name}/{index}"
            data = flat[start : start + step].tobytes()
            if written.get(key) != data:
                rows[key] = data
                written[key] = data
    body = json.dumps({"meta": meta, "arrays": shapes}, separators=(",", ":")).encode()
    key = f"{namespace}/meta"
    if written.get(key) != body:
        rows[key] = body
        written[key] = body
    return rows


def decode(
    namespace: str, rows: Mapping[str, bytes]
) -> tuple[dict[str, Any], dict[str, AnyArray]] | None:
    """The state a namespace's rows hold (None if there is none)."""
    head = rows.get(f"{namespace}/meta")
    if head is None:
        return None
    parsed = json.loads(head)
    arrays: dict[str, AnyArray] = {}
    for name, (dtype_text, shape) in parsed["arrays"].items():
        dtype = np.dtype(dtype_text)
        if dtype.hasobject:
            raise ValueError(f"state array {name!r} has an object dtype")
        count = int(np.prod(shape)) if shape else 1
        step = max(1, CHUNK_BYTES // max(dtype.itemsize, 1))
        parts = [rows[f"{namespace}/{name}/{i}"] for i in range((count + step - 1) // step)]
        flat = np.frombuffer(b"".join(parts), dtype=dtype)[:count].copy()
        arrays[name] = flat.reshape(shape)
    meta: dict[str, Any] = parsed["meta"]
    return meta, arrays


def encode_strings(values: list[str]) -> AnyArray:
    """Strings as one uint8 array (one JSON string per line): appending keeps earlier chunks."""
    text = "".join(json.dumps(value) + "\n" for value in values)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def decode_strings(array: AnyArray) -> list[str]:
    text = array.tobytes().decode("utf-8")
    return [str(json.loads(line)) for line in text.splitlines()]
