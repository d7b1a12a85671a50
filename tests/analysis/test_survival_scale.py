"""The Turnbull fit and bootstrap at scale: the active-set fit is the full-grid NPMLE, and the
bootstrap's worker processes give the serial result bit for bit."""

from __future__ import annotations

import math
import multiprocessing
from typing import Any

import numpy as np
import pytest

from memoryhole.analysis import survival
from memoryhole.analysis.survival import (
    _bootstrap_turnbull,
    _design,
    _em_step,
    _npmle,
    _npmle_active,
    _quantile,
    survival_curve,
    turnbull,
)

HOUR = 3600.0


def _removals(m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The scale benchmark's removals (benchmarks/survival_scale.py): first seen 0-600 s
    after publication, removed a log-normal delay later, seen gone within an hourly check."""
    rng = np.random.default_rng(seed)
    published = rng.uniform(0, 30 * 86_400, m)
    first_seen = published + rng.uniform(0, 600, m)
    removed_at = first_seen + rng.lognormal(math.log(2 * HOUR), 1.0, m)
    seen_removed = removed_at + rng.uniform(0, 3600, m)
    alive = np.maximum(seen_removed - 3600, first_seen)
    return alive - published, seen_removed - published


def _max_gradient(mass: np.ndarray, d: Any, weight: np.ndarray | None = None) -> float:
    w = d.weight if weight is None else weight
    _, gradient, _ = _em_step(mass, d.first, d.last, w, float(w.sum()))
    return float(gradient.max())


@pytest.mark.parametrize("seed", range(3))
def test_active_set_fit_is_the_full_grid_npmle(seed: int) -> None:
    """From uniform (the point fit): converged by the Kuhn-Tucker condition checked on every
    innermost interval, the same log-likelihood and median as EM-ICM on the full grid, and
    the same curve at the innermost intervals' ends."""
    left, right = _removals(6_000, seed)
    d = _design(left, right)
    full = _npmle(d.first, d.last, d.weight, d.q.size, tol=1e-9)
    active = _npmle_active(d.first, d.last, d.weight, d.q.size, tol=1e-9)
    assert full[2] and active[2]
    assert _max_gradient(active[0], d) <= 1 + 1e-9
    assert active[4] == pytest.approx(_max_gradient(active[0], d))
    assert active[3] == pytest.approx(full[3], abs=1e-5)
    assert (active[0] > 0).sum() < d.q.size / 10  # the support is small: what makes it fast
    np.testing.assert_allclose(np.cumsum(active[0]), np.cumsum(full[0]), atol=1e-3)
    assert _quantile(d.q, d.p, active[0], 0.5) == pytest.approx(
        _quantile(d.q, d.p, full[0], 0.5), rel=1e-4
    )


@pytest.mark.parametrize("seed", range(3))
def test_active_set_recovers_from_a_wrong_support(seed: int) -> None:
    """Given a set missing most of the support (some patterns then hold none of it), the
    fit adds what is missing and still reaches the NPMLE: the set only saves work."""
    left, right = _removals(4_000, seed)
    d = _design(left, right)
    fit = turnbull(left, right, tol=1e-9)
    wrong = np.flatnonzero(fit.mass > 0)[::5]
    start = np.zeros(d.q.size)
    start[wrong] = 1.0
    mass, _, converged, loglik, _ = _npmle_active(
        d.first, d.last, d.weight, d.q.size, start=start, tol=1e-9, support=wrong
    )
    assert converged
    assert _max_gradient(mass, d) <= 1 + 1e-9
    assert loglik == pytest.approx(fit.loglik, abs=1e-5)


def test_resample_refit_equals_full_grid_refit() -> None:
    """A bootstrap replicate refitted on the active set (what the bootstrap does) has the
    full-grid refit's log-likelihood and (up to the NPMLE's own non-uniqueness) median, and
    satisfies the Kuhn-Tucker condition on
    the full grid."""
    left, right = _removals(8_000, 4)
    d = _design(left, right)
    fit = turnbull(left, right)
    rng = np.random.default_rng(0)
    n = int(d.weight.sum())
    for _ in range(4):
        w = rng.multinomial(n, d.weight / n).astype(np.float64)
        keep = w > 0
        args = (d.first[keep], d.last[keep], w[keep], d.q.size)
        full = _npmle(*args, start=fit.mass, tol=1e-9)
        active = _npmle_active(*args, start=fit.mass, tol=1e-9)
        assert full[2] and active[2]
        _, gradient, _ = _em_step(active[0], *args[:3], float(w.sum()))
        assert float(gradient.max()) <= 1 + 1e-9
        assert active[3] == pytest.approx(full[3], abs=1e-5)
        # The likelihood can be flat along a direction that moves the median: in one of these
        # replicates full-grid fits from the warm start and from uniform give 7,516.4 s and
        # 7,513.9 s (same log-likelihood to 1e-7), the active-set fit 7,512.5 s. Far below
        # the bootstrap's own spread (its 95 % median interval is ~ 880 s wide here).
        assert _quantile(d.q, d.p, active[0], 0.5) == pytest.approx(
            _quantile(d.q, d.p, full[0], 0.5), abs=10.0
        )


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a fallback to serial fails
def test_bootstrap_in_workers_equals_serial_bit_for_bit() -> None:
    """The parent draws every replicate's counts in order; the refit is a pure function of
    them: 1, 2 or 3 worker processes give identical curves, medians and summary."""
    left, right = _removals(5_000, 5)
    fit = turnbull(left, right)
    times = np.array([0.5, 1.0, 2.0, 4.0, 8.0]) * HOUR
    serial = _bootstrap_turnbull(left, right, fit, times, 9, 11, 1e-6, workers=1)
    for workers in (2, 3):
        parallel = _bootstrap_turnbull(left, right, fit, times, 9, 11, 1e-6, workers=workers)
        assert np.array_equal(serial[0], parallel[0])
        assert np.array_equal(serial[1], parallel[1])
    assert np.unique(serial[1]).size > 1  # the replicates differ: the test can tell
    frame_1, summary_1 = survival_curve(left, right, bootstrap=8, seed=3, workers=1)
    frame_2, summary_2 = survival_curve(left, right, bootstrap=8, seed=3, workers=2)
    assert frame_1.equals(frame_2)
    assert summary_1 == summary_2
    _, other = survival_curve(left, right, bootstrap=8, seed=4, workers=2)
    assert (other.median_ci_low, other.median_ci_high) != (
        summary_1.median_ci_low,
        summary_1.median_ci_high,
    )


def _failing_init(resampler: Any) -> None:
    raise RuntimeError("no worker today")


def test_broken_workers_fall_back_to_the_same_serial_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork: the patched initializer must reach the worker")
    left, right = _removals(3_000, 6)
    fit = turnbull(left, right)
    times = np.array([1.0, 2.0]) * HOUR
    serial = _bootstrap_turnbull(left, right, fit, times, 5, 1, 1e-6, workers=1)
    monkeypatch.setattr(survival, "_init_worker", _failing_init)
    monkeypatch.setattr(survival, "_pool_context", lambda: multiprocessing.get_context("fork"))
    with pytest.warns(RuntimeWarning, match="worker processes failed"):
        fallback = _bootstrap_turnbull(left, right, fit, times, 5, 1, 1e-6, workers=2)
    assert np.array_equal(serial[0], fallback[0])
    assert np.array_equal(serial[1], fallback[1])


def test_worker_count_follows_the_size_and_the_free_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(survival.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    load = [0.0, 0.0, 0.0]
    monkeypatch.setattr(survival.os, "getloadavg", lambda: tuple(load))
    assert survival._auto_workers(1_000, 200) == 1  # small: in process
    assert survival._auto_workers(10**6, 2) == 1  # few replicates
    assert survival._auto_workers(10**6, 200) == 2  # idle machine
    load[0] = 1.0  # this process was busy: still both cores free
    assert survival._auto_workers(10**6, 200) == 2
    load[0] = 2.0  # another job holds a core
    assert survival._auto_workers(10**6, 200) == 1
    load[0] = 6.0
    assert survival._auto_workers(10**6, 200) == 1


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a fallback to serial fails
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_bootstrap_workers_started_without_fork(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """What a process running other threads uses (fork could copy their held locks): workers
    that import the module afresh give the same result too."""
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    left, right = _removals(2_000, 7)
    fit = turnbull(left, right)
    times = np.array([1.0, 3.0]) * HOUR
    serial = _bootstrap_turnbull(left, right, fit, times, 4, 2, 1e-6, workers=1)
    monkeypatch.setattr(survival, "_pool_context", lambda: multiprocessing.get_context(method))
    parallel = _bootstrap_turnbull(left, right, fit, times, 4, 2, 1e-6, workers=2)
    assert np.array_equal(serial[0], parallel[0])
    assert np.array_equal(serial[1], parallel[1])
