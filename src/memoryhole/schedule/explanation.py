"""Why a post is checked when it is: the scheduler's reasons, in words (``explain_post``;
``schedule explain`` rebuilds the scheduler from the store and asks it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memoryhole.schedule.scheduler import Scheduler


@dataclass
class Explanation:
    post_id: str
    published_at: float
    now: float
    age: float
    status: str
    last_seen_alive_age: float
    relative_risk: float
    risk_features: list[tuple[str, float, float, float]]
    hazard_per_hour: float
    baseline_hazard_per_hour: float
    accumulated: float
    threshold: float
    next_check_at: float | None
    reason: str
    author_poll_at: float | None = None
    removal_quantiles_hours: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        def span(seconds: float) -> str:
            if seconds < 3600:
                return f"{seconds / 60:.1f} min"
            return f"{seconds / 3600:.1f} h" if seconds < 2 * 86400 else f"{seconds / 86400:.1f} d"

        when = datetime.fromtimestamp(self.now, UTC).isoformat(timespec="seconds")
        out = [
            f"post {self.post_id} as of {when}: {self.status}, age {span(self.age)}, "
            f"last seen alive at age {span(self.last_seen_alive_age)}",
            f"risk: {self.relative_risk:.2f}× the average post",
        ]
        for name, rr, observed, expected in self.risk_features:
            out.append(
                f"  {name!r}: ×{rr:.2f} ({observed:.0f} removed where {expected:.1f} expected)"
            )
        out.append(
            f"removal hazard now: {self.hazard_per_hour:.3%}/h for this post "
            f"(average post {self.baseline_hazard_per_hour:.3%}/h at this age)"
        )
        if self.removal_quantiles_hours:
            learnt = ", ".join(f"{k} by {v:.1f} h" for k, v in self.removal_quantiles_hours.items())
            out.append(f"removal times learnt so far: {learnt}")
        if self.status == "live" and self.next_check_at is not None:
            out.append(
                f"weight built up since it was last seen alive: {self.accumulated:.3g}; a check "
                f"is due when it reaches the threshold {self.threshold:.3g} (one request's price)"
            )
        if self.next_check_at is None:
            out.append("next check: none")
        else:
            out.append(f"next check in {span(max(self.next_check_at - self.now, 0.0))}")
        if self.author_poll_at is not None and self.author_poll_at < self.now + 8 * 86400:
            poll = span(self.author_poll_at - self.now)
            out.append(f"its author's timeline: next poll in {poll}")
        out.append(f"why: {self.reason}")
        return out


def explain_post(
    scheduler: Scheduler, pk: int, now: float, next_check_at: float | None = None
) -> Explanation:
    """Why the post ``pk`` is checked when it is, as of ``now``."""
    record = scheduler.posts[pk]
    settings = scheduler.settings
    age = now - record.published_at
    rr = scheduler.risk.risk(record.features)
    baseline = scheduler.hazard.hazard_at(age) * 3600
    built = scheduler.hazard.weight(record.alive_age, age, rr)
    when = next_check_at if next_check_at is not None else record.due
    end = record.published_at + scheduler.horizon
    author = scheduler.index.authors.get(record.author_id)
    polled = author is not None and author.target_pk is not None and not author.suspended
    wanted = record.published_at + scheduler.hazard.next_age(
        record.alive_age, rr, scheduler.threshold
    )
    longest = min(
        settings.max_gap, max(settings.max_gap_floor, settings.max_gap_ratio * record.alive_age)
    )
    if record.removed:
        status, reason = (
            "seen removed",
            f"removed: {settings.confirmations} more check(s) for a ghost, then none",
        )
    elif when is None:
        status, reason = "live", "past its horizon: its last check was at the horizon"
    elif polled and (record.parked or abs(when - end) < 1.0):
        status = "live"
        reason = (
            "its author's timeline covers it: polled when the weight its live posts have "
            "built up together reaches the threshold; its own check is the last one, at "
            "the horizon, and a check at once if it goes missing from the timeline"
        )
    else:
        status = "live"
        seen = record.published_at + record.alive_age
        if abs(when - end) < 1.0 and wanted >= end - 1.0:
            reason = (
                "it builds up less weight than the threshold before its horizon: one last "
                "check, at the horizon"
            )
        elif abs(when - (seen + longest)) <= 0.03 * longest + 1.0:
            reason = (
                f"its longest gap ({longest / 3600:.1f} h, growing with its age) came "
                "first: every post keeps being checked up to its horizon"
            )
        elif when - seen <= settings.min_gap * 1.03 + 1.0:
            reason = f"the shortest gap ({settings.min_gap:.0f} s): it is that risky now"
        else:
            reason = (
                "checked when its weight since it was last seen alive, rr^e × ∫ hazard^e, "
                "reaches the threshold, the price of one request under the budget (the "
                "threshold in force when the check was planned; it follows the budget)"
            )
    return Explanation(
        post_id=record.post_id,
        published_at=record.published_at,
        now=now,
        age=age,
        status=status,
        last_seen_alive_age=record.alive_age,
        relative_risk=rr,
        risk_features=scheduler.risk.top(record.features),
        hazard_per_hour=baseline * rr,
        baseline_hazard_per_hour=baseline,
        accumulated=built,
        threshold=scheduler.threshold,
        next_check_at=when,
        reason=reason,
        author_poll_at=author.poll_at if polled and author is not None else None,
        removal_quantiles_hours={
            f"{round(share * 100)}%": age_at / 3600
            for share, age_at in scheduler.hazard.quantiles().items()
        },
    )
