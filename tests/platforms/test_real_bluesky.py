"""Bluesky's real captured answers (tests/data/real, README "what it shows", REASONS.md): what
the adapter must conclude from each, that no fault turns one of them into a removal, how a post
that is gone is attributed step by step, Jetstream's events, and the simulator's answers held
against the real shapes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from memoryhole.classify import first_verdict, fold
from memoryhole.clock import VirtualClock
from memoryhole.model import Capture, Observation, PostRef, Request, Status, Target, content_hash
from memoryhole.platforms.bluesky import (
    MODERATION_DID,
    BlueskyPlatform,
    Label,
    parse_jetstream_event,
    parse_label,
    pds_endpoint,
    takedown_events,
    takedown_since,
)
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.shapes.bluesky import did_of, handle_of, uri_of
from tests.platforms.helpers import FAULTS, Fault
from tests.platforms.real_samples import sample, sample_names, shape_differences

BASE = "https://public.api.bsky.app"
#: A post the samples answer for when they concern no post in particular.
ANY_POST = PostRef(
    "bluesky",
    "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s",
    "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns",
)
#: When the post was first answered gone in the attribution tests (after every sample's date).
GONE_AT = 1_800_000_000.0

#: Answers to a post's check (``getPostThread``).
CHECKS = {
    "bsky_postthread_visible": Status.LIVE,
    "bsky_postthread_visible_marshalx": Status.LIVE,  # an image and a quote, no text
    "bsky_postthread_blockedpost_fragment": Status.UNREACHABLE,  # about who asks
    "bsky_ratelimit_429": Status.UNREACHABLE,
    "bsky_createrecord_400_invalid": Status.UNREACHABLE,  # a 400 that is not NotFound
    "bsky_createsession_401_auth_required": Status.UNREACHABLE,
}
#: ``getPosts`` (many posts a request): the post it shows is live.
WIDE = {"bsky_getposts_visible"}
#: The account, asked after the post went and no takedown label was found: the post's verdict.
ACCOUNTS = {
    "bsky_getprofile_accounttakedown_400": Status.ACCOUNT_SUSPENDED,
    "bsky_getprofile_accountdeactivated_400": Status.AUTHOR_DELETED,  # the author's choice
    "bsky_getprofile_profile_not_found_400": Status.REMOVED_UNKNOWN,  # deleted or unknown
    "bsky_actorlikes_profile_not_found_400": Status.REMOVED_UNKNOWN,  # the same answer
    "bsky_getprofiles_normal": Status.REMOVED_UNKNOWN,  # in good standing: the repo is next
}
#: A DID document (here inside describeRepo's answer): where the author's repository is.
DID_DOCUMENTS = {"bsky_describerepo_ok": "https://inkcap.us-east.host.bsky.network"}
#: The author's PDS still serves the record the AppView hides: taken down, not deleted.
RECORDS = {"bsky_getrecord_post_ok", "bsky_getrecord_post_ok_marshalx"}
#: Labels of Bluesky's moderation service (one label object each): subject, taken down?, time.
LABELS = {
    "bsky_label_takedown_modbsky": (
        "did:plc:qx7s5vdotumqa4h52ejojeby",
        True,
        "2025-03-13T13:23:33.592Z",
    ),
    "bsky_label_takedown_negated_modbsky": (
        "did:plc:jhp75pzoruahzoiyyjujcv63",
        False,
        "2025-03-13T13:54:41.618Z",
    ),
}
#: Jetstream frames: (kind, what they say of a post or an account).
JETSTREAM = {
    "bsky_jetstream_commit_delete_post": ("commit", Status.AUTHOR_DELETED),
    "bsky_jetstream_commit_delete_follow": ("commit", None),  # not a post
    "bsky_jetstream_account_takendown": ("account", Status.ACCOUNT_SUSPENDED),
    "bsky_jetstream_account_deleted": ("account", Status.AUTHOR_DELETED),
    "bsky_jetstream_account_active": ("account", None),
    "bsky_jetstream_identity": ("identity", None),
}
#: Listings: (target, posts listed, reposts skipped).
LISTINGS = {
    "bsky_authorfeed_page_cursor": (Target("bluesky", "actor", "chriskenny.bsky.social"), 43, 7),
}
CLAIMS = (
    frozenset(CHECKS)
    | frozenset(WIDE)
    | frozenset(ACCOUNTS)
    | frozenset(DID_DOCUMENTS)
    | frozenset(RECORDS)
    | frozenset(LABELS)
    | frozenset(JETSTREAM)
    | frozenset(LISTINGS)
)


def adapter() -> BlueskyPlatform:
    return BlueskyPlatform(BASE)


def at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def body_of(name: str) -> Any:
    """A sample's JSON (a quoted fragment loses the comma that followed it in its list)."""
    return json.loads(sample(name).body.decode().strip().rstrip(","))


def post_of(name: str) -> PostRef:
    url = urlsplit(str(sample(name).meta["url"]))
    query = parse_qs(url.query)
    uri = (query.get("uri") or query.get("uris") or [ANY_POST.post_id])[0]
    return PostRef("bluesky", uri, uri.removeprefix("at://").split("/")[0])


def answer(
    request: Request, body: bytes, status: int | None = 200, at_time: float = GONE_AT
) -> Capture:
    headers = sample("bsky_actorlikes_profile_not_found_400").headers  # a real XRPC answer's
    return Capture(request, status, headers, body, at_time, at_time, sent_at=at_time - 0.5)


def not_found(platform: BlueskyPlatform, post: PostRef) -> Observation:
    """The post's check answered ``400 NotFound "Post not found: <uri>"`` (no captured sample:
    the error name and text are the AppView's own, getPostThread.ts in REASONS.md)."""
    body = json.dumps({"error": "NotFound", "message": f"Post not found: {post.post_id}"})
    return platform.parse_check(post, answer(platform.check_request(post), body.encode(), 400))


def no_labels(platform: BlueskyPlatform, post: PostRef) -> Observation:
    request = platform.check_request(post)
    assert "queryLabels" in request.url
    return platform.parse_check(post, answer(request, b'{"cursor":"0","labels":[]}'))


def check(platform: BlueskyPlatform, name: str, post: PostRef) -> Observation:
    return platform.parse_check(post, sample(name).capture(platform.check_request(post)))


def test_every_bluesky_sample_is_claimed() -> None:
    assert set(sample_names("bsky_")) == CLAIMS


# -- checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), sorted(CHECKS.items()))
def test_each_real_check_concludes_what_it_says(name: str, expected: Status) -> None:
    platform = adapter()
    post = post_of(name)
    real = sample(name)
    body = json.dumps({"thread": body_of(name)}).encode() if "fragment" in name else real.body
    capture = Capture(
        platform.check_request(post), real.status, real.headers, body, GONE_AT, GONE_AT
    )
    observation = platform.parse_check(post, capture)
    assert observation.status is expected, observation.detail
    assert "getPostThread" in platform.check_request(post).url, "asks nothing more"


def test_the_real_visible_post_is_its_text_time_and_image() -> None:
    post = post_of("bsky_postthread_visible")
    observation = check(adapter(), "bsky_postthread_visible", post)
    record = body_of("bsky_postthread_visible")["thread"]["post"]["record"]
    assert observation.text == record["text"] and observation.text.startswith("Excited to be")
    assert observation.content_hash == content_hash(record["text"])
    assert observation.published_at == at("2023-09-19T11:32:54.574Z")
    assert "media: image https://cdn.bsky.app/img/feed_fullsize/plain/" in observation.detail


def test_the_real_quote_with_an_image_and_no_text_is_live_with_its_image() -> None:
    post = post_of("bsky_postthread_visible_marshalx")
    observation = check(adapter(), "bsky_postthread_visible_marshalx", post)
    assert (observation.status, observation.text) == (Status.LIVE, "")
    assert "media: image https://cdn.bsky.app/img/feed_fullsize/" in observation.detail


def test_the_real_blocked_post_is_about_who_asks() -> None:
    fragment = body_of("bsky_postthread_blockedpost_fragment")
    assert fragment["author"]["viewer"]["blockedBy"] is True
    platform = adapter()
    post = post_of("bsky_postthread_blockedpost_fragment")
    capture = answer(platform.check_request(post), json.dumps({"thread": fragment}).encode())
    observation = platform.parse_check(post, capture)
    assert observation.status is Status.UNREACHABLE and "blocked" in observation.detail
    # as a reply (the appview bug of atproto#2164: the root's URI) it is no answer for the root
    other = PostRef("bluesky", ANY_POST.post_id, ANY_POST.author_id)
    assert platform.parse_check(other, capture).status is Status.UNREACHABLE


def test_the_real_visible_post_in_getposts_is_live_and_the_others_are_only_missing() -> None:
    platform = adapter()
    shown = post_of("bsky_getposts_visible")
    other = PostRef("bluesky", shown.post_id[:-3] + "aaa", shown.author_id)
    request = platform.posts_request([shown, other])
    assert [value for key, value in request.params if key == "uris"] == [
        shown.post_id,
        other.post_id,
    ]
    view = platform.parse_posts([shown, other], sample("bsky_getposts_visible").capture(request))
    assert view.status is Status.LIVE
    assert view.seen[shown.post_id] == check(platform, "bsky_postthread_visible", shown)
    assert view.missing == (other.post_id,)
    # a post missing from getPosts is no removal: its own check confirms it
    alone = platform.posts_request([other])
    observation = platform.parse_check(other, sample("bsky_getposts_visible").capture(alone))
    assert observation.status is Status.UNREACHABLE
    assert "getPostThread" in platform.check_request(other).url
    for _, fault in FAULTS:
        real = sample("bsky_getposts_visible")
        faulty = platform.parse_posts([shown], fault(request, real.body, real.headers))
        assert faulty.status is Status.UNREACHABLE or not faulty.missing


# -- a post that went, attributed -------------------------------------------------------------


def test_a_post_not_found_is_unknown_and_asks_the_moderation_labels_first() -> None:
    platform = adapter()
    observation = not_found(platform, ANY_POST)
    assert (observation.status, observation.code) == (Status.REMOVED_UNKNOWN, "NotFound")
    request = platform.check_request(ANY_POST)
    assert request.url == ("https://mod.bsky.app/xrpc/com.atproto.label.queryLabels#after=NotFound")
    assert ("uriPatterns", ANY_POST.post_id) in request.params
    assert ("uriPatterns", ANY_POST.author_id) in request.params
    assert ("sources", MODERATION_DID) in request.params


@pytest.mark.parametrize(("name", "expected"), sorted(ACCOUNTS.items()))
def test_each_real_account_answer_attributes_the_post_as_far_as_it_says(
    name: str, expected: Status
) -> None:
    platform = adapter()
    post = ANY_POST
    verdict = first_verdict(1.0, content_hash("x"))
    fold(verdict, not_found(platform, post), 2.0, 2.0)
    fold(verdict, no_labels(platform, post), 3.0, 3.0)
    request = platform.check_request(post)
    assert request.url.endswith("/xrpc/app.bsky.actor.getProfile#after=NotFound")
    assert request.params == (("actor", post.author_id),)
    real = sample(name)
    body = real.body
    if name == "bsky_getprofiles_normal":  # the same account's profile, as getProfile's answer
        profile = json.loads(real.body)["profiles"][0] | {"did": post.author_id}
        body = json.dumps(profile).encode()
    lookup = platform.parse_check(post, Capture(request, real.status, real.headers, body, 4, 4))
    if name == "bsky_getprofile_accounttakedown_400":
        # an account taken down after the labels were read is dated by reading them again
        assert lookup.status is Status.UNREACHABLE and "to date the takedown" in lookup.detail
        lookup = no_labels(platform, post)
    fold(verdict, lookup, 4.0, 4.0)
    assert verdict.status is expected, lookup.detail
    if expected is Status.ACCOUNT_SUSPENDED:
        assert lookup.code == "AccountTakedown"
    if expected is Status.AUTHOR_DELETED:
        assert lookup.code == "AccountDeactivated" and "own choice" in lookup.detail
    if expected is Status.REMOVED_UNKNOWN:
        assert not lookup.status.is_removal
    following = platform.check_request(post)
    if name == "bsky_getprofiles_normal":
        assert following.url == f"https://plc.directory/{post.author_id}#after=NotFound"
    else:  # attributed, or nothing more to ask: the post's own check again
        assert "getPostThread" in following.url
        again = not_found(platform, post)
        assert again.status is (
            expected if expected is not Status.REMOVED_UNKNOWN else Status.REMOVED_UNKNOWN
        )


def walk_to(platform: BlueskyPlatform, post: PostRef, step: str) -> None:
    """The post's attribution up to ``step`` (``did``, ``record`` or ``sync``)."""
    not_found(platform, post)
    no_labels(platform, post)
    profile = json.loads(sample("bsky_getprofiles_normal").body)["profiles"][0]
    profile["did"] = post.author_id
    platform.parse_check(post, answer(platform.check_request(post), json.dumps(profile).encode()))
    if step == "did":
        return
    document = json.loads(sample("bsky_describerepo_ok").body)["didDoc"]
    document["id"] = post.author_id
    platform.parse_check(post, answer(platform.check_request(post), json.dumps(document).encode()))
    if step == "record":
        return
    gone = {"error": "RecordNotFound", "message": f"Could not locate record: {post.post_id}"}
    platform.parse_check(post, answer(platform.check_request(post), json.dumps(gone).encode(), 400))


def test_the_real_did_document_names_the_authors_pds() -> None:
    real = json.loads(sample("bsky_describerepo_ok").body)
    did = real["did"]
    assert pds_endpoint(real["didDoc"], did) == DID_DOCUMENTS["bsky_describerepo_ok"]
    assert pds_endpoint(real["didDoc"], "did:plc:someoneelse0000000000000") is None
    platform = adapter()
    post = PostRef("bluesky", f"at://{did}/app.bsky.feed.post/3lof7sovfok2h", did)
    walk_to(platform, post, "did")
    request = platform.check_request(post)
    capture = answer(request, json.dumps(real["didDoc"]).encode())
    observation = platform.parse_check(post, capture)
    assert observation.status is Status.UNREACHABLE and "inkcap" in observation.detail
    following = platform.check_request(post)
    assert following.url == (
        "https://inkcap.us-east.host.bsky.network/xrpc/com.atproto.repo.getRecord#after=NotFound"
    )
    assert following.params == (
        ("repo", did),
        ("collection", "app.bsky.feed.post"),
        ("rkey", "3lof7sovfok2h"),
    )


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_a_record_still_in_the_authors_repo_is_a_takedown(name: str) -> None:
    platform = adapter()
    uri = json.loads(sample(name).body)["uri"]
    post = PostRef("bluesky", uri, uri.removeprefix("at://").split("/")[0])
    walk_to(platform, post, "record")
    observation = check(platform, name, post)
    assert (observation.status, observation.code) == (Status.CENSORED, "appview-hidden")
    assert "still in the author's repository" in observation.detail
    # and later checks that find it gone again say so at once
    assert not_found(platform, post).status is Status.CENSORED
    # a record about another post is no answer
    other = PostRef("bluesky", ANY_POST.post_id[:-2] + "zz", ANY_POST.author_id)
    walk_to(platform, other, "record")
    assert check(platform, name, other).status is Status.UNREACHABLE


def test_a_record_the_pds_does_not_serve_asks_the_repos_own_proof() -> None:
    platform = adapter()
    walk_to(platform, ANY_POST, "sync")
    request = platform.check_request(ANY_POST)
    assert "/xrpc/com.atproto.sync.getRecord#after=NotFound" in request.url
    assert ("did", ANY_POST.author_id) in request.params


@pytest.mark.parametrize(("name", "fault_name", "fault"), [
    (name, fault_name, fault)
    for name in ("bsky_getprofile_accounttakedown_400", "bsky_getprofile_accountdeactivated_400")
    for fault_name, fault in FAULTS
])  # fmt: skip
def test_no_fault_on_a_real_account_answer_is_a_removal(
    name: str, fault_name: str, fault: Fault
) -> None:
    platform = adapter()
    not_found(platform, ANY_POST)
    no_labels(platform, ANY_POST)
    real = sample(name)
    request = platform.check_request(ANY_POST)
    lookup = platform.parse_check(ANY_POST, fault(request, real.body, real.headers))
    assert lookup.status is Status.UNREACHABLE, fault_name
    assert platform.check_request(ANY_POST).url == request.url, "asked again"


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_a_real_record_or_label_is_a_removal(fault_name: str, fault: Fault) -> None:
    platform = adapter()
    name = "bsky_getrecord_post_ok"
    walk_to(platform, ANY_POST, "record")
    real = sample(name)
    request = platform.check_request(ANY_POST)
    assert platform.parse_check(ANY_POST, fault(request, real.body, real.headers)).status is (
        Status.UNREACHABLE
    ), fault_name
    labels = adapter()
    post = PostRef(
        "bluesky",
        "at://did:plc:qx7s5vdotumqa4h52ejojeby/app.bsky.feed.post/3kxyz",
        "did:plc:qx7s5vdotumqa4h52ejojeby",
    )
    not_found(labels, post)
    body = json.dumps({"labels": [body_of("bsky_label_takedown_modbsky")]}).encode()
    request = labels.check_request(post)
    observation = labels.parse_check(post, fault(request, body, real.headers))
    assert observation.status is Status.UNREACHABLE, fault_name


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_a_not_found_answer_is_a_removal(fault_name: str, fault: Fault) -> None:
    platform = adapter()
    body = json.dumps({"error": "NotFound", "message": f"Post not found: {ANY_POST.post_id}"})
    real = sample("bsky_actorlikes_profile_not_found_400")
    request = platform.check_request(ANY_POST)
    observation = platform.parse_check(ANY_POST, fault(request, body.encode(), real.headers))
    assert observation.status is Status.UNREACHABLE, fault_name
    assert "getPostThread" in platform.check_request(ANY_POST).url


# -- moderation labels -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LABELS))
def test_each_real_label_reads_as_what_it_says(name: str) -> None:
    subject, taken_down, cts = LABELS[name]
    label = parse_label(body_of(name))
    assert label is not None
    assert (label.src, label.uri, label.val, label.at) == (
        MODERATION_DID,
        subject,
        "!takedown",
        at(cts),
    )
    assert label.neg is (not taken_down)
    assert takedown_events([label], subject, MODERATION_DID) == [(at(cts), taken_down)]
    expected = at(cts) if taken_down else None
    assert takedown_since([label], subject, MODERATION_DID, GONE_AT) == expected


def test_a_takedown_label_on_the_account_attributes_its_posts_to_the_suspension() -> None:
    subject, _, cts = LABELS["bsky_label_takedown_modbsky"]
    post = PostRef("bluesky", f"at://{subject}/app.bsky.feed.post/3lkxyzabc2k2a", subject)
    platform = adapter()
    not_found(platform, post)
    body = json.dumps({"cursor": "1", "labels": [body_of("bsky_label_takedown_modbsky")]})
    observation = platform.parse_check(post, answer(platform.check_request(post), body.encode()))
    assert (observation.status, observation.code) == (Status.ACCOUNT_SUSPENDED, "takedown-label")
    assert cts in observation.detail
    # a label from another service is nobody's takedown here
    other = adapter()
    not_found(other, post)
    foreign = body_of("bsky_label_takedown_modbsky") | {"src": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}
    body = json.dumps({"labels": [foreign]})
    said = other.parse_check(post, answer(other.check_request(post), body.encode()))
    assert said.status is Status.UNREACHABLE and "getProfile" in other.check_request(post).url


def test_a_takedown_label_dated_after_the_post_went_is_not_why() -> None:
    subject, _, cts = LABELS["bsky_label_takedown_modbsky"]
    post = PostRef("bluesky", f"at://{subject}/app.bsky.feed.post/3lkxyzabc2k2a", subject)
    platform = adapter()
    gone = json.dumps({"error": "NotFound", "message": "Post not found"}).encode()
    before = at(cts) - 3600.0  # first answered gone an hour before the account's takedown
    platform.parse_check(post, answer(platform.check_request(post), gone, 400, before))
    body = json.dumps({"labels": [body_of("bsky_label_takedown_modbsky")]}).encode()
    said = platform.parse_check(post, answer(platform.check_request(post), body))
    assert said.status is Status.UNREACHABLE and "came after it went" in said.detail
    real = sample("bsky_getprofile_accounttakedown_400")
    request = platform.check_request(post)
    lookup = platform.parse_check(post, Capture(request, 400, real.headers, real.body, 5, 5))
    assert lookup.status is Status.UNREACHABLE and "not why it went" in lookup.detail


def test_a_post_takedown_later_negated_is_a_dated_reversal_like_a_restored_post() -> None:
    """The negation (the real label) takes back a takedown of the same subject: the post is
    censored from the takedown's time and visible again from the negation's."""
    subject, _, negated_at = LABELS["bsky_label_takedown_negated_modbsky"]
    negation = parse_label(body_of("bsky_label_takedown_negated_modbsky"))
    assert negation is not None
    takedown = Label(MODERATION_DID, subject, "!takedown", at(negated_at) - 1868.0)
    events = takedown_events([negation, takedown], subject, MODERATION_DID)
    assert events == [(takedown.at, True), (at(negated_at), False)]
    assert takedown_since([negation, takedown], subject, MODERATION_DID, GONE_AT) is None
    verdict = first_verdict(takedown.at - 600.0, content_hash("x"))
    for when, taken_down in events:
        seen = (
            Observation(Status.CENSORED, code="takedown-label", detail="!takedown")
            if taken_down
            else (Observation(Status.LIVE, content_hash=content_hash("x")))
        )
        fold(verdict, seen, when, when)
    assert verdict.status is Status.LIVE and verdict.signal == "visible again"
    assert [status for _, status in verdict.history] == ["live", "censored", "live"]
    # read from the labels answer while the post is still gone: no takedown in force now, and
    # the reversal is named with its date; the account is asked next
    post = PostRef("bluesky", f"at://{subject}/app.bsky.feed.post/3lkxyzabc2k2a", subject)
    platform = adapter()
    not_found(platform, post)
    raw = [body_of("bsky_label_takedown_negated_modbsky"), {
        "ver": 1, "src": MODERATION_DID, "uri": subject, "val": "!takedown",
        "cts": "2025-03-13T13:23:33.618Z",
    }]  # fmt: skip
    said = platform.parse_check(
        post, answer(platform.check_request(post), json.dumps({"labels": raw}).encode())
    )
    assert said.status is Status.UNREACHABLE
    assert f"was reversed at {negated_at}" in said.detail
    assert "getProfile" in platform.check_request(post).url


# -- Jetstream -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(JETSTREAM))
def test_each_real_jetstream_event_reads_as_what_it_says(name: str) -> None:
    kind, says = JETSTREAM[name]
    raw = body_of(name)
    event = parse_jetstream_event(sample(name).body)
    assert (event.kind, event.did, event.time_us) == (kind, raw["did"], raw["time_us"])
    notice = event.notice()
    account = event.account_status()
    if kind == "commit":
        assert (event.operation, event.collection, event.rkey) == (
            "delete",
            raw["commit"]["collection"],
            raw["commit"]["rkey"],
        )
        assert event.record is None
        assert account is None
        if says is None:
            assert notice is None
        else:
            assert notice is not None and notice.status is says
            assert notice.post_id == f"at://{raw['did']}/app.bsky.feed.post/{raw['commit']['rkey']}"
            assert (notice.code, notice.author_id) == ("commit-delete", raw["did"])
    elif kind == "account":
        assert notice is None
        assert event.active is raw["account"]["active"]
        assert event.status == raw["account"].get("status")
        assert (account[0] if account else None) is says
    else:
        assert notice is None and account is None and event.seq == raw["identity"]["seq"]


def test_what_is_not_a_jetstream_event_says_why() -> None:
    for body, why in [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"did":"x","time_us":1,"kind":"commit"}', "no DID"),
        (b'{"did":"did:plc:hqvhxrowqbemo5e4wjnj6zao","time_us":1,"kind":"x"}', "not understood"),
        (b'{"did":"did:plc:hqvhxrowqbemo5e4wjnj6zao","time_us":1,"kind":"account"}', "active"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_jetstream_event(body)


# -- listings -----------------------------------------------------------------------------------


def listed(name: str, cursor: str | None = None) -> tuple[BlueskyPlatform, Any]:
    target, _, _ = LISTINGS[name]
    platform = adapter()
    request = platform.discover_request(target, cursor)
    return platform, platform.parse_discover(target, sample(name).capture(request))


def test_the_real_author_feed_lists_the_authors_posts_and_skips_reposts() -> None:
    _, count, reposts = LISTINGS["bsky_authorfeed_page_cursor"]
    _, discovery = listed("bsky_authorfeed_page_cursor")
    assert discovery.status is Status.LIVE, discovery.detail
    assert len(discovery.posts) == count and discovery.unreadable == ()
    assert f"{reposts} repost(s) skipped" in discovery.detail
    feed = body_of("bsky_authorfeed_page_cursor")["feed"]
    own = [item["post"] for item in feed if "reason" not in item]
    for post, view in zip(discovery.posts, own, strict=True):
        assert post.post_id == view["uri"] and post.post_id.startswith("at://did:plc:")
        assert post.author_id == view["author"]["did"] == "did:plc:wpe35pganb6d4pg4ekmfy6u5"
        assert post.text == view["record"]["text"]
        created, indexed = at(view["record"]["createdAt"]), at(view["indexedAt"])
        assert post.published_at == min(created, indexed)
        # (one post's indexedAt is 7.5 s before its createdAt: the client's clock ran ahead)
        assert abs(post.published_at - created) < 60.0 and post.published_until is None
    assert discovery.newest_first is True
    assert discovery.last_page is False  # the answer names an older page
    assert discovery.more is False  # a first poll reads its first page only
    assert discovery.next_cursor == str(round(at("2025-05-05T01:30:17.912Z") * 1000))


def test_the_real_author_feed_pages_back_to_the_last_poll() -> None:
    target, _, _ = LISTINGS["bsky_authorfeed_page_cursor"]
    newest = round(at("2025-05-05T01:30:17.912Z") * 1000)
    page = "2024-03-21T23%3A36%3A16.378Z"
    # The poll before saw up to 2024-01-01: this whole page is newer, so older pages follow
    earlier = round(at("2024-01-01T00:00:00Z") * 1000)
    platform, discovery = listed("bsky_authorfeed_page_cursor", str(earlier))
    assert discovery.more is True
    assert discovery.next_cursor == f"{newest},{earlier},{page},1"
    assert "older pages are read now" in discovery.detail
    request = platform.discover_request(target, discovery.next_cursor)
    assert ("cursor", "2024-03-21T23:36:16.378Z") in request.params  # the answer's own cursor
    real = sample("bsky_authorfeed_page_cursor")
    older = platform.parse_discover(target, real.capture(request))
    assert older.more is True and older.next_cursor == f"{newest},{earlier},{page},2"
    # an older page that reaches the last poll's newest item ends the catch-up
    stop = round(at("2025-03-01T00:00:00Z") * 1000)
    request = platform.discover_request(target, f"{newest},{stop},{page},1")
    reached = platform.parse_discover(target, real.capture(request))
    assert reached.more is False and reached.next_cursor == str(newest)
    # so does the 20th older page read in one catch-up (MAX_CATCH_UP_PAGES)
    request = platform.discover_request(target, f"{newest},{earlier},{page},20")
    assert platform.parse_discover(target, real.capture(request)).more is False
    # a poll whose last top is on this page reads no more
    _, again = listed("bsky_authorfeed_page_cursor", str(newest))
    assert again.more is False and again.next_cursor == str(newest)


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_the_real_listing_lists_or_claims_anything(
    fault_name: str, fault: Fault
) -> None:
    target, _, _ = LISTINGS["bsky_authorfeed_page_cursor"]
    platform = adapter()
    real = sample("bsky_authorfeed_page_cursor")
    discovery = platform.parse_discover(
        target, fault(platform.discover_request(target, None), real.body, real.headers)
    )
    assert discovery.status is Status.UNREACHABLE, fault_name
    assert not discovery.confirm_all and discovery.posts == ()


def test_a_listing_refused_as_profile_not_found_confirms_every_post() -> None:
    target, _, _ = LISTINGS["bsky_authorfeed_page_cursor"]
    platform = adapter()
    real = sample("bsky_getprofile_profile_not_found_400")
    capture = real.capture(platform.discover_request(target, None))
    discovery = platform.parse_discover(target, capture)
    assert discovery.status is Status.UNREACHABLE and discovery.confirm_all
    assert "Profile not found" in discovery.detail
    for name in ("bsky_ratelimit_429", "bsky_createsession_401_auth_required"):
        refused = platform.parse_discover(target, sample(name).capture(capture.request))
        assert refused.status is Status.UNREACHABLE and not refused.confirm_all


# -- the simulator speaks the same shapes ---------------------------------------------------------

T0 = 1_785_000_000.0
AUTHOR = "7001"
POST_PATHS = [
    "uri",
    "cid",
    "author",
    "author.did",
    "author.handle",
    "author.labels",
    "record",
    "record.$type",
    "record.text",
    "record.createdAt",
    "indexedAt",
    "labels",
    "embed",
    "embed.$type",
    "embed.images[].fullsize",
    "embed.images[].thumb",
]
EMBED = frozenset(path for path in POST_PATHS if path.startswith("embed"))


def simulator() -> SimPlatform:
    posts = [
        ScenarioPost(str(4_800_000_000_000_000 + i), AUTHOR, T0 + i * 60.0, f"第{i}条")
        for i in range(8)
    ]
    posts += [
        ScenarioPost(
            "4800000000000100",
            "7002",
            T0 + 30,
            "删了",
            removed_at=T0 + 200,
            removal="author_deleted",
        ),
        ScenarioPost(
            "4800000000000101",
            "7003",
            T0 + 40,
            "封了",
            removed_at=T0 + 300,
            removal="account_suspended",
        ),
    ]
    return SimPlatform(posts, VirtualClock(T0 + 3600.0), "bluesky")


def sim_answer(sim: SimPlatform, path: str, query: dict[str, str]) -> tuple[int, Any]:
    code, _, body = sim.handle("GET", path, query)
    return code, json.loads(body)


def image_post(sim: SimPlatform) -> ScenarioPost:
    from memoryhole.sim.shapes import media_of

    return next(p for p in sim.posts if any(k == "image" for k, _ in media_of(p)))


def test_the_simulators_posts_have_the_real_posts_shape() -> None:
    sim = simulator()
    real = [
        body_of("bsky_postthread_visible")["thread"]["post"],
        body_of("bsky_postthread_visible_marshalx")["thread"]["post"],
        body_of("bsky_getposts_visible")["posts"][0],
        *(item["post"] for item in body_of("bsky_authorfeed_page_cursor")["feed"]),
    ]
    for post in [p for p in sim.posts if p.author_id == AUTHOR]:
        code, thread = sim_answer(sim, "/xrpc/app.bsky.feed.getPostThread", {"uri": uri_of(post)})
        assert code == 200 and thread["thread"]["$type"] == "app.bsky.feed.defs#threadViewPost"
        assert shape_differences(thread["thread"]["post"], real, POST_PATHS, optional=EMBED) == []
    code, posts = sim_answer(sim, "/xrpc/app.bsky.feed.getPosts", {"uris": uri_of(image_post(sim))})
    assert code == 200 and shape_differences(posts["posts"][0], real, POST_PATHS) == []


def test_the_simulators_listing_profile_record_did_and_errors_have_the_real_shapes() -> None:
    sim = simulator()
    code, feed = sim_answer(
        sim, "/xrpc/app.bsky.feed.getAuthorFeed", {"actor": did_of(AUTHOR), "limit": "5"}
    )
    listing_paths = ["feed", "cursor", *(f"feed[].post.{path}" for path in POST_PATHS)]
    optional = frozenset(f"feed[].post.{path}" for path in EMBED)
    real = body_of("bsky_authorfeed_page_cursor")
    assert code == 200 and shape_differences(feed, [real], listing_paths, optional=optional) == []
    code, profile = sim_answer(sim, "/xrpc/app.bsky.actor.getProfile", {"actor": handle_of(AUTHOR)})
    real_profile = body_of("bsky_getprofiles_normal")["profiles"][0]
    profile_paths = ["did", "handle", "labels", "createdAt", "postsCount", "viewer"]
    assert code == 200 and shape_differences(profile, [real_profile], profile_paths) == []
    post = sim.posts[0]
    code, record = sim_answer(
        sim,
        "/xrpc/com.atproto.repo.getRecord",
        {"repo": did_of(AUTHOR), "collection": "app.bsky.feed.post", "rkey": post.post_id},
    )
    record_paths = ["uri", "cid", "value", "value.$type", "value.text", "value.createdAt"]
    real_records = [body_of(name) for name in sorted(RECORDS)]
    assert code == 200 and shape_differences(record, real_records, record_paths) == []
    code, document = sim_answer(sim, f"/{did_of(AUTHOR)}", {})
    real_document = body_of("bsky_describerepo_ok")["didDoc"]
    document_paths = ["id", "alsoKnownAs", "service", "service[].id", "service[].type"]
    document_paths.append("service[].serviceEndpoint")
    assert code == 200 and shape_differences(document, [real_document], document_paths) == []
    errors = [body_of(n) for n in ACCOUNTS if n.endswith("_400")]
    for path, query in [
        ("/xrpc/app.bsky.actor.getProfile", {"actor": did_of("7003")}),
        ("/xrpc/app.bsky.actor.getProfile", {"actor": "nobody.bsky.social"}),
        ("/xrpc/app.bsky.feed.getPostThread", {"uri": uri_of(sim.by_id["4800000000000100"])}),
    ]:
        code, error = sim_answer(sim, path, query)
        assert code == 400 and shape_differences(error, errors, ["error", "message"]) == []
    code, labels = sim_answer(
        sim, "/xrpc/com.atproto.label.queryLabels", {"uriPatterns": did_of("7003")}
    )
    real_labels = [{"labels": [body_of(name)]} for name in sorted(LABELS)]
    label_paths = [f"labels[].{key}" for key in ("ver", "src", "uri", "val", "cts", "sig")]
    assert code == 200 and labels["labels"]
    assert shape_differences(labels, real_labels, label_paths) == []


def test_the_simulators_author_feed_reads_back_and_pages_as_the_real_one() -> None:
    sim = simulator()
    platform = BlueskyPlatform("http://simulator.invalid")
    target = platform.parse_target(f"actor/{handle_of(AUTHOR)}")
    own = sorted((p for p in sim.posts if p.author_id == AUTHOR), key=lambda p: -p.published_at)

    def poll(cursor: str | None) -> Any:
        request = platform.discover_request(target, cursor)
        query = dict(request.params) | {"limit": "3"}
        code, headers, body = sim.handle("GET", urlsplit(request.url).path, query)
        asked = Request(request.method, request.url, tuple(query.items()))
        discovery = platform.parse_discover(target, Capture(asked, code, headers, body, 1, 1))
        assert discovery.status is Status.LIVE and discovery.unreadable == ()
        return discovery

    first = poll(None)
    assert [p.post_id for p in first.posts] == [uri_of(p) for p in own[:3]]
    assert first.more is False and first.last_page is False
    assert poll(first.next_cursor).posts == first.posts  # nothing newer: no more pages
    # a poll whose last top was the oldest post reads back to it, three posts a page
    stale = str(round(own[-1].published_at * 1000))
    seen, cursor, pages = [], stale, 0
    while True:
        pages += 1
        discovery = poll(cursor)
        seen += [p.post_id for p in discovery.posts]
        cursor = discovery.next_cursor
        if not discovery.more:
            break
    assert pages == 3 and seen == [uri_of(p) for p in own]
    assert cursor == first.next_cursor
    # a suspended author's feed is refused as the real one is, and every post is checked
    gone = platform.parse_target(f"actor/{did_of('7003')}")
    request = platform.discover_request(gone, None)
    code, headers, body = sim.handle("GET", urlsplit(request.url).path, dict(request.params))
    refused = platform.parse_discover(gone, Capture(request, code, headers, body, 1, 1))
    assert refused.status is Status.UNREACHABLE and refused.confirm_all
