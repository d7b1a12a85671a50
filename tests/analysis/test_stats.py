"""The vectorised statistics equal scipy's scalar functions (and a plain CMH loop)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from memoryhole.analysis.stats import (
    bh_qvalues,
    binomial_greater_pvalues,
    clopper_pearson_interval,
    cmh_greater,
    fisher_greater_pvalues,
    wilson_interval,
)

p_values = st.lists(
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=200
)


@given(p_values)
@settings(max_examples=200, deadline=None)
def test_bh_equals_scipy(ps: list[float]) -> None:
    ours = bh_qvalues(ps)
    theirs = sps.false_discovery_control(np.array(ps), method="bh")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_bh_with_ties_nans_and_empty() -> None:
    ps = np.array([0.01, 0.01, 0.04, np.nan, 0.5, 0.01])
    q = bh_qvalues(ps)
    assert math.isnan(q[3])
    valid = ~np.isnan(ps)
    np.testing.assert_allclose(q[valid], sps.false_discovery_control(ps[valid]))
    assert bh_qvalues([]).size == 0
    with pytest.raises(ValueError):
        bh_qvalues([1.5])


@given(
    st.integers(min_value=1, max_value=400).flatmap(
        lambda n: st.tuples(st.integers(0, n), st.just(n), st.floats(0.0, 1.0))
    )
)
@settings(max_examples=200, deadline=None)
def test_binomial_pvalue_equals_binomtest(case: tuple[int, int, float]) -> None:
    k, n, p0 = case
    ours = float(binomial_greater_pvalues([k], [n], p0)[0])
    theirs = sps.binomtest(k, n, p0, alternative="greater").pvalue
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-300)


@given(
    st.integers(2, 300).flatmap(
        lambda total: st.tuples(
            st.just(total), st.integers(0, total), st.integers(0, total)
        ).flatmap(
            lambda t: st.tuples(
                st.just(t[0]),
                st.just(t[1]),
                st.just(t[2]),
                st.integers(max(0, t[1] + t[2] - t[0]), min(t[1], t[2])),
            )
        )
    )
)
@settings(max_examples=200, deadline=None)
def test_fisher_pvalue_equals_fisher_exact(case: tuple[int, int, int, int]) -> None:
    total, removed, group, k = case  # N posts, K removed, n in group, k removed in group
    table = [[k, group - k], [removed - k, total - group - removed + k]]
    theirs = sps.fisher_exact(table, alternative="greater").pvalue
    ours = float(fisher_greater_pvalues([k], [group], [removed], [total])[0])
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-300)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
@settings(max_examples=200, deadline=None)
def test_intervals_equal_scipy_proportion_ci(case: tuple[int, int]) -> None:
    k, n = case
    result = sps.binomtest(k, n)
    wilson = result.proportion_ci(confidence_level=0.95, method="wilson")
    exact = result.proportion_ci(confidence_level=0.95, method="exact")
    low, high = wilson_interval([k], [n])
    assert low[0] == pytest.approx(wilson.low, abs=1e-12)
    assert high[0] == pytest.approx(wilson.high, abs=1e-12)
    low, high = clopper_pearson_interval([k], [n])
    assert low[0] == pytest.approx(exact.low, abs=1e-12)
    assert high[0] == pytest.approx(exact.high, abs=1e-12)


def _cmh_loop(tables: list[tuple[int, int, int, int]], correction: bool) -> tuple[float, float]:
    """Textbook CMH over 2x2 tables [[a, b], [c, d]]: one-sided p-value and MH odds ratio."""
    s_diff = s_var = s_ad = s_bc = 0.0
    for a, b, c, d in tables:
        n = a + b + c + d
        if n < 2:
            continue
        row1, col1 = a + b, a + c
        s_diff += a - row1 * col1 / n
        s_var += row1 * (c + d) * col1 * (b + d) / (n * n * (n - 1))
        s_ad += a * d / n
        s_bc += b * c / n
    z = (s_diff - (0.5 if correction else 0.0)) / math.sqrt(s_var)
    return float(sps.norm.sf(z)), (s_ad / s_bc if s_bc else math.inf)


tables_strategy = st.lists(
    st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12), st.integers(0, 12)),
    min_size=1,
    max_size=15,
)


@given(tables_strategy, st.booleans())
@example(tables=[(0, 0, 0, 0), (0, 1, 1, 0)], correction=False)  # an empty stratum: was NaN
@settings(max_examples=150, deadline=None)
def test_cmh_equals_textbook_loop(
    tables: list[tuple[int, int, int, int]], correction: bool
) -> None:
    a = np.array([t[0] for t in tables])
    n1 = np.array([t[0] + t[1] for t in tables])
    m1 = np.array([t[0] + t[2] for t in tables])
    n = np.array([sum(t) for t in tables])
    p, _z, odds, var = cmh_greater(np.zeros(len(tables), int), a, n1, m1, n, 1, correction)
    if var[0] == 0:
        assert math.isnan(p[0])
        return
    want_p, _ = _cmh_loop(tables, correction)
    assert p[0] == pytest.approx(want_p, rel=1e-9, abs=1e-300)
    s_bc = sum(t[1] * t[2] / sum(t) for t in tables if sum(t))
    if s_bc > 0:
        _, want_or = _cmh_loop(tables, correction)
        assert odds[0] == pytest.approx(want_or, rel=1e-9)


def test_cmh_matches_statsmodels_when_available() -> None:
    sm = pytest.importorskip("statsmodels.stats.contingency_tables")
    rng = np.random.default_rng(4)
    tables = [rng.integers(0, 15, (2, 2)) + 1 for _ in range(12)]
    strat = sm.StratifiedTable(tables)
    a = np.array([t[0, 0] for t in tables])
    n1 = np.array([t[0].sum() for t in tables])
    m1 = np.array([t[:, 0].sum() for t in tables])
    n = np.array([t.sum() for t in tables])
    p, z, odds, _ = cmh_greater(np.zeros(12, int), a, n1, m1, n, 1, correction=False)
    # statsmodels reports the two-sided chi-square (= z^2) test.
    assert z[0] ** 2 == pytest.approx(strat.test_null_odds(correction=False).statistic)
    assert odds[0] == pytest.approx(strat.oddsratio_pooled)
    assert 0 <= p[0] <= 1
