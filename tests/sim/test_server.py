"""``sim serve`` over real HTTP on loopback: clock, rate limit and every fault kind."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest

from memoryhole.collect.runner import simulator_clock
from memoryhole.collect.transport import AiohttpTransport, RawResponse
from memoryhole.errors import TransportError
from memoryhole.model import Request
from memoryhole.scenario import write_scenario
from memoryhole.sim.process import SimulatorProcess
from tests.scenarios import known_removals


@pytest.fixture
def scenario_path(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.jsonl"
    write_scenario(known_removals(1_700_000_000.0), path)
    return path


async def fetch_all(base_url: str, count: int, timeout: float = 5.0) -> list[RawResponse | str]:
    transport = AiohttpTransport(timeout=timeout, concurrency=4)
    request = Request("GET", f"{base_url}/statuses/show", (("id", "4900000000000000"),))
    results: list[RawResponse | str] = []
    try:
        for _ in range(count):
            try:
                results.append(await transport.send(request))
            except TransportError as exc:
                results.append(str(exc))
    finally:
        await transport.close()
    return results


def test_clock_starts_at_the_first_post_and_runs_at_speed(scenario_path: Path) -> None:
    with SimulatorProcess(scenario_path, speed=100.0) as sim:
        clock = asyncio.run(simulator_clock(sim.base_url))
        assert clock is not None
        assert clock.platform_origin == 1_700_000_000.0
        assert clock.speed == 100.0
        assert abs(clock.wall_origin - time.time()) < 30
        (first,) = asyncio.run(fetch_all(sim.base_url, 1))
        assert isinstance(first, RawResponse) and first.status == 200
        assert json.loads(first.body)["ok"] == 1
        assert "Date" in dict(first.headers) or "date" in dict(first.headers)


def test_rate_limit_answers_429_with_retry_after(scenario_path: Path) -> None:
    with SimulatorProcess(scenario_path, speed=1.0, rate_limit=5.0) as sim:
        results = asyncio.run(fetch_all(sim.base_url, 30))
    statuses = [r.status for r in results if isinstance(r, RawResponse)]
    assert statuses.count(200) >= 5
    refused = [r for r in results if isinstance(r, RawResponse) and r.status == 429]
    assert refused, "30 requests in well under 6 s must exceed 5 req/s"
    assert all(int(dict(r.headers)["Retry-After"]) >= 1 for r in refused)


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        ("5xx=1", "502"),
        ("captcha=1", "captcha"),
        ("truncate=1", "truncated"),
        ("reset=1", "transport"),
        ("slow=1,slow_seconds=2", "transport"),
    ],
)
def test_each_fault_over_http(scenario_path: Path, spec: str, expect: str) -> None:
    with SimulatorProcess(scenario_path, speed=1.0, faults=spec) as sim:
        results = asyncio.run(fetch_all(sim.base_url, 3, timeout=0.5))
    for result in results:
        if expect == "transport":
            assert isinstance(result, str), result
            continue
        assert isinstance(result, RawResponse)
        if expect == "502":
            assert result.status == 502
        elif expect == "captcha":
            assert result.status == 200 and b"<html" in result.body
        else:
            assert result.status == 200
            with pytest.raises(json.JSONDecodeError):
                json.loads(result.body)


def test_the_server_keeps_serving_after_dropped_connections(scenario_path: Path) -> None:
    async def mixed(base_url: str) -> int:
        ok = 0
        async with aiohttp.ClientSession() as session:
            for _ in range(40):
                try:
                    url = f"{base_url}/statuses/show?id=4900000000000001"
                    async with session.get(url) as response:
                        await response.read()
                        ok += response.status == 200
                except aiohttp.ClientError:
                    pass
        return ok

    with SimulatorProcess(scenario_path, speed=1.0, faults="reset=0.5") as sim:
        ok = asyncio.run(mixed(sim.base_url))
    assert 5 <= ok <= 35
