"""YouTube's real captured answers (tests/data/real, README "what it shows", REASONS.md): what
the adapter must conclude from each (structure first: the reason texts are translated), how a
removal read from a watch page is confirmed by oEmbed before it is stated, the removal texts
YouTube uses, that no fault turns an answer into a removal, and the simulator's answers held
against the real ones."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.model import Capture, Observation, PostRef, Request, Status, Target, content_hash
from memoryhole.platforms.youtube import ATOM, YouTubePlatform, read_watch
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.shapes.youtube import channel_id_of
from tests.platforms.helpers import FAULTS, Fault
from tests.platforms.real_samples import sample, sample_names, shape_differences

BASE = "https://www.youtube.com"
ANY_VIDEO = "dQw4w9WgXcQ"
AT = 1_800_000_000.0

#: Watch pages and player answers: (what the watch page reads, its code, a restriction's words
#: in a live answer's detail). A removal read is stated only once oEmbed confirms it.
CHECKS: dict[str, tuple[Status, str | None, str]] = {
    "yt_watch_ok_2021": (Status.LIVE, None, ""),
    "yt_player_ok_android": (Status.LIVE, None, ""),
    "yt_player_ok_reel": (Status.LIVE, None, ""),
    "yt_watch_age_restricted_2021": (Status.LIVE, None, "age-restricted"),
    "yt_watch_age_restricted_2025": (Status.LIVE, None, "age-restricted"),
    "yt_watch_age_restricted_vi": (Status.LIVE, None, "age-restricted"),  # by its structure
    "yt_player_age_restricted_android": (Status.LIVE, None, "age-restricted"),
    "yt_embed_age_restricted_old": (Status.LIVE, None, "age-restricted"),
    "yt_player_members_only_reel": (Status.LIVE, None, "members-only"),
    "yt_player_music_premium_reel": (Status.LIVE, None, "premium-only"),
    "yt_watch_rental_payment": (Status.LIVE, None, "paid"),
    "yt_player_live_offline_scheduled": (Status.LIVE, None, "scheduled live stream"),
    "yt_watch_live_recording_unavailable_2021": (Status.LIVE, None, "recording not available"),
    "yt_watch_geoblocked_2023": (Status.WITHHELD, "not_in_country", "withheld in US"),
    "yt_player_geoblocked_reel": (Status.WITHHELD, "not_in_country", "region not stated"),
    "yt_player_private_reel": (Status.REMOVED_UNKNOWN, "private", "private video"),
    "yt_player_private_web": (Status.REMOVED_UNKNOWN, "private", "private video"),
    "yt_watchjson_private": (Status.REMOVED_UNKNOWN, "private", "private video"),
    "yt_player_invalid_id_error": (Status.REMOVED_UNKNOWN, "unavailable", "video gone"),
    "yt_watch_unavailable_invalid_id": (Status.REMOVED_UNKNOWN, "unavailable", "video gone"),
    "yt_watchjson_nonexistent": (Status.REMOVED_UNKNOWN, "unavailable", "video gone"),
    "yt_player_unavailable_android": (Status.REMOVED_UNKNOWN, "unavailable", "video gone"),
    "yt_player_bot_check_android": (Status.UNREACHABLE, None, "not a bot"),
    "yt_watch_bot_check_2025": (Status.UNREACHABLE, None, "not a bot"),
    "yt_watch_captcha_too_many_requests": (Status.UNREACHABLE, None, "captcha"),
    "yt_watch_consent_page": (Status.UNREACHABLE, None, "consent"),
    "yt_player_not_available_visionos": (Status.UNREACHABLE, None, "never guessed"),
    "yt_player_nonexistent_reel_empty": (Status.UNREACHABLE, None, "no player"),
    "yt_get_video_info_fail_2017": (Status.UNREACHABLE, None, "not a watch page"),
}
#: oEmbed alone: only ever visible or nothing.
OEMBED = {
    "yt_oembed_ok_2024": ("pO5L6vXtxsI", Status.LIVE),
    "yt_oembed_ok_rickastley": ("dQw4w9WgXcQ", Status.LIVE),
    "yt_oembed_private_403_2024": ("NHriYTkvd0g", Status.UNREACHABLE),
    "yt_oembed_private_200_forbidden_2020": ("NHriYTkvd0g", Status.UNREACHABLE),
    "yt_oembed_embedding_disabled_401": ("5f-JlzBuUUU", Status.UNREACHABLE),
}
#: oEmbed answers that confirm a removal read from the watch page (it does not show the video).
NOT_SHOWN = (
    "yt_oembed_private_403_2024",
    "yt_oembed_private_200_forbidden_2020",
    "yt_oembed_embedding_disabled_401",
)
FEEDS = {"yt_rss_feed_user_kurzgesagt": (Target("youtube", "user", "Kurzgesagt"), 15)}
FEED_GONE = {"yt_rss_feed_channel_404"}
#: A channel's page (read after its feed answered 404): (kind, code).
CHANNEL_PAGES = {
    "yt_channel_removed_community_guidelines": (Status.ACCOUNT_SUSPENDED, "community_guidelines"),
    "yt_channel_terminated_copyright": (Status.ACCOUNT_SUSPENDED, "copyright"),
    "yt_channel_terminated_tos": (Status.ACCOUNT_SUSPENDED, "tos"),
    "yt_channel_does_not_exist": (Status.UNREACHABLE, None),
    "yt_channel_browse_400_invalid_argument": (Status.UNREACHABLE, None),
}
CLAIMS = (
    frozenset(CHECKS)
    | frozenset(OEMBED)
    | frozenset(FEEDS)
    | frozenset(FEED_GONE)
    | frozenset(CHANNEL_PAGES)
)

#: Removal texts of the watch page (REASONS.md: quoted from code matching live pages; no
#: captured body holds them), under ``ERROR`` → (kind, code).
REMOVAL_TEXTS = {
    "This video has been removed for violating YouTube's policy on hate speech. Learn more about "
    "combating hate speech in your country.": (Status.CENSORED, "hate_speech"),
    "This video has been removed for violating YouTube's policy on harassment and bullying": (
        Status.CENSORED,
        "harassment",
    ),
    "This video has been removed for violating YouTube's policy on nudity or sexual content": (
        Status.CENSORED,
        "nudity",
    ),
    "This video has been removed for violating YouTube's policy on spam, deceptive practices, and "
    "scams": (Status.CENSORED, "spam"),
    "This video has been removed for violating YouTube's policy on violent or graphic content": (
        Status.CENSORED,
        "violent_graphic",
    ),
    "This video has been removed for violating YouTube's Community Guidelines": (
        Status.CENSORED,
        "community_guidelines",
    ),
    "This video has been removed for violating YouTube's Terms of Service": (
        Status.CENSORED,
        "tos",
    ),
    "This video is no longer available due to a copyright claim by Manners McDade Music "
    "Publishing": (Status.CENSORED, "copyright"),
    "This video is no longer available because the uploader has closed their YouTube account.": (
        Status.AUTHOR_DELETED,
        "account_closed",
    ),
    "This video has been removed by the uploader": (Status.AUTHOR_DELETED, "uploader"),
    "This video is no longer available because the YouTube account associated with this video "
    "has been terminated.": (Status.ACCOUNT_SUSPENDED, "account_terminated"),
    "This video isn't available anymore": (Status.REMOVED_UNKNOWN, "unavailable"),
    "This video contains content from UMG, who has blocked it in your country on copyright "
    "grounds.": (Status.WITHHELD, "rights_holder"),
}


def adapter() -> YouTubePlatform:
    return YouTubePlatform(BASE)


def video_of(name: str) -> str:
    """The video a sample is about: its videoDetails, else its request's ``v``/``id``."""
    real = sample(name)
    page = read_watch(real.capture())
    details = (page.player or {}).get("videoDetails") or {}
    if isinstance(details, dict) and details.get("videoId"):
        return str(details["videoId"])
    query = parse_qs(urlsplit(str(real.meta["url"])).query)
    for key in ("v", "id", "video_id"):
        value = (query.get(key) or [""])[0]
        if value and value != "don-t-exist":
            return value
    return ANY_VIDEO


def answer(request: Request, body: bytes, status: int = 200) -> Capture:
    headers = (("content-type", "application/json; charset=UTF-8"),)
    return Capture(request, status, headers, body, AT, AT, sent_at=AT - 0.5)


def check(platform: YouTubePlatform, name: str, ref: PostRef) -> Observation:
    captured = sample(name).capture(platform.check_request(ref))
    if captured.status is None:  # the fixture did not record it: the body is what is tested
        captured = dataclasses.replace(captured, status=200)
    return platform.parse_check(ref, captured)


def ref_of(video: str) -> PostRef:
    return PostRef("youtube", video, "UCsXVk37bltHxD1rDPwtNM8Q")


def player(status: str, reason: str, *, subreason: str = "") -> bytes:
    """A WEB player response in the captured samples' shape (``yt_watch_geoblocked_2023``)."""
    screen: dict[str, Any] = {"reason": {"simpleText": reason}}
    if subreason:
        screen["subreason"] = {"runs": [{"text": subreason}]}
    body = {
        "playabilityStatus": {
            "status": status,
            "reason": reason,
            "errorScreen": {"playerErrorMessageRenderer": screen},
        }
    }
    return json.dumps(body).encode()


def test_every_youtube_sample_is_claimed() -> None:
    assert set(sample_names("yt_")) == CLAIMS


# -- checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), sorted(CHECKS.items()))
def test_each_real_check_reads_what_it_says(
    name: str, expected: tuple[Status, str | None, str]
) -> None:
    status, code, words = expected
    platform = adapter()
    ref = ref_of(video_of(name))
    seen = check(platform, name, ref)
    assert words in seen.detail, seen.detail
    if status.is_removal:  # said by the watch page: stated only once oEmbed confirms it
        assert (seen.status, seen.code) == (Status.UNREACHABLE, code)
        assert f"{status.value} per the watch page" in seen.detail
        follow = platform.check_request(ref)
        assert (
            follow.url.startswith(f"{BASE}/oembed#after=") and ("format", "json") in follow.params
        )
        confirmed = platform.parse_check(ref, sample("yt_oembed_private_403_2024").capture(follow))
        assert (confirmed.status, confirmed.code) == (status, code)
        assert "oEmbed does not show it either" in confirmed.detail
        again = check(platform, name, ref)  # later checks repeat it without asking again
        assert (again.status, again.code) == (status, code)
    else:
        assert (seen.status, seen.code) == (status, code), seen.detail
        assert "oembed" not in platform.check_request(ref).url
    if status is Status.WITHHELD:
        assert not seen.status.is_removal and seen.detail.startswith("withheld ")


def test_a_live_check_hashes_what_the_feed_listed() -> None:
    ref = ref_of("2lAe1cqCOXo")
    seen = check(adapter(), "yt_watch_ok_2021", ref)
    page = read_watch(sample("yt_watch_ok_2021").capture())
    details = (page.player or {})["videoDetails"]
    text = f"{details['title']}\n{details['shortDescription']}"
    assert seen.content_hash == content_hash(text) and seen.text == text
    assert seen.text.startswith("YouTube Rewind 2019: For the Record | #YouTubeRewind\n")


def test_a_page_about_another_video_is_not_its_answer() -> None:
    seen = check(adapter(), "yt_watch_ok_2021", ref_of(ANY_VIDEO))
    assert seen.status is Status.UNREACHABLE and "2lAe1cqCOXo" in seen.detail


@pytest.mark.parametrize(("text", "expected"), sorted(REMOVAL_TEXTS.items()))
def test_each_removal_text_is_attributed_once_oembed_confirms(
    text: str, expected: tuple[Status, str]
) -> None:
    platform = adapter()
    ref = ref_of(ANY_VIDEO)
    body = player("ERROR", "Video unavailable", subreason=text)
    seen = platform.parse_check(ref, answer(platform.check_request(ref), body))
    status, code = expected
    if status is Status.WITHHELD:
        assert (seen.status, seen.code) == (status, code)
        return
    assert (seen.status, seen.code) == (Status.UNREACHABLE, code)
    gone = answer(platform.check_request(ref), b"Not Found", 404)
    assert (platform.parse_check(ref, gone).status, code) == (status, code)


def test_oembed_showing_the_video_makes_the_watch_page_no_removal() -> None:
    platform = adapter()
    ref = ref_of("pO5L6vXtxsI")
    body = player("ERROR", "Video unavailable")
    first = platform.parse_check(ref, answer(platform.check_request(ref), body))
    assert first.status is Status.UNREACHABLE
    shown = platform.parse_check(
        ref, sample("yt_oembed_ok_2024").capture(platform.check_request(ref))
    )
    assert shown.status is Status.UNREACHABLE and "not a removal" in shown.detail
    assert "oembed" not in platform.check_request(ref).url  # back to the watch page


@pytest.mark.parametrize(("name", "expected"), sorted(OEMBED.items()))
def test_oembed_alone_shows_a_video_or_says_nothing(
    name: str, expected: tuple[str, Status]
) -> None:
    video, status = expected
    platform = adapter()
    request = Request("GET", f"{BASE}/oembed", (("format", "json"),))
    seen = platform.parse_check(ref_of(video), sample(name).capture(request))
    assert seen.status is status and not seen.status.is_removal


@pytest.mark.parametrize("name", NOT_SHOWN)
def test_each_oembed_refusal_confirms_a_private_video(name: str) -> None:
    platform = adapter()
    ref = ref_of("z2jeHsa0UG0")
    check(platform, "yt_watchjson_private", ref)
    confirmed = platform.parse_check(ref, sample(name).capture(platform.check_request(ref)))
    assert (confirmed.status, confirmed.code) == (Status.REMOVED_UNKNOWN, "private")


def test_a_check_asks_the_watch_page_in_english() -> None:
    request = adapter().check_request(ref_of(ANY_VIDEO))
    assert request.url == f"{BASE}/watch"
    assert ("v", ANY_VIDEO) in request.params and ("hl", "en") in request.params


# -- listings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), sorted(FEEDS.items()))
def test_each_real_feed_lists_its_videos(name: str, expected: tuple[Target, int]) -> None:
    target, count = expected
    platform = adapter()
    request = platform.discover_request(target, None)
    assert request.params == (("user", "Kurzgesagt"),)
    found = platform.parse_discover(target, sample(name).capture(request))
    assert found.status is Status.LIVE and len(found.posts) == count and found.unreadable == ()
    first = found.posts[0]
    assert (first.post_id, first.author_id) == ("zg40FHOAqC0", "UCsXVk37bltHxD1rDPwtNM8Q")
    assert first.text.startswith("Jupiter Made Earth Possible\nJupiter once wandered deep")
    assert "Sources & further reading" in first.text  # the XML's &amp; read as a reader sees it
    assert first.published_until is None


def test_a_channel_id_feed_asks_by_channel_id() -> None:
    target = adapter().parse_target("channel/UCsXVk37bltHxD1rDPwtNM8Q")
    request = adapter().discover_request(target, None)
    assert request.url == f"{BASE}/feeds/videos.xml"
    assert request.params == (("channel_id", "UCsXVk37bltHxD1rDPwtNM8Q"),)


@pytest.mark.parametrize("name", sorted(FEED_GONE))
def test_a_feed_404_checks_every_video_and_reads_the_channels_page(name: str) -> None:
    platform = adapter()
    target = Target("youtube", "channel", "UCTGjY2I-ZUGnwVoWAGRd7XQ")
    found = platform.parse_discover(target, sample(name).capture())
    assert found.status is Status.UNREACHABLE and found.confirm_all
    page = platform.discover_request(target, None)
    assert page.url == f"{BASE}/channel/UCTGjY2I-ZUGnwVoWAGRd7XQ#after=feed_404"
    assert platform.discover_request(target, None).url.endswith("/feeds/videos.xml")


@pytest.mark.parametrize(("name", "expected"), sorted(CHANNEL_PAGES.items()))
def test_each_real_channel_page_says_whether_the_channel_was_terminated(
    name: str, expected: tuple[Status, str | None]
) -> None:
    status, code = expected
    platform = adapter()
    target = Target("youtube", "channel", "UCTGjY2I-ZUGnwVoWAGRd7XQ")
    platform.parse_discover(target, sample("yt_rss_feed_channel_404").capture())
    request = platform.discover_request(target, None)
    found = platform.parse_discover(target, sample(name).capture(request))
    assert found.status is status, found.detail
    if code is not None:
        assert found.confirm_all and f"({code})" in found.detail


# -- never a removal --------------------------------------------------------------------------


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[name for name, _ in FAULTS])
def test_no_fault_on_a_real_answer_is_a_removal(fault_name: str, fault: Fault) -> None:
    platform = adapter()
    target = FEEDS["yt_rss_feed_user_kurzgesagt"][0]
    feed = sample("yt_rss_feed_user_kurzgesagt")
    listing = fault(platform.discover_request(target, None), feed.body, feed.headers)
    assert not platform.parse_discover(target, listing).status.is_unavailable
    for name in ("yt_watch_unavailable_invalid_id", "yt_watch_geoblocked_2023"):
        ref = ref_of(video_of(name))
        body = sample(name).body
        faulted = fault(platform.check_request(ref), body, sample(name).headers)
        assert not platform.parse_check(ref, faulted).status.is_unavailable
    ref = ref_of("abc")
    platform.parse_check(
        ref, sample("yt_watch_unavailable_invalid_id").capture(platform.check_request(ref))
    )
    follow = platform.check_request(ref)  # oEmbed, faulted: never confirms
    oembed = sample("yt_oembed_private_403_2024")
    faulted = fault(follow, oembed.body, oembed.headers)
    seen = platform.parse_check(ref, faulted)
    if seen.status.is_removal:  # only oEmbed's own short 403 confirms (the watch page said so)
        assert faulted.status == 403 and fault_name.endswith("same body")


def test_targets() -> None:
    platform = adapter()
    assert platform.parse_target("channel/UCsXVk37bltHxD1rDPwtNM8Q").key.startswith("UC")
    assert platform.parse_target("user/Kurzgesagt") == Target("youtube", "user", "Kurzgesagt")
    for text in ("channel/Kurzgesagt", "video/abc", "all"):
        with pytest.raises(Exception, match="youtube"):
            platform.parse_target(text)
    assert YouTubePlatform("http://127.0.0.1:8000").parse_target("all").kind == "all"


# -- the simulator speaks the same shapes -----------------------------------------------------

T0 = 1_700_000_000.0
#: Paths of a player response the adapter reads.
PLAYER_PATHS = [
    "playabilityStatus.status",
    "playabilityStatus.reason",
    "playabilityStatus.errorScreen.playerErrorMessageRenderer.reason.simpleText",
    "playabilityStatus.errorScreen.playerErrorMessageRenderer.subreason.runs[].text",
    "videoDetails.videoId",
    "videoDetails.title",
    "videoDetails.shortDescription",
    "videoDetails.channelId",
    "videoDetails.thumbnail.thumbnails[].url",
]
REAL_PLAYERS = [
    "yt_watch_ok_2021",
    "yt_player_ok_android",
    "yt_watch_geoblocked_2023",
    "yt_watch_unavailable_invalid_id",
]
OEMBED_PATHS = ["title", "author_name", "author_url", "html", "thumbnail_url"]


def simulator() -> SimPlatform:
    posts = [
        ScenarioPost(
            str(4_800_000_000_000_100 + i), "7001", T0 + 60.0 * i, f"标题{i}\n描述 {i} & <x>"
        )
        for i in range(20)
    ]
    posts += [
        ScenarioPost("4800000000000201", "7002", T0, "删了", T0 + 100, "author_deleted"),
        ScenarioPost("4800000000000202", "7002", T0, "被删", T0 + 100, "censored"),
        ScenarioPost("4800000000000203", "7003", T0, "封号", T0 + 100, "account_suspended"),
    ]
    return SimPlatform(posts, VirtualClock(T0 + 3600.0), "youtube")


def players(names: list[str]) -> list[Any]:
    return [read_watch(sample(name).capture()).player for name in names]


def xml_paths(element: ET.Element, at: str = "") -> set[str]:
    found = {at}
    for child in element:
        found |= xml_paths(child, f"{at}/{child.tag}")
        found |= {f"{at}/{child.tag}@{name}" for name in child.attrib}
    return found


def test_the_simulators_watch_pages_and_oembed_have_the_real_shapes() -> None:
    sim = simulator()
    for video in ("4800000000000100", "4800000000000201", "4800000000000202", "4800000000000203"):
        code, headers, body = sim.handle("GET", "/watch", {"v": video})
        page = read_watch(Capture(Request("GET", "/watch"), code, headers, body, T0, T0))
        assert code == 200 and page.player is not None and page.country == "US"
        gone = page.player["playabilityStatus"]["status"] == "ERROR"
        # a visible video has no error screen; a gone one no videoDetails (as the real ones)
        optional = frozenset(
            p
            for p in PLAYER_PATHS
            if p.startswith("videoDetails" if gone else "playabilityStatus.")
            and p != "playabilityStatus.status"
        )
        assert (
            shape_differences(page.player, players(REAL_PLAYERS), PLAYER_PATHS, optional=optional)
            == []
        )
    url = "https://www.youtube.com/watch?v=4800000000000100"
    code, headers, body = sim.handle("GET", "/oembed", {"url": url, "format": "json"})
    assert code == 200 and dict(headers)["content-type"].startswith("application/json")
    real = [json.loads(sample(n).body) for n in ("yt_oembed_ok_2024", "yt_oembed_ok_rickastley")]
    assert shape_differences(json.loads(body), real, OEMBED_PATHS) == []
    gone = sim.handle("GET", "/oembed", {"url": url.replace("100", "201"), "format": "json"})
    assert gone[0] == 404 and gone[2] == b"Not Found"


def test_the_simulators_feed_has_the_real_feeds_elements() -> None:
    sim = simulator()
    channel = channel_id_of("7001")
    code, headers, body = sim.handle("GET", "/feeds/videos.xml", {"channel_id": channel})
    assert code == 200 and dict(headers)["server"] == "YouTube RSS Feeds server"
    real = ET.fromstring(sample("yt_rss_feed_user_kurzgesagt").body)
    simulated = ET.fromstring(body)
    real_entry = set().union(*(xml_paths(e) for e in real.iter(f"{ATOM}entry")))
    sim_entry = set().union(*(xml_paths(e) for e in simulated.iter(f"{ATOM}entry")))
    assert sim_entry == real_entry  # every element and attribute an entry has, and no other
    assert len(simulated.findall(f"{ATOM}entry")) == 15
    gone = sim.handle("GET", "/feeds/videos.xml", {"channel_id": channel_id_of("7003")})
    real_gone = sample("yt_rss_feed_channel_404")
    assert gone[0] == real_gone.status and b"Error 404 (Not Found)!!1" in real_gone.body
    assert b"Error 404 (Not Found)!!1" in gone[2]


def test_the_simulators_videos_read_back_as_the_scenario_holds() -> None:
    sim = simulator()
    platform = YouTubePlatform("http://simulator.invalid")
    target = platform.parse_target(f"channel/{channel_id_of('7001')}")
    now = sim.clock.now()

    def ask(request: Request) -> Capture:
        code, headers, body = sim.handle("GET", urlsplit(request.url).path, dict(request.params))
        return Capture(request, code, headers, body, now, now)

    found = platform.parse_discover(target, ask(platform.discover_request(target, None)))
    own = [p for p in sim.posts if p.author_id == "7001"][::-1][:15]
    assert [p.post_id for p in found.posts] == [p.post_id for p in own]
    for seen in found.posts:
        ref = PostRef("youtube", seen.post_id, seen.author_id)
        checked = platform.parse_check(ref, ask(platform.check_request(ref)))
        assert checked.status is Status.LIVE
        assert checked.content_hash == content_hash(seen.text)  # listing and check agree
    expected = {
        "4800000000000201": (Status.AUTHOR_DELETED, "uploader"),
        "4800000000000203": (Status.ACCOUNT_SUSPENDED, "account_terminated"),
    }
    for video, (status, code) in expected.items():
        ref = PostRef("youtube", video, channel_id_of("7002"))
        first = platform.parse_check(ref, ask(platform.check_request(ref)))
        assert first.status is Status.UNREACHABLE  # confirmed by oEmbed first
        confirmed = platform.parse_check(ref, ask(platform.check_request(ref)))
        assert (confirmed.status, confirmed.code) == (status, code)
    channel_target = platform.parse_target(f"channel/{channel_id_of('7003')}")
    gone = platform.parse_discover(
        channel_target, ask(platform.discover_request(channel_target, None))
    )
    assert gone.status is Status.UNREACHABLE and gone.confirm_all
    page = platform.parse_discover(
        channel_target, ask(platform.discover_request(channel_target, None))
    )
    assert (page.status, page.confirm_all) == (Status.ACCOUNT_SUSPENDED, True)
