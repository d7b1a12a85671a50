"""After ``takedown --author X``, even during a running collection: no blob, export, page or
report holds X's raw id, pseudonym or texts; the collector never stores X again; ``verify``
passes; and a redaction nobody logged (a forged takedown row) fails verification."""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from memoryhole.clock import AcceleratedClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.redactions import log_pending_redactions, take_down
from memoryhole.evidence.verify import verify_study
from memoryhole.platforms import registry
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.store.schema import observations, posts, redactions, verdicts
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_717_200_000.0
AUTHOR = "1000002"


def scenario() -> list[ScenarioPost]:
    out = []
    for i, post in enumerate(known_removals(T0, posts=40)):
        text = f"作者{post.author_id}写道：第{i}条内容很长很长"  # texts of their own
        out.append(ScenarioPost(post.post_id, post.author_id, post.published_at, text,
                                post.removed_at, post.removal, post.edits))  # fmt: skip
    return out


def needles(study: Study, platform: str) -> list[bytes]:
    texts = [p.text for p in scenario() if p.author_id == AUTHOR]
    return [
        AUTHOR.encode(),
        study.pseudonym(platform, AUTHOR).encode(),
        *(t[:12].encode() for t in texts),
    ]


def every_byte(study: Study, tmp: Path) -> dict[str, bytes]:
    """Every blob, every export format and the report, by name."""
    out = {
        f"blob {p.name}": p.read_bytes() for p in (study.path / "blobs").rglob("*") if p.is_file()
    }
    env = {**os.environ, "COLUMNS": "200"}

    def cli(*args: str) -> bytes:
        done = subprocess.run(
            [sys.executable, "-m", "memoryhole", *args, "--study", str(study.path)],
            capture_output=True, env=env, check=True,
        )  # fmt: skip
        return done.stdout

    out["export verdicts"] = cli("export", "verdicts")
    out["export verdicts csv"] = cli("export", "verdicts", "--format", "csv")
    for kind in ("csv", "parquet"):
        cli("export", kind, str(tmp / kind))
        for path in (tmp / kind).rglob("*"):
            if path.is_file():
                out[f"export {kind} {path.name}"] = path.read_bytes()
    cli("export", "datasette", str(tmp / "d.db"))
    with sqlite3.connect(tmp / "d.db") as connection:
        out["datasette"] = "\n".join(
            str(row) for line in connection.iterdump() for row in [line]
        ).encode()
    cli("export", "warc", "--out", str(tmp / "w.warc.gz"))
    out["warc"] = gzip.decompress((tmp / "w.warc.gz").read_bytes())
    cli("report", "--out", str(tmp / "report.html"))
    out["report"] = (tmp / "report.html").read_bytes()
    return out


def leaks(study: Study, tmp: Path, platform: str) -> list[str]:
    found = []
    for name, data in every_byte(study, tmp).items():
        for needle in needles(study, platform):
            if needle in data:
                found.append(f"{name} holds {needle.decode()!r}")
    return found


@pytest.mark.parametrize("platform", ["weibo", "rss"])
def test_nothing_of_the_author_is_left_anywhere(tmp_path: Path, platform: str) -> None:
    study = Study.init(tmp_path / "study")
    replay(study, scenario(), until=T0 + 3 * 3600.0, platform=platform)
    (tmp_path / "before").mkdir()
    assert leaks(study, tmp_path / "before", platform), "the author is in the study at first"
    raw_id = AUTHOR if platform == "weibo" else _rss_author(study)
    result, logged = asyncio.run(take_down(study, raw_id, platform=platform, reason="test"))
    assert logged == result.blobs_removed > 0
    (tmp_path / "after").mkdir()
    assert leaks(study, tmp_path / "after", platform) == []
    report = verify_study(study)
    assert report.success, report.failures


def _rss_author(study: Study) -> str:
    from memoryhole.store.schema import authors

    with study.engine.connect() as connection:
        ids = connection.execute(select(authors.c.raw_id)).scalars().all()
    return next(i for i in ids if AUTHOR in i)


def test_a_takedown_while_the_collector_runs_holds(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    posts_ = scenario()
    replay(study, posts_, until=T0 + 3600.0)
    clock = AcceleratedClock(T0 + 3600.0, time.time(), 600.0)
    collector = Collector(
        study,
        {"weibo": registry.get("weibo", REPLAY_BASE_URL)},
        InProcessTransport(SimPlatform(posts_, clock, "weibo")),
        clock,
        budget_per_second=20.0,
        flush_interval=0.05,
    )

    async def collect_and_take_down() -> None:
        with study.writer_lock():
            running = asyncio.create_task(collector.run(wall_deadline=time.time() + 6.0))
            await asyncio.sleep(2.0)
            await take_down(study, AUTHOR, platform="weibo", reason="test")
            await running

    asyncio.run(collect_and_take_down())
    with study.engine.connect() as connection:
        assert (
            connection.execute(
                select(redactions.c.id).where(redactions.c.observation_id.is_(None))
            ).first()
            is None
        ), "the running collector logged every redaction"
        later = (
            connection.execute(
                select(observations.c.observed_at).where(observations.c.kind == "redaction")
            )
            .scalars()
            .all()
        )
        assert later
        checks_after = connection.execute(
            select(observations.c.id)
            .join(posts, posts.c.id == observations.c.post_pk)
            .where(observations.c.kind == "check", observations.c.observed_at > max(later) + 60)
            .where(posts.c.author_pk.in_(_author_pks(study)))
        ).all()
        assert checks_after == []  # never checked again
    (tmp_path / "out").mkdir()
    assert leaks(study, tmp_path / "out", "weibo") == []
    report = verify_study(study)
    assert report.success, report.failures


def _author_pks(study: Study) -> list[int]:
    from memoryhole.store.schema import authors

    with study.engine.connect() as connection:
        return list(
            connection.execute(select(authors.c.id).where(authors.c.raw_id == AUTHOR)).scalars()
        )


def test_a_forged_redaction_row_fails_verification(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    replay(study, scenario(), until=T0 + 3 * 3600.0)
    with study.engine.begin() as connection:
        (sha,) = connection.execute(
            select(observations.c.body_sha256)
            .join(verdicts, verdicts.c.post_pk == observations.c.post_pk)
            .where(verdicts.c.status == "censored", observations.c.status == "censored")
        ).first()
        connection.execute(
            redactions.insert().values(
                body_sha256=sha, author_pseudonym="a_forged", reason="x", redacted_at=0.0,
                observation_id=1,  # pointing at a leaf that is no redaction
            )
        )  # fmt: skip
    study.blobs.delete(sha)
    report = verify_study(study)
    assert not report.success
    assert any(
        sha in failure and "no redaction in the log" in failure for failure in report.failures
    )
    assert asyncio.run(log_pending_redactions(study)) == 0  # nothing pending to make it pass
    assert not verify_study(study).success


def test_a_sock_puppets_takedown_keeps_the_evidence_of_the_texts_it_copied(tmp_path: Path) -> None:
    """A puppet repeats another author's text word for word: taking the puppet down erases
    the puppet, not the check answers of the posts it copied (which hold no id of the puppet)."""
    copied = "被删除的原帖内容：某地某事的现场记录"
    posts_ = scenario()
    for i, post in enumerate(posts_):
        if i in (4, 5):  # post 4 by author 1000000, post 5 by the puppet 1000001
            posts_[i] = ScenarioPost(post.post_id, post.author_id, post.published_at, copied,
                                     post.removed_at, post.removal, post.edits)  # fmt: skip
    study = Study.init(tmp_path / "study")
    replay(study, posts_, until=T0 + 3 * 3600.0, platform="weibo")
    with study.engine.connect() as connection:
        original = set(
            connection.execute(
                select(observations.c.body_sha256)
                .join(posts, posts.c.id == observations.c.post_pk)
                .where(observations.c.kind == "check", posts.c.post_id == posts_[4].post_id)
            ).scalars()
        )
    assert original
    asyncio.run(take_down(study, posts_[5].author_id, platform="weibo", reason="test"))
    assert {sha for sha in original if study.blobs.exists(sha)} == original
    with study.engine.connect() as connection:
        text = connection.execute(
            select(posts.c.text).where(posts.c.post_id == posts_[4].post_id)
        ).scalar_one()
    assert text == copied
    assert verify_study(study).success


def test_a_quote_of_the_author_in_another_authors_post_is_blanked_and_still_verifies(
    tmp_path: Path,
) -> None:
    """Another author's post quotes the author (their id and words): after the takedown no
    export holds either, the blanking is a logged redaction, and the study verifies; the same
    blanking done by hand (a text emptied, a record added) fails verification."""
    posts_ = scenario()
    quoted = next(p for p in posts_ if p.author_id == AUTHOR)
    quoter = next(i for i, p in enumerate(posts_) if p.author_id != AUTHOR and p.removal is None)
    post = posts_[quoter]
    posts_[quoter] = ScenarioPost(post.post_id, post.author_id, post.published_at,
                                  f"转发 @{AUTHOR}：{quoted.text}", post.removed_at,
                                  post.removal, post.edits)  # fmt: skip
    clean = tmp_path / "clean"
    study = Study.init(clean)
    replay(study, posts_, until=T0 + 3 * 3600.0, platform="weibo")
    study.close()
    shutil.copytree(clean, tmp_path / "forged")
    study = Study.open(clean)
    asyncio.run(take_down(study, AUTHOR, platform="weibo", reason="test"))
    with study.engine.connect() as connection:
        text = connection.execute(
            select(posts.c.text).where(posts.c.post_id == post.post_id)
        ).scalar_one()
    assert text == ""
    (tmp_path / "out").mkdir()
    assert leaks(study, tmp_path / "out", "weibo") == []
    report = verify_study(study)
    assert report.success, report.failures
    forged = Study.open(tmp_path / "forged")
    with forged.engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.post_id == post.post_id).values(text=""))
        connection.execute(
            redactions.insert().values(
                body_sha256=f"text:weibo:{post.post_id}", author_pseudonym="a_forged",
                reason="x", redacted_at=0.0, observation_id=1,
            )
        )  # fmt: skip
    assert not verify_study(forged).success
