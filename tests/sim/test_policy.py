"""The censor policy file: the shipped default, the value forms, and errors that name the line."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime
from pathlib import Path

import pytest

from memoryhole.errors import PolicyError
from memoryhole.sim.policy import (
    DEFAULT_POLICY_PATH,
    ZHU_2013_DELAY,
    LogNormal,
    key_lines,
    load_policy,
)

REVIEWS = DEFAULT_POLICY_PATH.parent / "reviews.txt"
MINIMAL = f"""start = 2024-01-01
duration = "1d"
[authors]
count = 5
posts_per_day = {{ median = 10, sigma = 0.5 }}
[text]
sources = ["{REVIEWS}"]
"""


def write(tmp_path: Path, body: str, **files: str) -> Path:
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(body, encoding="utf-8")
    return path


def error_of(path: Path) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return caught.value


def test_default_policy_is_shipped_in_the_package_and_loads() -> None:
    assert DEFAULT_POLICY_PATH.is_file()
    assert DEFAULT_POLICY_PATH.parent.parent == Path(__file__).parents[2] / "src/memoryhole/sim"
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert policy.start == datetime(2024, 6, 2, 16, tzinfo=UTC).timestamp()  # 00:00 +08:00
    assert policy.duration == 2 * 86400
    assert policy.authors == 60
    assert len(policy.texts) == 2600
    names = [keyword_list.name for keyword_list in policy.keyword_lists]
    assert names == [
        "june-4",
        "june-4-wechat",
        "coronavirus-wechat",
        "tom-skype-2011-12-18",
        "tom-skype-2011-12-26",
    ]
    old, new = policy.keyword_lists[3], policy.keyword_lists[4]
    assert old.active_from is None and new.active_until is None
    assert old.active_until == new.active_from == policy.start + 86400  # "1d" after start
    assert policy.keyword_lists[0].delay == ZHU_2013_DELAY  # the [censor] delay
    assert 0 < policy.background.rate < policy.author_deletion.rate < 0.1
    assert round(policy.suspension.share * policy.authors) == 2


def test_the_default_delay_matches_the_figures_it_cites() -> None:
    # Zhu et al. as the data notes state them: ~30% within an hour, ~75% within a day.
    full = LogNormal(ZHU_2013_DELAY.median, ZHU_2013_DELAY.sigma)
    assert full.quantile(0.30) == pytest.approx(3600, rel=0.05)
    assert full.quantile(0.75) == pytest.approx(86400, rel=0.05)
    # The cut at 30 days drops ~2.5% of the law, moving the median down by under 10%.
    assert 0.9 * ZHU_2013_DELAY.median < ZHU_2013_DELAY.quantile(0.5) < ZHU_2013_DELAY.median


def test_combinations_are_split_and_literal_lists_are_not(tmp_path: Path) -> None:
    body = MINIMAL + (
        '[[keyword_list]]\nname = "combo"\nfile = "c.txt"\ncombinations = true\n'
        "inject = 0.1\nremove = 0.5\n"
        '[[keyword_list]]\nname = "literal"\nfile = "l.txt"\ninject = 0.1\nremove = 0.5\n'
    )
    lines = "六四+删帖\n 开枪 \n\n六四+删帖\n88+1\n"
    policy = load_policy(write(tmp_path, body, **{"c.txt": lines, "l.txt": lines}))
    combo, literal = policy.keyword_lists
    assert combo.rules == (("六四", "删帖"), ("开枪",), ("88", "1"))
    assert literal.rules == (("六四+删帖",), ("开枪",), ("88+1",))
    assert combo.path == tmp_path / "c.txt"  # relative to the policy file


def test_times_and_windows_in_every_form(tmp_path: Path) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    windows = (
        'active_from = "12h"\nactive_until = 2024-01-02T06:00:00+00:00\n',
        'active_from = 3600\nactive_until = "2024-01-03"\n',
    )
    for window in windows:
        body = MINIMAL + (
            '[[keyword_list]]\nname = "x"\nfile = "k.txt"\ninject = 0.1\nremove = 0.5\n' + window
        )
        keyword_list = load_policy(write(tmp_path, body, **{"k.txt": "词\n"})).keyword_lists[0]
        assert keyword_list.active_from is not None and keyword_list.active_until is not None
        assert keyword_list.active_from - start in (43200, 3600)
        assert keyword_list.active_until - start in (30 * 3600, 2 * 86400)
        assert not keyword_list.active_at(keyword_list.active_from - 1)
        assert keyword_list.active_at(keyword_list.active_from)
        assert not keyword_list.active_at(keyword_list.active_until)
    for form in ("1704067200", '"2024-01-01T00:00:00Z"', "2024-01-01T00:00:00"):
        body = MINIMAL.replace("start = 2024-01-01", f"start = {form}")
        assert load_policy(write(tmp_path, body)).start == start


def test_a_broken_table_header_names_its_line(tmp_path: Path) -> None:
    # The same file as the CLI test: line 4 opens an array of tables and never closes it.
    path = write(tmp_path, "[authors]\ncount = 10\n\n[[keyword_list\nname = 'x'\n")
    error = error_of(path)
    assert error.line == 4
    assert str(error).startswith(f"{path}:4: not valid TOML")
    assert "column" in str(error)


def test_unterminated_string_points_at_the_last_line(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, 'start = 2024-01-01\nduration = "1d\n'))
    assert error.line == 2


LIST = '[[keyword_list]]\nname = "x"\nfile = "k.txt"\ninject = 0.1\nremove = 0.5\n'
# Each case: a change to a valid policy, the line the error must name, words it must contain.
# MINIMAL has 7 lines, so the keyword list starts on line 8.
SEMANTIC_ERRORS = [
    (LIST.replace("inject = 0.1", "inject = 1.5"), 11, "probability"),
    (LIST.replace("remove = 0.5", "remov = 0.5"), 12, "unknown key"),
    (LIST.replace('"k.txt"', '"missing.txt"'), 10, "cannot read keyword list"),
    (LIST + 'delay = { median = "soon", sigma = 1 }\n', 13, "duration"),
    (LIST + "delay = { median = 60, sigma = 1, max = 30 }\n", 13, "above the median"),
    (LIST + 'active_from = "2d"\nactive_until = "1d"\n', 14, "after 'active_from'"),
    (LIST + LIST, 14, "two keyword lists are named 'x'"),
    (LIST.replace('name = "x"\n', ""), 8, "name"),
    (LIST.replace('"k.txt"', '"empty.txt"'), 10, "no keywords"),
    ('[suspension]\nshare = "two"\n', 9, "number"),
]


@pytest.mark.parametrize(("extra", "line", "words"), SEMANTIC_ERRORS)
def test_semantic_errors_name_the_line(tmp_path: Path, extra: str, line: int, words: str) -> None:
    path = write(tmp_path, MINIMAL + extra, **{"k.txt": "词\n", "empty.txt": "\n  \n"})
    error = error_of(path)
    assert error.line == line, str(error)
    assert words in error.problem
    assert str(error).startswith(f"{path}:{line}: ")


def test_errors_in_the_top_sections(tmp_path: Path) -> None:
    cases = [
        (MINIMAL.replace("count = 5", "count = 0"), 4, ">= 1"),
        (MINIMAL.replace("count = 5", "count = 2.5"), 4, "whole number"),
        (MINIMAL.replace("count = 5", "count = inf"), 4, ">= 1"),
        (MINIMAL.replace('duration = "1d"', "duration = inf"), 2, "finite"),
        (MINIMAL.replace('duration = "1d"', 'duration = "1 fortnight"'), 2, "duration"),
        (MINIMAL.replace(str(REVIEWS), "nowhere.txt"), 7, "cannot read text"),
        (MINIMAL.replace("posts_per_day", "per_day"), 5, "unknown key 'authors.per_day'"),
        (MINIMAL.replace("start = 2024-01-01\n", ""), None, "start"),
    ]
    for body, line, words in cases:
        error = error_of(write(tmp_path, body))
        assert (error.line, words in error.problem) == (line, True), str(error)


def test_unreadable_policy_files(tmp_path: Path) -> None:
    missing = error_of(tmp_path / "nope.toml")
    assert missing.line is None and "cannot open" in missing.problem
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"start = \xff\xfe\n")
    assert "UTF-8" in error_of(binary).problem


def test_key_lines_maps_tables_arrays_and_inline_keys() -> None:
    text = (
        "start = 1\n"
        "[authors]\n"
        "# count = 99\n"
        "count = 3\n"
        "[[keyword_list]]\n"
        "name = 'a'\n"
        "[[keyword_list]]\n"
        "delay = { median = 1, sigma = 1 }\n"
    )
    lines = key_lines(text)
    assert lines[("start",)] == 1
    assert lines[("authors",)] == 2
    assert lines[("authors", "count")] == 4  # not the comment on line 3
    assert lines[("keyword_list", 0, "name")] == 6
    assert lines[("keyword_list", 1)] == 7
    assert lines[("keyword_list", 1, "delay")] == 8


def test_lognormal_sampling_honours_median_sigma_and_cut() -> None:
    rng = random.Random(5)
    plain = LogNormal(600.0, 1.0)
    draws = [plain.sample(rng) for _ in range(20000)]
    # The sample median of 20,000 log-normal draws has a log-scale standard error of
    # 1.2533 * sigma / sqrt(n) ~ 0.009: 5% is over five standard errors.
    assert statistics.median(draws) == pytest.approx(600.0, rel=0.05)
    cut = LogNormal(3600.0, 2.0, maximum=7200.0)
    draws = [cut.sample(rng) for _ in range(20000)]
    assert max(draws) <= 7200.0
    # Truncation moves the median down to the quantile 0.5 * P(X <= max) of the full law.
    assert cut.quantile(0.5) < 3600.0
    assert statistics.median(draws) == pytest.approx(cut.quantile(0.5), rel=0.05)
    assert LogNormal(5.0, 0.0).sample(rng) == 5.0 == LogNormal(5.0, 0.0).quantile(0.9)
