"""Raw bodies in an S3-compatible bucket (issue 23), on a real S3 server (``scripts/s3``: moto's,
over HTTP on loopback): content-addressed, never rewritten, the hash checked on read, deleted
to the last version, and errors that say what to do."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from memoryhole.cli import app
from memoryhole.config import load_config
from memoryhole.errors import BlobStoreError, ConfigError
from memoryhole.store.blobs import BlobCorruptError, BlobStore, FileBlobStore
from memoryhole.store.s3_blobs import S3BlobStore
from memoryhole.store.schema import authors
from memoryhole.store.writer import Batch, commit_batch
from memoryhole.study import Study


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def keys(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = client(endpoint)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_put_get_exists_delete_round_trip(s3_server: str, s3_bucket: str) -> None:
    store: BlobStore = S3BlobStore(f"s3://{s3_bucket}/study/one", endpoint_url=s3_server)
    body, other = b'{"ok": 1, "text": "\xe4\xbb\x8a\xe5\xa4\xa9"}', b"<html>gone</html>"
    assert not store.exists(sha(body))
    store.put(sha(body), body)
    store.put_many([(sha(other), other), (sha(body), body)])
    name = sha(body)
    assert keys(s3_server, s3_bucket) == {
        f"study/one/{name[:2]}/{name[2:4]}/{name}": body,
        f"study/one/{sha(other)[:2]}/{sha(other)[2:4]}/{sha(other)}": other,
    }
    assert store.get(name) == body and store.get(sha(other)) == other
    assert store.exists(name)
    assert store.delete(name) is True
    assert not store.exists(name)
    assert store.delete(name) is False
    with pytest.raises(FileNotFoundError):
        store.get(name)
    assert list(keys(s3_server, s3_bucket)) == [
        f"study/one/{sha(other)[:2]}/{sha(other)[2:4]}/{sha(other)}"
    ]


def test_many_bodies_in_one_batch_all_arrive(s3_server: str, s3_bucket: str) -> None:
    store = S3BlobStore(f"s3://{s3_bucket}", endpoint_url=s3_server)
    bodies = [f"body {i}".encode() * (i + 1) for i in range(40)]
    store.put_many((sha(b), b) for b in bodies)
    stored = keys(s3_server, s3_bucket)
    assert stored == {f"{sha(b)[:2]}/{sha(b)[2:4]}/{sha(b)}": b for b in bodies}


def test_a_body_altered_in_the_bucket_is_refused(s3_server: str, s3_bucket: str) -> None:
    store = S3BlobStore(f"s3://{s3_bucket}/p", endpoint_url=s3_server)
    body = b"the original answer"
    store.put(sha(body), body)
    client(s3_server).put_object(Bucket=s3_bucket, Key=store.key(sha(body)), Body=b"forged")
    with pytest.raises(BlobCorruptError, match="does not match its hash"):
        store.get(sha(body))


def test_a_body_already_stored_is_not_rewritten(s3_server: str, s3_bucket: str) -> None:
    body = b"stored once"
    S3BlobStore(f"s3://{s3_bucket}/p", endpoint_url=s3_server).put(sha(body), body)
    key = f"p/{sha(body)[:2]}/{sha(body)[2:4]}/{sha(body)}"
    # What the bucket holds under the name is changed behind the store's back: a put of the
    # same body (by a new store, which remembers nothing) must leave it as it is.
    client(s3_server).put_object(Bucket=s3_bucket, Key=key, Body=b"marker")
    fresh = S3BlobStore(f"s3://{s3_bucket}/p", endpoint_url=s3_server)
    fresh.put(sha(body), body)
    fresh.put_many([(sha(body), body), (sha(b"new"), b"new")])
    stored = keys(s3_server, s3_bucket)
    assert stored[key] == b"marker"
    assert stored[f"p/{sha(b'new')[:2]}/{sha(b'new')[2:4]}/{sha(b'new')}"] == b"new"


def test_delete_leaves_no_version_on_a_versioned_bucket(s3_server: str, s3_bucket: str) -> None:
    s3 = client(s3_server)
    s3.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    store = S3BlobStore(f"s3://{s3_bucket}/v", endpoint_url=s3_server)
    body = b"an author's words"
    store.put(sha(body), body)
    s3.put_object(Bucket=s3_bucket, Key=store.key(sha(body)), Body=body)  # a second version
    assert store.delete(sha(body)) is True
    answer = s3.list_object_versions(Bucket=s3_bucket)
    assert answer.get("Versions", []) == [] and answer.get("DeleteMarkers", []) == []


def test_missing_credentials_name_the_variables(
    s3_server: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = S3BlobStore(f"s3://{s3_bucket}", endpoint_url=s3_server)
    with pytest.raises(ConfigError, match="set AWS_SECRET_ACCESS_KEY in the environment"):
        store.exists(sha(b"x"))
    monkeypatch.setenv("MY_KEY", "k")
    monkeypatch.setenv("MY_SECRET", "s")
    named = S3BlobStore(
        f"s3://{s3_bucket}", endpoint_url=s3_server, key_env="MY_KEY", secret_env="MY_SECRET"
    )
    assert named.exists(sha(b"x")) is False


def test_a_missing_bucket_says_to_create_it(s3_server: str, s3_bucket: str) -> None:
    store = S3BlobStore("s3://no-such-bucket-here/p", endpoint_url=s3_server)
    with pytest.raises(BlobStoreError, match=r"no bucket 'no-such-bucket-here'.*create it"):
        store.put(sha(b"x"), b"x")


def test_an_unreachable_server_says_to_start_it(s3_bucket: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = S3BlobStore(f"s3://{s3_bucket}", endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(BlobStoreError, match=r"cannot reach the blob store.*endpoint_url"):
        store.get(sha(b"x"))


def test_init_with_blobs_in_a_bucket(
    s3_server: str, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    missing = runner.invoke(
        app, ["init", str(tmp_path / "bad"), "--blobs", "s3://absent-bucket/x",
              "--blobs-endpoint", s3_server],
    )  # fmt: skip
    # (``memoryhole.cli.main`` prints a MemoryholeError's message and exits 2)
    assert isinstance(missing.exception, BlobStoreError), missing.output
    assert "create it" in str(missing.exception)
    assert not (tmp_path / "bad" / "memoryhole.toml").exists()
    done = runner.invoke(
        app, ["init", str(tmp_path / "s"), "--blobs", f"s3://{s3_bucket}/study",
              "--blobs-endpoint", s3_server],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    config = load_config(tmp_path / "s" / "memoryhole.toml")
    assert (config.blobs.url, config.blobs.endpoint_url) == (f"s3://{s3_bucket}/study", s3_server)
    text = (tmp_path / "s" / "memoryhole.toml").read_text()
    assert "memoryhole-test" not in text  # the credentials stay in the environment
    study = Study.open(tmp_path / "s")
    assert isinstance(study.blobs, S3BlobStore) and not (tmp_path / "s" / "blobs").exists()
    study.blobs.put(sha(b"hello"), b"hello")
    assert f"study/{sha(b'hello')[:2]}/{sha(b'hello')[2:4]}/{sha(b'hello')}" in keys(
        s3_server, s3_bucket
    )
    study.close()
    # A command that reads no body needs neither boto3's client nor the credentials.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    status = runner.invoke(app, ["status", "--study", str(tmp_path / "s")])
    assert status.exit_code == 0, status.output
    reopened = Study.open(tmp_path / "s")
    with pytest.raises(ConfigError, match="set AWS_ACCESS_KEY_ID"):
        reopened.blobs.get(sha(b"hello"))
    reopened.close()


@pytest.mark.parametrize(
    ("blobs", "problem"),
    [
        ('url = "gs://bucket/x"', "give s3://BUCKET/PREFIX or a folder"),
        ('url = "s3://bucket/x"\nsecret_access_key = "abc"', "a secret does not belong"),
        ('key_env = "AKIA1234 secret"', "not an environment variable name"),
        ('endpoint_url = "minio:9000"', "not an endpoint"),
    ],
)
def test_a_bad_blobs_section_is_refused(tmp_path: Path, blobs: str, problem: str) -> None:
    path = tmp_path / "memoryhole.toml"
    path.write_text(f"[blobs]\n{blobs}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_config(path)


def test_a_folder_elsewhere(tmp_path: Path) -> None:
    study = Study.init(tmp_path / "s", blobs_url="../shared-blobs")
    assert isinstance(study.blobs, FileBlobStore)
    study.blobs.put(sha(b"x"), b"x")
    assert (tmp_path / "shared-blobs" / sha(b"x")[:2] / sha(b"x")[2:4] / sha(b"x")).exists()
    study.close()


def test_no_row_is_committed_when_its_body_could_not_be_stored(
    s3_server: str, s3_bucket: str, tmp_path: Path
) -> None:
    study = Study.init(tmp_path / "s", blobs_url=f"s3://{s3_bucket}/p", blobs_endpoint=s3_server)
    row = {"id": 1, "platform": "weibo", "raw_id": "1", "pseudonym": "a_1"}
    gone = S3BlobStore("s3://bucket-deleted-meanwhile/p", endpoint_url=s3_server)
    with pytest.raises(BlobStoreError):
        commit_batch(study.engine, gone, Batch(blobs={sha(b"x"): b"x"}, authors=[row]))
    count = select(func.count()).select_from(authors)
    with study.engine.connect() as connection:
        assert connection.execute(count).scalar() == 0
    commit_batch(study.engine, study.blobs, Batch(blobs={sha(b"x"): b"x"}, authors=[row]))
    with study.engine.connect() as connection:
        assert connection.execute(count).scalar() == 1
    assert study.blobs.get(sha(b"x")) == b"x"
    study.close()
