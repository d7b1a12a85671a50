"""The methods text is the study's own: its scheduler and settings, budgets, targets and dates,
how removals are attributed on each platform (and which answers it got), gaps, estimators."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pytest

from memoryhole.analysis.methods import (
    AGE_CONFIRMATIONS,
    ATTRIBUTION,
    BUDGET_SCHEDULER,
    methods_text,
    study_methods,
)
from memoryhole.config import update_config
from memoryhole.model import Target
from memoryhole.sim.replay import replay
from memoryhole.store.coverage import CoverageGap
from memoryhole.store.queries import add_targets
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0
WATCHED_AUTHOR = "1000001"


def _study(path: Path, **collector: object) -> Study:
    study = Study.init(path)
    for key, value in collector.items():
        update_config(study.config_path, ("collector",), key, value)
    return Study.open(path)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 posts replayed for a day, watching the feed and one author's timeline."""
    path = tmp_path_factory.mktemp("methods") / "study"
    study = Study.init(path)
    add_targets(study.engine, [Target("weibo", "user", WATCHED_AUTHOR)], time.time())
    replay(study, known_removals(T0), until=T0 + 86400.0)
    study.close()
    return path


def _schedule(paragraphs: list[str]) -> str:
    return next(p for p in paragraphs if p.startswith("Budget and schedule."))


def test_the_schedule_paragraph_is_the_studys_own_age_or_budget(tmp_path: Path) -> None:
    age = _study(
        tmp_path / "age",
        scheduler="age",
        first_check_after="90s",
        max_interval="2h",
        horizon="3d",
        poll_interval="45s",
        budget_per_second=4.0,
    )
    budget = _study(
        tmp_path / "budget",
        scheduler="budget",
        budget_per_second=3.0,
        learning_half_life="1d",
        horizon="2d",
    )
    update_config(budget.config_path, ("platforms", "weibo"), "budget_per_second", 1.5)
    budget = Study.open(budget.path)

    age_text = _schedule(methods_text(age))
    budget_text = _schedule(methods_text(budget))
    assert age_text != budget_text
    # the age schedule, with its own settings
    assert 'scheduler = "age"' in age_text and "half its age" in age_text
    for setting in ("90 s", "2 h", "3 days", "45 s", "4 requests per second"):
        assert setting in age_text, setting
    assert f"{AGE_CONFIRMATIONS} more times" in age_text
    # the budget scheduler, with its own settings: nothing of the age schedule
    assert 'scheduler = "budget"' in budget_text and "half its age" not in budget_text
    for setting in ("3 requests per second", "weibo: 1.5 requests per second", "2 days", "24 h"):
        assert setting in budget_text, setting
    assert "30 s" in budget_text  # the scheduler's shortest gap (what issue 24 saw it check at)
    assert "90 s" not in budget_text


def test_targets_dates_answers_and_estimators_are_stated(replayed: Path) -> None:
    study = Study.open(replayed)
    paragraphs = {p.title: p.text for p in study_methods(study, min_posts=7, bootstrap=50)}
    watched = paragraphs["What was watched"]
    # each target with the posts it found, when (platform clock, UTC)
    assert re.search(
        r"weibo:all \(\d+ posts found, 2023-11-14 22:13 to 2023-11-14 2\d:\d\d\)", watched
    )
    assert "from 2023-11-14 22:13 to 2023-11-15 22:13 UTC (the platform's clock)" in watched
    assert WATCHED_AUTHOR not in " ".join(paragraphs.values())  # the timeline by pseudonym
    assert f"weibo:user/{study.pseudonym('weibo', WATCHED_AUTHOR)}" in watched
    assert "48 posts were found" in watched
    attribution = paragraphs["Attribution"]
    assert "errno 20112" in attribution and "errno 20101" in attribution
    assert "20112 → censored" in attribution and "20101 → unknown" in attribution
    statistics = paragraphs["Statistics"]
    assert "Turnbull" in statistics and "50 bootstrap" in statistics
    assert "at least 7 posts" in statistics and "Benjamini–Hochberg" in statistics


def test_coverage_gaps_are_stated_with_the_published_target(replayed: Path) -> None:
    study = Study.open(replayed)
    spec = f"weibo:user/{WATCHED_AUTHOR}"
    gap = CoverageGap(T0 + 3600.0, T0 + 7 * 3600.0, "weibo", spec, "not_collected")
    dating = next(p for p in study_methods(study, gaps=[gap]) if p.title == "Dating")
    assert "1 coverage gap" in dating.text and "6 h in all" in dating.text
    assert "interval_spans_gap" in dating.text
    assert WATCHED_AUTHOR not in dating.text
    none = next(p for p in study_methods(study, gaps=[]) if p.title == "Dating")
    assert "No coverage gap was found" in none.text


def test_restated_settings_match_the_scheduler_and_the_adapters() -> None:
    """analysis may not import schedule or platforms: what it restates is checked here."""
    from memoryhole.platforms import weibo
    from memoryhole.schedule.policy import AgeProportional
    from memoryhole.schedule.records import SchedulerSettings

    defaults = dataclasses.asdict(SchedulerSettings())
    assert {key: defaults[key] for key in BUDGET_SCHEDULER} == BUDGET_SCHEDULER
    assert AgeProportional().confirmations == AGE_CONFIRMATIONS
    rules = ATTRIBUTION["weibo"]
    assert weibo.ERRNO_PERMISSION_DENIED in rules["censored"]
    assert weibo.ERRNO_DOES_NOT_EXIST in rules["unknown"]
    assert weibo.ERRNO_USER_DOES_NOT_EXIST in rules["account_suspended"]
