"""The generic JSON adapter: a platform described in TOML (paths, URL templates, signals),
the built-in ``json`` description, safety rules on signals, declared platforms."""

from __future__ import annotations

from pathlib import Path

import pytest

from memoryhole.errors import ConfigError, TargetError
from memoryhole.model import PostRef, Status, Target, content_hash
from memoryhole.platforms import registry
from memoryhole.platforms.generic_json import (
    DEFAULT_CONFIG,
    GenericJsonPlatform,
    JsonPath,
    declared_platforms,
    load_description,
)
from tests.platforms.helpers import DATA, FAULTS, HTML, JSON, Fault, capture, fixture

POST = PostRef("json", "4900000000000001", "1234567")


def adapter() -> GenericJsonPlatform:
    return GenericJsonPlatform("http://127.0.0.1:9")


def check(name: str, status: int = 200, platform: GenericJsonPlatform | None = None):
    platform = platform or adapter()
    post = POST if platform.name == "json" else PostRef(platform.name, "771", "55")
    answer = capture(platform.check_request(post), fixture(name), status, JSON)
    return platform.parse_check(post, answer)


@pytest.mark.parametrize(
    ("text", "value", "found"),
    [
        ("$", {"a": 1}, [{"a": 1}]),
        ("$.a.b", {"a": {"b": 2}}, [2]),
        ("$['a b'][0]", {"a b": [5, 6]}, [5]),
        ("$.items[-1].id", {"items": [{"id": 1}, {"id": 2}]}, [2]),
        ("$.items[*].id", {"items": [{"id": 1}, {"x": 0}, {"id": 3}]}, [1, 3]),
        ("$.m.*", {"m": {"x": 1, "y": 2}}, [1, 2]),
        ("$.missing.deeper", {"a": 1}, []),
        ("$.a[3]", {"a": [1]}, []),
        ("$.用户.名字", {"用户": {"名字": "王"}}, ["王"]),
    ],
)
def test_paths(text: str, value: object, found: list[object]) -> None:
    assert JsonPath(text).find(value) == found


@pytest.mark.parametrize("text", ["a.b", "$.a[", "$..a", "$.a[x]"])
def test_bad_paths_say_so(text: str) -> None:
    with pytest.raises(ValueError, match="path"):
        JsonPath(text)


@pytest.mark.parametrize(
    ("name", "status", "expected", "code"),
    [
        ("json_post_visible.json", 200, Status.LIVE, None),
        ("json_post_censored.json", 451, Status.CENSORED, "451"),
        ("json_post_deleted_by_author.json", 410, Status.AUTHOR_DELETED, "deleted_by_author"),
        ("json_account_suspended.json", 403, Status.ACCOUNT_SUSPENDED, "account_suspended"),
        ("json_post_gone.json", 410, Status.REMOVED_UNKNOWN, "410"),
        ("json_not_found.json", 404, Status.REMOVED_UNKNOWN, "404"),
        ("json_post_censored.json", 403, Status.UNREACHABLE, None),  # 403 without the reason
        ("json_post_censored.json", 200, Status.UNREACHABLE, None),  # no post in it
    ],
)
def test_builtin_description(name: str, status: int, expected: Status, code: str | None) -> None:
    observation = check(name, status)
    assert (observation.status, observation.code) == (expected, code)


def test_visible_post_text_hash_media() -> None:
    observation = check("json_post_visible.json")
    assert observation.text == "今天天气很好"
    assert observation.content_hash == content_hash("今天天气很好")
    assert "image https://media.sim.invalid/4900000000000001.jpg" in observation.detail
    assert check("json_post_edited.json").content_hash != observation.content_hash


def test_a_proxy_page_with_a_signal_status_is_not_the_platform_speaking() -> None:
    platform = adapter()
    answer = capture(platform.check_request(POST), b"<html>Gone</html>", 410, HTML)
    assert platform.parse_check(POST, answer).status is Status.UNREACHABLE


REMOVALS = [
    ("json_post_censored.json", 451),
    ("json_post_deleted_by_author.json", 410),
    ("json_account_suspended.json", 403),
    ("json_not_found.json", 404),
]


@pytest.mark.parametrize(("name", "status"), REMOVALS)
@pytest.mark.parametrize(("fault_name", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_no_fault_is_ever_a_removal(name: str, status: int, fault_name: str, fault: Fault) -> None:
    platform = adapter()
    answer = fault(platform.check_request(POST), fixture(name), JSON)
    if answer.status == status and answer.body == fixture(name):
        assert platform.parse_check(POST, answer).status.is_removal  # the answer itself
        return
    assert platform.parse_check(POST, answer).status is Status.UNREACHABLE, fault_name
    target = Target("json", "all")
    listing = fault(
        platform.discover_request(target, None), fixture("json_listing_page.json"), JSON
    )
    assert platform.parse_discover(target, listing).status is Status.UNREACHABLE


def test_listing_reads_posts_skips_unreadable_and_follows_the_cursor() -> None:
    platform = adapter()
    target = platform.parse_target("all")
    request = platform.discover_request(target, "4899")
    assert request.full_url() == "http://127.0.0.1:9/api/v1/posts?limit=50&since_id=4899"
    discovery = platform.parse_discover(target, capture(request, fixture("json_listing_page.json")))
    assert discovery.status is Status.LIVE
    assert [p.post_id for p in discovery.posts] == ["4900000000000001", "4900000000000002"]
    assert discovery.posts[0].published_at == 1732341900.0
    assert discovery.posts[1].author_id == "1234567"
    assert discovery.next_cursor == "4900000000000003"
    assert "1 unreadable" in discovery.detail


# -- a described platform ----------------------------------------------------------------


@pytest.fixture
def forum(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> GenericJsonPlatform:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no user descriptions
    monkeypatch.setenv("MEMORYHOLE_PLATFORMS", str(DATA / "json_forum_platform.toml"))
    monkeypatch.setenv("MYFORUM_TOKEN", "t0ken")
    platform = registry.get("myforum")
    assert isinstance(platform, GenericJsonPlatform)
    return platform


def test_declared_platform_is_found_by_name(forum: GenericJsonPlatform) -> None:
    assert forum.name == "myforum"
    assert "myforum" in registry.available()
    assert registry.parse_target("myforum:board/tenants").spec == "myforum:board/tenants"
    request = forum.check_request(PostRef("myforum", "771", "55"))
    assert request.url == "https://forum.example/api/threads/771"
    assert ("Authorization", "Bearer t0ken") in request.headers
    assert "t0ken" not in request.full_url()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("json_forum_thread.json", Status.LIVE),
        ("json_forum_thread_hidden.json", Status.CENSORED),
        ("json_forum_thread_self_deleted.json", Status.AUTHOR_DELETED),
    ],
)
def test_declared_platform_field_signals(forum: GenericJsonPlatform, name: str, expected: Status):
    assert check(name, platform=forum).status is expected


def test_declared_platform_fields(forum: GenericJsonPlatform) -> None:
    observation = check("json_forum_thread.json", platform=forum)
    assert observation.text == "Rent strike\nMeeting at 7"
    assert "image https://forum.example/a/1.png" in observation.detail
    target = forum.parse_target("board/tenants")
    request = forum.discover_request(target, "c1")
    assert (
        request.full_url()
        == "https://forum.example/api/boards/tenants/threads?per_page=2&cursor=c1"
    )
    discovery = forum.parse_discover(target, capture(request, fixture("json_forum_listing.json")))
    assert [p.post_id for p in discovery.posts] == ["772", "771"]
    assert discovery.posts[1].published_at == 1732341900.123  # milliseconds
    assert discovery.posts[0].text == "Second"
    assert (discovery.next_cursor, discovery.more) == ("c2", True)
    with pytest.raises(TargetError, match="myforum:board/<key>"):
        forum.parse_target("board")


def test_builtins_cannot_be_shadowed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shadow = tmp_path / "weibo.toml"
    shadow.write_text(DEFAULT_CONFIG.replace('name = "json"', 'name = "weibo"'))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    monkeypatch.setenv("MEMORYHOLE_PLATFORMS", str(tmp_path))
    assert "weibo" in declared_platforms()
    assert type(registry.get("weibo")).__name__ == "WeiboPlatform"


def test_a_bad_declared_file_names_itself(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[listing\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    monkeypatch.setenv("MEMORYHOLE_PLATFORMS", str(bad))
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML"):
        declared_platforms()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("http = 451\n", "http = 503\n"), "never definitive"),
        (("http = 451\n", "http = 429\n"), "never definitive"),
        (("http = 451\n", "http = 301\n"), "never definitive"),
        (('status = "censored"', 'status = "removed"'), "signals.0.status"),
        (('equals = "deleted_by_author"\n', ""), "say equals, in or exists"),
        (('time = "$.created_at"', 'time = "created_at"'), "must start with"),
        (('url = "{base_url}/api/v1/posts/{id}"', 'url = "{base_url}/{post}"'), "{post}"),
        (('all = "{base_url}/api/v1/posts"', 'all = "{base_url}/{page}"'), "{page}"),
        (("limit_param", "limit_parameter"), "misspelt"),
        (('name = "json"', 'name = "My Forum"'), "lowercase"),
        (("[fields]", "[fieldz]"), "fieldz"),
    ],
)
def test_description_errors_are_clear(change: tuple[str, str], message: str) -> None:
    text = DEFAULT_CONFIG.replace(*change, 1)
    assert text != DEFAULT_CONFIG
    with pytest.raises(ConfigError, match=r"forum\.toml") as error:
        load_description(text, "forum.toml")
    assert message in str(error.value)
