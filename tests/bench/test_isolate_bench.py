"""``bench isolate`` on a few texts: the figures it prints are computed, and hold their ground."""

from __future__ import annotations

from memoryhole.bench.isolate import run_isolate_bench


def test_isolation_beats_bisection_on_the_same_texts() -> None:
    out = run_isolate_bench(texts=30, seed=3, noises=[0.0])
    runs = {run["method"]: run for run in out["runs"]}
    assert set(runs) == {"memoryhole", "memoryhole-cold", "bisection"}
    ours, cold, theirs = runs["memoryhole"], runs["memoryhole-cold"], runs["bisection"]
    assert ours["planted"] == theirs["planted"] > 10
    assert cold["recovered_share"] >= 0.97 and cold["false_rules"] == 0
    assert ours["false_rules"] == 0
    assert cold["probes_per_rule"] < theirs["probes_per_rule"]
    assert ours["probes_per_rule"] <= cold["probes_per_rule"]
