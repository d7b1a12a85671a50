"""Signed checkpoints: known answers from Go's sumdb/note and C2SP, roundtrips, keys, tampering."""

from __future__ import annotations

import base64
import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from memoryhole.errors import EvidenceError, MemoryholeError
from memoryhole.evidence.checkpoint import (
    EM_DASH,
    Checkpoint,
    SigningKey,
    VerifierKey,
    open_note,
    verify_note,
)
from memoryhole.evidence.merkle import EMPTY_ROOT, leaf_hash, root

# golang.org/x/mod/sumdb/note, note_test.go / example_test.go: a private key, its verifier
# key, and the note it signs. Ed25519 is deterministic, so signing must reproduce it exactly.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# The example of c2sp.org/signed-note (an older revision of the spec).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def go_key() -> SigningKey:
    encoded = GO_SKEY.split("+", 4)[4]  # the base64 itself holds a '+'
    raw = base64.b64decode(encoded)
    assert raw[0] == 0x01
    return SigningKey("PeterNeumann", Ed25519PrivateKey.from_private_bytes(raw[1:]))


def test_go_sumdb_note_known_answer() -> None:
    key = go_key()
    assert key.verifier_key() == GO_VKEY
    assert key.key_id.hex() == "c74f20a3"
    assert key.sign_note(GO_TEXT) == GO_NOTE
    assert open_note(GO_NOTE, GO_VKEY) == GO_TEXT
    assert open_note(GO_NOTE.encode(), VerifierKey.parse(GO_VKEY)) == GO_TEXT


def test_c2sp_signed_note_example() -> None:
    assert open_note(C2SP_NOTE, C2SP_VKEY) == "This is an example message.\n"


def test_signature_line_uses_em_dash() -> None:
    assert EM_DASH == "\u2014"
    assert go_key().sign_note(GO_TEXT).splitlines()[-1].startswith("\u2014 PeterNeumann ")


# --- checkpoints --------------------------------------------------------------------------------


def sample_checkpoint(size: int = 3) -> Checkpoint:
    hashes = [leaf_hash(bytes([i])) for i in range(size)]
    return Checkpoint("memoryhole.example/log", size, root(hashes))


def test_checkpoint_body_format() -> None:
    checkpoint = Checkpoint("example.com/log", 20852163, bytes(range(32)), ("ext one",))
    assert checkpoint.body() == (
        "example.com/log\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\n"
    )
    assert Checkpoint.parse(checkpoint.body()) == checkpoint
    empty = Checkpoint("example.com/log", 0, EMPTY_ROOT)
    assert empty.body().splitlines()[1] == "0"
    assert Checkpoint.parse(empty.body()) == empty


def test_sign_and_verify_roundtrip() -> None:
    key = SigningKey.generate("memoryhole.example/log")
    checkpoint = sample_checkpoint()
    note = key.sign_checkpoint(checkpoint)
    assert note.startswith(checkpoint.body() + "\n— memoryhole.example/log ")
    assert verify_note(note, key.verifier_key()) == checkpoint
    assert verify_note(note, key.verifier_key(), origin="memoryhole.example/log") == checkpoint
    with pytest.raises(EvidenceError, match=r"not 'other\.example/log'"):
        verify_note(note, key.verifier_key(), origin="other.example/log")


def test_cosigned_note_ignores_unknown_signers() -> None:
    log, witness = SigningKey.generate("log.example"), SigningKey.generate("witness.example")
    checkpoint = sample_checkpoint()
    note = log.sign_checkpoint(checkpoint)
    cosignature = witness.sign_note(checkpoint.body()).split("\n\n", 1)[1]
    cosigned = note + cosignature
    assert verify_note(cosigned, log.verifier_key()) == checkpoint
    assert verify_note(cosigned, witness.verifier_key()) == checkpoint


def test_wrong_key() -> None:
    note = SigningKey.generate("log.example").sign_checkpoint(sample_checkpoint())
    same_name = SigningKey.generate("log.example")
    with pytest.raises(EvidenceError, match="wrong or rotated key"):
        verify_note(note, same_name.verifier_key())
    other = SigningKey.generate("other.example")
    with pytest.raises(EvidenceError, match=r"not signed by other\.example \(signed by: log"):
        verify_note(note, other.verifier_key())


def test_key_id_collision_still_fails_on_signature() -> None:
    """A line with the trusted name and key ID but another key's signature is rejected."""
    real = SigningKey.generate("log.example")
    forger = SigningKey.generate("log.example")
    body = sample_checkpoint().body()
    blob = base64.b64decode(forger.sign_note(body).splitlines()[-1].split(" ")[2])
    forged_line = f"— log.example {base64.b64encode(real.key_id + blob[4:]).decode()}\n"
    with pytest.raises(EvidenceError, match=r"bad signature by log\.example"):
        verify_note(body + "\n" + forged_line, real.verifier_key())


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("", "does not end with a newline"),
        ("origin\n1\nAAAA\n", "no blank line"),
        ("origin\n1\nAAAA\n\n", "no signature lines"),
        ("a\n\n- name AAAAAAAA\n", "does not start with an em dash"),
        ("a\n\n— name\n", "is not '— <key name> <base64 signature>'"),
        ("a\n\n— name not*base64\n", "is not valid base64"),
        ("a\n\n— name AAAA\n", "too short"),
        ("a\n\n— na+me AAAAAAAA\n", "contains '+'"),
        ("a\tb\n\n— name AAAAAAAA\n", "control character U+0009"),
        (b"a\xff\n\n\xe2\x80\x94 name AAAAAAAA\n", "not valid UTF-8"),
        ("a\n\n— name AAAAAAB=\n", "not canonical base64"),
    ],
)
def test_malformed_notes(note: str | bytes, message: str) -> None:
    with pytest.raises(EvidenceError, match=re.escape(message)):
        open_note(note, GO_VKEY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("origin\n1\n", "2 line(s)"),
        ("\n1\n" + "A" * 43 + "=\n", "line 1 (origin) is empty"),
        ("o\n01\n" + "A" * 43 + "=\n", "line 2 (tree size) '01'"),
        ("o\n-1\n" + "A" * 43 + "=\n", "not a decimal number"),
        ("o\n١\n" + "A" * 43 + "=\n", "not a decimal number"),  # Arabic-Indic digit one
        ("o\n18446744073709551616\n" + "A" * 43 + "=\n", "not a uint64"),
        ("o\n1\nAAAA\n", "decodes to 3 bytes"),
        ("o\n1\n" + "A" * 43 + "\n", "line 3 (root hash) is not valid base64"),
        ("o\n1\n" + "A" * 43 + "=\n\n", "line 4 (extension) is empty"),
        ("o\n1\n" + "A" * 43 + "=", "does not end with a newline"),
    ],
)
def test_malformed_checkpoints(text: str, message: str) -> None:
    with pytest.raises(EvidenceError, match=re.escape(message)):
        Checkpoint.parse(text)


def test_non_canonical_signature_encoding_is_rejected() -> None:
    """Base64 of 68 bytes leaves 2 unused bits; setting them must not yield a valid note."""
    encoded = GO_NOTE.rsplit(" ", 1)[1].rstrip("\n")
    last = encoded[-2]  # the character before the '=' padding
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twin = alphabet[alphabet.index(last) ^ 1]
    assert base64.b64decode(encoded[:-2] + twin + "=") == base64.b64decode(encoded)
    with pytest.raises(EvidenceError, match="not canonical base64"):
        open_note(GO_NOTE.replace(encoded, encoded[:-2] + twin + "="), GO_VKEY)


def test_signed_note_that_is_not_a_checkpoint() -> None:
    with pytest.raises(EvidenceError, match="malformed checkpoint: 2 line"):
        verify_note(GO_NOTE, GO_VKEY)


def test_invalid_checkpoint_fields() -> None:
    with pytest.raises(EvidenceError, match="origin"):
        Checkpoint("", 1, EMPTY_ROOT)
    with pytest.raises(EvidenceError, match="origin"):
        Checkpoint("a\nb", 1, EMPTY_ROOT)
    with pytest.raises(EvidenceError, match="uint64"):
        Checkpoint("a", -1, EMPTY_ROOT)
    with pytest.raises(EvidenceError, match="root hash is 3 bytes"):
        Checkpoint("a", 1, b"abc")
    with pytest.raises(EvidenceError, match="extension"):
        Checkpoint("a", 1, EMPTY_ROOT, ("",))


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("PeterNeumann", "is malformed"),
        ("PeterNeumann+c74f20a+ARpc", "is malformed"),
        ("PeterNeumann+c74f20a3+", "is malformed"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "spaces"),
        ("PeterNeumann+c74f20a3+" + base64.b64encode(b"\x02" + bytes(32)).decode(), "type 0x02"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy", "29 bytes"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX", "does not match"),
        ("PeterNeumann+c74f20a3+AR==", "canonical"),
    ],
)
def test_malformed_verifier_keys(vkey: str, message: str) -> None:
    with pytest.raises(EvidenceError, match=re.escape(message)):
        VerifierKey.parse(vkey)


def test_key_names_and_bodies_are_checked() -> None:
    for name in ["", "a b", "a+b", "a\u3000b", "a\nb"]:
        with pytest.raises(EvidenceError):
            SigningKey.generate(name)
    key = SigningKey.generate("log.example")
    for body in ["", "no newline", "tab\there\n"]:
        with pytest.raises(EvidenceError):
            key.sign_note(body)
    assert issubclass(EvidenceError, MemoryholeError)
    assert "PRIVATE" not in repr(key) and key.verifier_key() in repr(key)


# --- key files ----------------------------------------------------------------------------------


def test_key_file_roundtrip_and_mode(tmp_path: Path) -> None:
    key = SigningKey.generate("log.example")
    path = tmp_path / "log.key"
    old_umask = os.umask(0)  # even a permissive umask must not widen the file
    try:
        key.save(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert [p.name for p in tmp_path.iterdir()] == ["log.key"]  # no temporary left behind
    loaded = SigningKey.load(path, "log.example")
    assert loaded.verifier_key() == key.verifier_key()
    body = sample_checkpoint().body()
    assert verify_note(loaded.sign_note(body), key.verifier_key()).body() == body


def test_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    first = SigningKey.generate("log.example")
    first.save(path)
    with pytest.raises(EvidenceError, match="refusing to overwrite"):
        SigningKey.generate("log.example").save(path)
    assert SigningKey.load(path, "log.example").verifier_key() == first.verifier_key()
    assert len(list(tmp_path.iterdir())) == 1


def test_key_file_problems(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    SigningKey.generate("log.example").save(path)
    path.chmod(0o644)
    with pytest.raises(EvidenceError, match=r"accessible to other users \(mode 0644\)"):
        SigningKey.load(path, "log.example")
    with pytest.raises(EvidenceError, match="cannot read signing key"):
        SigningKey.load(tmp_path / "missing.key", "log.example")
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"not a key")
    garbage.chmod(0o600)
    with pytest.raises(EvidenceError, match="not an unencrypted PEM private key"):
        SigningKey.load(garbage, "log.example")
    with pytest.raises(EvidenceError, match="cannot write signing key"):
        SigningKey.generate("log.example").save(tmp_path / "no" / "such" / "dir.key")


# --- tampering ----------------------------------------------------------------------------------

KEY = SigningKey.generate("memoryhole.example/log")
origins = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x2FFF, exclude_characters="+"),
    min_size=1,
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(
    origin=origins,
    size=st.integers(0, 2**64 - 1),
    root_hash=st.binary(min_size=32, max_size=32),
    extensions=st.lists(origins, max_size=2),
    position=st.integers(0, 2**32),
    mask=st.integers(1, 255),
)
def test_any_flipped_byte_in_a_note_fails(
    origin: str,
    size: int,
    root_hash: bytes,
    extensions: list[str],
    position: int,
    mask: int,
) -> None:
    checkpoint = Checkpoint(origin, size, root_hash, tuple(extensions))
    note = KEY.sign_checkpoint(checkpoint).encode()
    assert verify_note(note, KEY.verifier_key()) == checkpoint
    tampered = bytearray(note)
    tampered[position % len(note)] ^= mask
    with pytest.raises(EvidenceError):
        verify_note(bytes(tampered), KEY.verifier_key())


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, 67), mask=st.integers(1, 255))
def test_any_flipped_byte_in_a_signature_fails(position: int, mask: int) -> None:
    body = sample_checkpoint(5).body()
    note = KEY.sign_note(body)
    line = note.splitlines()[-1]
    blob = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
    assert len(blob) == 68  # 4-byte key ID and a 64-byte Ed25519 signature
    blob[position] ^= mask
    tampered = f"{body}\n— {KEY.name} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(EvidenceError, match=r"bad signature|not the trusted"):
        verify_note(tampered, KEY.verifier_key())
