"""Telegram public channels, through the web preview ``t.me`` serves without an account.

Modelled shapes (docs/adapters.md has the table; each is held against the real captured answers
in tests/data/real, ``tests/platforms/test_real_telegram.py``; the restriction texts and their
sources are in the corpus's REASONS.md):

- A channel's preview ``GET /s/{name}``: an HTML page whose message list holds one
  ``div.tgme_widget_message`` per message, ``data-post="{name}/{id}"``, its text in
  ``div.tgme_widget_message_text``, its time in ``a.tgme_widget_message_date > time[datetime]``
  (exact, with a zone), oldest first; ``<link rel="prev" href="/s/{name}?before={id}">`` (and
  ``a.tme_messages_more[data-before]``) names the page of older messages. Message ids grow by
  one per message of the channel.
- One message: ``GET /{name}/{id}?embed=1`` (the embed widget): the same message markup, or
  ``<div class="tgme_widget_message_error">Post not found</div>`` (HTTP 200) once it is gone.
- A channel whose preview is withdrawn (content protection, a channel Telegram marked
  sensitive, a block where the request came from, or no such channel): ``/s/{name}`` answers
  ``302`` to the landing page ``/{name}`` with an empty body.
- ``div.tme_no_messages_found``: "No posts found", also served when Telegram rate-limits the
  reader; or a restriction notice in its place.

Ids: a message is ``{name}/{id}`` as its ``data-post`` spells the name; its author is the
channel (``{name}``).

Attribution. "Post not found" does not say who deleted the message (its channel's admins, or
Telegram), and a withdrawn preview cannot be told from a deleted message in an embed; so "Post
not found" is never stated at once: the post's next check reads the channel's page that ends
at the message (``/s/{name}?before={id+1}``). That page listing the messages before it but not
it is ``unknown`` (code ``post_not_found``); listing it is ``live``; a redirect, "No posts
found" or an empty page leave it unsaid. A restriction notice is read by its words (Telegram's
own, REASONS.md): "local laws", "in your country", "on your device" or an app store's rules
are ``withheld`` (code ``local_laws``, ``country``, ``device``, ``app_store``); "Terms of
Service", "pornographic" and "copyright" are ``censored`` for a message and
``account_suspended`` for a whole channel (codes ``tos``, ``porn``, ``copyright``). A notice in
other words (another language) is named in the detail and never guessed at: ``unreachable``.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from typing import TypeVar
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
    answer_problem,
    join_detail,
    media_detail,
    note_of,
    parse_iso8601,
    url_path,
    with_note,
)
from memoryhole.platforms.base import listing, transient
from memoryhole.platforms.weibo import is_local

#: A public username: 5 to 32 letters, digits and underscores, starting with a letter.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_POST = re.compile(r"^([A-Za-z][A-Za-z0-9_]{3,31})/([0-9]{1,19})$")
_BEFORE = re.compile(r"[?&]before=([0-9]+)")
_SPACES = re.compile(r"\s+")
_BACKGROUND = re.compile(r"background-image:\s*url\(['\"]?([^'\")]+)['\"]?\)")

#: The simulator's complete public stream (``telegram:all``): Telegram has no such listing.
SIM_ALL = "memoryhole_sim_all"
#: Messages a preview page shows (Telegram's pages hold about 20).
PAGE_SIZE = 20
#: A catch-up reads at most this many older pages in one go.
MAX_CATCH_UP_PAGES = 20
#: The follow-up after an embed's "Post not found" (a note in the page request's URL).
POST_NOT_FOUND = "post_not_found"

#: Elements whose text is a notice of Telegram's, never a channel's own words.
_NOTICE_CLASSES = ("tme_no_messages_found", "tgme_widget_message_error")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
#: Inside these, text is not the message's own (a reply's quote, a link's preview).
_NOT_OWN_TEXT = ("tgme_widget_message_reply", "tgme_widget_message_link_preview")


def _classes(attrs: dict[str, str]) -> set[str]:
    return set(attrs.get("class", "").split())


@dataclass
class Message:
    """One message block of a preview page or an embed."""

    post: str  # data-post: "{name}/{id}"
    service: bool = False
    text_parts: list[str] = field(default_factory=list)
    published: str | None = None
    media: list[tuple[str, str]] = field(default_factory=list)
    edited: bool = False
    forwarded_from: str = ""

    @property
    def channel(self) -> str:
        return self.post.partition("/")[0]

    @property
    def number(self) -> int | None:
        tail = self.post.partition("/")[2]
        return int(tail) if tail.isdigit() else None

    @property
    def text(self) -> str:
        return message_text("".join(self.text_parts))


def message_text(raw: str) -> str:
    """What a reader sees: line breaks kept, other runs of white space one space (the markup's
    own indentation is not the message's)."""
    lines = (_SPACES.sub(" ", line).strip() for line in raw.split("\n"))
    return "\n".join(line for line in lines if line)


class _PageParser(HTMLParser):
    """One linear pass over a ``t.me`` page: its messages, notices, paging links and whether it
    is a landing page. Scripts and styles are skipped by the parser's own rules."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.messages: list[Message] = []
        self.notices: list[str] = []
        self.prev_before: int | None = None
        self.more_before: int | None = None
        self.landing = False
        self.title = ""
        #: The message list (``section.tgme_channel_history``) was closed by its own end tag:
        #: the page was not cut short.
        self.history_closed = False
        self._history_depth = 0
        self._stack: list[tuple[str, set[str]]] = []
        self._message: Message | None = None
        self._message_depth = 0
        self._text_depth = 0  # depth of the open message-text div (0: none)
        self._date_depth = 0
        self._meta_depth = 0
        self._author_depth = 0  # a signature inside the meta: its words are a name
        self._forward_depth = 0
        self._notice: list[str] | None = None
        self._notice_depth = 0
        self._in_title = False

    # -- structure ---------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = _classes(values)
        if tag in _VOID:
            self._void(tag, values, classes)
            return
        self._stack.append((tag, classes))
        depth = len(self._stack)
        if tag == "title":
            self._in_title = True
        if "tgme_channel_history" in classes and not self._history_depth:
            self._history_depth = depth
        if "tgme_page_title" in classes or "tgme_page_extra" in classes:
            self.landing = True
        if classes & set(_NOTICE_CLASSES) and self._notice is None:
            self._notice, self._notice_depth = [], depth
        if "tme_messages_more" in classes and values.get("data-before", "").isdigit():
            self.more_before = int(values["data-before"])
        if "tgme_widget_message" in classes and values.get("data-post"):
            self._message = Message(values["data-post"], service="service_message" in classes)
            self._message_depth = depth
            self.messages.append(self._message)
            return
        message = self._message
        if message is None:
            return
        if (
            "tgme_widget_message_text" in classes
            and not self._text_depth
            and not any(set(_NOT_OWN_TEXT) & open_classes for _, open_classes in self._stack)
        ):
            self._text_depth = depth
        if "tgme_widget_message_date" in classes:
            self._date_depth = depth
        if tag == "time" and self._date_depth and values.get("datetime"):
            message.published = values["datetime"]
        if "tgme_widget_message_meta" in classes:
            self._meta_depth = depth
        if "tgme_widget_message_from_author" in classes:
            self._author_depth = depth
        if "tgme_widget_message_forwarded_from" in classes:
            self._forward_depth = depth
        if "tgme_widget_message_photo_wrap" in classes:
            found = _BACKGROUND.search(values.get("style", ""))
            if found:
                message.media.append(("image", found.group(1)))
        if tag == "video" and values.get("src"):
            message.media.append(("video", values["src"]))

    def _void(self, tag: str, values: dict[str, str], classes: set[str]) -> None:
        if tag == "br" and self._text_depth and self._message is not None:
            self._message.text_parts.append("\n")
        if tag == "link" and values.get("rel") == "prev":
            before = _BEFORE.search(values.get("href", ""))
            if before:
                self.prev_before = int(before.group(1))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if tag == "title":
            self._in_title = False
        while self._stack:
            open_tag, _ = self._stack.pop()
            depth = len(self._stack) + 1
            if depth == self._history_depth and open_tag == tag:
                self.history_closed = True
            self._closed(depth)
            if open_tag == tag:
                break

    def _closed(self, depth: int) -> None:
        if depth == self._text_depth:
            self._text_depth = 0
            if self._message is not None:
                self._message.text_parts.append("\n")
        if depth == self._date_depth:
            self._date_depth = 0
        if depth == self._meta_depth:
            self._meta_depth = 0
        if depth == self._author_depth:
            self._author_depth = 0
        if depth == self._forward_depth:
            self._forward_depth = 0
        if depth == self._notice_depth and self._notice is not None:
            self.notices.append(message_text(" ".join(self._notice)))
            self._notice, self._notice_depth = None, 0
        if depth == self._message_depth:
            self._message, self._message_depth = None, 0

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._notice is not None:
            self._notice.append(data)
        message = self._message
        if message is None:
            return
        if self._text_depth:
            message.text_parts.append(data.replace("\n", " "))
        elif (
            self._meta_depth and not (self._date_depth or self._author_depth) and ("edited" in data)
        ):
            message.edited = True
        elif self._forward_depth and data.strip():
            message.forwarded_from = (message.forwarded_from + " " + data.strip()).strip()

    def close(self) -> None:
        super().close()
        while self._stack:  # an unclosed page: close what is open, so nothing is lost
            self._stack.pop()
            self._closed(len(self._stack) + 1)


@dataclass(frozen=True)
class Page:
    messages: tuple[Message, ...]
    notices: tuple[str, ...]
    older: int | None  # the ``before`` of the page of older messages, None at the oldest
    landing: bool
    title: str
    complete: bool  # the message list ends with its own end tag: not cut short


def read_page(body: bytes) -> Page:
    parser = _PageParser()
    parser.feed(body.decode("utf-8", errors="replace"))
    parser.close()
    older = parser.prev_before if parser.prev_before is not None else parser.more_before
    return Page(
        tuple(parser.messages),
        tuple(parser.notices),
        older,
        parser.landing,
        message_text(parser.title),
        parser.history_closed,
    )


def restriction(text: str, *, channel: bool) -> tuple[Status, str] | None:
    """What a restriction notice says, by Telegram's own words (REASONS.md), or None for words
    it does not recognise (never guessed). ``channel``: the notice is about a whole channel (or
    group), so a platform's block of it is the account's suspension."""
    words = text.lower().replace("’", "'")
    if "local law" in words:
        return Status.WITHHELD, "local_laws"
    if "in your country" in words:
        return Status.WITHHELD, "country"
    if "app store" in words or "google play" in words or "review guidelines" in words:
        return Status.WITHHELD, "app_store"
    if "on your device" in words:
        return Status.WITHHELD, "device"
    removed = Status.ACCOUNT_SUSPENDED if channel else Status.CENSORED
    if "terms of service" in words:
        return removed, "tos"
    if "pornographic" in words:
        return removed, "porn"
    if "copyright" in words:
        return removed, "copyright"
    return None


def _no_posts(text: str) -> bool:
    return "no posts found" in text.lower()


def _restricted(text: str, *, channel: bool, what: str) -> Observation | None:
    read = restriction(text, channel=channel)
    if read is None:
        return None
    status, code = read
    if status is Status.WITHHELD:
        return Observation(status, code=code, detail=withheld_detail(text))
    return Observation(status, code=code, detail=f"{what}: {text}")


def _redirect_detail(capture: Capture) -> str:
    location = capture.header("Location") or "(no Location)"
    return (
        f"no public preview: {capture.status} to {location} (the channel's landing page): "
        "withdrawn by content protection, a sensitive-content restriction or a block where "
        "this request came from, or no such channel; never a removal by itself"
    )


class TelegramPlatform:
    name = "telegram"

    def __init__(self, base_url: str = "https://t.me") -> None:
        self.base_url = base_url.rstrip("/")
        #: Messages whose next check reads their channel's page (their embed said "Post not
        #: found"), and what that page confirmed (repeated while the embed still says so).
        #: In memory only: after a restart the embed is asked again, one request lost at most.
        self._ask_page: OrderedDict[str, None] = OrderedDict()
        self._confirmed: OrderedDict[str, Observation] = OrderedDict()
        #: When each message's embed first said "Post not found", and when each channel's
        #: page was last seen as usual (no notice): a channel blocked only after its message
        #: went is not why it went.
        self._missing_since: OrderedDict[str, float] = OrderedDict()
        self._channel_seen: OrderedDict[str, float] = OrderedDict()

    # -- targets and listings ---------------------------------------------------------------

    def parse_target(self, text: str) -> Target:
        kind, _, key = text.partition("/")
        if kind == "all" and not key:
            if not is_local(self.base_url):
                raise TargetError(
                    "telegram:all is the simulator's complete public stream; Telegram has no "
                    "such listing. Watch telegram:channel/<public channel name>"
                )
            return Target(self.name, "all")
        name = key.strip().removeprefix("@")
        if name.startswith(("https://t.me/", "t.me/")):
            name = name.split("t.me/", 1)[1].removeprefix("s/").split("/")[0]
        if kind == "channel" and _NAME.match(name):
            return Target(self.name, "channel", name)
        raise TargetError(
            f"telegram target {text!r} not understood; use telegram:channel/<name> (the public "
            "channel's username, as in t.me/<name>)"
        )

    def discover_request(self, target: Target, cursor: str | None) -> Request:
        if target.kind == "all":
            params = (("after", cursor),) if cursor else ()
            return Request("GET", f"{self.base_url}/s/{SIM_ALL}", params)
        url = f"{self.base_url}/s/{quote(target.key)}"
        before = _Cursor.parse(cursor).before
        params = (("before", str(before)),) if before is not None else ()
        if cursor:  # kept in the recorded URL (a fragment is never sent): parse_discover reads it
            url += f"#{_CURSOR_NOTE}{cursor}"
        return Request("GET", url, params)

    def parse_discover(self, target: Target, capture: Capture) -> Discovery:
        problem = answer_problem(capture)
        if problem is not None:
            return Discovery((), None, Status.UNREACHABLE, problem)
        if capture.status in (301, 302, 303, 307, 308):
            detail = _redirect_detail(capture) + "; every known message of it is checked now"
            return Discovery((), None, Status.UNREACHABLE, detail, confirm_all=True)
        if capture.status != 200:
            return Discovery((), None, Status.UNREACHABLE, f"HTTP {capture.status}")
        page = read_page(capture.body)
        if target.kind == "channel" and not page.notices and page.messages:
            _put(self._channel_seen, target.key.lower(), capture.alive_at)
        for notice in page.notices:
            if _no_posts(notice):
                return Discovery(
                    (),
                    None,
                    Status.UNREACHABLE,
                    f"'{notice}': Telegram also answers so when it rate-limits the reader; "
                    "never a removal",
                )
            read = _restricted(notice, channel=True, what="the channel is blocked")
            if read is not None:
                return Discovery(
                    (),
                    None,
                    read.status,
                    f"{read.detail} ({read.code}); every known message of it is checked now",
                    confirm_all=True,
                )
            return Discovery(
                (), None, Status.UNREACHABLE, f"a notice not understood (never guessed): {notice}"
            )
        if not page.messages and target.kind == "all" and page.complete and not page.landing:
            # The simulator's feed after its newest message (its whole, closed message list,
            # empty): nothing new yet, not a fault.
            return listing([], None, unreadable=[], more=False)
        if not page.messages:
            what = "a landing page" if page.landing else "a page"
            return Discovery(
                (), None, Status.UNREACHABLE, f"{what} without a message list ({page.title!r})"
            )
        posts: list[SeenPost] = []
        unreadable: list[str] = []
        numbers: list[int] = []
        read_up_to: int | None = None  # the last message read (or skipped as a service one)
        services = 0
        for index, message in enumerate(page.messages):
            if target.kind == "channel" and message.channel.lower() != target.key.lower():
                unreadable.append(f"message {index} ({message.post}): not of {target.key}")
                continue
            if message.number is not None:
                numbers.append(message.number)
            if message.service:
                services += 1
                read_up_to = message.number if message.number is not None else read_up_to
                continue
            seen = seen_message(index, message)
            if isinstance(seen, str):
                unreadable.append(seen)
            else:
                posts.append(seen)
                read_up_to = message.number if message.number is not None else read_up_to
        if target.kind == "all":
            # The last message read, in the page's order: not its highest number (the
            # simulator's feed mixes channels, whose numbers need not grow with its order), and
            # never past one that could not be read (a page cut short ends in one): the next
            # poll asks for it again.
            newest = read_up_to
            return listing(
                posts,
                str(newest) if newest is not None else None,
                unreadable=unreadable,
                more=len(page.messages) >= PAGE_SIZE,
            )
        cursor, more = _next(capture, numbers, page.older)
        found = listing(posts, cursor, unreadable=unreadable, more=more)
        if found.status is not Status.LIVE:
            return found
        detail = found.detail
        if services:
            detail += f"; {services} service message(s) skipped (not posts)"
        if more:
            detail += "; older pages are read now, back to the newest message of the last poll"
        return replace(found, detail=detail, newest_first=True, last_page=page.older is None)

    # -- checks -----------------------------------------------------------------------------

    def check_request(self, post: PostRef) -> Request:
        match = _POST.match(post.post_id)
        if match is None:  # not a message id: ask anyway, the answer will say so
            return Request("GET", f"{self.base_url}/{quote(post.post_id)}", (("embed", "1"),))
        name, number = match.group(1), int(match.group(2))
        if post.post_id in self._ask_page:
            url = with_note(f"{self.base_url}/s/{name}", POST_NOT_FOUND)
            return Request("GET", url, (("before", str(number + 1)),))
        return Request("GET", f"{self.base_url}/{name}/{number}", (("embed", "1"),))

    def parse_check(self, post: PostRef, capture: Capture) -> Observation:
        if url_path(capture.request.url).startswith("/s/"):
            return self._parse_page(post, capture)
        problem = answer_problem(capture)
        if problem is not None:
            return transient(problem)
        if capture.status in (301, 302, 303, 307, 308):
            return transient(_redirect_detail(capture))
        if capture.status != 200:
            return transient(f"HTTP {capture.status}")
        page = read_page(capture.body)
        for message in page.messages:
            if _same_post(message.post, post.post_id) and not message.service:
                self._confirmed.pop(post.post_id, None)
                self._missing_since.pop(post.post_id, None)
                return visible(message, "visible in its embed")
        for notice in page.notices:
            if notice.lower().startswith("post not found"):
                return self._not_found(post, capture)
            read = _restricted(notice, channel=False, what="the message is blocked")
            if read is not None:
                return read
            return transient(f"a notice not understood (never guessed): {notice}")
        return transient("the answer is not the requested message")

    def _not_found(self, post: PostRef, capture: Capture) -> Observation:
        known = self._confirmed.get(post.post_id)
        if known is not None:
            return replace(known, detail=f"{known.detail} (the channel's page read earlier)")
        if post.post_id not in self._missing_since:
            _put(self._missing_since, post.post_id, capture.fetched_at)
        _put(self._ask_page, post.post_id, None)
        return transient(
            "'Post not found' in its embed: deleted by the channel, removed by Telegram, or "
            "the preview withdrawn; the channel's page that ends at it is read next",
            code=POST_NOT_FOUND,
        )

    def _parse_page(self, post: PostRef, capture: Capture) -> Observation:
        """The channel's page ending at the message, read after its embed said "Post not
        found": whether the messages before it are there and it is not."""
        note = note_of(capture.request.url) or POST_NOT_FOUND
        problem = answer_problem(capture)
        if problem is not None:  # the page is asked again next time (it stays in _ask_page)
            return transient(problem, code=note)
        if capture.status in (301, 302, 303, 307, 308):
            return transient(
                _redirect_detail(capture)
                + ": a deleted message cannot be told from a withdrawn preview",
                code=note,
            )
        if capture.status != 200:
            return transient(f"HTTP {capture.status}", code=note)
        page = read_page(capture.body)
        for notice in page.notices:
            if _no_posts(notice):
                return transient(f"'{notice}' (also served when rate-limited)", code=note)
            read = _restricted(notice, channel=True, what="the channel is blocked")
            if read is not None:
                return self._settled(post, self._dated(post, read))
            return transient(f"a notice not understood (never guessed): {notice}", code=note)
        channel = post.post_id.partition("/")[0].lower()
        if page.complete:
            _put(self._channel_seen, channel, capture.alive_at)
        match = _POST.match(post.post_id)
        number = int(match.group(2)) if match else None
        listed = [
            m for m in page.messages if _same_channel(m.post, post.post_id) and m.number is not None
        ]
        for message in listed:
            if _same_post(message.post, post.post_id):
                self._ask_page.pop(post.post_id, None)  # its next check is its embed again
                self._confirmed.pop(post.post_id, None)
                return visible(message, "visible on its channel's page")
        if not page.complete:
            return transient("the channel's page is cut short (its message list does not end)")
        if number is not None and not page.messages:  # it was the channel's oldest message
            gone = Observation(
                Status.REMOVED_UNKNOWN,
                code=POST_NOT_FOUND,
                detail="'Post not found' in its embed, and its channel's page lists no message "
                "up to it (it was the oldest): deleted by the channel or removed by Telegram "
                "(the preview does not say which)",
            )
            return self._settled(post, gone)
        if number is None or not listed:
            return transient("the channel's page lists no message of the channel", code=note)
        if max(m.number or 0 for m in listed) > number:
            return transient("the channel's page is not the one that ends at it", code=note)
        gone = Observation(
            Status.REMOVED_UNKNOWN,
            code=POST_NOT_FOUND,
            detail=f"'Post not found' in its embed, and its channel's page lists the messages "
            f"before it ({len(listed)}, up to {max(m.number or 0 for m in listed)}) without it: "
            "deleted by the channel or removed by Telegram (the preview does not say which)",
        )
        return self._settled(post, gone)

    def _dated(self, post: PostRef, read: Observation) -> Observation:
        """A channel's block explains a message's "Post not found" only when the channel was
        not seen as usual after the message went missing."""
        missing = self._missing_since.get(post.post_id)
        seen = self._channel_seen.get(post.post_id.partition("/")[0].lower())
        if missing is None or seen is None or seen < missing:
            return read
        return Observation(
            Status.REMOVED_UNKNOWN,
            code=POST_NOT_FOUND,
            detail=f"'Post not found' in its embed since {missing:.0f}, while its channel's page "
            f"still answered as usual at {seen:.0f}: it went before the channel was blocked "
            f"(now: {read.detail}; {read.code})",
        )

    def _settled(self, post: PostRef, observation: Observation) -> Observation:
        self._ask_page.pop(post.post_id, None)
        _put(self._confirmed, post.post_id, observation)
        return observation


_MEMORY = 100_000
_V = TypeVar("_V")


def _put(table: OrderedDict[str, _V], key: str, value: _V) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > _MEMORY:
        table.popitem(last=False)


def seen_message(index: int, message: Message) -> SeenPost | str:
    """A listed message as a post, or why it could not be read."""
    if _POST.match(message.post) is None:
        return f"message {index}: data-post {message.post!r} is not a message id"
    if message.published is None:
        return f"message {index} ({message.post}): no time"
    published = parse_iso8601(message.published)
    if published is None:
        return f"message {index} ({message.post}): time {message.published!r} not understood"
    return SeenPost(message.post, message.channel, published, message.text)


def visible(message: Message, where: str) -> Observation:
    text = message.text
    return Observation(
        Status.LIVE,
        content_hash=content_hash(text),
        text=text,
        detail=join_detail(
            where,
            "edited" if message.edited else "",
            message.forwarded_from,  # "Forwarded from …", as the page says it
            media_detail(message.media),
        ),
        published_at=parse_iso8601(message.published) if message.published else None,
    )


def _same_post(listed: str, wanted: str) -> bool:
    return listed.lower() == wanted.lower()


def _same_channel(listed: str, wanted: str) -> bool:
    return listed.partition("/")[0].lower() == wanted.partition("/")[0].lower()


# -- paging ------------------------------------------------------------------------------------

_CURSOR_NOTE = "cursor="


def _cursor_of(request: Request) -> str | None:
    fragment = urlsplit(request.url).fragment
    return fragment[len(_CURSOR_NOTE) :] if fragment.startswith(_CURSOR_NOTE) else None


@dataclass(frozen=True)
class _Cursor:
    """A channel's cursor: ``top`` is the newest message id seen; a catch-up in progress also
    has ``stop`` (the newest id of the poll before, where it ends), the ``before`` of the next
    older page and how many pages it has read. Text: ``top`` or ``top:stop:before:depth``."""

    top: int | None
    stop: int | None = None
    before: int | None = None
    depth: int = 0

    @property
    def text(self) -> str | None:
        if self.before is None:
            return str(self.top) if self.top is not None else None
        return f"{self.top or ''}:{self.stop or ''}:{self.before}:{self.depth}"

    @classmethod
    def parse(cls, text: str | None) -> _Cursor:
        if not text:
            return cls(None)
        parts = text.split(":")
        if len(parts) == 4 and all(p.isdigit() or not p for p in parts) and parts[2]:
            return cls(_int(parts[0]), _int(parts[1]), int(parts[2]), int(parts[3] or 0))
        return cls(_int(text))


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _next(capture: Capture, numbers: list[int], older: int | None) -> tuple[str | None, bool]:
    """The cursor after this page: a channel is read newest first; when a poll finds only
    messages newer than the newest of the poll before, the older pages are read at once
    (``?before=``) until it reaches that message, so nothing is skipped between two polls."""
    asked = _Cursor.parse(_cursor_of(capture.request))
    if not _asked_before(capture.request):  # a first page
        tops = [n for n in (max(numbers, default=None), asked.top) if n is not None]
        top = max(tops) if tops else None
        if asked.top is None or not numbers or min(numbers) <= asked.top or older is None:
            return _Cursor(top).text, False
        return _Cursor(top, asked.top, older, 1).text, True
    reached = not numbers or min(numbers) <= (asked.stop or 0)
    if reached or older is None or asked.depth >= MAX_CATCH_UP_PAGES:
        return _Cursor(asked.top).text, False
    return _Cursor(asked.top, asked.stop, older, asked.depth + 1).text, True


def _asked_before(request: Request) -> bool:
    if any(key == "before" for key, _ in request.params):
        return True
    return "before" in parse_qs(urlsplit(request.url).query)
