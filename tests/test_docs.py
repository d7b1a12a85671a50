"""Docs are checked like code: every command is documented, contracts match the code."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from memoryhole.cli import app
from memoryhole.model import VERDICT_VALUES, Status
from memoryhole.store.queries import VERDICT_EXPORT_FIELDS

ROOT = Path(__file__).parents[1]


def command_paths(group: typer.Typer) -> list[str]:
    click_group = typer.main.get_command(group)
    paths = []
    for name, command in click_group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            paths += [f"{name} {child}" for child in sub]
        else:
            paths.append(name)
    return paths


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for path in command_paths(app):
        assert f"memoryhole {path}" in readme, f"README does not mention `memoryhole {path}`"


def test_readme_has_a_quick_start_of_two_commands_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Quick start" in readme
    for script in ("scripts/demo", "scripts/test"):
        assert script in readme
        assert (ROOT / script).exists()
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_verdict_export_contract_is_documented_as_implemented() -> None:
    formats = (ROOT / "docs" / "formats.md").read_text()
    section = formats.split("## `memoryhole export verdicts`")[1].split("\n## ")[0]
    documented = [
        line.split("|")[1].strip(" `") for line in section.splitlines() if line.startswith("| `")
    ]
    assert tuple(documented) == VERDICT_EXPORT_FIELDS
    for value in VERDICT_VALUES:
        assert f"`{value}`" in section


def test_every_status_is_explained_in_the_methodology() -> None:
    methodology = (ROOT / "docs" / "methodology.md").read_text()
    for status in Status:
        assert f"| `{status.value}` |" in methodology


def test_docs_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    for part in readme.split("](")[1:]:
        target = part.split(")")[0]
        if not target.startswith("http"):
            path, _, anchor = target.partition("#")
            assert (ROOT / path).exists(), target
            if anchor:
                assert anchor in _anchors((ROOT / path).read_text()), target


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces to -."""
    return {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in markdown.splitlines()
        if line.startswith("#")
    }


def test_readme_evidence_example_works_on_the_study_it_built(tmp_path: Path) -> None:
    """Issue 24: the README's `evidence` example named a post id no study has. Its lines, from
    `export verdicts` to `verify`, run as written on a study (``mystudy``) with removals."""
    import os
    import subprocess
    import sys

    from memoryhole.scenario import write_scenario
    from memoryhole.sim.replay import replay
    from memoryhole.study import Study
    from tests.scenarios import known_removals

    start = 1_700_000_000.0
    study = Study.init(tmp_path / "mystudy")
    replay(study, known_removals(start), until=start + 86400.0)
    study.close()
    write_scenario(known_removals(start), tmp_path / "scenario.jsonl")
    block = (ROOT / "README.md").read_text().split("## Using it", 1)[1].split("```bash", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("memoryhole export verdicts"))
    last = next(i for i, line in enumerate(lines) if line.startswith("memoryhole verify"))
    script = "set -euo pipefail\n" + "\n".join(lines[first : last + 1]) + "\n"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "post.zip").exists() and "verified" in result.stdout
