"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, with Ed25519.

A checkpoint (https://c2sp.org/tlog-checkpoint) is the note text::

    <origin>\\n<tree size, decimal>\\n<base64 RFC 9162 root hash>\\n[<extension line>\\n]...

A signed note (https://c2sp.org/signed-note) is that text, a blank line, then one or more
signature lines ``— <key name> <base64(4-byte key ID ‖ signature)>\\n`` (U+2014 EM DASH).
For Ed25519 (signature type 0x01) the signature covers the note text including its final
newline, and the key ID is ``SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]``. A verifier
key is the string ``<name>+<8 hex digit key ID>+<base64(0x01 ‖ public key)>``, as printed by
Go's ``golang.org/x/mod/sumdb/note``, so notes signed here verify there and vice versa.

Every failure raises :class:`~memoryhole.errors.EvidenceError` with a message naming what
failed. Base64 must be canonical, so no two encodings of a note verify alike.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from memoryhole.errors import EvidenceError

__all__ = [
    "EM_DASH",
    "Checkpoint",
    "SigningKey",
    "VerifierKey",
    "open_note",
    "verify_note",
]

EM_DASH = "\u2014"
SIGNATURE_TYPE_ED25519 = 0x01
ROOT_HASH_SIZE = 32
MAX_SIGNATURES = 100
"""Signature lines accepted in one note (signed-note asks for at least 16; Go allows 100)."""

_SIG_PREFIX = EM_DASH + " "
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


def _excerpt(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _check_text(text: str, what: str) -> None:
    """Signed notes are UTF-8 with no ASCII control characters but newline (signed-note)."""
    for offset, char in enumerate(text):
        if char < " " and char != "\n":
            raise EvidenceError(
                f"{what} contains control character U+{ord(char):04X} at offset {offset}"
            )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise EvidenceError(f"{what} is not valid UTF-8 (offset {error.start})") from None


def _check_key_name(name: str) -> None:
    """Key names are non-empty, without Unicode spaces or '+' (signed-note, Format)."""
    if not name:
        raise EvidenceError("key name is empty")
    bad = next((c for c in name if c.isspace() or c == "+" or c < " "), None)
    if bad is not None:
        raise EvidenceError(
            f"key name {_excerpt(name)} contains {bad!r}; "
            "names may not contain spaces, '+' or control characters"
        )


def _b64decode(text: str, what: str) -> bytes:
    """Standard base64 (RFC 4648 §4), padded and canonical."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:
        raise EvidenceError(f"{what} is not valid base64: {_excerpt(text)}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise EvidenceError(f"{what} is not canonical base64: {_excerpt(text)}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4] (signed-note, Ed25519)."""
    material = name.encode("utf-8") + b"\n" + bytes([SIGNATURE_TYPE_ED25519]) + public_key
    return hashlib.sha256(material).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as a C2SP tlog-checkpoint note text.

    ``root_hash`` is the RFC 9162 §2.1.1 root of the first ``size`` leaves (see
    :mod:`memoryhole.evidence.merkle`); ``extensions`` are opaque extra lines (NOT
    RECOMMENDED by the spec, as monitors cannot audit them).
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise EvidenceError("checkpoint origin must be one non-empty line")
        _check_text(self.origin, "checkpoint origin")
        if not 0 <= self.size < 1 << 64:
            raise EvidenceError(f"checkpoint tree size {self.size} is not a uint64")
        if len(self.root_hash) != ROOT_HASH_SIZE:
            raise EvidenceError(
                f"checkpoint root hash is {len(self.root_hash)} bytes, not {ROOT_HASH_SIZE}"
            )
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, line in enumerate(self.extensions, start=4):
            if not line or "\n" in line:
                raise EvidenceError(
                    f"checkpoint extension (line {number}) must be one non-empty line"
                )
            _check_text(line, f"checkpoint extension (line {number})")

    def body(self) -> str:
        """The note text: origin, size, base64 root hash, extensions, each ending in newline."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (the body, without signatures)."""
        if not text.endswith("\n"):
            raise EvidenceError("malformed checkpoint: text does not end with a newline")
        _check_text(text, "checkpoint")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise EvidenceError(
                f"malformed checkpoint: {len(lines)} line(s), expected origin, size and root hash"
            )
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise EvidenceError("malformed checkpoint: line 1 (origin) is empty")
        if not _DECIMAL.fullmatch(size_text):
            raise EvidenceError(
                f"malformed checkpoint: line 2 (tree size) {_excerpt(size_text)} is not a "
                "decimal number without leading zeros"
            )
        size = int(size_text)
        if size >= 1 << 64:
            raise EvidenceError(f"malformed checkpoint: line 2 (tree size) {size} is not a uint64")
        root_hash = _b64decode(root_text, "malformed checkpoint: line 3 (root hash)")
        if len(root_hash) != ROOT_HASH_SIZE:
            raise EvidenceError(
                f"malformed checkpoint: line 3 (root hash) decodes to {len(root_hash)} bytes, "
                f"not {ROOT_HASH_SIZE}"
            )
        for number, line in enumerate(extensions, start=4):
            if not line:
                raise EvidenceError(f"malformed checkpoint: line {number} (extension) is empty")
        return cls(origin, size, root_hash, tuple(extensions))


@dataclass(frozen=True)
class VerifierKey:
    """An Ed25519 note verifier key: ``<name>+<hex key ID>+<base64(0x01 ‖ public key)>``."""

    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        encoded = _b64encode(bytes([SIGNATURE_TYPE_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, vkey: str) -> VerifierKey:
        """Parse and check a verifier key string; the key ID must match the key."""
        name, _, rest = vkey.partition("+")
        id_hex, _, key_b64 = rest.partition("+")
        if not (name and _KEY_ID_HEX.fullmatch(id_hex) and key_b64):
            raise EvidenceError(
                f"verifier key {_excerpt(vkey)} is malformed: expected "
                "<name>+<8 hex digit key ID>+<base64 key>"
            )
        _check_key_name(name)
        raw = _b64decode(key_b64, f"verifier key {name}: key")
        if not raw or raw[0] != SIGNATURE_TYPE_ED25519:
            kind = f"0x{raw[0]:02x}" if raw else "missing"
            raise EvidenceError(
                f"verifier key {name}: signature type {kind} is not supported (Ed25519 is 0x01)"
            )
        public_key = raw[1:]
        if len(public_key) != 32:
            raise EvidenceError(
                f"verifier key {name}: Ed25519 public key is {len(public_key)} bytes, not 32"
            )
        key_id = bytes.fromhex(id_hex)
        expected = _key_id(name, public_key)
        if key_id != expected:
            raise EvidenceError(
                f"verifier key {name}: key ID {id_hex} does not match the key "
                f"(it hashes to {expected.hex()})"
            )
        return cls(name, key_id, public_key)


class SigningKey:
    """A named Ed25519 key that signs notes (c2sp.org/signed-note, signature type 0x01)."""

    __slots__ = ("_key_id", "_name", "_private", "_public")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_key_name(name)
        self._name = name
        self._private = private_key
        self._public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._key_id = _key_id(name, self._public)

    def __repr__(self) -> str:
        return f"SigningKey({self.verifier_key()!r})"

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        """A fresh random key under ``name`` (for a log, its checkpoint origin)."""
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def name(self) -> str:
        return self._name

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key (RFC 8032 encoding)."""
        return self._public

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID that prefixes each signature."""
        return self._key_id

    def verifier_key(self) -> str:
        """The verifier key string to publish: ``<name>+<key ID hex>+<base64(0x01 ‖ key)>``."""
        return str(VerifierKey(self._name, self._key_id, self._public))

    def sign_note(self, body: str) -> str:
        """``body``, a blank line and this key's signature line (c2sp.org/signed-note)."""
        if not body.endswith("\n"):
            raise EvidenceError("note text to sign must be non-empty and end with a newline")
        _check_text(body, "note text to sign")
        signature = self._private.sign(body.encode("utf-8"))
        return f"{body}\n{_SIG_PREFIX}{self._name} {_b64encode(self._key_id + signature)}\n"

    def sign_checkpoint(self, checkpoint: Checkpoint) -> str:
        """The signed note of ``checkpoint.body()``."""
        return self.sign_note(checkpoint.body())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the private key as unencrypted PKCS #8 PEM, mode 0600, never overwriting.

        The file is created with ``os.open(..., 0o600)`` under a temporary name, synced, then
        hard-linked into place, so ``path`` never exists with wider permissions or partial
        contents, and an existing key is never replaced.
        """
        target = Path(path)
        pem = self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(temporary, flags, 0o600)
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)  # exactly 0600 whatever the umask
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, target)
        except FileExistsError:
            raise EvidenceError(
                f"{target}: a file already exists there; refusing to overwrite a signing key"
            ) from None
        except OSError as error:
            raise EvidenceError(f"{target}: cannot write signing key: {error.strerror}") from None
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_directory(target.parent)

    @classmethod
    def load(cls, path: str | os.PathLike[str], name: str) -> SigningKey:
        """Read a key written by :meth:`save`; refuse files other users can access."""
        source = Path(path)
        try:
            fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as handle:
                mode = os.fstat(handle.fileno()).st_mode & 0o777
                pem = handle.read()
        except OSError as error:
            raise EvidenceError(f"{source}: cannot read signing key: {error.strerror}") from None
        if mode & 0o077:
            raise EvidenceError(
                f"{source}: signing key is accessible to other users (mode {mode:04o}); "
                f"run: chmod 600 {source}"
            )
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise EvidenceError(f"{source}: not an unencrypted PEM private key ({error})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise EvidenceError(f"{source}: holds a {type(key).__name__}, not an Ed25519 key")
        return cls(name, key)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class _Signature:
    name: str
    key_id: bytes
    signature: bytes


def read_checkpoint(note: str | bytes) -> Checkpoint:
    """The checkpoint a signed note states, signatures NOT checked (for the signer's own notes;
    anything received goes through ``verify_note``)."""
    return Checkpoint.parse(_split_note(note)[0])


def _split_note(note: str | bytes) -> tuple[str, list[_Signature]]:
    """Split a signed note at its last blank line and parse the signature lines."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as error:
            raise EvidenceError(f"signed note is not valid UTF-8 (byte {error.start})") from None
    _check_text(note, "signed note")
    if not note.endswith("\n"):
        raise EvidenceError("malformed signed note: it does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise EvidenceError(
            "malformed signed note: no blank line separates the text from the signatures"
        )
    text, block = note[: split + 1], note[split + 2 :]
    lines = block[:-1].split("\n") if block else []
    if not lines:
        raise EvidenceError("malformed signed note: no signature lines after the blank line")
    if len(lines) > MAX_SIGNATURES:
        raise EvidenceError(
            f"malformed signed note: {len(lines)} signature lines, at most {MAX_SIGNATURES}"
        )
    return text, [_parse_signature_line(number, line) for number, line in enumerate(lines, 1)]


def _parse_signature_line(number: int, line: str) -> _Signature:
    where = f"malformed signed note: signature line {number}"
    if not line.startswith(_SIG_PREFIX):
        raise EvidenceError(f"{where} does not start with an em dash (U+2014) and a space")
    name, space, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not space:
        raise EvidenceError(f"{where} is not '— <key name> <base64 signature>'")
    try:
        _check_key_name(name)
    except EvidenceError as error:
        raise EvidenceError(f"{where}: {error}") from None
    raw = _b64decode(encoded, f"{where} ({name})")
    if len(raw) < 5:
        raise EvidenceError(f"{where} ({name}): signature is {len(raw)} bytes, too short")
    return _Signature(name, raw[:4], raw[4:])


def open_note(note: str | bytes, vkey: str | VerifierKey) -> str:
    """Verify a signed note against one trusted key; return the note text.

    Signatures from other keys are ignored (signed-note, Signatures); every signature line
    naming this key and key ID must verify, and at least one must be present.
    """
    key = vkey if isinstance(vkey, VerifierKey) else VerifierKey.parse(vkey)
    text, signatures = _split_note(note)
    mine = [s for s in signatures if s.name == key.name and s.key_id == key.key_id]
    if not mine:
        same_name = sorted({s.key_id.hex() for s in signatures if s.name == key.name})
        if same_name:
            raise EvidenceError(
                f"note is signed by {key.name} with key ID {', '.join(same_name)}, "
                f"not the trusted {key.key_id.hex()}: wrong or rotated key"
            )
        signers = ", ".join(sorted({s.name for s in signatures}))
        raise EvidenceError(f"note is not signed by {key.name} (signed by: {signers})")
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    message = text.encode("utf-8")
    for signature in mine:
        try:
            public.verify(signature.signature, message)
        except InvalidSignature:
            raise EvidenceError(
                f"bad signature by {key.name}+{key.key_id.hex()}: "
                "the note text or the signature has been altered"
            ) from None
    return text


def verify_note(
    note: str | bytes, vkey: str | VerifierKey, *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint note and parse it; optionally require its origin."""
    checkpoint = Checkpoint.parse(open_note(note, vkey))
    if origin is not None and checkpoint.origin != origin:
        raise EvidenceError(
            f"checkpoint is for log {_excerpt(checkpoint.origin)}, not {_excerpt(origin)}"
        )
    return checkpoint
