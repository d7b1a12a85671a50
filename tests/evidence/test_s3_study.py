"""A study whose raw bodies are in an S3-compatible bucket (issue 23), on a real S3 server
(``scripts/s3``): a collection writes every body there, ``verify`` passes and finds a body
altered in the bucket, a post's bundle exports and verifies, and ``takedown`` deletes the
author's bodies from the bucket."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import boto3
from sqlalchemy import select
from typer.testing import CliRunner

from benchmarks.takedown_scan import T0, VICTIM, finder, scenario
from memoryhole.cli import app
from memoryhole.evidence.bundle import build_bundle
from memoryhole.evidence.verify import verify_bundle, verify_study
from memoryhole.sim.replay import replay
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.s3_blobs import S3BlobStore
from memoryhole.store.schema import observations, redactions
from memoryhole.study import Study


def bucket_bodies(endpoint: str, bucket: str, prefix: str) -> dict[str, bytes]:
    """Every object under ``prefix``, by name (the last part of its key)."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            out[key.rsplit("/", 1)[1]] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return out


def test_a_study_with_its_bodies_in_a_bucket(
    s3_server: str, s3_bucket: str, tmp_path: Path
) -> None:
    study = Study.init(
        tmp_path / "study", blobs_url=f"s3://{s3_bucket}/mystudy", blobs_endpoint=s3_server
    )
    assert isinstance(study.blobs, S3BlobStore)
    replay(study, scenario(posts=24), until=T0 + 4 * 3600.0)

    # Every body a row names is in the bucket, under its hash, and none is in the folder.
    with study.engine.connect() as connection:
        named = set(connection.execute(select(observations.c.body_sha256)).scalars())
    stored = bucket_bodies(s3_server, s3_bucket, "mystudy/")
    assert len(named) > 20 and named <= set(stored)
    assert all(hashlib.sha256(body).hexdigest() == name for name, body in stored.items())
    assert not (tmp_path / "study" / "blobs").exists()
    report = verify_study(study)
    assert report.success, report.failures

    # A censored post's evidence bundle, its raw responses read from the bucket.
    censored = next(
        str(v["post_id"]) for v in iter_verdicts(study.engine) if v["verdict"] == "censored"
    )
    manifest = build_bundle(study, censored, tmp_path / "post.zip")
    assert manifest["post"]
    bundle = verify_bundle(tmp_path / "post.zip", study.verifier_key())
    assert bundle.success, bundle.failures

    # The takedown command deletes the author's bodies from the bucket; the log still verifies.
    pattern = finder(study.pseudonym("weibo", VICTIM))
    holding = {name for name, body in stored.items() if pattern.search(body)}
    assert holding
    study.close()
    done = CliRunner().invoke(
        app, ["takedown", "--author", VICTIM, "--study", str(tmp_path / "study")]
    )
    assert done.exit_code == 0, done.output
    left = bucket_bodies(s3_server, s3_bucket, "mystudy/")
    assert not holding & set(left)
    assert [name for name, body in left.items() if pattern.search(body)] == []
    study = Study.open(tmp_path / "study")
    with study.engine.connect() as connection:
        redacted = set(connection.execute(select(redactions.c.body_sha256)).scalars())
    assert holding <= redacted
    report = verify_study(study)
    assert report.success, report.failures

    # A body altered in the bucket is found and named.
    name = next(iter(set(left) & named))
    s3: Any = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    assert isinstance(study.blobs, S3BlobStore)
    s3.put_object(Bucket=s3_bucket, Key=study.blobs.key(name), Body=b"forged")
    report = verify_study(study)
    assert not report.success and any(name in failure for failure in report.failures)
    study.close()
