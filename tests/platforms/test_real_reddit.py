"""Reddit's real captured answers (tests/data/real, README "expected"): what the adapter must
conclude from each, that no fault turns one of them into a removal, and the simulator's
answers held against their shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.model import Capture, PostRef, Status, Target, content_hash
from memoryhole.platforms.reddit import COMMUNITY_BANNED, RedditPlatform
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.platform import SimPlatform
from tests.platforms.helpers import FAULTS, Fault
from tests.platforms.real_samples import sample, sample_names, shape_differences

BASE = "https://www.reddit.com"
AUTHOR = "some_user_42"  # the author a listing named before the item was checked
#: A post and a comment to check where the sample is not about one item (errors, refusals).
ANY_POST = PostRef("reddit", "1gx7k2p", AUTHOR)
ANY_COMMENT = PostRef("reddit", "t1_k3yrfii", AUTHOR)

#: Answers that concern no item in particular: the same for a post's and a comment's check.
REFUSALS = {
    "rd_302_redirect_html": Status.UNREACHABLE,
    "rd_401_invalid_token": Status.UNREACHABLE,
    "rd_403_private_sub": Status.UNREACHABLE,
    "rd_403_quarantined_ferguson": Status.UNREACHABLE,
    "rd_404_banned_sub": Status.CENSORED,  # the community is banned: a platform removal
    "rd_429_html_retry_after": Status.UNREACHABLE,
    "rd_429_json": Status.UNREACHABLE,
    "rd_451_legal": Status.WITHHELD,  # a legal block where the request came from
    "rd_502_empty": Status.UNREACHABLE,
    "rd_522_cloudflare": Status.UNREACHABLE,
}
#: (sample, watched id) → (status, code). A comment is watched by its fullname ``t1_…``.
ITEMS: dict[tuple[str, str], tuple[Status, str | None]] = {
    ("rd_info_t3_uflrmv", "uflrmv"): (Status.LIVE, None),
    ("rd_t3_account_deleted_post_live_2020", "dobn0g"): (Status.LIVE, None),
    ("rd_t3_author_deleted_nocat_2020", "ah3gqo"): (Status.AUTHOR_DELETED, "[deleted]"),
    ("rd_t3_deleted_2016", "5dec01"): (Status.AUTHOR_DELETED, "[deleted]"),
    ("rd_t3_removed_moderator_2020", "flnyhf"): (Status.CENSORED, "moderator"),
    ("rd_t3_removed_reddit_2025", "1kh35wk"): (Status.REMOVED_UNKNOWN, "reddit"),
    ("rd_info_t1_removed_2016", "t1_d7ltv31"): (Status.REMOVED_UNKNOWN, "[removed]"),
    ("rd_info_t1_removed_2016", "t1_d7ltv00"): (Status.LIVE, None),
    ("rd_info_t1_removed_2016", "5dec00"): (Status.LIVE, None),
    ("rd_info_t1_removed_2016", "5dec01"): (Status.AUTHOR_DELETED, "[deleted]"),
    ("rd_info_t1_deleted_2016", "t1_d7ltv34"): (Status.AUTHOR_DELETED, "[deleted]"),
    ("rd_info_t1_deleted_2016", "t1_d7ltv54"): (Status.AUTHOR_DELETED, "[deleted]"),
    ("rd_info_t1_deleted_2016", "t1_d7ltv56"): (Status.AUTHOR_DELETED, "[deleted]"),
    ("rd_info_t1_deleted_2016", "t1_d7ltv35"): (Status.LIVE, None),
}
#: Account lookups, each following a post Reddit removed (``rd_t3_removed_reddit_2025``).
ACCOUNTS = {
    "rd_about_normal": Status.CENSORED,  # in good standing: Reddit removed the post itself
    "rd_about_suspended_quoted": Status.ACCOUNT_SUSPENDED,
}
LISTINGS = {"rd_sub_new_askreddit": 100, "rd_sub_comments_2023": 100}
#: Listings answered with a refusal: (unreachable, every known post of it checked at once).
REFUSED_LISTINGS = {
    "rd_403_private_sub": False,
    "rd_403_quarantined_ferguson": False,
    "rd_404_banned_sub": True,
}
CLAIMS = (
    frozenset(REFUSALS)
    | frozenset(name for name, _ in ITEMS)
    | frozenset(ACCOUNTS)
    | frozenset(LISTINGS)
)


def adapter() -> RedditPlatform:
    return RedditPlatform(BASE)


def check(platform: RedditPlatform, name: str, post: PostRef) -> Any:
    return platform.parse_check(post, sample(name).capture(platform.check_request(post)))


def community(name: str) -> Target:
    url = sample(name).meta["url"]
    return Target("reddit", "r", url.split("/r/")[1].split("/")[0])


def test_every_reddit_sample_is_claimed() -> None:
    assert set(sample_names("rd_")) == CLAIMS


# -- checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), sorted(REFUSALS.items()))
@pytest.mark.parametrize("post", [ANY_POST, ANY_COMMENT], ids=["post", "comment"])
def test_each_refusal_concludes_what_it_says(name: str, expected: Status, post: PostRef) -> None:
    observation = check(adapter(), name, post)
    assert observation.status is expected, observation.detail
    if expected is Status.UNREACHABLE:
        assert not observation.status.is_removal


def test_a_banned_community_is_a_platform_removal_of_the_post() -> None:
    observation = check(adapter(), "rd_404_banned_sub", ANY_POST)
    assert (observation.status, observation.code) == (Status.CENSORED, COMMUNITY_BANNED)
    assert "banned" in observation.detail


def test_a_plain_404_or_a_banned_body_with_another_status_is_never_a_removal() -> None:
    platform = adapter()
    banned = sample("rd_404_banned_sub")
    request = platform.check_request(ANY_POST)
    plain = Capture(
        request, 404, banned.headers, b'{"message": "Not Found", "error": 404}', 1.0, 1.0
    )
    assert platform.parse_check(ANY_POST, plain).status is Status.UNREACHABLE
    for status in (200, 403, 410, 451):
        other = Capture(request, status, banned.headers, banned.body, 1.0, 1.0)
        seen = platform.parse_check(ANY_POST, other).status
        assert not seen.is_removal, status
        assert seen is (Status.WITHHELD if status == 451 else Status.UNREACHABLE), status


@pytest.mark.parametrize("name", ["rd_403_private_sub", "rd_403_quarantined_ferguson"])
def test_a_closed_community_says_why_and_that_it_is_no_removal(name: str) -> None:
    observation = check(adapter(), name, ANY_POST)
    assert "not a removal" in observation.detail
    if name == "rd_403_private_sub":
        assert "private" in observation.detail


@pytest.mark.parametrize(("item", "expected"), sorted(ITEMS.items()))
def test_each_real_item_concludes_what_it_says(
    item: tuple[str, str], expected: tuple[Status, str | None]
) -> None:
    name, post_id = item
    observation = check(adapter(), name, PostRef("reddit", post_id, AUTHOR))
    assert (observation.status, observation.code) == expected, observation.detail


def test_a_comment_is_asked_by_its_fullname_and_read_from_a_mixed_answer() -> None:
    platform = adapter()
    comment = PostRef("reddit", "t1_d7ltv00", "OmegaFemale")
    request = platform.check_request(comment)
    assert request.full_url() == f"{BASE}/api/info.json?id=t1_d7ltv00&raw_json=1"
    observation = check(platform, "rd_info_t1_removed_2016", comment)
    assert observation.text is not None
    assert observation.text.startswith("Michelle Bachman is Trump's foreign policy expert.")
    assert observation.content_hash == content_hash(observation.text)
    post = check(platform, "rd_info_t1_removed_2016", PostRef("reddit", "5dec00", "MyKale98"))
    assert post.text is not None and post.text.startswith("Class choice question\nIs cs 105")


def test_a_comment_and_a_post_with_the_same_id_are_not_confused() -> None:
    """Reddit numbers comments and posts separately: ``d7ltv00`` as a post is not the comment
    ``t1_d7ltv00``, and ``t1_5dec01`` is not the deleted post ``5dec01``."""
    platform = adapter()
    for post_id in ("d7ltv00", "t1_5dec01", "t1_5dec00"):
        observation = check(platform, "rd_info_t1_removed_2016", PostRef("reddit", post_id, "x"))
        assert observation.status is Status.UNREACHABLE, post_id
        assert "not in the answer" in observation.detail


def test_a_comment_deleted_after_an_edit_is_the_authors_deletion() -> None:
    observation = check(adapter(), "rd_info_t1_deleted_2016", PostRef("reddit", "t1_d7ltv34", ""))
    assert observation.detail == "deleted by its author"


@pytest.mark.parametrize(("name", "expected"), sorted(ACCOUNTS.items()))
def test_the_account_lookup_after_a_removal_by_reddit_attributes_it(
    name: str, expected: Status
) -> None:
    platform = adapter()
    post = PostRef("reddit", "1kh35wk", AUTHOR)
    first = check(platform, "rd_t3_removed_reddit_2025", post)
    assert first.status is Status.REMOVED_UNKNOWN
    assert "account is checked next" in first.detail
    lookup = platform.check_request(post)
    assert lookup.url == f"{BASE}/user/{AUTHOR}/about.json#after=reddit"
    attributed = platform.parse_check(post, sample(name).capture(lookup))
    assert (attributed.status, attributed.code) == (expected, "reddit")
    # The post again, same answer: the attribution is repeated, not "unknown" again.
    again = check(platform, "rd_t3_removed_reddit_2025", post)
    assert again.status is expected
    assert "account checked earlier" in again.detail


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rd_about_suspended_quoted", Status.ACCOUNT_SUSPENDED),
        ("rd_about_normal", Status.REMOVED_UNKNOWN),  # not a suspension; still nobody named
    ],
)
def test_a_removed_comments_account_tells_a_suspension_and_nothing_more(
    name: str, expected: Status
) -> None:
    platform = adapter()
    comment = PostRef("reddit", "t1_d7ltv31", AUTHOR)
    assert check(platform, "rd_info_t1_removed_2016", comment).status is Status.REMOVED_UNKNOWN
    lookup = platform.check_request(comment)
    assert lookup.url == f"{BASE}/user/{AUTHOR}/about.json#after=%5Bremoved%5D"
    observation = platform.parse_check(comment, sample(name).capture(lookup))
    assert (observation.status, observation.code) == (expected, "[removed]")


def test_a_removed_comment_of_a_deleted_account_asks_for_no_account() -> None:
    platform = adapter()
    comment = PostRef("reddit", "t1_d7ltv31", "[deleted]")
    observation = check(platform, "rd_info_t1_removed_2016", comment)
    assert observation.status is Status.REMOVED_UNKNOWN
    assert "about.json" not in platform.check_request(comment).url


# -- no fault is a removal --------------------------------------------------------------------

#: Every removal a real answer shows, with the item it is about.
REMOVALS: list[tuple[str, PostRef]] = [
    (name, PostRef("reddit", post_id, AUTHOR))
    for (name, post_id), (status, _) in sorted(ITEMS.items())
    if status.is_removal
] + [("rd_404_banned_sub", ANY_POST), ("rd_404_banned_sub", ANY_COMMENT)]


@pytest.mark.parametrize(("name", "post"), REMOVALS, ids=[f"{n}-{p.post_id}" for n, p in REMOVALS])
@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_a_real_removal_is_a_removal(
    name: str, post: PostRef, fault_name: str, fault: Fault
) -> None:
    real = sample(name)
    platform = adapter()
    observation = platform.parse_check(
        post, fault(platform.check_request(post), real.body, real.headers)
    )
    assert observation.status is Status.UNREACHABLE, fault_name
    target = Target("reddit", "r", "impossibl")
    discovery = platform.parse_discover(
        target, fault(platform.discover_request(target, None), real.body, real.headers)
    )
    assert discovery.status is Status.UNREACHABLE, fault_name
    assert not discovery.confirm_all, fault_name


@pytest.mark.parametrize("name", sorted(ACCOUNTS))
@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_on_a_real_account_lookup_is_a_removal(
    name: str, fault_name: str, fault: Fault
) -> None:
    real = sample(name)
    platform = adapter()
    post = PostRef("reddit", "1kh35wk", AUTHOR)
    check(platform, "rd_t3_removed_reddit_2025", post)
    lookup = platform.check_request(post)
    observation = platform.parse_check(post, fault(lookup, real.body, real.headers))
    assert observation.status is Status.UNREACHABLE, fault_name
    assert "about.json" in platform.check_request(post).url, "a failed lookup is asked again"


# -- listings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "confirm_all"), sorted(REFUSED_LISTINGS.items()))
def test_a_refused_listing_lists_nothing_and_is_no_success(name: str, confirm_all: bool) -> None:
    platform = adapter()
    target = community(name)
    discovery = platform.parse_discover(
        target, sample(name).capture(platform.discover_request(target, None))
    )
    assert discovery.status is Status.UNREACHABLE
    assert (discovery.posts, discovery.notices) == ((), ())
    assert discovery.confirm_all is confirm_all
    assert ("banned" in discovery.detail) is confirm_all


def test_the_real_new_page_lists_its_hundred_posts_with_ids_authors_times_and_texts() -> None:
    real = sample("rd_sub_new_askreddit")
    platform = adapter()
    target = Target("reddit", "r", "askreddit")
    discovery = platform.parse_discover(
        target, real.capture(platform.discover_request(target, None))
    )
    assert discovery.status is Status.LIVE
    assert len(discovery.posts) == LISTINGS["rd_sub_new_askreddit"]
    assert (discovery.unreadable, discovery.notices) == ((), ())
    children = [child["data"] for child in json.loads(real.body)["data"]["children"]]
    assert [seen.post_id for seen in discovery.posts] == [data["id"] for data in children]
    assert [seen.author_id for seen in discovery.posts] == [data["author"] for data in children]
    assert [seen.published_at for seen in discovery.posts] == [d["created_utc"] for d in children]
    first, last = discovery.posts[0], discovery.posts[-1]
    assert (first.post_id, first.author_id, first.published_at) == (
        "48fbm9",
        "RedHeadQc",
        1456821458.0,
    )
    assert first.text.startswith("[Serious] Parents of Reddit, what's the biggest lie")
    assert (last.post_id, last.author_id) == ("48f6io", "purpleclouds")
    assert last.text == "What are your two favorite foods and how would they taste mixed together?"
    assert all(seen.text for seen in discovery.posts)
    assert discovery.next_cursor == "t3_48fbm9"  # the newest: the next poll pages from it
    assert discovery.more is False


def test_the_real_comment_stream_lists_its_hundred_comments_by_fullname() -> None:
    real = sample("rd_sub_comments_2023")
    platform = adapter()
    target = platform.parse_target("comments/TEST_SUBREDDIT")
    request = platform.discover_request(target, None)
    assert request.full_url() == f"{BASE}/r/TEST_SUBREDDIT/comments.json?limit=100&raw_json=1"
    discovery = platform.parse_discover(target, real.capture(request))
    assert discovery.status is Status.LIVE
    assert len(discovery.posts) == LISTINGS["rd_sub_comments_2023"]
    assert (discovery.unreadable, discovery.notices) == ((), ())
    children = [child["data"] for child in json.loads(real.body)["data"]["children"]]
    assert [seen.post_id for seen in discovery.posts] == [f"t1_{d['id']}" for d in children]
    assert [seen.text for seen in discovery.posts] == [d["body"] for d in children]
    first = discovery.posts[0]
    assert (first.post_id, first.author_id, first.published_at, first.text) == (
        "t1_k3yrfii",
        "Acceptable-Bread-566",
        1696754768.0,
        "Did it work?",
    )
    assert discovery.next_cursor == "t1_k3yrfii"
    anchored = platform.discover_request(target, discovery.next_cursor)
    assert ("before", "t1_k3yrfii") in anchored.params


def test_a_listing_shows_a_removed_item_as_a_notice_not_a_post() -> None:
    """Built from the real answers: the comment stream with a real removed comment and a real
    author-deleted post in it."""
    comments = json.loads(sample("rd_sub_comments_2023").body)
    mixed = json.loads(sample("rd_info_t1_removed_2016").body)["data"]["children"]
    removed = next(c for c in mixed if c["data"]["id"] == "d7ltv31")
    deleted = next(c for c in mixed if c["data"]["id"] == "5dec01")
    comments["data"]["children"][1:1] = [removed, deleted]
    platform = adapter()
    target = Target("reddit", "comments", "TEST_SUBREDDIT")
    request = platform.discover_request(target, None)
    body = json.dumps(comments).encode()
    discovery = platform.parse_discover(target, Capture(request, 200, (), body, 1.0, 1.0))
    assert len(discovery.posts) == 100
    assert [(n.post_id, n.status, n.code) for n in discovery.notices] == [
        ("t1_d7ltv31", Status.REMOVED_UNKNOWN, "[removed]"),
        ("5dec01", Status.AUTHOR_DELETED, "[deleted]"),
    ]
    assert all(n.author_id is None for n in discovery.notices)  # "[deleted]" names nobody


def test_a_listing_child_that_cannot_be_read_is_kept_as_unreadable() -> None:
    listing = json.loads(sample("rd_sub_new_askreddit").body)
    children = listing["data"]["children"]
    children[3]["data"]["created_utc"] = "yesterday"
    del children[5]["data"]["title"]
    children[7]["kind"] = "t9"
    more = {"count": 3, "name": "t1__", "id": "_", "children": ["a", "b", "c"]}
    children.insert(0, {"kind": "more", "data": more})
    platform = adapter()
    target = Target("reddit", "r", "askreddit")
    capture = Capture(
        platform.discover_request(target, None), 200, (), json.dumps(listing).encode(), 1.0, 1.0
    )
    discovery = platform.parse_discover(target, capture)
    assert discovery.status is Status.LIVE
    assert len(discovery.posts) == 97  # the "more" stub is no post and nothing lost
    assert len(discovery.unreadable) == 3
    assert "created_utc 'yesterday' is not a time" in discovery.unreadable[0]
    assert "no title" in discovery.unreadable[1]
    assert "'t9'" in discovery.unreadable[2]
    assert discovery.next_cursor == "t3_48fbm9"  # a stub is no anchor
    for child in children:
        child["kind"] = "t9"
    capture = Capture(capture.request, 200, (), json.dumps(listing).encode(), 1.0, 1.0)
    nothing = platform.parse_discover(target, capture)
    assert nothing.status is Status.UNREACHABLE and len(nothing.unreadable) == 101
    assert "none could be read" in nothing.detail


# -- the simulator speaks the same shapes -----------------------------------------------------

T0 = 1_700_000_000.0
LISTING_PATHS = ["kind", "data", "data.children", "data.children[].kind", "data.children[].data"]
#: What the adapter reads of a post (``t3``) and of a comment (``t1``).
LINK_FIELDS = [
    "id",
    "name",
    "author",
    "created_utc",
    "title",
    "selftext",
    "is_self",
    "url",
    "removed_by_category",
    "removal_reason",
    "locked",
    "archived",
    "quarantine",
    "post_hint",
    "url_overridden_by_dest",
    "secure_media.reddit_video.fallback_url",
]
#: Only link and image posts carry a hint and a destination; no claimed sample holds a hosted
#: video (its field is the one praw's recorded answers show).
LINK_OPTIONAL = frozenset(
    {"post_hint", "url_overridden_by_dest", "secure_media.reddit_video.fallback_url"}
)
COMMENT_FIELDS = [
    "id",
    "name",
    "author",
    "created_utc",
    "body",
    "edited",
    "removal_reason",
    "locked",
    "archived",
]
ACCOUNT_PATHS = ["kind", "data", "data.name", "data.is_suspended", "data.created_utc"]


def simulator() -> SimPlatform:
    posts = [
        ScenarioPost(str(7000 + i), f"author{i % 3}", T0 + i * 60.0, f"第{i}条\n正文 {i}")
        for i in range(24)
    ]
    posts += [
        ScenarioPost("8001", "author0", T0 + 5, "删了", T0 + 600, "author_deleted"),
        ScenarioPost("8002", "author1", T0 + 6, "被删", T0 + 600, "censored"),
        ScenarioPost("8003", "author9", T0 + 7, "封号", T0 + 600, "account_suspended"),
        ScenarioPost("8004", "author2", T0 + 8, "原文", edits=((T0 + 300, "改过"),)),
    ]
    return SimPlatform(posts, VirtualClock(T0 + 3600.0), "reddit")


def answer(sim: SimPlatform, path: str, query: dict[str, str] | None = None) -> Any:
    status, _, body = sim.handle("GET", path, query or {})
    assert status == 200, (path, body)
    return json.loads(body)


def items(listings: list[Any], kind: str) -> list[dict[str, Any]]:
    return [
        child["data"]
        for listing in listings
        for child in listing["data"]["children"]
        if child["kind"] == kind
    ]


def item_differences(
    simulated: list[dict[str, Any]],
    real: list[dict[str, Any]],
    fields: list[str],
    optional: frozenset[str] = frozenset(),
) -> list[str]:
    return shape_differences(
        {"items": simulated},
        [{"items": real}],
        [f"items[].{field}" for field in fields],
        optional=frozenset(f"items[].{field}" for field in optional),
    )


def real_answers(names: list[str]) -> list[Any]:
    return [json.loads(sample(name).body) for name in names]


REAL_LINKS = [
    "rd_sub_new_askreddit",
    "rd_info_t3_uflrmv",
    "rd_t3_account_deleted_post_live_2020",
    "rd_t3_author_deleted_nocat_2020",
    "rd_t3_deleted_2016",
    "rd_t3_removed_moderator_2020",
    "rd_t3_removed_reddit_2025",
    "rd_info_t1_removed_2016",
]
REAL_COMMENTS = ["rd_sub_comments_2023", "rd_info_t1_removed_2016", "rd_info_t1_deleted_2016"]


def test_the_simulators_post_listings_and_posts_have_the_real_shapes() -> None:
    sim = simulator()
    new = answer(sim, "/r/memoryhole_sim/new.json", {"limit": "100"})
    by_id = [answer(sim, f"/by_id/t3_{pid}.json") for pid in ("8001", "8002", "8003", "8004")]
    real = real_answers(REAL_LINKS)
    assert shape_differences(new, real, LISTING_PATHS) == []
    simulated = items([new, *by_id], "t3")
    assert len(simulated) == 29  # the 25 listed, then each removal kind and the edited post
    assert any(item.get("post_hint") == "image" for item in simulated)
    assert item_differences(simulated, items(real, "t3"), LINK_FIELDS, LINK_OPTIONAL) == []
    # "edited": false, or when the text was edited (the real comments show the number)
    real_edited = items(real + real_answers(REAL_COMMENTS), "t1") + items(real, "t3")
    assert item_differences(simulated, real_edited, ["edited"]) == []


def test_the_simulators_comment_listing_and_info_have_the_real_shapes() -> None:
    sim = simulator()
    stream = answer(sim, "/r/memoryhole_sim/comments.json", {"limit": "100"})
    wanted = "t1_8001,t1_8002,t1_8003,t1_8004,t3_8004,t1_7005,t5_nope"
    info = answer(sim, "/api/info.json", {"id": wanted})
    real = real_answers(REAL_COMMENTS)
    assert shape_differences(stream, real, LISTING_PATHS) == []
    assert shape_differences(info, real, LISTING_PATHS) == []
    simulated = items([stream, info], "t1")
    assert item_differences(simulated, items(real, "t1"), COMMENT_FIELDS) == []
    assert [c["kind"] for c in info["data"]["children"]] == ["t1"] * 4 + ["t3", "t1"]


def test_the_simulators_accounts_have_the_real_shapes() -> None:
    sim = simulator()
    real = real_answers(["rd_about_normal", "rd_about_suspended_quoted"])
    for name in ("author0", "author9"):  # in good standing, suspended
        account = answer(sim, f"/user/{name}/about.json")
        optional = frozenset({"data.is_suspended", "data.created_utc"})
        assert shape_differences(account, real, ACCOUNT_PATHS, optional=optional) == []


def test_the_simulators_comments_read_back_as_the_scenario_holds() -> None:
    sim = simulator()
    platform = RedditPlatform("http://sim")
    target = platform.parse_target("r/memoryhole_sim/comments")
    request = platform.discover_request(target, None)
    status, headers, body = sim.handle(
        "GET", "/r/memoryhole_sim/comments.json", dict(request.params)
    )
    now = sim.clock.now()
    discovery = platform.parse_discover(target, Capture(request, status, headers, body, now, now))
    assert len(discovery.posts) == 25 and discovery.unreadable == ()
    for seen in discovery.posts:
        truth = sim.by_id[seen.post_id.removeprefix("t1_")]
        assert (seen.author_id, seen.published_at) == (truth.author_id, truth.published_at)
        assert seen.text == sim.text_at(truth, now)[1]
    expected = {
        "8001": Status.AUTHOR_DELETED,
        "8002": Status.REMOVED_UNKNOWN,  # a removed comment names nobody; the account is fine
        "8003": Status.ACCOUNT_SUSPENDED,
        "8004": Status.LIVE,
    }
    for post_id, status_expected in expected.items():
        ref = PostRef("reddit", f"t1_{post_id}", sim.by_id[post_id].author_id)
        seen_status = Status.UNREACHABLE
        request = platform.check_request(ref)
        for _ in range(2):  # the comment, then (if it asks) its author's account
            path = request.url.split("http://sim", 1)[1].split("#")[0]
            capture = Capture(request, *sim.handle("GET", path, dict(request.params)), now, now)
            observation = platform.parse_check(ref, capture)
            if observation.status is not Status.UNREACHABLE:
                seen_status = observation.status
            request = platform.check_request(ref)
            if "#" not in request.url:
                break
        assert seen_status is status_expected, (post_id, observation.detail)


def test_a_451_is_withheld_where_the_request_came_from_never_a_removal() -> None:
    observation = check(adapter(), "rd_451_legal", ANY_POST)
    assert (observation.status, observation.code) == (Status.WITHHELD, "451")
    assert observation.detail.startswith("withheld where this request came from")
    blocked = sample("rd_451_legal").capture(adapter().check_request(ANY_POST))
    named = Capture(
        blocked.request,
        451,
        (*blocked.headers, ("Link", '<https://isp.example/>; rel="blocked-by"')),
        b"",
        1.0,
        1.0,
    )
    assert "blocked by https://isp.example/" in adapter().parse_check(ANY_POST, named).detail
