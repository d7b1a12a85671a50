"""Attacks on the evidence (issue 21, items 2 and 6): forged bundles and edited stores.

``attacks(tmp)`` builds a small replayed study, then tries each attack and returns
``(category, attack, held)`` rows for ``benchmarks/attacks.py``. The forging helpers are also
what ``tests/evidence/test_completeness.py`` uses.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select, update

from memoryhole.evidence.bundle import build_bundle, canonical_zip, read_members
from memoryhole.evidence.heads import chain_of
from memoryhole.evidence.rederive import is_post_check, rederive_verdict
from memoryhole.evidence.verify import verify_bundle_bytes, verify_study
from memoryhole.evidence.warc import write_captures
from memoryhole.sim.generate import generate
from memoryhole.sim.policy import DEFAULT_POLICY_PATH, load_policy
from memoryhole.sim.replay import replay
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import authors, posts, redactions, verdicts
from memoryhole.study import Study

Row = tuple[str, str, bool]
REMOVALS = ("censored", "unknown", "account_suspended", "author_deleted")


def rebuilt(path: Path, manifest: dict[str, Any]) -> bytes:
    """The bundle at ``path`` with ``manifest`` in place of its own (nothing else changed)."""
    members = read_members(path.read_bytes())
    return canonical_zip(
        [(n, json.dumps(manifest).encode() if n == "manifest.json" else d) for n, d in members]
    )


def forge(path: Path, manifest: dict[str, Any], kept: list[dict[str, Any]]) -> bytes:
    """What a careful forger builds: only the ``kept`` observations, their responses and WARC
    records, and the verdict they give (by the verifier's own state machine), in a canonical
    zip with the real signed checkpoint."""
    members = dict(read_members(path.read_bytes()))
    records = [json.loads(entry["leaf"]) for entry in kept]
    post = manifest["post"]
    first = next(r for r in records if r["kind"] == "discover")
    checks = [r for r in records if is_post_check(r)]
    derived = rederive_verdict(float(first["sent_at"]), post["text"], checks)
    forged = dict(manifest, observations=kept)
    forged["verdict"] = {
        "verdict": derived.export_value,
        "first_seen_at": derived.first_seen_at,
        "last_seen_alive_at": derived.last_seen_alive_at,
        "first_seen_removed_at": derived.first_seen_removed_at,
        "signal": derived.signal,
        "edited": derived.edited,
    }
    used = {entry["response"] for entry in kept if entry["response"]}
    bodies = {name[len("responses/") :]: members[name] for name in used}
    warc = io.BytesIO()
    write_captures(warc, "origin", records, bodies.get)
    out = [
        (name, data)
        for name, data in members.items()
        if not name.startswith("responses/") or name in used
    ]
    replaced = {"manifest.json": json.dumps(forged).encode(), "captures.warc.gz": warc.getvalue()}
    return canonical_zip([(name, replaced.get(name, data)) for name, data in out])


def trailing_removals_dropped(path: Path, manifest: dict[str, Any]) -> bytes:
    """Every observation from the post's first removal on is gone."""
    observations = manifest["observations"]
    first_removal = next(
        i for i, entry in enumerate(observations) if json.loads(entry["leaf"])["status"] in REMOVALS
    )
    return forge(path, manifest, observations[:first_removal])


def _bundle_attacks(study: Study, post_id: str, tmp: Path) -> list[Row]:
    out = tmp / "bundle.zip"
    manifest = build_bundle(study, post_id, out)
    assert verify_bundle_bytes(out.read_bytes(), out).success, "the untouched bundle verifies"
    forged: dict[str, bytes] = {"censored post without its last checks": b""}
    forged["censored post without its last checks"] = trailing_removals_dropped(out, manifest)
    head = json.loads(
        dict(read_members(forged["censored post without its last checks"]))["manifest.json"]
    )
    count, digest = chain_of(e["index"] for e in head["observations"] if e["of_post"])
    head["heads"]["entry"].update(count=count, digest=digest.hex())
    forged["... and a head entry edited to match"] = rebuilt(out, head)
    flipped = json.loads(json.dumps(manifest))
    flipped["observations"][-1]["of_post"] = False
    forged["the last observation marked as not the post's"] = rebuilt(out, flipped)
    swapped = json.loads(json.dumps(manifest))
    swapped["observations"] = swapped["observations"][:-1]
    forged["the last observation dropped, nothing else changed"] = rebuilt(out, swapped)
    for field, value in (("author_id", "a_00000000000000000000"), ("published_at", 0.0)):
        facts = json.loads(json.dumps(manifest))
        facts["post"][field] = value
        forged[f"the manifest's {field} changed"] = rebuilt(out, facts)
    return [
        ("forged bundles", name, not verify_bundle_bytes(data, out).success)
        for name, data in forged.items()
    ]


def _store_attacks(template: Path, post_id: str, tmp: Path) -> list[Row]:
    edits: dict[str, Callable[[Connection, int, int], object]] = {
        "a post's author changed": lambda c, pk, author: c.execute(
            update(posts)
            .where(posts.c.id == pk)
            .values(
                author_pk=c.execute(select(authors.c.id).where(authors.c.id != author)).scalar()
            )
        ),
        "a post's publication time moved": lambda c, pk, author: c.execute(
            update(posts).where(posts.c.id == pk).values(published_at=posts.c.published_at - 60)
        ),
        "a post's publication window widened": lambda c, pk, author: c.execute(
            update(posts).where(posts.c.id == pk).values(published_until=posts.c.published_at + 1e5)
        ),
        "a post's verdict row deleted": lambda c, pk, author: c.execute(
            delete(verdicts).where(verdicts.c.post_pk == pk)
        ),
        "a post's text changed": lambda c, pk, author: c.execute(
            update(posts).where(posts.c.id == pk).values(text="forged text")
        ),
    }
    rows: list[Row] = []
    for number, (name, edit) in enumerate(edits.items()):
        copy = tmp / f"store-{number}"
        shutil.copytree(template, copy)
        study = Study.open(copy)
        with study.engine.begin() as connection:
            pk, author = connection.execute(
                select(posts.c.id, posts.c.author_pk).where(posts.c.post_id == post_id)
            ).one()
            edit(connection, pk, author)
        rows.append(("edited stores", name, not verify_study(study).success))
        study.close()
    return rows


def _forged_redaction(template: Path, tmp: Path) -> list[Row]:
    """A blob deleted with a made-up takedown record to explain it away."""
    copy = tmp / "redaction"
    shutil.copytree(template, copy)
    study = Study.open(copy)
    with study.engine.connect() as connection:
        sha256 = connection.exec_driver_sql(
            "SELECT body_sha256 FROM observations WHERE kind = 'check' "
            "AND status = 'censored' LIMIT 1"
        ).scalar_one()
    assert study.blobs.delete(sha256)
    with study.engine.begin() as connection:
        connection.execute(
            redactions.insert().values(
                body_sha256=sha256, author_pseudonym="a_x", reason="forged", redacted_at=0.0
            )
        )
    held = not verify_study(study).success
    study.close()
    return [("edited stores", "a censored answer deleted, with a forged takedown record", held)]


def attacks(tmp: Path) -> list[Row]:
    template = tmp / "study"
    study = Study.init(template)
    scenario = generate(load_policy(DEFAULT_POLICY_PATH), 3, posts=300)
    replay(study, scenario, until=min(p.published_at for p in scenario) + 86400.0)
    post_id = next(
        str(v["post_id"]) for v in iter_verdicts(study.engine) if v["verdict"] == "censored"
    )
    rows = _bundle_attacks(study, post_id, tmp)
    study.close()
    rows += _store_attacks(template, post_id, tmp)
    rows += _forged_redaction(template, tmp)
    return rows
