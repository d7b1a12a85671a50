"""Vectorised building blocks: binomial confidence intervals, exact one-sided tests, the
Cochran–Mantel–Haenszel test and Benjamini–Hochberg q-values.

Every function takes and returns numpy arrays (one element per term), so thousands of terms
cost one call. They are checked against scipy's scalar functions in the tests.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def bh_qvalues(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini–Hochberg (1995) adjusted p-values ("q-values") for the step-up procedure.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the p-values sorted ascending. Rejecting
    every hypothesis with ``q <= alpha`` is the BH procedure at FDR level ``alpha``; it controls
    the false discovery rate at ``alpha * m0 / m`` for independent or positively dependent
    (PRDS) tests (Benjamini & Yekutieli 2001). Equal to
    ``scipy.stats.false_discovery_control(p, method="bh")``. NaN inputs are left out of ``m``
    and give NaN.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        p = p.ravel()
    q = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    pv = p[valid]
    m = pv.size
    if m == 0:
        return q
    if np.any((pv < 0) | (pv > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    q[valid] = out
    return q


def wilson_interval(
    successes: npt.ArrayLike, trials: npt.ArrayLike, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Wilson (1927) score interval for a binomial proportion, ``1 - alpha`` two-sided.

    Good coverage even for small ``n`` and rates near 0 or 1, unlike the Wald interval.
    NaN where ``trials == 0``.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = float(sps.norm.isf(alpha / 2))
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        phat = k / n
        denom = 1.0 + z2 / n
        center = (phat + z2 / (2 * n)) / denom
        half = z * np.sqrt(phat * (1 - phat) / n + z2 / (4 * n * n)) / denom
    low = np.clip(center - half, 0.0, 1.0)
    high = np.clip(center + half, 0.0, 1.0)
    # Exact ends: the Wilson bound at k = 0 (k = n) is 0 (1) up to rounding.
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    return low.astype(np.float64), high.astype(np.float64)


def clopper_pearson_interval(
    successes: npt.ArrayLike, trials: npt.ArrayLike, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Clopper–Pearson (1934) "exact" interval: guaranteed coverage, conservative."""
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(k > 0, sps.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        high = np.where(k < n, sps.beta.isf(alpha / 2, k + 1, n - k), 1.0)
    bad = n <= 0
    return (
        np.where(bad, np.nan, low).astype(np.float64),
        np.where(bad, np.nan, high).astype(np.float64),
    )


def binomial_greater_pvalues(
    successes: npt.ArrayLike, trials: npt.ArrayLike, p0: float
) -> FloatArray:
    """Exact one-sided binomial test ``P(X >= k)``, ``X ~ Bin(n, p0)``, per element.

    The same number as ``scipy.stats.binomtest(k, n, p0, alternative="greater").pvalue``.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if not 0.0 <= p0 <= 1.0:
        raise ValueError("p0 must lie in [0, 1]")
    p = sps.binom.sf(k - 1, n, p0)
    return np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)


def fisher_greater_pvalues(
    successes: npt.ArrayLike,
    trials: npt.ArrayLike,
    total_successes: npt.ArrayLike,
    total: npt.ArrayLike,
) -> FloatArray:
    """One-sided Fisher exact test of the 2x2 table "in the group vs the rest".

    With ``total`` posts of which ``total_successes`` are removed, and a group of ``trials``
    posts of which ``successes`` are removed, the p-value is the hypergeometric tail
    ``P(X >= successes)``: the same as ``scipy.stats.fisher_exact([[k, n - k],
    [K - k, N - n - K + k]], alternative="greater")``.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    big_k = np.asarray(total_successes, dtype=np.float64)
    big_n = np.asarray(total, dtype=np.float64)
    p = sps.hypergeom.sf(k - 1, big_n, big_k, n)
    return np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)


def cmh_greater(
    group: npt.ArrayLike,
    a: npt.ArrayLike,
    n1: npt.ArrayLike,
    m1: npt.ArrayLike,
    n: npt.ArrayLike,
    n_groups: int,
    correction: bool = True,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One-sided Cochran–Mantel–Haenszel test for many 2x2xK tables at once.

    Each row is one stratum of one table: ``group`` (the table, e.g. a term id in
    ``0..n_groups-1``), ``a`` (exposed cases: removed posts with the term), ``n1`` (exposed:
    posts with the term), ``m1`` (cases: removed posts in the stratum) and ``n`` (stratum size).
    Strata absent for a table contribute nothing (``a = n1 = 0``).

    Statistic (Mantel & Haenszel 1959): ``Z = (sum(a - E[a]) - c) / sqrt(sum(Var a))`` with the
    hypergeometric ``E[a] = n1 m1 / n`` and ``Var a = n1 n0 m1 m0 / (n^2 (n - 1))``, and
    ``c = 1/2`` with the continuity correction; the p-value is ``P(N(0,1) >= Z)`` (alternative:
    a common odds ratio above 1). Returns ``(p_value, z, mh_odds_ratio, total_variance)``; a
    table without an informative stratum (total variance 0) gets p-value NaN.
    """
    g = np.asarray(group, dtype=np.int64)
    a_ = np.asarray(a, dtype=np.float64)
    n1_ = np.asarray(n1, dtype=np.float64)
    m1_ = np.asarray(m1, dtype=np.float64)
    n_ = np.asarray(n, dtype=np.float64)
    n0 = n_ - n1_
    m0 = n_ - m1_
    with np.errstate(divide="ignore", invalid="ignore"):
        # An empty stratum (n = 0) contributes nothing (not 0/0).
        expected = np.where(n_ > 0, n1_ * m1_ / n_, 0.0)
        var = np.where(n_ > 1, n1_ * n0 * m1_ * m0 / (n_ * n_ * (n_ - 1)), 0.0)
        # Mantel–Haenszel common odds ratio: sum(a d / n) / sum(b c / n).
        b = n1_ - a_
        c = m1_ - a_
        d = n_ - n1_ - m1_ + a_
        ad = np.where(n_ > 0, a_ * d / n_, 0.0)
        bc = np.where(n_ > 0, b * c / n_, 0.0)
    diff = np.bincount(g, weights=a_ - expected, minlength=n_groups)
    total_var = np.bincount(g, weights=var, minlength=n_groups)
    sum_ad = np.bincount(g, weights=ad, minlength=n_groups)
    sum_bc = np.bincount(g, weights=bc, minlength=n_groups)
    shift = 0.5 if correction else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(total_var > 0, (diff - shift) / np.sqrt(total_var), np.nan)
        odds = np.where(sum_bc > 0, sum_ad / sum_bc, np.where(sum_ad > 0, np.inf, np.nan))
    p = np.where(np.isnan(z), np.nan, sps.norm.sf(z))
    return (
        p.astype(np.float64),
        z.astype(np.float64),
        odds.astype(np.float64),
        total_var.astype(np.float64),
    )
