"""A found rule's evidence bundle (isolate/bundle.py): it verifies on its own, and any change
to an answer, a request, or which probe answers which question fails verification."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.clock import VirtualClock
from memoryhole.errors import MemoryholeError
from memoryhole.evidence.bundle import canonical_zip, read_members
from memoryhole.isolate.bundle import build_rule_bundle, verify_rule_bundle
from memoryhole.isolate.rules import Rule
from memoryhole.isolate.run import run_isolation
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.search_filter import SearchFilter
from memoryhole.study import Study

BASE = "http://simulator.invalid"
TEXT = "我们讨论了法轮功的问题以及六四事件还有天安门广场"
PAIR = Rule.of(["六四", "天安门"])


def isolated(tmp_path: Path, rules: list[Rule]) -> tuple[Study, SimPlatform]:
    study = Study.init(tmp_path / "study")
    study.set_base_url("weibo", BASE)
    platform = SimPlatform([], VirtualClock(0.0), "weibo")
    platform.search_filter = SearchFilter(hard=rules)
    transport = InProcessTransport(platform)
    asyncio.run(
        run_isolation(study, TEXT, rate=1e9, votes=1, transport=transport, clock=VirtualClock(0.0))
    )
    return study, platform


def rezip(data: bytes, change: object) -> bytes:
    files = dict(read_members(data))
    manifest = json.loads(files["manifest.json"])
    change(manifest, files)  # type: ignore[operator]
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    return canonical_zip(list(files.items()))


def test_a_rules_bundle_verifies_and_every_forgery_fails(tmp_path: Path) -> None:
    study, _ = isolated(tmp_path, [Rule.of(["法轮功"]), PAIR])
    out = tmp_path / "rule.zip"
    manifest = build_rule_bundle(study, PAIR, out)
    assert [p["question"] for p in manifest["probes"]][:3] == [
        "the rule alone",
        "without 六四",
        "without 天安门",
    ]
    data = out.read_bytes()
    report = verify_rule_bundle(data, out.name)
    assert report.success, report.failures

    def swap_answers(m: dict, files: dict) -> None:  # type: ignore[type-arg]
        alone, without = m["probes"][0], m["probes"][1]
        alone["question"], without["question"] = without["question"], alone["question"]

    def edit_response(m: dict, files: dict) -> None:  # type: ignore[type-arg]
        name = m["probes"][1]["response"]
        files[name] = files[name].replace(b'"cards"', b'"cards" ', 1)

    def claim_a_bigger_rule(m: dict, files: dict) -> None:  # type: ignore[type-arg]
        m["rule"]["components"] = ["六四", "天安门", "广场"]

    def drop_a_question(m: dict, files: dict) -> None:  # type: ignore[type-arg]
        del m["probes"][2]

    for forgery in (swap_answers, edit_response, claim_a_bigger_rule, drop_a_question):
        report = verify_rule_bundle(rezip(data, forgery), "forged.zip")
        assert not report.success, forgery.__name__


def test_no_bundle_for_a_rule_the_log_contradicts(tmp_path: Path) -> None:
    study, platform = isolated(tmp_path, [Rule.of(["法轮功"]), PAIR])
    platform.search_filter = SearchFilter(hard=[Rule.of(["法轮功"])])  # the pair lapsed
    asyncio.run(
        run_isolation(
            study, TEXT, rate=1e9, votes=1, transport=InProcessTransport(platform),
            clock=VirtualClock(0.0), known=[PAIR],
        )
    )  # fmt: skip
    with pytest.raises(MemoryholeError, match="contradict"):
        build_rule_bundle(study, PAIR, tmp_path / "rule.zip")


def test_the_cli_writes_a_rule_bundle_and_verify_reads_it(tmp_path: Path) -> None:
    study, _ = isolated(tmp_path, [PAIR])
    study.close()
    out = tmp_path / "rule.zip"
    runner = CliRunner()
    wrote = runner.invoke(
        app, ["rule-evidence", "天安门+六四", "--out", str(out), "--study", str(study.path)]
    )
    assert wrote.exit_code == 0, wrote.output
    checked = runner.invoke(app, ["verify", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "make the rule 六四 + 天安门 exact" in checked.output
    missing = runner.invoke(
        app, ["rule-evidence", "法轮功", "--out", str(out), "--study", str(study.path)]
    )
    assert missing.exit_code != 0 and "no rule 法轮功" in str(missing.exception)


def test_the_dashboard_lists_the_rules_and_dates_one_that_stopped_triggering(
    tmp_path: Path,
) -> None:
    from fastapi.testclient import TestClient

    from memoryhole.web.app import ServeOptions, create_app

    study, platform = isolated(tmp_path, [Rule.of(["法轮功"]), PAIR])
    platform.search_filter = SearchFilter(hard=[Rule.of(["法轮功"])])  # the pair lapsed
    asyncio.run(
        run_isolation(
            study, TEXT, rate=1e9, votes=1, transport=InProcessTransport(platform),
            clock=VirtualClock(0.0), known=[PAIR],
        )
    )  # fmt: skip
    options = ServeOptions(public=True, token="t" * 32, background=False, check_host=False)
    page = TestClient(create_app(study, options)).get("/rules").text
    rows = re.findall(r"<tr( class=\"lapsed\")?>\s*<td lang=\"zh\">([^<]+)</td>", page)
    assert {(bool(lapsed), rule) for lapsed, rule in rows} == {
        (False, "法轮功"),
        (True, "六四 + 天安门"),
    }
    assert 'id="lapsed-rules"' in page and "1 rule stopped triggering" in page


def test_the_removals_chart_marks_the_filter_lists_changes_within_its_range(
    tmp_path: Path,
) -> None:
    """A rule first confirmed, and one that stopped triggering, are dated lines beside the
    removals; a change far outside the chart's range is left off rather than squeezing it."""
    from memoryhole.analysis.overview import Timeline
    from memoryhole.isolate.found import rule_changes, study_rules
    from memoryhole.web.render.removals_chart import removals_chart

    study, platform = isolated(tmp_path, [Rule.of(["法轮功"]), PAIR])
    platform.search_filter = SearchFilter(hard=[Rule.of(["法轮功"])])
    asyncio.run(
        run_isolation(
            study, TEXT, rate=1e9, votes=1, transport=InProcessTransport(platform),
            clock=VirtualClock(7200.0), known=[PAIR],
        )
    )  # fmt: skip
    changes = rule_changes(study_rules(study))
    lapsed = [(what, rule) for at, what, rule in changes if what == "rule stopped triggering"]
    assert lapsed == [("rule stopped triggering", "六四 + 天安门")]
    assert {rule for _, what, rule in changes if what == "rule first confirmed"} == {
        "法轮功",
        "六四 + 天安门",
    }
    bars = Timeline(3600, [{"t": 0.0, "kind": "censored", "count": 2},
                           {"t": 7200.0, "kind": "censored", "count": 1}])  # fmt: skip
    spec = removals_chart(bars, (), [*changes, (10 * 86400.0, "rule first confirmed", "far")])
    layer = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rule")
    drawn = {(v["what"], v["rule"]) for v in layer["data"]["values"]}
    assert drawn == {
        ("rule first confirmed", "法轮功"),
        ("rule first confirmed", "六四 + 天安门"),
        ("rule stopped triggering", "六四 + 天安门"),
    }
    assert "layer" not in removals_chart(bars, (), [])  # no change: the bars alone
