"""The Bluesky adapter against the simulator speaking Bluesky's shapes: each removal kind read
through its whole attribution, end to end on a virtual clock with and without faults (zero false
removals, every removal found, none misattributed), and the pieces the real samples do not
cover: targets, unreadable items, the repo's CAR proof, a labeler that does not answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.errors import TargetError
from memoryhole.model import Capture, Observation, PostRef, Request, Status, Target
from memoryhole.platforms import registry
from memoryhole.platforms.bluesky import (
    MODERATION_DID,
    BlueskyPlatform,
    car_blocks,
    car_holds_post,
)
from memoryhole.scenario import ScenarioPost, effective_removal, suspension_times
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.replay import REPLAY_BASE_URL, replay
from memoryhole.sim.shapes import WATCH, get_shape
from memoryhole.sim.shapes.bluesky import CENSOR_WAYS, cbor, did_of, uri_of
from memoryhole.sim.truth import evaluate
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0
FAULTS = "5xx=0.15,slow=0.03,truncate=0.1,captcha=0.1,reset=0.05"


# -- targets ----------------------------------------------------------------------------------


def test_targets_are_an_actor_by_handle_or_did_and_all_only_on_a_simulator() -> None:
    platform = BlueskyPlatform()
    assert platform.parse_target("actor/@Alice.bsky.social") == Target(
        "bluesky", "actor", "alice.bsky.social"
    )
    did = "did:plc:wpe35pganb6d4pg4ekmfy6u5"
    assert platform.parse_target(f"actor/{did}") == Target("bluesky", "actor", did)
    assert platform.parse_target("actor/did:web:example.com").key == "did:web:example.com"
    for bad in ("actor/", "actor/not a handle", "actor/did:plc:short", "user/alice.bsky.social"):
        with pytest.raises(TargetError, match="bluesky:actor/"):
            platform.parse_target(bad)
    with pytest.raises(TargetError, match="firehose"):
        platform.parse_target("all")
    assert BlueskyPlatform("http://127.0.0.1:8000").parse_target("all") == Target("bluesky", "all")
    assert registry.parse_target(WATCH["bluesky"].spec, REPLAY_BASE_URL) == WATCH["bluesky"]
    assert get_shape("bluesky") is not None
    request = platform.discover_request(Target("bluesky", "actor", did), None)
    assert request.full_url() == (
        "https://public.api.bsky.app/xrpc/app.bsky.feed.getAuthorFeed?actor=did%3Aplc%3A"
        "wpe35pganb6d4pg4ekmfy6u5&limit=100&filter=posts_with_replies"
    )


def test_the_simulator_plays_the_plc_directory_and_the_labeler_on_its_own_address() -> None:
    real = BlueskyPlatform()
    assert (real.plc_url, real.labeler_url) == ("https://plc.directory", "https://mod.bsky.app")
    local = BlueskyPlatform("http://127.0.0.1:8000/")
    assert local.plc_url == local.labeler_url == "http://127.0.0.1:8000"
    chosen = BlueskyPlatform(plc_url="https://plc.example", labeler_url="https://labels.example")
    assert (chosen.plc_url, chosen.labeler_url) == ("https://plc.example", "https://labels.example")


# -- listings the real sample does not show --------------------------------------------------------


def view(uri: str, did: str, created: str = "2025-05-05T01:30:17.912Z") -> dict[str, Any]:
    return {
        "uri": uri,
        "author": {"did": did, "handle": "a.bsky.social"},
        "record": {"$type": "app.bsky.feed.post", "createdAt": created, "text": "hi"},
        "indexedAt": created,
    }


def test_unreadable_items_are_named_and_a_feed_of_only_unreadable_items_fails() -> None:
    platform = BlueskyPlatform()
    target = Target("bluesky", "actor", "a.bsky.social")
    did = "did:plc:wpe35pganb6d4pg4ekmfy6u5"
    good = f"at://{did}/app.bsky.feed.post/3lof7sovfok2h"
    feed = [
        {"post": view(good, did)},
        {"post": view(good, did)},  # listed twice: one post
        {"post": view(f"at://{did}/app.bsky.feed.post/3x", did, "yesterday")},
        {"post": view(f"at://{did}/app.bsky.feed.like/3y", did)},
        {"post": view(f"at://{did}/app.bsky.feed.post/3z", "nobody")},
        {"post": view(good, did), "reason": {"$type": "app.bsky.feed.defs#reasonSomething"}},
        "not an item",
    ]
    request = platform.discover_request(target, None)
    capture = Capture(request, 200, (), json.dumps({"feed": feed}).encode(), 1.0, 1.0)
    discovery = platform.parse_discover(target, capture)
    assert discovery.status is Status.LIVE and [p.post_id for p in discovery.posts] == [good]
    assert len(discovery.unreadable) == 5
    assert "createdAt 'yesterday' is not a time" in discovery.unreadable[0]
    assert "no post URI" in discovery.unreadable[1]
    assert "no author DID" in discovery.unreadable[2]
    assert "reasonSomething" in discovery.unreadable[3]
    body = json.dumps({"feed": feed[2:]}).encode()
    failed = platform.parse_discover(target, Capture(request, 200, (), body, 1.0, 1.0))
    assert failed.status is Status.UNREACHABLE and "none could be read" in failed.detail
    empty = platform.parse_discover(target, Capture(request, 200, (), b'{"feed":[]}', 1.0, 1.0))
    assert (empty.status, empty.posts, empty.last_page) == (Status.LIVE, (), True)


def test_a_pinned_post_is_listed_but_does_not_move_the_cursor() -> None:
    platform = BlueskyPlatform()
    target = Target("bluesky", "actor", "a.bsky.social")
    did = "did:plc:wpe35pganb6d4pg4ekmfy6u5"
    pinned = view(f"at://{did}/app.bsky.feed.post/3new", did, "2026-01-01T00:00:00.000Z")
    older = view(f"at://{did}/app.bsky.feed.post/3old", did, "2025-01-01T00:00:00.000Z")
    feed = [{"post": pinned, "reason": {"$type": "app.bsky.feed.defs#reasonPin"}}, {"post": older}]
    request = platform.discover_request(target, None)
    capture = Capture(request, 200, (), json.dumps({"feed": feed}).encode(), 1.0, 1.0)
    discovery = platform.parse_discover(target, capture)
    assert len(discovery.posts) == 2
    assert discovery.next_cursor == "1735689600000"  # 2025-01-01, not the pinned post


# -- the repo's proof --------------------------------------------------------------------------


def sim_proof(sim: SimPlatform, post: ScenarioPost) -> bytes:
    query = {"did": did_of(post.author_id), "collection": "app.bsky.feed.post"}
    code, headers, body = sim.handle("GET", "/xrpc/com.atproto.sync.getRecord", query | {
        "rkey": post.post_id
    })  # fmt: skip
    assert code == 200 and headers[0][1] == "application/vnd.ipld.car"
    return body


def test_the_repos_proof_says_whether_it_holds_the_record_and_is_checked() -> None:
    posts = [
        ScenarioPost("11", "7", T0, "在", removed_at=T0 + 60, removal="censored"),
        ScenarioPost("12", "7", T0 + 1, "删", removed_at=T0 + 60, removal="author_deleted"),
    ]
    sim = SimPlatform(posts, VirtualClock(T0 + 120), "bluesky")
    held, deleted = sim_proof(sim, posts[0]), sim_proof(sim, posts[1])
    assert car_holds_post(held) is True and car_holds_post(deleted) is False
    blocks = car_blocks(held)
    assert blocks is not None and len(blocks) == 3  # the commit, the tree node, the record
    for broken in (
        held[: len(held) - 5],
        held[:1],
        b"",
        b"{}",
        held.replace(b"\xe5\x9c\xa8", b"X"),
    ):
        assert car_holds_post(broken) is None  # cut, empty, not a CAR, or a block not its CID
    # the record's bytes alone, without the CAR framing, are no proof
    assert car_holds_post(cbor({"$type": "app.bsky.feed.post", "text": "x"})) is None


# -- each removal through its attribution ------------------------------------------------------


def attribute(sim: SimPlatform, platform: BlueskyPlatform, post: ScenarioPost) -> list[Any]:
    """The post's check, then each attribution request it asks for, answered by ``sim``:
    [(method, status, code)] until it asks for the post itself again."""
    ref = PostRef("bluesky", uri_of(post), did_of(post.author_id))
    said = []
    for _ in range(8):
        request = platform.check_request(ref)
        path = urlsplit(request.url).path
        code, headers, body = sim.handle(request.method, path, dict(request.params))
        now = sim.clock.now()
        observation = platform.parse_check(ref, Capture(request, code, headers, body, now, now))
        said.append((path.rsplit("/", 1)[-1], observation.status.value, observation.code))
        if "getPostThread" in platform.check_request(ref).url:
            break
    return said


def test_each_removal_kind_is_attributed_as_the_simulator_hid_it() -> None:
    by_way: dict[str, str] = {}
    posts = []
    for way in ("label", "appview", "pds"):
        post_id = next(str(n) for n in range(10_000, 20_000) if pick_way(str(n)) == way)
        by_way[way] = post_id
        posts.append(ScenarioPost(post_id, "7001", T0, way, removed_at=T0 + 60, removal="censored"))
    posts += [
        ScenarioPost("21", "7002", T0, "删了", removed_at=T0 + 60, removal="author_deleted"),
        ScenarioPost("22", "7003", T0, "封了", removed_at=T0 + 60, removal="account_suspended"),
        ScenarioPost("23", "7004", T0, "一直在"),
    ]
    sim = SimPlatform(posts, VirtualClock(T0 + 120), "bluesky")
    platform = BlueskyPlatform(REPLAY_BASE_URL)
    got = {post.post_id: attribute(sim, platform, post) for post in posts}
    gone = ("app.bsky.feed.getPostThread", "unknown", "NotFound")
    no_label = ("com.atproto.label.queryLabels", "unreachable", "NotFound")
    account_fine = ("app.bsky.actor.getProfile", "unreachable", "NotFound")
    did_doc = (did_of("7001"), "unreachable", "NotFound")
    assert got[by_way["label"]] == [
        gone,
        ("com.atproto.label.queryLabels", "censored", "takedown-label"),
    ]
    assert got[by_way["appview"]] == [
        gone,
        no_label,
        account_fine,
        did_doc,
        ("com.atproto.repo.getRecord", "censored", "appview-hidden"),
    ]
    # the same author's PDS is known by now: no DID document asked again
    assert got[by_way["pds"]] == [
        gone,
        no_label,
        account_fine,
        ("com.atproto.repo.getRecord", "unreachable", "NotFound"),
        ("com.atproto.sync.getRecord", "censored", "pds-takedown"),
    ]
    assert got["21"][-1] == ("com.atproto.sync.getRecord", "author_deleted", "record-deleted")
    assert got["22"] == [
        gone,
        ("com.atproto.label.queryLabels", "account_suspended", "takedown-label"),
    ]
    assert got["23"] == [("app.bsky.feed.getPostThread", "live", None)]


def pick_way(post_id: str) -> str:
    from memoryhole.sim.shapes import pick

    return pick(post_id, CENSOR_WAYS)


def test_a_labeler_that_does_not_answer_is_asked_again_never_passed_over() -> None:
    """The labels alone date a takedown: without them a suspension that came after the post
    went would be blamed for it."""
    platform = BlueskyPlatform()
    post = PostRef(
        "bluesky",
        "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s",
        "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns",
    )
    gone = b'{"error":"NotFound","message":"Post not found"}'
    platform.parse_check(post, Capture(platform.check_request(post), 400, (), gone, 1.0, 1.0))
    for attempt in range(1, 6):
        request = platform.check_request(post)
        assert "queryLabels" in request.url, attempt
        said = platform.parse_check(post, Capture(request, 503, (), b"", 1.0, 1.0))
        assert said.status is Status.UNREACHABLE
        assert f"attribution step labels, attempt {attempt}" in said.detail


def test_an_answer_to_a_step_no_longer_asked_says_nothing() -> None:
    platform = BlueskyPlatform()
    post = PostRef("bluesky", "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k", "x")
    request = Request("GET", "https://public.api.bsky.app/xrpc/app.bsky.actor.getProfile")
    body = b'{"error":"AccountTakedown","message":"Account has been suspended"}'
    observation = platform.parse_check(post, Capture(request, 400, (), body, 1.0, 1.0))
    assert observation == Observation(
        Status.UNREACHABLE,
        detail="an attribution answer (app.bsky.actor.getProfile) no longer asked for",
    )


def test_a_did_web_authors_document_is_asked_of_its_own_host() -> None:
    platform = BlueskyPlatform()
    post = PostRef(
        "bluesky", "at://did:web:example.com/app.bsky.feed.post/3k", "did:web:example.com"
    )
    gone = b'{"error":"NotFound","message":"Post not found"}'
    platform.parse_check(post, Capture(platform.check_request(post), 400, (), gone, 1.0, 1.0))
    labels = Capture(platform.check_request(post), 200, (), b'{"labels":[]}', 1.0, 1.0)
    platform.parse_check(post, labels)
    profile = json.dumps({"did": "did:web:example.com", "handle": "example.com"}).encode()
    platform.parse_check(post, Capture(platform.check_request(post), 200, (), profile, 1.0, 1.0))
    request = platform.check_request(post)
    assert request.url == "https://example.com/.well-known/did.json#after=NotFound"
    document = {
        "id": "did:web:example.com",
        "service": [
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "https://pds.example.com",
            }
        ],
    }
    body = json.dumps(document).encode()
    platform.parse_check(post, Capture(request, 200, (), body, 1.0, 1.0))
    assert platform.check_request(post).url.startswith(
        "https://pds.example.com/xrpc/com.atproto.repo.getRecord"
    )


# -- end to end ----------------------------------------------------------------------------------


@pytest.mark.parametrize("faults", [None, FAULTS], ids=["clean", "faults"])
def test_every_removal_found_none_invented_none_misattributed(
    tmp_path: Path, faults: str | None
) -> None:
    scenario = known_removals(T0)
    study = Study.init(tmp_path / "study")
    stats, end = replay(
        study, scenario, until=T0 + 3 * 3600, faults=faults, seed=7, platform="bluesky"
    )
    if faults:
        assert stats.transient > 0.2 * (stats.checks + stats.polls), "faults were injected"
    verdicts = list(iter_verdicts(study.engine))
    result = evaluate(scenario, verdicts, until=end, platform="bluesky")
    assert result.false_removals == [] and result.interval_misses == []
    assert result.true_removals >= 20 and result.caught == result.true_removals
    assert result.misattributed == []
    suspended = suspension_times(scenario)
    truth = {p.post_id: effective_removal(p, suspended) for p in scenario}
    by_post = {str(v["post_id"]).rsplit("/", 1)[-1]: str(v["verdict"]) for v in verdicts}
    for post_id, removal in truth.items():
        expected = "live" if removal is None else removal[1]
        assert by_post[post_id] in (expected, "unknown"), post_id
    if faults is None:
        assert result.attribution == 1.0, result.caught_by_kind
        assert set(result.caught_by_kind) == {"censored", "author_deleted", "account_suspended"}
    assert_live_posts_were_checked_many_at_once(study)


def assert_live_posts_were_checked_many_at_once(study: Study) -> None:
    """Live posts due together are asked in one ``getPosts``; a post its answer does not show
    is asked alone next (never a removal by itself)."""
    from collections import Counter

    from sqlalchemy import select

    from memoryhole.store.schema import observations

    with study.engine.connect() as connection:
        rows = connection.execute(
            select(
                observations.c.id,
                observations.c.sent_at,
                observations.c.post_pk,
                observations.c.code,
                observations.c.url,
            ).where(observations.c.kind == "check")
        ).all()
    many = [r for r in rows if "app.bsky.feed.getPosts" in r.url]
    per_request = Counter(r.sent_at for r in many)
    assert many and max(per_request.values()) >= 2
    assert len(per_request) < len(many)  # fewer requests than posts asked
    for missing in (r for r in many if r.code == "not_in_wide_view"):
        after = [r for r in rows if r.post_pk == missing.post_pk and r.id > missing.id]
        assert after and "getPosts" not in after[0].url, missing.post_pk  # its own check


# -- attribution over time ------------------------------------------------------------------------

POST = PostRef(
    "bluesky",
    "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s",
    "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns",
)
GONE = b'{"error":"NotFound","message":"Post not found"}'
MODERATION = MODERATION_DID


def ask(platform: BlueskyPlatform, body: bytes, status: int = 200, at: float = 10.0) -> Any:
    request = platform.check_request(POST)
    said = platform.parse_check(POST, Capture(request, status, (), body, at, at, sent_at=at))
    return urlsplit(request.url).path.rsplit("/", 1)[-1], said


def account_label(cts: str) -> bytes:
    label = {"src": MODERATION, "uri": POST.author_id, "val": "!takedown", "cts": cts}
    return json.dumps({"labels": [label]}).encode()


def test_an_account_taken_down_after_the_post_went_is_not_blamed_for_it() -> None:
    platform = BlueskyPlatform()
    gone_at = 1_750_000_000.0  # 2025-06-15T15:06:40Z
    assert ask(platform, GONE, 400, gone_at)[1].status is Status.REMOVED_UNKNOWN
    assert ask(platform, b'{"labels":[]}')[1].status is Status.UNREACHABLE  # none yet
    takedown = b'{"error":"AccountTakedown","message":"Account has been suspended"}'
    method, said = ask(platform, takedown, 400)
    assert method == "app.bsky.actor.getProfile" and "to date the takedown" in said.detail
    # read again, the labels date the takedown a day after the post went: not why it went
    method, said = ask(platform, account_label("2025-06-16T15:06:40.000Z"))
    assert method == "com.atproto.label.queryLabels"
    assert said.status is Status.UNREACHABLE and "not why it went" in said.detail
    assert "getPostThread" in platform.check_request(POST).url
    assert ask(platform, GONE, 400)[1].status is Status.REMOVED_UNKNOWN  # stays unattributed
    # dated before the post went, the same takedown is the reason
    earlier = BlueskyPlatform()
    ask(earlier, GONE, 400, gone_at)
    said = ask(earlier, account_label("2025-06-14T15:06:40.000Z"))[1]
    assert (said.status, said.code) == (Status.ACCOUNT_SUSPENDED, "takedown-label")


def test_a_post_seen_again_is_attributed_afresh_when_it_goes_again() -> None:
    platform = BlueskyPlatform()
    ask(platform, GONE, 400)
    label = {
        "src": MODERATION,
        "uri": POST.post_id,
        "val": "!takedown",
        "cts": "1970-01-01T00:00:01Z",
    }
    said = ask(platform, json.dumps({"labels": [label]}).encode())[1]
    assert said.status is Status.CENSORED
    assert ask(platform, GONE, 400)[1].status is Status.CENSORED  # repeated while gone
    thread = {
        "thread": {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": {
                "uri": POST.post_id,
                "author": {"did": POST.author_id},
                "record": {"text": "back", "createdAt": "2023-09-19T11:32:54.574Z"},
            },
        }
    }
    assert ask(platform, json.dumps(thread).encode())[1].status is Status.LIVE
    assert ask(platform, GONE, 400)[1].status is Status.REMOVED_UNKNOWN
    assert "queryLabels" in platform.check_request(POST).url
