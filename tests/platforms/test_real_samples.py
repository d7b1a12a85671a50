"""Every real sample copied into the project is claimed by a conformance test table, so no real
answer sits unread: each ``test_real_<platform>.py`` lists the samples it holds to account."""

from __future__ import annotations

import importlib

from tests.platforms.real_samples import feed_names, sample_names

CONFORMANCE = ("weibo", "reddit", "mastodon", "rss", "bluesky", "telegram", "youtube")


def claimed() -> set[str]:
    names: set[str] = set()
    for platform in CONFORMANCE:
        module = importlib.import_module(f"tests.platforms.test_real_{platform}")
        names |= set(module.CLAIMS)
    return names


def test_every_real_sample_and_feed_is_held_against_an_adapter() -> None:
    wanted = set(sample_names()) | set(feed_names())
    assert wanted, "tests/data/real is empty"
    missing = sorted(wanted - claimed())
    assert not missing, f"real samples no conformance test reads: {missing}"


def test_claims_name_real_files() -> None:
    unknown = sorted(claimed() - set(sample_names()) - set(feed_names()))
    assert not unknown, f"claimed samples that are not in tests/data/real: {unknown}"
