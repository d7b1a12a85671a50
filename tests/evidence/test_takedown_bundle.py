"""A bundle of a taken-down author's own post names neither them nor their words, and still
verifies (issue 21, item 3): its author, text and bodies are withheld."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import select

from benchmarks.takedown_scan import expand
from memoryhole.collect.redactions import take_down
from memoryhole.evidence.bundle import build_bundle
from memoryhole.evidence.verify import verify_bundle
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import authors, posts
from memoryhole.study import Study


def test_a_bundle_of_a_taken_down_post_holds_nothing_of_its_author(
    study_path: Path, tmp_path: Path
) -> None:
    study = Study.open(study_path)
    victim = next(
        r for r in iter_verdicts(study.engine, raw_author_ids=True) if r["verdict"] == "censored"
    )
    author = str(victim["author_id"])
    with study.engine.connect() as connection:
        texts = connection.execute(
            select(posts.c.text)
            .join(authors, authors.c.id == posts.c.author_pk)
            .where(authors.c.raw_id == author)
        ).scalars()
        # Texts end "… #N": not followed by another digit (#3 is not #30).
        needles = [re.escape(str(t).encode()) + rb"(?![0-9])" for t in texts]
    result, _ = asyncio.run(take_down(study, author, platform="weibo", reason="test"))
    out = tmp_path / "own.zip"
    manifest = build_bundle(study, str(victim["post_id"]), out)
    post = manifest["post"]
    assert isinstance(post, dict) and post["author_id"] is None and post["text"] is None
    report = verify_bundle(out)
    assert report.success, report.failures
    own_id = rb"(?<![0-9A-Za-z_])" + re.escape(author.encode()) + rb"(?![0-9A-Za-z_])"
    pattern = re.compile(b"|".join([own_id, re.escape(result.pseudonym.encode()), *needles]))
    found = [name for name, data in expand("own.zip", out.read_bytes()) if pattern.search(data)]
    assert found == []
