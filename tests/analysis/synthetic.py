"""Small synthetic corpora with a planted truth, for the analysis tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from memoryhole.analysis.terms import PostTerms

TRIGGERS = tuple(f"w:T{i}" for i in range(1, 11))
TRIGGER_RATES = tuple(float(x) for x in np.linspace(0.6, 0.9, len(TRIGGERS)))


@dataclass(frozen=True)
class PlantedCorpus:
    posts: list[PostTerms]
    triggers: tuple[str, ...]
    controls: tuple[str, ...]


def planted_corpus(
    n_posts: int = 20_000,
    seed: int = 0,
    n_controls: int = 300,
    base_rate: float = 0.05,
    trigger_share: float = 0.04,
) -> PlantedCorpus:
    """Posts of 3-7 control terms; a share of posts also carries one trigger term.

    A post with trigger ``T_i`` is censored with probability ``TRIGGER_RATES[i]``, any other
    post with ``base_rate``; some surviving posts are author-deleted (a different kind) at 3 %.
    Control terms are drawn independently of everything, so their removal rate is the
    corpus baseline: every control term is a true null.
    """
    rng = np.random.default_rng(seed)
    controls = tuple(f"w:C{i}" for i in range(n_controls))
    weights = 1.0 / np.arange(1, n_controls + 1) ** 0.5
    weights /= weights.sum()
    posts: list[PostTerms] = []
    sizes = rng.integers(3, 8, n_posts)
    for i in range(n_posts):
        terms = {controls[j] for j in rng.choice(n_controls, size=sizes[i], p=weights)}
        rate = base_rate
        if rng.random() < trigger_share:
            t = int(rng.integers(len(TRIGGERS)))
            terms.add(TRIGGERS[t])
            rate = TRIGGER_RATES[t]
        if rng.random() < rate:
            outcome = "censored"
        elif rng.random() < 0.03:
            outcome = "author_deleted"
        else:
            outcome = "live"
        posts.append(PostTerms(frozenset(terms), outcome, f"a{rng.integers(n_posts // 10)}"))
    return PlantedCorpus(posts, TRIGGERS, controls)


def check_intervals(
    removal_times: npt.NDArray[np.float64],
    rng: np.random.Generator,
    mean_gap: float = 1800.0,
    horizon: float = 48 * 3600.0,
    max_checks: int = 200,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Observe true removal times (``inf``: never removed) through random checks.

    The first check comes 0-10 minutes after publication, then gaps are exponential with
    ``mean_gap``; checks stop at ``horizon``. Returns ``(L, R)``: the last check that saw the
    post alive (0 if none) and the first that saw it gone (``inf`` if none: right-censored
    at ``L``).
    """
    n = removal_times.size
    first = rng.uniform(0, 600, n)
    gaps = rng.exponential(mean_gap, (n, max_checks))
    checks = first[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(gaps, axis=1)], axis=1)
    checks[checks > horizon] = np.nan
    gone = checks >= removal_times[:, None]
    first_gone = np.argmax(gone, axis=1)
    seen_gone = gone.any(axis=1)
    rows = np.arange(n)
    right = np.where(seen_gone, checks[rows, first_gone], np.inf)
    last_alive = np.where(seen_gone, first_gone - 1, np.sum(~np.isnan(checks), axis=1) - 1)
    left = np.where(last_alive >= 0, checks[rows, np.maximum(last_alive, 0)], 0.0)
    return left.astype(np.float64), right.astype(np.float64)
