"""The removal hazard by post age, learnt online from what the collector observes.

Ages are cut into log-spaced bins (one minute, then ×1.5 up to the horizon). In each bin the
hazard is removals ÷ post-seconds at risk, the discrete-time (actuarial) estimator, which takes
the growing window of a live run in its stride: a post only counts as "at risk" at ages it has
been seen alive through, so early in a run, when no post is old yet, the old-age bins rest on
the prior alone instead of looking removal-free.

Removals are *interval-censored*: a post is last seen alive at age ``l`` and first seen
removed at age ``r``. Each removal is spread over the bins (l, r] overlaps in proportion to the
current estimate of the removal mass there (one self-consistency step of Turnbull's estimator,
done as each removal arrives), and the post counts as at risk for half of (l, r].

The prior resembles Zhu et al. (USENIX Security 2013) on Weibo: of the posts removed, ~30% go
within an hour and ~75% within a day (log-normal, median 4 h, log-sd 2.65), and
``prior_share`` (10%) of all posts are removed within the horizon; it weighs as much as
``prior_weight`` posts observed through every bin, so a few hundred real posts outweigh it.

From the bins: the hazard ``h(a)`` and the cumulative hazard ``L(a)``; and, for the schedule,
the integral of ``h^e`` (``e`` the ``exponent``): a check is due when ``rr^e ∫ h^e`` since a
post was last seen alive reaches a threshold. ``e`` = 1/2 is the square-root rule, which
minimises the mean detection delay; ``e`` → 1 spends each check on an equal share of the
removal probability, which minimises the mean log delay (the median, rather than the tail).
``next_age`` inverts the integral exactly (it is piecewise linear).

Removal times change over time (a censor speeds up around an anniversary, a moderation team
changes its shifts), so what was learnt can be made to fade: with a ``half_life``, ``forget``
(the scheduler calls it every control period) weighs every count by 2^(−its age / half_life),
the prior excepted, so the estimate follows the recent removals and falls back on the prior
where nothing recent speaks.
"""

from __future__ import annotations

import bisect
import itertools
import math
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

PRIOR_MEDIAN = 4 * 3600.0
PRIOR_SIGMA = 2.65


class RemovalHazard:
    def __init__(
        self,
        horizon: float,
        *,
        first_edge: float = 60.0,
        ratio: float = 1.5,
        prior_share: float = 0.10,
        prior_weight: float = 30.0,
        prior_median: float = PRIOR_MEDIAN,
        prior_sigma: float = PRIOR_SIGMA,
        exponent: float = 0.5,
        half_life: float | None = None,
    ) -> None:
        if horizon <= first_edge:
            raise ValueError("the horizon must be longer than the first bin")
        edges = [0.0, first_edge]
        while edges[-1] * ratio < horizon:
            edges.append(edges[-1] * ratio)
        edges.append(horizon)
        self.horizon = horizon
        self.exponent = exponent
        if half_life is not None and half_life <= 0:
            raise ValueError("the half-life must be positive")
        self.half_life = half_life
        self.forgotten_at: float | None = None  # when ``forget`` last weighed the counts down
        self.edges = edges
        self.widths = [b - a for a, b in itertools.pairwise(edges)]
        self._last = len(self.widths) - 1
        self._edges_array = np.array(edges)
        self._hazard_array = np.zeros(len(self.widths))
        n = len(self.widths)
        # The prior: a population of which prior_share is removed, with log-normal delays.
        normal = NormalDist(math.log(prior_median), prior_sigma)

        def survival(age: float) -> float:
            return 1.0 - prior_share * (normal.cdf(math.log(age)) if age > 0 else 0.0)

        self.events = [0.0] * n
        self.exposure = [0.0] * n
        self.prior_events = [0.0] * n
        self.prior_exposure = [0.0] * n
        for b in range(n):
            lo, hi = edges[b], edges[b + 1]
            hazard = -math.log(survival(hi) / survival(lo)) / (hi - lo)
            at_risk = prior_weight * (hi - lo) * survival((lo + hi) / 2)
            self.prior_exposure[b] = at_risk
            self.prior_events[b] = hazard * at_risk
        self.removals = 0.0  # removals observed (not counting the prior)
        self.hazard: list[float] = [0.0] * n
        self.cum: list[float] = [0.0] * (n + 1)  # L at each edge
        self.powered: list[float] = [0.0] * n  # h^e in each bin
        self.power_cum: list[float] = [0.0] * (n + 1)  # ∫ h^e at each edge
        self.refresh()

    # -- learning -----------------------------------------------------------------------------

    def _bin(self, age: float) -> int:
        b = bisect.bisect_right(self.edges, age) - 1
        if b < 0:
            return 0
        return b if b < self._last else self._last

    def observe_alive(self, from_age: float, to_age: float, weight: float = 1.0) -> None:
        """A post was seen alive (so at risk) through ages (from_age, to_age]."""
        lo, hi = max(from_age, 0.0), min(to_age, self.horizon)
        if hi <= lo:
            return
        edges, exposure = self.edges, self.exposure
        b = bisect.bisect_right(edges, lo) - 1  # lo < horizon here: no clamping needed
        top = edges[b + 1]
        if hi <= top:  # the common case (a post seen again minutes later): one bin
            exposure[b] += weight * (hi - lo)
            return
        exposure[b] += weight * (top - lo)
        b += 1
        n = len(exposure)
        while b < n and edges[b] < hi:
            overlap = min(hi, edges[b + 1]) - edges[b]
            if overlap > 0:
                exposure[b] += weight * overlap
            b += 1

    def observe_removal(self, alive_age: float, removed_age: float) -> None:
        """A post last seen alive at ``alive_age`` was seen removed at ``removed_age``."""
        lo = max(alive_age, 0.0)
        hi = max(min(removed_age, self.horizon), lo)
        self.removals += 1.0
        if hi <= lo:
            self.events[self._bin(lo)] += 1.0
            return
        b0, edges = self._bin(lo), self.edges
        shares: list[tuple[int, float]] = []
        b = b0
        while b < len(self.widths) and edges[b] < hi:
            overlap = min(hi, edges[b + 1]) - max(lo, edges[b])
            if overlap > 0:
                shares.append((b, overlap))
            b += 1
        mass = [self.hazard[b] * overlap for b, overlap in shares]
        total = sum(mass)
        for (b, overlap), m in zip(shares, mass, strict=True):
            self.events[b] += m / total if total > 0 else overlap / (hi - lo)
            self.exposure[b] += 0.5 * overlap

    def forget(self, now: float) -> float:
        """Weigh the counts down by 2^(−(now − the last call) / half_life); the factor."""
        if self.half_life is None:
            return 1.0
        if self.forgotten_at is None:
            self.forgotten_at = now
        if now <= self.forgotten_at:
            return 1.0
        factor = float(0.5 ** ((now - self.forgotten_at) / self.half_life))
        self.events = [x * factor for x in self.events]
        self.exposure = [x * factor for x in self.exposure]
        self.removals *= factor
        self.forgotten_at = now
        return factor

    def refresh(self) -> None:
        """Recompute the hazard tables from the counts (cheap: one pass over the bins)."""
        n = len(self.widths)
        for b in range(n):
            events = self.events[b] + self.prior_events[b]
            self.hazard[b] = events / (self.exposure[b] + self.prior_exposure[b])
        self._tables()

    def _tables(self) -> None:
        """The cumulative and powered tables from the hazard by bin."""
        self._hazard_array = np.array(self.hazard)
        for b in range(len(self.widths)):
            h, w = self.hazard[b], self.widths[b]
            self.cum[b + 1] = self.cum[b] + h * w
            self.powered[b] = h**self.exponent
            self.power_cum[b + 1] = self.power_cum[b] + self.powered[b] * w

    # -- reading ------------------------------------------------------------------------------

    def hazard_at(self, age: float) -> float:
        """Removals per post-second at this age, for the average post."""
        b = bisect.bisect_right(self.edges, age) - 1
        return self.hazard[0 if b < 0 else b if b < self._last else self._last]

    def hazard_array(self, ages: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``hazard_at`` for many ages at once."""
        bins = np.searchsorted(self._edges_array, ages, side="right") - 1
        result: npt.NDArray[np.float64] = self._hazard_array[np.clip(bins, 0, self._last)]
        return result

    def cumulative(self, age: float) -> float:
        """L(age): the cumulative hazard from publication to ``age``."""
        age = min(max(age, 0.0), self.horizon)
        b = bisect.bisect_right(self.edges, age) - 1
        if b > self._last:
            b = self._last
        return self.cum[b] + self.hazard[b] * (age - self.edges[b])

    def removed_by(self, age: float) -> float:
        """Share of all posts removed by ``age`` (1 − survival)."""
        return 1.0 - math.exp(-self.cumulative(age))

    def powered_integral(self, age: float) -> float:
        """∫ h^e from publication to ``age``."""
        age = min(max(age, 0.0), self.horizon)
        b = bisect.bisect_right(self.edges, age) - 1
        if b > self._last:
            b = self._last
        return self.power_cum[b] + self.powered[b] * (age - self.edges[b])

    def weight(self, from_age: float, to_age: float, rr: float = 1.0) -> float:
        """``rr^e ∫ h^e`` over (from_age, to_age]: what a check at ``to_age`` is worth."""
        if to_age <= from_age:
            return 0.0
        gained = self.powered_integral(to_age) - self.powered_integral(from_age)
        return float(rr**self.exponent * gained)

    def next_age(self, from_age: float, rr: float, threshold: float) -> float:
        """The age at which ``weight(from_age, ·, rr)`` reaches ``threshold`` (the horizon if
        it never does)."""
        if rr <= 0 or from_age >= self.horizon:
            return self.horizon
        start = max(from_age, 0.0)
        target = self.powered_integral(start) + threshold / rr**self.exponent
        b = bisect.bisect_left(self.power_cum, target) - 1
        if b >= len(self.widths):
            return self.horizon
        b = max(b, self._bin(start))
        rate = self.powered[b]
        if rate <= 0:
            return self.edges[b + 1]
        return float(
            min(max(self.edges[b] + (target - self.power_cum[b]) / rate, start), self.horizon)
        )

    def quantiles(self, shares: tuple[float, ...] = (0.3, 0.5, 0.75)) -> dict[float, float]:
        """Ages by which these shares of the removals within the horizon have happened."""
        total = self.removed_by(self.horizon)
        out: dict[float, float] = {}
        for share in shares:
            goal = -math.log(1.0 - share * total)
            b = bisect.bisect_left(self.cum, goal) - 1
            b = min(max(b, 0), len(self.widths) - 1)
            h = self.hazard[b]
            out[share] = self.edges[b] + ((goal - self.cum[b]) / h if h > 0 else 0.0)
        return out

    def snapshot(self) -> dict[str, list[float] | float | None]:
        """Everything learnt, exactly: the counts and the hazard in force (refreshed from the
        counts only now and then, so it is kept as it is)."""
        return {
            "events": list(self.events),
            "exposure": list(self.exposure),
            "removals": self.removals,
            "hazard": list(self.hazard),
            "forgotten_at": self.forgotten_at,
        }

    def restore(self, state: dict[str, Any]) -> None:
        n = len(self.widths)
        if any(len(state[name]) != n for name in ("events", "exposure", "hazard")):
            raise ValueError("the saved hazard has other age bins than this one")
        self.events = [float(x) for x in state["events"]]
        self.exposure = [float(x) for x in state["exposure"]]
        self.removals = float(state["removals"])
        self.hazard = [float(x) for x in state["hazard"]]
        self.forgotten_at = state.get("forgotten_at")  # absent: saved before it could forget
        self._tables()
