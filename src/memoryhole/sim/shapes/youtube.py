"""YouTube's shapes (``sim serve --platform youtube``), as the real site answers without an API
key (held against tests/data/real: ``test_real_youtube.py``): each scenario author is a channel
``UC…`` (``channel_id_of``), each post a video whose id is the post's id; its title is the
text's first line (at most 100 characters) and its description the rest.

- ``GET /feeds/videos.xml?channel_id=UC…``: the channel's Atom feed, its 15 newest visible
  videos newest first (``yt:videoId``, ``yt:channelId``, ``title``, ``published``,
  ``media:group`` with ``media:description``), ``server: YouTube RSS Feeds server``; a
  terminated or unknown channel: ``404`` with Google's HTML error page.
- ``GET /feeds/memoryhole_sim_all.xml?after=ID``: **the simulator's** complete public feed
  (``youtube:all``), every channel's videos oldest first after video ``ID``, 50 a page;
  YouTube has no such feed.
- ``GET /watch?v=ID``: the watch page, ``var ytInitialPlayerResponse = {…};`` holding
  ``playabilityStatus`` ``OK`` and ``videoDetails`` while the video is visible; once gone,
  ``ERROR`` with ``errorScreen.playerErrorMessageRenderer`` reason ``Video unavailable`` and a
  subreason saying why (the texts of REASONS.md).
- ``GET /oembed?format=json&url=…watch?v=ID``: ``200`` JSON while visible, ``404 Not Found``
  once gone.
- ``GET /channel/UC…``: the channel's page; a terminated channel's ``ytInitialData`` carries the
  ``alerts`` ERROR "This account has been terminated for a violation of YouTube's Terms of
  Service."

How each scenario removal shows: ``author_deleted``: "This video has been removed by the
uploader". ``censored``: a policy removal, one of five texts per post (hate speech,
harassment, Community Guidelines, Terms of Service, a copyright claim). ``account_suspended``:
"This video is no longer available because the YouTube account associated with this video has
been terminated.", and the channel's feed answers 404. A ``withhold`` event (a country block,
``docs/simulator.md``): to requests from that region only, ``UNPLAYABLE`` "The uploader has not
made this video available in your country" (``yt_watch_geoblocked_2023``), the watch page's
``INNERTUBE_CONTEXT_GL`` that region, the oEmbed ``404`` and the video missing from its feed
there.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from memoryhole.sim.shapes import HTML_HEADERS, Answer, media_of, pick, published_until

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

FEED_SIZE = 15
SIM_PAGE_SIZE = 50
XML_HEADERS = (
    ("content-type", "text/xml; charset=UTF-8"),
    ("server", "YouTube RSS Feeds server"),
    ("cache-control", "public, max-age=900"),
)
JSON_HEADERS = (("content-type", "application/json; charset=UTF-8"),)
NOT_FOUND_PAGE = (
    b"<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1"
    b"</title>\n  <p><b>404.</b> <ins>That\xe2\x80\x99s an error.</ins>\n  <p>The requested URL "
    b"was not found on this server.  <ins>That\xe2\x80\x99s all we know.</ins>\n"
)
UPLOADER = "This video has been removed by the uploader"
TERMINATED = (
    "This video is no longer available because the YouTube account associated with this video "
    "has been terminated."
)
POLICIES = (
    "This video has been removed for violating YouTube's policy on hate speech.",
    "This video has been removed for violating YouTube's policy on harassment and bullying",
    "This video has been removed for violating YouTube's Community Guidelines",
    "This video has been removed for violating YouTube's Terms of Service",
    "This video is no longer available due to a copyright claim by Rights Holder Ltd",
)
GEOBLOCKED = "The uploader has not made this video available in your country"
CHANNEL_TERMINATED = (
    "This account has been terminated for a violation of YouTube's Terms of Service."
)

_WATCH = re.compile(r"^/watch/?$")
_CHANNEL = re.compile(r"^/channel/(UC[0-9A-Za-z_-]{22})/?$")


def channel_id_of(author_id: str) -> str:
    """A channel id for a scenario author: ``UC`` and 22 base64url characters, as YouTube's."""
    digest = hashlib.sha256(f"memoryhole-sim:{author_id}".encode()).digest()
    return "UC" + base64.urlsafe_b64encode(digest).decode()[:22]


def title_and_description(text: str) -> tuple[str, str]:
    first, _, rest = text.partition("\n")
    if len(first) > 100:
        first, rest = first[:100], (first[100:] + ("\n" + rest if rest else ""))
    return first.strip(), rest.strip()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _thumbnail(sim: SimPlatform, post: ScenarioPost) -> str:
    images = [url for kind, url in media_of(post, sim.media_base) if kind == "image"]
    return images[0] if images else f"https://i.ytimg.com/vi/{post.post_id}/hqdefault.jpg"


def entry_xml(sim: SimPlatform, post: ScenarioPost, now: float) -> str:
    _, text = sim.text_at(post, now)
    title, description = title_and_description(text)
    channel = channel_id_of(post.author_id)
    name = f"用户{post.author_id[-6:]}"
    video = post.post_id
    return (
        f"\n <entry>\n  <id>yt:video:{video}</id>\n  <yt:videoId>{video}</yt:videoId>\n"
        f"  <yt:channelId>{channel}</yt:channelId>\n  <title>{html.escape(title)}</title>\n"
        f'  <link rel="alternate" href="https://www.youtube.com/watch?v={video}"/>\n'
        f"  <author>\n   <name>{name}</name>\n"
        f"   <uri>https://www.youtube.com/channel/{channel}</uri>\n  </author>\n"
        f"  <published>{_iso(post.published_at)}</published>\n"
        f"  <updated>{_iso(max([post.published_at, *(at for at, _ in post.edits if at <= now)]))}"
        "</updated>\n  <media:group>\n"
        f"   <media:title>{html.escape(title)}</media:title>\n"
        f'   <media:content url="https://www.youtube.com/v/{video}?version=3" '
        'type="application/x-shockwave-flash" width="640" height="390"/>\n'
        f'   <media:thumbnail url="{html.escape(_thumbnail(sim, post))}" width="480" '
        'height="360"/>\n'
        f"   <media:description>{html.escape(description)}</media:description>\n"
        '   <media:community>\n    <media:starRating count="0" average="0.00" min="1" max="5"/>'
        '\n    <media:statistics views="0"/>\n   </media:community>\n  </media:group>\n'
        " </entry>"
    )


def feed_xml(title: str, channel: str, entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns:yt="http://www.youtube.com/xml/'
        'schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns="http://www.w3.org/2005/Atom">\n'
        f' <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={channel}"/>'
        f"\n <id>yt:channel:{channel[2:]}</id>\n <yt:channelId>{channel[2:]}</yt:channelId>\n"
        f" <title>{html.escape(title)}</title>{entries}\n</feed>\n"
    ).encode()


def player_response(sim: SimPlatform, post: ScenarioPost, now: float) -> dict[str, Any]:
    """What the watch page embeds, in the real WEB answer's shape (``yt_watch_ok_2021``;
    ``yt_watch_geoblocked_2023`` for an error's ``errorScreen``)."""
    removal = sim.removal_at(post, now) if post.published_at <= now else "unknown"
    if removal is not None:
        subreason = {
            "author_deleted": UPLOADER,
            "account_suspended": TERMINATED,
            "censored": pick(post.post_id, POLICIES),
            "withheld": GEOBLOCKED,
        }.get(removal)
        screen: dict[str, Any] = {
            "reason": {"simpleText": "Video unavailable"},
            "thumbnail": {
                "thumbnails": [
                    {"url": "//s.ytimg.com/yts/img/meh7-vflGevej7.png", "width": 140, "height": 100}
                ]
            },
            "icon": {"iconType": "ERROR_OUTLINE"},
        }
        if subreason:
            screen["subreason"] = {"runs": [{"text": subreason}]}
        return {
            "responseContext": {"visitorData": "Cgtz"},
            "playabilityStatus": {
                "status": "UNPLAYABLE" if removal == "withheld" else "ERROR",
                "reason": "Video unavailable",
                "errorScreen": {"playerErrorMessageRenderer": screen},
                "contextParams": "Q0FBU0FnZ0E=",
            },
            "trackingParams": "CAAQu2kiEwj",
        }
    _, text = sim.text_at(post, now)
    title, description = title_and_description(text)
    channel = channel_id_of(post.author_id)
    thumbnail = _thumbnail(sim, post)
    return {
        "responseContext": {"visitorData": "Cgtz"},
        "playabilityStatus": {
            "status": "OK",
            "playableInEmbed": True,
            "miniplayer": {"miniplayerRenderer": {"playbackMode": "PLAYBACK_MODE_ALLOW"}},
            "contextParams": "Q0FFU0FnZ0M=",
        },
        "videoDetails": {
            "videoId": post.post_id,
            "title": title,
            "lengthSeconds": "60",
            "channelId": channel,
            "isOwnerViewing": False,
            "shortDescription": description,
            "isCrawlable": True,
            "thumbnail": {"thumbnails": [{"url": thumbnail, "width": 480, "height": 360}]},
            "allowRatings": True,
            "viewCount": "0",
            "author": f"用户{post.author_id[-6:]}",
            "isPrivate": False,
            "isUnpluggedCorpus": False,
            "isLiveContent": False,
        },
        "microformat": {
            "playerMicroformatRenderer": {
                "title": {"simpleText": title},
                "description": {"simpleText": description},
                "externalChannelId": channel,
                "isUnlisted": False,
                "publishDate": _iso(post.published_at)[:10],
                "uploadDate": _iso(post.published_at)[:10],
            }
        },
    }


def watch_page(player: dict[str, Any], country: str | None = None) -> bytes:
    """``country``: where YouTube thinks the request came from (its ``INNERTUBE_CONTEXT_GL``)."""
    data = json.dumps(player, ensure_ascii=False)
    gl = country if country and re.fullmatch(r"[A-Z]{2}", country) else "US"
    return (
        "<!DOCTYPE html><html><head><title>YouTube</title>"
        f'<script>ytcfg.set({{"INNERTUBE_CONTEXT_GL":"{gl}","INNERTUBE_CONTEXT_HL":"en"}});</script>'
        "</head><body><script>var ytInitialPlayerResponse = "
        f"{data};var meta = document.createElement('meta');</script></body></html>"
    ).encode()


class YouTubeShape:
    name = "youtube"
    withholds = True  # a country block has its own answer (``GEOBLOCKED``)

    def __init__(self) -> None:
        self._channels: dict[str, str] | None = None  # channel id → scenario author

    def author_of(self, sim: SimPlatform, channel: str) -> str | None:
        if self._channels is None:
            self._channels = {channel_id_of(a): a for a in sim.by_author}
        return self._channels.get(channel)

    def handle(
        self, sim: SimPlatform, method: str, path: str, query: Mapping[str, str], now: float
    ) -> Answer:
        if method != "GET":
            return 405, HTML_HEADERS, NOT_FOUND_PAGE
        if path == "/feeds/videos.xml":
            return self.feed(sim, query.get("channel_id", ""), now)
        if path == "/feeds/memoryhole_sim_all.xml":
            return self.everything(sim, query, now)
        if _WATCH.match(path):
            post = sim.by_id.get(query.get("v", ""))
            if post is None:
                return 200, HTML_HEADERS, watch_page(_unknown())
            country = sim.vantage or sim.home_region
            return 200, HTML_HEADERS, watch_page(player_response(sim, post, now), country)
        if path.rstrip("/") == "/oembed":
            return self.oembed(sim, query, now)
        if match := _CHANNEL.match(path):
            return self.channel_page(sim, match.group(1), now)
        return 404, HTML_HEADERS, NOT_FOUND_PAGE

    def feed(self, sim: SimPlatform, channel: str, now: float) -> Answer:
        author = self.author_of(sim, channel)
        if author is None or sim.is_suspended(author, now):
            return 404, HTML_HEADERS, NOT_FOUND_PAGE
        indices = sim.by_author[author]
        until = published_until(sim, now)
        chosen: list[int] = []
        for index in reversed(indices):
            if index >= until:
                continue
            if sim.removal_at(sim.posts[index], now) is None:
                chosen.append(index)
                if len(chosen) >= FEED_SIZE:
                    break
        entries = "".join(entry_xml(sim, sim.posts[i], now) for i in chosen)
        return 200, XML_HEADERS, feed_xml(f"用户{author[-6:]}", channel, entries)

    def everything(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        after = query.get("after", "")
        start = sim.position[after] + 1 if after in sim.position else 0
        chosen: list[int] = []
        for index in range(start, published_until(sim, now)):
            if sim.removal_at(sim.posts[index], now) is None:
                chosen.append(index)
                if len(chosen) >= SIM_PAGE_SIZE:
                    break
        entries = "".join(entry_xml(sim, sim.posts[i], now) for i in chosen)
        return 200, XML_HEADERS, feed_xml("memoryhole simulator", "UCmemoryhole_sim_all", entries)

    def oembed(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        url = query.get("url", "")
        video = (parse_qs(urlsplit(url).query).get("v") or [""])[0]
        post = sim.by_id.get(video)
        if post is None or post.published_at > now or sim.removal_at(post, now) is not None:
            return 404, JSON_HEADERS, b"Not Found"
        _, text = sim.text_at(post, now)
        title, _ = title_and_description(text)
        channel = channel_id_of(post.author_id)
        payload = {
            "title": title,
            "author_name": f"用户{post.author_id[-6:]}",
            "author_url": f"https://www.youtube.com/channel/{channel}",
            "type": "video",
            "height": 113,
            "width": 200,
            "version": "1.0",
            "provider_name": "YouTube",
            "provider_url": "https://www.youtube.com/",
            "thumbnail_height": 360,
            "thumbnail_width": 480,
            "thumbnail_url": f"https://i.ytimg.com/vi/{post.post_id}/hqdefault.jpg",
            "html": f'<iframe width="200" height="113" src="https://www.youtube.com/embed/'
            f'{post.post_id}?feature=oembed" frameborder="0" allowfullscreen title="'
            f'{html.escape(title)}"></iframe>',
        }
        return 200, JSON_HEADERS, json.dumps(payload, ensure_ascii=False).encode()

    def channel_page(self, sim: SimPlatform, channel: str, now: float) -> Answer:
        author = self.author_of(sim, channel)
        data: dict[str, Any] = {"responseContext": {}, "header": {}}
        if author is None:
            data["alerts"] = [
                {"alertRenderer": {"type": "ERROR", "text": {"simpleText": "This channel does "
                 "not exist."}}}
            ]  # fmt: skip
        elif sim.is_suspended(author, now):
            data["alerts"] = [
                {"alertRenderer": {"type": "ERROR", "text": {"simpleText": CHANNEL_TERMINATED}}}
            ]
        body = (
            "<!DOCTYPE html><html><head><title>YouTube</title></head><body><script>"
            f"var ytInitialData = {json.dumps(data, ensure_ascii=False)};</script></body></html>"
        )
        return 200, HTML_HEADERS, body.encode()


def _unknown() -> dict[str, Any]:
    """A watch page for an id the simulator does not know (``yt_watch_unavailable_invalid_id``)."""
    return {
        "playabilityStatus": {
            "status": "ERROR",
            "reason": "Video unavailable",
            "errorScreen": {
                "playerErrorMessageRenderer": {"reason": {"simpleText": "Video unavailable"}}
            },
            "contextParams": "Q0FBU0FnZ0E=",
        }
    }
