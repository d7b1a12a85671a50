"""Bluesky's Jetstream as a listing (``bluesky:stream``, platforms/bluesky_stream.py): a slice
of frames discovers posts and dates their authors' deletions; unreadable frames are counted;
the collector resumes from the cursor; and a real WebSocket slice is read from ``sim serve``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from memoryhole.collect.transport import AiohttpTransport
from memoryhole.errors import TargetError
from memoryhole.model import Capture, Status, Target
from memoryhole.platforms.bluesky import BlueskyPlatform
from memoryhole.scenario import write_scenario
from memoryhole.sim.process import SimulatorProcess
from memoryhole.sim.replay import replay
from memoryhole.sim.shapes.bluesky import did_of, uri_of
from memoryhole.sim.truth import evaluate
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import observations, posts
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0
DATA = Path(__file__).parents[1] / "data" / "real" / "samples"
STREAM = Target("bluesky", "stream", "")


def slice_of(body: bytes, cursor: str | None = None) -> Capture:
    platform = BlueskyPlatform()
    request = platform.discover_request(STREAM, cursor)
    return Capture(request, 101, (), body, T0, T0)


def test_targets_and_the_request() -> None:
    platform = BlueskyPlatform()
    assert platform.parse_target("stream") == STREAM
    did = "did:plc:4smmjsqf6l5jkzczvw6vsrqc"
    assert platform.parse_target(f"stream/{did}").key == did
    with pytest.raises(TargetError, match="not a DID"):
        platform.parse_target("stream/alice.bsky.social")
    request = platform.discover_request(Target("bluesky", "stream", did), "1783175888377628")
    assert request.url == "wss://jetstream2.us-east.bsky.network/subscribe"
    assert ("wantedDids", did) in request.params
    assert ("cursor", "1783175888377628") in request.params


def test_a_real_delete_frame_is_its_authors_deletion_and_moves_the_cursor() -> None:
    frame = (DATA / "bsky_jetstream_commit_delete_post.body").read_bytes().strip()
    account = (DATA / "bsky_jetstream_account_takendown.body").read_bytes().strip()
    found = BlueskyPlatform().parse_discover(STREAM, slice_of(frame + b"\n" + account))
    assert found.status is Status.LIVE and found.posts == ()
    (notice,) = found.notices
    assert notice.status is Status.AUTHOR_DELETED and notice.code == "commit-delete"
    assert notice.post_id.endswith("/app.bsky.feed.post/3mpt73z3ejc2p")
    assert found.next_cursor == "1783175888377628"  # the newest frame's time_us
    assert "1 takendown" in found.detail  # an account event is said, not dropped
    did = json.loads(account)["did"]
    assert found.accounts_gone == (did,)  # and its known posts are checked at once


def test_frames_that_cannot_be_read_are_counted_and_a_slice_of_only_those_fails() -> None:
    good = (DATA / "bsky_jetstream_commit_delete_post.body").read_bytes().strip()
    mixed = BlueskyPlatform().parse_discover(STREAM, slice_of(good + b"\n{not json\n"))
    assert mixed.status is Status.LIVE and len(mixed.unreadable) == 1
    bad = BlueskyPlatform().parse_discover(STREAM, slice_of(b'{"kind": "commit"}\n[1]'))
    assert bad.status is Status.UNREACHABLE and "none could be read" in bad.detail
    quiet = BlueskyPlatform().parse_discover(STREAM, slice_of(b"", cursor="123"))
    assert quiet.status is Status.LIVE and quiet.next_cursor == "123"  # resumes where it was
    refused = Capture(slice_of(b"").request, None, (), b"", T0, T0, error="timeout")
    assert BlueskyPlatform().parse_discover(STREAM, refused).status is Status.UNREACHABLE


def test_watching_only_the_stream_finds_every_post_and_dates_deletions(tmp_path: Path) -> None:
    scenario = known_removals(T0)
    study = Study.init(tmp_path / "study")
    _, end = replay(
        study, scenario, until=T0 + 3 * 3600, platform="bluesky", watch=[STREAM], seed=3
    )
    with study.engine.connect() as connection:
        found = set(connection.execute(select(posts.c.post_id)).scalars())
        deletions = connection.execute(
            select(observations.c.code).where(observations.c.code == "commit-delete")
        ).all()
    published = {uri_of(p) for p in scenario if p.published_at <= end}
    assert published <= found  # the stream lists posts even if they went before a check
    verdicts = list(iter_verdicts(study.engine))
    result = evaluate(scenario, verdicts, until=end, platform="bluesky")
    assert result.false_removals == [] and result.misattributed == []
    deleted = [p for p in scenario if p.removal == "author_deleted" and p.removed_at < end]
    assert deleted and len(deletions) >= len(deleted)
    by_post = {str(v["post_id"]): v for v in verdicts}
    for post in deleted:
        assert by_post[uri_of(post)]["verdict"] == "author_deleted"


def test_a_real_websocket_slice_from_sim_serve(tmp_path: Path) -> None:
    scenario = known_removals(T0, posts=12)
    path = tmp_path / "scenario.jsonl"
    write_scenario(scenario, path)
    with SimulatorProcess(path, speed=1e6, platform="bluesky") as simulator:
        platform = BlueskyPlatform(simulator.base_url)
        target = Target("bluesky", "stream", did_of(scenario[0].author_id))
        request = platform.discover_request(target, None)
        assert request.url.startswith("ws://127.0.0.1:")

        async def read() -> Capture:
            transport = AiohttpTransport(timeout=10.0)
            try:
                raw = await transport.send(request)
            finally:
                await transport.close()
            return Capture(request, raw.status, raw.headers, raw.body, T0, T0)

        capture = asyncio.run(read())
    assert capture.status == 101
    frames = [json.loads(line) for line in capture.body.split(b"\n")]
    assert frames and {frame["did"] for frame in frames} == {target.key}
    found = platform.parse_discover(target, capture)
    assert {p.post_id for p in found.posts} == {
        uri_of(p) for p in scenario if p.author_id == scenario[0].author_id
    }


def test_an_account_event_has_the_accounts_posts_checked_at_once(tmp_path: Path) -> None:
    """Without it, the posts of an account taken down were found gone whenever their next
    check came (38 s to 17.7 min later in this replay); with it, at the next slice."""
    from memoryhole.scenario import effective_removal, suspension_times

    scenario = known_removals(T0)
    study = Study.init(tmp_path / "study")
    replay(study, scenario, until=T0 + 3 * 3600, platform="bluesky", watch=[STREAM], seed=3)
    suspended = suspension_times(scenario)
    by_post = {str(v["post_id"]): v for v in iter_verdicts(study.engine)}
    gone = [(p, r[0]) for p in scenario
            if (r := effective_removal(p, suspended)) and r[1] == "account_suspended"]  # fmt: skip
    assert len(gone) >= 5
    for post, at in gone:
        verdict = by_post[uri_of(post)]
        assert verdict["verdict"] == "account_suspended"
        assert float(verdict["first_seen_removed_at"]) - at <= 60.0, post.post_id
