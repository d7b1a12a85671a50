"""Evidence bundles: complete, standalone-verifiable, and any change to them is caught."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memoryhole.evidence.bundle import build_bundle, canonical_zip, read_members
from memoryhole.evidence.verify import verify_bundle, verify_bundle_bytes
from memoryhole.store.queries import iter_verdicts
from memoryhole.study import Study
from tests.evidence.conftest import censored_post


def make_bundle(study_path: Path, tmp_path: Path) -> tuple[Path, dict[str, object], str]:
    study = Study.open(study_path)
    post_id = censored_post(study)
    out = tmp_path / "bundle.zip"
    manifest = build_bundle(study, post_id, out)
    study.close()
    return out, manifest, post_id


def rezip(members: list[tuple[str, bytes]], name: str, data: bytes) -> bytes:
    return canonical_zip([(n, data if n == name else d) for n, d in members])


def test_bundle_holds_everything_and_verifies(study_path: Path, tmp_path: Path) -> None:
    out, manifest, post_id = make_bundle(study_path, tmp_path)
    names = [name for name, _ in read_members(out.read_bytes())]
    assert names[:5] == [
        "README.txt",
        "manifest.json",
        "checkpoint.txt",
        "key.pub",
        "captures.warc.gz",
    ]
    study = Study.open(study_path)
    row = next(v for v in iter_verdicts(study.engine) if v["post_id"] == post_id)
    verdict = manifest["verdict"]
    assert isinstance(verdict, dict)
    for field in ("last_seen_alive_at", "first_seen_removed_at"):
        assert verdict[field] == row[field]
    assert verdict["verdict"] == "censored"
    observations = manifest["observations"]
    assert isinstance(observations, list)
    checks = [
        json.loads(o["leaf"]) for o in observations if json.loads(o["leaf"])["kind"] == "check"
    ]
    assert len(checks) == row["checks"]
    assert any(c["status"] == "censored" for c in checks)
    report = verify_bundle(out, study.verifier_key())
    assert report.success, report.failures
    study.close()


def test_a_different_key_is_refused(study_path: Path, tmp_path: Path) -> None:
    out, _, _ = make_bundle(study_path, tmp_path)
    other = Study.init(tmp_path / "other")
    report = verify_bundle(out, other.verifier_key())
    assert not report.success
    assert any("--key" in failure for failure in report.failures)


def test_edited_verdict_is_caught(study_path: Path, tmp_path: Path) -> None:
    out, manifest, _ = make_bundle(study_path, tmp_path)
    members = read_members(out.read_bytes())
    verdict = manifest["verdict"]
    assert isinstance(verdict, dict)
    verdict["first_seen_removed_at"] = float(verdict["first_seen_removed_at"]) - 600.0
    data = rezip(members, "manifest.json", json.dumps(manifest).encode())
    report = verify_bundle_bytes(data, out)
    assert any("first_seen_removed_at" in f for f in report.failures), report.failures


def test_swapped_response_is_caught(study_path: Path, tmp_path: Path) -> None:
    out, _, _ = make_bundle(study_path, tmp_path)
    members = read_members(out.read_bytes())
    name = next(n for n, _ in members if n.startswith("responses/"))
    data = rezip(members, name, b'{"ok":1,"data":{"text":"forged"}}')
    report = verify_bundle_bytes(data, out)
    assert any(name in f and "hash" in f for f in report.failures), report.failures


def test_dropped_observation_is_caught(study_path: Path, tmp_path: Path) -> None:
    out, manifest, _ = make_bundle(study_path, tmp_path)
    observations = manifest["observations"]
    assert isinstance(observations, list)
    del observations[2]  # an early live check: the verdict would still follow without it
    members = read_members(out.read_bytes())
    data = rezip(members, "manifest.json", json.dumps(manifest).encode())
    report = verify_bundle_bytes(data, out)
    assert any("does not hold every observation" in f for f in report.failures), report.failures


def test_container_metadata_change_is_caught(study_path: Path, tmp_path: Path) -> None:
    out, _, _ = make_bundle(study_path, tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            info.date_time = (2030, 1, 1, 0, 0, 0)  # same contents, different timestamps
            target.writestr(info, source.read(info))
    report = verify_bundle_bytes(buffer.getvalue(), out)
    assert any("container" in f for f in report.failures)


@settings(
    max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_single_byte_flip_fails_verification(
    study_path: Path, tmp_path: Path, data: st.DataObject
) -> None:
    bundle = tmp_path / "flip.zip"
    if not bundle.exists():
        make_bundle(study_path, tmp_path)
        (tmp_path / "bundle.zip").rename(bundle)
    original = bundle.read_bytes()
    position = data.draw(st.integers(0, len(original) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(original)
    tampered[position] ^= flip
    report = verify_bundle_bytes(bytes(tampered), bundle)
    assert not report.success, f"byte {position} ^ {flip} went unnoticed"


def test_bundle_verifies_from_the_file_alone(study_path: Path, tmp_path: Path) -> None:
    out, _, _ = make_bundle(study_path, tmp_path)
    elsewhere = tmp_path / "elsewhere" / "copy.zip"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(out.read_bytes())
    # No study anywhere near it: only the file.
    assert verify_bundle(elsewhere).success
    digest = hashlib.sha256(elsewhere.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(out.read_bytes()).hexdigest()
