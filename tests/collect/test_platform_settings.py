"""``[platforms.NAME]``: each platform's own request budget, and tokens that reach the platform
and nothing else. Everything runs in process on a virtual clock (no wall time, no sockets)."""

from __future__ import annotations

import asyncio
import gzip
import itertools
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from memoryhole.clock import VirtualClock
from memoryhole.collect.collector import Collector
from memoryhole.collect.runner import build_adapter, build_adapters, run_study
from memoryhole.collect.transport import RawResponse, RedactingTransport
from memoryhole.config import update_config
from memoryhole.errors import ConfigError, TransportError
from memoryhole.evidence.export import export_warc
from memoryhole.evidence.verify import verify_study
from memoryhole.model import PostRef, Request, Target
from memoryhole.scenario import ScenarioPost
from memoryhole.sim.inprocess import InProcessTransport
from memoryhole.sim.platform import SimPlatform
from memoryhole.sim.shapes import WATCH
from memoryhole.store.queries import add_targets
from memoryhole.store.schema import observations
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0


def busy_scenario(posts: int = 200) -> list[ScenarioPost]:
    """One post a second for ``posts`` seconds, none removed: re-checks every 10 s ask far
    more than either budget allows, so each platform runs at exactly its budget."""
    return [
        ScenarioPost(str(5_000_000 + i), str(900 + i % 7), T0 + i, f"post {i}")
        for i in range(posts)
    ]


class ByHost:
    """Routes each request to the in-process simulator of its URL's host."""

    def __init__(self, routes: dict[str, InProcessTransport]) -> None:
        self.routes = routes
        self.sent: list[Request] = []

    async def send(self, request: Request) -> RawResponse:
        self.sent.append(request)
        return await self.routes[urlsplit(request.url).hostname or ""].send(request)

    async def close(self) -> None:
        return None


def configure(study: Study, section: tuple[str, ...], **values: object) -> None:
    for key, value in values.items():
        update_config(study.config_path, section, key, value)


def test_two_platforms_each_get_their_own_budget(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    configure(
        study,
        ("collector",),
        budget_per_second=100.0,
        first_check_after="10s",
        max_interval="10s",
        poll_interval="30s",
        scheduler="age",  # checks every 10 s: demand far above both budgets
    )
    configure(study, ("platforms", "reddit"), base_url="http://reddit.sim", budget_per_second=2.0)
    configure(study, ("platforms", "json"), base_url="http://json.sim", budget_per_second=0.5)
    study.close()
    study = Study.open(tmp_path / "study")
    add_targets(study.engine, [WATCH["reddit"], WATCH["json"]], T0)
    clock = VirtualClock(T0)
    scenario = busy_scenario()
    transport = ByHost(
        {
            "reddit.sim": InProcessTransport(SimPlatform(scenario, clock, "reddit")),
            "json.sim": InProcessTransport(SimPlatform(scenario, clock, "json")),
        }
    )
    collector = Collector(study, build_adapters(study), transport, clock)
    asyncio.run(collector.run(until=T0 + 1500))

    with study.engine.connect() as connection:
        rows = connection.execute(select(observations.c.url, observations.c.sent_at)).all()
    start, end = T0 + 300, T0 + 1500  # every post published and due every 10 s by then
    per_platform: Counter[str] = Counter()
    per_window: Counter[tuple[str, int]] = Counter()
    for url, sent_at in rows:
        host = urlsplit(url).hostname or ""
        if start <= sent_at < end:
            per_platform[host] += 1
            per_window[(host, int((sent_at - start) // 20))] += 1
    seconds = end - start
    assert per_platform["reddit.sim"] / seconds == pytest.approx(2.0, rel=0.02)
    assert per_platform["json.sim"] / seconds == pytest.approx(0.5, rel=0.02)
    # Never above the budget in any 20 s window either (plus the bucket's burst of one second).
    for (host, _), count in per_window.items():
        rate = 2.0 if host == "reddit.sim" else 0.5
        assert count <= rate * 20 + max(1.0, rate)
    # The slow platform did not hold the fast one back: the fast one ran at its full budget
    # although the slow one always had a backlog.
    assert collector.budgets.rate("reddit") == 2.0
    assert collector.budgets.rate("json") == 0.5
    assert collector.budgets.rate("weibo") == 100.0


@pytest.mark.slow
def test_in_real_time_a_slow_platform_does_not_hold_workers(tmp_path: Path) -> None:
    """The worker pool (a real, accelerated clock): with the JSON API at 0.5/s always behind,
    Reddit still gets its 2/s; without parking, the workers would all wait on the JSON API."""
    import time

    from memoryhole.clock import AcceleratedClock

    study = Study.init(tmp_path / "study")
    configure(
        study,
        ("collector",),
        budget_per_second=100.0,
        first_check_after="10s",
        max_interval="10s",
        poll_interval="30s",
        scheduler="age",
        concurrency=8,
    )
    configure(study, ("platforms", "reddit"), base_url="http://reddit.sim", budget_per_second=2.0)
    configure(study, ("platforms", "json"), base_url="http://json.sim", budget_per_second=0.5)
    study.close()
    study = Study.open(tmp_path / "study")
    add_targets(study.engine, [WATCH["reddit"], WATCH["json"]], T0)
    speed = 100.0
    clock = AcceleratedClock(T0, time.time(), speed)
    scenario = busy_scenario()
    transport = ByHost(
        {
            "reddit.sim": InProcessTransport(SimPlatform(scenario, clock, "reddit")),
            "json.sim": InProcessTransport(SimPlatform(scenario, clock, "json")),
        }
    )
    collector = Collector(study, build_adapters(study), transport, clock, flush_interval=0.05)
    asyncio.run(collector.run(wall_deadline=time.time() + 12.0))  # 1,200 platform seconds
    with study.engine.connect() as connection:
        rows = connection.execute(select(observations.c.url, observations.c.sent_at)).all()
    start, end = T0 + 300, T0 + 1100
    counts = Counter(urlsplit(url).hostname for url, sent_at in rows if start <= sent_at < end)
    assert counts["reddit.sim"] / (end - start) == pytest.approx(2.0, rel=0.1)
    assert counts["json.sim"] / (end - start) == pytest.approx(0.5, rel=0.1)


def test_a_platform_without_its_own_budget_gets_the_collectors(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    configure(study, ("collector",), first_check_after="10s", max_interval="10s", scheduler="age")
    configure(study, ("platforms", "json"), base_url="http://json.sim")
    study.close()
    study = Study.open(tmp_path / "study")
    add_targets(study.engine, [WATCH["json"]], T0)
    clock = VirtualClock(T0)
    transport = ByHost(
        {"json.sim": InProcessTransport(SimPlatform(busy_scenario(), clock, "json"))}
    )
    collector = Collector(study, build_adapters(study), transport, clock)
    asyncio.run(collector.run(until=T0 + 900))
    with study.engine.connect() as connection:
        sent = [
            t
            for (t,) in connection.execute(select(observations.c.sent_at))
            if T0 + 300 <= t < T0 + 900
        ]
    assert len(sent) / 600 == pytest.approx(5.0, rel=0.02)  # the default [collector] budget


# -- tokens -----------------------------------------------------------------------------------

TOKEN = "tok-7f3a9c1e5b2d4f60-secret"


class EchoingPlatform:
    """The simulator, plus a platform that echoes credentials: every 4th answer quotes the
    Authorization header in its body and in a header, every 9th request fails with an error
    message that quotes it. Records what was sent."""

    def __init__(self, inner: InProcessTransport, stop_after: int) -> None:
        self.inner = inner
        self.authorizations: list[str] = []
        self.count = 0
        self.stop_after = stop_after
        self.stop = asyncio.Event()

    async def send(self, request: Request) -> RawResponse:
        self.count += 1
        if self.count >= self.stop_after:
            self.stop.set()
        auth = dict(request.headers).get("Authorization", "")
        self.authorizations.append(auth)
        if self.count % 9 == 0:
            raise TransportError(f"connection reset (sent {auth})")
        raw = await self.inner.send(request)
        if self.count % 4 == 0:
            body = raw.body.replace(b"{", b'{"debug_auth": "' + auth.encode() + b'", ', 1)
            return RawResponse(raw.status, (*raw.headers, ("X-Echo", auth)), body)
        return raw

    async def close(self) -> None:
        return None


def stored_bytes(folder: Path) -> list[tuple[Path, bytes]]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data += gzip.decompress(data)
            found.append((path, data))
    return found


def test_a_token_reaches_the_platform_and_no_stored_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MH_TEST_REDDIT_TOKEN", TOKEN)
    study = Study.init(tmp_path / "study")
    configure(study, ("collector",), horizon="2h", first_check_after="60s", max_interval="10m")
    configure(
        study,
        ("platforms", "reddit"),
        base_url="http://reddit.sim",
        token_env="MH_TEST_REDDIT_TOKEN",
    )
    study.close()
    study = Study.open(tmp_path / "study")
    add_targets(study.engine, [WATCH["reddit"]], T0)
    clock = VirtualClock(T0)
    scenario = known_removals(T0)
    platform = EchoingPlatform(InProcessTransport(SimPlatform(scenario, clock, "reddit")), 600)
    # Listings are polled for ever: stop after 600 requests.
    stats = asyncio.run(run_study(study, transport=platform, clock=clock, stop=platform.stop))

    # The token went out, in the Authorization header, on every request; it was echoed back.
    assert platform.count > 100 and stats.checks > 50
    assert set(platform.authorizations) == {f"bearer {TOKEN}"}
    assert stats.transient >= platform.count // 9
    export_warc(study, tmp_path / "study" / "captures.warc.gz")
    report = verify_study(study)
    assert report.success, report.failures
    study.close()
    files = stored_bytes(tmp_path / "study")
    assert any(path.name == "store.sqlite" for path, _ in files)
    assert any(b"[REDACTED]" in data for path, data in files if "blobs" in path.parts)
    leaks = [path for path, data in files if TOKEN.encode() in data]
    assert leaks == []
    text = (tmp_path / "study" / "memoryhole.toml").read_text()
    assert "MH_TEST_REDDIT_TOKEN" in text and TOKEN not in text


def test_redacting_transport_replaces_every_occurrence() -> None:
    class Leaky:
        async def send(self, request: Request) -> RawResponse:
            if request.url.endswith("/fail"):
                raise TransportError(f"refused: {TOKEN}")
            return RawResponse(200, (("X-Token", f"a{TOKEN}b"),), f"{TOKEN} and {TOKEN}".encode())

        async def close(self) -> None:
            return None

    transport = RedactingTransport(Leaky(), [TOKEN])
    raw = asyncio.run(transport.send(Request("GET", "http://x/ok")))
    assert raw.body == b"[REDACTED] and [REDACTED]"
    assert raw.headers == (("X-Token", "a[REDACTED]b"),)
    with pytest.raises(TransportError) as error:
        asyncio.run(transport.send(Request("GET", "http://x/fail")))
    assert TOKEN not in str(error.value) and "[REDACTED]" in str(error.value)


def test_token_settings_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = Study.init(tmp_path / "study")
    # token_env names a variable that is not set: a clear error, not an anonymous run.
    monkeypatch.delenv("MH_UNSET_TOKEN", raising=False)
    configure(study, ("platforms", "mastodon"), token_env="MH_UNSET_TOKEN")
    study.config = Study.open(study.path).config
    with pytest.raises(ConfigError, match=r"MH_UNSET_TOKEN.*not set"):
        build_adapter(study, "mastodon")
    # A platform that takes no token refuses one it is explicitly given.
    monkeypatch.setenv("MH_TELEGRAM_TOKEN", TOKEN)
    configure(study, ("platforms", "telegram"), token_env="MH_TELEGRAM_TOKEN")
    study.config = Study.open(study.path).config
    with pytest.raises(ConfigError, match="does not take a token") as error:
        build_adapter(study, "telegram")
    assert TOKEN not in str(error.value)
    # The default variable name (MEMORYHOLE_<NAME>_TOKEN) is used when token_env is not set...
    monkeypatch.setenv("MEMORYHOLE_MASTODON_TOKEN", TOKEN)
    update_config(study.config_path, ("platforms", "mastodon"), "base_url", "http://m.sim")
    text = study.config_path.read_text().replace('token_env = "MH_UNSET_TOKEN"\n', "")
    study.config_path.write_text(text)
    study.config = Study.open(study.path).config
    request = build_adapter(study, "mastodon").check_request
    from memoryhole.model import PostRef

    assert ("Authorization", f"Bearer {TOKEN}") in request(PostRef("mastodon", "1", "2")).headers
    # ...and a token (or password) written into the config is refused with what to do instead.
    with pytest.raises(ConfigError, match="environment variable"):
        update_config(study.config_path, ("platforms", "reddit"), "token", TOKEN)
    with pytest.raises(ConfigError, match="not an environment variable name"):
        update_config(study.config_path, ("platforms", "reddit"), "token_env", "abc def")


def test_a_misspelt_platform_setting_is_an_error(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "study")
    with pytest.raises(ConfigError, match=r"unknown setting 'budget_per_secnd'.*budget_per_second"):
        update_config(study.config_path, ("platforms", "reddit"), "budget_per_secnd", 2.0)
    with pytest.raises(ConfigError, match="greater than 0"):
        update_config(study.config_path, ("platforms", "json"), "budget_per_second", 0)


@pytest.mark.slow
def test_in_real_time_the_feed_goes_first_and_is_never_polled_twice_at_once(
    tmp_path: Path,
) -> None:
    """Workers on an accelerated clock, checks queueing for tokens: a feed poll taken ahead
    of a waiting check (``_discovery_first``) is not also polled by another worker that pops
    its due time from the queue meanwhile."""
    import time

    from memoryhole.clock import AcceleratedClock
    from memoryhole.collect.runner import study_policy

    study = Study.init(tmp_path / "study")
    configure(study, ("collector",), budget_per_second=1.0, poll_interval="20s", concurrency=8)
    configure(study, ("platforms", "json"), base_url="http://json.sim")
    study.close()
    study = Study.open(tmp_path / "study")
    add_targets(study.engine, [WATCH["json"]], T0)
    clock = AcceleratedClock(T0, time.time(), 50.0)
    transport = ByHost(
        {"json.sim": InProcessTransport(SimPlatform(busy_scenario(400), clock, "json"))}
    )
    policy = study_policy(study)
    collector = Collector(study, build_adapters(study), transport, clock, policy=policy)
    asyncio.run(collector.run(wall_deadline=time.time() + 14.0))  # 700 platform seconds
    with study.engine.connect() as connection:
        polls = sorted(
            connection.execute(
                select(observations.c.sent_at, observations.c.url).where(
                    observations.c.kind == "discover"
                )
            ).all()
        )
        sent = [
            at
            for (at,) in connection.execute(select(observations.c.sent_at).distinct())
            if T0 + 400 <= at < T0 + 600
        ]
    assert len(polls) >= 20
    assert len(sent) >= 0.8 * 200  # from 400 s on, requests at the budget: checks queue
    # A poll follows the last 20 s on, or at once for the next page of a full one (another
    # cursor, so another URL); a second worker polling the same feed asks the same URL.
    soon = [(a, b) for a, b in itertools.pairwise(polls) if b[0] - a[0] < 20.0 - 1e-6]
    assert all(a[1] != b[1] for a, b in soon), soon
    assert len(soon) <= 0.3 * len(polls)


def test_a_feed_polled_without_checks_keeps_its_queue_small(tmp_path: Path) -> None:
    """Feed polls wait in a queue of their own (to go first); checks drain it of past polls,
    and on a platform that has nothing to check it is compacted instead."""
    study = Study.init(tmp_path / "study")
    configure(study, ("collector",), poll_interval="60s")
    configure(study, ("platforms", "json"), base_url="http://json.sim")
    study.close()
    study = Study.open(tmp_path / "study")
    add_targets(study.engine, [WATCH["json"]], T0)
    clock = VirtualClock(T0)
    late = [ScenarioPost("5000001", "900", T0 + 86400.0, "late post")]  # nothing to check
    transport = ByHost({"json.sim": InProcessTransport(SimPlatform(late, clock, "json"))})
    collector = Collector(study, build_adapters(study), transport, clock)
    asyncio.run(collector.run(until=T0 + 86000.0))
    assert collector.stats.polls >= 1400 and collector.stats.checks == 0
    assert len(collector.queue.feeds["json"]) <= 64 + 2


def test_a_collector_asks_as_the_account_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run --account NAME``: the account's token is sent (Weibo: the ``SUB`` session cookie),
    its budget is what the collector spends and plans on; a wrong name says which exist."""
    from memoryhole.collect.runner import identity_rates, study_identity

    study = Study.init(tmp_path / "study")
    add_targets(study.engine, [Target("weibo", "user", "1001")], 0.0)
    with study.config_path.open("a", encoding="utf-8") as config:
        config.write(
            '\n[accounts.first]\nplatform = "weibo"\nbudget_per_second = 1.5\n'
            'token_env = "MH_FIRST_TOKEN"\n\n[accounts.second]\nplatform = "weibo"\n'
            "budget_per_second = 3.0\n\n[egress.lab]\nbudget_per_second = 2.0\n"
        )
    study.config = Study.open(study.path).config
    monkeypatch.setenv("MH_FIRST_TOKEN", TOKEN)
    identity = study_identity(study, ["first"], "lab")
    adapter = build_adapter(study, "weibo", identity)
    request = adapter.check_request(PostRef("weibo", "4900000000000001", "1001"))
    assert ("Cookie", f"SUB={TOKEN}") in request.headers
    assert (
        build_adapter(study, "weibo")
        .check_request(PostRef("weibo", "4900000000000001", "1001"))
        .headers
        == ()
    )  # anonymous without an account
    assert identity_rates(study, identity) == {"weibo": 1.5}
    assert identity_rates(study, study_identity(study, ["second"], "lab")) == {"weibo": 2.0}
    with pytest.raises(ConfigError, match=r"no account 'third'.*known: first, second"):
        study_identity(study, ["third"], None)
    with pytest.raises(ConfigError, match="one account per platform"):
        study_identity(study, ["first", "second"], None)
    with pytest.raises(ConfigError, match=r"no egress address 'elsewhere'.*known: lab"):
        study_identity(study, [], "elsewhere")
    monkeypatch.delenv("MH_FIRST_TOKEN")
    with pytest.raises(ConfigError, match=r"MH_FIRST_TOKEN.*not set"):
        build_adapter(study, "weibo", identity)


def test_one_collector_asking_as_an_account_from_an_address_keeps_to_the_scarcer_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run --account lab --egress home`` on SQLite: every request carries the account's
    cookie, and the requests keep to the address's budget, the scarcer of the two, though the
    platform's own is far larger."""
    import time

    from memoryhole.clock import AcceleratedClock
    from memoryhole.collect.runner import study_identity

    study = Study.init(tmp_path / "study")
    configure(study, ("collector",), budget_per_second=50.0, scheduler="age")
    configure(study, ("collector",), first_check_after="10s", max_interval="10s")
    configure(study, ("platforms", "weibo"), base_url="http://weibo.sim")
    with study.config_path.open("a", encoding="utf-8") as config:
        config.write(
            '\n[accounts.lab]\nplatform = "weibo"\nbudget_per_second = 2.0\n'
            'token_env = "MH_LAB_TOKEN"\n\n[egress.home]\nbudget_per_second = 0.5\n'
        )
    study = Study.open(tmp_path / "study")
    monkeypatch.setenv("MH_LAB_TOKEN", TOKEN)
    add_targets(study.engine, [WATCH["weibo"]], T0)
    clock = AcceleratedClock(T0, time.time(), 100.0)
    simulator = InProcessTransport(SimPlatform(busy_scenario(), clock, "weibo"))
    sent: list[tuple[float, tuple[tuple[str, str], ...]]] = []

    class Recording:
        async def send(self, request: Request) -> RawResponse:
            sent.append((clock.now(), request.headers))
            return await simulator.send(request)

        async def close(self) -> None:
            await simulator.close()

    identity = study_identity(study, ["lab"], "home")
    asyncio.run(
        run_study(study, for_seconds=3.0, transport=Recording(), clock=clock, identity=identity)
    )
    assert len(sent) > 60
    assert all(("Cookie", f"SUB={TOKEN}") in headers for _, headers in sent)
    times = [at for at, _ in sent]
    span = times[-1] - times[0]
    assert len(times) <= 0.5 * span + 1.0 + 1  # the address's budget, plus its burst
    assert len(times) >= 0.5 * span * 0.8  # and it is what paces: always a backlog
