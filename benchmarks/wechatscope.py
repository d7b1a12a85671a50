"""Real-data validation: the WeChatscope deletion log, imported and analysed, against the raw file.

    .venv/bin/python benchmarks/wechatscope.py \
        --csv ../shared/data/wechatscope-deletions/ceninfo.csv [--bootstrap 200] [--lifelines]

Imports the log into a fresh study (``memoryhole import wechatscope``'s code), then prints

1. the split of removal reasons: per ``censored_msg`` the raw file's row count (pandas, read
   independently of the importer) next to the study's evidence leaves of that reason, and per
   article (the ``archive`` id) the verdicts next to a count from the raw rows; the two must
   agree exactly (the script exits 1 when they do not);
2. the time to removal: ``analyze survival``'s Turnbull curve (``created_at`` names a day, so
   ``T`` lies in ``[R - 1 day, R]``, ``R = censored_date - start of the day``) at 1 h, 6 h,
   1 d, 2 d, 7 d, its median with a bootstrap CI, per removal kind, next to naive empirical
   estimates from the raw dates (publication taken at the start, the middle or the end of the
   day) and lifelines' independent interval-censored NPMLE.

It reads the file it is given (run by hand: the tests use ``tests/data/wechatscope_sample.csv``).
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

DAY = 86_400.0
TIMES = (("1 h", 3_600.0), ("6 h", 21_600.0), ("1 d", DAY), ("2 d", 2 * DAY), ("7 d", 7 * DAY))
DEFAULT = Path(__file__).resolve().parents[1] / "../shared/data/wechatscope-deletions/ceninfo.csv"

#: The log's messages → (reason code, removal kind), written out here from the messages seen in
#: the file, independently of ``memoryhole.imports.wechatscope``.
REASONS: dict[str, tuple[str, str]] = {
    "此内容因违规无法查看": ("rule_violation", "censored"),
    "Unable to view this content because it violates regulations": ("rule_violation", "censored"),
    "该内容已被发布者删除": ("publisher_deleted", "author_deleted"),
    "The content has been deleted by the author.": ("publisher_deleted", "author_deleted"),
    "此帐号已被屏蔽,": ("account_blocked", "account_suspended"),
    "此内容被投诉且经审核涉嫌侵权，无法查看。": ("copyright_complaint", "unknown"),
    "此内容被多人投诉，相关的内容无法进行查看。": ("user_complaints", "unknown"),
    "该公众号已迁移": ("account_migrated", "unknown"),
}


def raw_frame(path: Path, utc_offset: float = 8.0) -> Any:
    """The raw log with pandas, plus ``reason``, ``kind``, ``day_start`` and ``removed``
    (epoch seconds; the file's times are in UTC+8)."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    unknown = sorted(set(frame["censored_msg"]) - set(REASONS))
    if unknown:
        raise SystemExit(f"messages this script does not know: {unknown}; add them to REASONS")
    frame["reason"] = frame["censored_msg"].map(lambda m: REASONS[m][0])
    frame["kind"] = frame["censored_msg"].map(lambda m: REASONS[m][1])
    zone = timezone(timedelta(hours=utc_offset))

    def epoch(text: str, fmt: str) -> float:
        return datetime.strptime(text, fmt).replace(tzinfo=zone).timestamp()

    frame["day_start"] = [epoch(t, "%Y-%m-%d") for t in frame["created_at"]]
    frame["removed"] = [epoch(t, "%Y-%m-%d %H:%M:%S") for t in frame["censored_date"]]
    frame["line"] = np.arange(2, len(frame) + 2)
    return frame


def statements(frame: Any) -> Any:
    """The rows that say something new: a row repeating an earlier row's article, removal time
    and message (another title spelling, say) is the same statement."""
    return frame.drop_duplicates(["archive", "censored_date", "censored_msg"], keep="first")


#: Rows of one article at the same second: the importer folds them in this order of kinds
#: (whatever the file's order), so the verdict is the first of them.
TIE_RANK = {"author_deleted": 0, "account_suspended": 1, "censored": 2, "unknown": 3}


def per_article(frame: Any) -> Any:
    """One row per article (``archive``): its earliest removal; of two rows at that time, the
    kind first in :data:`TIE_RANK` (what the study's verdict keeps)."""
    ranked = frame.assign(rank=frame["kind"].map(TIE_RANK))
    ordered = ranked.sort_values(["archive", "removed", "rank"], kind="stable")
    return ordered.drop_duplicates("archive", keep="first").drop(columns="rank")


def empirical(durations: Any) -> tuple[list[float], float]:
    """Share still up at each of :data:`TIMES`, and the median, of exactly known durations."""
    d = np.sort(np.asarray(durations, dtype=np.float64))
    shares = [float((d > t).mean()) for _, t in TIMES]
    return shares, float(np.median(d))


def hours(seconds: float) -> str:
    return "n/a" if not math.isfinite(seconds) else f"{seconds / 3600:.1f} h"


def step_at(curve: Any, t: float) -> tuple[float, float, float]:
    """The Turnbull step curve (``analyze survival --curves``) at ``t``: the last drop at or
    before ``t`` (drops are dated at the end of their innermost interval)."""
    rows = curve[curve["time"] <= t]
    last = rows.iloc[-1]
    return float(last["survival"]), float(last["ci_low"]), float(last["ci_high"])


def lifelines_median(lower: Any, upper: Any) -> float:
    """lifelines' Turnbull NPMLE, median read where its (lower) survival crosses 1/2."""
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter().fit_interval_censoring(lower, upper)
    frame = fitter.survival_function_
    low = frame.iloc[:, 0]
    crossed = low[low <= 0.5]
    return float(crossed.index[0]) if len(crossed) else math.nan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT, help="the log (ceninfo.csv)")
    parser.add_argument("--bootstrap", type=int, default=200, help="resamples for the CIs")
    parser.add_argument("--keep", type=Path, help="make the study here and keep it")
    parser.add_argument(
        "--lifelines", action="store_true", help="cross-check with lifelines (slow: minutes)"
    )
    args = parser.parse_args()
    path: Path = args.csv
    if not path.is_file():
        print(
            f"error: {path} not found. Pass the WeChatscope log with --csv PATH (ceninfo.csv of "
            "github.com/Terminus2049/Wechatscope; in this project's workspace "
            "../shared/data/wechatscope-deletions/ceninfo.csv).",
            file=sys.stderr,
        )
        return 2

    from memoryhole.analysis.study_data import load_study_data
    from memoryhole.analysis.survival import intervals
    from memoryhole.analysis.tables import survival_table
    from memoryhole.imports import run_import
    from memoryhole.study import Study

    raw = raw_frame(path)
    root = args.keep or Path(tempfile.mkdtemp(prefix="memoryhole-wechatscope-"))
    root.mkdir(parents=True, exist_ok=True)
    study = Study.init(Path(tempfile.mkdtemp(prefix="study-", dir=root)))
    began = time.perf_counter()
    summary = run_import(study, "wechatscope", path)
    imported = time.perf_counter() - began
    c = summary.counts
    print(f"file {path.name}: {len(raw):,} rows, {raw['archive'].nunique():,} articles, "
          f"created_at {raw['created_at'].min()} .. {raw['created_at'].max()}")  # fmt: skip
    print(f"import: {c.rows:,} rows, {c.new_posts:,} posts, {c.leaves:,} leaves, "
          f"{c.duplicates + c.stale} rows skipped (nothing new) in {imported:.1f} s")  # fmt: skip
    failures: list[str] = []

    # ------------------------------------------------------------------ reasons
    import pandas as pd
    from sqlalchemy import text

    with study.engine.connect() as conn:
        leaves = dict(
            conn.execute(
                text(
                    "SELECT code, count(*) FROM observations WHERE kind = 'import' "
                    "AND post_pk IS NOT NULL AND code IS NOT NULL GROUP BY code"
                )
            ).all()
        )
        verdicts = dict(
            conn.execute(text("SELECT status, count(*) FROM verdicts GROUP BY 1")).all()
        )
    distinct = statements(raw)
    print(f"\n1. Removal reasons ({len(raw) - len(distinct)} row(s) repeat an earlier row's "
          "article, time and message: nothing new, skipped by the import)")  # fmt: skip
    print(f"{'censored_msg':<62} {'rows':>6} {'share':>7}")
    for message, n in raw["censored_msg"].value_counts().items():
        print(f"{message:<62} {n:>6} {n / len(raw):>7.2%}")
    print(
        f"\n{'reason (code)':<22} {'raw rows':>9} {'statements':>11} {'study leaves':>13}"
        f" {'agree':>6}"
    )
    for reason, n in distinct["reason"].value_counts().items():
        ok = leaves.get(reason, 0) == n
        failures += [] if ok else [f"reason {reason}: raw {n}, study {leaves.get(reason, 0)}"]
        total = int((raw["reason"] == reason).sum())
        print(f"{reason:<22} {total:>9} {n:>11} {leaves.get(reason, 0):>13} {ok!s:>6}")
    articles = per_article(raw)
    print(f"\n{'verdict (per article)':<22} {'raw':>9} {'share':>7} {'study':>9} {'agree':>6}")
    for kind, n in articles["kind"].value_counts().items():
        ok = verdicts.get(kind, 0) == n
        failures += [] if ok else [f"verdict {kind}: raw {n}, study {verdicts.get(kind, 0)}"]
        print(f"{kind:<22} {n:>9} {n / len(articles):>7.2%} {verdicts.get(kind, 0):>9} {ok!s:>6}")
    if sum(verdicts.values()) != len(articles):
        failures.append(f"{sum(verdicts.values())} verdicts for {len(articles)} articles")

    # ------------------------------------------------------------------ survival
    began = time.perf_counter()
    data = load_study_data(study)
    print(f"\n2. Time to removal (bootstrap {args.bootstrap}); S(t) = share of the removed "
          "articles still up t after publication")  # fmt: skip
    header = f"{'group / estimate':<44} " + " ".join(f"{n:>6}" for n, _ in TIMES)
    print("(a Turnbull value is the curve at its last drop at or before t)")
    print(header + f" {'median (95% CI)':>26}")
    groups: list[tuple[str, Any]] = [("any removal", None)] + [
        (k, k) for k in ("censored", "author_deleted", "account_suspended", "unknown")
    ]
    for label, kind in groups:
        curves, table = survival_table(data, kind=kind, bootstrap=args.bootstrap)
        row = table.iloc[0]
        values = [step_at(curves, t) for _, t in TIMES]
        med = (
            f"{hours(row['median'])} ({hours(row['median_ci_low'])}-{hours(row['median_ci_high'])})"
        )
        print(f"{label + ': Turnbull, n=' + format(int(row['n']), ','):<44} "
              + " ".join(f"{s:>6.3f}" for s, _, _ in values) + f" {med:>26}")  # fmt: skip
        print(
            f"{'  95% CI (bootstrap)':<44} "
            + " ".join(f"{lo:.2f}-{hi:.2f}" for _, lo, hi in values)
        )
        part = articles if kind is None else articles[articles["kind"] == kind]
        for where, offset in (("start", 0.0), ("midday", DAY / 2), ("end", DAY)):
            shares, median = empirical(np.maximum(part["removed"] - part["day_start"] - offset, 0))
            print(f"{'  naive, published at the day ' + where:<44} "
                  + " ".join(f"{s:>6.3f}" for s in shares) + f" {hours(median):>26}")  # fmt: skip
        frame = data.posts.assign(kind=data.posts["verdict"])
        if kind is not None:
            frame = frame[frame["verdict"] == kind]
        lo, hi = intervals(frame, kind)
        if args.lifelines:
            print(f"{'  lifelines NPMLE median (independent)':<44} {'':>34} "
                  f"{hours(lifelines_median(lo, hi)):>26}")  # fmt: skip
        widths = hi - lo
        print(f"  intervals: n={lo.size:,}, width median {hours(float(np.median(widths)))}, "
              f"{float((lo == 0).mean()):.1%} open down to 0 (removed within a day of the day "
              "start)")  # fmt: skip
    print(f"survival: {time.perf_counter() - began:.1f} s; peak memory "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
    study.close()
    del pd
    if failures:
        print("\nMISMATCH: " + "; ".join(failures), file=sys.stderr)
        return 1
    print("\nthe study's reason split agrees exactly with the raw file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
