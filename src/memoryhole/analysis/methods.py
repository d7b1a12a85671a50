"""The methods text of a study, written from what the study did: for the report and the dashboard.

A published figure needs its methods, and the methods must be the study's own: which scheduler
ran and with which settings, the request budgets, what was watched and when (on the platform's
clock), how each platform's answers were turned into removal kinds (and which answers this
study actually got), the periods it was not watching, and which estimators the figures use.
Nothing here is a fixed sentence about "the" schedule.

:func:`study_methods` reads the study (its ``memoryhole.toml`` and store) and returns
:class:`MethodsParagraph` objects (``title``, ``text``); :func:`methods_text` the same as plain
strings ("Title. Text"). :func:`describe_methods` writes the paragraphs from a
:class:`StudyFacts` the caller gathered. The report and the dashboard's Methods page call
:func:`methods_text`.

The analysis layer may not import ``schedule`` or ``platforms`` (docs/architecture.md), so the
budget scheduler's fixed settings and the platforms' attribution rules are restated here;
``tests/analysis/test_methods.py`` checks them against ``schedule/records.py``,
``schedule/policy.py`` and the adapters, so they cannot drift apart silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Engine, func, select

from memoryhole.store.coverage import TIMELINE_KINDS
from memoryhole.store.schema import (
    authors,
    imports,
    observations,
    posts,
    redactions,
    targets,
    verdicts,
)
from memoryhole.times import utc_datetime

if TYPE_CHECKING:
    from memoryhole.config import StudyConfig
    from memoryhole.store.coverage import CoverageGap
    from memoryhole.study import Study

#: ``schedule.records.SchedulerSettings``' fixed settings (those ``memoryhole.toml`` does not
#: set), as the budget scheduler runs with them.
BUDGET_SCHEDULER: Final = {
    "min_gap": 30.0,
    "max_gap": 3 * 86400.0,
    "max_gap_floor": 12 * 3600.0,
    "max_gap_ratio": 3.0,
    "confirmations": 1,
    "headroom": 0.95,
    "control_period": 300.0,
    "page_size": 10,
    "exponent": 0.75,
}
#: ``schedule.policy.AgeProportional``'s checks after a removal (ghosts).
AGE_CONFIRMATIONS: Final = 2

#: How each platform's answers become removal kinds (docs/adapters.md, "Attribution across
#: platforms"): per kind, the answers that give it.
ATTRIBUTION: Final[dict[str, dict[str, str]]] = {
    "weibo": {
        "censored": "errno 20112 (permission denied) or a repost's notice that the post was "
        "removed for breaking the rules or the law",
        "author_deleted": "only a repost's notice that the author deleted it (此微博已被作者删除)",
        "account_suspended": "errno 20003 with a message that the account was blocked, or "
        "the blocked-account notice",
        "unknown": "errno 20101 (does not exist or no permission to view: an author's "
        "deletion and a removal both give it), 20003 'user does not exist', and notices of "
        "posts the author restricted",
    },
    "reddit": {
        "censored": "removed_by_category moderator, content_takedown or copyright_takedown "
        "(or removal_reason legal); reddit, anti_evil_ops or community_ops once the author's "
        "account is seen in good standing; a banned community",
        "author_deleted": "deleted or author; a post's text and author [deleted]",
        "account_suspended": "reddit, anti_evil_ops, community_ops or [removed], and the "
        "author's account is_suspended",
        "unknown": "reddit, anti_evil_ops or community_ops until the account is known; "
        "automod_filtered (held for review); [removed] without a category; any other category",
        "withheld": "451 Unavailable For Legal Reasons: a legal block where the request came "
        "from, not a removal",
    },
    "mastodon": {
        "account_suspended": "a status answered 404 or 410, then its account suspended (or "
        "410); since Mastodon 3.3 an account its owner deleted reads suspended too",
        "unknown": "a status answered 404 or 410 whose account is in good standing or not "
        "found: Mastodon does not say whether a moderator or the author removed it",
    },
    "bluesky": {
        "censored": "a takedown label of Bluesky's moderation service on the post, dated "
        "before it went, or the record still in the author's repository while the AppView "
        "hides it",
        "author_deleted": "the record gone from the repository's signed proof; the account "
        "deactivated (the author's own choice); a delete commit",
        "account_suspended": "AccountTakedown (or a takedown label on the account) dated "
        "before the post went",
        "unknown": "NotFound whose account is not found, or closed only after the post went",
    },
    "telegram": {
        "censored": "the message's embed saying it violated Telegram's Terms of Service (or "
        "was pornographic, or a copyright infringement)",
        "account_suspended": "the channel's page showing Telegram's block notice, unless the "
        "channel was seen as usual after the message went",
        "unknown": "'Post not found' in the message's embed, confirmed by its channel's page "
        "listing the messages before it without it",
        "withheld": "a notice that the channel or message can't be displayed because of local "
        "laws, in this country, on this device or under an app store's rules",
    },
    "youtube": {
        "censored": "the watch page's ERROR naming a policy (Terms of Service, Community "
        "Guidelines, hate speech, harassment, nudity, spam, violence) or a copyright claim, "
        "confirmed by oEmbed",
        "author_deleted": "'removed by the uploader' or 'the uploader has closed their YouTube "
        "account', confirmed by oEmbed",
        "account_suspended": "'the YouTube account associated with this video has been "
        "terminated', confirmed by oEmbed; a channel page's termination alert",
        "unknown": "any other ERROR, or a private video, confirmed by oEmbed",
        "withheld": "'not available in your country', a rights holder's or a government's "
        "block there",
    },
    "rss": {
        "censored": "the item's own page answered 451 Unavailable For Legal Reasons",
        "unknown": "the item's own page answered 404 or 410",
    },
    "json": {"*": "as the platform's TOML description's signals say"},
}
KIND_WORDS: Final = {
    "censored": "removed by the platform or a censor",
    "author_deleted": "deleted by the author",
    "account_suspended": "account suspended",
    "unknown": "removed, reason unknown",
}
REMOVAL_STATUSES: Final = tuple(KIND_WORDS)
#: Stated with the removal kinds' rules, but never one of them (not in ``REMOVAL_STATUSES``).
KIND_WORDS["withheld"] = "withheld from this vantage point (never a removal)"


@dataclass(frozen=True)
class MethodsParagraph:
    title: str
    text: str

    def __str__(self) -> str:
        return f"{self.title}. {self.text}"


@dataclass(frozen=True)
class TargetFacts:
    """A watched target: its label (timelines by pseudonym), and the posts it found with the
    first and last time one was found (platform clock)."""

    label: str
    platform: str
    kind: str
    active: bool
    posts: int | None = None
    first_found_at: float | None = None
    last_found_at: float | None = None


@dataclass(frozen=True)
class ImportFacts:
    kind: str
    platform: str
    source: str
    timing: str
    rows: int
    new_posts: int


@dataclass(frozen=True)
class StudyFacts:
    """What the methods text states about a study, gathered from its store.

    ``signals``: removal answers this study got, per platform: ``(kind, code, answers)``.
    ``transient``: answers per platform that were not definitive (never a removal).
    ``gaps``: coverage gaps, None when not known (the text then says nothing of them).
    """

    targets: list[TargetFacts]
    posts_by_platform: dict[str, int]
    removals_by_kind: dict[str, int]
    requests: int
    first_observed_at: float | None
    last_observed_at: float | None
    signals: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    transient: dict[str, int] = field(default_factory=dict)
    imports: list[ImportFacts] = field(default_factory=list)
    gaps: list[CoverageGap] | None = None
    taken_down: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # a target's spec → as published

    @property
    def posts(self) -> int:
        return sum(self.posts_by_platform.values())

    @property
    def removals(self) -> int:
        return sum(self.removals_by_kind.values())

    @property
    def platforms(self) -> list[str]:
        found = set(self.posts_by_platform) | {t.platform for t in self.targets}
        return sorted(found)


# --------------------------------------------------------------------------- formatting


def duration(seconds: float | None) -> str:
    """``90 s``, ``15 min``, ``6 h``, ``7 days``: a setting in words."""
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 172800:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} days"


def minute(at: float | None) -> str:
    moment = utc_datetime(at)
    return "an invalid time" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _rate(value: float) -> str:
    return f"{value:g} request{'' if value == 1 else 's'} per second"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- the paragraphs


def describe_methods(
    config: StudyConfig,
    facts: StudyFacts,
    *,
    term_kind: str = "censored",
    min_posts: int = 20,
    test: str = "binomial",
    alpha: float = 0.05,
    bootstrap: int = 100,
) -> list[MethodsParagraph]:
    """The methods paragraphs for a study configured by ``config`` that did ``facts``.

    ``term_kind``, ``min_posts``, ``test``, ``alpha``: the term table's settings;
    ``bootstrap``: the resamples of the medians' intervals (the figures the text goes with).
    """
    return [
        _watched(facts),
        _schedule(config, facts),
        _attribution(facts),
        _dating(facts),
        _statistics(term_kind, min_posts, test, alpha, bootstrap),
        _privacy(facts),
    ]


def _watched(facts: StudyFacts) -> MethodsParagraph:
    if facts.targets:
        described = []
        for target in facts.targets:
            part = target.label
            if target.posts is not None:
                part += f" ({target.posts:,} posts found"
                if target.posts and target.first_found_at is not None:
                    part += f", {minute(target.first_found_at)} to {minute(target.last_found_at)}"
                part += ")"
            if not target.active:
                part += " (no longer watched)"
            described.append(part)
        watched = _join(described)
    else:
        watched = "nothing yet"
    platforms = _join(facts.platforms) or "no platform yet"
    period = ""
    if facts.first_observed_at is not None and facts.last_observed_at is not None:
        period = (
            f" from {minute(facts.first_observed_at)} to {minute(facts.last_observed_at)} UTC "
            "(the platform's clock)"
        )
    kinds = [
        f"{count:,} {KIND_WORDS[kind]}" for kind, count in facts.removals_by_kind.items() if count
    ]
    removals = f"{facts.removals:,} removals were detected" + (
        f" ({'; '.join(kinds)})" if kinds else ""
    )
    text = (
        f"memoryhole watched {watched} on {platforms}{period}. {facts.posts:,} posts were found "
        f"and re-checked, {facts.requests:,} requests were recorded in all (listing polls and "
        f"checks of single posts), and {removals}."
    )
    for item in facts.imports:
        text += (
            f" Also imported: {item.kind} file {item.source} ({item.platform}, {item.rows:,} "
            f"records, {item.new_posts:,} new posts; its timing: {item.timing}); the collector "
            "never re-checks imported posts."
        )
    return MethodsParagraph("What was watched", text)


def _schedule(config: StudyConfig, facts: StudyFacts) -> MethodsParagraph:
    collector = config.collector
    own = config.platform_budgets()
    budget = f"Requests were limited to {_rate(collector.budget_per_second)} per platform"
    if own:
        budget += " (" + ", ".join(f"{name}: {_rate(rate)}" for name, rate in own.items()) + ")"
    budget += (
        f", a token bucket on the platform's clock, with at most {collector.concurrency} in "
        f"flight; a request without an answer after {duration(collector.timeout)} counted as "
        f"failed (retried, never a removal). Listings (feeds, searches) were polled every "
        f"{duration(collector.poll_interval)}."
    )
    if collector.scheduler == "age":
        schedule = (
            f'Schedule: age-proportional (scheduler = "age"). Each post was first re-checked '
            f"{duration(collector.first_check_after)} after it was found, then at gaps of half "
            f"its age (at least {duration(collector.first_check_after)}, at most "
            f"{duration(collector.max_interval)}), until {duration(collector.horizon)} after "
            f"publication, the last check placed at that horizon; after a removal it was "
            f"checked {AGE_CONFIRMATIONS} more times, to catch posts that come back. The budget "
            "only capped the request rate: it did not shape the schedule."
        )
    else:
        fixed = BUDGET_SCHEDULER
        half_life = collector.learning_half_life
        learning = (
            f"what it learnt counted half as much after {duration(half_life)}"
            if half_life
            else "everything it learnt counted alike (no learning_half_life)"
        )
        schedule = (
            f'Schedule: budget-aware (scheduler = "budget"; docs/scheduler.md). Each '
            f"platform's budget was spent where it shortens detection most: the scheduler "
            f"learnt, as the study went, how removals spread over a post's age and which posts "
            f"(by words and author) are removed more often, and checked a post when the "
            f"removal risk it had run since it was last seen live reached the price of one "
            f"request, a price re-solved every {duration(fixed['control_period'])} so that the "
            f"plan spent {fixed['headroom']:.0%} of the budget; {learning}. Gaps between two "
            f"checks of a post were at least {duration(fixed['min_gap'])} and at most "
            f"{fixed['max_gap_ratio']:g} times its age (never less than "
            f"{duration(fixed['max_gap_floor'])}, never more than "
            f"{duration(fixed['max_gap'])}); every post was checked until "
            f"{duration(collector.horizon)} after publication, the last check at that horizon, "
            f"and {fixed['confirmations']} more time after a removal. Authors' timelines served "
            f"as a wide view (one request sees up to {fixed['page_size']} of an author's "
            "posts); a post missing from a timeline was never taken for a removal, but checked "
            "at once by a request of its own."
        )
    return MethodsParagraph("Budget and schedule", f"{budget} {schedule}")


def _attribution(facts: StudyFacts) -> MethodsParagraph:
    text = (
        "A removal is concluded only from a platform's answer about that single post that says "
        "it is gone; timeouts, rate limits (429), server errors, captcha or login pages and "
        "answers not understood are never removals, and a post missing from a listing is not "
        "one either. Every raw answer is kept, and every observation is a leaf of a signed, "
        "append-only Merkle log, so each claim can be checked independently."
    )
    for platform in facts.platforms:
        rules = ATTRIBUTION.get(platform)
        if rules is None:
            text += f" On {platform}: as its adapter's documented signals say (docs/adapters.md)."
        elif "*" in rules:
            text += f" On {platform}: {rules['*']}."
        else:
            stated = [f"{KIND_WORDS[kind]}: {rule}" for kind, rule in rules.items()]
            missing = [KIND_WORDS[k] for k in REMOVAL_STATUSES if k not in rules]
            text += f" On {platform}, " + "; ".join(stated)
            if missing:
                text += f" ({_join(missing)}: the platform's answers cannot tell)"
            text += "."
        seen = facts.signals.get(platform)
        if seen:
            answers = [
                f"{code or 'no code'} → {kind} ({count:,} answer{'' if count == 1 else 's'})"
                for kind, code, count in seen
            ]
            text += f" This study's removal answers from {platform}: {'; '.join(answers)}."
        failed = facts.transient.get(platform, 0)
        if failed:
            text += (
                f" {failed:,} answers from {platform} were not definitive (retried, never "
                "counted as removals)."
            )
    return MethodsParagraph("Attribution", text)


def _dating(facts: StudyFacts) -> MethodsParagraph:
    text = (
        "A removed post is dated by an interval: from the time the last request that saw it "
        "live was sent to the time the first answer saying it was gone arrived, on the "
        "platform's clock; the true removal time lies in that interval."
    )
    gaps = facts.gaps
    if gaps is not None:
        if gaps:
            total = sum(gap.seconds for gap in gaps)
            longest = max(gaps, key=lambda gap: gap.seconds)
            reasons = sorted({gap.reason.replace("_", " ") for gap in gaps})
            text += (
                f" The study was not watching during {len(gaps):,} coverage "
                f"gap{'' if len(gaps) == 1 else 's'} ({duration(total)} in all; "
                f"{_join(reasons)}), the longest from {minute(longest.start)} to "
                f"{minute(longest.end)} UTC on {longest.target}. A removal whose interval spans "
                "a gap is dated by the collector's downtime rather than the censor's act: it is "
                "flagged (interval_spans_gap) and left out of the time-to-removal figures."
            )
        else:
            text += (
                " No coverage gap was found: no target went unwatched for longer than its "
                "threshold (memoryhole status lists gaps)."
            )
    return MethodsParagraph("Dating", text)


def _statistics(
    kind: str, min_posts: int, test: str, alpha: float, bootstrap: int
) -> MethodsParagraph:
    tested = (
        "Fisher's exact test of the posts with the term against the others"
        if test == "fisher"
        else "a one-sided exact binomial test against the baseline rate"
    )
    text = (
        f"Removal rates per term count posts (a term counts once per post), with Wilson score "
        f"{1 - alpha:.0%} intervals. Each term found in at least {min_posts:,} posts is tested "
        f"with {tested}, and the p-values are adjusted for multiple testing with the "
        f"Benjamini–Hochberg procedure (q-values; a list at q < {alpha:g} is expected to hold at "
        f"most {alpha:.0%} false discoveries). The term table counts '{kind}' as removed and "
        f"every other verdict as not removed. Terms are words (w:, segmented with jieba) and "
        f"runs of two or three Chinese characters (c2:, c3:), so a word broken up to evade a "
        f"filter is still counted. Times to removal are interval-censored and estimated with "
        f"Turnbull's nonparametric maximum likelihood estimator, with {bootstrap:,} bootstrap "
        f"resamples of posts for the intervals of the medians; a post still live is "
        f"right-censored at its last sighting; removal kinds are competing risks (the curve of "
        f"one kind treats removals of another as censored). Not handled: left truncation (a "
        f"post first found long after publication is treated as if watched from publication)."
    )
    return MethodsParagraph("Statistics", text)


def _privacy(facts: StudyFacts) -> MethodsParagraph:
    text = (
        "Authors are shown by keyed pseudonyms (HMAC-SHA256 with the study's secret), watched "
        "timelines too; authors who asked to be taken down are left out of every figure"
    )
    if facts.taken_down:
        text += f" ({facts.taken_down:,} so far)"
    return MethodsParagraph("Privacy", text + ".")


# --------------------------------------------------------------------------- reading a study


def target_label(study: Study) -> Callable[[str, str, str, str], str]:
    """``label(platform, kind, key, spec)``: a target as it may be published (a timeline's
    account by its pseudonym, as its posts' authors are)."""

    def label(platform: str, kind: str, key: str, spec: str) -> str:
        if kind in TIMELINE_KINDS and key:
            pseudonym = study.pseudonym(platform, key)
            return spec.replace(key, pseudonym) if key in spec else f"{platform}:{kind}/{pseudonym}"
        return spec

    return label


def gather_facts(
    study: Study,
    *,
    label: Callable[[str, str, str, str], str] | None = None,
    gaps: Sequence[CoverageGap] | None = None,
    coverage: bool = True,
) -> StudyFacts:
    """Read what :func:`describe_methods` states from the study's store. ``gaps``: the
    study's coverage gaps if the caller has them (else read with ``Study.coverage_gaps``,
    unless ``coverage`` is False)."""
    engine = study.engine
    name = label or target_label(study)
    facts = _store_facts(engine, name)
    found: list[CoverageGap] | None
    if gaps is not None:
        found = list(gaps)
    elif coverage:
        found = study.coverage_gaps()
    else:
        found = None
    if found is not None:  # a gap's target as published (a timeline by pseudonym)
        found = [replace(gap, target=facts.labels.get(gap.target, gap.target)) for gap in found]
    return replace(facts, gaps=found)


def _store_facts(engine: Engine, label: Callable[[str, str, str, str], str]) -> StudyFacts:
    kept = posts.c.author_pk.not_in(
        select(authors.c.id).where(authors.c.pseudonym.in_(select(redactions.c.author_pseudonym)))
    )
    with engine.connect() as conn:
        per_target = {
            int(pk): (int(n), first, last)
            for pk, n, first, last in conn.execute(
                select(
                    posts.c.target_pk,
                    func.count(),
                    func.min(posts.c.first_seen_at),
                    func.max(posts.c.first_seen_at),
                )
                .where(kept, posts.c.target_pk.is_not(None))
                .group_by(posts.c.target_pk)
            )
        }
        watched: list[TargetFacts] = []
        labels: dict[str, str] = {}
        for row in conn.execute(select(targets).order_by(targets.c.id)):
            if row.kind == "import":
                continue
            n, first, last = per_target.get(int(row.id), (0, None, None))
            shown = label(str(row.platform), str(row.kind), str(row.key), str(row.spec))
            labels[str(row.spec)] = shown
            watched.append(
                TargetFacts(
                    shown,
                    str(row.platform),
                    str(row.kind),
                    bool(row.active),
                    n,
                    None if first is None else float(first),
                    None if last is None else float(last),
                )
            )
        posts_by_platform = {
            str(platform): int(n)
            for platform, n in conn.execute(
                select(posts.c.platform, func.count()).where(kept).group_by(posts.c.platform)
            )
        }
        removals = dict.fromkeys(REMOVAL_STATUSES, 0)
        for status, n in conn.execute(
            select(verdicts.c.status, func.count())
            .select_from(verdicts.join(posts, posts.c.id == verdicts.c.post_pk))
            .where(kept, verdicts.c.status.in_(REMOVAL_STATUSES))
            .group_by(verdicts.c.status)
        ):
            removals[str(status)] = int(n)
        last_id = conn.execute(select(func.max(observations.c.id))).scalar()
        first_at = conn.execute(
            select(observations.c.observed_at).order_by(observations.c.id).limit(1)
        ).scalar()
        last_at = (
            conn.execute(
                select(observations.c.observed_at).where(observations.c.id == last_id)
            ).scalar()
            if last_id is not None
            else None
        )
        platform = func.coalesce(posts.c.platform, targets.c.platform)
        signals: dict[str, list[tuple[str, str, int]]] = {}
        transient: dict[str, int] = {}
        query = (
            select(platform, observations.c.status, observations.c.code, func.count())
            .select_from(
                observations.outerjoin(posts, posts.c.id == observations.c.post_pk).outerjoin(
                    targets, targets.c.id == observations.c.target_pk
                )
            )
            .where(observations.c.status.in_((*REMOVAL_STATUSES, "unreachable")))
            .group_by(platform, observations.c.status, observations.c.code)
        )
        for where, status, code, n in conn.execute(query):
            name = str(where or "")
            if status == "unreachable":
                transient[name] = transient.get(name, 0) + int(n)
            else:
                signals.setdefault(name, []).append((str(status), str(code or ""), int(n)))
        for rows in signals.values():
            rows.sort(key=lambda row: (REMOVAL_STATUSES.index(row[0]), -row[2], row[1]))
        imported = [
            ImportFacts(
                str(row.kind),
                str(row.platform),
                str(row.source),
                str(row.timing),
                int(row.rows),
                int(row.new_posts),
            )
            for row in conn.execute(select(imports).order_by(imports.c.id))
        ]
        taken_down = int(
            conn.execute(select(func.count(func.distinct(redactions.c.author_pseudonym)))).scalar()
            or 0
        )
    return StudyFacts(
        targets=watched,
        posts_by_platform=posts_by_platform,
        removals_by_kind=removals,
        requests=int(last_id or 0),
        first_observed_at=None if first_at is None else float(first_at),
        last_observed_at=None if last_at is None else float(last_at),
        signals=signals,
        transient=transient,
        imports=imported,
        taken_down=taken_down,
        labels=labels,
    )


def study_methods(
    study: Study,
    *,
    term_kind: str = "censored",
    min_posts: int = 20,
    test: str = "binomial",
    alpha: float = 0.05,
    bootstrap: int = 100,
    label: Callable[[str, str, str, str], str] | None = None,
    gaps: Sequence[CoverageGap] | None = None,
) -> list[MethodsParagraph]:
    """The methods paragraphs of ``study``, from its configuration and store (see the module
    docstring). The keywords describe the figures the text goes with (the term table's
    ``kind``, ``min_posts``, ``test``, ``alpha``; the medians' ``bootstrap``)."""
    facts = gather_facts(study, label=label, gaps=gaps)
    return describe_methods(
        study.config,
        facts,
        term_kind=term_kind,
        min_posts=min_posts,
        test=test,
        alpha=alpha,
        bootstrap=bootstrap,
    )


def methods_text(study: Study, **options: Any) -> list[str]:
    """:func:`study_methods` as plain paragraphs, each ``"Title. Text"``."""
    return [str(paragraph) for paragraph in study_methods(study, **options)]


def facts_from_overview(
    targets_seen: Sequence[Any],
    by_platform: Mapping[str, Mapping[str, int]],
    requests: int,
    first_observed_at: float | None,
    last_observed_at: float | None,
    label: Callable[[Any], str],
) -> StudyFacts:
    """:class:`StudyFacts` from what the dashboard already holds (``overview``'s watched
    targets, verdict counts and activity): no per-target dates, answers or gaps."""
    removals = dict.fromkeys(REMOVAL_STATUSES, 0)
    for counts in by_platform.values():
        for kind in REMOVAL_STATUSES:
            removals[kind] += int(counts.get(kind, 0))
    return StudyFacts(
        targets=[
            TargetFacts(label(t), str(t.platform), str(t.kind), bool(t.active))
            for t in targets_seen
            if t.kind != "import"
        ],
        posts_by_platform={p: sum(c.values()) for p, c in by_platform.items()},
        removals_by_kind=removals,
        requests=requests,
        first_observed_at=first_observed_at,
        last_observed_at=last_observed_at,
    )


__all__ = [
    "AGE_CONFIRMATIONS",
    "ATTRIBUTION",
    "BUDGET_SCHEDULER",
    "MethodsParagraph",
    "StudyFacts",
    "TargetFacts",
    "describe_methods",
    "facts_from_overview",
    "gather_facts",
    "methods_text",
    "study_methods",
    "target_label",
]
