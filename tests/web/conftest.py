"""A study whose posts are an XSS payload corpus, collected through the real pipeline.

The scenario (posts, edits, removals of every kind) is replayed through the collector on a
virtual clock, so the store holds real observations, raw responses, a signed log and verdicts.
Post texts are the payloads of ``data/xss_payloads.txt`` (one per line, each calling
``window.__xss(N)``), plus payload post ids, a payload author id, an edit that turns a text
into a payload, control characters that XML cannot carry, and one author taken down.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from memoryhole.evidence.takedown import takedown
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.replay import replay
from memoryhole.study import Study

DATA = Path(__file__).parent / "data"
START = 1_767_225_600.0  # 2026-01-01 UTC
CHINESE = ["今天天气很好", "六四天安门", "这家餐厅的菜很好吃", "刚看完一部电影", "周末去爬山了"]
#: Posts whose ids and author ids are themselves payloads.
PAYLOAD_POST_IDS = ['"><img src=x onerror=window.__xss(90)>', "a/b?c#<svg onload=window.__xss(91)>"]
PAYLOAD_AUTHOR = '"><svg onload=window.__xss(92)>'
TAKEN_DOWN_AUTHOR = "3000001"
TAKEN_DOWN_TEXT = "this post's author asked to be taken down 隐私"


def payloads() -> list[str]:
    return [
        line
        for line in (DATA / "xss_payloads.txt").read_text(encoding="utf-8").splitlines()
        if line
    ]


def scenario() -> list[ScenarioPost]:
    posts: list[ScenarioPost] = []
    texts = [
        *payloads(),
        "控制字符\x01\x08\x0b\x0c\ufffe<script>window.__xss(93)</script>",
        *(f"{CHINESE[i % 5]} #{i}" for i in range(30)),
    ]
    kinds = ["censored", "author_deleted", None, None, "censored", None]
    for i, text in enumerate(texts):
        published = START + 90.0 * i
        kind = kinds[i % len(kinds)]
        author = PAYLOAD_AUTHOR if i % 11 == 5 else str(2_000_000 + i % 7)
        edits: tuple[tuple[float, str], ...] = ()
        if kind is None and i % 4 == 2:
            edits = ((published + 400.0, text + " <b onmouseover=window.__xss(94)>编辑</b>"),)
        posts.append(
            ScenarioPost(
                post_id=str(4_900_000_000_000_000 + i),
                author_id=author,
                published_at=published,
                text=text,
                removed_at=published + 600.0 + 30.0 * (i % 9) if kind else None,
                removal=kind,
                edits=edits,
            )
        )
    for j, post_id in enumerate(PAYLOAD_POST_IDS):
        posts.append(
            ScenarioPost(
                post_id,
                "2000001",
                START + 45.0 + 90.0 * j,
                payloads()[j],
                removed_at=START + 2000.0,
                removal="censored",
            )
        )
    # An account suspended, and an author whose content is taken down after collection.
    posts.append(
        ScenarioPost(
            "4900000000000900",
            "2000099",
            START + 100.0,
            "被封号的账户",
            removed_at=START + 3000.0,
            removal="account_suspended",
        )
    )
    for j in range(3):
        posts.append(
            ScenarioPost(
                f"49000000000009{j}5",
                TAKEN_DOWN_AUTHOR,
                START + 200.0 + j,
                TAKEN_DOWN_TEXT,
                removed_at=START + 1500.0,
                removal="censored",
            )
        )
    return posts


@dataclass(frozen=True)
class XssStudy:
    path: Path
    payloads: list[str]
    taken_down_pseudonym: str


@pytest.fixture(scope="session")
def xss_study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XssStudy]:
    path = tmp_path_factory.mktemp("xss") / "study"
    study = Study.init(path)
    posts = scenario()
    replay(study, posts, until=max(p.published_at for p in posts) + 2 * 86400.0)
    result = takedown(study, TAKEN_DOWN_AUTHOR, platform="weibo", reason="test")
    study.close()
    yield XssStudy(path, payloads(), result.pseudonym)


@pytest.fixture
def study(xss_study: XssStudy) -> Iterator[Study]:
    opened = Study.open(xss_study.path)
    yield opened
    opened.close()


@pytest.fixture
def study_copy(xss_study: XssStudy, tmp_path: Path) -> Iterator[Study]:
    """A private copy of the XSS study, for tests that change it."""
    import shutil

    target = tmp_path / "study"
    shutil.copytree(xss_study.path, target)
    opened = Study.open(target)
    yield opened
    opened.close()
