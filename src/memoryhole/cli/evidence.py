"""Evidence commands: evidence, verify, proof, key, export warc, takedown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from memoryhole.cli.apps import (
    StudyOption,
    app,
    console,
    err_console,
    export_app,
    open_study,
)
from memoryhole.errors import MemoryholeError


@app.command()
def evidence(
    post_id: Annotated[str, typer.Argument(help="The platform's id of the post.")],
    out: Annotated[Path, typer.Option(help="Bundle file to write (.zip).")],
    platform: Annotated[str | None, typer.Option(help="Platform, if the id is on several.")] = None,
    study: StudyOption = Path("."),
) -> None:
    """Export one post's evidence bundle: responses, WARC, proofs, signed checkpoint."""
    from memoryhole.evidence.bundle import build_bundle

    manifest = build_bundle(open_study(study), post_id, out, platform)
    verdict = manifest["verdict"]
    console.print(
        f"[green]wrote[/] {out}: {len(manifest['observations'])} observations, verdict "
        f"{verdict['verdict']}, proofs to checkpoint of size {manifest['checkpoint']['size']}"
    )
    console.print(f"check it anywhere with: memoryhole verify {out}")


@app.command()
def verify(
    bundle: Annotated[
        Path | None, typer.Argument(help="A bundle to verify; without it, the whole study.")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="The verifier key you trust (as published by the study).")
    ] = None,
    study: StudyOption = Path("."),
) -> None:
    """Verify a bundle standalone, or a whole study: blobs, leaves, checkpoints, verdicts."""
    from memoryhole.evidence.verify import verify_bundle, verify_study
    from memoryhole.isolate.bundle import is_rule_bundle, verify_rule_bundle

    if bundle is None:
        report = verify_study(open_study(study))
    elif bundle.is_file() and is_rule_bundle(data := bundle.read_bytes()):
        report = verify_rule_bundle(data, bundle.name, key)
    else:
        report = verify_bundle(bundle, key)
    for line in report.passed:
        console.print(f"[green]ok[/]      {line}", highlight=False)
    for line in report.failures:
        console.print(f"[red]FAILED[/]  {line}", highlight=False)
    if not report.success:
        err_console.print(f"[red]verification failed:[/] {len(report.failures)} problem(s)")
        raise typer.Exit(1)
    console.print("[green]verified[/]")


@app.command()
def proof(
    observation: Annotated[
        int | None, typer.Option(help="Inclusion proof of this observation id.")
    ] = None,
    consistency: Annotated[
        tuple[int, int] | None,
        typer.Option(help="Consistency proof between two checkpoint ids: OLD NEW."),
    ] = None,
    study: StudyOption = Path("."),
) -> None:
    """Print an inclusion proof (to the latest checkpoint) or a consistency proof, as JSON."""
    from memoryhole.evidence.log import checkpoint_consistency, observation_proof

    opened = open_study(study)
    if observation is not None:
        result = observation_proof(opened, observation)
    elif consistency is not None:
        result = checkpoint_consistency(opened, *consistency)
    else:
        raise MemoryholeError("give --observation ID or --consistency OLD NEW")
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


@app.command()
def key(study: StudyOption = Path(".")) -> None:
    """Print the study's public key (publish it: it verifies every checkpoint and bundle)."""
    console.print(open_study(study).verifier_key(), highlight=False, soft_wrap=True)


@export_app.command("warc")
def export_warc(
    out: Annotated[Path, typer.Option(help="WARC file to write (.warc.gz).")],
    study: StudyOption = Path("."),
) -> None:
    """All captures as WARC 1.1 (request, response, metadata records)."""
    from memoryhole.evidence.export import export_warc as write_warc

    count = write_warc(open_study(study), out)
    err_console.print(f"wrote {count:,} captures to {out}")


@app.command()
def takedown(
    author: Annotated[
        str | None, typer.Option(help="The author's platform id or pseudonym (a_…).")
    ] = None,
    platform: Annotated[str, typer.Option(help="The author's platform.")] = "weibo",
    reason: Annotated[str, typer.Option(help="Recorded with the redaction.")] = "at risk",
    log_pending: Annotated[
        bool, typer.Option(help="Only log takedown records not in the log yet.")
    ] = False,
    study: StudyOption = Path("."),
) -> None:
    """Remove an author's content from blobs, exports and pages, and never collect it again;
    each removal is logged, so the log still verifies."""
    from memoryhole.collect.redactions import log_pending_redactions, take_down
    from memoryhole.errors import StudyLockedError

    opened = open_study(study)
    logged: int | None = None
    if log_pending:
        with contextlib.suppress(StudyLockedError):  # then the collector logs them
            logged = asyncio.run(log_pending_redactions(opened))
    else:
        if author is None:
            raise MemoryholeError("give --author ID (or --log-pending)")
        # Beside a running collector this waits for it to log the redactions (it has reloaded
        # the deny list then) and sweeps what it committed in between.
        result, logged = asyncio.run(take_down(opened, author, platform=platform, reason=reason))
        console.print(
            f"took down {result.posts:,} posts of {result.pseudonym}: "
            f"{result.blobs_removed:,} raw responses deleted, {result.blobs_kept_shared:,} kept "
            "(identical bodies that other posts' evidence also uses and that hold no content)"
        )
    if logged is None:
        console.print(
            "a collector is running on this study: it has logged the redactions (or will at "
            "its next commit) and collects nothing of this author again"
        )
        return
    console.print(f"{logged:,} redactions logged in the evidence log")


# -- dashboard and report (memoryhole/web, memoryhole/report) ------------------------------------
