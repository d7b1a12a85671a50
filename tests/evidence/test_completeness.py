"""A bundle proves it holds every observation of its post, and the store's facts about posts
are checked against the log (issue 21, items 2 and 6).

The attacks: drop a censored post's trailing observations (or a reappeared post's "visible
again") and rebuild the zip, so that the rest verifies with the opposite verdict; edit a post's
author or publication time, or delete its verdict row, in the store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from benchmarks.attacks_evidence import forge, rebuilt, trailing_removals_dropped
from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.transport import RawResponse
from memoryhole.evidence.bundle import build_bundle, read_members
from memoryhole.evidence.heads import chain_of
from memoryhole.evidence.verify import verify_bundle_bytes, verify_study
from memoryhole.model import Request, Target
from memoryhole.platforms.weibo import WeiboPlatform
from memoryhole.schedule.policy import AgeProportional
from memoryhole.store.queries import add_targets, iter_verdicts
from memoryhole.store.schema import authors, posts, verdicts
from memoryhole.study import Study
from tests.evidence.conftest import censored_post

T0 = 1_700_000_000.0
JSON = (("content-type", "application/json; charset=utf-8"),)


WHOLE = "does not hold every observation"


def test_a_censored_post_without_its_last_observations_does_not_verify(
    study_path: Path, tmp_path: Path
) -> None:
    study = Study.open(study_path)
    out = tmp_path / "b.zip"
    manifest = build_bundle(study, censored_post(study), out)
    assert verify_bundle_bytes(out.read_bytes(), out).failures == []
    forged = trailing_removals_dropped(out, manifest)
    assert json.loads(dict(read_members(forged))["manifest.json"])["verdict"]["verdict"] == "live"
    report = verify_bundle_bytes(forged, out)
    # everything else checks out (proofs, signature, WARC, the verdict the rest gives): only
    # the bundle's incompleteness gives it away
    assert len(report.failures) == 1 and WHOLE in report.failures[0], report.failures


class Ghost:
    """Weibo answering a timeline with one post, removed (20112) for ten minutes, then back."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    async def send(self, request: Request) -> RawResponse:
        now = self.clock.now()
        mblog = {"id": "4900000000000001", "mid": "4900000000000001", "text": "一条"}
        mblog |= {"created_at": "刚刚", "user": {"id": 7001}}
        if "getIndex" in request.url:
            cards = [{"card_type": 9, "mblog": mblog}]
            payload: object = {"ok": 1, "data": {"cardlistInfo": {}, "cards": cards}}
        elif T0 + 600 <= now < T0 + 1200:
            payload = {"ok": 0, "errno": "20112", "msg": "permission denied"}
        else:
            payload = {"ok": 1, "data": mblog | {"created_at": "Tue Nov 14 22:13:20 +0800 2023"}}
        return RawResponse(200, JSON, json.dumps(payload, ensure_ascii=False).encode())

    async def close(self) -> None:
        return None


def test_a_post_seen_again_without_its_visible_again_does_not_verify(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    add_targets(study.engine, [Target("weibo", "user", "7001")], T0)
    clock = VirtualClock(T0)
    policy = AgeProportional(first_check_after=60.0, max_interval=300.0, horizon=86400.0)
    collector = Collector(
        study, {"weibo": WeiboPlatform("http://weibo.invalid")}, Ghost(clock), clock,
        budget_per_second=10.0, policy=policy,
    )  # fmt: skip
    asyncio.run(collector.run(until=T0 + 3600))
    (row,) = iter_verdicts(study.engine)
    assert row["verdict"] == "live" and row["first_seen_removed_at"] is None  # seen again
    out = tmp_path / "b.zip"
    manifest = build_bundle(study, "4900000000000001", out)
    assert verify_bundle_bytes(out.read_bytes(), out).failures == []
    observations = manifest["observations"]
    removal = max(
        i for i, e in enumerate(observations) if json.loads(e["leaf"])["status"] == "censored"
    )
    forged = forge(out, manifest, observations[: removal + 1])  # it stops at the removal
    forged_manifest = json.loads(dict(read_members(forged))["manifest.json"])
    assert forged_manifest["verdict"]["verdict"] == "censored"
    report = verify_bundle_bytes(forged, out)
    assert len(report.failures) == 1 and WHOLE in report.failures[0], report.failures


def test_a_forged_head_entry_does_not_verify(study_path: Path, tmp_path: Path) -> None:
    study = Study.open(study_path)
    out = tmp_path / "b.zip"
    manifest = build_bundle(study, censored_post(study), out)
    forged = json.loads(
        dict(read_members(trailing_removals_dropped(out, manifest)))["manifest.json"]
    )
    indices = [e["index"] for e in forged["observations"] if e["of_post"]]
    count, digest = chain_of(indices)
    forged["heads"]["entry"].update(count=count, digest=digest.hex())  # matches the rest
    report = verify_bundle_bytes(rebuilt(out, forged), out)
    assert any("not the one the checkpoint signed" in f for f in report.failures), report.failures


def test_an_observation_marked_as_not_the_posts_does_not_hide(
    study_path: Path, tmp_path: Path
) -> None:
    study = Study.open(study_path)
    out = tmp_path / "b.zip"
    manifest = build_bundle(study, censored_post(study), out)
    last = manifest["observations"][-1]
    last["of_post"] = False  # as if it were the listing, not one of the post's observations
    report = verify_bundle_bytes(rebuilt(out, manifest), out)
    assert any(WHOLE in f for f in report.failures), report.failures


def test_the_manifests_post_facts_are_checked_against_its_leaves(
    study_path: Path, tmp_path: Path
) -> None:
    study = Study.open(study_path)
    out = tmp_path / "b.zip"
    manifest = build_bundle(study, censored_post(study), out)
    for field, value in (("author_id", "a_00000000000000000000"), ("published_at", 1.0)):
        forged = json.loads(json.dumps(manifest))
        forged["post"][field] = value
        report = verify_bundle_bytes(rebuilt(out, forged), out)
        assert any("manifest.json post" in f for f in report.failures), (field, report.failures)


@pytest.mark.parametrize("edit", ["author", "published_at", "published_until", "verdict row"])
def test_verify_study_catches_edits_of_what_exports_state(study_path: Path, edit: str) -> None:
    study = Study.open(study_path)
    assert verify_study(study).failures == []
    post_id = censored_post(study)
    with study.engine.begin() as conn:
        pk, author_pk = conn.execute(
            select(posts.c.id, posts.c.author_pk).where(posts.c.post_id == post_id)
        ).one()
        if edit == "author":
            other = conn.execute(select(authors.c.id).where(authors.c.id != author_pk)).scalar()
            conn.execute(update(posts).where(posts.c.id == pk).values(author_pk=other))
        elif edit == "published_at":
            conn.execute(
                update(posts).where(posts.c.id == pk).values(published_at=posts.c.published_at - 60)
            )
        elif edit == "published_until":
            conn.execute(
                update(posts)
                .where(posts.c.id == pk)
                .values(published_until=posts.c.published_at + 86400)
            )
        else:
            conn.execute(delete(verdicts).where(verdicts.c.post_pk == pk))
    failures = verify_study(study).failures
    assert any(post_id in f for f in failures), failures
