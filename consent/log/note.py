"""C2SP signed notes, checkpoints and cosignatures, with Ed25519 keys. Pure Python, no Django.

Keys are spelled as Go's golang.org/x/mod/sumdb/note spells them, so its tools read ours:
- signer key:   `PRIVATE+KEY+<name>+<key ID, 8 hex>+<base64(0x01 ‖ 32-byte seed)>`
- verifier key: `<name>+<key ID, 8 hex>+<base64(0x01 ‖ 32-byte public key)>`
with key ID = SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4]. A witness's cosigning key has
type 0x04 instead (C2SP tlog-cosignature).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
MAX_NOTE = 16 * 1024  # far more than a checkpoint with a few dozen cosignatures

_NAME = re.compile(r"[^\s+]+")


class NoteError(ValueError):
    """A key, note, checkpoint or signature is malformed or does not verify."""


def b64decode(text: str, what: str) -> bytes:
    """Decode standard, padded base64 in its one canonical spelling; raise NoteError.

    The decoder ignores the unused bits of a last character: accepting them would let one key,
    signature or hash be spelled several ways.
    """
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        raise NoteError(f"{what} is not base64") from None
    if base64.b64encode(data).decode() != text:
        raise NoteError(f"{what} is not canonical base64")
    return data


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NoteError("a key name is non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    name: str
    key_type: int
    key: Ed25519PublicKey

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.key_type, _public_bytes(self.key))

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([self.key_type]) + _public_bytes(self.key)).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    key_type: int
    key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_type, self.key.public_key())

    def __str__(self) -> str:
        seed = self.key.private_bytes_raw()
        encoded = base64.b64encode(bytes([self.key_type]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def generate_signer(name: str, key_type: int = ED25519) -> Signer:
    return Signer(_check_name(name), key_type, Ed25519PrivateKey.generate())


def _decode_key(name: str, hex_id: str, encoded: str) -> tuple[int, bytes]:
    _check_name(name)
    raw = b64decode(encoded, "a key")
    try:
        bytes.fromhex(hex_id)
    except ValueError as error:
        raise NoteError(f"malformed key ID: {error}") from None
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1) or len(hex_id) != 8:
        raise NoteError("not an Ed25519 key")
    return raw[0], raw[1:]


def parse_verifier(text: str) -> Verifier:
    """Read a verifier key (`name+id+base64`); raise NoteError if it is malformed."""
    # The base64 key may hold "+" itself: split off the name and the ID only, as Go does.
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is name+id+key")
    key_type, public = _decode_key(*parts)
    try:
        verifier = Verifier(parts[0], key_type, Ed25519PublicKey.from_public_bytes(public))
    except ValueError as error:
        raise NoteError(f"not an Ed25519 public key: {error}") from None
    if verifier.id.hex() != parts[1].lower():
        raise NoteError("the key ID does not match the key")
    return verifier


def read_verifier(value: str) -> Verifier:
    """Read a verifier key given as itself or as the path of a file holding it (command lines);
    raise NoteError if it is malformed, OSError or UnicodeDecodeError if the file is unreadable.
    """
    if os.path.isfile(value):
        value = Path(value).read_text(encoding="utf-8")
    return parse_verifier(value)


def parse_signer(text: str) -> Signer:
    """Read a signer key (`PRIVATE+KEY+name+id+base64`); raise NoteError if it is malformed."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a signer key is PRIVATE+KEY+name+id+key")
    key_type, seed = _decode_key(*parts[2:])
    signer = Signer(parts[2], key_type, Ed25519PrivateKey.from_private_bytes(seed))
    if signer.verifier.id.hex() != parts[3].lower():
        raise NoteError("the key ID does not match the key")
    return signer


# Signed notes (c2sp.org/signed-note) ------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    signature: bytes  # what follows the key ID

    def line(self) -> str:
        encoded = base64.b64encode(self.id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def sign_note(text: str, signer: Signer) -> str:
    """Return the signed note of `text` (which ends in a newline), signed by `signer`."""
    _check_text(text)
    signature = Signature(signer.name, signer.verifier.id, signer.sign(text.encode()))
    return f"{text}\n{signature.line()}"


def split_note(note: str) -> tuple[str, list[Signature]]:
    """Return a note's text and its signatures, unverified; raise NoteError if malformed."""
    if len(note.encode()) > MAX_NOTE:
        raise NoteError("the note is too long")
    text, sep, block = note.rpartition("\n\n")
    if not sep or not block.endswith("\n"):
        raise NoteError("a signed note is text, a blank line and signature lines")
    text += "\n"
    _check_text(text)
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        _check_name(name)
        raw = b64decode(encoded, "a signature")
        if len(raw) < 5:
            raise NoteError("a signature is a key ID and a signature")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return text, signatures


def open_note(note: str, verifier: Verifier) -> tuple[str, list[Signature]]:
    """Return the text of a note signed by `verifier`, and its other signatures (unverified)."""
    text, signatures = split_note(note)
    ours = [s for s in signatures if s.name == verifier.name and s.id == verifier.id]
    if not ours or not all(verifier.verify(text.encode(), s.signature) for s in ours):
        raise NoteError(f"the note is not signed by {verifier.name}")
    return text, [s for s in signatures if s not in ours]


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise NoteError("a note's text is non-empty lines, each ending in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note's text holds no control characters")


# Checkpoints (c2sp.org/tlog-checkpoint) ---------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint body (extension lines allowed and ignored); raise NoteError."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint is an origin, a size and a root hash, one to a line")
    origin, size, root = lines[:3]
    if not origin or not re.fullmatch(r"0|[1-9]\d{0,18}", size):
        raise NoteError("a checkpoint's size is a decimal number without leading zeros")
    digest = b64decode(root, "a checkpoint's root hash")
    if len(digest) != 32:
        raise NoteError("a checkpoint's root hash is 32 bytes")
    return Checkpoint(origin, int(size), digest)


def open_checkpoint(note: str, verifier: Verifier) -> tuple[Checkpoint, list[Signature]]:
    """Return a checkpoint signed by the log's key, and the note's other signatures."""
    text, others = open_note(note, verifier)
    checkpoint = parse_checkpoint(text)
    if checkpoint.origin != verifier.name:
        raise NoteError("the checkpoint's origin is not the name of the log's key")
    return checkpoint, others


# Cosignatures (c2sp.org/tlog-cosignature, Ed25519 type) ------------------------------------------


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(body: str, witness: Signer, timestamp: int) -> Signature:
    """Return a witness's cosignature of a checkpoint body at `timestamp` (POSIX seconds)."""
    if witness.key_type != COSIGNATURE_V1:
        raise NoteError("a witness signs with a cosignature (0x04) key")
    signed = struct.pack(">Q", timestamp) + witness.sign(cosigned_message(body, timestamp))
    return Signature(witness.name, witness.verifier.id, signed)


def verify_cosignature(body: str, signature: Signature, witness: Verifier) -> int:
    """Return the time of a witness's valid cosignature of `body`; raise NoteError otherwise."""
    if witness.key_type != COSIGNATURE_V1:
        raise NoteError("a witness key has type 0x04")
    if signature.name != witness.name or signature.id != witness.id:
        raise NoteError("the cosignature is not by this witness")
    if len(signature.signature) != 8 + 64:
        raise NoteError("a cosignature is a timestamp and an Ed25519 signature")
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    if timestamp >= 1 << 63:
        raise NoteError("the cosignature's time is out of range")
    if not witness.verify(cosigned_message(body, timestamp), signature.signature[8:]):
        raise NoteError("the cosignature does not verify")
    return int(timestamp)
