"""Raw bodies in an S3-compatible bucket (AWS S3, MinIO, Ceph, …): ``PREFIX/ab/cd/<sha256>``.

The same contract as the folder (``blobs.BlobStore``): content-addressed, written before the
row that names them (the writer puts, then commits), the hash verified on every read. A put is
conditional (``If-None-Match: *``), so a body already in the bucket is never rewritten; on a
server that does not know that condition, a put asks first (``HEAD``). A takedown's delete
removes every stored version of the body, on a versioned bucket too.

boto3 is imported only when a study's bodies are in a bucket, and the client is made at first
use: commands that read no body (``status``, exports) never reach the bucket. Credentials come
from environment variables only, named by the study's ``[blobs]`` section; they are never
written in the study.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn
from urllib.parse import urlsplit

from memoryhole.errors import BlobStoreError, ConfigError
from memoryhole.store.blobs import BlobCorruptError

THREADS = 16  # a batch's bodies are sent this many at once
_REMEMBERED = 200_000  # names known to be stored, so an unchanged body is not sent again
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_DENIED = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "InvalidClientTokenId",
        "403",
        "Forbidden",
    }
)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")`` (the prefix may be empty)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not _BUCKET.match(parts.netloc) or parts.query or parts.fragment:
        raise ConfigError(
            f"{url!r} is not an S3 location; give s3://BUCKET or s3://BUCKET/PREFIX (the "
            "server itself goes in endpoint_url)"
        )
    return parts.netloc, parts.path.strip("/")


class S3BlobStore:
    """A study's bodies in ``s3://BUCKET/PREFIX`` on AWS or at ``endpoint_url``."""

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        key_env: str = "AWS_ACCESS_KEY_ID",
        secret_env: str = "AWS_SECRET_ACCESS_KEY",
        token_env: str = "AWS_SESSION_TOKEN",
    ) -> None:
        self.url = url.rstrip("/")
        self.bucket, self.prefix = parse_s3_url(url)
        self.endpoint_url = endpoint_url
        self.region = region
        self.key_env, self.secret_env, self.token_env = key_env, secret_env, token_env
        self._lock = threading.Lock()
        self._s3: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._conditional = True  # the server honours If-None-Match on a put
        self._known: dict[str, None] = {}

    def __repr__(self) -> str:
        return f"S3BlobStore({self.where})"

    @property
    def where(self) -> str:
        """The bucket and its server, for messages."""
        return f"{self.url} at {self.endpoint_url or 'AWS S3'}"

    def key(self, sha256: str) -> str:
        name = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def check(self) -> None:
        """Reach the bucket now: raises ``ConfigError`` or ``BlobStoreError`` saying what to do
        when the credentials are missing, the server does not answer or the bucket is not
        there."""
        self._client()

    # -- the BlobStore protocol ------------------------------------------------------------

    def put(self, sha256: str, body: bytes) -> None:
        if sha256 not in self._known:
            self._put(sha256, body)

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        todo = [(sha256, body) for sha256, body in items if sha256 not in self._known]
        if len(todo) <= 1:
            for sha256, body in todo:
                self._put(sha256, body)
            return
        self._client()  # once, before the threads
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="s3-blobs")
            pool = self._pool
        for future in [pool.submit(self._put, sha256, body) for sha256, body in todo]:
            future.result()

    def get(self, sha256: str) -> bytes:
        s3, key = self._client(), self.key(sha256)
        try:
            body: bytes = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(f"blob {sha256} is not in {self.url}") from None
            self._fail(exc, f"reading {key}")
        if hashlib.sha256(body).hexdigest() != sha256:
            raise BlobCorruptError(
                f"blob {sha256} in {self.url} does not match its hash: the store was altered"
            )
        return body

    def exists(self, sha256: str) -> bool:
        return self._head(self._client(), self.key(sha256))

    def delete(self, sha256: str) -> bool:
        """Every stored version of the body (a takedown must leave none behind)."""
        self._known.pop(sha256, None)
        s3, key = self._client(), self.key(sha256)
        versions = self._versions(s3, key)
        if versions is None:  # versions not listable here: the current object only
            there = self._head(s3, key)
            self._call(s3.delete_object, f"deleting {key}", Bucket=self.bucket, Key=key)
            return there
        stored, ids = versions
        if all(version in (None, "null") for version in ids):
            if stored:
                self._call(s3.delete_object, f"deleting {key}", Bucket=self.bucket, Key=key)
        else:
            for version in ids:
                self._call(
                    s3.delete_object,
                    f"deleting {key}",
                    Bucket=self.bucket,
                    Key=key,
                    VersionId=version,
                )
        return stored

    # -- the client and its errors -----------------------------------------------------------

    def _client(self) -> Any:
        if self._s3 is None:
            with self._lock:
                if self._s3 is None:
                    self._s3 = self._connect()
        return self._s3

    def _connect(self) -> Any:
        key, secret = os.environ.get(self.key_env, ""), os.environ.get(self.secret_env, "")
        if not key or not secret:
            missing = " and ".join(
                name
                for name, value in ((self.key_env, key), (self.secret_env, secret))
                if not value
            )
            raise ConfigError(
                f"this study's raw bodies are in {self.where}: set {missing} in the environment "
                "to its access key and secret (key_env and secret_env in [blobs] of "
                "memoryhole.toml name other variables; keys are never written in the study)"
            )
        try:
            import boto3
            from botocore.config import Config
        except ImportError:  # pragma: no cover - boto3 is a dependency
            raise ConfigError(
                f"this study's raw bodies are in {self.where}, which needs boto3: pip install boto3"
            ) from None
        config = Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=THREADS * 2,
            # Path-style keys and no default CRC checksums: what MinIO, Ceph and others take.
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=os.environ.get(self.token_env) or None,
            config=config,
        )
        self._call(client.head_bucket, "opening the bucket", Bucket=self.bucket)
        return client

    def _put(self, sha256: str, body: bytes) -> None:
        s3, key = self._client(), self.key(sha256)
        for attempt in range(3):
            try:
                if self._conditional:
                    s3.put_object(Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*")
                elif not self._head(s3, key):
                    s3.put_object(Bucket=self.bucket, Key=key, Body=body)
                break
            except Exception as exc:
                code = _code(exc)
                if code in ("PreconditionFailed", "412"):
                    break  # already stored: content-addressed, so the same body
                if code in ("ConditionalRequestConflict", "409"):
                    time.sleep(0.1 * (attempt + 1))  # another writer's put of it is under way
                    continue
                if code in ("NotImplemented", "501"):
                    self._conditional = False  # then ask before each put
                    continue
                self._fail(exc, f"writing {key}")
        else:
            raise BlobStoreError(f"{self.where} kept refusing to store {key}; try again")
        if len(self._known) >= _REMEMBERED:
            self._known.clear()
        self._known[sha256] = None

    def _head(self, s3: Any, key: str) -> bool:
        try:
            s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            self._fail(exc, f"looking up {key}")
        return True

    def _versions(self, s3: Any, key: str) -> tuple[bool, list[str | None]] | None:
        """Whether the body is stored, and the ids of its versions and delete markers; None
        where versions cannot be listed (not allowed, not implemented)."""
        try:
            answer = s3.list_object_versions(Bucket=self.bucket, Prefix=key)
        except Exception as exc:
            if _code(exc) in (*_DENIED, "NotImplemented", "501", "MethodNotAllowed", "405"):
                return None
            self._fail(exc, f"listing the versions of {key}")
        versions = [v for v in answer.get("Versions", []) if v.get("Key") == key]
        markers = [m for m in answer.get("DeleteMarkers", []) if m.get("Key") == key]
        stored = any(v.get("IsLatest", True) for v in versions)
        return stored, [v.get("VersionId") for v in [*versions, *markers]]

    def _call(self, method: Callable[..., Any], doing: str, **arguments: Any) -> Any:
        try:
            return method(**arguments)
        except Exception as exc:
            self._fail(exc, doing)

    def _fail(self, exc: Exception, doing: str) -> NoReturn:
        """Raise what a user can act on for a failed request (or ``exc`` itself)."""
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.exceptions import ConnectionError as BotoConnectionError

        code = _code(exc)
        if isinstance(exc, BotoConnectionError):
            raise BlobStoreError(
                f"cannot reach the blob store {self.where} ({exc}) while {doing}: start the "
                "server, or correct endpoint_url in [blobs] of memoryhole.toml"
            ) from None
        if code in ("NoSuchBucket",) or (doing == "opening the bucket" and code == "404"):
            endpoint = f" --endpoint-url {self.endpoint_url}" if self.endpoint_url else ""
            raise BlobStoreError(
                f"there is no bucket {self.bucket!r} at {self.endpoint_url or 'AWS S3'}: "
                f"create it (e.g. `aws s3 mb s3://{self.bucket}{endpoint}`) or correct url in "
                "[blobs] of memoryhole.toml"
            ) from None
        if code in _DENIED:
            raise BlobStoreError(
                f"{self.where} refused the credentials in ${self.key_env} and "
                f"${self.secret_env} ({code}) while {doing}: check them, and that they may "
                "list, read, write and delete in the bucket"
            ) from None
        if isinstance(exc, ClientError | BotoCoreError):
            raise BlobStoreError(f"{self.where} failed while {doing}: {exc}") from None
        raise exc


def _code(exc: Exception) -> str:
    """A botocore ``ClientError``'s error code (``NoSuchKey``, ``404``…), else ``""``."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code or (str(status) if status else "")
