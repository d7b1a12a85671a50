"""The scenario generator: deterministic, realistic in shape, and true to the policy's numbers.

Statistical checks use fixed seeds (so they never flake) and tolerances of four or more
standard errors (so they fail when the model changes, not by chance on a new seed).
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from memoryhole.errors import PolicyError
from memoryhole.scenario import (
    ScenarioPost,
    effective_removal,
    load_scenario,
    suspension_times,
)
from memoryhole.sim.generate import (
    FIRST_POST_ID,
    Matcher,
    PlantedPost,
    _Draft,
    _suspend,
    _Urn,
    generate,
    generate_planted,
    generate_to_file,
    summarize,
)
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, Chance, LogNormal, Policy, load_policy

REVIEWS = DEFAULT_POLICY_PATH.parent / "reviews.txt"


@pytest.fixture(scope="module")
def default() -> Policy:
    return load_policy(DEFAULT_POLICY_PATH)


def quiet(policy: Policy) -> Policy:
    """The policy without author deletions, suspensions, background removals or edits."""
    none = Chance(0.0, LogNormal(60.0, 0.0))
    suspension = replace(policy.suspension, share=0.0)
    return replace(policy, background=none, author_deletion=none, edits=none, suspension=suspension)


def without_side_events(policy: Policy) -> Policy:
    """Keep the background censor; drop author deletions, suspensions and edits."""
    none = Chance(0.0, LogNormal(60.0, 0.0))
    suspension = replace(policy.suspension, share=0.0)
    return replace(policy, author_deletion=none, edits=none, suspension=suspension)


def two_lists(tmp_path: Path, extra: str = "") -> Policy:
    """Two disjoint lists: "strict" (removes 90%) and "lax" (30%), each in 20% of posts."""
    (tmp_path / "strict.txt").write_text("甲乙丙\n丁戊己\n", encoding="utf-8")
    (tmp_path / "lax.txt").write_text("子丑寅\n卯辰巳\n", encoding="utf-8")
    body = f"""start = 2024-01-01T00:00:00Z
duration = "2d"
[authors]
count = 200
posts_per_day = {{ median = 20, sigma = 0.5 }}
[text]
sources = ["{REVIEWS}"]
[censor]
background = 0.02
delay = {{ median = "1h", sigma = 1.5 }}
[[keyword_list]]
name = "strict"
file = "strict.txt"
inject = 0.2
remove = 0.9
[[keyword_list]]
name = "lax"
file = "lax.txt"
inject = 0.2
remove = 0.3
{extra}"""
    (tmp_path / "policy.toml").write_text(body, encoding="utf-8")
    return load_policy(tmp_path / "policy.toml")


def censored_share(posts: list[PlantedPost]) -> float:
    return sum(p.post.removal == "censored" for p in posts) / len(posts)


def test_same_seed_same_scenario_other_seed_other_scenario(default: Policy) -> None:
    first = generate(default, seed=7)
    assert generate(default, seed=7) == first
    other = generate(default, seed=8)
    assert other != first
    assert {p.text for p in other} != {p.text for p in first}


def test_deterministic_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from memoryhole.sim.generate import "
        "generate_to_file as g; from memoryhole.sim.policy import DEFAULT_POLICY_PATH as p; "
        "g(p, Path(sys.argv[1]), 3)"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        out = tmp_path / f"s{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env, timeout=60)
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_posts_look_like_weibo_posts(default: Policy) -> None:
    posts = generate(default, seed=1)
    assert 2000 <= len(posts) <= 4000  # ~3,000 from 60 authors' rates over two days
    ids = [int(p.post_id) for p in posts]
    assert all(len(p.post_id) == 16 for p in posts)
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] > FIRST_POST_ID
    assert all(len(p.author_id) == 10 and p.author_id.isdigit() for p in posts)
    assert 50 <= len({p.author_id for p in posts}) <= 60
    times = [p.published_at for p in posts]
    assert times == sorted(times)
    assert default.start <= times[0] and times[-1] < default.end
    for post in posts:
        assert post.text and (post.removed_at is None) == (post.removal is None)
        assert post.removed_at is None or post.removed_at >= post.published_at
    # Heavy-tailed activity: the busiest author posts several times the median author
    # (a log-normal with sigma 0.8 puts the top of 60 authors ~6 times above the median).
    per_author = sorted(Counter(p.author_id for p in posts).values())
    assert per_author[-1] > 3 * statistics.median(per_author)


def test_default_policy_removes_10_to_15_percent(default: Policy) -> None:
    summaries = [summarize(generate(default, seed)) for seed in range(10)]
    shares = [float(str(s["removal_share"])) for s in summaries]
    assert all(0.09 <= share <= 0.2 for share in shares), shares
    assert 0.11 <= statistics.mean(shares) <= 0.16
    for summary in summaries:
        counts = [int(str(summary[k])) for k in ("censored", "author_deleted")]
        assert counts[0] > counts[1] > 0  # the censor removes most
        assert 1 <= int(str(summary["suspended_accounts"])) <= 3
        assert int(str(summary["account_suspended"])) > 0


def test_censor_delays_follow_the_policy(default: Policy) -> None:
    posts = generate_planted(quiet(default), seed=11, posts=20000)
    # Posts one list acts on: their delay is one draw (several lists: the earliest of several).
    delays = [
        p.post.removed_at - p.post.published_at
        for p in posts
        if len(p.enforced) == 1 and p.post.removed_at is not None
    ]
    delay = default.keyword_lists[0].delay
    assert delay.maximum is not None and len(delays) > 1000
    # Log-normal, sigma 2.65: the sample median's log-scale standard error is
    # 1.2533 * 2.65 / sqrt(n) <= 0.11 for n > 1000, so +-45% is over four of them.
    assert statistics.median(delays) == pytest.approx(delay.quantile(0.5), rel=0.45)
    # Share removed within an hour: ~0.31 expected; binomial standard error <= 0.015.
    normal = statistics.NormalDist(math.log(delay.median), delay.sigma)
    expected = normal.cdf(math.log(3600)) / normal.cdf(math.log(delay.maximum))
    assert sum(d <= 3600 for d in delays) / len(delays) == pytest.approx(expected, abs=0.06)
    assert max(delays) <= delay.maximum
    assert all(p.censor_at == p.post.removed_at for p in posts if p.post.removed_at)


def test_lists_remove_at_their_own_rate_and_control_posts_at_the_background(
    tmp_path: Path,
) -> None:
    policy = two_lists(tmp_path)
    posts = generate_planted(without_side_events(policy), 3, 30000)
    strict = [p for p in posts if p.matched == ("strict",)]
    lax = [p for p in posts if p.matched == ("lax",)]
    control = [p for p in posts if not p.terms]
    # ~4,800 strict and lax posts each, ~19,200 controls: standard errors <= 0.007 and 0.001.
    assert censored_share(strict) == pytest.approx(0.9 + 0.1 * 0.02, abs=0.03)
    assert censored_share(lax) == pytest.approx(0.3 + 0.7 * 0.02, abs=0.03)
    assert censored_share(control) == pytest.approx(0.02, abs=0.006)
    assert all(p.matched == () and p.enforced == () for p in control)
    for planted in posts:  # what was written is in the text, where the censor can see it
        for term in planted.terms:
            assert term in ("甲乙丙", "丁戊己", "子丑寅", "卯辰巳") and term in planted.post.text


def test_a_list_applies_only_inside_its_window(tmp_path: Path) -> None:
    policy = two_lists(tmp_path)
    strict, lax = policy.keyword_lists
    policy = replace(
        quiet(policy), keyword_lists=(replace(strict, active_until=policy.start + 86400), lax)
    )
    posts = generate_planted(policy, seed=5, posts=20000)
    strict_posts = [p for p in posts if p.matched == ("strict",)]
    before = [p for p in strict_posts if p.post.published_at < policy.start + 86400]
    after = [p for p in strict_posts if p.post.published_at >= policy.start + 86400]
    assert len(before) > 1000 and len(after) > 1000
    assert censored_share(before) == pytest.approx(0.9, abs=0.04)
    assert all(p.enforced == ("strict",) for p in before)
    assert all(p.enforced == () and p.post.removal is None for p in after)


def test_default_rule_change_stops_and_starts_removals(default: Policy) -> None:
    old, new = default.keyword_lists[3], default.keyword_lists[4]
    switch = old.active_until
    assert switch is not None
    posts = generate_planted(quiet(default), seed=2, posts=20000)
    only_old = [p for p in posts if p.matched == (old.name,)]  # terms the new list dropped
    only_new = [p for p in posts if p.matched == (new.name,)]  # terms it added
    assert all(p.post.removal is None for p in only_old if p.post.published_at >= switch)
    assert all(p.post.removal is None for p in only_new if p.post.published_at < switch)
    assert any(p.post.removal for p in only_old if p.post.published_at < switch)
    assert any(p.post.removal for p in only_new if p.post.published_at >= switch)


def test_combinations_are_written_as_separate_parts(tmp_path: Path) -> None:
    (tmp_path / "combo.txt").write_text("白鸽+广场+纪念\n", encoding="utf-8")
    extra = (
        '[[keyword_list]]\nname = "combo"\nfile = "combo.txt"\ncombinations = true\n'
        "inject = 0.3\nremove = 1.0\n"
    )
    posts = generate_planted(two_lists(tmp_path, extra), seed=4, posts=3000)
    combos = [p for p in posts if "白鸽+广场+纪念" in p.terms]
    assert len(combos) > 700
    for planted in combos:
        text = planted.post.text
        assert "白鸽+广场+纪念" not in text
        assert all(part in text for part in ("白鸽", "广场", "纪念"))
        assert "combo" in planted.matched and planted.censor_at is not None


def test_suspension_makes_a_consistent_scenario(default: Policy) -> None:
    for seed in range(5):
        posts = generate(default, seed, posts=3000)
        assert len(posts) == 3000  # the posts a suspended author never wrote went to others
        suspended = suspension_times(posts)
        assert 1 <= len(suspended) <= 2
        for post in posts:
            own = (post.removed_at, post.removal) if post.removal else None
            assert effective_removal(post, suspended) == own  # the record says it all
            at = suspended.get(post.author_id)
            assert at is None or post.published_at < at  # nobody posts once suspended


def test_suspension_prefers_authors_who_write_flagged_posts(default: Policy) -> None:
    # Author 0 wrote 40 flagged posts in the window's last minute, the 59 others none; one
    # account goes (0.02 x 60 authors).
    drafts = [
        _Draft(0, default.end - 1.0 - i, "x", ("六四",), ("june-4",), ("june-4",), None, None)
        for i in range(40)
    ]
    drafts += [_Draft(a, default.start, "x", (), (), (), None, None) for a in range(1, 60)]
    picks = {0.0: 0, 10.0: 0}
    for weight in picks:
        suspension = replace(default.suspension, share=0.02, weight_per_flagged_post=weight)
        policy = replace(default, suspension=suspension)
        for seed in range(200):
            ((author, at),) = _suspend(policy, random.Random(seed), drafts).items()
            if author == 0:
                picks[weight] += 1
                assert at > default.end - 41  # after one of its flagged posts
            else:
                assert default.start < at < default.end + 7 * 86400  # the delay's max
    # Weight 0: 1 chance in 60 (~3 of 200). Weight 10: 401 in 460 (~174 of 200, sd ~5).
    assert picks[0.0] <= 12
    assert picks[10.0] >= 150


def test_urn_draws_what_random_choices_would_with_drawn_weights_zeroed() -> None:
    # The urn replaced a per-draw `rng.choices` over every weight; scenarios written before
    # must stay byte for byte the same, so each draw must be the very same author.
    weights = [1.0 + (i % 7) * 0.3 + (i % 3) * 1e-9 for i in range(500)]
    for seed in range(5):
        expected, reference = [], list(weights)
        rng = random.Random(seed)
        for _ in range(400):
            at = rng.choices(range(len(reference)), weights=reference)[0]
            reference[at] = 0.0
            expected.append(at)
        urn, rng = _Urn(weights), random.Random(seed)
        drawn = [urn.draw(rng) for _ in range(400)]
        assert drawn == expected
        assert len(set(drawn)) == 400  # without replacement
    empty = _Urn([1.0])
    empty.draw(random.Random(0))
    with pytest.raises(ValueError):
        empty.draw(random.Random(0))


def test_edits_come_before_removal_and_extend_the_text(default: Policy) -> None:
    posts = generate(default, seed=6, posts=10000)
    edited = [p for p in posts if p.edits]
    assert 50 <= len(edited) <= 150  # 1% of 10,000
    for post in edited:
        ((at, text),) = post.edits
        assert at > post.published_at and text.startswith(post.text) and text != post.text
        assert post.removed_at is None or at <= post.removed_at


def test_post_count_override_is_exact_and_fast(default: Policy) -> None:
    assert len(generate(default, seed=1, posts=20000)) == 20000
    began = time.perf_counter()
    posts = generate(default, seed=1, posts=100_000)
    elapsed = time.perf_counter() - began
    assert len(posts) == 100_000 and len({p.post_id for p in posts}) == 100_000
    assert elapsed < 20, f"100k posts took {elapsed:.1f}s"  # ~3 s on a laptop
    with pytest.raises(ValueError, match="at least 1"):
        generate(default, seed=1, posts=0)


def test_shipped_reviews_hold_no_listed_rule(default: Policy) -> None:
    matcher = Matcher(default.keyword_lists)
    assert [text for text in default.texts if matcher.lists_in(text)] == []


def test_text_lines_that_match_a_rule_are_not_used(tmp_path: Path) -> None:
    (tmp_path / "texts.txt").write_text("今天天气很好。\n我们去广场散步。\n", encoding="utf-8")
    (tmp_path / "k.txt").write_text("广场\n", encoding="utf-8")
    body = """start = 0
duration = "1h"
[authors]
count = 3
posts_per_day = { median = 240, sigma = 0 }
[text]
sources = ["texts.txt"]
[[keyword_list]]
name = "k"
file = "k.txt"
inject = 0.0
remove = 1.0
"""
    (tmp_path / "p.toml").write_text(body, encoding="utf-8")
    posts = generate(load_policy(tmp_path / "p.toml"), seed=1)
    assert len(posts) == 30 and {p.text for p in posts} == {"今天天气很好。"}
    (tmp_path / "texts.txt").write_text("广场\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="every text line"):
        generate(load_policy(tmp_path / "p.toml"), seed=1)


def test_matcher_needs_every_part_of_a_combination(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("六四+删帖\n血\n", encoding="utf-8")
    (tmp_path / "l.txt").write_text("六四天安门\n", encoding="utf-8")
    extra = (
        '[[keyword_list]]\nname = "c"\nfile = "c.txt"\ncombinations = true\n'
        'inject = 0.1\nremove = 0.5\n[[keyword_list]]\nname = "l"\nfile = "l.txt"\n'
        "inject = 0.1\nremove = 0.5\n"
    )
    policy = two_lists(tmp_path, extra)
    matcher = Matcher(policy.keyword_lists)
    assert matcher.lists_in("六四那天") == []
    assert matcher.lists_in("删帖，六四") == [2]
    assert matcher.lists_in("流血") == [2]  # a one-character rule
    assert matcher.lists_in("六四天安门，删帖，甲乙丙") == [0, 2, 3]


def test_generate_to_file_round_trips(tmp_path: Path, default: Policy) -> None:
    out = tmp_path / "scenario.jsonl"
    summary = generate_to_file(DEFAULT_POLICY_PATH, out, seed=1)
    loaded = load_scenario(out)
    assert loaded == generate(default, seed=1)
    assert summary == {"seed": 1, **summarize(loaded)}
    assert summary["posts"] == len(loaded)
    removed = [p for p in loaded if effective_removal(p, suspension_times(loaded))]
    assert summary["removed"] == len(removed)
    assert summary["removal_share"] == round(len(removed) / len(loaded), 4)
    assert str(summary["first_published"]).startswith("2024-06-02T16:")  # 00:00 Beijing


def test_summary_counts_effective_removals() -> None:
    posts = [
        ScenarioPost("1", "a", 0.0, "x", 10.0, "censored"),
        ScenarioPost("2", "b", 0.0, "x", 20.0, "account_suspended"),
        ScenarioPost("3", "b", 5.0, "x"),  # gone with its author's account
        ScenarioPost("4", "c", 0.0, "x", edits=((1.0, "y"),)),
    ]
    summary = summarize(posts)
    assert (summary["censored"], summary["account_suspended"], summary["removed"]) == (1, 2, 3)
    assert (summary["suspended_accounts"], summary["edited"], summary["authors"]) == (1, 1, 3)
    assert summary["removal_share"] == 0.75
