"""``memoryhole schedule explain POST_ID``: why a post is checked when it is.

The scheduler is rebuilt from the study, as of its last observation: every post's features
(text, author) with what was seen of it (alive until, removed when) give the relative risks;
the hazard by age and the threshold are the last run's (committed with each batch; or the
``scheduler.json`` that ``bench detect`` leaves; without either the hazard is re-learnt from
the verdicts and the threshold is the one the post's scheduled check implies). The next check
is the one the store holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from memoryhole.collect.state import verdict_from_row
from memoryhole.errors import MemoryholeError
from memoryhole.model import Verdict
from memoryhole.schedule.scheduler import Explanation, Scheduler, SchedulerSettings
from memoryhole.store.schema import authors, observations, posts, schedule, targets, verdicts
from memoryhole.study import Study


@dataclass(slots=True)
class _Post:
    pk: int
    platform: str
    post_id: str
    author_id: str
    published_at: float
    verdict: Verdict
    checks: int = 0
    failures: int = 0


def saved_state(study: Study) -> dict[str, Any] | None:
    """The threshold and hazard of the study's last run: from the state the collector commits
    with each batch (``collect/durable.py``), else from a ``scheduler.json`` (``bench detect``
    leaves one)."""
    from memoryhole.collect.state import load_scheduler_state
    from memoryhole.schedule import snapshot

    decoded = snapshot.decode("policy", load_scheduler_state(study.engine))
    if decoded is not None and "hazard" in decoded[0]:
        meta = decoded[0]
        return {"settings": meta["settings"], "threshold": meta["threshold"], "store": meta}
    return Scheduler.load_state(study.path)


def rebuild(study: Study) -> tuple[Scheduler, float, dict[str, int]]:
    """The scheduler as of the study's last observation; also that time and post ids → pks."""
    saved = saved_state(study)
    if saved is not None:
        settings = SchedulerSettings(**saved["settings"])
    else:
        collector = study.config.collector
        settings = SchedulerSettings(
            budget_per_second=collector.budget_per_second, horizon=collector.horizon
        )
    scheduler = Scheduler(settings)
    if saved is not None:
        if "store" in saved:
            scheduler.hazard.restore(saved["store"]["hazard"])
        else:
            scheduler.hazard.load(saved["hazard"])
        scheduler.threshold = float(saved["threshold"])
    query = (
        select(
            posts.c.id,
            posts.c.platform,
            posts.c.post_id,
            posts.c.published_at,
            posts.c.text,
            authors.c.raw_id,
            verdicts,
            schedule.c.next_check_at,
        )
        .join(authors, authors.c.id == posts.c.author_pk)
        .join(verdicts, verdicts.c.post_pk == posts.c.id)
        .outerjoin(schedule, schedule.c.post_pk == posts.c.id)
        .order_by(posts.c.id)
    )
    keys: dict[str, int] = {}
    polled: dict[str, float] = {}  # author → when its timeline last answered
    with study.engine.connect() as connection:
        now = connection.execute(select(func.max(observations.c.observed_at))).scalar() or 0.0
        last_listings = (
            select(targets.c.key, func.max(observations.c.sent_at))
            .join(observations, observations.c.target_pk == targets.c.id)
            .where(targets.c.kind == "user", observations.c.status == "live")
            .group_by(targets.c.key)
        )
        polled = {key: float(at) for key, at in connection.execute(last_listings)}
        for target in connection.execute(
            select(targets.c.id, targets.c.kind, targets.c.key, targets.c.next_poll_at)
        ):
            if target.kind == "all":
                scheduler.wide_view = True
            elif target.kind == "user":
                author = scheduler.index.bind_target(target.key, target.id)
                author.poll_at = target.next_poll_at
        for row in connection.execute(query).mappings():
            post = _Post(
                row["id"],
                row["platform"],
                row["post_id"],
                row["raw_id"],
                row["published_at"],
                verdict_from_row(dict(row)),
            )
            # A live post was seen in its author's last timeline poll after its publication
            # (had it been missing, a check would have followed): sightings are only logged
            # before a post's own next check, so the verdict may not show it yet.
            listed = polled.get(row["raw_id"])
            scheduler.remember(
                post,
                row["text"],
                due=row["next_check_at"],
                learn_hazard=saved is None,
                seen_alive_at=listed if listed and listed > row["published_at"] else None,
            )
            keys[row["post_id"]] = row["id"]
    if saved is None:
        scheduler.hazard.refresh()
    for record in scheduler.posts.values():  # with everything learnt
        record.rr = scheduler.risk.risk(record.features)
    return scheduler, float(now), keys


def explain_post(study: Study, post_id: str) -> Explanation:
    scheduler, now, keys = rebuild(study)
    pk = keys.get(post_id)
    if pk is None:
        raise MemoryholeError(f"no post {post_id!r} in {study.path}")
    record = scheduler.posts[pk]
    if saved_state(study) is None and record.due is not None:
        # No saved threshold: the one at which this post's scheduled check falls due.
        weight = scheduler.hazard.weight(
            record.alive_age, record.due - record.published_at, record.rr
        )
        scheduler.threshold = weight if weight > 0 else scheduler.threshold
    return scheduler.explain(pk, now)
