"""Telegram's real captured answers (tests/data/real, README "what it shows", REASONS.md): what
the adapter must conclude from each, how a message that is gone is confirmed on its channel's
page, the restriction notices Telegram uses, that no fault turns an answer into a removal, and
the simulator's pages held against the real ones."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from memoryhole.clock import VirtualClock
from memoryhole.model import (
    Capture,
    Discovery,
    Observation,
    PostRef,
    Request,
    Status,
    Target,
    content_hash,
)
from memoryhole.platforms.telegram import POST_NOT_FOUND, TelegramPlatform, read_page, restriction
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.platform import SimPlatform
from tests.platforms.helpers import FAULTS, Fault
from tests.platforms.real_samples import sample, sample_names

BASE = "https://t.me"
HTML = (("content-type", "text/html; charset=utf-8"),)

#: Listings: (target, messages listed as posts, the ``before`` of the older page).
LISTINGS = {
    "tg_s_channel_page_durov": (Target("telegram", "channel", "durov"), 20, 519),
    "tg_s_message_block_text": (Target("telegram", "channel", "topwar_official"), 1, None),
    "tg_s_message_block_forwarded": (Target("telegram", "channel", "oper_goblin"), 1, None),
}
#: A channel page Telegram does not serve: no listing, every known message checked now.
WITHDRAWN = {"tg_s_302_no_preview_quoted"}
#: A message's embed: the status its first check reads (``Post not found`` is confirmed next).
CHECKS = {"tg_embed_post_not_found_fragment": Status.UNREACHABLE}
#: Landing pages (``t.me/<name>``): never a message list, never a message, never a removal.
LANDINGS = {
    "tg_landing_channel_durov",
    "tg_landing_group_python",
    "tg_landing_nonexistent_username",
    "tg_landing_nonexistent_username_trimmed",
    "tg_landing_user_nikolai",
}
CLAIMS = frozenset(LISTINGS) | frozenset(WITHDRAWN) | frozenset(CHECKS) | frozenset(LANDINGS)

#: Restriction notices (REASONS.md, verbatim: note the curly ’ in "can’t"), as a whole channel's
#: and as one message's: (kind, code).
CHANNEL_NOTICES = {
    "This channel can’t be displayed because it violated Telegram's Terms of Service.": (
        Status.ACCOUNT_SUSPENDED,
        "tos",
    ),
    "This group can’t be displayed because it violated Telegram's Terms of Service. You can go "
    "back or leave the group.": (Status.ACCOUNT_SUSPENDED, "tos"),
    "This channel can’t be displayed because it was used to spread pornographic content.": (
        Status.ACCOUNT_SUSPENDED,
        "porn",
    ),
    "Sorry, this channel is unavailable because it was used to spread pornographic content.": (
        Status.ACCOUNT_SUSPENDED,
        "porn",
    ),
    "This channel is unavailable due to copyright infringement.": (
        Status.ACCOUNT_SUSPENDED,
        "copyright",
    ),
    "This group can’t be displayed because it violated local laws.": (
        Status.WITHHELD,
        "local_laws",
    ),
    "appleviolence-ios: Unfortunately, this channel couldn't be displayed on your device because "
    "it violates Apple App Store Review Guidelines, section 1.1.1.": (Status.WITHHELD, "app_store"),
}
MESSAGE_NOTICES = {
    "This message can't be displayed because it violated Telegram's Terms of Service.": (
        Status.CENSORED,
        "tos",
    ),
    "This message couldn't be displayed on your device because it contains pornographic "
    "materials.": (Status.WITHHELD, "device"),
    "This message couldn’t be displayed on your device due to copyright infringement": (
        Status.WITHHELD,
        "device",
    ),
    "This post isn't available in your country due to copyright.": (Status.WITHHELD, "country"),
}
#: In another language: named, never guessed at.
UNREAD_NOTICE = "Saluran ini tidak dapat ditampilkan karena melanggar hak cipta"


def adapter() -> TelegramPlatform:
    return TelegramPlatform(BASE)


def answer(request: Request, body: bytes, status: int = 200) -> Capture:
    return Capture(request, status, HTML, body, 1_800_000_000.0, 1_800_000_000.0, sent_at=1.7e9)


def post(post_id: str) -> PostRef:
    return PostRef("telegram", post_id, post_id.partition("/")[0])


def notice_page(css: str, text: str) -> bytes:
    return (
        f'<section class="tgme_channel_history"><div class="{css}">{text}</div></section>'.encode()
    )


def test_every_telegram_sample_is_claimed() -> None:
    assert set(sample_names("tg_")) == CLAIMS


# -- listings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), sorted(LISTINGS.items()))
def test_each_real_listing_lists_its_messages(
    name: str, expected: tuple[Target, int, int | None]
) -> None:
    target, count, older = expected
    real = sample(name)
    discovery = adapter().parse_discover(
        target, real.capture(adapter().discover_request(target, None))
    )
    assert discovery.status is Status.LIVE, discovery.detail
    assert len(discovery.posts) == count and discovery.unreadable == ()
    assert discovery.newest_first and discovery.last_page is (older is None)
    page = read_page(real.body)
    assert page.older == older
    for seen, message in zip(discovery.posts, page.messages, strict=True):
        assert seen.post_id == message.post and seen.author_id == target.key
        assert seen.published_until is None  # <time datetime> is exact


def test_the_real_channel_page_reads_as_a_reader_sees_it() -> None:
    target = Target("telegram", "channel", "durov")
    real = sample("tg_s_channel_page_durov")
    discovery = adapter().parse_discover(target, real.capture())
    ids = [int(p.post_id.split("/")[1]) for p in discovery.posts]
    assert ids == [*range(519, 530), *range(531, 540)]  # 530 is not on the page
    first = discovery.posts[0]
    assert first.published_at == datetime.fromisoformat("2026-05-20T15:38:10+00:00").timestamp()
    assert first.text.startswith("🤖 Your Telegram inbox can now run itself.\nAssign a bot")
    assert "Start building!" in first.text  # the link's words, its markup gone
    assert discovery.next_cursor == "539"
    assert "20 posts listed" in discovery.detail


def test_the_real_fragments_keep_their_text_media_and_forward() -> None:
    platform = adapter()
    text = sample("tg_s_message_block_text")
    seen = platform.parse_discover(LISTINGS["tg_s_message_block_text"][0], text.capture()).posts[0]
    assert seen.text.startswith(
        "Неопознанный летающий объект замечен в 160 – 200 км от Петербурга\nПо данным «Фонтанки»"
    )
    assert "  " not in seen.text  # the fragment's indentation is not the message's
    ref = post("oper_goblin/22358")
    forwarded = platform.parse_check(
        ref, sample("tg_s_message_block_forwarded").capture(platform.check_request(ref))
    )
    assert forwarded.status is Status.LIVE
    assert "Forwarded from Пул N3" in forwarded.detail
    assert "media: image https://cdn4.telegram-cdn.org/file/keYrQp0kfuA" in forwarded.detail


def test_a_channel_is_read_newest_first_and_caught_up_to_the_last_poll() -> None:
    platform = adapter()
    target = Target("telegram", "channel", "durov")
    body = sample("tg_s_channel_page_durov").body
    request = platform.discover_request(target, "535")  # the last poll saw up to 535
    assert request.params == () and request.url.endswith("#cursor=535")
    found = platform.parse_discover(target, answer(request, body))
    assert (found.next_cursor, found.more) == ("539", False)  # 519 <= 535: nothing skipped
    request = platform.discover_request(target, "500")  # a gap: older pages are read now
    found = platform.parse_discover(target, answer(request, body))
    assert (found.next_cursor, found.more) == ("539:500:519:1", True)
    older = platform.discover_request(target, found.next_cursor)
    assert older.params == (("before", "519"),)
    page = (
        '<div class="tgme_widget_message" data-post="durov/{n}">'
        '<div class="tgme_widget_message_text">m{n}</div><a class="tgme_widget_message_date">'
        '<time datetime="2026-01-0{d}T00:00:00+00:00"></time></a></div>'
    )
    earlier = "".join(page.format(n=n, d=n - 497) for n in (498, 499)).encode()
    found = platform.parse_discover(target, answer(older, earlier))
    assert (found.next_cursor, found.more) == ("539", False)  # reached 500: done
    assert [p.post_id for p in found.posts] == ["durov/498", "durov/499"]


@pytest.mark.parametrize("name", sorted(WITHDRAWN))
def test_a_withdrawn_preview_is_no_removal_and_checks_every_message(name: str) -> None:
    target = Target("telegram", "channel", "GaurBeast")
    found = adapter().parse_discover(target, sample(name).capture())
    assert found.status is Status.UNREACHABLE and found.confirm_all
    assert "no public preview" in found.detail and "https://t.me/GaurBeast" in found.detail


def test_no_posts_found_is_never_a_removal() -> None:
    target = Target("telegram", "channel", "durov")
    body = notice_page("tme_no_messages_found", "No posts found")
    found = adapter().parse_discover(target, answer(adapter().discover_request(target, None), body))
    assert found.status is Status.UNREACHABLE and not found.confirm_all
    assert "rate-limits" in found.detail


@pytest.mark.parametrize(("text", "expected"), sorted(CHANNEL_NOTICES.items()))
def test_a_restricted_channel_says_how_and_checks_every_message(
    text: str, expected: tuple[Status, str]
) -> None:
    target = Target("telegram", "channel", "durov")
    body = notice_page("tme_no_messages_found", text)
    found = adapter().parse_discover(target, answer(adapter().discover_request(target, None), body))
    assert (found.status, found.confirm_all) == (expected[0], True)
    assert f"({expected[1]})" in found.detail and found.posts == ()
    if expected[0] is Status.WITHHELD:
        assert found.detail.startswith("withheld where this request came from")


def test_a_notice_in_other_words_is_named_and_never_guessed() -> None:
    assert restriction(UNREAD_NOTICE, channel=True) is None
    target = Target("telegram", "channel", "durov")
    body = notice_page("tme_no_messages_found", UNREAD_NOTICE)
    found = adapter().parse_discover(target, answer(adapter().discover_request(target, None), body))
    assert found.status is Status.UNREACHABLE and UNREAD_NOTICE in found.detail


@pytest.mark.parametrize("name", sorted(LANDINGS))
def test_a_landing_page_is_never_a_listing_nor_a_message(name: str) -> None:
    platform = adapter()
    target = Target("telegram", "channel", "durov")
    landing = sample(name)
    found = platform.parse_discover(
        target, landing.capture(platform.discover_request(target, None))
    )
    assert found.status is Status.UNREACHABLE and found.posts == ()
    ref = post("durov/530")
    checked = platform.parse_check(ref, landing.capture(platform.check_request(ref)))
    assert checked.status is Status.UNREACHABLE


# -- checks -----------------------------------------------------------------------------------


def test_an_embed_shows_the_message_as_its_listing_did() -> None:
    platform = adapter()
    listed = platform.parse_discover(
        LISTINGS["tg_s_message_block_text"][0], sample("tg_s_message_block_text").capture()
    ).posts[0]
    ref = post(listed.post_id)
    request = platform.check_request(ref)
    assert request.url == "https://t.me/topwar_official/70991" and request.params == (
        ("embed", "1"),
    )
    seen = platform.parse_check(ref, sample("tg_s_message_block_text").capture(request))
    assert seen.status is Status.LIVE
    assert seen.content_hash == content_hash(listed.text)  # the same text: never a false edit
    assert seen.published_at == listed.published_at


def gone_flow(
    platform: TelegramPlatform, ref: PostRef, page: bytes, status: int = 200
) -> Observation:
    request = platform.check_request(ref)
    if "embed" in dict(request.params):  # else the page is asked again (it did not confirm)
        embed = sample("tg_embed_post_not_found_fragment")
        first = platform.parse_check(ref, embed.capture(request))
        assert (first.status, first.code) == (Status.UNREACHABLE, POST_NOT_FOUND)
        request = platform.check_request(ref)
    number = int(ref.post_id.split("/")[1])
    assert request.url.startswith("https://t.me/s/durov#after=")
    assert request.params == (("before", str(number + 1)),)
    return platform.parse_check(ref, answer(request, page, status))


def test_post_not_found_is_confirmed_on_the_channels_page_before_it_is_a_removal() -> None:
    platform = adapter()
    ref = post("durov/530")  # the real page lists 529 and 531, not 530
    page = sample("tg_s_channel_page_durov").body
    # ``before=531`` would end at 530; the real page ends at 539, so it is not that page.
    assert gone_flow(platform, ref, page).status is Status.UNREACHABLE
    start = page.rindex(b'<div class="tgme_widget_message_wrap', 0, page.index(b"durov/531"))
    end = page.index(b"</section>", start)
    assert gone_flow(platform, ref, page[:start]).status is Status.UNREACHABLE  # cut short
    ending = page[:start] + page[end:]  # the real page, its messages after 529 left out
    gone = gone_flow(platform, ref, ending)
    assert (gone.status, gone.code) == (Status.REMOVED_UNKNOWN, POST_NOT_FOUND)
    assert "up to 529" in gone.detail
    again = platform.parse_check(
        ref, sample("tg_embed_post_not_found_fragment").capture(platform.check_request(ref))
    )
    assert (again.status, again.code) == (Status.REMOVED_UNKNOWN, POST_NOT_FOUND)
    assert "read earlier" in again.detail


def test_a_message_its_page_still_lists_is_live_whatever_its_embed_said() -> None:
    platform = adapter()
    ref = post("durov/539")
    seen = gone_flow(platform, ref, sample("tg_s_channel_page_durov").body)
    assert seen.status is Status.LIVE and "channel's page" in seen.detail


@pytest.mark.parametrize(
    ("page", "status"),
    [
        (b"", 302),  # the preview withdrawn: a deleted message cannot be told from it
        (notice_page("tme_no_messages_found", "No posts found"), 200),
        (b"<html><body>nothing</body></html>", 200),
    ],
    ids=["302", "no posts found", "empty"],
)
def test_a_page_that_cannot_confirm_leaves_post_not_found_unsaid(page: bytes, status: int) -> None:
    seen = gone_flow(adapter(), post("durov/530"), page, status)
    assert seen.status is Status.UNREACHABLE


@pytest.mark.parametrize(("text", "expected"), sorted(MESSAGE_NOTICES.items()))
def test_a_restricted_message_says_how(text: str, expected: tuple[Status, str]) -> None:
    platform = adapter()
    ref = post("durov/530")
    body = notice_page("tgme_widget_message_error", text)
    seen = platform.parse_check(ref, answer(platform.check_request(ref), body))
    assert (seen.status, seen.code) == expected
    assert not (seen.status is Status.WITHHELD and seen.status.is_removal)


def test_a_restricted_channel_on_the_confirming_page_attributes_the_message() -> None:
    text = "This channel can’t be displayed because it violated Telegram's Terms of Service."
    seen = gone_flow(adapter(), post("durov/530"), notice_page("tme_no_messages_found", text))
    assert (seen.status, seen.code) == (Status.ACCOUNT_SUSPENDED, "tos")


# -- never a removal --------------------------------------------------------------------------


@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[name for name, _ in FAULTS])
def test_no_fault_on_a_real_answer_is_a_removal(fault_name: str, fault: Fault) -> None:
    platform = adapter()
    target = Target("telegram", "channel", "durov")
    page = sample("tg_s_channel_page_durov")
    listing = fault(platform.discover_request(target, None), page.body, HTML)
    assert not platform.parse_discover(target, listing).status.is_unavailable
    ref = post("durov/530")
    embed = sample("tg_embed_post_not_found_fragment").body
    assert not platform.parse_check(
        ref, fault(platform.check_request(ref), embed, HTML)
    ).status.is_unavailable
    platform.parse_check(
        ref, sample("tg_embed_post_not_found_fragment").capture(platform.check_request(ref))
    )
    follow = platform.check_request(ref)  # the confirming page, faulted
    assert not platform.parse_check(ref, fault(follow, page.body, HTML)).status.is_unavailable


def test_targets_are_public_channel_names() -> None:
    platform = adapter()
    for text in ("channel/durov", "channel/@durov", "channel/https://t.me/s/durov"):
        assert platform.parse_target(text) == Target("telegram", "channel", "durov")
    for text in ("channel/ab", "channel/1abc", "user/durov", "all"):
        with pytest.raises(Exception, match="telegram"):
            platform.parse_target(text)
    assert TelegramPlatform("http://127.0.0.1:8000").parse_target("all").kind == "all"


# -- the simulator speaks the same shapes -----------------------------------------------------

T0 = 1_700_000_000.0
_CLASS = re.compile(rb'class="([^"]*)"')
_TIME = re.compile(rb'datetime="([^"]+)"')
#: Classes the adapter reads: the simulator must send them, as the real page does.
READ_CLASSES = {
    "tgme_channel_history",
    "tgme_widget_message",
    "tgme_widget_message_text",
    "tgme_widget_message_date",
    "tgme_widget_message_meta",
    "tme_messages_more",
    "tgme_widget_message_photo_wrap",
    "tgme_widget_message_video",
}
#: Notice blocks no captured page holds: their class and words are REASONS.md's.
QUOTED_CLASSES = {"tme_no_messages_found", "tgme_widget_message_error"}


def classes(body: bytes) -> set[str]:
    return {c.decode() for found in _CLASS.findall(body) for c in found.split()}


def simulator() -> SimPlatform:
    posts = [
        ScenarioPost(
            str(4_800_000_000_000_100 + i),
            "7001" if i % 2 else "7002",
            T0 + 60.0 * i,
            f"第{i}条\n正文 {i} <b>&amp;</b>",
            edits=((T0 + 60.0 * i + 30, f"第{i}条（改）"),) if i == 3 else (),
        )
        for i in range(50)
    ]
    posts.append(
        ScenarioPost("4800000000000200", "7003", T0, "封号", T0 + 100, "account_suspended")
    )
    posts.append(ScenarioPost("4800000000000310", "7004", T0, "有视频"))  # media_of: a video
    return SimPlatform(posts, VirtualClock(T0 + 3600.0), "telegram")


def test_the_simulators_pages_have_the_real_pages_markup() -> None:
    sim = simulator()
    real = sample("tg_s_channel_page_durov").body
    code, _, page = sim.handle("GET", "/s/u7002", {})
    assert code == 200 and len(read_page(page).messages) == 20 and read_page(page).older
    pages = [page, sim.handle("GET", "/s/u7001", {})[2]]
    pages += [  # every message's embed: its media too (one in five an image, one in 20 a video)
        sim.handle("GET", f"/u{p.author_id}/{p.post_id}", {"embed": "1"})[2] for p in sim.posts
    ]
    sent = set().union(*(classes(p) for p in pages))
    assert sent >= READ_CLASSES  # the simulator sends what the adapter reads (media too)
    assert sent - classes(real) <= QUOTED_CLASSES  # and no markup the real pages lack
    for found in (_TIME.findall(p) for p in pages):
        assert all(re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", t) for t in found)
    assert all(
        re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", t) for t in _TIME.findall(real)
    )
    code, _, embed = sim.handle("GET", "/u7001/4800000000000101", {"embed": "1"})
    assert code == 200 and classes(embed) - classes(real) == set()
    gone = sim.handle("GET", "/u7003/4800000000000200", {"embed": "1"})[2]
    notice = sim.handle("GET", "/s/u7003", {})[2]
    assert classes(gone) | classes(notice) <= classes(real) | QUOTED_CLASSES
    assert b'<div class="tgme_widget_message_error">Post not found</div>' in gone
    assert sample("tg_embed_post_not_found_fragment").body.strip() in gone
    tos = "This channel can’t be displayed because it violated Telegram's Terms of Service."
    assert tos in CHANNEL_NOTICES and tos in notice.decode()
    redirect = sim.handle("GET", "/s/nosuchchannel", {})
    assert (redirect[0], redirect[2]) == (302, b"")  # as tg_s_302_no_preview_quoted
    assert dict(redirect[1])["location"] == "https://t.me/nosuchchannel"


def test_the_simulators_channel_reads_back_and_pages_as_the_real_one() -> None:
    sim = simulator()
    platform = TelegramPlatform("http://simulator.invalid")
    target = platform.parse_target("channel/u7001")
    now = sim.clock.now()
    own = [p for p in sim.posts if p.author_id == "7001"]

    def poll(cursor: str | None) -> Discovery:
        request = platform.discover_request(target, cursor)
        path, query = urlsplit(request.url).path, dict(request.params)
        code, headers, body = sim.handle("GET", path, query)
        return platform.parse_discover(target, Capture(request, code, headers, body, now, now))

    found = poll(None)
    assert found.status is Status.LIVE and found.newest_first and found.unreadable == ()
    assert [p.post_id for p in found.posts] == [f"u7001/{p.post_id}" for p in own[-20:]]
    assert not found.last_page and found.next_cursor == own[-1].post_id
    caught_up = poll(own[0].post_id)  # the last poll saw only the oldest: read back to it
    assert caught_up.more and caught_up.next_cursor
    older = poll(caught_up.next_cursor)
    assert [p.post_id for p in older.posts] == [f"u7001/{p.post_id}" for p in own[:5]]
    assert older.last_page and not older.more
    for seen, truth in zip(found.posts, own[-20:], strict=True):
        assert seen.published_at == truth.published_at
        assert seen.text == sim.text_at(truth, now)[1]
    checked = {}
    for truth in own[:4]:  # 4800000000000103 was edited
        ref = PostRef("telegram", f"u7001/{truth.post_id}", "u7001")
        request = platform.check_request(ref)
        code, headers, body = sim.handle("GET", urlsplit(request.url).path, dict(request.params))
        seen = platform.parse_check(ref, Capture(request, code, headers, body, now, now))
        checked[truth.post_id] = seen
        assert seen.status is Status.LIVE
        assert seen.content_hash == content_hash(sim.text_at(truth, now)[1])
    assert "edited" in checked["4800000000000103"].detail
