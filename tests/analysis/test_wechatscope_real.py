"""Real data: a sample of the WeChatscope deletion log, imported and analysed, against an
independent reading of the same file (the csv module, a message table written here, and
lifelines' interval-censored NPMLE)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from memoryhole.analysis.study_data import load_study_data
from memoryhole.analysis.survival import intervals, turnbull
from memoryhole.analysis.tables import survival_table
from memoryhole.imports import run_import
from memoryhole.study import Study

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "wechatscope_sample.csv"
DAY = 86_400.0
ZONE = timezone(timedelta(hours=8))  # the log's times; the importer's default offset

KINDS = {  # censored_msg -> (reason code, removal kind), from the log's own wording
    "此内容因违规无法查看": ("rule_violation", "censored"),
    "Unable to view this content because it violates regulations": ("rule_violation", "censored"),
    "该内容已被发布者删除": ("publisher_deleted", "author_deleted"),
    "The content has been deleted by the author.": ("publisher_deleted", "author_deleted"),
    "此帐号已被屏蔽,": ("account_blocked", "account_suspended"),
    "此内容被投诉且经审核涉嫌侵权，无法查看。": ("copyright_complaint", "unknown"),
    "此内容被多人投诉，相关的内容无法进行查看。": ("user_complaints", "unknown"),
    "该公众号已迁移": ("account_migrated", "unknown"),
}


def raw_rows() -> list[dict[str, str]]:
    with open(SAMPLE, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def epoch(value: str, fmt: str) -> float:
    return datetime.strptime(value, fmt).replace(tzinfo=ZONE).timestamp()


def per_article(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """Each article's first removal (the first row listed among rows of the same time)."""
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        held = out.get(row["archive"])
        if held is None or row["censored_date"] < held["censored_date"]:
            out[row["archive"]] = row
    return out


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    opened = Study.init(tmp_path_factory.mktemp("wechatscope") / "study")
    run_import(opened, "wechatscope", SAMPLE)
    return opened


def test_sample_covers_every_message_and_the_repeated_articles() -> None:
    rows = raw_rows()
    assert {r["censored_msg"] for r in rows} == set(KINDS)
    assert len(rows) > len(per_article(rows))  # some articles have two rows


def test_reason_split_matches_the_raw_file(study: Study) -> None:
    rows = raw_rows()
    statements = {(r["archive"], r["censored_date"], r["censored_msg"]) for r in rows}
    expected_leaves = Counter(KINDS[message][0] for _, _, message in statements)
    expected_verdicts = Counter(KINDS[r["censored_msg"]][1] for r in per_article(rows).values())
    with study.engine.connect() as conn:
        leaves = dict(
            conn.execute(
                text(
                    "SELECT code, count(*) FROM observations WHERE kind = 'import' "
                    "AND post_pk IS NOT NULL GROUP BY code"
                )
            ).all()
        )
        verdicts = dict(
            conn.execute(text("SELECT status, count(*) FROM verdicts GROUP BY 1")).all()
        )
    assert leaves == dict(expected_leaves)
    assert verdicts == dict(expected_verdicts)
    assert len(statements) < len(rows)  # the sample holds a repeated statement, skipped


def self_consistency(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turnbull's (1976) self-consistency algorithm, plainly: every cell between consecutive
    endpoints, a dense membership matrix, 20,000 EM steps. Returns (cell right ends, CDF)."""
    ends = np.unique(np.concatenate((lower, upper)))
    member = (ends[:-1][None, :] >= lower[:, None]) & (ends[1:][None, :] <= upper[:, None])
    alpha = member.astype(np.float64)
    mass = np.full(alpha.shape[1], 1.0 / alpha.shape[1])
    for _ in range(20_000):
        mass = mass * (alpha.T @ (1.0 / (alpha @ mass))) / lower.size
    return ends[1:], np.cumsum(mass)


def test_time_to_removal_matches_an_independent_npmle(study: Study) -> None:
    from lifelines import KaplanMeierFitter

    articles = list(per_article(raw_rows()).values())
    since_day = np.array(
        [
            epoch(r["censored_date"], "%Y-%m-%d %H:%M:%S") - epoch(r["created_at"], "%Y-%m-%d")
            for r in articles
        ]
    )
    # Published some time that day, removed when the log says: T in [R - 1 day, R].
    lower, upper = np.maximum(since_day - DAY, 0.0), since_day

    data = load_study_data(study)
    assert set(data.posts["published_within"]) == {DAY}
    frame = data.posts.assign(kind=data.posts["verdict"])
    lo, hi = intervals(frame, kind=None)
    np.testing.assert_allclose(np.sort(hi), np.sort(upper))
    np.testing.assert_allclose(np.sort(lo), np.sort(lower))

    curves, summary = survival_table(data, kind=None, bootstrap=50)
    fit = turnbull(lo, hi)
    assert fit.converged
    drops = fit.p[np.isfinite(fit.p) & (fit.mass > 1e-6)]
    ours = np.interp(drops, curves["time"], curves["survival"])  # at the curve's own drops
    cells, cdf = self_consistency(lower, upper)
    reference = 1.0 - cdf[np.searchsorted(cells, drops)]
    np.testing.assert_allclose(ours, reference, atol=2e-3)
    median = float(summary["median"].iloc[0])
    crossed = float(cells[np.argmax(cdf >= 0.5)])  # the reference's median cell's right end
    holder = int(np.searchsorted(fit.p, median, side="left"))
    assert fit.q[holder] < crossed <= fit.p[holder]  # in the same innermost interval
    assert summary["median_ci_low"].iloc[0] <= median <= summary["median_ci_high"].iloc[0]

    # lifelines' NPMLE (a looser EM) is no more likely than ours.
    survival = KaplanMeierFitter().fit_interval_censoring(lower, upper).survival_function_
    index, after = survival.index.to_numpy(), survival["NPMLE_estimate_lower"].to_numpy()

    def theirs(t: np.ndarray) -> np.ndarray:  # right-continuous S(t); the times are seconds
        return np.asarray(after[np.searchsorted(index, t + 0.5, side="right") - 1])

    their_loglik = float(np.sum(np.log(np.maximum(theirs(lower) - theirs(upper), 1e-300))))
    assert fit.loglik >= their_loglik - 1e-9 * abs(their_loglik)

    # Publication taken at the start of the day overstates T, at its end understates it:
    # the estimate lies between the two readings.
    assert np.median(lower) < median < np.median(upper)
