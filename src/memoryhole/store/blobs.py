"""Content-addressed storage of raw response bodies: ``blobs/ab/cd/<sha256>``.

A blob is written before the observation that names it is committed, so a crash can leave an
unreferenced blob (harmless) but never an observation without its blob. Reads verify the hash.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from memoryhole.errors import MemoryholeError


class BlobCorruptError(MemoryholeError):
    """A stored blob no longer matches its name."""


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)
        self._known_dirs: set[str] = set()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, body: bytes) -> None:
        # Plain strings and os calls: this runs once per check on the collector's write path.
        folder = f"{self._root}/{sha256[:2]}/{sha256[2:4]}"
        target = f"{folder}/{sha256}"
        if folder not in self._known_dirs:
            os.makedirs(folder, exist_ok=True)
            self._known_dirs.add(folder)
        elif os.path.exists(target):
            return
        temporary = f"{folder}/.{sha256}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(body)
        os.replace(temporary, target)

    def get(self, sha256: str) -> bytes:
        body = self.path(sha256).read_bytes()
        if hashlib.sha256(body).hexdigest() != sha256:
            raise BlobCorruptError(f"blob {sha256} does not match its hash: the store was altered")
        return body

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> bool:
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True
