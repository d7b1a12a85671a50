"""The command line as a user meets it: help, errors that say what to do, the export contract."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from memoryhole.evidence.checkpoint import VerifierKey
from memoryhole.scenario import load_scenario, write_scenario
from memoryhole.sim.replay import replay
from memoryhole.store.queries import VERDICT_EXPORT_FIELDS
from memoryhole.study import Study
from tests.scenarios import known_removals


def memoryhole(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memoryhole", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_help_lists_every_command_with_a_description() -> None:
    result = memoryhole("--help")
    assert result.returncode == 0
    for command in ("init", "watch", "run", "status", "export", "sim", "demo", "bench"):
        assert command in result.stdout
    sim = memoryhole("sim", "--help").stdout
    for command in ("generate", "serve", "replay"):
        assert command in sim


def test_malformed_scenario_names_file_and_line_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = '{"post_id": "1", "author_id": "a", "published_at": 1, "text": "x"}'
    line_two = '{"post_id": "2", "author_id": "a", "published_at": "noon", "text": "y"}'
    bad.write_text(good + "\n" + line_two + "\n")
    result = memoryhole("sim", "serve", "--scenario", str(bad), "--port", "1")
    assert result.returncode != 0
    assert f"{bad}:2" in result.stderr
    assert "published_at" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_policy_names_file_and_line_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[authors]\ncount = 10\n\n[[keyword_list\nname = 'x'\n")
    result = memoryhole("sim", "generate", "--policy", str(bad), "--out", str(tmp_path / "s.jsonl"))
    assert result.returncode != 0
    assert str(bad) in result.stderr
    assert ":4" in result.stderr or "line 4" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_on_a_missing_study_say_how_to_create_one(tmp_path: Path) -> None:
    result = memoryhole("status", "--study", str(tmp_path / "nothing"))
    assert result.returncode != 0
    assert "memoryhole init" in result.stderr


def test_bad_target_says_what_works(tmp_path: Path) -> None:
    memoryhole("init", str(tmp_path / "s"))
    result = memoryhole("watch", "weibo:user/abc", "--study", str(tmp_path / "s"))
    assert result.returncode != 0
    assert "weibo:user/" in result.stderr


def test_a_half_life_of_nothing_says_what_works(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.jsonl"
    scenario.write_text("", encoding="utf-8")
    result = memoryhole(
        "bench", "detect", "--scenario", str(scenario), "--budget-per-post", "20",
        "--out", str(tmp_path / "out"), "--half-life", "0s",
    )  # fmt: skip
    assert result.returncode != 0
    assert "e.g. 1d; leave it out to never fade" in result.stderr
    memoryhole("init", str(tmp_path / "s"))
    config = tmp_path / "s" / "memoryhole.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('# learning_half_life = "1d"', 'learning_half_life = "0s"'), encoding="utf-8"
    )
    result = memoryhole("status", "--study", str(tmp_path / "s"))
    assert result.returncode != 0
    assert "learning_half_life" in result.stderr and "greater than 0" in result.stderr


def test_init_watch_status(tmp_path: Path) -> None:
    assert memoryhole("init", str(tmp_path / "s")).returncode == 0
    assert (tmp_path / "s" / "secret.key").stat().st_mode & 0o077 == 0
    result = memoryhole(
        "watch", "weibo:all", "weibo:user/42", "--base-url", "http://127.0.0.1:9",
        "--study", str(tmp_path / "s"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    status = memoryhole("status", "--study", str(tmp_path / "s"))
    assert "weibo:all" in status.stdout and "weibo:user/42" in status.stdout
    assert Study.open(tmp_path / "s").base_url("weibo") == "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def replayed_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replayed")
    write_scenario(known_removals(1_700_000_000.0), root / "scenario.jsonl")
    study = Study.init(root / "study")
    replay(study, load_scenario(root / "scenario.jsonl"), until=1_700_000_000.0 + 86400)
    return root / "study"


def test_export_verdicts_jsonl_is_the_contract(replayed_study: Path) -> None:
    result = memoryhole("export", "verdicts", "--study", str(replayed_study))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 48
    assert all(tuple(row) == VERDICT_EXPORT_FIELDS for row in rows)
    verdicts = {row["verdict"] for row in rows}
    # an author's deletion reads as "unknown" on Weibo (errno 20101 does not say who)
    assert verdicts == {"live", "censored", "unknown", "account_suspended"}
    for row in rows:
        assert row["author_id"].startswith("a_"), "author ids are pseudonymised by default"
        if row["verdict"] == "live":
            assert row["first_seen_removed_at"] is None
        else:
            assert row["last_seen_alive_at"] < row["first_seen_removed_at"]


def test_export_verdicts_csv_and_raw_ids(replayed_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "v.csv"
    result = memoryhole(
        "export", "verdicts", "--format", "csv", "--out", str(out), "--raw-author-ids",
        "--study", str(replayed_study),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == VERDICT_EXPORT_FIELDS
    assert {row["author_id"] for row in rows} == {"1000000", "1000001", "1000002", "1000003"}


def test_unknown_export_format_fails(replayed_study: Path) -> None:
    result = memoryhole("export", "verdicts", "--format", "xml", "--study", str(replayed_study))
    assert result.returncode != 0 and "jsonl or csv" in result.stderr


def test_evidence_and_verify_commands(replayed_study: Path, tmp_path: Path) -> None:
    rows = [
        json.loads(line)
        for line in memoryhole(
            "export", "verdicts", "--study", str(replayed_study)
        ).stdout.splitlines()
    ]
    post_id = next(row["post_id"] for row in rows if row["verdict"] == "censored")
    out = tmp_path / "bundle.zip"
    made = memoryhole("evidence", post_id, "--out", str(out), "--study", str(replayed_study))
    assert made.returncode == 0, made.stderr
    good = memoryhole("verify", str(out))
    assert good.returncode == 0 and "verified" in good.stdout
    data = bytearray(out.read_bytes())
    data[len(data) // 3] ^= 0x20
    out.write_bytes(bytes(data))
    bad = memoryhole("verify", str(out))
    assert bad.returncode == 1
    assert "FAILED" in bad.stdout
    whole = memoryhole("verify", "--study", str(replayed_study))
    assert whole.returncode == 0, whole.stdout
    key = memoryhole("key", "--study", str(replayed_study)).stdout.strip()
    assert VerifierKey.parse(key).name.startswith("memoryhole.study/")


def test_a_base_url_nothing_answers_at_is_said_at_once_not_as_zero_checks(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert memoryhole("init", str(tmp_path / "s")).returncode == 0
    url = f"http://127.0.0.1:{port}"
    study = str(tmp_path / "s")
    watched = memoryhole("watch", "weibo:user/42", "--base-url", url, "--study", study)
    assert watched.returncode == 0, watched.stderr
    run = memoryhole("run", "--for", "3s", "--study", str(tmp_path / "s"))
    assert run.returncode == 0, run.stderr
    said = " ".join(run.stdout.split())
    assert f"weibo: cannot connect to {url}" in said
    assert "--base-url" in said
    assert said.count("cannot connect") == 1  # once, not once per request


def test_weibo_all_is_refused_against_weibo_itself_with_the_real_listings_named(
    tmp_path: Path,
) -> None:
    assert memoryhole("init", str(tmp_path / "s")).returncode == 0
    refused = memoryhole("watch", "weibo:all", "--study", str(tmp_path / "s"))
    assert refused.returncode != 0
    message = " ".join((refused.stdout + refused.stderr).split())
    assert "weibo:user/<uid>" in message and "weibo:search" in message and "weibo:hot" in message
    allowed = memoryhole(
        "watch", "weibo:all", "--base-url", "http://127.0.0.1:8000", "--study", str(tmp_path / "s")
    )
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.slow
def test_a_demo_of_several_platforms_at_once_claims_no_false_removal(tmp_path: Path) -> None:
    """``memoryhole demo --platform bluesky --platform youtube``: one simulator per platform on
    one platform clock, each with its own budget; each finds removals and invents none."""
    from rich.console import Console

    from memoryhole.cli.demo import run_demo

    results = run_demo(
        tmp_path / "demo", seconds=12.0, speed=1200.0, seed=1,
        console=Console(file=io.StringIO()), platforms=("bluesky", "youtube"),
    )  # fmt: skip
    assert set(results) == {"bluesky", "youtube"}
    for platform, result in results.items():
        assert result.false_removals == [], platform
        assert result.misattributed == [], platform
        assert result.caught > 0 and result.recall > 0.5, (platform, result.recall)
