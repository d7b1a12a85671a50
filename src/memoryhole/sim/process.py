"""Running ``memoryhole sim serve`` in a child process (its own core), for demos and benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from memoryhole.errors import MemoryholeError


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SimulatorProcess:
    """``with SimulatorProcess(scenario, speed=600) as sim: sim.base_url``"""

    def __init__(
        self,
        scenario: Path,
        *,
        speed: float = 1.0,
        faults: str | None = None,
        rate_limit: float | None = None,
        port: int | None = None,
        startup_timeout: float = 30.0,
        platform: str = "weibo",
        started: float | None = None,
        region: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.region = region  # where requests naming no vantage come from (withhold events)
        self.platform = platform
        self.started = started  # a shared wall-clock start: one platform clock for several
        self.speed = speed
        self.faults = faults
        self.rate_limit = rate_limit
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimulatorProcess:
        command = [sys.executable, "-m", "memoryhole", "sim", "serve"]
        command += ["--scenario", str(self.scenario), "--port", str(self.port)]
        command += ["--speed", str(self.speed), "--platform", self.platform]
        if self.started is not None:
            command += ["--started", repr(self.started)]
        if self.region:
            command += ["--region", self.region]
        if self.faults:
            command += ["--faults", self.faults]
        if self.rate_limit:
            command += ["--rate-limit", str(self.rate_limit)]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise MemoryholeError(f"the simulator exited at start:\n{error.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise MemoryholeError(f"the simulator did not answer on port {self.port} in time")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
