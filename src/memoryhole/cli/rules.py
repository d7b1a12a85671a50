"""``memoryhole isolate`` and ``memoryhole rules``: a censor's keyword rules, found by probing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from memoryhole.cli.apps import StudyOption, app, console, err_console, open_study
from memoryhole.errors import MemoryholeError


@app.command()
def isolate(
    text: Annotated[str | None, typer.Option(help="The text to isolate rules in.")] = None,
    text_file: Annotated[Path | None, typer.Option(help="…or a UTF-8 file holding it.")] = None,
    platform: Annotated[str, typer.Option(help="Whose filter: weibo (its search).")] = "weibo",
    base_url: Annotated[
        str | None, typer.Option(help="The platform's base URL (e.g. a simulator's).")
    ] = None,
    budget: Annotated[int | None, typer.Option(help="At most this many probes.")] = None,
    rate: Annotated[float, typer.Option(help="Probes per second at most.")] = 1.0,
    votes: Annotated[
        int, typer.Option(help="Votes where an answer decides (1: trust every answer).")
    ] = 3,
    known: Annotated[
        Path | None, typer.Option(help="Rules to try first (Citizen Lab's format).")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    study: StudyOption = Path("."),
) -> None:
    """Find every keyword rule a text triggers on a platform's filter; each probe is evidence."""
    from memoryhole.isolate.rules import read_rules
    from memoryhole.isolate.run import run_isolation

    if (text is None) == (text_file is None):
        raise MemoryholeError("give the text with --text TEXT or --text-file FILE (one of them)")
    if format_ not in ("table", "json"):
        raise MemoryholeError(f"unknown format {format_!r}; use table or json")
    if text_file is not None:
        text = text_file.read_text(encoding="utf-8")
    assert text is not None
    opened = open_study(study)
    if base_url is not None:
        opened.set_base_url(platform, base_url)
    result = asyncio.run(
        run_isolation(
            opened,
            text.strip(),
            platform=platform,
            budget=budget,
            rate=rate,
            votes=votes,
            known=read_rules(known) if known else (),
        )
    )
    if format_ == "json":
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        for found in result.rules:
            origin = " (known)" if found.known else ""
            console.print(f"rule: {found.rule}{origin}  [{found.probes} probes]")
        for rule in result.lapsed:
            console.print(f"[yellow]no longer triggers:[/] {rule}")
        if not result.rules:
            console.print("no rule: the text is not filtered" if result.complete else "no rule")
        console.print(f"{result.probes} probes, each logged as evidence (kind probe)")
    for problem in result.problems:
        err_console.print(f"[yellow]incomplete:[/] {problem}")


@app.command()
def rules(
    platform: Annotated[str | None, typer.Option(help="Only this platform's.")] = None,
    format_: Annotated[str, typer.Option("--format", help="table, json or list.")] = "table",
    study: StudyOption = Path("."),
) -> None:
    """The rules the study has found, with when each was first and last confirmed (list: in
    Citizen Lab's format)."""
    from rich.table import Table

    from memoryhole.cli.console import platform_time
    from memoryhole.isolate.found import study_rules

    records = study_rules(open_study(study), platform)
    if format_ == "list":
        for record in records:
            print(record.rule.line())
        return
    if format_ == "json":
        rows = [
            {
                "components": list(r.rule.components),
                "ordered": r.rule.ordered,
                "first_confirmed_at": r.first_confirmed,
                "last_confirmed_at": r.last_confirmed,
                "confirmations": r.confirmations,
                "lapsed_at": r.lapsed_at,
            }
            for r in records
        ]
        print(json.dumps(rows, ensure_ascii=False))
        return
    if format_ != "table":
        raise MemoryholeError(f"unknown format {format_!r}; use table, json or list")
    table = Table(title=f"{len(records)} rules")
    for name in ("rule", "first confirmed", "last confirmed", "times", "stopped triggering"):
        table.add_column(name)
    for r in records:
        table.add_row(
            str(r.rule),
            platform_time(r.first_confirmed),
            platform_time(r.last_confirmed),
            str(r.confirmations),
            platform_time(r.lapsed_at) if r.lapsed_at else "",
        )
    console.print(table)


@app.command("rule-evidence")
def rule_evidence(
    rule: Annotated[str, typer.Argument(help="The rule, components joined by + (as listed).")],
    out: Annotated[Path, typer.Option(help="Bundle file to write (.zip).")],
    platform: Annotated[str, typer.Option(help="Whose filter.")] = "weibo",
    study: StudyOption = Path("."),
) -> None:
    """Export a found rule's evidence bundle: the probes that make it exact, with proofs."""
    from memoryhole.isolate.bundle import build_rule_bundle
    from memoryhole.isolate.found import study_rules
    from memoryhole.isolate.rules import parse_rules

    opened = open_study(study)
    (wanted,) = parse_rules([rule]) or (None,)
    if wanted is None:
        raise MemoryholeError("give the rule as its components joined by +, e.g. 六四+天安门")
    found = [
        r.rule
        for r in study_rules(opened, platform)
        if sorted(r.rule.components) == sorted(wanted.components)
    ]
    if not found:
        raise MemoryholeError(
            f"the study has found no rule {wanted} on {platform}; `memoryhole rules` lists them"
        )
    manifest = build_rule_bundle(opened, found[-1], out, platform)
    console.print(
        f"[green]wrote[/] {out}: {len(manifest['probes'])} probes, proofs to checkpoint of size "
        f"{manifest['checkpoint']['size']}"
    )
    console.print(f"check it anywhere with: memoryhole verify {out}")
