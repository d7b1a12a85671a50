"""``load_posts`` (posts and verdicts read in two passes, joined in numpy) gives exactly the
rows of the plain SQL join it replaced: filters, taken-down authors, imports' publication
windows, edited posts shown as live, posts without a verdict left out."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from memoryhole.analysis.study_data import (
    POST_COLUMNS,
    PUBLICATION_WINDOWS,
    Filters,
    default_gap_index,
    load_posts,
)
from memoryhole.evidence.takedown import takedown
from memoryhole.imports import run_import
from memoryhole.store.schema import authors, imports, posts, verdicts
from memoryhole.study import Study

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "wechatscope_sample.csv"


def reference(study: Study, filters: Filters, raw: bool) -> list[tuple[Any, ...]]:
    """The join in SQL, row by row, as ``load_posts`` did before."""
    query = (
        select(
            posts.c.id,
            posts.c.post_id,
            posts.c.platform,
            authors.c.raw_id if raw else authors.c.pseudonym,
            posts.c.published_at,
            verdicts.c.first_seen_at,
            verdicts.c.last_seen_alive_at,
            verdicts.c.first_seen_removed_at,
            verdicts.c.status,
            verdicts.c.edited,
            verdicts.c.checks,
            imports.c.kind,
            posts.c.target_pk,
        )
        .join(verdicts, verdicts.c.post_pk == posts.c.id)
        .join(authors, authors.c.id == posts.c.author_pk)
        .outerjoin(imports, imports.c.id == posts.c.imported_from)
        .where(*filters.conditions())
        .order_by(posts.c.id)
    )
    with study.engine.connect() as connection:
        rows = connection.execute(query).all()
    gaps = default_gap_index(study.engine)
    out = []
    for row in rows:
        values = list(row)
        target_pk = values.pop()
        values[8] = "live" if values[8] == "edited" else values[8]
        values[9] = bool(values[9])
        values[11] = PUBLICATION_WINDOWS.get(values[11], 0.0) if values[11] else 0.0
        values.append(gaps.spans(values[2], target_pk, values[6], values[7]))
        out.append(tuple(values))
    return out


def as_rows(study: Study, filters: Filters, raw: bool) -> list[tuple[Any, ...]]:
    frame = load_posts(study.engine, filters, raw_author_ids=raw)
    assert list(frame.columns) == list(POST_COLUMNS)
    return [
        tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
        for row in frame.itertuples(index=False, name=None)
    ]


def normalise(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [
        tuple(
            (float(v) if not isinstance(v, bool) else v) if isinstance(v, int | float) else v
            for v in row
        )
        for row in rows
    ]


@pytest.fixture
def mixed_study(small_study: Path) -> Study:
    study = Study.open(small_study)
    run_import(study, "wechatscope", SAMPLE)  # posts with a publication window
    with study.engine.begin() as connection:
        connection.execute(update(verdicts).where(verdicts.c.post_pk == 2).values(status="edited"))
        connection.execute(verdicts.delete().where(verdicts.c.post_pk == 5))  # no verdict yet
    takedown(study, "1000001", platform="weibo", reason="test")
    return study


@pytest.mark.parametrize("raw", [False, True])
def test_every_post_as_the_sql_join_gives_it(mixed_study: Study, raw: bool) -> None:
    got = as_rows(mixed_study, Filters(), raw)
    want = reference(mixed_study, Filters(), raw)
    assert len(got) > 300 and any(r[11] > 0 for r in got) and any(r[11] == 0 for r in got)
    assert normalise(got) == normalise(want)


def test_filters_as_the_sql_join_applies_them(mixed_study: Study) -> None:
    everything = as_rows(mixed_study, Filters(), False)
    times = sorted(r[4] for r in everything)
    platforms = sorted({r[2] for r in everything})
    assert len(platforms) == 2, "the fixture's posts and the imported ones"
    for filters in (
        Filters(platforms=(platforms[0],)),
        Filters(platforms=(platforms[1],)),
        Filters(since=times[len(times) // 3]),
        Filters(
            until=sorted(r[4] for r in everything if r[2] == platforms[1])[5],
            platforms=(platforms[1],),
        ),
    ):
        got = as_rows(mixed_study, filters, False)
        assert 0 < len(got) < len(everything)
        assert normalise(got) == normalise(reference(mixed_study, filters, False))
