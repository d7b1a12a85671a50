"""Telegram's web preview shapes (``sim serve --platform telegram``), as ``t.me`` serves them
(held against tests/data/real: ``test_real_telegram.py``): each scenario author is a public
channel ``u{author_id}``, each post a message whose id is the post's id.

- ``GET /s/{channel}[?before=N]``: the channel's preview page, up to 20 visible messages before
  ``N`` (the newest without it), oldest first, each ``div.tgme_widget_message
  [data-post="{channel}/{id}"]`` with its text, ``time[datetime]``, media and "edited" mark as
  the real page has them; ``<link rel="prev" href="/s/{channel}?before={oldest}">`` and the
  "more" link when older messages exist. An unknown channel answers 302 to ``/{channel}``
  (what t.me does when it offers no preview).
- ``GET /s/memoryhole_sim_all[?after=N]``: **the simulator's** complete public stream
  (``telegram:all``), every channel's messages oldest first after message ``N``; Telegram has
  no such page.
- ``GET /{channel}/{id}?embed=1``: the message's embed, or ``<div
  class="tgme_widget_message_error">Post not found</div>`` once it is gone.

How each scenario removal shows: ``author_deleted``: "Post not found" (and missing from the
page). ``censored``, one of two ways per post: "Post not found" like a deletion, or the
message's embed saying "This message can't be displayed because it violated Telegram's Terms
of Service." ``account_suspended``: every embed "Post not found", and the channel's page shows
``div.tme_no_messages_found`` with "This channel can’t be displayed because it violated
Telegram's Terms of Service." (the notice block t.me uses for a restricted group, REASONS.md).
A ``withhold`` event (a country block, ``docs/simulator.md``): to requests from that region
only, the embed says "This post isn't available in your country due to copyright."
(REASONS.md) and the page leaves the message out.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from memoryhole.sim.shapes import HTML_HEADERS, Answer, media_of, pick, published_until

if TYPE_CHECKING:
    from memoryhole.scenario import ScenarioPost
    from memoryhole.sim.platform import SimPlatform

PAGE_SIZE = 20
SIM_ALL = "memoryhole_sim_all"
CHANNEL_TOS = "This channel can’t be displayed because it violated Telegram's Terms of Service."
MESSAGE_TOS = "This message can't be displayed because it violated Telegram's Terms of Service."
MESSAGE_WITHHELD = "This post isn't available in your country due to copyright."
#: How a censored message shows (``pick`` per post): like a deletion, or with Telegram's notice.
CENSOR_WAYS = ("not_found", "notice")

_CHANNEL_PAGE = re.compile(r"^/s/([A-Za-z][A-Za-z0-9_]{3,31})/?$")
_MESSAGE = re.compile(r"^/([A-Za-z][A-Za-z0-9_]{3,31})/([0-9]+)/?$")


def channel_of(author_id: str) -> str:
    return f"u{author_id}"


def post_id_of(post: ScenarioPost) -> str:
    """The adapter's id of a scenario post: ``{channel}/{message id}``."""
    return f"{channel_of(post.author_id)}/{post.post_id}"


def _time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def message_html(sim: SimPlatform, post: ScenarioPost, now: float) -> str:
    """One message block, in the real page's markup (``tg_s_channel_page_durov``)."""
    version, text = sim.text_at(post, now)
    channel = channel_of(post.author_id)
    shown = html.escape(text, quote=False).replace("\n", "<br/>")
    media = ""
    for kind, url in media_of(post, sim.media_base):
        if kind == "image":
            media += (
                f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{channel}/'
                f'{post.post_id}" style="width:800px;background-image:url(\'{url}\')">'
                '<div class="tgme_widget_message_photo" style="padding-top:75%"></div></a>'
            )
        else:
            media += (
                '<a class="tgme_widget_message_video_player js-message_video_player" '
                f'href="https://t.me/{channel}/{post.post_id}"><div class="tgme_widget_message_'
                f'video_wrap"><video src="{url}" class="tgme_widget_message_video '
                'js-message_video" width="100%" height="100%"></video></div></a>'
            )
    edited = "edited &nbsp;" if version else ""  # as the real page marks an edited message
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        '<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
        f'data-post="{channel}/{post.post_id}">'
        '<div class="tgme_widget_message_bubble">'
        '<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_'
        f'owner_name" href="https://t.me/{channel}"><span dir="auto">用户{post.author_id[-6:]}'
        "</span></a></div>"
        f"{media}"
        f'<div class="tgme_widget_message_text js-message_text" dir="auto">{shown}</div>'
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        '<span class="tgme_widget_message_views">1.2K</span><span class="copyonly"> views'
        f'</span><span class="tgme_widget_message_meta">{edited}'
        '<a class="tgme_widget_message_date" '
        f'href="https://t.me/{channel}/{post.post_id}"><time datetime="{_time(post.published_at)}"'
        ' class="time">00:00</time></a></span></div></div></div></div></div>'
    )


def page(title: str, prev: int | None, history: str, channel: str = "") -> bytes:
    """A preview page: head (with the ``prev`` link), the message list, the end of the page."""
    prev_link = f'<link rel="prev" href="/s/{channel}?before={prev}">' if prev else ""
    more = (
        '<div class="tgme_widget_message_centered js-messages_more_wrap">'
        f'<a href="/s/{channel}?before={prev}" class="tme_messages_more js-messages_more" '
        f'data-before="{prev}"></a></div>'
        if prev
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset="utf-8">\n'
        f"    <title>{html.escape(title)} – Telegram</title>\n    {prev_link}\n  </head>\n"
        '  <body class="widget_frame_base tgme_webpreview emoji_image">\n'
        '<main class="tgme_main"><div class="tgme_container">'
        '<section class="tgme_channel_history js-message_history">'
        f"{more}{history}</section></div></main>\n  </body>\n</html>\n"
    ).encode()


def notice_page(channel: str, text: str) -> bytes:
    return page(
        channel,
        None,
        f'<div class="tme_no_messages_found">{html.escape(text, quote=False)}</div>',
        channel,
    )


def _embed(body: str) -> Answer:
    doc = (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset="utf-8">\n  </head>\n'
        f'  <body class="widget_frame_base">\n{body}\n  </body>\n</html>\n'
    )
    return 200, HTML_HEADERS, doc.encode()


class TelegramShape:
    name = "telegram"
    withholds = True  # a country block has its own answer (``MESSAGE_WITHHELD``)

    def __init__(self) -> None:
        self._channels: dict[str, str] | None = None  # channel name (lower case) → author

    def author_of(self, sim: SimPlatform, channel: str) -> str | None:
        if self._channels is None:
            self._channels = {channel_of(a).lower(): a for a in sim.by_author}
        return self._channels.get(channel.lower())

    def handle(
        self, sim: SimPlatform, method: str, path: str, query: Mapping[str, str], now: float
    ) -> Answer:
        if method != "GET":
            return 405, HTML_HEADERS, b"Method Not Allowed"
        if match := _CHANNEL_PAGE.match(path):
            name = match.group(1)
            if name == SIM_ALL:
                return self.everything(sim, query, now)
            return self.channel_page(sim, name, query, now)
        if match := _MESSAGE.match(path):
            return self.embed(sim, match.group(1), match.group(2), now)
        return 404, HTML_HEADERS, b"<html><body>Not Found</body></html>"

    def channel_page(
        self, sim: SimPlatform, name: str, query: Mapping[str, str], now: float
    ) -> Answer:
        author = self.author_of(sim, name)
        if author is None:  # what t.me does for a name with no preview
            return 302, (*HTML_HEADERS, ("location", f"https://t.me/{name}")), b""
        channel = channel_of(author)
        if sim.is_suspended(author, now):
            return 200, HTML_HEADERS, notice_page(channel, CHANNEL_TOS)
        indices = sim.by_author[author]
        end = bisect.bisect_left(indices, published_until(sim, now))
        before = query.get("before", "")
        chosen: list[int] = []
        for position in range(end - 1, -1, -1):
            post = sim.posts[indices[position]]
            if before.isdigit() and int(post.post_id) >= int(before):
                continue
            if sim.removal_at(post, now) is None:
                chosen.append(indices[position])
                if len(chosen) > PAGE_SIZE:
                    break
        older = len(chosen) > PAGE_SIZE
        shown = list(reversed(chosen[:PAGE_SIZE]))
        history = "".join(message_html(sim, sim.posts[i], now) for i in shown)
        prev = int(sim.posts[shown[0]].post_id) if shown and older else None
        return 200, HTML_HEADERS, page(channel, prev, history, channel)

    def everything(self, sim: SimPlatform, query: Mapping[str, str], now: float) -> Answer:
        after = query.get("after", "")
        start = sim.position[after] + 1 if after in sim.position else 0
        shown: list[int] = []
        for index in range(start, published_until(sim, now)):
            if sim.removal_at(sim.posts[index], now) is None:
                shown.append(index)
                if len(shown) >= PAGE_SIZE:
                    break
        history = "".join(message_html(sim, sim.posts[i], now) for i in shown)
        return 200, HTML_HEADERS, page("memoryhole simulator", None, history, SIM_ALL)

    def embed(self, sim: SimPlatform, name: str, message: str, now: float) -> Answer:
        post = sim.by_id.get(message)
        author = self.author_of(sim, name)
        not_found = '<div class="tgme_widget_message_error">Post not found</div>'
        if post is None or author != post.author_id or post.published_at > now:
            return _embed(not_found)
        removal = sim.removal_at(post, now)
        if removal is None:
            return _embed(message_html(sim, post, now))
        if removal == "withheld":
            return _embed(f'<div class="tgme_widget_message_error">{MESSAGE_WITHHELD}</div>')
        if removal == "censored" and pick(post.post_id, CENSOR_WAYS) == "notice":
            return _embed(f'<div class="tgme_widget_message_error">{MESSAGE_TOS}</div>')
        return _embed(not_found)


def visible_ids(sim: SimPlatform, posts: Sequence[ScenarioPost], now: float) -> list[str]:
    """The adapter's ids of the scenario posts visible at ``now`` (for tests)."""
    return [
        post_id_of(p) for p in posts if p.published_at <= now and sim.removal_at(p, now) is None
    ]
