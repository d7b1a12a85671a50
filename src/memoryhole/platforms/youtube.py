"""YouTube without an API key: a channel's RSS feed, a video's watch page, and oEmbed.

Modelled shapes (docs/adapters.md has the table; each is held against the real captured answers
in tests/data/real, ``tests/platforms/test_real_youtube.py``; reason texts and their sources are
in the corpus's REASONS.md):

- A channel's feed ``GET /feeds/videos.xml?channel_id=UC…`` (``?user=NAME`` for a legacy
  username): Atom, its latest 15 videos, newest first; each ``entry`` has ``yt:videoId``,
  ``yt:channelId``, ``title``, ``published`` (exact, with a zone) and ``media:group`` (the
  description, the thumbnail). A channel that is gone (terminated, deleted, never existed)
  answers ``404`` with Google's HTML error page: the feed does not say which.
- A video's watch page ``GET /watch?v=ID``: ``ytInitialPlayerResponse = {…}`` in a script,
  whose ``playabilityStatus`` says whether the video plays (``status`` ``OK``, ``ERROR``,
  ``UNPLAYABLE``, ``LOGIN_REQUIRED``, ``LIVE_STREAM_OFFLINE``, ``CONTENT_CHECK_REQUIRED``…,
  and ``reason``/``errorScreen``/``messages``) and ``videoDetails`` what it is. The same JSON
  as the InnerTube player and ``watch?pbj=1`` answer it (and an embed page, as a string) is
  read the same way.
- ``GET /oembed?format=json&url=…``: ``200`` JSON (``title``, ``author_name``, the embed
  ``html``) for a video shown publicly; ``401``/``403``/``404`` (a plain-text body) otherwise.
- A channel's page ``GET /channel/ID``: its ``alerts`` say a channel was terminated or removed.

Structure first, words second: reason texts are translated (``hl``), so the status, the
``errorScreen`` kind, ``desktopLegacyAgeGateReason``, ``messages`` and the presence of
``videoDetails`` decide what an answer is; the words (asked in English, ``hl=en``) only say
which policy or which restriction. Every check asks in English; an answer in other words is
never guessed at beyond its structure.

Attribution. ``ERROR`` (the video is gone, no ``videoDetails``): the reason's words give the
kind: removed for a policy (Terms of Service, Community Guidelines, hate speech, harassment,
nudity, spam, violence, a copyright claim) is ``censored`` with the policy as the code; "removed
by the uploader" or "the uploader has closed their YouTube account" is ``author_deleted``;
"the YouTube account associated with this video has been terminated" is
``account_suspended``; anything else ``unknown`` (code ``unavailable``). A private video
(``LOGIN_REQUIRED`` with a message and no age gate) is ``unknown`` with its own code
``private`` (the uploader's choice, not a deletion). "Not available in your country" (or a
rights holder's or a government's block there) is ``withheld``, with the country YouTube served
the page for (``INNERTUBE_CONTEXT_GL``) as its region. Age-restricted, members-only, paid,
scheduled and recording-not-available videos are ``live``, the restriction in the detail.
Consent pages, captchas, "confirm you're not a bot" and a client's refusal of a public video
(visionOS' "This video is not available") are ``unreachable``.

A removal is never stated from the watch page alone: its next check asks oEmbed, and the
removal is stated when oEmbed does not show the video either (``401``/``403``/``404``, or
``200 Forbidden``); oEmbed showing it makes the watch page's answer not a removal. oEmbed alone
never states one.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from memoryhole.errors import TargetError
from memoryhole.model import (
    Capture,
    Discovery,
    Observation,
    PostRef,
    Request,
    SeenPost,
    Status,
    Target,
    content_hash,
    withheld_detail,
)
from memoryhole.platforms._shared import (
    AccountFollowUps,
    answer_problem,
    join_detail,
    looks_like_html,
    media_detail,
    note_of,
    parse_iso8601,
    url_path,
    with_note,
)
from memoryhole.platforms.base import listing, transient
from memoryhole.platforms.weibo import is_local

_CHANNEL_ID = re.compile(r"^UC[0-9A-Za-z_-]{22}$")
_USER = re.compile(r"^[0-9A-Za-z_.-]{1,100}$")
#: A video id: YouTube's are 11 characters of base64url; longer ones are accepted (the lab's).
_VIDEO_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_PLAYER = re.compile(r"ytInitialPlayerResponse\s*=\s*")
_EMBEDDED = re.compile(r'"embedded_player_response"\s*:\s*"')
_INITIAL_DATA = re.compile(r"ytInitialData\s*=\s*")
_GL = re.compile(r'"INNERTUBE_CONTEXT_GL"\s*:\s*"([A-Z]{2})"')

ATOM = "{http://www.w3.org/2005/Atom}"
YT = "{http://www.youtube.com/xml/schemas/2015}"
MEDIA = "{http://search.yahoo.com/mrss/}"

#: The simulator's complete public stream (``youtube:all``): YouTube has no such feed.
SIM_ALL_PATH = "/feeds/memoryhole_sim_all.xml"
SIM_PAGE_SIZE = 50
_MEMORY = 100_000
_GONE_STATUSES = (400, 401, 403, 404, 410)

#: Words of an ERROR's reason → (kind, code). Asked in English (``hl=en``); first match wins.
_REMOVAL_WORDS: tuple[tuple[str, Status, str], ...] = (
    ("try again later", Status.UNREACHABLE, "try_again_later"),
    ("account associated with this video has been terminated", Status.ACCOUNT_SUSPENDED,
     "account_terminated"),
    ("uploader has closed their youtube account", Status.AUTHOR_DELETED, "account_closed"),
    ("removed by the uploader", Status.AUTHOR_DELETED, "uploader"),
    ("hate speech", Status.CENSORED, "hate_speech"),
    ("harassment", Status.CENSORED, "harassment"),
    ("nudity or sexual content", Status.CENSORED, "nudity"),
    ("spam, deceptive practices", Status.CENSORED, "spam"),
    ("violent or graphic content", Status.CENSORED, "violent_graphic"),
    ("community guidelines", Status.CENSORED, "community_guidelines"),
    ("terms of service", Status.CENSORED, "tos"),
    ("copyright claim", Status.CENSORED, "copyright"),
    ("removed for violating", Status.CENSORED, "policy"),
)  # fmt: skip
#: Words that say the video is withheld where the request came from → code.
_WITHHELD_WORDS: tuple[tuple[str, str], ...] = (
    ("legal complaint", "legal_complaint"),
    ("country domain", "legal_complaint"),
    ("blocked it in your country", "rights_holder"),
    ("available in your country", "not_in_country"),
)
#: Words of an UNPLAYABLE video that is there, behind a restriction → the detail's words.
_RESTRICTION_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (r"\bage-restricted\b|\bconfirm your age\b|\binappropriate for some users\b",
         "age-restricted"),
        (r"\bpremium\b", "premium-only"),
        (r"\bmembers\b|\bjoin this channel\b", "members-only"),
        (r"\bpayment\b|\bpurchase\b|\brent(al)?\b", "paid"),
        (r"\blive stream recording is not available\b", "live recording not available"),
    )
)  # fmt: skip
_CHANNEL_WORDS: tuple[tuple[str, Status, str], ...] = (
    ("copyright", Status.ACCOUNT_SUSPENDED, "copyright"),
    ("hate speech", Status.ACCOUNT_SUSPENDED, "hate_speech"),
    ("harass", Status.ACCOUNT_SUSPENDED, "harassment"),
    ("spam", Status.ACCOUNT_SUSPENDED, "spam"),
    ("nudity", Status.ACCOUNT_SUSPENDED, "nudity"),
    ("community guidelines", Status.ACCOUNT_SUSPENDED, "community_guidelines"),
    ("terms of service", Status.ACCOUNT_SUSPENDED, "tos"),
    ("terminated", Status.ACCOUNT_SUSPENDED, "terminated"),
    ("removed because it violated", Status.ACCOUNT_SUSPENDED, "policy"),
)


def _words(value: Any) -> str:
    """A YouTube text object (``simpleText`` or ``runs``) or a plain string, as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("simpleText"), str):
            return str(value["simpleText"])
        runs = value.get("runs")
        if isinstance(runs, list):
            return "".join(str(r.get("text", "")) for r in runs if isinstance(r, dict))
    return ""


# -- reading answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchPage:
    """What a watch page (or a player answer) holds: the player response, the country YouTube
    served it for, and what it is instead when it holds none."""

    player: dict[str, Any] | None
    country: str | None
    instead: str  # why there is no player response (a consent page, a captcha…), or ""


def read_watch(capture: Capture) -> WatchPage:
    body = capture.body.decode("utf-8", errors="replace")
    country_match = _GL.search(body)
    country = country_match.group(1) if country_match else None
    head = body.lstrip()[:1]
    if head in ("{", "["):
        try:
            value = json.loads(body)
        except json.JSONDecodeError as exc:
            return WatchPage(None, country, f"malformed JSON ({exc.msg})")
        return WatchPage(_player_of(value), country, "" if _player_of(value) else "no player")
    if head == "<" and not body.rstrip()[-64:].lower().endswith("</html>"):
        return WatchPage(None, country, "a page cut short (it does not end with </html>)")
    for pattern in (_PLAYER, _EMBEDDED):
        for found in pattern.finditer(body):
            value = _decode_at(body, found.end(), string=pattern is _EMBEDDED)
            player = _player_of(value)
            if player is not None:
                return WatchPage(player, country, "")
    return WatchPage(None, country, _what_page(body))


def _decode_at(text: str, start: int, *, string: bool) -> Any:
    decoder = json.JSONDecoder()
    try:
        if string:  # the embed page keeps the player response as a JSON string
            raw, _ = decoder.raw_decode(text, start - 1)
            return json.loads(raw) if isinstance(raw, str) else None
        value, _ = decoder.raw_decode(text, start)
    except (json.JSONDecodeError, ValueError):
        return None
    return value


def _player_of(value: Any) -> dict[str, Any] | None:
    """The player response in an answer: itself, or under ``playerResponse`` (the reel
    endpoint; ``watch?pbj=1``'s list of parts)."""
    if isinstance(value, list):
        for part in value:
            found = _player_of(part)
            if found is not None:
                return found
        return None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("playabilityStatus"), dict):
        return value
    nested = value.get("playerResponse")
    return _player_of(nested) if nested is not None else None


def _what_page(body: str) -> str:
    lowered = body[:200_000].lower()
    if "consent.youtube.com" in lowered or "consent.google.com" in lowered:
        return "a cookie-consent page instead of the video's page"
    if "recaptcha" in lowered or "unusual traffic" in lowered or "/sorry/" in lowered:
        return "a captcha ('unusual traffic') instead of the video's page"
    if "<html" in lowered or "<!doctype" in lowered:
        return "an HTML page without the video's player response"
    return "not a watch page"


@dataclass(frozen=True)
class Reading:
    """What a player response says of the video: an observation, and whether it must be
    confirmed by oEmbed before it is stated (a removal)."""

    observation: Observation
    confirm: bool = False


def read_playability(
    player: dict[str, Any], video_id: str | None, country: str | None = None
) -> Reading:
    status_block = player.get("playabilityStatus")
    playability: dict[str, Any] = status_block if isinstance(status_block, dict) else {}
    status = str(playability.get("status") or "")
    details = player.get("videoDetails")
    details = details if isinstance(details, dict) else None
    said = _said(playability)
    words = said.lower().replace("’", "'")
    if not status:
        return Reading(transient("no playabilityStatus: not an answer about the video"))
    if details is not None and video_id and details.get("videoId") not in (None, video_id):
        return Reading(transient(f"the answer is about video {details.get('videoId')!r}"))
    if "not a bot" in words:
        return Reading(transient(f"{status}: {said} (a block of this address, not the video)"))
    if status in ("OK", "LIVE_STREAM"):
        return _live(player, details, "")
    if status == "LIVE_STREAM_OFFLINE":
        return _live(player, details, f"scheduled live stream ({said})")
    if status == "CONTENT_CHECK_REQUIRED":
        return _live(player, details, f"viewer discretion advised ({said})")
    if status in ("AGE_VERIFICATION_REQUIRED", "AGE_CHECK_REQUIRED"):
        return _live(player, details, f"age-restricted ({said})")
    if status == "LOGIN_REQUIRED":
        return _login_required(player, details, playability, said)
    if status == "UNPLAYABLE":
        return _unplayable(player, details, playability, said, words, country)
    if status == "ERROR":
        return _error(said, words, country)
    return Reading(transient(f"playability {status!r} not understood: {said}"))


def _said(playability: dict[str, Any]) -> str:
    """The reason, the error screen's reason and subreason, and messages, in one line."""
    parts: list[str] = []
    for value in (playability.get("reason"),):
        text = _words(value)
        if text:
            parts.append(text)
    screen = playability.get("errorScreen")
    if isinstance(screen, dict):
        for renderer in screen.values():
            if not isinstance(renderer, dict):
                continue
            for key in ("reason", "subreason", "title"):
                text = _words(renderer.get(key))
                if text and text not in parts:
                    parts.append(text)
            for message in renderer.get("dialogMessages") or ():
                text = _words(message)
                if text and text not in parts:
                    parts.append(text)
    for message in playability.get("messages") or ():
        text = _words(message)
        if text and text not in parts:
            parts.append(text)
    return ". ".join(part.strip().rstrip(".") for part in parts if part.strip())


def _live(player: dict[str, Any], details: dict[str, Any] | None, restriction: str) -> Reading:
    if details is None:
        if not restriction:
            return Reading(transient("playable, but no videoDetails: not the video's page"))
        return Reading(  # there, behind a restriction; nothing of it to hash (an embed page)
            Observation(Status.LIVE, detail=f"visible; {restriction} (no videoDetails)")
        )
    title = str(details.get("title") or "")
    description = str(details.get("shortDescription") or "")
    text = video_text(title, description)
    thumbnails = (details.get("thumbnail") or {}).get("thumbnails") or []
    media = []
    if thumbnails and isinstance(thumbnails[-1], dict) and thumbnails[-1].get("url"):
        media.append(("image", str(thumbnails[-1]["url"])))
    return Reading(
        Observation(
            Status.LIVE,
            content_hash=content_hash(text),
            text=text,
            detail=join_detail("visible", restriction, media_detail(media)),
        )
    )


def _login_required(
    player: dict[str, Any],
    details: dict[str, Any] | None,
    playability: dict[str, Any],
    said: str,
) -> Reading:
    if "desktopLegacyAgeGateReason" in playability:
        return _live(player, details, f"age-restricted ({said})")
    if playability.get("messages"):  # a private video's page says why in its messages
        return Reading(
            Observation(
                Status.REMOVED_UNKNOWN,
                code="private",
                detail=f"private video (the uploader's choice, not a deletion): {said}",
            ),
            confirm=True,
        )
    return Reading(transient(f"LOGIN_REQUIRED: {said} (a sign-in wall, not the video)"))


def _unplayable(
    player: dict[str, Any],
    details: dict[str, Any] | None,
    playability: dict[str, Any],
    said: str,
    words: str,
    country: str | None,
) -> Reading:
    if "try again later" in words:
        return Reading(transient(f"UNPLAYABLE: {said} (a limit on this session)"))
    withheld = _withheld(said, words, country)
    if withheld is not None:
        return Reading(withheld)
    screen = playability.get("errorScreen")
    if "desktopLegacyAgeGateReason" in playability or (
        isinstance(screen, dict) and "playerLegacyDesktopYpcOfferRenderer" in screen
    ):
        kind = (
            "paid"
            if isinstance(screen, dict) and screen.get("playerLegacyDesktopYpcOfferRenderer")
            else "age-restricted"
        )
        return _live(player, details, f"{kind} ({said})")
    for hint, restriction in _RESTRICTION_WORDS:
        if hint.search(words):
            return _live(player, details, f"{restriction} ({said})")
    return Reading(
        transient(f"UNPLAYABLE here for a reason not understood (never guessed): {said}")
    )


def _withheld(said: str, words: str, country: str | None) -> Observation | None:
    for hint, code in _WITHHELD_WORDS:
        if hint in words:
            # The region alone before the colon: the verdict export's ``region`` reads it there.
            stated = f"{said} ({country}: the country YouTube served the page for)"
            detail = withheld_detail(stated if country else said, country)
            return Observation(Status.WITHHELD, code=code, detail=detail, confirm_first=True)
    return None


def _error(said: str, words: str, country: str | None) -> Reading:
    withheld = _withheld(said, words, country)
    if withheld is not None:
        return Reading(withheld)
    for hint, status, code in _REMOVAL_WORDS:
        if hint in words:
            if status is Status.UNREACHABLE:
                return Reading(transient(f"ERROR: {said} (a limit on this session)"))
            return Reading(Observation(status, code=code, detail=f"video gone: {said}"), True)
    return Reading(
        Observation(
            Status.REMOVED_UNKNOWN,
            code="unavailable",
            detail=f"video gone ({said or 'ERROR'}): the answer does not say why",
        ),
        confirm=True,
    )


def video_text(title: str, description: str) -> str:
    """A video as a post's text: its title, then its description."""
    return f"{title}\n{description}" if description else title


def read_oembed(capture: Capture, video_id: str) -> str:
    """What oEmbed says of a video: ``shown`` (200 JSON about it), ``not_found`` (400/404),
    ``forbidden`` (403, or 2020's 200 "Forbidden": a private video), ``unauthorized`` (401:
    embedding disabled, so the video is there), or why it says none of these."""
    problem = answer_problem(capture)
    if problem is not None:
        return problem
    body = capture.body.strip()
    plain = body[:64].decode("utf-8", errors="replace").strip().lower()
    short = len(body) < 200 and not looks_like_html(capture)  # oEmbed's own plain-text answer
    if capture.status in (400, 404, 410) and short:
        return "not_found"
    if (capture.status == 403 and short) or (capture.status == 200 and plain == "forbidden"):
        return "forbidden"
    if capture.status == 401 and short:
        return "unauthorized"
    if capture.status != 200:
        return f"HTTP {capture.status}"
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "not oEmbed JSON"
    if not isinstance(value, dict) or not isinstance(value.get("title"), str):
        return "oEmbed JSON without a title"
    html = str(value.get("html") or "") + str(value.get("thumbnail_url") or "")
    if video_id and video_id not in html:
        return "oEmbed JSON about another video"
    return "shown"


#: Which oEmbed answers confirm a removal read from the watch page: a private video is not
#: shown (403, 404, or 401 as older answers gave); a video gone is not found or forbidden (401
#: says only that embedding is disabled: the video is there).
_CONFIRMS = {"private": frozenset({"forbidden", "not_found", "unauthorized"})}
_CONFIRMS_GONE = frozenset({"forbidden", "not_found"})


def read_channel_alerts(capture: Capture) -> tuple[Status, str, str] | None:
    """A channel page's (or InnerTube browse answer's) alert: (kind, code, words), or None."""
    body = capture.body.decode("utf-8", errors="replace")
    value: Any = None
    if body.lstrip()[:1] == "{":
        try:
            value = json.loads(body)
        except json.JSONDecodeError:
            return None
    else:
        found = _INITIAL_DATA.search(body)
        if found:
            value = _decode_at(body, found.end(), string=False)
    alerts = value.get("alerts") if isinstance(value, dict) else None
    for alert in alerts or ():
        renderer = alert.get("alertRenderer") if isinstance(alert, dict) else None
        if not isinstance(renderer, dict) or renderer.get("type") != "ERROR":
            continue
        text = _words(renderer.get("text"))
        lowered = text.lower()
        for hint, status, code in _CHANNEL_WORDS:
            if hint in lowered:
                return status, code, text
        return Status.UNREACHABLE, "alert", text
    return None


# -- the adapter --------------------------------------------------------------------------------


class YouTubePlatform:
    name = "youtube"

    def __init__(self, base_url: str = "https://www.youtube.com") -> None:
        self.base_url = base_url.rstrip("/")
        self._follow_ups = AccountFollowUps()
        #: A removal read from a watch page, waiting for oEmbed's confirmation (by post id).
        self._readings: OrderedDict[str, Observation] = OrderedDict()
        #: Channels whose feed answered 404: their next poll reads the channel's page.
        self._channel_pages: set[str] = set()

    # -- targets and listings ---------------------------------------------------------------

    def parse_target(self, text: str) -> Target:
        kind, _, key = text.partition("/")
        if kind == "all" and not key:
            if not is_local(self.base_url):
                raise TargetError(
                    "youtube:all is the simulator's complete public stream; YouTube has no "
                    "such feed. Watch youtube:channel/<channel id UC…>"
                )
            return Target(self.name, "all")
        key = key.strip()
        if kind == "channel" and _CHANNEL_ID.match(key):
            return Target(self.name, "channel", key)
        if kind == "user" and _USER.match(key):
            return Target(self.name, "user", key)
        raise TargetError(
            f"youtube target {text!r} not understood; use youtube:channel/<channel id> (UC "
            "and 22 more characters, as in youtube.com/channel/UC…) or youtube:user/<legacy "
            "username>"
        )

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        if target.kind == "all":
            params = (("after", cursor),) if cursor else ()
            return Request("GET", self.base_url + SIM_ALL_PATH, params)
        if target.spec in self._channel_pages:
            self._channel_pages.discard(target.spec)
            where = "channel" if target.kind == "channel" else "user"
            url = with_note(f"{self.base_url}/{where}/{quote(target.key)}", "feed_404")
            return Request("GET", url, (("hl", "en"),))
        name = "channel_id" if target.kind == "channel" else "user"
        return Request("GET", f"{self.base_url}/feeds/videos.xml", ((name, target.key),))

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        if note_of(capture.request.url) == "feed_404":
            return self._channel_page(target, capture)
        problem = answer_problem(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        if capture.status == 404 and target.kind != "all":
            self._channel_pages.add(target.spec)
            return Discovery(
                (),
                None,
                Status.UNREACHABLE,
                "no feed (404): the channel was terminated or deleted, or there is no such "
                "channel (the feed does not say); its page is read next, and every known "
                "video of it is checked now",
                confirm_all=True,
            )
        if capture.status != 200:
            return Discovery((), None, Status.UNREACHABLE, f"HTTP {capture.status}")
        try:
            root = ET.fromstring(capture.body)
        except ET.ParseError as exc:
            return Discovery((), None, Status.UNREACHABLE, f"not a feed (XML: {exc})")
        if root.tag != f"{ATOM}feed":
            return Discovery((), None, Status.UNREACHABLE, f"not an Atom feed ({root.tag})")
        posts: list[SeenPost] = []
        unreadable: list[str] = []
        for index, entry in enumerate(root.findall(f"{ATOM}entry")):
            read = feed_entry(index, entry)
            if isinstance(read, str):
                unreadable.append(read)
            else:
                posts.append(read)
        if target.kind == "all":
            last = posts[-1].post_id if posts else None
            return listing(posts, last, unreadable=unreadable, more=len(posts) >= SIM_PAGE_SIZE)
        return listing(posts, None, unreadable=unreadable)

    def _channel_page(self, target: Target, capture: Capture) -> Discovery:
        """The channel's page, read after its feed answered 404: whether it was terminated."""
        problem = answer_problem(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, f"channel page: {problem}")
        alert = read_channel_alerts(capture)
        if alert is None:
            return Discovery(
                (),
                None,
                Status.UNREACHABLE,
                f"the feed answered 404; the channel's page (HTTP {capture.status}) says "
                "nothing of the channel being gone",
            )
        status, code, words = alert
        if status is Status.ACCOUNT_SUSPENDED:
            return Discovery(
                (),
                None,
                status,
                f"channel terminated ({code}): {words}; every known video of it is checked now",
                confirm_all=True,
            )
        return Discovery((), None, Status.UNREACHABLE, f"the channel's page says: {words}")

    # -- checks -----------------------------------------------------------------------------

    def check_request(self, post: PostRef) -> Request:
        note = self._follow_ups.take(post.post_id)
        watch = f"https://www.youtube.com/watch?v={post.post_id}"
        if note is not None:
            url = with_note(f"{self.base_url}/oembed", note)
            return Request("GET", url, (("format", "json"), ("url", watch)))
        return Request(
            "GET",
            f"{self.base_url}/watch",
            (("v", post.post_id), ("hl", "en"), ("has_verified", "1"), ("bpctr", "9999999999")),
        )

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        path = url_path(capture.request.url).rstrip("/")
        if path.endswith("/oembed"):
            return self._parse_oembed(post, capture)
        problem = answer_problem(capture)
        if problem is not None:
            return transient(problem)
        if capture.status != 200:
            return transient(f"HTTP {capture.status}")
        page = read_watch(capture)
        if page.player is None:
            return transient(page.instead or "no player response")
        video_id = post.post_id or _asked_video(capture.request)
        reading = read_playability(page.player, video_id, page.country)
        observation = reading.observation
        if not reading.confirm or not post.post_id:
            return observation
        code = observation.code or "gone"
        known = self._follow_ups.answer(post.post_id, code)
        if known is not None:
            return replace(known, detail=f"{known.detail} (confirmed by oEmbed earlier)")
        self._follow_ups.want(post.post_id, code)
        self._remember(post.post_id, observation)
        return transient(
            f"{observation.detail} [{observation.status.value} per the watch page; oEmbed "
            "is asked next to confirm]",
            code=code,
        )

    def _parse_oembed(self, post: PostRef, capture: Capture) -> Observation:
        note = note_of(capture.request.url)
        said = read_oembed(capture, post.post_id)
        reading = self._readings.get(post.post_id)
        if reading is None or note is None:  # oEmbed alone never states a removal
            if said == "shown":
                return Observation(Status.LIVE, detail="visible (oEmbed shows it publicly)")
            return transient(f"oEmbed: {said} (alone, never a removal)")
        if said in _CONFIRMS.get(note, _CONFIRMS_GONE):
            self._readings.pop(post.post_id, None)
            confirmed = replace(
                reading,
                detail=f"{reading.detail}; oEmbed does not show it either "
                f"({capture.status} {capture.body[:40].decode('utf-8', 'replace').strip()!r})",
            )
            self._follow_ups.remember(post.post_id, note, confirmed)
            return confirmed
        if said in ("shown", "unauthorized"):
            self._readings.pop(post.post_id, None)
            what = "shows the video publicly" if said == "shown" else "says it is there (401)"
            return transient(
                f"the watch page said {reading.status.value} ({reading.code}) but oEmbed {what}: "
                "not a removal",
                code=note,
            )
        self._follow_ups.retry(post.post_id, note)
        return transient(f"oEmbed: {said}; asked again", code=note)

    def _remember(self, post_id: str, observation: Observation) -> None:
        self._readings[post_id] = observation
        self._readings.move_to_end(post_id)
        while len(self._readings) > _MEMORY:
            self._readings.popitem(last=False)


def feed_entry(index: int, entry: ET.Element) -> SeenPost | str:
    """One feed entry as a post, or why it could not be read."""
    video_id = (entry.findtext(f"{YT}videoId") or "").strip()
    if not _VIDEO_ID.match(video_id):
        return f"entry {index}: no yt:videoId ({video_id!r})"
    channel = (entry.findtext(f"{YT}channelId") or "").strip()
    if channel and not channel.startswith("UC"):
        channel = "UC" + channel  # the feed's own yt:channelId leaves the prefix out
    if not channel:
        return f"entry {index} ({video_id}): no yt:channelId"
    when = entry.findtext(f"{ATOM}published")
    published = parse_iso8601(when)
    if published is None:
        return f"entry {index} ({video_id}): published {when!r} not understood"
    title = (entry.findtext(f"{ATOM}title") or "").strip()
    group = entry.find(f"{MEDIA}group")
    description = ""
    if group is not None:
        description = (group.findtext(f"{MEDIA}description") or "").strip()
        title = title or (group.findtext(f"{MEDIA}title") or "").strip()
    return SeenPost(video_id, channel, published, video_text(title, description))


def _asked_video(request: Request) -> str | None:
    for key, value in request.params:
        if key == "v":
            return value
    found = parse_qs(urlsplit(request.url).query).get("v")
    return found[0] if found else None
