"""Per-post evidence bundles: everything needed to check one claim, on any machine.

``bundle.zip`` (format version 2, docs/evidence.md) holds:

- ``manifest.json``: the post, its verdict and interval, and for each observation its leaf (the
  exact canonical JSON string whose SHA-256 leaf hash is in the log), its leaf index and its
  inclusion proof to the checkpoint; and the post's head entry (how many observations the post
  has in the log up to the checkpoint, and the digest of their indices) with its proof to the
  heads root the checkpoint signs, so the bundle proves it holds every one of them;
- ``checkpoint.txt``: the signed checkpoint (C2SP signed note) the proofs lead to;
- ``key.pub``: the study's verifier key;
- ``responses/<sha256>``: every raw response body of the post's checks, byte for byte;
- ``captures.warc.gz``: the same captures as WARC 1.1 records;
- ``README.txt``: what all this means, for a reader who is not an expert.

The zip itself is canonical (stored, fixed timestamps, fixed order), so the verifier rebuilds
it from its members and any byte changed anywhere in the file is noticed. The listing that
first showed the post is logged and proven, but its body is withheld: it holds other people's
posts.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from memoryhole import __version__
from memoryhole.errors import EvidenceError, MemoryholeError
from memoryhole.evidence.checkpoint import read_checkpoint
from memoryhole.evidence.heads import head_proof, heads_root, parse_extension
from memoryhole.evidence.leaf import POST_KIND, POST_LEAF_KINDS, canonical_bytes, leaf_record
from memoryhole.evidence.log import ensure_checkpoint, heads_at, log_tree
from memoryhole.evidence.takedown import text_redaction
from memoryhole.evidence.warc import write_captures
from memoryhole.model import Status
from memoryhole.store.blobs import BlobCorruptError
from memoryhole.store.queries import redacted_authors, withheld_region
from memoryhole.store.schema import authors, observations, posts, redactions, verdicts

if TYPE_CHECKING:
    from memoryhole.study import Study

BUNDLE_FORMAT = "memoryhole-evidence-bundle"
BUNDLE_VERSION = 2  # 2: with the post's head entry (evidence/heads.py)
FIXED_DATE = (1980, 1, 1, 0, 0, 0)

README = """\
Evidence bundle for one post, made by memoryhole {version}
=========================================================

What this is
  A record of every time memoryhole looked at post {post_id} on {platform}: when it asked,
  what the platform answered (byte for byte, in responses/ and captures.warc.gz), and what
  memoryhole concluded from it: {verdict}.

Why you can trust it without trusting us
  Every observation is a leaf of an append-only log (a Merkle tree, as in Certificate
  Transparency, RFC 9162). checkpoint.txt is the log's state (size and root hash) signed with
  the study's key (key.pub). manifest.json holds, for each observation, a proof that it is in
  the signed log. Nobody can change, remove or back-date an observation without breaking
  these proofs, and the raw answers must hash to what the log says.

How to check it
  pip install memoryhole, then:  memoryhole verify {name}
  It checks the signature, every proof, every response's hash, the WARC file, and that the
  verdict follows from the observations. To be sure the key is the study's, compare key.pub
  with the key its authors published: memoryhole verify {name} --key 'KEY'

What the times mean
  Times are seconds since 1970 (UTC) on the platform's clock. The post was removed after
  last_seen_alive_at and no later than first_seen_removed_at.
"""


def canonical_zip(members: Sequence[tuple[str, bytes]]) -> bytes:
    """The one byte layout memoryhole gives these members (stored, fixed dates, this order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data)
    return buffer.getvalue()


def build_bundle(
    study: Study, post_id: str, out: Path, platform: str | None = None
) -> dict[str, Any]:
    """Write the bundle of ``post_id`` to ``out``; returns its manifest."""
    checkpoint = ensure_checkpoint(study)
    with study.engine.connect() as conn:
        query = (
            select(posts, authors.c.pseudonym, authors.c.raw_id)
            .join(authors, authors.c.id == posts.c.author_pk)
            .where(posts.c.post_id == post_id)
        )
        if platform:
            query = query.where(posts.c.platform == platform)
        found = conn.execute(query).mappings().all()
        if not found:
            raise MemoryholeError(
                f"no post {post_id!r} in {study.path}; list posts with `memoryhole export verdicts`"
            )
        if len(found) > 1:
            raise MemoryholeError(f"post id {post_id!r} is on several platforms; add --platform")
        post = found[0]
        verdict = conn.execute(select(verdicts).where(verdicts.c.post_pk == post["id"])).mappings()
        verdict_row = verdict.one()
        rows = (
            conn.execute(
                select(observations)
                .where(
                    (observations.c.post_pk == post["id"])
                    | (observations.c.id == post["discovered_by"])
                )
                .where(observations.c.id <= checkpoint.size)
                .order_by(observations.c.id)
            )
            .mappings()
            .all()
        )
    redacted = post["pseudonym"] in redacted_authors(study.engine)
    blanked = redacted or _text_blanked(study, post["platform"], post_id)
    tree = log_tree(study.engine)
    entries: list[dict[str, Any]] = []
    members: list[tuple[str, bytes]] = []
    bodies: dict[str, bytes] = {}
    records = []
    for row in rows:
        record = leaf_record(
            dict(row), post["platform"], post_id if row["kind"] in POST_LEAF_KINDS else None
        )
        records.append(record)
        leaf = canonical_bytes(record)
        response: str | None = None
        withheld: str | None = None
        if row["kind"] not in POST_LEAF_KINDS or row["kind"] == POST_KIND:
            withheld = "listing: holds other people's posts"
        elif redacted:
            withheld = "taken down at the author's request"
        else:
            try:
                bodies[row["body_sha256"]] = study.blobs.get(row["body_sha256"])
                response = f"responses/{row['body_sha256']}"
            except FileNotFoundError:
                withheld = "not in the blob store (taken down)"
            except BlobCorruptError as exc:
                raise EvidenceError(f"observation {row['id']}: {exc}") from None
        entries.append(
            {
                "index": row["id"] - 1,
                "leaf": leaf.decode(),
                "leaf_hash": bytes(row["leaf_hash"]).hex(),
                "inclusion_proof": [
                    h.hex() for h in tree.inclusion_proof(row["id"] - 1, checkpoint.size)
                ],
                "response": response,
                "withheld": withheld,
                "of_post": row["post_pk"] == post["id"],  # in the post's chain
            }
        )
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "made_by": f"memoryhole {__version__}",
        "post": {
            "platform": post["platform"],
            "post_id": post_id,
            "author_id": None if redacted else post["pseudonym"],  # a takedown's: withheld
            "published_at": post["published_at"],
            "published_until": post["published_until"],
            "first_seen_at": post["first_seen_at"],
            "text": None if blanked else post["text"],
        },
        "verdict": {
            "verdict": "live" if verdict_row["status"] == "edited" else verdict_row["status"],
            "first_seen_at": verdict_row["first_seen_at"],
            "last_seen_alive_at": verdict_row["last_seen_alive_at"],
            "first_seen_removed_at": verdict_row["first_seen_removed_at"],
            "signal": verdict_row["signal"],
            "edited": bool(verdict_row["edited"]),
            # as in ``export verdicts``: where a withheld post was not served, else None
            "region": withheld_region(Status(verdict_row["status"]), verdict_row["signal"]),
        },
        "checkpoint": {"size": checkpoint.size, "root_hash": checkpoint.root_hash.hex()},
        "observations": entries,
        "heads": _head_of(study, checkpoint.size, checkpoint.note, post["platform"], post_id),
    }
    warc = io.BytesIO()
    write_captures(warc, study.log_origin, records, lambda sha: bodies.get(sha))
    name = out.name
    members.append(
        (
            "README.txt",
            README.format(
                version=__version__,
                post_id=post_id,
                platform=post["platform"],
                verdict=manifest["verdict"]["verdict"],
                name=name,
            ).encode(),
        )
    )
    members.append(("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode()))
    members.append(("checkpoint.txt", checkpoint.note.encode()))
    members.append(("key.pub", (study.verifier_key() + "\n").encode()))
    members.append(("captures.warc.gz", warc.getvalue()))
    members.extend((f"responses/{sha}", body) for sha, body in sorted(bodies.items()))
    out.write_bytes(canonical_zip(members))
    return manifest


def _text_blanked(study: Study, platform: str, post_id: str) -> bool:
    """A takedown blanked this post's text (it quoted the author taken down)."""
    name = text_redaction(platform, post_id)
    with study.engine.connect() as conn:
        found = conn.execute(select(redactions.c.id).where(redactions.c.body_sha256 == name))
        return found.first() is not None


def _head_of(
    study: Study, size: int, note: str, platform: str, post_id: str
) -> dict[str, object] | None:
    """The post's head entry with its proof to the heads root the checkpoint signed."""
    signed = parse_extension(read_checkpoint(note).extensions)
    if signed is None:
        return None
    heads = heads_at(study.engine, size)
    if (len(heads), heads_root(heads)) != signed:
        raise EvidenceError(
            "the store's post chains do not give the heads root the checkpoint signed; "
            "run `memoryhole verify --study` to see what changed"
        )
    return head_proof(heads, platform, post_id)


def read_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def manifest_of(members: Mapping[str, bytes]) -> dict[str, Any]:
    value = json.loads(members["manifest.json"])
    if not isinstance(value, dict):
        raise EvidenceError("manifest.json is not a JSON object")
    return value
