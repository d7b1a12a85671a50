"""The scenario format: validation errors name the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memoryhole.errors import ScenarioError
from memoryhole.scenario import (
    ScenarioPost,
    effective_removal,
    load_scenario,
    suspension_times,
    write_scenario,
)

GOOD = {
    "post_id": "1",
    "author_id": "a",
    "published_at": 10.0,
    "text": "x",
    "removed_at": None,
    "removal": None,
}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({**GOOD, "post_id": ""}), "post_id"),
        (json.dumps({**GOOD, "published_at": "yesterday"}), "published_at"),
        (json.dumps({**GOOD, "removal": "vanished", "removed_at": 20}), "removal"),
        (json.dumps({**GOOD, "removal": "censored", "removed_at": 5}), "before"),
        (json.dumps({**GOOD, "removed_at": 20}), "removal"),
        (json.dumps({**GOOD, "post_id": "1"}), "duplicate"),
        (json.dumps({**GOOD, "post_id": "2", "withhold": [[15.0]]}), "'withhold'"),
        (json.dumps({**GOOD, "post_id": "2", "withhold": [[15.0, ""]]}), "[at, region]"),
        (json.dumps({**GOOD, "post_id": "2", "withhold": "CN"}), "'withhold'"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    path = write_lines(tmp_path / "s.jsonl", [json.dumps(GOOD), "", bad])
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert f"{path}:3" in str(info.value)
    assert message in str(info.value)


def test_extra_keys_are_ignored_and_round_trip(tmp_path: Path) -> None:
    record = {
        **GOOD,
        "removal": "censored",
        "removed_at": 30.0,
        "mood": "ignored",
        "edits": [[15.0, "y"]],
        "withhold": [[20.0, "JP"], [12.0, "CN"]],
    }
    path = write_lines(tmp_path / "s.jsonl", [json.dumps(record)])
    (post,) = load_scenario(path)
    assert post.removal == "censored" and post.edits == ((15.0, "y"),)
    assert post.withhold == ((12.0, "CN"), (20.0, "JP"))  # in time order
    write_scenario([post], tmp_path / "copy.jsonl")
    assert load_scenario(tmp_path / "copy.jsonl") == [post]


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot open"):
        load_scenario(tmp_path / "nope.jsonl")
    with pytest.raises(ScenarioError, match="no posts"):
        load_scenario(write_lines(tmp_path / "empty.jsonl", [""]))


def test_suspension_hides_all_posts_of_the_author_from_then_on() -> None:
    posts = [
        ScenarioPost("1", "a", 0.0, "x", 100.0, "account_suspended"),
        ScenarioPost("2", "a", 10.0, "y"),
        ScenarioPost("3", "a", 200.0, "z"),
        ScenarioPost("4", "a", 20.0, "w", 50.0, "censored"),
        ScenarioPost("5", "b", 0.0, "v"),
    ]
    suspended = suspension_times(posts)
    assert suspended == {"a": 100.0}
    assert effective_removal(posts[1], suspended) == (100.0, "account_suspended")
    assert effective_removal(posts[2], suspended) == (200.0, "account_suspended")
    assert effective_removal(posts[3], suspended) == (50.0, "censored")
    assert effective_removal(posts[4], suspended) is None
