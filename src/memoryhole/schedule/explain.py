"""``memoryhole schedule explain POST_ID``: why a post is checked when it is.

The post's platform's scheduler (there is one per platform, ``schedule/by_platform.py``) is
rebuilt from the study's posts of that platform, as of its last observation: every post's features
(text, author) with what was seen of it (alive until, removed when) give the relative risks;
the hazard by age and the threshold are the last run's (the saved state the collector commits
with each batch, ``schedule/state.py``: ``run`` and ``bench detect`` alike; without it the
hazard is re-learnt from the verdicts and the threshold is the one the post's scheduled check
implies). The next check is the one the store holds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from memoryhole.errors import MemoryholeError
from memoryhole.schedule.scheduler import Explanation, Scheduler, SchedulerSettings
from memoryhole.store.schema import observations, posts, targets
from memoryhole.store.state import post_state, post_states_query
from memoryhole.study import Study


def saved_state(study: Study, platform: str) -> dict[str, Any] | None:
    """The threshold and hazard of the platform's scheduler in the study's last run: from the
    state the collector commits with each batch (``collect/durable.py``; one scheduler's per
    platform, or a lone scheduler's from before), or None."""
    from memoryhole.schedule import snapshot
    from memoryhole.store.queries import load_scheduler_state

    decoded = snapshot.decode("policy", load_scheduler_state(study.engine))
    if decoded is not None:
        meta: dict[str, Any] | None = decoded[0]
        if meta is not None and "platforms" in meta:
            meta = meta["platforms"].get(platform)
        if meta is not None and "hazard" in meta:
            return {"settings": meta["settings"], "threshold": meta["threshold"], "store": meta}
    return None


def rebuild(
    study: Study, platform: str, saved: dict[str, Any] | None
) -> tuple[Scheduler, float, dict[str, int]]:
    """The platform's scheduler as of the study's last observation (``saved``: its
    ``saved_state``); also that time and the platform's post ids → pks."""
    if saved is not None:
        settings = SchedulerSettings(**saved["settings"])
    else:
        collector = study.config.collector
        budget = study.config.platform_budgets().get(platform, collector.budget_per_second)
        settings = SchedulerSettings(budget_per_second=budget, horizon=collector.horizon)
    scheduler = Scheduler(settings)
    if saved is not None:
        scheduler.hazard.restore(saved["store"]["hazard"])
        scheduler.threshold = float(saved["threshold"])
    query = post_states_query(posts.c.text).where(posts.c.platform == platform)
    query = query.order_by(posts.c.id)
    keys: dict[str, int] = {}
    polled: dict[str, float] = {}  # author → when its timeline last answered
    with study.engine.connect() as connection:
        now = connection.execute(select(func.max(observations.c.observed_at))).scalar() or 0.0
        last_listings = (
            select(targets.c.key, func.max(observations.c.sent_at))
            .join(observations, observations.c.target_pk == targets.c.id)
            .where(
                targets.c.platform == platform,
                targets.c.kind == "user",
                observations.c.status == "live",
            )
            .group_by(targets.c.key)
        )
        polled = {key: float(at) for key, at in connection.execute(last_listings)}
        for target in connection.execute(
            select(targets.c.id, targets.c.kind, targets.c.key, targets.c.next_poll_at).where(
                targets.c.platform == platform
            )
        ):
            if target.kind == "all":
                scheduler.wide_view = True
            elif target.kind == "user":
                author = scheduler.index.bind_target(target.key, target.id)
                author.poll_at = target.next_poll_at
        for row in connection.execute(query).mappings():
            post = post_state(row)
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


def explain_post(study: Study, post_id: str, platform: str | None = None) -> Explanation:
    query = select(posts.c.platform).where(posts.c.post_id == post_id).distinct()
    if platform is not None:
        query = query.where(posts.c.platform == platform)
    with study.engine.connect() as connection:
        platforms = sorted(connection.execute(query).scalars())
    if not platforms:
        where = f" on {platform}" if platform is not None else ""
        raise MemoryholeError(f"no post {post_id!r}{where} in {study.path}")
    if len(platforms) > 1:
        raise MemoryholeError(
            f"post id {post_id!r} is on {', '.join(platforms)}; say which with --platform"
        )
    saved = saved_state(study, platforms[0])  # decoded once: it holds the whole state
    scheduler, now, keys = rebuild(study, platforms[0], saved)
    record = scheduler.posts[keys[post_id]]
    pk = record.pk
    if saved is None and record.due is not None:
        # No saved threshold: the one at which this post's scheduled check falls due.
        weight = scheduler.hazard.weight(
            record.alive_age, record.due - record.published_at, record.rr
        )
        scheduler.threshold = weight if weight > 0 else scheduler.threshold
    return scheduler.explain(pk, now)
