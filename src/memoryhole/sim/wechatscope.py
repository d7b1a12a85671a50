"""A scenario replaying the WeChatscope deletion log: real removals, their times, reasons, accounts.

``memoryhole sim from-wechatscope ceninfo.csv --out FILE`` turns the log (HKU WeChatscope; read
by the importer's own parser, so rows and reasons mean what ``import wechatscope`` says) into a
scenario for ``sim serve``, ``sim replay`` and ``bench detect``:

- every article of the window (``created_at`` in ``[start, start + days)``) the log shows
  *censored*, *deleted by its publisher* or *blocked with its account* is a post of its account,
  removed at ``censored_date`` with that kind (``censored``, ``author_deleted``,
  ``account_suspended``). Removals the taxonomy calls ``unknown`` (copyright or users'
  complaints, migrated accounts) are left out and counted: the simulator has no such kind;
- the log names only the day of publication, so each article is published at a moment drawn
  uniformly within its day and before its removal (and before its account's block);
- the log lists removed articles only. Live articles are added so that the removed ones are
  ``removed_share`` of all (WeChatscope found ~1.1% of the articles it followed removed in
  2018), published uniformly over the window by accounts posting ``posts_per_author_day`` a
  day on average: the log's accounts and as many others as that takes. A live article of an
  account that gets blocked goes with it (and none is published after the block);
- the log has titles but no bodies of live articles: every post's text is a line of the
  shipped ordinary traffic (product and hotel reviews), so text tells removed from live
  posts apart no more than chance; only timing, accounts and reasons come from the log.

Ids are Weibo-shaped (16-digit post ids growing with time, 10-digit account ids), drawn with
``seed``: the same file, window and seed give the same scenario byte for byte.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from memoryhole.errors import ScenarioError
from memoryhole.imports.records import BadRow
from memoryhole.imports.source import CHINA, inspect
from memoryhole.imports.wechatscope import WechatscopeParser
from memoryhole.model import Status
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.generate import FIRST_POST_ID
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy

DAY = 86_400.0
#: WeChatscope (HKU JMSC), 2018: ~1.1% of the >1M articles it followed were removed.
REMOVED_SHARE = 0.011
KINDS = {
    Status.CENSORED: "censored",
    Status.AUTHOR_DELETED: "author_deleted",
    Status.ACCOUNT_SUSPENDED: "account_suspended",
}


@dataclass(frozen=True, slots=True)
class _Removed:
    account: str
    day: float  # start of the created_at day
    removed_at: float
    kind: str | None  # None: a removal the simulator has no kind for
    code: str


@dataclass(frozen=True)
class LogScenario:
    posts: list[ScenarioPost]
    start: float
    days: int
    rows: int  # rows of the log read
    used: int  # removed articles of the window in the scenario
    left_out: dict[str, int]  # why rows of the window were not used → how many


def _rows(path: Path, zone: tzinfo) -> tuple[list[_Removed], int, int]:
    """The log's removals, the rows read and the malformed ones among them."""
    removed: list[_Removed] = []
    rows = malformed = 0
    for record in WechatscopeParser(zone).records(inspect(path)):
        rows += 1
        if isinstance(record, BadRow):
            malformed += 1
            continue
        for facts in record.posts:
            account = facts.new.author_id if facts.new is not None else ""
            for event in facts.events:
                kind = KINDS.get(event.status)
                removed.append(
                    _Removed(account, event.sent_at, event.observed_at, kind, event.code or "other")
                )
    return removed, rows, malformed


def from_wechatscope(
    path: Path,
    *,
    start: datetime | None = None,
    days: int = 7,
    removed_share: float = REMOVED_SHARE,
    posts_per_author_day: float = 1.0,
    seed: int = 0,
    zone: tzinfo = CHINA,
) -> LogScenario:
    """The scenario of the log's window ``[start, start + days)`` (``start``: a day; default the
    log's first). Raises ``ScenarioError`` for a window with no usable removal."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if not 0.0 < removed_share <= 1.0:
        raise ValueError(f"removed_share must be in (0, 1], not {removed_share}")
    if not posts_per_author_day > 0.0:
        raise ValueError(f"posts_per_author_day must be positive, not {posts_per_author_day}")
    every, rows, malformed = _rows(path, zone)
    left_out: Counter[str] = Counter({"malformed": malformed})
    if start is None:
        if not every:
            raise ScenarioError(str(path), None, "the log has no removal the scenario can use")
        window_start = min(item.day for item in every)
    else:
        day = start.replace(tzinfo=start.tzinfo or zone)
        window_start = day.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    window_end = (datetime.fromtimestamp(window_start, zone) + timedelta(days=days)).timestamp()
    inside = [item for item in every if window_start <= item.day < window_end]
    left_out["outside the window"] = len(every) - len(inside)
    for item in inside:
        if item.kind is None:
            left_out[f"removed_unknown ({item.code})"] += 1
    inside = [item for item in inside if item.kind is not None]
    rng = random.Random(seed)

    blocked: dict[str, float] = {}
    for item in inside:
        if item.kind == "account_suspended":
            blocked[item.account] = min(blocked.get(item.account, math.inf), item.removed_at)
    drafts: list[tuple[float, str, float | None, str | None]] = []
    for item in sorted(inside, key=lambda r: (r.day, r.removed_at, r.account, r.kind)):
        latest = min(item.day + DAY, item.removed_at, blocked.get(item.account, math.inf))
        if latest <= item.day:  # published the day its account was already blocked
            left_out["after its account's block"] += 1
            continue
        published = item.day + rng.random() * (latest - item.day)
        drafts.append((published, item.account, item.removed_at, item.kind))
    if not drafts:
        raise ScenarioError(
            str(path),
            None,
            f"no removal the scenario can use from {_day(window_start, zone)} for {days} days; "
            "pick a --start the log covers (its created_at days) or a longer --days",
        )

    live = round(len(drafts) * (1.0 - removed_share) / removed_share)
    accounts = sorted({account for _, account, _, _ in drafts})
    wanted = math.ceil(live / (posts_per_author_day * (window_end - window_start) / DAY))
    others = max(0, wanted - len(accounts))
    if not others and all(account in blocked for account in accounts):
        others = 1  # someone must be able to post at any moment of the window
    pool = accounts + [f"+{n}" for n in range(others)]
    for _ in range(live):
        while True:
            published = window_start + rng.random() * (window_end - window_start)
            account = pool[rng.randrange(len(pool))]
            if published < blocked.get(account, math.inf):
                break
        drafts.append((published, account, None, None))

    ids = rng.sample(range(1_000_000_000, 10_000_000_000), len(pool))
    author_ids = dict(zip(pool, (str(n) for n in ids), strict=True))
    texts = load_policy(DEFAULT_POLICY_PATH).texts
    posts: list[ScenarioPost] = []
    post_id = FIRST_POST_ID
    for published, account, removed_at, kind in sorted(drafts, key=lambda d: d[0]):
        post_id += rng.randint(1, 10_000)
        posts.append(
            ScenarioPost(
                post_id=str(post_id),
                author_id=author_ids[account],
                # Down to the format's millisecond: still before the removal.
                published_at=math.floor(published * 1000) / 1000,
                text=texts[rng.randrange(len(texts))],
                removed_at=removed_at,
                removal=kind,
            )
        )
    return LogScenario(
        posts=posts,
        start=window_start,
        days=days,
        rows=rows,
        used=sum(1 for post in posts if post.removal is not None),
        left_out={reason: count for reason, count in sorted(left_out.items()) if count},
    )


def _day(epoch: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(epoch, zone).date().isoformat()
