"""``memoryhole export warc``: every capture of the study as WARC 1.1 (see ``warc.py``)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from memoryhole.evidence.leaf import POST_LEAF_KINDS, leaf_record
from memoryhole.evidence.warc import write_captures
from memoryhole.store.schema import observations, posts, redactions, targets

if TYPE_CHECKING:
    from memoryhole.study import Study


def _records(study: Study) -> Iterator[dict[str, Any]]:
    query = (
        select(
            observations,
            posts.c.platform,
            posts.c.post_id.label("the_post_id"),
            targets.c.platform.label("target_platform"),
        )
        .outerjoin(posts, posts.c.id == observations.c.post_pk)
        .outerjoin(targets, targets.c.id == observations.c.target_pk)
        .order_by(observations.c.id)
    )
    with study.engine.connect() as conn:
        for row in conn.execution_options(yield_per=2000).execute(query).mappings():
            if row["kind"] in POST_LEAF_KINDS:
                yield leaf_record(dict(row), row["platform"], row["the_post_id"])
            else:
                yield leaf_record(dict(row), row["target_platform"], None)


def export_warc(study: Study, out: Path) -> int:
    """Write all captures; bodies taken down are left out (their records stay)."""
    with study.engine.connect() as conn:
        taken_down = set(conn.execute(select(redactions.c.body_sha256)).scalars())

    def body_of(sha256: str) -> bytes | None:
        if sha256 in taken_down:
            return None
        try:
            return study.blobs.get(sha256)
        except FileNotFoundError:
            return None

    with open(out, "wb") as handle:
        count = write_captures(handle, study.log_origin, _records(study), body_of)
    return count


def is_gzip(path: Path) -> bool:
    with gzip.open(path) as handle:
        handle.read(1)
    return True
