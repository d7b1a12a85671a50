"""WeChatscope deletion log imports: every message kind, dated removals, day-wide publication."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from memoryhole.evidence.verify import verify_study
from memoryhole.imports.records import ImportFileError
from memoryhole.imports.wechatscope import classify_message
from memoryhole.model import Status
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import posts, verdicts
from memoryhole.study import Study
from tests.imports.conftest import data, run, verdicts_by_post

CHINA = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("message", "status", "code"),
    [
        ("此内容因违规无法查看", Status.CENSORED, "rule_violation"),
        ("Unable to view this content because it violates regulations", Status.CENSORED,
         "rule_violation"),
        ("该内容已被发布者删除", Status.AUTHOR_DELETED, "publisher_deleted"),
        ("The content has been deleted by the author.", Status.AUTHOR_DELETED, "publisher_deleted"),
        ("此帐号已被屏蔽,", Status.ACCOUNT_SUSPENDED, "account_blocked"),
        ("此账号已被屏蔽", Status.ACCOUNT_SUSPENDED, "account_blocked"),
        ("此内容被投诉且经审核涉嫌侵权，无法查看。", Status.REMOVED_UNKNOWN, "copyright_complaint"),
        ("此内容被多人投诉，相关的内容无法进行查看。", Status.REMOVED_UNKNOWN, "user_complaints"),
        ("该公众号已迁移", Status.REMOVED_UNKNOWN, "account_migrated"),
        ("something new", Status.REMOVED_UNKNOWN, "other"),
    ],
)  # fmt: skip
def test_every_message_maps_to_a_status_and_keeps_its_own_reason(
    message: str, status: Status, code: str
) -> None:
    assert classify_message(message)[:2] == (status, code)


def test_the_log_imports_with_dated_removals(study: Study) -> None:
    summary = run(study, "wechatscope", data("import_wechatscope.csv"))
    assert (summary.counts.rows, summary.counts.new_posts, summary.counts.stale) == (15, 13, 1)
    assert summary.statuses == {
        "censored": 3, "author_deleted": 5, "account_suspended": 2, "unknown": 3,
    }  # fmt: skip
    rows = verdicts_by_post(study)
    first = rows["2018-07-06_2655098976_sXTKe6CDnd"]
    day = datetime(2018, 7, 6, tzinfo=CHINA).timestamp()
    assert first["published_at"] == first["first_seen_at"] == first["last_seen_alive_at"] == day
    assert (
        first["first_seen_removed_at"] == datetime(2018, 7, 7, 15, 7, 27, tzinfo=CHINA).timestamp()
    )
    assert first["verdict"] == "censored" and "此内容因违规无法查看" in first["signal"]
    copyright = rows["2018-07-10_2654777562_ScY78blC0W"]
    assert copyright["verdict"] == "unknown" and "侵权" in copyright["signal"]
    assert "copyright" in copyright["signal"]
    assert rows["2018-07-11_2651571650_pW4Stf2IPy"]["verdict"] == "unknown"  # 已迁移
    assert verify_study(study).failures == []


def test_a_second_message_for_the_same_article_joins_its_history(study: Study) -> None:
    run(study, "wechatscope", data("import_wechatscope.csv"))
    row = verdicts_by_post(study)["2020-05-30_2650889559_wx4Rhr3U6N"]
    assert row["verdict"] == "author_deleted"  # the first removal kind sticks
    with study.engine.connect() as conn:
        history = conn.execute(
            select(verdicts.c.history)
            .join(posts, posts.c.id == verdicts.c.post_pk)
            .where(posts.c.post_id == "2020-05-30_2650889559_wx4Rhr3U6N")
        ).scalar_one()
    assert [status for _, status in json.loads(history)] == ["live", "author_deleted", "unknown"]


def test_accounts_are_pseudonymised_and_left_out_of_post_ids(study: Study) -> None:
    run(study, "wechatscope", data("import_wechatscope.csv"))
    exported = json.dumps(list(iter_verdicts(study.engine)), ensure_ascii=False)
    for account in ("gh_ca61f31ea9cc", "wxid_3718957189212", "gh_3ab331bb9b66"):
        assert account not in exported
    raw = {r["author_id"] for r in iter_verdicts(study.engine, raw_author_ids=True)}
    assert "gh_ca61f31ea9cc" in raw and study.pseudonym("wechat", "gh_ca61f31ea9cc") in exported
    assert "獨家" not in exported  # the display name stays in the raw row only


def test_malformed_archive_and_dates_name_their_columns(study: Study, tmp_path: Path) -> None:
    header = '"title","nickname","created_at","archive","censored_date","censored_msg"\n'
    path = tmp_path / "bad.csv"
    path.write_text(
        header
        + '"t","n","2018-07-06","not-an-archive.zip","2018-07-07 15:07:27","此内容因违规无法查看"\n'
        + '"t","n","2018-07-06","gh_a_2018-07-06_1_x.y.tar.gz","2018-07-05 00:00:00","x"\n'
        + '"t","n","2018-07-06","gh_a_2018-07-06_2_x.y.tar.gz","2018-07-07 01:00:00",""\n',
        encoding="utf-8",
    )
    with pytest.raises(
        ImportFileError, match=r"bad.csv:2: column 4 \(archive\): expected ACCOUNT_"
    ):
        run(study, "wechatscope", path)
    summary = run(study, "wechatscope", path, skip_bad=True, rejected_path=tmp_path / "r.csv")
    assert summary.counts.rejected == 3
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as handle:
        problems = {r["column"]: r["problem"] for r in csv.DictReader(handle)}
    assert problems["column 5 (censored_date)"].startswith("expected a time not before created")
    assert (
        problems["column 6 (censored_msg)"] == "expected the message WeChat showed, found nothing"
    )
