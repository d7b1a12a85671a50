"""``memoryhole serve`` refuses to expose local mode beyond loopback."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from memoryhole.cli import app, main
from memoryhole.web.server import is_loopback_host
from tests.web.conftest import XssStudy


def test_local_mode_binds_loopback_only(
    xss_study: XssStudy, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1")
    assert is_loopback_host("localhost") and not is_loopback_host("0.0.0.0")
    argv = ["memoryhole", "serve", "--study", str(xss_study.path), "--host", "0.0.0.0"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    assert "--public" in capsys.readouterr().err


def test_serve_options_are_in_its_help() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--public" in result.output and "--webhook" in result.output
