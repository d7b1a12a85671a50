"""Content-addressed storage of raw response bodies, named by their SHA-256.

``BlobStore`` is what every reader and writer is given; ``FileBlobStore`` keeps the bodies in a
folder (``blobs/ab/cd/<sha256>``, the default), ``S3BlobStore`` (``s3_blobs.py``) in an
S3-compatible bucket. A blob is written before the observation that names it is committed, so a
crash can leave an unreferenced blob (harmless) but never an observation without its blob.
Reads verify the hash.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from memoryhole.errors import MemoryholeError


class BlobCorruptError(MemoryholeError):
    """A stored blob no longer matches its name."""


class BlobStore(Protocol):
    """Raw bodies by their SHA-256 (lowercase hex), shared by every worker of a study.

    ``put`` is idempotent: a body already stored is not written again. ``get`` raises
    ``FileNotFoundError`` for a body not stored (taken down, never kept) and
    ``BlobCorruptError`` for one that no longer matches its name. ``delete`` says whether the
    body was there. A store that cannot be reached raises ``memoryhole.errors.BlobStoreError``.
    """

    def put(self, sha256: str, body: bytes) -> None: ...

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Several bodies (a batch's), in any order; all are stored when it returns."""
        ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> bool: ...


#: How many names a ``FileBlobStore`` remembers having stored (then it starts over: only a
#: saved look-up, never a different answer).
REMEMBERED = 200_000

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


class FileBlobStore:
    """Bodies in a folder: ``ROOT/ab/cd/<sha256>``, each written to a temporary file first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)
        self._known_dirs: set[str] = set()
        #: Names this store wrote or found there (a body checked again is the same body).
        self._stored: set[str] = set()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, body: bytes) -> None:
        # Plain strings and os calls: this runs once per check on the collector's write path.
        stored = self._stored
        if sha256 in stored:
            return
        folder = f"{self._root}/{sha256[:2]}/{sha256[2:4]}"
        target = f"{folder}/{sha256}"
        if folder not in self._known_dirs:
            self._make_folder(folder)
        elif os.path.exists(target):
            self._remember(sha256)
            return
        temporary = f"{folder}/.{sha256}.{os.getpid()}.tmp"
        handle = os.open(temporary, _CREATE, 0o666)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(handle, view) :]
        finally:
            os.close(handle)
        os.replace(temporary, target)
        self._remember(sha256)

    def _make_folder(self, folder: str) -> None:
        try:
            os.mkdir(folder)  # one call where its parent is there (the usual case)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        self._known_dirs.add(folder)

    def _remember(self, sha256: str) -> None:
        if len(self._stored) >= REMEMBERED:
            self._stored.clear()
        self._stored.add(sha256)

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        for sha256, body in items:
            self.put(sha256, body)

    def get(self, sha256: str) -> bytes:
        body = self.path(sha256).read_bytes()
        if hashlib.sha256(body).hexdigest() != sha256:
            raise BlobCorruptError(f"blob {sha256} does not match its hash: the store was altered")
        return body

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> bool:
        self._stored.discard(sha256)
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True
