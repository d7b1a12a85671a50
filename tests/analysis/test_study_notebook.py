"""``memoryhole.open``: notebooks get DataFrames, the analysis tables and DuckDB SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

import memoryhole
from memoryhole.errors import MemoryholeError
from tests.analysis.study_fixtures import PLANTED, PlantedStudy


def test_open_gives_frames_analyses_and_sql(planted_study: PlantedStudy) -> None:
    pytest.importorskip("duckdb")
    with memoryhole.open(planted_study.path) as s:
        assert len(s.posts) == len(s.verdicts) > 2900
        assert set(s.observations["kind"]) == {"check", "discover", "post"}  # post: its facts
        assert s.authors["author_id"].str.startswith("a_").all()
        assert "raw_author_id" not in s.authors.columns
        counts = s.sql("select verdict, count(*) as n from verdicts group by 1 order by 1")
        assert counts.set_index("verdict")["n"].sum() == len(s.verdicts)
        joined = s.sql(
            "select count(*) as n from posts p join verdicts v using (post_pk) "
            f"where v.verdict = 'censored' and p.text like '%{PLANTED[0]}%'"
        )
        assert int(joined["n"].iloc[0]) > 20
        per_term = s.sql(
            "select count(*) as n from (select unnest(string_split(terms, ' ')) as term "
            f"from post_terms) where term = 'c2:{PLANTED[0][:2]}'"
        )
        assert int(per_term["n"].iloc[0]) == int(s.posts["text"].str.contains(PLANTED[0]).sum())
        terms = s.terms(min_posts=30)
        assert terms.iloc[0]["q_value"] < 1e-6
        s.register("terms", terms)
        top = s.sql("select term from terms where q_value < 0.05 order by q_value limit 3")
        assert len(top) == 3
        curves, summary = s.survival(bootstrap=0, platforms="weibo")
        assert summary.iloc[0]["n"] > 0 and len(curves) > 2
        assert len(s.timeline(bin="day")) >= 3
        assert len(s.accounts()) == 60
        assert list(s.platforms(bootstrap=0)["platform"]) == ["weibo"]
        with pytest.raises(MemoryholeError):
            s.table("targets")


def test_raw_author_ids_only_when_asked(planted_study: PlantedStudy) -> None:
    with memoryhole.open(planted_study.path, raw_author_ids=True) as s:
        raw = set(s.authors["raw_author_id"])
    assert raw == {p.post.author_id for p in planted_study.planted}


def test_tables_and_analyses_are_called_alike_with_datetime_columns(small_study: Path) -> None:
    """Issue 24: ``s.verdicts`` was a property but ``s.terms()`` a method; now every table is
    called too (the old spelling still works), and times are pandas datetimes beside epochs."""
    import pandas as pd

    with memoryhole.open(small_study) as s:
        called, attribute = s.verdicts(), s.verdicts
        assert isinstance(called, pd.DataFrame)
        pd.testing.assert_frame_equal(called, attribute)
        for name in ("posts", "verdicts", "observations", "authors"):
            assert len(getattr(s, name)()) == len(getattr(s, name))
        assert type(called[called["verdict"] == "censored"]) is pd.DataFrame  # plain when derived
        removed = called[called["first_seen_removed_at"].notna()].iloc[0]
        stamp = removed["first_seen_removed_at_iso"]
        assert isinstance(stamp, pd.Timestamp) and str(stamp.tz) == "UTC"
        assert stamp.timestamp() == int(removed["first_seen_removed_at"])  # to the second
        assert str(s.posts()["published_at_iso"].dtype) == "datetime64[ns, UTC]"
        accounts = s.accounts()
        assert str(accounts["first_post_at_iso"].dtype) == "datetime64[ns, UTC]"
        assert "published_at" in s.sql("select * from posts limit 1").columns
