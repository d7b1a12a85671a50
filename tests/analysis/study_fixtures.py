"""A replayed study with a planted truth, for the study-level analysis tests.

The censor policy is the shipped default plus four lists of invented words (none occurs in the
default lists or the text corpus, so what happens to them is only what is planted here):

* ``PLANTED``: removed with probability 0.8 all along;
* ``CONTROLS``: written just as often, never removed (true nulls);
* ``NEW_RULE``: removed with probability 0.9, but only for posts published from day 1 on;
* ``OLD_RULE``: removed with probability 0.9 for posts published before day 1 only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from memoryhole.sim.generate import PlantedPost, generate_planted
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, Policy, load_policy
from memoryhole.sim.replay import replay
from memoryhole.study import Study

PLANTED = ("蓝鲸星火", "青鸟晨钟", "白鹭秋水", "赤松夜雨", "金蝉远山")
CONTROLS = ("紫燕春泥", "银杏晚风", "黛瓦石桥", "翠竹清泉", "霜叶红枫")
NEW_RULE = "晨曦读书会"
OLD_RULE = "松涛夜话"
POSTS = 3000
SEED = 7

_EXTRA = """
[[keyword_list]]
name = "planted"
file = "planted.txt"
inject = 0.10
remove = 0.8

[[keyword_list]]
name = "controls"
file = "controls.txt"
inject = 0.10
remove = 0.0

[[keyword_list]]
name = "new-rule"
file = "new_rule.txt"
inject = 0.06
remove = 0.9
active_from = "1d"

[[keyword_list]]
name = "old-rule"
file = "old_rule.txt"
inject = 0.06
remove = 0.9
active_until = "1d"
"""


def write_policy(directory: Path) -> Path:
    """The test policy: the default one (its files made absolute) plus the lists above."""
    data = DEFAULT_POLICY_PATH.parent
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    text = text.replace('file = "keywords/', f'file = "{data}/keywords/')
    text = text.replace('sources = ["reviews.txt"]', f'sources = ["{data}/reviews.txt"]')
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "planted.txt").write_text("\n".join(PLANTED) + "\n", encoding="utf-8")
    (directory / "controls.txt").write_text("\n".join(CONTROLS) + "\n", encoding="utf-8")
    (directory / "new_rule.txt").write_text(NEW_RULE + "\n", encoding="utf-8")
    (directory / "old_rule.txt").write_text(OLD_RULE + "\n", encoding="utf-8")
    path = directory / "policy.toml"
    path.write_text(text + _EXTRA, encoding="utf-8")
    return path


@dataclass(frozen=True)
class PlantedStudy:
    path: Path
    policy: Policy
    planted: list[PlantedPost]
    observed_until: float

    @property
    def rule_change_at(self) -> float:
        """When NEW_RULE starts and OLD_RULE stops being enforced (publication time)."""
        return self.policy.start + 86400.0


def build_planted_study(root: Path, posts: int = POSTS, seed: int = SEED) -> PlantedStudy:
    policy = load_policy(write_policy(root / "policy"))
    planted = generate_planted(policy, seed, posts=posts)
    study = Study.init(root / "study")
    try:
        _, stopped = replay(study, [p.post for p in planted], until=policy.end + 86400.0)
    finally:
        study.close()
    return PlantedStudy(root / "study", policy, planted, stopped)
