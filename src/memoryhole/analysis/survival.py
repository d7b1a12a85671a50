"""Time to removal: survival curves from interval-censored observations.

memoryhole never sees a removal happen. It sees a post alive at ``last_seen_alive_at`` and gone
at ``first_seen_removed_at``, so the removal time ``T`` (seconds since ``published_at``) is only
known to lie in ``(L, R]``; a post still alive is right-censored, ``T in (L, inf)``, with ``L``
its last sighting. The estimators here:

* **Turnbull** (1976) nonparametric maximum likelihood (NPMLE) for interval-censored data,
  computed with the self-consistency EM algorithm on the Turnbull "innermost" intervals,
  vectorised (one iteration is two prefix sums and two ``bincount``\\ s), alternated with
  iterative-convex-minorant steps (the EM-ICM algorithm of Wellner & Zhan 1997; plain EM
  needs thousands of iterations near the optimum, EM-ICM tens). Convergence is checked with
  the NPMLE's Kuhn–Tucker condition (Gentleman & Geyer 1994): the gradient ``d_j <= 1`` on
  every innermost interval, which bounds the distance to the maximal log-likelihood.
  The iterations run on an active set of intervals (the NPMLE's support is a few percent of
  them), the condition checked on all (:func:`_npmle_active`); the bootstrap's refits can run
  on several processes, with the same result bit for bit.
  The NPMLE fixes how much probability falls in each innermost interval, not where inside it;
  :meth:`TurnbullFit.survival` is the curve at the intervals' ends, and the median spreads
  the mass evenly inside the interval where the curve crosses 1/2 (an assumption).
* **Kaplan–Meier** on a single imputed time (Kaplan & Meier 1958): at the interval's midpoint
  (a cheap approximation, unbiased only when checks are frequent relative to the removal
  times) or at ``R = first_seen_removed_at`` ("naive": biased late by about half a check
  gap), with Greenwood's variance and log(-log) intervals.

Confidence intervals for the Turnbull curve and median are bootstrap percentile intervals
(resampling posts; Efron 1981), for Kaplan–Meier Greenwood-type intervals, and for its median
the Brookmeyer & Crowley (1982) interval read off the pointwise band.

A post whose publication time is known only to a window (``published_within`` seconds after
``published_at``; an imported log that names the day of publication and dates the removal, as
WeChatscope does) has ``T in [R - published_within, R]``: the removal is at the dated time, the
publication anywhere in the window. Without that, such a post's interval would run down to 0,
and the NPMLE of data whose every interval starts at 0 puts all the mass before the smallest
right end (the quickest removal): a degenerate, confidently wrong curve.

Assumptions: the check times are independent of the removal time given the past
("non-informative inspection": a schedule that reacts to the post's earlier state is fine, one
that peeks at the removal is not); posts are independent; survival does not depend on when a
post was found. Removal *kinds* are competing risks: for one kind, removals of another kind are
treated as right-censored at the last sighting, which estimates the cause-specific ("net")
survival under independence of the causes, not the cumulative incidence; ``kind=None`` treats
any removal as the event.
"""

from __future__ import annotations

import gc
import math
import os
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

from memoryhole.analysis.stats import FloatArray, IntArray

if TYPE_CHECKING:
    import pandas as pd

Method = Literal["turnbull", "km_midpoint", "km_naive"]

REMOVAL_KINDS: Final = ("censored", "author_deleted", "account_suspended", "unknown")
CURVE_COLUMNS: Final = ("time", "survival", "ci_low", "ci_high", "group")
SUMMARY_COLUMNS: Final = (
    "group",
    "method",
    "n",
    "events",
    "median",
    "median_ci_low",
    "median_ci_high",
)


# --------------------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class RemovalTiming:
    """One watched post, as the survival analysis sees it (epoch seconds).

    ``first_seen_removed_at`` is None for a post never seen removed; ``kind`` is its verdict
    (``"live"``, ``"censored"``, ...). ``last_seen_alive_at`` None means never seen alive
    (then ``L = 0``: removed some time after publication).
    """

    published_at: float
    last_seen_alive_at: float | None
    first_seen_removed_at: float | None
    kind: str | None
    group: str | None = None


_FIELDS: Final = ("published_at", "last_seen_alive_at", "first_seen_removed_at", "kind")


def _get(row: Any, name: str, position: int) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    if isinstance(row, tuple) and not hasattr(row, "_fields"):
        return row[position] if position < len(row) else None
    return getattr(row, name, None)


def _nan_if_none(values: Iterable[Any]) -> FloatArray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


@dataclass(frozen=True)
class Timings:
    """Column arrays of the input rows (``removed`` and ``alive`` NaN where missing)."""

    published: FloatArray
    alive: FloatArray
    removed: FloatArray
    kind: npt.NDArray[np.object_]
    group: npt.NDArray[np.object_]
    within: FloatArray | None = None  # publication window (seconds after published); 0: exact

    @classmethod
    def from_rows(
        cls, rows: Iterable[Any], group: str | Callable[[Any], Any] | None = None
    ) -> Timings:
        """Rows: :class:`RemovalTiming`, mappings, objects with those attributes, tuples
        ``(published_at, last_seen_alive_at, first_seen_removed_at, kind[, group])``, or a
        DataFrame with those columns (and optionally ``published_within``, seconds). ``group``:
        a column/attribute name or a function of the row giving the row's group (default: the
        ``group`` field, if any)."""
        if hasattr(rows, "columns") and hasattr(rows, "itertuples"):
            return cls._from_frame(rows, group)
        items = list(rows)
        published = _nan_if_none(_get(r, "published_at", 0) for r in items)
        alive = _nan_if_none(_get(r, "last_seen_alive_at", 1) for r in items)
        removed = _nan_if_none(_get(r, "first_seen_removed_at", 2) for r in items)
        kind = np.array([_get(r, "kind", 3) for r in items], dtype=object)
        if callable(group):
            groups = [group(r) for r in items]
        else:
            groups = [_get(r, group or "group", 4) for r in items]
        return cls(published, alive, removed, kind, np.array(groups, dtype=object))

    @classmethod
    def _from_frame(cls, frame: Any, group: str | Callable[[Any], Any] | None) -> Timings:
        missing = [f for f in _FIELDS if f not in frame.columns]
        if missing:
            raise ValueError(f"the DataFrame lacks the column(s) {', '.join(missing)}")

        def floats(name: str) -> FloatArray:
            return np.asarray(frame[name].astype("float64").to_numpy(), dtype=np.float64)

        if callable(group):
            groups = np.array([group(r) for r in frame.itertuples(index=False)], dtype=object)
        else:
            name = group or "group"
            groups = (
                frame[name].to_numpy(dtype=object)
                if name in frame.columns
                else np.full(len(frame), None, dtype=object)
            )
        return cls(
            floats("published_at"),
            floats("last_seen_alive_at"),
            floats("first_seen_removed_at"),
            frame["kind"].to_numpy(dtype=object),
            groups,
            floats("published_within") if "published_within" in frame.columns else None,
        )

    def subset(self, mask: npt.NDArray[np.bool_]) -> Timings:
        return Timings(
            self.published[mask],
            self.alive[mask],
            self.removed[mask],
            self.kind[mask],
            self.group[mask],
            None if self.within is None else self.within[mask],
        )

    def intervals(
        self, kind: str | Collection[str] | None = "censored"
    ) -> tuple[FloatArray, FloatArray]:
        """``(left, right)`` seconds since publication: ``T in (left, right]``, ``right = inf``
        for right-censored posts (still live, or removed by another kind than ``kind``).
        A removal with a publication window ``w`` (:attr:`within`) has
        ``left = max(left, right - w)``."""
        kinds = _kinds(kind)
        removal = ~np.isnan(self.removed)
        is_kind = (
            np.array([k in kinds for k in self.kind], dtype=bool) if self.kind.size else removal
        )
        event = removal & is_kind
        if np.any(np.isnan(self.published)):
            raise ValueError("every row needs published_at")
        alive = np.where(np.isnan(self.alive), self.published, self.alive)
        window = np.zeros(alive.size) if self.within is None else np.nan_to_num(self.within)
        # Published in [published, published + window]: T > alive - (published + window).
        left = np.maximum(alive - self.published - window, 0.0)
        right = np.where(event, self.removed - self.published, np.inf)
        dated = event & (window > 0)  # a dated removal: T >= R - window
        left = np.where(dated, np.maximum(left, right - window), left)
        if np.any(event & (right < left)):
            bad = int(np.flatnonzero(event & (right < left))[0])
            raise ValueError(
                f"row {bad}: first_seen_removed_at is before last_seen_alive_at "
                "(or before published_at)"
            )
        # A removal seen at the very moment of the last sighting: an (almost) exact time.
        same = event & (right <= left)
        left = np.where(same, np.nextafter(right, -np.inf), left)
        return left.astype(np.float64), right.astype(np.float64)


def _kinds(kind: str | Collection[str] | None) -> frozenset[str]:
    if kind is None:
        return frozenset(REMOVAL_KINDS)
    kinds = frozenset((kind,) if isinstance(kind, str) else kind)
    unknown = kinds - set(REMOVAL_KINDS)
    if unknown:
        raise ValueError(f"not removal kinds: {sorted(unknown)}; use {REMOVAL_KINDS} or None")
    return kinds


# --------------------------------------------------------------------------- Turnbull


def turnbull_intervals(left: FloatArray, right: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The innermost intervals ``(q_j, p_j]`` of half-open observations ``(left, right]``.

    Turnbull (1976): sort all endpoints, a right end before a left end at equal value (``(a, x]``
    holds ``x``, ``(x, b]`` does not); every left end immediately followed by a right end
    bounds an innermost interval. Only these can carry probability in an NPMLE.
    """
    values = np.concatenate((left, right))
    is_left = np.concatenate(
        (np.ones(left.size, dtype=np.int8), np.zeros(right.size, dtype=np.int8))
    )
    order = np.lexsort((is_left, values))
    v, lab = values[order], is_left[order]
    starts = np.flatnonzero((lab[:-1] == 1) & (lab[1:] == 0))
    return v[starts].astype(np.float64), v[starts + 1].astype(np.float64)


@dataclass(frozen=True)
class _Design:
    """Observations as index ranges over the innermost intervals, grouped by range."""

    q: FloatArray
    p: FloatArray
    first: IntArray  # per unique observation pattern
    last: IntArray
    weight: FloatArray
    inverse: IntArray  # observation -> pattern


def _design(left: FloatArray, right: FloatArray, weights: FloatArray | None = None) -> _Design:
    """``weights``: how many posts each ``(left, right)`` row stands for (None: one each);
    the same posts as rows or as counted distinct rows give the same design, bit for bit."""
    q, p = turnbull_intervals(left, right)
    first = np.searchsorted(q, left, side="left")
    last = np.searchsorted(p, right, side="right") - 1
    if np.any(last < first):  # cannot happen for left < right
        raise AssertionError("an observation contains no innermost interval")
    keys = first.astype(np.int64) * (q.size + 1) + last
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    if weights is not None:
        counts = np.bincount(inverse.ravel(), weights=weights, minlength=uniq.size)
    return _Design(
        q=q,
        p=p,
        first=(uniq // (q.size + 1)).astype(np.int64),
        last=(uniq % (q.size + 1)).astype(np.int64),
        weight=counts.astype(np.float64),
        inverse=inverse.astype(np.int64),
    )


def _em_step(
    mass: FloatArray, first: IntArray, last: IntArray, weight: FloatArray, total: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One self-consistency update. Returns (new mass, gradient d_j, each observation
    pattern's probability under ``mass``: ``sum(weight * log(prob))`` is its log-likelihood,
    left to the caller, which needs it only once)."""
    cumulative = np.concatenate(([0.0], np.cumsum(mass)))
    prob = cumulative[last + 1] - cumulative[first]
    prob = np.maximum(prob, 1e-300)
    coef = weight / prob
    size = mass.size + 1
    diff = np.bincount(first, weights=coef, minlength=size) - np.bincount(
        last + 1, weights=coef, minlength=size
    )
    gradient = np.cumsum(diff)[: mass.size] / total
    new = mass * gradient
    new /= new.sum()
    return new, gradient, prob


def _weighted_log(weight: FloatArray, prob: FloatArray) -> float:
    """``sum(weight * log(prob))`` without BLAS: ``np.dot`` goes through OpenBLAS, whose
    threads, on a machine with other work running, made one 30,000-term dot take ~12 ms
    instead of ~0.01 ms (two of them in each EM-ICM iteration: most of the bootstrap's time)."""
    return float(np.add.reduce(weight * np.log(prob)))


def _loglik(mass: FloatArray, first: IntArray, last: IntArray, weight: FloatArray) -> float:
    """The exact log-likelihood: ``-inf`` when an observed pattern has no probability.

    No floor here: with ``log(1e-300)`` in place of ``-inf`` an ICM trial that empties one
    pattern's intervals can still score higher, be accepted, and leave EM dividing by ~0
    (on 141,804 intervals the fit then stalled at 5,000 iterations with a median of 72 h
    instead of 2 h).
    """
    cumulative = np.concatenate(([0.0], np.cumsum(mass)))
    prob = cumulative[last + 1] - cumulative[first]
    if not bool(np.all(prob > 0)):
        return -math.inf
    return _weighted_log(weight, prob)


def _icm_step(
    mass: FloatArray,
    first: IntArray,
    last: IntArray,
    weight: FloatArray,
    loglik: float | None = None,
) -> tuple[FloatArray, float]:
    """One iterative-convex-minorant step (Groeneboom & Wellner 1992; Jongbloed 1998).

    In the cumulative parametrisation ``F_j = mass_0 + ... + mass_j`` (``F`` of the last
    interval fixed at 1) a Newton step with the diagonal of the Hessian is projected onto the
    monotone sequences by weighted isotonic regression (scipy's PAVA), then halved until the
    log-likelihood does not decrease. ``loglik``: that of ``mass``, computed here when None
    (from the same probabilities the step needs: no second pass).
    """
    from scipy.optimize import isotonic_regression

    size = mass.size
    cumulative = np.concatenate(([0.0], np.cumsum(mass)))
    prob = cumulative[last + 1] - cumulative[first]
    if loglik is None:
        loglik = _weighted_log(weight, np.maximum(prob, 1e-300))
    if np.any(prob <= 0):
        return mass, loglik
    c1 = weight / prob
    c2 = c1 / prob
    # d loglik / d F_j: +c1 where F_j is an observation's upper cumulative (j = last), -c1
    # where it is the lower one (j = first - 1).
    upper, lower = last, first - 1
    has_lower = lower >= 0
    below = lower[has_lower]
    grad = np.bincount(upper, weights=c1, minlength=size) - np.bincount(
        below, weights=c1[has_lower], minlength=size
    )
    hess = np.bincount(upper, weights=c2, minlength=size) + np.bincount(
        below, weights=c2[has_lower], minlength=size
    )
    free = size - 1  # F at the last interval is 1
    if free <= 0:
        return mass, loglik
    f = cumulative[1:size]
    h = np.maximum(hess[:free], 1e-12 * max(float(hess[:free].max()), 1e-300))
    target = f + grad[:free] / h
    projected = np.clip(isotonic_regression(target, weights=h).x, 0.0, 1.0)
    step = 1.0
    for _ in range(40):
        trial_f = f + step * (projected - f)
        trial = np.diff(np.concatenate(([0.0], trial_f, [1.0])))
        trial = np.maximum(trial, 0.0)
        value = _loglik(trial, first, last, weight)
        if value >= loglik:
            return trial / trial.sum(), value
        step /= 2.0
    return mass, loglik


def _npmle(
    first: IntArray,
    last: IntArray,
    weight: FloatArray,
    size: int,
    start: FloatArray | None = None,
    tol: float = 1e-7,
    max_iter: int = 5_000,
) -> tuple[FloatArray, int, bool, float, float]:
    """The NPMLE by EM-ICM (Wellner & Zhan 1997): alternate one ICM and one self-consistency
    (EM, Turnbull 1976) step; EM alone is very slow near the optimum.

    Stops when the Kuhn–Tucker gradient satisfies ``max_j d_j <= 1 + tol``: as the
    log-likelihood is concave and ``sum_j mass_j d_j = 1``, the log-likelihood is then within
    ``n * tol`` of its maximum (``n``: number of observations). Returns (mass, iterations,
    converged, log-likelihood, max gradient).
    """
    total = float(weight.sum())
    mass = np.full(size, 1.0 / size) if start is None else np.maximum(start, 1e-12 / size)
    mass = mass / mass.sum()
    converged = False
    iterations = 0
    while True:
        em, gradient, prob = _em_step(mass, first, last, weight, total)
        if float(gradient.max()) <= 1.0 + tol:
            converged = True
            break
        if iterations >= max_iter:
            break
        iterations += 1
        mass = em
        mass, _ = _icm_step(mass, first, last, weight)
    loglik = _weighted_log(weight, prob)
    return mass, iterations, converged, loglik, float(gradient.max())


def _restrict(
    first: IntArray, last: IntArray, weight: FloatArray, support: IntArray, size: int
) -> tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.bool_]]:
    """The patterns on the innermost intervals ``support`` (sorted indices into the ``size``
    intervals): each pattern's range ``[first, last]`` becomes the support intervals inside
    it, equal ranges merged. Returns (first, last, weight, which patterns hold no support
    interval: if any, the rest is empty)."""
    before = np.zeros(size + 1, dtype=np.int64)  # before[j]: support intervals below j
    before[support + 1] = 1
    before = np.cumsum(before)
    lo = before[first]
    hi = before[last + 1] - 1
    empty = hi < lo
    if bool(empty.any()):
        none = np.zeros(0, dtype=np.int64)
        return none, none, np.zeros(0), empty
    span = int((hi - lo).max()) + 1 if lo.size else 1  # a pattern holds few support points
    keys = lo * span + (hi - lo)
    if support.size * span <= 4_000_000:  # a dense count: no sort
        summed = np.bincount(keys, weights=weight, minlength=support.size * span)
        uniq = np.flatnonzero(summed)
        merged = summed[uniq]
    else:
        uniq, inverse = np.unique(keys, return_inverse=True)
        merged = np.bincount(inverse, weights=weight, minlength=uniq.size)
    start = uniq // span
    return (
        start.astype(np.int64),
        (start + uniq % span).astype(np.int64),
        merged.astype(np.float64),
        empty,
    )


def _npmle_active(
    first: IntArray,
    last: IntArray,
    weight: FloatArray,
    size: int,
    start: FloatArray | None = None,
    tol: float = 1e-7,
    max_iter: int = 5_000,
    warmup: int = 10,
    support: IntArray | None = None,
) -> tuple[FloatArray, int, bool, float, float]:
    """:func:`_npmle` on an active set of innermost intervals: the same NPMLE, the same
    stopping rule (``max_j d_j <= 1 + tol`` over *every* innermost interval), far less work.

    The NPMLE puts mass on few of the innermost intervals (628 of 60,887 for the 141,804
    removals of the 3M-post benchmark), but EM-ICM touches all of them and all the patterns
    in every iteration. Here the fit runs on a support set only (the intervals holding mass
    in ``start``, or after ``warmup`` full iterations from uniform; or ``support``), where
    the patterns collapse to a few thousand; then the Kuhn-Tucker gradient is computed once
    on the full grid, the intervals where it exceeds ``1 + tol`` join the set, and the fit
    resumes from where it was, until no interval violates the condition. (An interval left
    out has mass 0; a zero-mass interval with ``d_j <= 1`` is optimal as it is: Gentleman &
    Geyer 1994.) The first rounds stop at a looser tolerance, to find the missing intervals
    early; the last one at ``tol``.
    """
    total = float(weight.sum())
    iterations = 0
    if start is None:
        mass, iterations, converged, loglik, kkt = _npmle(
            first, last, weight, size, tol=tol, max_iter=min(warmup, max_iter)
        )
        if converged or iterations >= max_iter:
            return mass, iterations, converged, loglik, kkt
    else:
        mass = start / start.sum()
    chosen = np.flatnonzero(mass > 0) if support is None else support
    if chosen.size > size // 2:  # no gain: fit on the full grid
        out = _npmle(first, last, weight, size, start=mass, tol=tol, max_iter=max_iter)
        return out[0], out[1] + iterations, out[2], out[3], out[4]
    inner = max(tol, 1e-3)
    while True:
        sub_first, sub_last, sub_weight, empty = _restrict(first, last, weight, chosen, size)
        if bool(empty.any()):  # a pattern with no interval in the set: add one of its own
            chosen = np.union1d(chosen, first[empty])
            continue
        sub_mass, used, _, _, _ = _npmle(
            sub_first,
            sub_last,
            sub_weight,
            chosen.size,
            start=mass[chosen],
            tol=inner,
            max_iter=max(max_iter - iterations, 0),
        )
        iterations += used
        mass = np.zeros(size)
        mass[chosen] = sub_mass
        _, gradient, prob = _em_step(mass, first, last, weight, total)
        kkt = float(gradient.max())
        if kkt <= 1.0 + tol:
            return mass, iterations, True, _weighted_log(weight, prob), kkt
        if iterations >= max_iter:
            return mass, iterations, False, _weighted_log(weight, prob), kkt
        in_set = np.zeros(size, dtype=bool)
        in_set[chosen] = True
        missing = np.flatnonzero((gradient > 1.0 + tol) & ~in_set)
        if missing.size:
            # Only the largest violation between two neighbours in the set (Wang 2008's
            # constrained Newton method adds the gradient's local maxima): next to a
            # support point often thousands of intervals are barely over 1.
            gap = np.cumsum(in_set)[missing]
            order = np.lexsort((-gradient[missing], gap))
            head = np.concatenate(([True], gap[order][1:] != gap[order][:-1]))
            chosen = np.union1d(chosen, missing[order][head])
            inner = max(tol, inner / 10)
        elif inner > tol:
            inner = tol  # the set is complete: converge on it
        else:  # converged on the set, not on the grid (rounding): finish on the grid
            out = _npmle(
                first, last, weight, size, start=mass, tol=tol, max_iter=max_iter - iterations
            )
            return out[0], out[1] + iterations, out[2], out[3], out[4]


@dataclass(frozen=True)
class TurnbullFit:
    """The Turnbull NPMLE: probability ``mass[j]`` of removal within ``(q[j], p[j]]``.

    ``p[-1]`` may be ``inf``: the probability of surviving past the last finite check.
    ``kkt_max`` is the largest NPMLE gradient (1 at the exact NPMLE; slightly above 1 means
    not quite converged).
    """

    q: FloatArray
    p: FloatArray
    mass: FloatArray
    n: int
    events: int
    loglik: float
    iterations: int
    converged: bool
    kkt_max: float

    def survival(self) -> tuple[FloatArray, FloatArray]:
        """``(times, S(times))`` at the right ends of the finite innermost intervals."""
        finite = np.isfinite(self.p)
        s = 1.0 - np.cumsum(self.mass)
        return self.p[finite], np.clip(s[finite], 0.0, 1.0)

    def survival_at(self, t: npt.ArrayLike) -> FloatArray:
        """``S(t)``, with the mass spread evenly inside each innermost interval."""
        return _survival_at(self.q, self.p, self.mass, np.asarray(t, dtype=np.float64))

    def quantile(self, level: float = 0.5) -> float:
        """Smallest ``t`` with ``S(t) <= 1 - level`` (mass spread evenly within an interval);
        NaN when the curve does not fall that far within the observed times."""
        return _quantile(self.q, self.p, self.mass, level)

    @property
    def median(self) -> float:
        return self.quantile(0.5)


def _survival_at(q: FloatArray, p: FloatArray, mass: FloatArray, t: FloatArray) -> FloatArray:
    before = np.concatenate(([0.0], np.cumsum(mass)))  # F at q_j is before[j]
    j = np.searchsorted(p, t, side="left")  # first interval whose right end >= t
    j = np.minimum(j, q.size - 1) if q.size else j
    out = np.ones(t.shape, dtype=np.float64)
    if q.size == 0:
        return out
    f_before = before[j]
    width = p[j] - q[j]
    inside = (t > q[j]) & (t < p[j]) & np.isfinite(width)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(inside, (t - q[j]) / width, np.where(t >= p[j], 1.0, 0.0))
    cdf = np.where(t > p[-1], before[-1], f_before + frac * mass[j])
    out = 1.0 - cdf
    return np.clip(out, 0.0, 1.0).astype(np.float64)


def _quantile(q: FloatArray, p: FloatArray, mass: FloatArray, level: float) -> float:
    if mass.size == 0:
        return math.nan
    cdf = np.cumsum(mass)
    target = level - 1e-12
    j = int(np.searchsorted(cdf, target, side="left"))
    if j >= mass.size or not np.isfinite(p[j]):
        return math.nan
    start = cdf[j] - mass[j]
    frac = (level - start) / mass[j] if mass[j] > 0 else 1.0
    return float(q[j] + min(max(frac, 0.0), 1.0) * (p[j] - q[j]))


def turnbull(
    left: npt.ArrayLike,
    right: npt.ArrayLike,
    *,
    tol: float = 1e-7,
    max_iter: int = 5_000,
    weights: npt.ArrayLike | None = None,
) -> TurnbullFit:
    """The Turnbull (1976) NPMLE of the distribution of ``T`` from ``T in (left, right]``.

    ``right = inf`` marks right-censoring. Requires ``left < right`` elementwise.
    ``weights``: posts per row (counted distinct intervals, as the out-of-core engines
    give them); None: one post per row.
    """
    lo = np.asarray(left, dtype=np.float64)
    hi = np.asarray(right, dtype=np.float64)
    if lo.shape != hi.shape or lo.ndim != 1:
        raise ValueError("left and right must be 1-d arrays of the same length")
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo >= hi):
        raise ValueError("every interval needs left < right (no NaN)")
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    n, events = _counted(hi, w)
    if lo.size == 0:
        empty = np.zeros(0)
        return TurnbullFit(empty, empty, empty, 0, 0, 0.0, 0, True, math.nan)
    d = _design(lo, hi, w)
    mass, iterations, converged, loglik, kkt = _npmle_active(
        d.first, d.last, d.weight, d.q.size, tol=tol, max_iter=max_iter
    )
    return TurnbullFit(d.q, d.p, mass, n, events, loglik, iterations, converged, kkt)


def _counted(right: FloatArray, weights: FloatArray | None) -> tuple[int, int]:
    """Posts and events (finite ``right``) among rows standing for ``weights`` posts each."""
    if weights is None:
        return int(right.size), int(np.isfinite(right).sum())
    return int(weights.sum()), int(weights[np.isfinite(right)].sum())


@dataclass(frozen=True)
class _Resampler:
    """One bootstrap replicate from its pattern counts: the refit, warm-started from the full
    fit on the full fit's support, and its curve at ``times`` and median. A pure function of
    the counts, so a worker process computes exactly (bit for bit) what the parent would."""

    first: IntArray
    last: IntArray
    q: FloatArray
    p: FloatArray
    start: FloatArray
    support: IntArray
    times: FloatArray
    tol: float

    def __call__(self, counts: npt.NDArray[np.integer[Any]]) -> tuple[FloatArray, float]:
        w = counts.astype(np.float64)
        keep = w > 0
        mass, *_ = _npmle_active(
            self.first[keep],
            self.last[keep],
            w[keep],
            self.q.size,
            start=self.start,
            tol=self.tol,
            support=self.support,
        )
        return _survival_at(self.q, self.p, mass, self.times), _quantile(self.q, self.p, mass, 0.5)


_WORKER_RESAMPLER: list[_Resampler] = []  # set in each worker process by the initializer

#: Below this many observation patterns the bootstrap runs in-process (``workers=None``):
#: a replicate then takes milliseconds, less than starting worker processes.
PARALLEL_MIN_PATTERNS: Final = 20_000


def _init_worker(resampler: _Resampler) -> None:
    _WORKER_RESAMPLER[:] = [resampler]


def _resample_in_worker(counts: npt.NDArray[np.int32]) -> tuple[FloatArray, float]:
    return _WORKER_RESAMPLER[0](counts)


def _auto_workers(patterns: int, reps: int) -> int:
    """One process per core that is free: the available cores less the 1-minute load
    average, not counting this process (which may have been busy). On a machine shared
    with other work, extra workers only time-slice one free core with the parent: 200
    replicates of 470,000 removals took 43 s with 2 workers against 37 s with 1 while
    another job held a core, and 6.3 s against 10.9 s (141,804 removals) without it.
    The result does not depend on the count, only the time."""
    import multiprocessing

    if patterns < PARALLEL_MIN_PATTERNS or reps < 4 or multiprocessing.current_process().daemon:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        busy = max(os.getloadavg()[0] - 1.0, 0.0)
    except OSError:  # no load average
        busy = 0.0
    return max(1, min(cpus, 8, int(cpus - busy + 0.5)))


def _pool_context() -> Any:
    """``fork`` (workers start in milliseconds) when this process runs no other Python
    thread, whose locks a forked child could inherit held; else ``forkserver``/``spawn``."""
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _bootstrap_turnbull(
    lo: FloatArray,
    hi: FloatArray,
    fit: TurnbullFit,
    times: FloatArray,
    reps: int,
    seed: int,
    tol: float,
    workers: int | None = None,
    weights: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Survival at ``times`` and the median for each of ``reps`` bootstrap resamples.

    Resampling posts is a multinomial draw of weights over the observation patterns on the
    full sample's innermost intervals, warm-started from the full fit, so a replicate costs a
    few EM iterations over the distinct patterns, not a fresh Turnbull construction.
    Each of a resample's own innermost intervals holds one or more of the full sample's (its
    endpoints are a subset of theirs); on the finer grid the NPMLE has the same likelihood and
    the same mass in each of the resample's intervals (none outside them), so the curve is
    the same at their ends and differs only in how the mass is interpolated inside one of
    them (``test_resample_fit_on_full_grid_equals_fit_from_scratch``).

    ``workers``: processes for the refits (None: one per free core, :func:`_auto_workers`,
    when the data are large enough to gain, else 1). The parent draws every replicate's
    counts from the seeded generator in order and the refit is a pure function of them, so
    the output is bit for bit the same for any ``workers``.
    """
    d = _design(lo, hi, weights)
    probs = d.weight / d.weight.sum()
    n = int(d.weight.sum())
    resampler = _Resampler(
        d.first, d.last, d.q, d.p, fit.mass, np.flatnonzero(fit.mass > 0), times, tol
    )
    if workers is None:
        workers = _auto_workers(d.first.size, reps)
    if workers > 1:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return _bootstrap_in_pool(resampler, n, probs, reps, seed, workers)
        except (BrokenProcessPool, OSError) as error:  # e.g. a script without a main guard
            warnings.warn(
                f"the bootstrap's worker processes failed ({error!r}): the {reps} resamples "
                "run in this process instead (the same result, more slowly)",
                RuntimeWarning,
                stacklevel=3,
            )
    rng = np.random.default_rng(seed)
    curves = np.empty((reps, times.size))
    medians = np.empty(reps)
    for b in range(reps):
        curves[b], medians[b] = resampler(_draw(rng, n, probs))
    return curves, medians


def _draw(rng: np.random.Generator, n: int, probs: FloatArray) -> npt.NDArray[np.int32]:
    """One resample's pattern counts (int32: half the bytes to send to a worker)."""
    return rng.multinomial(n, probs).astype(np.int32)


def _bootstrap_in_pool(
    resampler: _Resampler, n: int, probs: FloatArray, reps: int, seed: int, workers: int
) -> tuple[FloatArray, FloatArray]:
    """The replicates on ``workers`` processes; the counts drawn here, in order, from the
    seeded generator (as the serial loop draws them), at most ``2 * workers`` in flight."""
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    rng = np.random.default_rng(seed)
    curves = np.empty((reps, resampler.times.size))
    medians = np.empty(reps)
    pending: deque[tuple[int, Future[tuple[FloatArray, float]]]] = deque()
    context = _pool_context()
    # A forked worker shares the parent's memory until it writes to it, and the cyclic
    # collector in a child walking the parent's objects (a 10M-post study's frame) writes to
    # every page it visits: frozen objects are left alone.
    freeze = context.get_start_method() == "fork"
    if freeze:
        gc.freeze()
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(resampler,)
        ) as pool:
            for b in range(reps):
                pending.append((b, pool.submit(_resample_in_worker, _draw(rng, n, probs))))
                while len(pending) > 2 * workers or (b == reps - 1 and pending):
                    done, future = pending.popleft()
                    curves[done], medians[done] = future.result()
    finally:
        if freeze:
            gc.unfreeze()
    return curves, medians


# --------------------------------------------------------------------------- Kaplan–Meier


@dataclass(frozen=True)
class KaplanMeierFit:
    """Kaplan–Meier curve at the distinct event times, with Greenwood log(-log) bounds."""

    times: FloatArray
    survival: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    at_risk: IntArray
    events_at: IntArray
    n: int
    events: int

    def quantile(self, level: float = 0.5) -> float:
        return _step_quantile(self.times, self.survival, level)

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    def median_ci(self) -> tuple[float, float]:
        """Brookmeyer–Crowley-type interval: where the pointwise band crosses 1/2."""
        return (
            _step_quantile(self.times, self.ci_low, 0.5),
            _step_quantile(self.times, self.ci_high, 0.5),
        )


def _step_quantile(times: FloatArray, survival: FloatArray, level: float) -> float:
    below = np.flatnonzero(survival <= 1.0 - level + 1e-12)
    return float(times[below[0]]) if below.size else math.nan


def kaplan_meier(
    durations: npt.ArrayLike, observed: npt.ArrayLike, alpha: float = 0.05
) -> KaplanMeierFit:
    """Kaplan & Meier (1958) product-limit estimate with Greenwood's variance.

    ``observed`` False means right-censored at the duration. A post censored at an event time
    counts as at risk at that time. Bounds use the log(-log) transform (as lifelines does).
    """
    from scipy import stats as sps

    t = np.asarray(durations, dtype=np.float64)
    e = np.asarray(observed, dtype=bool)
    if t.shape != e.shape:
        raise ValueError("durations and observed must have the same length")
    n = int(t.size)
    uniq, inverse = np.unique(t, return_inverse=True)
    deaths = np.bincount(inverse, weights=e.astype(np.float64), minlength=uniq.size)
    leaving = np.bincount(inverse, minlength=uniq.size).astype(np.float64)
    at_risk = n - np.concatenate(([0.0], np.cumsum(leaving)[:-1]))
    has_event = deaths > 0
    times, d, r = uniq[has_event], deaths[has_event], at_risk[has_event]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1.0 - d / r)
        greenwood = np.cumsum(np.where(r > d, d / (r * (r - d)), np.inf))
        z = float(sps.norm.isf(alpha / 2))
        log_s = np.log(survival)
        se = np.sqrt(greenwood) / np.abs(log_s)
        low = survival ** np.exp(z * se)
        high = survival ** np.exp(-z * se)
    low = np.where(np.isfinite(low) & (survival > 0), low, 0.0)
    high = np.where(survival >= 1.0, 1.0, np.where(np.isfinite(high), high, survival))
    high = np.where(survival <= 0, 0.0, high)
    return KaplanMeierFit(
        times=times.astype(np.float64),
        survival=survival.astype(np.float64),
        ci_low=np.clip(low, 0.0, 1.0).astype(np.float64),
        ci_high=np.clip(high, 0.0, 1.0).astype(np.float64),
        at_risk=r.astype(np.int64),
        events_at=d.astype(np.int64),
        n=n,
        events=int(e.sum()),
    )


def kaplan_meier_imputed(
    left: npt.ArrayLike,
    right: npt.ArrayLike,
    impute: Literal["midpoint", "right"] = "midpoint",
    alpha: float = 0.05,
) -> KaplanMeierFit:
    """Kaplan–Meier after replacing each interval by one time: its midpoint, or its right end
    (``first_seen_removed_at``: the naive estimate). Right-censored posts (``right = inf``) are
    censored at ``left``."""
    lo = np.asarray(left, dtype=np.float64)
    hi = np.asarray(right, dtype=np.float64)
    observed = np.isfinite(hi)
    point = (lo + hi) / 2 if impute == "midpoint" else hi
    durations = np.where(observed, point, lo)
    return kaplan_meier(durations, observed, alpha)


# --------------------------------------------------------------------------- curves


@dataclass(frozen=True)
class SurvivalSummary:
    group: Any
    method: str
    n: int
    events: int
    median: float
    median_ci_low: float
    median_ci_high: float


def survival_curve(
    left: npt.ArrayLike,
    right: npt.ArrayLike,
    *,
    method: Method = "turnbull",
    alpha: float = 0.05,
    bootstrap: int = 200,
    seed: int = 0,
    group: Any = None,
    tol: float = 1e-7,
    workers: int | None = None,
    weights: npt.ArrayLike | None = None,
) -> tuple[pd.DataFrame, SurvivalSummary]:
    """One survival curve from ``T in (left, right]`` (seconds since publication).

    Returns the curve (``time, survival, ci_low, ci_high, group``, plus ``time_low``: for the
    Turnbull curve the start of the innermost interval where the drop happened, for
    Kaplan–Meier equal to ``time``) starting at ``(0, 1)``, and a summary (n, events, median
    and its CI). ``method``: ``"turnbull"`` (CIs: ``bootstrap`` resamples, percentile; 0 for
    none), ``"km_midpoint"`` or ``"km_naive"`` (Greenwood log(-log) CIs). ``workers``:
    processes for the bootstrap refits (None: automatic; the result does not depend on it).
    ``weights``: posts per row (distinct intervals counted out of core; the bootstrap then
    reweights the counts); the result is the one of the rows repeated that often.
    """
    import pandas as pd

    lo = np.asarray(left, dtype=np.float64)
    hi = np.asarray(right, dtype=np.float64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and method != "turnbull":  # Kaplan-Meier takes one row per post
        counts = w.astype(np.int64)
        lo, hi, w = np.repeat(lo, counts), np.repeat(hi, counts), None
    n, events = _counted(hi, w)
    if method == "turnbull":
        fit = turnbull(lo, hi, tol=tol, weights=w)
        if not fit.converged:
            warnings.warn(
                f"the Turnbull fit stopped after {fit.iterations} iterations before converging "
                f"(largest Kuhn-Tucker gradient {fit.kkt_max:.3g}, want <= 1 + {tol:g}): treat the "
                "curve and median as approximate, and report this with the data's size",
                RuntimeWarning,
                stacklevel=2,
            )
        times, surv = fit.survival()
        keep = fit.mass[np.isfinite(fit.p)] > 1e-12
        times, surv = times[keep], surv[keep]
        starts = fit.q[np.isfinite(fit.p)][keep]
        median = fit.median
        ci_low = np.full(times.size, np.nan)
        ci_high = np.full(times.size, np.nan)
        med_lo = med_hi = math.nan
        if bootstrap > 0 and fit.n > 0:
            curves, medians = _bootstrap_turnbull(
                lo, hi, fit, times, bootstrap, seed, max(tol, 1e-6), workers, w
            )
            ci_low = np.quantile(curves, alpha / 2, axis=0) if times.size else ci_low
            ci_high = np.quantile(curves, 1 - alpha / 2, axis=0) if times.size else ci_high
            med_lo, med_hi = _nan_quantiles(medians, alpha)
    elif method in ("km_midpoint", "km_naive"):
        km = kaplan_meier_imputed(lo, hi, "midpoint" if method == "km_midpoint" else "right", alpha)
        times, surv, ci_low, ci_high = km.times, km.survival, km.ci_low, km.ci_high
        starts = times
        median = km.median
        med_lo, med_hi = km.median_ci()
    else:
        raise ValueError(f"unknown method {method!r}: use 'turnbull', 'km_midpoint' or 'km_naive'")
    frame = pd.DataFrame(
        {
            "time": np.concatenate(([0.0], times)),
            "survival": np.concatenate(([1.0], surv)),
            "ci_low": np.concatenate(([1.0], ci_low)),
            "ci_high": np.concatenate(([1.0], ci_high)),
            "group": [group] * (times.size + 1),
            "time_low": np.concatenate(([0.0], starts)),
        }
    )
    summary = SurvivalSummary(group, method, n, events, median, med_lo, med_hi)
    return frame, summary


def _nan_quantiles(values: FloatArray, alpha: float) -> tuple[float, float]:
    """Percentile interval of bootstrap medians; an undefined (NaN: beyond the data) median
    sorts as +inf, so the upper bound is NaN ("not reached") when over alpha/2 of them are."""
    if values.size == 0:
        return math.nan, math.nan
    v = np.where(np.isnan(values), np.inf, values)
    with np.errstate(invalid="ignore"):  # inf - inf between two "not reached" medians
        low, high = np.quantile(v, [alpha / 2, 1 - alpha / 2])
    return (
        float(low) if np.isfinite(low) else math.nan,
        float(high) if np.isfinite(high) else math.nan,
    )


def survival_curves(
    rows: Iterable[Any] | Timings | Any,
    *,
    kind: str | Collection[str] | None = "censored",
    by: str | Callable[[Any], Any] | None = None,
    method: Method = "turnbull",
    alpha: float = 0.05,
    bootstrap: int = 200,
    seed: int = 0,
    workers: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time-to-removal curves, overall or by group.

    ``rows``: see :meth:`Timings.from_rows` (``published_at, last_seen_alive_at,
    first_seen_removed_at, kind``). ``kind``: the removal kind(s) that are the event (None:
    any removal); posts still live, and posts removed otherwise, are right-censored at their
    last sighting. ``by``: None (one curve, group None), a column/attribute name (e.g.
    ``"platform"``) or function of the row, or ``"kind"`` for one curve per removal kind over
    all posts (each kind's cause-specific curve). Returns ``(curves, summary)``: curves with
    ``time, survival, ci_low, ci_high, group, time_low``, and one summary row per group with
    ``group, method, n, events, median, median_ci_low, median_ci_high`` (times in seconds).
    ``workers``: see :func:`survival_curve`.
    """
    import pandas as pd

    if by == "kind":
        timings = rows if isinstance(rows, Timings) else Timings.from_rows(rows)
        present = {
            k for k, r in zip(timings.kind, timings.removed, strict=True) if not math.isnan(r)
        }
        kinds = _kinds(kind) if kind is not None else frozenset(present)
        parts = [(k, *timings.intervals(k)) for k in REMOVAL_KINDS if k in kinds]
    else:
        timings = rows if isinstance(rows, Timings) else Timings.from_rows(rows, by)
        labels = timings.group if by is not None else np.full(timings.group.size, None, object)
        members: dict[Any, list[int]] = {}
        for position, label in enumerate(labels):
            members.setdefault(_group_key(label), []).append(position)
        keys = sorted(members, key=lambda k: (k is None, str(k)))
        if by is None:
            keys = [None]  # one curve, even for no rows
            members = {None: list(range(labels.size))}
        parts = []
        for key in keys:
            mask = np.zeros(labels.size, dtype=bool)
            mask[members[key]] = True
            parts.append((key, *timings.subset(mask).intervals(kind)))
    frames: list[pd.DataFrame] = []
    summaries: list[dict[str, Any]] = []
    for key, lo, hi in parts:
        frame, summary = survival_curve(
            lo,
            hi,
            method=method,
            alpha=alpha,
            bootstrap=bootstrap,
            seed=seed,
            group=key,
            workers=workers,
        )
        frames.append(frame)
        summaries.append({name: getattr(summary, name) for name in SUMMARY_COLUMNS})
    curves = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: [] for c in (*CURVE_COLUMNS, "time_low")})
    )
    summary_frame = pd.DataFrame(summaries, columns=list(SUMMARY_COLUMNS))
    return curves, summary_frame


def _group_key(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def intervals(
    rows: Iterable[Any] | Any, kind: str | Collection[str] | None = "censored"
) -> tuple[FloatArray, FloatArray]:
    """``(left, right)`` removal-time intervals (seconds since publication) of the rows."""
    timings = rows if isinstance(rows, Timings) else Timings.from_rows(rows)
    return timings.intervals(kind)


__all__: Sequence[str] = (
    "CURVE_COLUMNS",
    "SUMMARY_COLUMNS",
    "KaplanMeierFit",
    "RemovalTiming",
    "SurvivalSummary",
    "Timings",
    "TurnbullFit",
    "intervals",
    "kaplan_meier",
    "kaplan_meier_imputed",
    "survival_curve",
    "survival_curves",
    "turnbull",
    "turnbull_intervals",
)
