"""``memoryhole report``: one self-contained HTML file, nothing loaded from anywhere."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.report.html import build_report
from memoryhole.study import Study
from tests.web.conftest import TAKEN_DOWN_TEXT, XssStudy


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.bodies: list[tuple[str, dict[str, str | None], str]] = []
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open, self._text = (tag, dict(attrs)), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == self._open[0]:
            self.bodies.append((tag, self._open[1], "".join(self._text)))
            self._open = None


def test_report_is_self_contained_and_its_policy_allows_only_its_own_code(
    study: Study, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    summary = build_report(study, out, min_posts=2, bootstrap=10)
    assert summary.posts > 40 and summary.removals > 10 and summary.terms > 0
    html = out.read_text(encoding="utf-8")
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.elements:
        for name in ("src", "href", "action", "data"):
            value = attrs.get(name)
            assert value is None or not re.match(r"(?i)\s*(https?:|//|javascript:)", value), (
                tag,
                attrs,
            )
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
    policy = next(a["content"] for t, a in parser.elements if a.get("http-equiv"))
    assert policy is not None and "default-src 'none'" in policy and "unsafe" not in policy
    executable = [(t, text) for t, a, text in parser.bodies if a.get("type") != "application/json"]
    assert len([t for t, _ in executable if t == "script"]) == 5  # vega, lite, embed, interp, app
    for tag, text in executable:
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy, f"a {tag} is not allowed by the policy"
    specs = [text for t, a, text in parser.bodies if a.get("type") == "application/json"]
    assert len(specs) == 4 and all("</" not in s for s in specs)
    assert "What was watched" in html and "Benjamini" in html and "Turnbull" in html
    assert "<script>window.__xss" not in html and TAKEN_DOWN_TEXT not in html


def test_report_command(xss_study: XssStudy, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        app, ["report", "--out", str(out), "--study", str(xss_study.path), "--min-posts", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.stat().st_size > 500_000


def test_the_reports_methods_are_the_studys_own_schedule(tmp_path: Path) -> None:
    """The same collection reported under an age and a budget schedule: each report's methods
    name its scheduler and settings, and only the age one says "half its age"."""
    import shutil

    from memoryhole.config import update_config
    from memoryhole.sim.replay import replay
    from tests.scenarios import known_removals

    base = tmp_path / "base"
    study = Study.init(base)
    replay(study, known_removals(1_700_000_000.0), until=1_700_000_000.0 + 6 * 3600.0)
    study.close()
    html = {}
    for scheduler, setting in (("age", "first_check_after"), ("budget", "learning_half_life")):
        path = tmp_path / scheduler
        shutil.copytree(base, path)
        update_config(path / "memoryhole.toml", ("collector",), "scheduler", scheduler)
        value = "75s" if scheduler == "age" else "2d"
        update_config(path / "memoryhole.toml", ("collector",), setting, value)
        out = tmp_path / f"{scheduler}.html"
        build_report(Study.open(path), out, min_posts=2, bootstrap=10)
        html[scheduler] = out.read_text(encoding="utf-8")
    methods = {
        k: v.split('<section class="methods">', 1)[1].split("</section>")[0]
        for k, v in html.items()
    }
    assert methods["age"] != methods["budget"]
    assert "scheduler = &#34;age&#34;" in methods["age"] or 'scheduler = "age"' in methods["age"]
    assert "half its age" in methods["age"] and "half its age" not in methods["budget"]
    assert "75 s" in methods["age"] and "2 days" in methods["budget"]
