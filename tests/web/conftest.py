"""A study whose posts are an XSS payload corpus, collected through the real pipeline.

The scenario (posts, edits, removals of every kind) is replayed through the collector on a
virtual clock, so the store holds real observations, raw responses, a signed log and verdicts.
Post texts are the payloads of ``data/xss_payloads.txt`` (one per line, each calling
``window.__xss(N)``), plus payload post ids, a payload author id, an edit that turns a text
into a payload, control characters that XML cannot carry, and one author taken down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def built_off_the_loop(build: Callable[[], None]) -> None:
    """Build a study in its own thread: a browser test's Playwright already runs an event loop
    in this one, and the collector that builds the study runs its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(build).result()


@pytest.fixture(scope="session")
def downtime_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study watched for 6 hours, not for the next 7, then again (``downtime.py``)."""
    from tests.web.downtime import downtime_study

    path = tmp_path_factory.mktemp("downtime") / "study"
    built_off_the_loop(lambda: downtime_study(path, posts=600).close())
    return path


@pytest.fixture(scope="session")
def busy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Posts with 100–200 observations each (``downtime.busy_study``)."""
    from tests.web.downtime import busy_study

    path = tmp_path_factory.mktemp("busy") / "study"
    built_off_the_loop(lambda: busy_study(path).close())
    return path


# --------------------------------------------------------------------------- Chromium

CHROMIUM = Path("/usr/bin/chromium")
INIT = """
window.__xss_hits = [];
window.__xss = function (n) { window.__xss_hits.push(String(n)); };
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || ""));
});
"""


@dataclass
class Watch:
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser (Debian's chromium)")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.add_init_script(INIT)
    watch = Watch()
    tab = context.new_page()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("pageerror", lambda error: watch.errors.append(f"pageerror: {error}"))
    tab.on(
        "console",
        lambda message: (
            watch.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    yield tab, watch
    context.close()
