"""Every exception memoryhole raises on purpose, in one tree.

Errors a user can hit carry a message that says what to do next; the CLI prints
``str(error)`` and exits non-zero without a traceback for any ``MemoryholeError``.
"""

from __future__ import annotations


class MemoryholeError(Exception):
    """Base of every error memoryhole raises deliberately."""


class ConfigError(MemoryholeError):
    """A study's configuration is missing or invalid."""


class StudyNotFoundError(ConfigError):
    """The folder given with --study holds no memoryhole study."""


class StudyLockedError(MemoryholeError):
    """Another collector already runs on this study."""


class TargetError(MemoryholeError):
    """A watch target could not be understood."""


class InputFileError(MemoryholeError):
    """A user-supplied file (scenario, policy) is malformed.

    The message names the file and line so the user can fix it.
    """

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


class ScenarioError(InputFileError):
    """A scenario file (JSONL) is malformed."""


class PolicyError(InputFileError):
    """A censor policy file (TOML) is malformed."""


class TransportError(MemoryholeError):
    """A request produced no HTTP response (timeout, reset, refused)."""


class EvidenceError(MemoryholeError):
    """Signed evidence (a checkpoint, a signed note, a key) is malformed or does not verify.

    The message names what failed: the malformed part, the unknown key, the bad signature.
    """


class BlobStoreError(MemoryholeError):
    """The store of raw bodies (an S3-compatible bucket) could not be reached or refused a
    request: the message names the bucket and what to check (the endpoint, the bucket, the
    credentials)."""
