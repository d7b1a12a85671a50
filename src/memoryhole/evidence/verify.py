"""``memoryhole verify``: check a bundle standalone, or a whole study, and say what failed.

A :class:`Report` collects one line per check; any failure makes the command exit non-zero.
Each failure names the item (file, observation id, checkpoint, blob) and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from memoryhole.errors import EvidenceError
from memoryhole.evidence.bundle import BUNDLE_FORMAT, canonical_zip, read_members
from memoryhole.evidence.checkpoint import Checkpoint, VerifierKey, read_checkpoint, verify_note
from memoryhole.evidence.heads import chain_of, check_head_proof, heads_root, parse_extension
from memoryhole.evidence.leaf import POST_LEAF_KINDS, row_leaf_hash
from memoryhole.evidence.log import heads_at, stored_checkpoints
from memoryhole.evidence.merkle import (
    MerkleLog,
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from memoryhole.evidence.rederive import (
    facts_mismatches,
    is_post_check,
    rederive_verdict,
    stated_facts,
    verdict_mismatches,
)
from memoryhole.evidence.takedown import REDACTION_KIND, TEXT_REDACTION, text_redaction
from memoryhole.store.blobs import BlobCorruptError
from memoryhole.store.schema import authors, observations, posts, redactions, targets, verdicts

if TYPE_CHECKING:
    from memoryhole.study import Study


@dataclass
class Report:
    passed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def ok(self, message: str) -> None:
        self.passed.append(message)

    def fail(self, message: str) -> None:
        self.failures.append(message)

    @property
    def success(self) -> bool:
        return not self.failures


# -- bundles ------------------------------------------------------------------------------------


def verify_bundle(path: Path, trusted_key: str | None = None) -> Report:
    try:
        data = path.read_bytes()
    except OSError as exc:
        report = Report()
        report.fail(f"{path}: cannot read ({exc.strerror})")
        return report
    return verify_bundle_bytes(data, path, trusted_key)


def verify_bundle_bytes(data: bytes, path: Path, trusted_key: str | None = None) -> Report:
    report = Report()
    try:
        members = read_members(data)
    except Exception as exc:  # zipfile raises many kinds, all meaning "not a sound zip"
        report.fail(f"{path.name}: not a readable zip file ({type(exc).__name__}: {exc})")
        return report
    if canonical_zip(members) != data:
        report.fail(
            f"{path.name}: the zip container was altered (its bytes are not the canonical layout "
            "of its members: a header, timestamp, comment or padding changed)"
        )
    else:
        report.ok("zip container is byte-for-byte canonical")
    files = dict(members)
    try:
        manifest = json.loads(files["manifest.json"])
        if manifest.get("format") != BUNDLE_FORMAT:
            raise EvidenceError("manifest.json: not a memoryhole evidence bundle")
        vkey_text = files["key.pub"].decode().strip()
        note = files["checkpoint.txt"]
    except (KeyError, ValueError, UnicodeDecodeError, EvidenceError, AttributeError) as exc:
        report.fail(
            f"{path.name}: manifest, key.pub or checkpoint.txt missing or unreadable: {exc}"
        )
        return report
    if trusted_key is not None and vkey_text != trusted_key.strip():
        report.fail(
            "key.pub is not the key you gave with --key: the bundle is signed by someone else"
        )
    try:
        key = VerifierKey.parse(vkey_text)
        checkpoint = verify_note(note, key)
        report.ok(f"checkpoint.txt is signed by {key.name} (size {checkpoint.size})")
    except EvidenceError as exc:
        report.fail(f"checkpoint.txt: {exc}")
        return report
    claimed = manifest.get("checkpoint", {})
    if claimed != {"size": checkpoint.size, "root_hash": checkpoint.root_hash.hex()}:
        report.fail("manifest.json: its checkpoint differs from the signed checkpoint.txt")
    _verify_bundle_observations(manifest, files, checkpoint.size, checkpoint.root_hash, report)
    _verify_bundle_complete(manifest, checkpoint, report)
    _verify_bundle_facts(manifest, report)
    _verify_bundle_warc(files, manifest, report)
    return report


def _verify_bundle_complete(
    manifest: dict[str, Any], checkpoint: Checkpoint, report: Report
) -> None:
    """The bundle holds every observation of its post up to its checkpoint: their number and
    index digest are the post's head entry, which the checkpoint signs (evidence/heads.py)."""
    post = manifest.get("post", {})
    try:
        signed = parse_extension(checkpoint.extensions)
    except EvidenceError as exc:
        report.fail(f"checkpoint.txt: {exc}")
        return
    proof = manifest.get("heads")
    if signed is None or not isinstance(proof, dict):
        report.fail(
            "the bundle cannot prove it holds every observation of its post (its checkpoint "
            "commits to no post heads: made by an older memoryhole); make a new one with "
            "`memoryhole evidence`"
        )
        return
    entries, heads_root_hash = signed
    try:
        head = check_head_proof(proof, entries, heads_root_hash)
    except EvidenceError as exc:
        report.fail(f"manifest.json heads: {exc}")
        return
    if (head.platform, head.post_id) != (post.get("platform"), post.get("post_id")):
        report.fail("manifest.json heads: the head entry is another post's")
        return
    try:
        indices = [int(e["index"]) for e in manifest.get("observations", []) if e.get("of_post")]
    except (KeyError, TypeError, ValueError) as exc:
        report.fail(f"manifest.json: malformed observation index ({exc})")
        return
    count, digest = chain_of(indices)
    if len(set(indices)) != len(indices) or (count, digest) != (head.count, head.digest):
        report.fail(
            f"the bundle does not hold every observation of its post: the signed log has "
            f"{head.count} up to leaf {checkpoint.size - 1}, the bundle {count}"
            + (" (the same number, but not the same ones)" if count == head.count else "")
        )
        return
    report.ok(f"all {count} observations of the post up to the checkpoint are in the bundle")


def _verify_bundle_facts(manifest: dict[str, Any], report: Report) -> None:
    """What the manifest says of the post (author, times, text) is what its leaves state."""
    stated = stated_facts(
        [json.loads(str(e["leaf"])) for e in manifest.get("observations", []) if e.get("of_post")]
    )
    if stated is None:
        return  # a post listed before leaves stated facts (leaf format 1)
    for problem in facts_mismatches(manifest.get("post", {}), stated):
        report.fail(f"manifest.json post: {problem}")


def _verify_bundle_observations(
    manifest: dict[str, Any], files: dict[str, bytes], size: int, root: bytes, report: Report
) -> None:
    post = manifest.get("post", {})
    referenced: set[str] = set()
    checks: list[dict[str, Any]] = []
    first_seen: float | None = None
    for number, entry in enumerate(manifest.get("observations", []), start=1):
        where = f"manifest.json observation #{number}"
        try:
            leaf_bytes = str(entry["leaf"]).encode()
            record = json.loads(leaf_bytes)
            index = int(entry["index"])
            digest = leaf_hash(leaf_bytes)
            proof = [bytes.fromhex(h) for h in entry["inclusion_proof"]]
        except (KeyError, ValueError, TypeError) as exc:
            report.fail(f"{where}: malformed ({exc})")
            continue
        where = f"observation {record.get('id')} (leaf {index})"
        if digest.hex() != entry.get("leaf_hash"):
            report.fail(f"{where}: its record does not hash to the listed leaf hash")
        if record.get("id") != index + 1:
            report.fail(f"{where}: the record's id does not match its leaf index")
        if not verify_inclusion(digest, index, size, proof, root):
            report.fail(f"{where}: not in the signed log (inclusion proof fails)")
            continue
        if record.get("platform") != post.get("platform"):
            report.fail(f"{where}: is about platform {record.get('platform')!r}, not the post's")
        if is_post_check(record):
            if record["kind"] == "check" and record.get("post_id") != post.get("post_id"):
                report.fail(f"{where}: is about post {record.get('post_id')!r}, not this one")
            checks.append(record)
        elif first_seen is None:
            first_seen = float(record["sent_at"])
        response = entry.get("response")
        if response is not None:
            body = files.get(response)
            referenced.add(response)
            if body is None:
                report.fail(f"{where}: {response} is missing from the bundle")
            elif hashlib.sha256(body).hexdigest() != record.get("body_sha256"):
                report.fail(f"{where}: {response} does not hash to the logged body sha256")
            elif len(body) != record.get("body_size"):
                report.fail(f"{where}: {response} has the wrong size")
        elif not entry.get("withheld"):
            report.fail(f"{where}: no response and no reason for withholding it")
    sequence = [record.get("seq") for record in sorted(checks, key=lambda r: int(r["id"]))]
    if sequence != list(range(1, len(sequence) + 1)):
        report.fail("manifest.json: the post's checks are not all there (seq is not 1, 2, 3…)")
    extra = {n for n in files if n.startswith("responses/")} - referenced
    for name in sorted(extra):
        report.fail(f"{name}: not referenced by any logged observation")
    report.ok(f"{len(manifest.get('observations', []))} observations checked against the log")
    if first_seen is None:
        first_seen = float(post.get("first_seen_at", 0.0))
    try:
        derived = rederive_verdict(first_seen, post.get("text"), checks)
    except (ValueError, TypeError, KeyError) as exc:
        report.fail(f"manifest.json: the observations cannot be replayed ({exc})")
        return
    problems = verdict_mismatches(manifest.get("verdict", {}), derived)
    if post.get("text") is None:
        problems = [p for p in problems if not p.startswith(("verdict 'live'", "edited"))]
    for problem in problems:
        report.fail(f"manifest.json verdict: {problem}")
    if not problems:
        report.ok(f"the verdict ({derived.export_value}) follows from the logged observations")


def _verify_bundle_warc(files: dict[str, bytes], manifest: dict[str, Any], report: Report) -> None:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    data = files.get("captures.warc.gz")
    if data is None:
        report.fail("captures.warc.gz is missing")
        return
    leaves = {str(e.get("leaf")) for e in manifest.get("observations", [])}
    bodies = {
        h
        for name, b in files.items()
        if name.startswith("responses/")
        for h in [hashlib.sha256(b).hexdigest()]
    }
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            payload = record.content_stream().read()
            if record.rec_type == "metadata" and payload.decode() not in leaves:
                report.fail("captures.warc.gz: a metadata record is not one of the logged leaves")
            if record.rec_type == "response" and hashlib.sha256(payload).hexdigest() not in bodies:
                report.fail("captures.warc.gz: a response body is not one of the logged responses")
    except (ArchiveLoadFailed, OSError, EOFError, ValueError, UnicodeDecodeError) as exc:
        report.fail(f"captures.warc.gz: unreadable ({type(exc).__name__}: {exc})")
        return
    report.ok("captures.warc.gz matches the logged responses")


# -- whole study --------------------------------------------------------------------------------


def verify_study(study: Study) -> Report:
    report = Report()
    engine = study.engine
    redacted_blobs: set[str] = set()
    with engine.connect() as conn:
        redacted_blobs = set(conn.execute(select(redactions.c.body_sha256)).scalars())
    log = MerkleLog()
    leaves: list[bytes] = []
    blob_names: set[str] = set()
    checks_by_post: dict[int, list[dict[str, Any]]] = defaultdict(list)
    discovery: dict[int, dict[str, Any]] = {}
    chains: dict[int, list[int]] = defaultdict(list)  # post pk → its observations' leaf indices
    facts_by_post: dict[int, list[dict[str, Any]]] = defaultdict(list)
    # Body → the index of the first redaction leaf that names it. Only one a signed checkpoint
    # covers counts: anyone can compute a leaf and append it after the last checkpoint.
    logged_redactions: dict[str, int] = {}
    for row, platform, post_id in _observation_rows(study):
        if row["kind"] == REDACTION_KIND and row["facts"]:
            named = str(json.loads(row["facts"]).get("redacts", ""))
            logged_redactions.setdefault(named, row["id"] - 1)
        expected_id = len(leaves) + 1
        if row["id"] != expected_id:
            report.fail(f"observation {row['id']}: ids must run 1, 2, 3…; expected {expected_id}")
        stored = bytes(row["leaf_hash"]) if row["leaf_hash"] is not None else b""
        try:
            computed = row_leaf_hash(row, platform, post_id)
        except (ValueError, TypeError) as exc:
            report.fail(f"observation {row['id']}: its row is malformed ({exc})")
            computed = b""
        if computed != stored:
            report.fail(f"observation {row['id']}: its row does not match its leaf hash (altered)")
        leaves.append(stored if len(stored) == 32 else bytes(32))
        log.append(leaves[-1])
        blob_names.add(row["body_sha256"])
        if row["post_pk"] is not None:
            chains[row["post_pk"]].append(row["id"] - 1)
            if row["facts"] is not None:
                facts_by_post[row["post_pk"]].append(
                    {"id": row["id"], "kind": row["kind"], "facts": json.loads(row["facts"])}
                )
        if is_post_check(row) and row["post_pk"] is not None:
            checks_by_post[row["post_pk"]].append(dict(row))
        else:
            discovery[row["id"]] = dict(row)
    report.ok(f"{len(leaves):,} observations re-hashed")
    missing = corrupt = 0
    signed = stored_checkpoints(engine)[-1:]
    signed_size = signed[0].size if signed else 0
    for name in sorted(blob_names):
        try:
            study.blobs.get(name)
        except FileNotFoundError:
            redaction = logged_redactions.get(name)
            if redaction is not None and redaction < signed_size:
                continue
            missing += 1
            if redaction is not None:
                report.fail(
                    f"blob {name}: missing; the redaction leaf naming it (index {redaction}) "
                    f"is after the last signed checkpoint (size {signed_size}): forged, or "
                    "not signed yet (a collector signs every 5 minutes and when it stops)"
                )
            elif name in redacted_blobs:
                report.fail(
                    f"blob {name}: missing; a takedown record names it but no redaction in "
                    "the log does (a forged record, or one not logged yet: `memoryhole "
                    "takedown --log-pending` logs it)"
                )
            else:
                report.fail(f"blob {name}: missing (and no takedown record says why)")
        except BlobCorruptError:
            corrupt += 1
            report.fail(f"blob {name}: its bytes do not hash to its name (altered)")
    if not missing and not corrupt:
        report.ok(f"{len(blob_names):,} raw responses present and intact (or taken down)")
    with engine.connect() as conn:
        unlogged = conn.execute(
            select(func.count())
            .select_from(redactions)
            .where(redactions.c.observation_id.is_(None))
        ).scalar()
    if unlogged:
        report.fail(
            f"{unlogged:,} takedown records are not in the log yet: `memoryhole takedown "
            "--log-pending` (or a running collector, at its next commit) logs them"
        )
    _verify_checkpoints(study, leaves, report)
    # Texts a takedown blanked in other authors' posts (a quote of the author): only those a
    # signed checkpoint covers excuse a text that differs from the log.
    blanked = {
        name
        for name, index in logged_redactions.items()
        if name.startswith(TEXT_REDACTION) and index < signed_size
    }
    _verify_verdicts(study, checks_by_post, discovery, report, blanked)
    _verify_chains(study, chains, report)
    _verify_facts(study, facts_by_post, report, blanked)
    return report


def _verify_chains(study: Study, chains: dict[int, list[int]], report: Report) -> None:
    """Each post's chain (the digest its verdict row keeps) is its observations', every post
    has a verdict, and the latest checkpoint's heads root is the posts' chains up to it."""
    query = select(posts.c.id, posts.c.post_id, verdicts.c.chain, verdicts.c.chain_length)
    query = query.outerjoin(verdicts, verdicts.c.post_pk == posts.c.id)
    bad = 0
    with study.engine.connect() as conn:
        rows = conn.execute(query).all()
        orphans = conn.execute(
            select(verdicts.c.post_pk).where(verdicts.c.post_pk.not_in(select(posts.c.id)))
        ).scalars()
        for pk in orphans:
            report.fail(f"verdict of post row {pk}: there is no such post")
            bad += 1
    for pk, post_id, chain, length in rows:
        if length is None:
            report.fail(f"post {post_id}: it has no verdict row (deleted?)")
            bad += 1
            continue
        count, digest = chain_of(chains.get(pk, []))
        if (count, digest.hex() if count else None) != (length, chain):
            report.fail(
                f"post {post_id}: its chain says {length} observations, the log has {count}"
                + (" (not the same ones)" if count == length else "")
            )
            bad += 1
    if not bad:
        report.ok(f"{len(rows):,} posts: each has a verdict and its chain of observations")
    latest = stored_checkpoints(study.engine)[-1:] if rows else []
    for checkpoint in latest:
        try:
            signed = parse_extension(read_checkpoint(checkpoint.note).extensions)
        except EvidenceError as exc:
            report.fail(f"checkpoint {checkpoint.id}: {exc}")
            continue
        if signed is None:
            report.ok(f"checkpoint {checkpoint.id} predates post heads: not checked")
            continue
        heads = heads_at(study.engine, checkpoint.size)
        if (len(heads), heads_root(heads)) != signed:
            report.fail(
                f"checkpoint {checkpoint.id}: the posts' chains up to it do not give the heads "
                "root it signed (an observation moved to another post, or a post's chain edited)"
            )
        else:
            report.ok(f"checkpoint {checkpoint.id}: its post heads match ({len(heads):,} posts)")


def _verify_facts(
    study: Study,
    facts_by_post: dict[int, list[dict[str, Any]]],
    report: Report,
    blanked: Collection[str] = (),
) -> None:
    """What the store says of each post (author, publication time, first sighting, text) is
    what its leaves state (posts listed before leaves stated facts are counted, not checked)."""
    query = select(
        posts.c.id,
        posts.c.post_id,
        posts.c.published_at,
        posts.c.published_until,
        posts.c.first_seen_at,
        posts.c.text,
        posts.c.platform,
        authors.c.pseudonym,
    ).join(authors, authors.c.id == posts.c.author_pk)
    bad = unstated = 0
    with study.engine.connect() as conn:
        taken_down = set(conn.execute(select(redactions.c.author_pseudonym)).scalars())
        rows = conn.execute(query).mappings().all()
    for row in rows:
        stated = stated_facts(facts_by_post.get(row["id"], []))
        if stated is None:
            unstated += 1
            continue
        post = {
            "author_id": row["pseudonym"],
            "published_at": row["published_at"],
            "published_until": row["published_until"],
            "first_seen_at": row["first_seen_at"],
            "text": _stated_text(row, taken_down, blanked),
        }
        for problem in facts_mismatches(post, stated):
            report.fail(f"post {row['post_id']}: {problem}")
            bad += 1
    if not bad:
        report.ok(
            f"{len(rows) - unstated:,} posts' authors, times and texts are what the log states"
            + (f" ({unstated:,} listed before leaves stated them)" if unstated else "")
        )


def _observation_rows(study: Study) -> Iterator[tuple[Any, str, str | None]]:
    query = (
        select(
            observations,
            posts.c.platform,
            posts.c.post_id.label("the_post_id"),
            targets.c.platform.label("target_platform"),
        )
        .outerjoin(posts, posts.c.id == observations.c.post_pk)
        .outerjoin(targets, targets.c.id == observations.c.target_pk)
        .order_by(observations.c.id)
    )
    with study.engine.connect() as conn:
        for row in conn.execute(query).mappings():
            if row["kind"] in POST_LEAF_KINDS:
                yield row, row["platform"], row["the_post_id"]
            else:
                yield row, row["target_platform"], None


def _verify_checkpoints(study: Study, leaves: list[bytes], report: Report) -> None:
    try:
        key = VerifierKey.parse(study.verifier_key())
    except EvidenceError as exc:
        report.fail(f"log.pub: {exc}")
        return
    tree = MerkleTree(leaves)
    previous = None
    stored = stored_checkpoints(study.engine)
    for checkpoint in stored:
        name = f"checkpoint {checkpoint.id} (size {checkpoint.size})"
        try:
            signed = verify_note(checkpoint.note, key)
        except EvidenceError as exc:
            report.fail(f"{name}: {exc}")
            continue
        if (signed.size, signed.root_hash) != (checkpoint.size, checkpoint.root_hash):
            report.fail(f"{name}: the stored size/root differ from its signed note")
        if signed.size > len(leaves):
            report.fail(f"{name}: covers {signed.size} leaves but the store has {len(leaves)}")
            continue
        if tree.root(signed.size) != signed.root_hash:
            report.fail(f"{name}: the stored leaves do not give its signed root (log rewritten)")
            continue
        if previous is not None:
            proof = tree.consistency_proof(previous.size, signed.size)
            if not verify_consistency(
                previous.size, signed.size, previous.root_hash, signed.root_hash, proof
            ):
                report.fail(f"{name}: not consistent with the checkpoint before it")
        previous = signed
    if stored:
        report.ok(f"{len(stored)} signed checkpoints verified and consistent")
    else:
        report.ok("no checkpoints yet (the collector has not finished a run)")


def _stated_text(row: Any, taken_down: set[str], blanked: Collection[str]) -> str | None:
    """The post's text as the store states it, or None where a logged takedown removed it
    (the author's own posts, or another's post that quoted the author)."""
    if row["pseudonym"] in taken_down:
        return None
    if text_redaction(str(row["platform"]), str(row["post_id"])) in blanked:
        return None
    return str(row["text"]) if row["text"] is not None else None


def _verify_verdicts(
    study: Study,
    checks_by_post: dict[int, list[dict[str, Any]]],
    discovery: dict[int, dict[str, Any]],
    report: Report,
    blanked: Collection[str] = (),
) -> None:
    query = (
        select(
            verdicts,
            posts.c.post_id,
            posts.c.text,
            posts.c.discovered_by,
            posts.c.first_seen_at.label("post_first_seen_at"),
            authors.c.pseudonym,
            authors.c.raw_id,
            posts.c.platform,
        )
        .join(posts, posts.c.id == verdicts.c.post_pk)
        .join(authors, authors.c.id == posts.c.author_pk)
    )
    bad = 0
    with study.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
        taken_down = set(conn.execute(select(redactions.c.author_pseudonym)).scalars())
    for row in rows:
        where = f"post {row['post_id']}"
        found = discovery.get(row["discovered_by"])
        try:
            first_seen = float(found["sent_at"]) if found else float(row["post_first_seen_at"])
        except (TypeError, ValueError):
            report.fail(f"{where}: its first sighting has no valid time")
            bad += 1
            continue
        if found is None or first_seen != row["post_first_seen_at"]:
            report.fail(f"{where}: its first sighting is not the listing the log shows")
            bad += 1
        text = _stated_text(row, taken_down, blanked)
        try:
            derived = rederive_verdict(first_seen, text, checks_by_post.get(row["post_pk"], []))
        except (ValueError, TypeError, KeyError) as exc:
            report.fail(f"{where}: its observations cannot be replayed ({exc})")
            bad += 1
            continue
        claimed = dict(row)
        claimed["verdict"] = "live" if row["status"] == "edited" else row["status"]
        problems = verdict_mismatches(claimed, derived)
        if text is None:
            problems = [p for p in problems if not p.startswith(("verdict 'live'", "edited"))]
        for problem in problems:
            report.fail(f"{where}: {problem}")
        bad += bool(problems)
        if row["pseudonym"] not in taken_down and row["pseudonym"] != study.pseudonym(
            row["platform"], row["raw_id"]
        ):
            report.fail(f"{where}: its author pseudonym is not the HMAC of its author id")
            bad += 1
    if not bad:
        report.ok(f"{len(rows):,} verdicts follow from the logged observations")
