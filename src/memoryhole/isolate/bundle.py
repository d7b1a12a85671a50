"""A found rule's evidence bundle: the probes that establish it, provable on any machine.

``memoryhole rule-evidence RULE --out FILE`` writes a canonical zip (like a post's bundle,
``evidence/bundle.py``) of the study's latest definitive answer to each question that makes
the rule exact: the rule alone (filtered), the rule without each component (not filtered),
and, for a rule whose components must come in order, its components reversed (not filtered);
with a soft answer, the control search that shows a plain word is not filtered. Each probe
comes with its leaf, its inclusion proof to the signed checkpoint and its raw answer, so
``memoryhole verify FILE`` re-reads every answer from its bytes with the platform's own
parser, checks that the request searched exactly the question's fragments, and that the
answers together say what the rule says.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from memoryhole import __version__
from memoryhole.errors import EvidenceError, MemoryholeError
from memoryhole.evidence.bundle import canonical_zip, read_members
from memoryhole.evidence.checkpoint import VerifierKey, verify_note
from memoryhole.evidence.leaf import canonical_bytes, leaf_record
from memoryhole.evidence.log import ensure_checkpoint, log_tree
from memoryhole.evidence.merkle import leaf_hash, verify_inclusion
from memoryhole.evidence.verify import Report
from memoryhole.isolate.rules import Rule
from memoryhole.model import Capture, FilterAnswer, Request
from memoryhole.platforms.weibo_probe import CONTROL_QUERY, SEPARATOR, parse_probe
from memoryhole.store.schema import observations, targets
from memoryhole.study import Study

RULE_BUNDLE_FORMAT = "memoryhole-rule-bundle"
RULE_BUNDLE_VERSION = 1
PROBE_KIND = "probe"
#: Each platform's probe parser: how a verifier reads an answer from its bytes.
PARSERS: dict[str, Callable[[Capture], FilterAnswer]] = {"weibo": parse_probe}

README = """\
Evidence for a keyword rule of {platform}'s filter, made by memoryhole {version}
==============================================================================

The rule: {rule}
  Searches holding {every} were filtered; without any one of them they were not.

What is here
  manifest.json   each question, the probe that answered it (the exact request, when, the
                  answer) with its place in the study's signed log
  responses/      every answer byte for byte
  checkpoint.txt  the log's state signed with the study's key (key.pub)

How to check it
  pip install memoryhole, then:  memoryhole verify {name}
  It checks the signature and every proof, re-reads every answer from its bytes, checks that
  each request searched exactly the question's words, and that the answers make the rule.
"""


@dataclass(frozen=True)
class Question:
    """What one probe must show: these fragments (in this order, for an ordered rule) and
    whether the answer must be filtered."""

    name: str
    fragments: tuple[str, ...]
    filtered: bool
    in_order: bool

    def asked_by(self, fragments: Sequence[str]) -> bool:
        if self.in_order:
            return tuple(fragments) == self.fragments
        return sorted(fragments) == sorted(self.fragments)

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.name, "fragments": list(self.fragments), "filtered": self.filtered}


def questions(rule: Rule) -> list[Question]:
    """What makes ``rule`` exact: alone filtered, each component left out not filtered, and
    for an ordered rule its components reversed not filtered."""
    parts = rule.components
    out = [Question("the rule alone", parts, True, rule.ordered)]
    for part in parts if len(parts) > 1 else ():
        rest = tuple(p for p in parts if p != part)
        out.append(Question(f"without {part}", rest, False, rule.ordered))
    if rule.ordered and len(parts) > 1:
        out.append(Question("in reverse order", tuple(reversed(parts)), False, True))
    return out


def build_rule_bundle(
    study: Study, rule: Rule, out: Path, platform: str = "weibo"
) -> dict[str, Any]:
    """Write the bundle of ``rule`` to ``out``; returns its manifest."""
    checkpoint = ensure_checkpoint(study)
    with study.engine.connect() as conn:
        rows = (
            conn.execute(
                select(observations)
                .join(targets, targets.c.id == observations.c.target_pk)
                .where(targets.c.platform == platform, observations.c.kind == PROBE_KIND)
                .where(observations.c.id <= checkpoint.size)
                .order_by(observations.c.id)
            )
            .mappings()
            .all()
        )
    asked = questions(rule)
    latest: dict[str, Any] = {}
    control = None
    for row in rows:
        facts = json.loads(row["facts"] or "{}")
        fragments, answer = facts.get("fragments", []), facts.get("answer")
        if answer in (None, FilterAnswer.TRANSIENT.value):
            continue
        if fragments == [CONTROL_QUERY]:
            control = row
        for question in asked:
            if question.asked_by(fragments):
                latest[question.name] = row
    missing = [q.name for q in asked if q.name not in latest]
    if missing:
        raise MemoryholeError(
            f"the study's log has no answer to: {', '.join(missing)} (of rule {rule}); run "
            "`memoryhole isolate` on a text holding it, then sign a checkpoint"
        )
    contradicted = [
        q.name
        for q in asked
        if FilterAnswer(json.loads(latest[q.name]["facts"])["answer"]).filtered != q.filtered
    ]
    if contradicted:
        raise MemoryholeError(
            f"the latest answers contradict rule {rule} ({', '.join(contradicted)}): it may have "
            "lapsed; `memoryhole rules` shows when it was last confirmed"
        )
    chosen = [(q.name, latest[q.name]) for q in asked]
    if control is not None:
        chosen.append(("control", control))
    tree = log_tree(study.engine)
    entries, bodies = [], {}
    for name, row in chosen:
        record = leaf_record(dict(row), platform, None)
        bodies[row["body_sha256"]] = study.blobs.get(row["body_sha256"])
        proof = tree.inclusion_proof(row["id"] - 1, checkpoint.size)
        entries.append(
            {
                "question": name,
                "index": row["id"] - 1,
                "leaf": canonical_bytes(record).decode(),
                "inclusion_proof": [h.hex() for h in proof],
                "response": f"responses/{row['body_sha256']}",
            }
        )
    manifest: dict[str, Any] = {
        "format": RULE_BUNDLE_FORMAT,
        "version": RULE_BUNDLE_VERSION,
        "made_by": f"memoryhole {__version__}",
        "rule": {
            "platform": platform,
            "components": list(rule.components),
            "ordered": rule.ordered,
        },
        "questions": [q.as_dict() for q in asked],
        "checkpoint": {"size": checkpoint.size, "root_hash": checkpoint.root_hash.hex()},
        "probes": entries,
    }
    readme = README.format(
        platform=platform,
        version=__version__,
        rule=rule,
        every=(" then " if rule.ordered else " and ").join(rule.components),
        name=out.name,
    )
    members = [
        ("README.txt", readme.encode()),
        ("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode()),
        ("checkpoint.txt", checkpoint.note.encode()),
        ("key.pub", (study.verifier_key() + "\n").encode()),
        *((f"responses/{sha}", body) for sha, body in sorted(bodies.items())),
    ]
    out.write_bytes(canonical_zip(members))
    return manifest


def is_rule_bundle(data: bytes) -> bool:
    try:
        manifest = json.loads(dict(read_members(data))["manifest.json"])
    except Exception:  # not a zip, no manifest, not JSON: not a rule bundle
        return False
    return isinstance(manifest, dict) and manifest.get("format") == RULE_BUNDLE_FORMAT


def verify_rule_bundle(data: bytes, name: str, trusted_key: str | None = None) -> Report:
    report = Report()
    members = read_members(data)
    if canonical_zip(members) != data:
        report.fail(f"{name}: the zip container was altered (not the canonical layout)")
    files = dict(members)
    try:
        manifest = json.loads(files["manifest.json"])
        key_text = files["key.pub"].decode().strip()
        checkpoint = verify_note(files["checkpoint.txt"], VerifierKey.parse(key_text))
        rule_said = manifest["rule"]
        rule = Rule.of(rule_said["components"], ordered=bool(rule_said["ordered"]))
        parse = PARSERS[rule_said["platform"]]
    except (KeyError, ValueError, TypeError, UnicodeDecodeError, EvidenceError) as exc:
        report.fail(f"{name}: manifest, key or checkpoint missing or wrong: {exc!r}")
        return report
    if trusted_key is not None and key_text != trusted_key.strip():
        report.fail("key.pub is not the key you gave with --key: signed by someone else")
    report.ok(f"checkpoint.txt is signed (size {checkpoint.size})")
    if manifest.get("checkpoint") != {
        "size": checkpoint.size,
        "root_hash": checkpoint.root_hash.hex(),
    }:
        report.fail("manifest.json: its checkpoint differs from the signed checkpoint.txt")
    expected = {q.name: q for q in questions(rule)}
    control = Question("control", (CONTROL_QUERY,), False, True)
    answered: dict[str, FilterAnswer] = {}
    for entry in manifest.get("probes", []):
        found = _check_probe(entry, files, checkpoint.size, checkpoint.root_hash, parse, report)
        name = str(entry.get("question"))
        question = control if name == "control" else expected.get(name)
        if found is None or question is None:
            continue
        answer, fragments = found
        if not question.asked_by(fragments):
            report.fail(f"the probe for {name!r} searched {fragments}, not the question's words")
            continue
        answered[name] = answer
    _check_answers(rule, answered, report)
    return report


def _check_probe(
    entry: dict[str, Any],
    files: dict[str, bytes],
    size: int,
    root: bytes,
    parse: Callable[[Capture], FilterAnswer],
    report: Report,
) -> tuple[FilterAnswer, list[str]] | None:
    """The probe's leaf is in the signed log, its answer is its bytes, its request searched
    its fragments: the answer its bytes give and the fragments (None when any of that fails)."""
    where = f"probe for {entry.get('question')!r}"
    try:
        leaf = str(entry["leaf"]).encode()
        record = json.loads(leaf)
        index = int(entry["index"])
        proof = [bytes.fromhex(h) for h in entry["inclusion_proof"]]
        body = files[str(entry["response"])]
    except (KeyError, ValueError, TypeError) as exc:
        report.fail(f"{where}: malformed or its response is missing ({exc!r})")
        return None
    if record.get("id") != index + 1 or not verify_inclusion(
        leaf_hash(leaf), index, size, proof, root
    ):
        report.fail(f"{where}: not in the signed log (inclusion proof fails)")
        return None
    if hashlib.sha256(body).hexdigest() != record.get("body_sha256"):
        report.fail(f"{where}: its response does not hash to the logged body")
        return None
    fragments = (record.get("facts") or {}).get("fragments", [])
    query = parse_qs(urlsplit(str(record.get("url"))).query).get("containerid", [""])[0]
    if record.get("kind") != PROBE_KIND or not query.endswith(f"q={SEPARATOR.join(fragments)}"):
        report.fail(f"{where}: the logged request did not search its fragments")
        return None
    headers = tuple((str(k), str(v)) for k, v in record.get("headers") or ())
    request = Request(str(record.get("method") or "GET"), str(record.get("url")))
    capture = Capture(request, record.get("http_status"), headers, body, 0.0, 0.0)
    answer = parse(capture)
    if answer.value != (record.get("facts") or {}).get("answer"):
        report.fail(f"{where}: its bytes say {answer.value}, the log says otherwise")
        return None
    return answer, [str(f) for f in fragments]


def _check_answers(rule: Rule, answered: dict[str, FilterAnswer], report: Report) -> None:
    for question in questions(rule):
        answer = answered.get(question.name)
        if answer is None:
            report.fail(f"no sound probe for {question.name!r}: the rule is not shown exact")
        elif answer.filtered != question.filtered:
            report.fail(f"{question.name}: answered {answer.value}, which the rule contradicts")
    alone = answered.get("the rule alone")
    if alone is FilterAnswer.FILTERED_SOFT and answered.get("control") is not (
        FilterAnswer.NOT_FILTERED
    ):
        report.fail("a soft answer without a control search that shows a plain word unfiltered")
    if report.success:
        report.ok(f"the probes' own bytes make the rule {rule} exact")
