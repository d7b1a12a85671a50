"""Change-point detection for removal rates: when did a term start (or stop) being removed?

A new censor rule shows as a jump in the removal rate of the posts containing a term, over
their publication time. For one series of posts, ordered by publication time, each removed or
not, :func:`detect_change` finds the single most likely change point and tests it:

* **Statistic**: the maximal Bernoulli likelihood-ratio statistic over split points
  (``2 * (loglik(before) + loglik(after) - loglik(all))``; the binary-segmentation statistic of
  Scott & Knott 1974, in its binomial form as in Worsley 1983), over splits leaving at least
  ``min_segment`` posts on each side (the statistic is unstable at the very ends).
* **P-value**: exact Monte Carlo permutation test. Under "no change" the removed posts are an
  exchangeable subset of the series, so random relabellings (drawn as multivariate
  hypergeometric counts over the bins, ``numpy``) give the statistic's null distribution,
  whatever the dependence between split points. Draws stop early once ``h`` null statistics
  exceed the observed one (Besag & Clifford 1991 sequential p-value ``h / draws``), so clearly
  uninteresting terms cost little; otherwise ``(exceedances + 1) / (draws + 1)``.
* **Far tail**: the permutation p-value cannot go below ``1 / (permutations + 1)``, too
  coarse once thousands of terms are corrected for, so a second exact p-value is computed:
  the union bound over split points of the exact (hypergeometric) probability that the
  statistic at that split reaches the observed value. The reported p-value is
  ``min(1, p_perm / 0.99, p_union / 0.01)``, valid by weighted Bonferroni over the two (a
  real rule change has a union bound far below 1e-4, so the small weight costs nothing).
* **Scale**: series longer than ``max_bins`` posts are cut into ``max_bins`` consecutive groups
  of (nearly) equal size, and splits are only considered between groups: the change time is
  then known to a group's width.

Over many terms, :func:`scan_changes` adds Benjamini–Hochberg q-values. One change per series
is reported (the most likely); a series with several changes reports the largest.
Assumptions: posts independent; the removal probability constant within each segment; the
outcome observed equally well on both sides (compare "removed within a fixed time after
publication", with posts published too late to have been watched that long left out: see
``analysis.tables.change_points``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln, xlogy

from memoryhole.analysis.stats import FloatArray, IntArray, bh_qvalues, wilson_interval

_UNION_WEIGHT: Final = 0.01

CHANGE_COLUMNS: Final = (
    "term",
    "posts",
    "removed",
    "change_at",
    "rate_before",
    "ci_before_low",
    "ci_before_high",
    "rate_after",
    "ci_after_low",
    "ci_after_high",
    "direction",
    "posts_before",
    "posts_after",
    "llr",
    "p_value",
    "q_value",
    "significant",
)


@dataclass(frozen=True)
class ChangePoint:
    """The most likely single change in a series, and its test."""

    n: int
    removed: int
    change_at: float  # between the last post before and the first after (midpoint)
    last_before: float
    first_after: float
    posts_before: int
    removed_before: int
    posts_after: int
    removed_after: int
    llr: float  # the maximal likelihood-ratio statistic
    p_value: float
    draws: int  # null draws made

    @property
    def rate_before(self) -> float:
        return self.removed_before / self.posts_before if self.posts_before else math.nan

    @property
    def rate_after(self) -> float:
        return self.removed_after / self.posts_after if self.posts_after else math.nan

    @property
    def direction(self) -> str:
        return "up" if self.rate_after > self.rate_before else "down"


def _f(k: FloatArray, n: FloatArray) -> FloatArray:
    """Maximised Bernoulli log-likelihood of k successes in n trials."""
    out: FloatArray = xlogy(k, k) + xlogy(n - k, n - k) - xlogy(n, n)
    return out


def _llr(
    cum_n: FloatArray, cum_k: npt.NDArray[np.float64], total_n: float, total_k: npt.ArrayLike
) -> FloatArray:
    """LR statistic at every split (last axis), for one or many count series."""
    k_total = np.asarray(total_k, dtype=np.float64)
    if cum_k.ndim == 2:
        k_total = k_total[:, None]
    before = _f(cum_k, cum_n)
    after = _f(k_total - cum_k, total_n - cum_n)
    whole = _f(k_total, np.asarray(total_n, dtype=np.float64))
    out: FloatArray = 2.0 * (before + after - whole)
    return out


def _bins(n: int, max_bins: int) -> IntArray:
    """Sizes of up to ``max_bins`` consecutive groups covering ``n`` posts."""
    if n <= max_bins:
        return np.ones(n, dtype=np.int64)
    edges = np.linspace(0, n, max_bins + 1).round().astype(np.int64)
    return np.diff(edges).astype(np.int64)


def detect_change(
    times: npt.ArrayLike,
    removed: npt.ArrayLike,
    *,
    min_segment: int = 10,
    max_bins: int = 400,
    permutations: int = 999,
    exceedances: int = 20,
    seed: int = 0,
) -> ChangePoint | None:
    """The most likely change point of a removed/not series and its permutation p-value.

    ``times``: publication times; ``removed``: booleans, one per post. None when the series
    cannot change (fewer than ``2 * min_segment`` posts, or all/none removed).
    """
    t = np.asarray(times, dtype=np.float64)
    y = np.asarray(removed, dtype=bool)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError("times and removed must be 1-d and of the same length")
    n, k = int(t.size), int(y.sum())
    if n < 2 * min_segment or k == 0 or k == n:
        return None
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    sizes = _bins(n, max_bins)
    ends = np.cumsum(sizes)
    bin_k = np.add.reduceat(y.astype(np.int64), ends - sizes)
    cum_n = ends[:-1].astype(np.float64)  # split after bin j: posts before it
    valid = (cum_n >= min_segment) & (n - cum_n >= min_segment)
    if not valid.any():
        return None
    cum_n, splits = cum_n[valid], np.flatnonzero(valid)
    cum_k = np.cumsum(bin_k)[:-1][valid].astype(np.float64)
    stat = _llr(cum_n, cum_k, float(n), float(k))
    best = int(np.argmax(stat))
    observed = float(stat[best])

    rng = np.random.default_rng(seed)
    draws = hits = 0
    chunk = 100
    p_value = math.nan
    while draws < permutations:
        size = min(chunk, permutations - draws)
        null_k = rng.multivariate_hypergeometric(sizes, k, size=size)
        null_cum = np.cumsum(null_k, axis=1)[:, :-1][:, valid].astype(np.float64)
        null_max = _llr(cum_n, null_cum, float(n), np.full(size, float(k))).max(axis=1)
        exceed = null_max >= observed - 1e-9
        if hits + int(exceed.sum()) >= exceedances:
            at = int(np.flatnonzero(np.cumsum(exceed) + hits >= exceedances)[0]) + 1
            draws += at
            hits = exceedances
            p_value = exceedances / draws
            break
        hits += int(exceed.sum())
        draws += size
    else:
        p_value = (hits + 1) / (draws + 1)

    # A second valid p-value, exact and good far in the tail where the permutations run out:
    # the union (Bonferroni) bound over splits of P(LLR_j >= observed), each exact under the
    # hypergeometric null. Combined by weighted Bonferroni: P(p_perm <= (1 - w) a) +
    # P(p_union <= w a) <= a.
    # Only worth computing where the permutations ran out (else p_perm / (1 - w) is reported,
    # which is at least the combined p-value, so still valid).
    p_union = _union_bound(cum_n, n, k, observed) if hits < 5 else 1.0
    p_value = min(1.0, p_value / (1.0 - _UNION_WEIGHT), p_union / _UNION_WEIGHT)

    split_bin = int(splits[best])
    before_n = int(ends[split_bin])
    before_k = int(bin_k[: split_bin + 1].sum())
    last_before, first_after = float(t[before_n - 1]), float(t[before_n])
    return ChangePoint(
        n=n,
        removed=k,
        change_at=(last_before + first_after) / 2,
        last_before=last_before,
        first_after=first_after,
        posts_before=before_n,
        removed_before=before_k,
        posts_after=n - before_n,
        removed_after=k - before_k,
        llr=observed,
        p_value=float(min(p_value, 1.0)),
        draws=draws,
    )


def _log_choose(a: FloatArray, b: FloatArray) -> FloatArray:
    out: FloatArray = gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)
    return out


def _union_bound(cum_n: FloatArray, n: int, k: int, observed: float) -> float:
    """``sum_j P(LLR_j >= observed)`` with ``K_j ~ Hypergeom(n, k, cum_n[j])`` exactly."""
    total = 0.0
    values = np.arange(k + 1, dtype=np.float64)
    step = max(1, 2_000_000 // (k + 1))
    log_all = float(_log_choose(np.array([n], dtype=np.float64), np.array([k], np.float64))[0])
    whole = float(_f(np.array([k], dtype=np.float64), np.array([n], dtype=np.float64))[0])
    for start in range(0, cum_n.size, step):
        n1 = cum_n[start : start + step, None]
        kk: FloatArray = np.broadcast_to(values, (n1.shape[0], values.size))
        possible = (kk >= np.maximum(0.0, k - (n - n1))) & (kk <= np.minimum(k, n1))
        with np.errstate(invalid="ignore"):
            stat = 2.0 * (_f(kk, n1) + _f(k - kk, n - n1) - whole)
        rows, cols = np.nonzero(possible & (stat >= observed - 1e-9))
        if rows.size:
            a, m = values[cols], n1[rows, 0]
            # P(K_j = a) = C(m, a) C(n - m, k - a) / C(n, k): choose which removed posts fall
            # before the split.
            log_p = _log_choose(m, a) + _log_choose(n - m, k - a) - log_all
            total += float(np.exp(log_p).sum())
        if total >= 1.0:
            return 1.0
    return total


def change_row(term: str, change: ChangePoint, alpha: float = 0.05) -> dict[str, object]:
    """One row of :data:`CHANGE_COLUMNS` (without ``q_value``/``significant``)."""
    low, high = wilson_interval(
        [change.removed_before, change.removed_after],
        [change.posts_before, change.posts_after],
        alpha,
    )
    return {
        "term": term,
        "posts": change.n,
        "removed": change.removed,
        "change_at": change.change_at,
        "rate_before": change.rate_before,
        "ci_before_low": float(low[0]),
        "ci_before_high": float(high[0]),
        "rate_after": change.rate_after,
        "ci_after_low": float(low[1]),
        "ci_after_high": float(high[1]),
        "direction": change.direction,
        "posts_before": change.posts_before,
        "posts_after": change.posts_after,
        "llr": change.llr,
        "p_value": change.p_value,
    }


def add_qvalues(rows: list[dict[str, object]], alpha: float = 0.05) -> list[dict[str, object]]:
    """BH q-values over the rows' ``p_value`` and ``significant = q < alpha``, sorted by q."""
    q = bh_qvalues([float(r["p_value"]) for r in rows])  # type: ignore[arg-type]
    for row, value in zip(rows, q, strict=True):
        row["q_value"] = float(value)
        row["significant"] = bool(value < alpha)
    return sorted(rows, key=lambda r: (r["q_value"], -float(r["llr"]), str(r["term"])))  # type: ignore[arg-type]
