"""A study's own platform descriptions (``STUDY/platforms/*.toml``): ``memoryhole watch
myforum:all`` works in that study with no code and no install, end to end against ``memoryhole
sim serve --platform json`` over loopback HTTP; a bad description is an error naming its file
and field; another study does not see the platform."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memoryhole.errors import ConfigError, TargetError
from memoryhole.platforms import registry
from memoryhole.platforms.generic_json import DEFAULT_CONFIG, GenericJsonPlatform
from memoryhole.scenario import effective_removal, suspension_times, write_scenario
from memoryhole.sim.process import free_port
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.scenarios import known_removals

MYFORUM = DEFAULT_CONFIG.replace('name = "json"', 'name = "myforum"', 1)


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No user-level descriptions: only the study's own can declare ``myforum``."""
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-user-config")
    env.pop("MEMORYHOLE_PLATFORMS", None)
    env["COLUMNS"] = "400"  # messages on one line
    return env


def memoryhole(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memoryhole", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def describe(study: Path, name: str, text: str) -> Path:
    folder = study / "platforms"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def no_user_platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-config"))
    monkeypatch.delenv("MEMORYHOLE_PLATFORMS", raising=False)


@pytest.mark.slow
def test_watch_and_run_a_described_platform_against_sim_serve(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    study = tmp_path / "study"
    assert memoryhole(env, "init", str(study)).returncode == 0
    describe(study, "myforum.toml", MYFORUM)
    other = tmp_path / "other"
    assert memoryhole(env, "init", str(other)).returncode == 0

    scenario = known_removals(time.time())
    path = tmp_path / "scenario.jsonl"
    write_scenario(scenario, path)
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "memoryhole", "sim", "serve", "--scenario", str(path)),
            *("--port", str(port), "--platform", "json", "--speed", "400"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        watched = memoryhole(env, "watch", "myforum:all", "--base-url", base, "--study", str(study))
        assert watched.returncode == 0, watched.stdout + watched.stderr
        assert "watching myforum:all" in watched.stdout
        # Not a platform anywhere else: the description belongs to its study.
        elsewhere = memoryhole(env, "watch", "myforum:all", "--study", str(other))
        assert elsewhere.returncode != 0
        assert "unknown platform 'myforum'" in elsewhere.stdout + elsewhere.stderr
        ran = memoryhole(env, "run", "--for", "12s", "--quiet", "--study", str(study))
        assert ran.returncode == 0, ran.stdout + ran.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)

    opened = Study.open(study)
    verdicts = list(iter_verdicts(opened.engine))
    opened.close()
    assert {row["platform"] for row in verdicts} == {"myforum"}
    suspended = suspension_times(scenario)
    truth = {p.post_id: effective_removal(p, suspended) for p in scenario}
    removed = [row for row in verdicts if row["verdict"] != "live"]
    assert len(verdicts) >= 20
    assert len(removed) >= 5
    for row in removed:  # every removal is real, and attributed as the JSON API says it
        removal = truth[str(row["post_id"])]
        assert removal is not None, f"false removal of {row['post_id']}"
        assert row["verdict"] == removal[1]


def test_a_study_description_is_found_only_with_its_study(
    tmp_path: Path, no_user_platforms: None
) -> None:
    describe(tmp_path, "forum.toml", MYFORUM)
    adapter = registry.get("myforum", "http://127.0.0.1:9", study_dir=tmp_path)
    assert isinstance(adapter, GenericJsonPlatform)
    assert adapter.name == "myforum"
    assert registry.parse_target("myforum:all", study_dir=tmp_path).spec == "myforum:all"
    with pytest.raises(TargetError, match="unknown platform 'myforum'"):
        registry.get("myforum")
    # An edited description is read again (the cache follows the file).
    path = tmp_path / "platforms" / "forum.toml"
    path.write_text(MYFORUM.replace('user = "{base_url}', 'member = "{base_url}', 1))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert registry.parse_target("myforum:member/7", study_dir=tmp_path).kind == "member"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("http = 451\n", "http = 503\n"), "signals.0: HTTP 503 cannot be a signal"),
        (('items = "$.items"', 'items = "items"'), "listing.items"),
        (('status = "censored"', 'status = "removed"'), "signals.0.status"),
        (("[fields]", "[fieldz]"), "fieldz"),
        (('name = "myforum"', 'name = "weibo"'), "name = 'weibo'"),
        (("[listing", "[listing\n"), "invalid TOML"),
    ],
)
def test_a_bad_study_description_names_its_file_and_field(
    tmp_path: Path, no_user_platforms: None, change: tuple[str, str], field: str
) -> None:
    text = MYFORUM.replace(*change, 1)
    assert text != MYFORUM
    describe(tmp_path, "myforum.toml", text)
    with pytest.raises(ConfigError) as error:
        registry.parse_target("myforum:all", study_dir=tmp_path)
    message = str(error.value)
    assert str(tmp_path / "platforms" / "myforum.toml") in message
    assert field in message


def test_two_study_files_cannot_declare_one_name(tmp_path: Path, no_user_platforms: None) -> None:
    describe(tmp_path, "a.toml", MYFORUM)
    describe(tmp_path, "b.toml", MYFORUM)
    with pytest.raises(ConfigError, match=r"b\.toml: name = 'myforum' is already declared by"):
        registry.available(tmp_path)


def test_the_cli_says_what_is_wrong_with_a_description(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    study = tmp_path / "study"
    assert memoryhole(env, "init", str(study)).returncode == 0
    describe(study, "myforum.toml", MYFORUM.replace("http = 451\n", "http = 503\n", 1))
    result = memoryhole(env, "watch", "myforum:all", "--study", str(study))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "myforum.toml" in output and "signals.0: HTTP 503" in output
    assert "never definitive" in output
    assert "Traceback" not in output
