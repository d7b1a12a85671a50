"""Mastodon's real captured answers (tests/data/real, README "expected"): what the adapter must
conclude from each, that no fault turns one of them into a removal, what an instance's timeline
settings say about a target's token, and the simulator's answers held against their shapes."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from memoryhole.classify import first_verdict, fold
from memoryhole.clock import VirtualClock
from memoryhole.model import Capture, Observation, PostRef, Request, Status, Target, content_hash
from memoryhole.platforms.mastodon import (
    MastodonPlatform,
    link_param,
    parse_history,
    timeline_access,
)
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.platform import SimPlatform
from tests.platforms.helpers import FAULTS, Fault
from tests.platforms.real_samples import sample, sample_names, shape_differences

BASE = "http://localhost:3000"
#: A post whose status check the samples answer when they concern no status in particular.
ANY_POST = PostRef("mastodon", "117020583223442465", "117020565966271181")

#: Status checks (``GET /api/v1/statuses/{id}``).
CHECKS = {
    "mast_401_token_invalid": Status.UNREACHABLE,
    "mast_403_not_allowed": Status.UNREACHABLE,
    "mast_doc_429": Status.UNREACHABLE,
    "mast_status_404": Status.REMOVED_UNKNOWN,  # author, moderator or suspension: not said
    "mast_status_visible": Status.LIVE,
    "mast_status_edited": Status.LIVE,  # edited: still visible
}
#: Account lookups, each following a status that answered 404: the post's verdict after both.
ACCOUNTS = {
    "mast_account_lookup_404": Status.REMOVED_UNKNOWN,  # no account: still unattributed
    "mast_doc_account_404": Status.REMOVED_UNKNOWN,
    "mast_doc_account_suspended": Status.ACCOUNT_SUSPENDED,
    "mast_src_410_empty": Status.ACCOUNT_SUSPENDED,  # Mastodon 2.4 to 3.2
}
#: Listings: (target, posts listed).
LISTINGS = {
    "mast_account_statuses_linkpaged": (Target("mastodon", "account", "117020565966271181"), 5),
    "mast_public_tl_anon": (Target("mastodon", "public"), 8),
    "mast_tag_tl": (Target("mastodon", "tag", "hoot"), 1),
    "mast_tag_tl_empty": (
        Target("mastodon", "tag", "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"),
        0,
    ),
}
HISTORIES = {"mast_status_history": 2}
INSTANCES = {"mast_social_instance_v2"}
CLAIMS = (
    frozenset(CHECKS)
    | frozenset(ACCOUNTS)
    | frozenset(LISTINGS)
    | frozenset(HISTORIES)
    | frozenset(INSTANCES)
)


def adapter(token: str | None = None) -> MastodonPlatform:
    return MastodonPlatform(BASE, token=token)


def at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def plain(content: str) -> str:
    """What a reader sees of a one-paragraph status (all of these samples' are)."""
    assert content.count("<p>") == 1 and "<br" not in content
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def post_of(name: str) -> PostRef:
    url = str(sample(name).meta["url"])
    if "/api/v1/statuses/" not in url:
        return ANY_POST
    real = json.loads(sample(name).body) if sample(name).status == 200 else {}
    author = real.get("account", {}).get("id", ANY_POST.author_id)
    return PostRef("mastodon", url.rsplit("/", 1)[1], author)


def check(platform: MastodonPlatform, name: str, post: PostRef) -> Observation:
    return platform.parse_check(post, sample(name).capture(platform.check_request(post)))


def test_every_mastodon_sample_is_claimed() -> None:
    assert set(sample_names("mast_")) == CLAIMS


# -- checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), sorted(CHECKS.items()))
def test_each_real_check_concludes_what_it_says(name: str, expected: Status) -> None:
    observation = check(adapter(), name, post_of(name))
    assert observation.status is expected, observation.detail
    if expected is Status.UNREACHABLE:
        assert not observation.status.is_removal


def test_the_real_visible_status_is_its_text_with_its_time() -> None:
    post = post_of("mast_status_visible")
    observation = check(adapter(), "mast_status_visible", post)
    assert (observation.text, observation.content_hash) == ("Toot!", content_hash("Toot!"))
    assert observation.published_at == at("2026-08-01T13:53:15.378Z")
    assert "edited" not in observation.detail


def test_the_real_edited_status_is_live_with_its_new_text_and_says_when() -> None:
    post = post_of("mast_status_edited")
    observation = check(adapter(), "mast_status_edited", post)
    new = "the best editor? why, of course it is the KDE Advanced Text Editor, Kate"
    assert (observation.text, observation.content_hash) == (new, content_hash(new))
    assert "edited at 2026-08-01T13:54:00.695Z" in observation.detail
    # Folded after a check that saw the first version, the verdict says edited.
    first = "the best editor? why, of course it is VS Code"
    verdict = first_verdict(1.0, content_hash(first))
    fold(verdict, observation, 2.0, 2.0)
    assert verdict.status is Status.EDITED and verdict.export_value == "live"


def test_the_real_gone_status_is_unknown_with_its_code_and_asks_for_the_account() -> None:
    platform = adapter()
    post = post_of("mast_status_404")
    observation = check(platform, "mast_status_404", post)
    assert (observation.status, observation.code) == (Status.REMOVED_UNKNOWN, "404")
    assert "'Not Found'" in observation.detail
    assert platform.check_request(post).url == f"{BASE}/api/v1/accounts/{post.author_id}#after=404"


def test_an_empty_410_for_a_status_proves_nothing() -> None:
    """Mastodon 2.4 to 3.2 answered an empty 410 for a suspended *account*; for a status it is
    no Mastodon answer at all, and its account is not asked on its strength."""
    platform = adapter()
    gone = sample("mast_src_410_empty")
    observation = platform.parse_check(ANY_POST, gone.capture(platform.check_request(ANY_POST)))
    assert observation.status is Status.UNREACHABLE
    assert "/statuses/" in platform.check_request(ANY_POST).url


@pytest.mark.parametrize(("name", "expected"), sorted(ACCOUNTS.items()))
def test_each_real_account_lookup_attributes_the_removal_as_far_as_it_says(
    name: str, expected: Status
) -> None:
    platform = adapter()
    post = post_of("mast_status_404")
    gone = check(platform, "mast_status_404", post)
    lookup = check(platform, name, post)
    verdict = first_verdict(1.0, content_hash("x"))
    fold(verdict, gone, 2.0, 2.0)
    fold(verdict, lookup, 3.0, 3.0)
    assert verdict.status is expected, lookup.detail
    if expected is Status.ACCOUNT_SUSPENDED:
        assert lookup.status is Status.ACCOUNT_SUSPENDED
        # later checks of the status repeat the attribution instead of "unknown"
        assert check(platform, "mast_status_404", post).status is Status.ACCOUNT_SUSPENDED
    else:
        assert not lookup.status.is_removal, "an account lookup says nothing new by itself"
        assert "unattributed" in lookup.detail
        assert "/statuses/" in platform.check_request(post).url, "the account is asked once"


def test_a_suspension_says_whether_the_account_still_counts_its_statuses() -> None:
    """Since 3.3 an account its owner deleted is kept as a suspended record with no statuses; a
    moderator's suspension keeps the count (Mastodon's DeleteAccountService, AccountSerializer)."""
    platform = adapter()
    post = post_of("mast_status_404")
    check(platform, "mast_status_404", post)
    zero = check(platform, "mast_doc_account_suspended", post)  # statuses_count 0
    assert "or its owner deleted it" in zero.detail
    counted = json.loads(sample("mast_doc_account_suspended").body) | {"statuses_count": 12}
    platform = adapter()
    check(platform, "mast_status_404", post)
    request = platform.check_request(post)
    real = sample("mast_doc_account_suspended")
    capture = Capture(request, 200, real.headers, json.dumps(counted).encode(), 1.0, 1.0)
    observation = platform.parse_check(post, capture)
    assert observation.status is Status.ACCOUNT_SUSPENDED
    assert "statuses_count 12" in observation.detail


# -- no fault is ever a removal -----------------------------------------------------------------


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_the_real_gone_status_is_a_removal(fault_name: str, fault: Fault) -> None:
    platform = adapter()
    post = post_of("mast_status_404")
    real = sample("mast_status_404")
    observation = platform.parse_check(
        post, fault(platform.check_request(post), real.body, real.headers)
    )
    assert observation.status is Status.UNREACHABLE, fault_name
    assert "/statuses/" in platform.check_request(post).url, "a fault asks for no account"


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
@pytest.mark.parametrize("name", ["mast_doc_account_suspended", "mast_src_410_empty"])
def test_no_fault_on_a_real_suspension_is_a_removal(
    name: str, fault_name: str, fault: Fault
) -> None:
    platform = adapter()
    post = post_of("mast_status_404")
    check(platform, "mast_status_404", post)  # the next check asks for the account
    real = sample(name)
    lookup = platform.parse_check(
        post, fault(platform.check_request(post), real.body, real.headers)
    )
    assert lookup.status is Status.UNREACHABLE, fault_name
    target = Target("mastodon", "account", "14")
    refused = fault(platform.discover_request(target, None), real.body, real.headers)
    discovery = platform.parse_discover(target, refused)
    assert discovery.status is Status.UNREACHABLE, fault_name
    assert not discovery.confirm_all


# -- listings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_each_real_listing_lists_its_posts_with_ids_authors_times_and_texts(name: str) -> None:
    target, count = LISTINGS[name]
    platform = adapter()
    real = sample(name)
    discovery = platform.parse_discover(
        target, real.capture(platform.discover_request(target, None))
    )
    assert discovery.status is Status.LIVE, discovery.detail
    assert len(discovery.posts) == count
    assert discovery.unreadable == ()
    statuses = json.loads(real.body)
    for post, status in zip(discovery.posts, statuses, strict=True):
        assert post.post_id == status["id"]
        assert post.author_id == status["account"]["id"]
        assert post.published_at == at(status["created_at"])
        assert post.text and post.text == plain(status["content"])
        assert post.published_until is None
    assert discovery.more is False  # a first poll reads its first page only


def test_the_real_public_timeline_reads_as_a_reader_sees_it() -> None:
    target, _ = LISTINGS["mast_public_tl_anon"]
    platform = adapter()
    real = sample("mast_public_tl_anon")
    discovery = platform.parse_discover(
        target, real.capture(platform.discover_request(target, None))
    )
    first, second = discovery.posts[0], discovery.posts[1]
    assert (first.post_id, first.author_id, first.text) == (
        "117020593134559451",
        "117020566092212359",
        "Toot, finally!",
    )
    assert first.published_at == at("2026-08-01T13:55:46.609Z")
    assert second.text == "you can't say that on television"  # the entity is decoded
    mention = discovery.posts[4]
    assert mention.text.startswith("@") and "<" not in mention.text
    assert discovery.next_cursor == "117020593134559451"


def test_the_real_account_listing_pages_as_its_link_header_says() -> None:
    target, _ = LISTINGS["mast_account_statuses_linkpaged"]
    platform = adapter()
    real = sample("mast_account_statuses_linkpaged")
    request = platform.discover_request(target, None)
    assert ("exclude_reblogs", "true") in request.params
    capture = real.capture(request)
    discovery = platform.parse_discover(target, capture)
    assert [post.text for post in discovery.posts] == [f"Toot number {n}!" for n in range(9, 4, -1)]
    # The next poll asks for the statuses immediately newer than the newest one listed: the
    # answer's own rel="prev" link names that id as its min_id.
    assert link_param(capture, "prev", "min_id") == "117020580518794573"
    assert link_param(capture, "next", "max_id") == "117020580489281910"
    assert discovery.next_cursor == "117020580518794573"
    following = platform.discover_request(target, discovery.next_cursor)
    assert ("min_id", "117020580518794573") in following.params
    # A full page after an anchor (the capture asked for 5 and got 5): more may be waiting.
    asked = replace(
        request, params=(("limit", "5"), ("exclude_reblogs", "true"), ("min_id", "1170205"))
    )
    anchored = platform.parse_discover(target, Capture(asked, 200, real.headers, real.body, 1, 1))
    assert anchored.more is True
    short = replace(asked, params=(("limit", "40"), *asked.params[1:]))
    assert (
        platform.parse_discover(target, Capture(short, 200, real.headers, real.body, 1, 1)).more
        is False
    )


def test_the_empty_real_tag_timeline_is_an_empty_success_that_keeps_the_cursor() -> None:
    target, _ = LISTINGS["mast_tag_tl_empty"]
    platform = adapter()
    request = platform.discover_request(target, "117020581178804515")
    discovery = platform.parse_discover(target, sample("mast_tag_tl_empty").capture(request))
    assert (discovery.status, discovery.posts, discovery.next_cursor) == (Status.LIVE, (), None)
    assert discovery.more is False


def test_an_account_listing_answered_with_an_empty_410_is_a_suspension() -> None:
    platform = adapter()
    target = Target("mastodon", "account", "14")
    real = sample("mast_src_410_empty")
    discovery = platform.parse_discover(
        target, real.capture(platform.discover_request(target, None))
    )
    assert discovery.status is Status.ACCOUNT_SUSPENDED
    assert discovery.confirm_all, "every known post of the account is checked at once"
    assert discovery.posts == ()
    # A 410 for a timeline, or an HTML 410 page, says nothing of the kind.
    local = Target("mastodon", "local")
    assert platform.parse_discover(
        local, real.capture(platform.discover_request(local, None))
    ).status is (Status.UNREACHABLE)
    page = Capture(
        platform.discover_request(target, None),
        410,
        (("Content-Type", "text/html"),),
        b"<html><body>Gone</body></html>",
        1.0,
        1.0,
    )
    assert platform.parse_discover(target, page).status is Status.UNREACHABLE


def test_items_of_a_real_listing_that_cannot_be_read_are_named_not_dropped() -> None:
    target, _ = LISTINGS["mast_public_tl_anon"]
    platform = adapter()
    real = sample("mast_public_tl_anon")
    statuses: list[Any] = json.loads(real.body)
    statuses[1]["created_at"] = "yesterday"
    del statuses[2]["account"]
    statuses[3] = "117020588242324937"
    statuses[6]["content"] = None
    request = platform.discover_request(target, None)
    body = json.dumps(statuses).encode()
    discovery = platform.parse_discover(target, Capture(request, 200, real.headers, body, 1, 1))
    assert discovery.status is Status.LIVE
    assert [post.post_id for post in discovery.posts] == [
        "117020593134559451",
        "117020588169351887",
        "117020586180926938",
        "117020574694606796",
    ]
    assert len(discovery.unreadable) == 4
    assert "created_at 'yesterday'" in discovery.unreadable[0]
    assert "no account id" in discovery.unreadable[1]
    assert "not a Status object" in discovery.unreadable[2]
    assert "no content" in discovery.unreadable[3]
    assert "4 unreadable" in discovery.detail
    # none readable: the listing failed, it is not an empty success
    for status in statuses:
        if isinstance(status, dict):
            status["created_at"] = "yesterday"
    body = json.dumps(statuses).encode()
    failed = platform.parse_discover(target, Capture(request, 200, real.headers, body, 1, 1))
    assert failed.status is Status.UNREACHABLE and failed.posts == ()
    assert "none could be read" in failed.detail


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_a_real_listing_lists_or_claims_anything(fault_name: str, fault: Fault) -> None:
    target, _ = LISTINGS["mast_public_tl_anon"]
    platform = adapter()
    real = sample("mast_public_tl_anon")
    discovery = platform.parse_discover(
        target, fault(platform.discover_request(target, None), real.body, real.headers)
    )
    assert discovery.status is Status.UNREACHABLE, fault_name
    assert not discovery.confirm_all


# -- timelines that need a token ----------------------------------------------------------------

#: What a logged-out poll of mastodon.social's local or federated timeline answers (Mastodon's
#: ``Api::BaseController#require_user!``, which its timeline controllers call when the timeline
#: is not public).
NEEDS_USER = b'{"error":"This method requires an authenticated user"}'


def refusal(platform: MastodonPlatform, target: Target, status: int, body: bytes) -> Capture:
    request = platform.discover_request(target, None)
    headers = sample("mast_401_token_invalid").headers
    return Capture(request, status, headers, body, 1.0, 1.0)


@pytest.mark.parametrize("kind", ["local", "public"])
def test_a_timeline_that_needs_a_login_says_so_and_what_to_do(kind: str) -> None:
    platform = adapter()
    target = Target("mastodon", kind)
    discovery = platform.parse_discover(target, refusal(platform, target, 422, NEEDS_USER))
    assert discovery.status is Status.UNREACHABLE
    detail = discovery.detail
    assert f"mastodon:{kind} needs a token" in detail
    assert "MEMORYHOLE_MASTODON_TOKEN" in detail and "token_env" in detail
    assert "mastodon:account/" in detail and "mastodon:tag/" in detail
    # the documented 401 (the real answer's body) says the same without a token...
    invalid = sample("mast_401_token_invalid").body
    assert (
        "needs a token"
        in platform.parse_discover(target, refusal(platform, target, 401, invalid)).detail
    )
    # ...and, with one, that the token was refused
    with_token = adapter(token="t0ken")
    refused = with_token.parse_discover(target, refusal(with_token, target, 401, invalid))
    assert refused.status is Status.UNREACHABLE
    assert "refused the token" in refused.detail and "t0ken" not in refused.detail


def test_the_real_instance_says_which_targets_need_a_token() -> None:
    """mastodon.social (4.7): live feeds disabled (staff only), hashtag feeds public."""
    real = sample("mast_social_instance_v2")
    platform = MastodonPlatform("https://mastodon.social")
    capture = real.capture(platform.instance_request())
    for kind in ("local", "public"):
        target = Target("mastodon", kind)
        assert platform.access_request(target) == platform.instance_request()
        said = platform.timeline_access(target, capture)
        assert (said.known, said.needs_token, said.complete) == (True, True, False), said.detail
        assert "closed on mastodon.social" in said.detail
        assert "live_feeds.local disabled" in said.detail
        assert "mastodon:account/" in said.detail
        # a token does not open it: only staff see a disabled timeline
        with_token = timeline_access(target, capture, has_token=True)
        assert (with_token.needs_token, with_token.complete) == (True, False)
        assert "empty list" in with_token.detail
    tag = platform.timeline_access(Target("mastodon", "tag", "news"), capture)
    assert (tag.known, tag.needs_token, tag.complete) == (True, False, True)
    assert "lets anyone read it" in tag.detail
    account = Target("mastodon", "account", "13179")
    assert platform.access_request(account) is None
    assert platform.timeline_access(account, capture).needs_token is False


@pytest.mark.parametrize(
    ("local", "remote", "has_token", "needs_token", "complete", "says"),
    [
        ("authenticated", "authenticated", False, True, False, "MEMORYHOLE_MASTODON_TOKEN"),
        ("authenticated", "authenticated", True, True, True, "the study's is sent"),
        ("public", "disabled", True, True, False, "shows only local posts"),
        ("public", "disabled", False, True, False, "logged-out polls are refused"),
    ],
)
def test_what_each_setting_of_the_real_instance_would_say(
    local: str, remote: str, has_token: bool, needs_token: bool, complete: bool, says: str
) -> None:
    real = sample("mast_social_instance_v2")
    body = json.loads(real.body)
    body["configuration"]["timelines_access"]["live_feeds"] = {"local": local, "remote": remote}
    request = MastodonPlatform("https://mastodon.social").instance_request()
    capture = Capture(request, 200, real.headers, json.dumps(body).encode(), 1.0, 1.0)
    said = timeline_access(Target("mastodon", "public"), capture, has_token=has_token)
    assert (said.needs_token, said.complete) == (needs_token, complete)
    assert says in said.detail
    # the local timeline reads only its local part
    alone = timeline_access(Target("mastodon", "local"), capture, has_token=has_token)
    assert alone.needs_token is (local != "public")


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_an_instance_answer_that_is_not_one_says_it_does_not_know(
    fault_name: str, fault: Fault
) -> None:
    real = sample("mast_social_instance_v2")
    platform = MastodonPlatform("https://mastodon.social")
    capture = fault(platform.instance_request(), real.body, real.headers)
    said = platform.timeline_access(Target("mastodon", "local"), capture)
    assert said.known is False, fault_name
    assert "does not say" in said.detail and "MEMORYHOLE_MASTODON_TOKEN" in said.detail


def test_an_instance_before_4_5_does_not_say() -> None:
    real = sample("mast_social_instance_v2")
    body = json.loads(real.body)
    del body["configuration"]["timelines_access"]
    request = MastodonPlatform().instance_request()
    capture = Capture(request, 200, real.headers, json.dumps(body).encode(), 1.0, 1.0)
    said = timeline_access(Target("mastodon", "local"), capture, has_token=False)
    assert said.known is False and "before 4.5" in said.detail


# -- edit history -------------------------------------------------------------------------------


def test_the_real_history_lists_both_versions_oldest_first() -> None:
    platform = adapter()
    post = post_of("mast_status_edited")
    real = sample("mast_status_history")
    versions = parse_history(real.capture(platform.history_request(post)))
    assert versions is not None and len(versions) == HISTORIES["mast_status_history"]
    assert versions[0] == (
        at("2026-08-01T13:54:00.505Z"),
        "the best editor? why, of course it is VS Code",
    )
    edited = check(platform, "mast_status_edited", post)
    assert versions[-1] == (at("2026-08-01T13:54:00.695Z"), edited.text)
    for _, fault in FAULTS:
        assert parse_history(fault(platform.history_request(post), real.body, real.headers)) is None


# -- the simulator speaks the same shapes ---------------------------------------------------------

T0 = 1_785_000_000.0
STATUS_PATHS = [
    "id",
    "created_at",
    "content",
    "spoiler_text",
    "edited_at",
    "reblog",
    "account",
    "account.id",
    "media_attachments",
    "media_attachments[].type",
    "media_attachments[].url",
    "media_attachments[].remote_url",
]
#: No real answer here has media.
MEDIA = frozenset(path for path in STATUS_PATHS if path.startswith("media_attachments[]"))
LISTING_PATHS = ["", "[]", *(f"[].{path}" for path in STATUS_PATHS)]
LISTED_MEDIA = frozenset(f"[].{path}" for path in MEDIA)
ACCOUNT_PATHS = ["id", "suspended", "statuses_count"]
HISTORY_PATHS = ["", "[]", "[].created_at", "[].content", "[].spoiler_text"]
INSTANCE_PATHS = [
    "domain",
    "configuration",
    "configuration.timelines_access",
    *(
        f"configuration.timelines_access.{group}.{part}"
        for group in ("live_feeds", "hashtag_feeds")
        for part in ("local", "remote")
    ),
]


def simulator() -> SimPlatform:
    posts = [
        ScenarioPost(str(117020580000000000 + i), "117020565966271181", T0 + i * 60.0, f"第{i}条")
        for i in range(8)
    ]
    posts.append(
        ScenarioPost(
            "117020590000000001",
            "117020566092212359",
            T0 + 30.0,
            "改之前",
            edits=((T0 + 90.0, "改之后"),),
        )
    )
    posts.append(
        ScenarioPost(
            "117020590000000002",
            "117020599999999999",
            T0 + 40.0,
            "被封的账号",
            removed_at=T0 + 200.0,
            removal="account_suspended",
        )
    )
    return SimPlatform(posts, VirtualClock(T0 + 3600.0), "mastodon")


def answer(sim: SimPlatform, path: str, query: dict[str, str] | None = None) -> Any:
    code, _, body = sim.handle("GET", path, query or {})
    assert code == 200, (path, body)
    return json.loads(body)


def test_the_simulators_statuses_have_the_real_statuses_shape() -> None:
    sim = simulator()
    real = [json.loads(sample(n).body) for n in ("mast_status_visible", "mast_status_edited")]
    for post_id in ("117020580000000005", "117020590000000001"):
        simulated = answer(sim, f"/api/v1/statuses/{post_id}")
        assert shape_differences(simulated, real, STATUS_PATHS, optional=MEDIA) == []


@pytest.mark.parametrize(
    "path", ["/api/v1/timelines/public", "/api/v1/accounts/117020565966271181/statuses"]
)
def test_the_simulators_listings_have_the_real_listings_shape(path: str) -> None:
    sim = simulator()
    real = [json.loads(sample(name).body) for name in LISTINGS]
    simulated = answer(sim, path, {"limit": "5"})
    assert shape_differences(simulated, real, LISTING_PATHS, optional=LISTED_MEDIA) == []
    # and their Link header pages as the real ones do
    request = Request("GET", f"{BASE}{path}", (("limit", "5"),))
    code, headers, body = sim.handle("GET", path, {"limit": "5"})
    capture = Capture(request, code, headers, body, 1.0, 1.0)
    real_capture = sample("mast_account_statuses_linkpaged").capture()
    for rel, name, index in (("prev", "min_id", 0), ("next", "max_id", -1)):
        assert link_param(real_capture, rel, name) is not None
        assert link_param(capture, rel, name) == simulated[index]["id"]


def test_the_simulators_accounts_have_the_real_accounts_shape() -> None:
    sim = simulator()
    suspended = answer(sim, "/api/v1/accounts/117020599999999999")
    real = json.loads(sample("mast_doc_account_suspended").body)
    assert shape_differences(suspended, [real], ACCOUNT_PATHS) == []
    assert suspended["suspended"] is True and suspended["statuses_count"] > 0
    normal = answer(sim, "/api/v1/accounts/117020565966271181")
    in_statuses = [json.loads(sample("mast_status_visible").body)["account"]]
    optional = frozenset({"suspended"})  # a normal account has none
    assert shape_differences(normal, in_statuses, ACCOUNT_PATHS, optional=optional) == []
    assert "suspended" not in normal


def test_the_simulators_history_and_instance_have_the_real_shapes() -> None:
    sim = simulator()
    history = answer(sim, "/api/v1/statuses/117020590000000001/history")
    real_history = json.loads(sample("mast_status_history").body)
    assert shape_differences(history, [real_history], HISTORY_PATHS) == []
    instance = answer(sim, "/api/v2/instance")
    real_instance = json.loads(sample("mast_social_instance_v2").body)
    assert shape_differences(instance, [real_instance], INSTANCE_PATHS) == []


def test_the_simulators_answers_read_back_as_the_scenario_holds() -> None:
    sim = simulator()
    platform = MastodonPlatform(BASE)
    # its timelines are public: watching them needs no token
    request = platform.instance_request()
    code, headers, body = sim.handle("GET", "/api/v2/instance", {})
    instance = Capture(request, code, headers, body, 1.0, 1.0)
    for kind in ("local", "public"):
        said = platform.timeline_access(Target("mastodon", kind), instance)
        assert (said.known, said.needs_token, said.complete) == (True, False, True)
    # a listing pages forward with the newest id it named
    target = Target("mastodon", "local")
    seen: list[str] = []
    cursor: str | None = "117020580000000001"
    pages = 0
    while pages < 4:
        pages += 1
        request = platform.discover_request(target, cursor)
        request = replace(request, params=(("limit", "3"), *request.params[1:]))
        code, headers, body = sim.handle("GET", "/api/v1/timelines/public", dict(request.params))
        discovery = platform.parse_discover(target, Capture(request, code, headers, body, 1, 1))
        assert discovery.status is Status.LIVE and discovery.unreadable == ()
        seen += [post.post_id for post in discovery.posts]
        cursor = discovery.next_cursor or cursor
        if not discovery.more:
            break
    assert pages == 3  # 3 + 3 + 1: each full page asked for the next at once
    anchor = sim.by_id["117020580000000001"].published_at
    assert sorted(seen) == sorted(
        p.post_id for p in sim.posts if p.published_at > anchor and p.removal is None
    )
    # the suspended author's account says so, with its statuses still counted
    post = PostRef("mastodon", "117020590000000002", "117020599999999999")
    request = platform.check_request(post)
    code, headers, body = sim.handle("GET", "/api/v1/statuses/117020590000000002", {})
    assert platform.parse_check(post, Capture(request, code, headers, body, 1, 1)).status is (
        Status.REMOVED_UNKNOWN
    )
    request = platform.check_request(post)
    code, headers, body = sim.handle("GET", "/api/v1/accounts/117020599999999999", {})
    lookup = platform.parse_check(post, Capture(request, code, headers, body, 1, 1))
    assert lookup.status is Status.ACCOUNT_SUSPENDED and "statuses_count" in lookup.detail
