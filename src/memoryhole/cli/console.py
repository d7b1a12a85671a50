"""Rich rendering shared by the CLI and the demo: live collector progress and summary tables."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.table import Table

from memoryhole.collect.collector import Collector
from memoryhole.store.coverage import CoverageGap
from memoryhole.store.queries import StudySummary
from memoryhole.times import shown_invalid, utc_datetime

REMOVAL_LABELS = {
    "censored": "removed by platform/censor",
    "author_deleted": "deleted by author",
    "account_suspended": "account suspended",
    "unknown": "removed, reason unknown",
}
#: Not a removal: served to others, not to this vantage point.
WITHHELD_LABEL = "withheld in a region"


GAPS_SHOWN = 10


def platform_time(at: float | None) -> str:
    if at is None:
        return "—"
    moment = utc_datetime(at)
    if moment is None:
        return shown_invalid(at)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


class ProgressView:
    """A live table of what the collector is doing (renderable by ``rich.live.Live``)."""

    def __init__(self, collector: Collector, title: str = "memoryhole run") -> None:
        self.collector = collector
        self.title = title
        self._last_checks = 0
        self._last_time = time.time()
        self._rate = 0.0

    def __rich__(self) -> Table:
        stats = self.collector.stats
        now = time.time()
        if now - self._last_time >= 0.5:
            self._rate = (stats.checks - self._last_checks) / (now - self._last_time)
            self._last_checks, self._last_time = stats.checks, now
        table = Table(title=self.title, show_header=False, min_width=56)
        table.add_column(style="bold")
        table.add_column(justify="right")
        table.add_row("platform time", platform_time(self.collector.clock.now()))
        table.add_row("posts watched", f"{len(self.collector.state.posts):,}")
        table.add_row("checks (this run)", f"{stats.checks:,}")
        table.add_row("checks/s", f"{self._rate:,.0f}")
        table.add_row("listing polls", f"{stats.polls:,}")
        table.add_row("transient failures (never removals)", f"{stats.transient:,}")
        for kind, label in REMOVAL_LABELS.items():
            table.add_row(f"caught: {label}", f"{stats.removals.get(kind, 0):,}")
        table.add_row("committed observations", f"{stats.committed_observations:,}")
        return table


def summary_table(summary: StudySummary, gaps: Sequence[CoverageGap] = ()) -> Table:
    table = Table(title="study status", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("targets", ", ".join(summary.targets) or "— (add with `memoryhole watch`)")
    table.add_row("posts", f"{summary.posts:,}")
    table.add_row("observations", f"{summary.observations:,}")
    table.add_row("transient (timeouts, 429, 5xx, captcha…)", f"{summary.transient:,}")
    table.add_row("first observation", platform_time(summary.first_observed_at))
    table.add_row("last observation", platform_time(summary.last_observed_at))
    for status in ("live", "edited", *REMOVAL_LABELS, "withheld"):
        label = WITHHELD_LABEL if status == "withheld" else REMOVAL_LABELS.get(status, status)
        table.add_row(f"verdict: {label}", f"{summary.verdicts.get(status, 0):,}")
    for spec, count, latest in summary.unreadable:
        table.add_row(
            f"[yellow]unreadable listing items: {spec}[/]", f"{count:,} (latest: {latest[:80]})"
        )
    shown = gaps[:GAPS_SHOWN]
    for gap in shown:
        table.add_row(
            f"[yellow]coverage gap: {gap.target}[/]",
            f"{platform_time(gap.start)} → {platform_time(gap.end)} "
            f"({duration(gap.seconds)}, {gap.reason.replace('_', ' ')})",
        )
    if len(gaps) > len(shown):
        table.add_row(
            "[yellow]coverage gaps[/]",
            f"{len(gaps) - len(shown):,} more: memoryhole status --format json",
        )
    if gaps:
        table.add_row(
            "",
            "removals whose interval spans a gap: interval_spans_gap in export verdicts",
        )
    return table
