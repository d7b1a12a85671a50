"""A scenario replaying the WeChatscope deletion log (tests/data/import_wechatscope.csv)."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from memoryhole.errors import ScenarioError
from memoryhole.scenario import effective_removal, load_scenario, suspension_times
from memoryhole.sim.generate import summarize
from memoryhole.sim.wechatscope import from_wechatscope

LOG = Path(__file__).parents[1] / "data" / "import_wechatscope.csv"
CHINA = timezone(timedelta(hours=8))
KIND = {
    "此内容因违规无法查看": "censored",
    "Unable to view this content because it violates regulations": "censored",
    "该内容已被发布者删除": "author_deleted",
    "The content has been deleted by the author.": "author_deleted",
    "此帐号已被屏蔽,": "account_suspended",
}


def _log_rows(first: str, days: int) -> list[dict[str, str]]:
    """The fixture's rows of the window, read independently of the importer."""
    start = datetime.fromisoformat(first).date()
    with open(LOG, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        row
        for row in rows
        if start <= datetime.fromisoformat(row["created_at"]).date() < start + timedelta(days)
    ]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA).timestamp()


def test_every_usable_removal_of_the_window_is_a_post_removed_as_the_log_says() -> None:
    rows = _log_rows("2018-07-06", 7)
    usable = [row for row in rows if row["censored_msg"] in KIND]
    scenario = from_wechatscope(LOG, start=datetime(2018, 7, 6), days=7, removed_share=0.05)
    removed = sorted(
        (post.removed_at, post.removal) for post in scenario.posts if post.removal is not None
    )
    assert removed == sorted((_epoch(r["censored_date"]), KIND[r["censored_msg"]]) for r in usable)
    assert scenario.used == len(usable) == 6
    # The copyright complaint of 2018-07-10 and the migrated account are not removals of a kind
    # the simulator has; everything else of the fixture lies outside the window.
    assert scenario.left_out == {
        "outside the window": 15 - len(rows),
        "removed_unknown (account_migrated)": 1,
        "removed_unknown (copyright_complaint)": 1,
    }
    for post in scenario.posts:
        if post.removal is not None:
            assert post.removed_at is not None and post.published_at < post.removed_at
    # Each is published within its created_at day.
    days = sorted(_epoch(r["created_at"]) for r in usable)
    published = sorted(p.published_at for p in scenario.posts if p.removal is not None)
    assert all(day <= at < day + 86400 for day, at in zip(days, published, strict=True))


def test_live_posts_make_the_removed_share_and_nobody_posts_after_a_block() -> None:
    scenario = from_wechatscope(LOG, start=datetime(2018, 7, 6), days=7, removed_share=0.02)
    posts = scenario.posts
    live = [post for post in posts if post.removal is None]
    assert len(live) == round(6 * 0.98 / 0.02)  # 294
    start = _epoch("2018-07-06 00:00:00")
    assert all(start <= post.published_at < start + 7 * 86400 for post in posts)
    blocked = suspension_times(posts)
    assert len(blocked) == 1  # the two rows of 2018-07-09 are one account's
    for post in posts:
        at = blocked.get(post.author_id)
        assert at is None or post.published_at < at
    # The blocked account's live posts go with it: more removals than the log's six.
    summary = summarize(posts)
    assert summary["removed"] == sum(1 for p in posts if effective_removal(p, blocked))
    assert summary["account_suspended"] >= 2
    # 1 post a day per account: 294 live posts over 7 days take 42 accounts, the log's 5 among
    # them (each posts ~7 times: every one is seen).
    assert summary["authors"] == 42
    assert len({post.post_id for post in posts}) == len(posts)
    assert [p.published_at for p in posts] == sorted(p.published_at for p in posts)


def test_same_seed_same_scenario_other_seed_other(tmp_path: Path) -> None:
    def text(seed: int) -> list[str]:
        scenario = from_wechatscope(LOG, start=datetime(2018, 7, 6), removed_share=0.1, seed=seed)
        return [repr(post) for post in scenario.posts]

    assert text(3) == text(3)
    assert text(3) != text(4)


def test_default_window_starts_at_the_logs_first_day() -> None:
    scenario = from_wechatscope(LOG, removed_share=0.5)
    assert scenario.start == _epoch("2018-07-06 00:00:00")


def test_a_window_without_removals_says_what_to_do() -> None:
    with pytest.raises(ScenarioError, match="pick a --start the log covers"):
        from_wechatscope(LOG, start=datetime(2019, 1, 1), days=3)


def test_cli_writes_a_scenario_the_simulator_loads(tmp_path: Path) -> None:
    out = tmp_path / "wechatscope.jsonl"
    command = [sys.executable, "-m", "memoryhole", "sim", "from-wechatscope", str(LOG)]
    done = subprocess.run(
        [*command, "--out", str(out), "--start", "2018-07-06", "--removed-share", "0.05"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "removals used: 6" in done.stdout
    posts = load_scenario(out)
    assert len(posts) == 6 + round(6 * 0.95 / 0.05)
    bad = subprocess.run(
        [*command, "--out", str(out), "--start", "July"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "give a day" in bad.stderr


def test_a_window_of_blocked_accounts_only_still_gets_its_live_posts(tmp_path: Path) -> None:
    # One account, blocked: its live posts must come before the block, the rest need another.
    log = tmp_path / "blocked.csv"
    with open(LOG, encoding="utf-8") as handle:
        header, *rows = handle.read().splitlines()
    log.write_text("\n".join([header, *(r for r in rows if "此帐号已被屏蔽" in r)]) + "\n")
    scenario = from_wechatscope(log, removed_share=0.25)
    assert len(scenario.posts) == 2 + 6
    blocked = suspension_times(scenario.posts)
    assert len(blocked) == 1 and len({post.author_id for post in scenario.posts}) == 2
    for post in scenario.posts:
        at = blocked.get(post.author_id)
        assert at is None or post.published_at < at
