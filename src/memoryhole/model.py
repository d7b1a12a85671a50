"""The data model shared by every stage: one status taxonomy, requests, captures, observations.

Pipeline (after OONI): a raw ``Capture`` (immutable bytes) is parsed by an adapter into an
``Observation`` (what one check saw); the verdict state machine folds observations into a
``Verdict`` per post; analysis reads verdicts. Nothing downstream rewrites what is upstream.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """The one status taxonomy. Values are the strings used in the store and exports."""

    LIVE = "live"
    EDITED = "edited"
    CENSORED = "censored"  # removed by the platform or a censor
    AUTHOR_DELETED = "author_deleted"
    ACCOUNT_SUSPENDED = "account_suspended"
    REMOVED_UNKNOWN = "unknown"  # gone, with a definitive answer that does not say why
    #: Served to others but not to this vantage point, by country (YouTube's "not available in
    #: your country", Telegram's "can't be displayed … local laws", HTTP 451): never a removal.
    #: The observation's code is the platform's stated reason, its detail the region when
    #: stated (``withheld_detail``).
    WITHHELD = "withheld"
    UNREACHABLE = "unreachable"  # transient: timeout, 429, 5xx, captcha, malformed body

    @property
    def is_removal(self) -> bool:
        return self in _REMOVALS

    @property
    def is_visible(self) -> bool:
        return self in _VISIBLE

    @property
    def is_unavailable(self) -> bool:
        """True when the platform definitively did not show the post here: a removal, or the
        post withheld from this vantage point. Such an answer is confirmed like a removal
        (``Observation.confirm_first``) and never read through a redirect."""
        return self in _UNAVAILABLE

    @property
    def is_definitive(self) -> bool:
        """True when this is a platform's definitive answer, which a verdict may rest on."""
        return self in _DEFINITIVE


class FilterAnswer(StrEnum):
    """What one probe of a platform's keyword filter said (``memoryhole isolate``)."""

    FILTERED = "filtered"  # hard: no results, or the platform's filter notice
    FILTERED_SOFT = "filtered_soft"  # results only from authorised sources, unlike a control
    NOT_FILTERED = "not_filtered"
    TRANSIENT = "transient"  # timeout, 429, captcha, 5xx: never an answer

    @property
    def filtered(self) -> bool:
        return self in (FilterAnswer.FILTERED, FilterAnswer.FILTERED_SOFT)


# Module-level sets: these properties run several times per check, and looking members up
# on the enum class (``Status.LIVE``) costs more than the test itself.
_REMOVALS = frozenset(
    {Status.CENSORED, Status.AUTHOR_DELETED, Status.ACCOUNT_SUSPENDED, Status.REMOVED_UNKNOWN}
)
_VISIBLE = frozenset({Status.LIVE, Status.EDITED})
_UNAVAILABLE = _REMOVALS | {Status.WITHHELD}
_DEFINITIVE = frozenset(set(Status) - {Status.UNREACHABLE})

#: The values of the ``verdict`` field of ``export verdicts`` (a public contract).
VERDICT_VALUES = (
    "live",
    "censored",
    "author_deleted",
    "account_suspended",
    "unknown",
    "withheld",
)


def withheld_detail(stated: str, region: str | None = None) -> str:
    """The detail of a ``withheld`` observation: where (when the platform or the vantage point
    says) and the platform's own words. ``"withheld in RU: This channel can't be displayed …"``;
    ``"withheld where this request came from (region not stated): …"``."""
    where = f"in {region}" if region else "where this request came from (region not stated)"
    return f"withheld {where}: {stated}" if stated else f"withheld {where}"


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request an adapter wants sent. Adapters build these; they never send them."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    def full_url(self) -> str:
        """The URL with its query; a fragment (a client-side note, never sent) stays last."""
        if not self.params:
            return self.url
        url, hash_mark, fragment = self.url.partition("#")
        if all(k.isascii() and k.isalnum() and v.isascii() and v.isalnum() for k, v in self.params):
            query = "&".join(f"{k}={v}" for k, v in self.params)
        else:
            from urllib.parse import urlencode

            query = urlencode(self.params)
        return f"{url}?{query}{hash_mark}{fragment}"


@dataclass(frozen=True, slots=True)
class Capture:
    """What came back for one request: the raw evidence.

    ``status`` is None when no HTTP response arrived (``error`` says why). ``fetched_at`` is when
    the answer was complete and ``sent_at`` when the request left, both on the platform's clock
    (the collector's injected clock); ``received_at`` is the local wall clock. A post seen
    visible is dated ``sent_at`` and a removal ``fetched_at``, so the verdict interval always
    contains the true removal time whenever the server looked at the post.
    """

    request: Request
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: float
    received_at: float
    elapsed: float = 0.0
    error: str | None = None
    sent_at: float | None = None

    @property
    def alive_at(self) -> float:
        """The time a visible answer proves the post was visible (the earliest safe time)."""
        return self.fetched_at if self.sent_at is None else self.sent_at

    @property
    def body_sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """Something to watch: ``weibo:user/123`` or ``weibo:all``."""

    platform: str
    kind: str  # "user" | "all" (adapters may add kinds)
    key: str = ""

    @property
    def spec(self) -> str:
        return (
            f"{self.platform}:{self.kind}/{self.key}"
            if self.key
            else f"{self.platform}:{self.kind}"
        )


@dataclass(frozen=True, slots=True)
class PostRef:
    """Enough to check one post again."""

    platform: str
    post_id: str
    author_id: str


@dataclass(frozen=True, slots=True)
class SeenPost:
    """A post as a listing (feed or timeline) showed it.

    ``published_until`` is set when the listing gives the publication time only to the day,
    hour or minute (Weibo's ``06-14``, ``15小时前``): the post was published somewhere in
    ``[published_at, published_until]``. None: ``published_at`` is exact.
    """

    post_id: str
    author_id: str
    published_at: float
    text: str
    published_until: float | None = None
    #: The listing shows only the start of the text (Weibo's long posts): it is not hashed
    #: for edits; the first check that reads the whole text sets the post's text and hash.
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """What a listing says about a post it does not list: a repost's original shown as removed
    (Weibo's ``抱歉，此微博已被作者删除``). A dated observation about that post, with the
    attribution the notice's own words support. ``author_id`` is None when the notice does not
    name the author (a removed original usually has no ``user``)."""

    post_id: str
    status: Status
    code: str | None = None
    detail: str = ""
    author_id: str | None = None
    published_at: float | None = None


@dataclass(frozen=True, slots=True)
class Discovery:
    """What one listing request found. ``status`` is UNREACHABLE when the listing failed."""

    posts: tuple[SeenPost, ...]
    next_cursor: str | None
    status: Status = Status.LIVE
    detail: str = ""
    more: bool = False  # a full page: poll again at once to catch up
    #: Items of the listing that could not be read, each saying what and why
    #: (``"card 3: created_at '2019年6月' not understood"``). Never dropped silently.
    unreadable: tuple[str, ...] = ()
    #: What the listing says about posts it does not list (``Notice``).
    notices: tuple[Notice, ...] = ()
    #: The answer says something happened to every post of the target at once (an account
    #: suspended, a community banned): the collector checks each known post of it now.
    confirm_all: bool = False
    #: Authors whose accounts the answer says went inactive (Jetstream's account events: taken
    #: down, deactivated): each known visible post of theirs is checked now, and that check
    #: says what happened to it (an event names an account, never a post).
    accounts_gone: tuple[str, ...] = ()
    #: The page lists the newest posts first and covers everything from its oldest listed post
    #: up to now (Weibo's timelines); else it lists the posts after its cursor.
    newest_first: bool = False
    #: A newest-first page with no older page after it: it reaches the listing's oldest post.
    last_page: bool = False


@dataclass(frozen=True, slots=True)
class Observation:
    """What one check of one post saw, as classified by the adapter.

    ``content_hash`` is set when the post was visible (for edit detection); ``code`` is the
    platform's own error code when it gave one; ``detail`` is a short human explanation.
    """

    status: Status
    content_hash: str | None = None
    text: str | None = None
    code: str | None = None
    detail: str = ""
    #: The post's exact publication time when the answer gives it (a listing may have given
    #: only its day: ``SeenPost.published_until``).
    published_at: float | None = None
    #: A second request this check needs before it is complete (Weibo's long text): the
    #: collector sends it at once, on the platform's budget, logs its answer, and hands it to
    #: the adapter's ``complete_check``.
    follow_up: Request | None = None
    #: A removal this answer alone is too weak to state (a web page's 404, which a deploy or a
    #: CDN also gives for a moment): the collector records it as transient and checks again
    #: once ``collect.checks.CONFIRM_AFTER`` has passed; the removal is stated when that check
    #: gives it again.
    confirm_first: bool = False


def content_hash(text: str) -> str:
    """Hash of a post's visible text, normalised so that only real edits change it."""
    normalised = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class Verdict:
    """The current classification of one post, folded from its observations.

    ``status`` is never UNREACHABLE. ``history`` lists (time, status) transitions, so that a post
    that comes back after a removal keeps the record of the removal.
    """

    status: Status
    first_seen_at: float
    last_seen_alive_at: float | None
    first_seen_removed_at: float | None = None
    signal: str = ""
    edited: bool = False
    content_hash: str | None = None
    history: list[tuple[float, str]] = field(default_factory=list)

    @property
    def export_value(self) -> str:
        """The ``verdict`` value of the export contract (an edited post is live)."""
        return Status.LIVE.value if self.status is Status.EDITED else self.status.value
