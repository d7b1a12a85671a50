"""The out-of-core engines give the in-memory path's tables: the planted study and a synthetic
multi-platform one through pandas and DuckDB (every count exact, every estimate equal to
float tolerance), and DuckDB and Dask on a ``LocalCluster`` equal to the last digit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from memoryhole.analysis import tables
from memoryhole.analysis.engines import tables as reduced
from memoryhole.analysis.engines.dataset import Dataset, write_study_dataset
from memoryhole.analysis.engines.duckdb_engine import DuckDBReductions
from memoryhole.analysis.study_data import Filters, StudyData
from memoryhole.analysis.survival import survival_curve
from memoryhole.bench.analysis_data import Spec, generate
from memoryhole.study import Study
from tests.analysis.study_fixtures import PlantedStudy

pytest.importorskip("duckdb")


def assert_same(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    """Same columns, rows and order; integer and text columns exact, floats to 1e-12."""
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for name in expected.columns:
        a, b = expected[name], got[name]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            np.testing.assert_allclose(
                b.to_numpy(dtype=float), a.to_numpy(dtype=float), rtol=1e-12, atol=0
            )
        else:
            assert b.tolist() == a.tolist(), name
    assert got.attrs == expected.attrs


@pytest.fixture(scope="module")
def planted_dataset(
    planted_study: PlantedStudy, planted_data: StudyData, tmp_path_factory: pytest.TempPathFactory
) -> Dataset:
    """Written 1,000 row ids at a time (several windows, as a large study is)."""
    study = Study.open(planted_study.path)
    try:
        return write_study_dataset(study, tmp_path_factory.mktemp("ds") / "d", window=1000)
    finally:
        study.close()


@pytest.fixture(scope="module")
def duck(planted_dataset: Dataset) -> Iterator[DuckDBReductions]:
    reductions = DuckDBReductions(planted_dataset)
    yield reductions
    reductions.close()


def test_dataset_holds_every_analysed_post_and_term(
    planted_dataset: Dataset, planted_data: StudyData
) -> None:
    assert planted_dataset.posts == planted_data.n_posts
    index = planted_data.term_counts()
    assert planted_dataset.terms == int(index.counts.sum())


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"test": "fisher", "min_posts": 5},
        {"kind": ("censored", "account_suspended"), "exclude_outcomes": ("unknown",)},
    ],
)
def test_terms_duckdb_equals_pandas(
    planted_data: StudyData, duck: DuckDBReductions, options: dict[str, Any]
) -> None:
    expected = tables.terms_table(planted_data, **options)
    assert len(expected) > 100
    assert_same(expected, reduced.terms_table(duck, Filters(), **options))


@pytest.mark.parametrize("population", ["removed", "all"])
@pytest.mark.parametrize("group_by", [None, "platform", "kind"])
@pytest.mark.parametrize("kind", ["censored", None])
def test_survival_duckdb_equals_pandas(
    planted_data: StudyData,
    duck: DuckDBReductions,
    population: str,
    group_by: str | None,
    kind: str | None,
) -> None:
    options: dict[str, Any] = {"kind": kind, "group_by": group_by, "population": population}
    curves, summary = tables.survival_table(planted_data, bootstrap=30, **options)
    got_curves, got_summary = reduced.survival_table(duck, Filters(), bootstrap=30, **options)
    assert summary["events"].sum() > 100
    assert_same(summary, got_summary)
    assert_same(curves, got_curves)


def test_platforms_duckdb_equals_pandas(planted_data: StudyData, duck: DuckDBReductions) -> None:
    expected = tables.platforms_table(planted_data, bootstrap=30)
    assert expected["significant_terms"].iloc[0] > 0
    assert_same(expected, reduced.platforms_table(duck, Filters(), bootstrap=30))


@pytest.mark.parametrize(
    "options",
    [{}, {"bin": "6h", "within": None}, {"bin": "1h", "within": 7200.0, "kind": "unknown"}],
)
def test_timeline_duckdb_equals_pandas(
    planted_data: StudyData, duck: DuckDBReductions, options: dict[str, Any]
) -> None:
    expected = tables.timeline_table(planted_data, **options)
    assert expected["removed"].sum() > 0 and expected["removals_seen"].sum() > 0
    assert_same(expected, reduced.timeline_table(duck, Filters(), **options))


@pytest.mark.parametrize("kind", ["censored", ("censored", "unknown")])
def test_accounts_duckdb_equals_pandas(
    planted_data: StudyData, duck: DuckDBReductions, kind: Any
) -> None:
    expected = tables.accounts_table(planted_data, kind=kind)
    assert expected["suspended"].any()
    assert_same(expected, reduced.accounts_table(duck, Filters(), kind=kind))
    assert_same(
        tables.suspensions_table(planted_data, bin="6h"),
        reduced.suspensions_table(duck, Filters(), bin="6h"),
    )


def test_filters_select_the_same_posts(planted_data: StudyData, duck: DuckDBReductions) -> None:
    since, until = planted_data.span()  # type: ignore[misc]
    middle = (since + until) / 2
    part = planted_data.subset((planted_data.posts["published_at"] >= middle).to_numpy())
    assert 0 < part.n_posts < planted_data.n_posts
    assert_same(
        tables.terms_table(part, min_posts=5),
        reduced.terms_table(duck, Filters(since=middle), min_posts=5),
    )


def test_weighted_rows_give_the_curve_of_the_repeated_rows() -> None:
    rng = np.random.default_rng(3)
    left = np.round(rng.uniform(0, 50, 40))
    right = np.where(rng.random(40) < 0.3, np.inf, left + np.round(rng.uniform(1, 30, 40)))
    weight = rng.integers(1, 6, 40)
    frame, summary = survival_curve(np.repeat(left, weight), np.repeat(right, weight), bootstrap=40)
    got, got_summary = survival_curve(left, right, weights=weight, bootstrap=40)
    pd.testing.assert_frame_equal(got, frame, check_exact=True)
    assert got_summary == summary
    assert summary.n == int(weight.sum())


# ----------------------------------------------------------------------------- synthetic


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """3 platforms over 6 months, publication windows, gap-spanning removals."""
    directory = tmp_path_factory.mktemp("synthetic") / "d"
    dataset, _ = generate(
        Spec(posts=6000, observations=60000, vocabulary=300, chunk=2500), directory
    )
    return dataset


def _in_memory(dataset: Dataset) -> StudyData:
    """The synthetic posts as the in-memory path holds them."""
    frame = pd.read_parquet(dataset.directory / "posts").sort_values("post_pk")
    frame["platform"] = frame["platform"].astype(str)
    frame = frame.reset_index(drop=True)
    return StudyData(None, frame, Filters(), None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("population", ["removed", "all"])
@pytest.mark.parametrize("group_by", [None, "platform", "kind"])
def test_synthetic_survival_duckdb_equals_pandas(
    synthetic: Dataset, population: str, group_by: str | None
) -> None:
    data = _in_memory(synthetic)
    assert data.posts["platform"].nunique() == 3
    assert data.posts["interval_spans_gap"].any() and (data.posts["published_within"] > 0).any()
    options: dict[str, Any] = {"kind": None, "group_by": group_by, "population": population}
    curves, summary = tables.survival_table(data, bootstrap=20, **options)
    reductions = DuckDBReductions(synthetic)
    try:
        got_curves, got_summary = reduced.survival_table(
            reductions, Filters(), bootstrap=20, **options
        )
        counts = reductions.outcome_counts(Filters(platforms=("reddit",)))
    finally:
        reductions.close()
    assert int(summary["gap_removals_left_out"].iloc[0]) > 0
    assert_same(summary, got_summary)
    assert_same(curves, got_curves)
    if group_by is None and population == "all":
        reductions = DuckDBReductions(synthetic)
        try:
            got_accounts = reduced.accounts_table(reductions, Filters())
            got_timeline = reduced.timeline_table(reductions, Filters(), bin="week")
        finally:
            reductions.close()
        assert_same(tables.accounts_table(data), got_accounts)
        data.observed_until = synthetic.observed_until
        assert_same(tables.timeline_table(data, bin="week"), got_timeline)
    reddit = data.posts[data.posts["platform"] == "reddit"]
    assert counts == {("reddit", v): n for v, n in reddit["verdict"].value_counts().items()}


# ----------------------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as local:
        yield str(local.scheduler_address)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("which", ["planted", "synthetic"])
def test_dask_on_a_cluster_equals_duckdb_exactly(
    cluster: str, planted_dataset: Dataset, synthetic: Dataset, which: str
) -> None:
    from memoryhole.analysis.engines.dask_engine import DaskReductions

    dataset = planted_dataset if which == "planted" else synthetic
    duck, dask = DuckDBReductions(dataset), DaskReductions(dataset, cluster)
    try:
        everything = Filters()
        assert dask.outcome_counts(everything) == duck.outcome_counts(everything)
        assert dask.author_counts(everything) == duck.author_counts(everything)
        assert dask.gap_removals(everything) == duck.gap_removals(everything)
        for at_least in (1, 20):
            ids, verdicts, counts = duck.term_counts(everything, at_least)
            got_ids, got_verdicts, got_counts = dask.term_counts(everything, at_least)
            assert got_verdicts == verdicts
            assert np.array_equal(got_ids, ids) and np.array_equal(got_counts, counts)
            assert counts.sum(axis=0).min() >= at_least
        for group_by in (None, "platform", "kind"):
            expected = reduced.survival_table(duck, everything, group_by=group_by, bootstrap=20)
            got = reduced.survival_table(dask, everything, group_by=group_by, bootstrap=20)
            for a, b in zip(expected, got, strict=True):
                pd.testing.assert_frame_equal(b, a, check_exact=True)
        for within in (None, 3600.0):
            pd.testing.assert_frame_equal(
                reduced.timeline_table(dask, everything, bin="6h", within=within),
                reduced.timeline_table(duck, everything, bin="6h", within=within),
                check_exact=True,
            )
        pd.testing.assert_frame_equal(
            reduced.accounts_table(dask, everything),
            reduced.accounts_table(duck, everything),
            check_exact=True,
        )
        pd.testing.assert_frame_equal(
            reduced.suspensions_table(dask, everything),
            reduced.suspensions_table(duck, everything),
            check_exact=True,
        )
        pd.testing.assert_frame_equal(
            reduced.platforms_table(dask, everything, bootstrap=20, min_posts=5),
            reduced.platforms_table(duck, everything, bootstrap=20, min_posts=5),
            check_exact=True,
        )
    finally:
        duck.close()
        dask.close()
