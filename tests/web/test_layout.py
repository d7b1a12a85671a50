"""The dashboard and the report stay in rooms of their own (issue 22): routers by resource,
the rendering both share in ``web/render``, which the report imports instead of the app, and
no module or class too big to read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "src" / "memoryhole"
SOURCES = sorted([*(PACKAGE / "web").rglob("*.py"), *(PACKAGE / "report").rglob("*.py")])
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 500


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_or_class_of_the_dashboard_or_report_is_too_big(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            assert node.end_lineno is not None
            assert node.end_lineno - node.lineno + 1 <= MAX_CLASS_LINES, node.name


def loaded_by(module: str) -> set[str]:
    """The modules a fresh interpreter has loaded after importing ``module``."""
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(out.stdout.split())


def test_the_report_imports_the_shared_rendering_not_the_dashboard_app() -> None:
    loaded = loaded_by("memoryhole.report.html")
    assert "memoryhole.web.render" in loaded
    dashboard = {m for m in loaded if m.startswith(("memoryhole.web.app", "memoryhole.web.routes"))}
    assert not dashboard
    assert not {m for m in loaded if m.split(".")[0] in ("fastapi", "starlette", "uvicorn")}


def test_the_shared_rendering_knows_nothing_of_http() -> None:
    loaded = loaded_by("memoryhole.web.render")
    assert not {m for m in loaded if m.split(".")[0] in ("fastapi", "starlette", "uvicorn")}
    assert not {m for m in loaded if m.startswith("memoryhole.web.") and ".render" not in m}
