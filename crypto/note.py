"""Signed notes (c2sp.org/signed-note): a text and signature lines, keys named by vkeys.

Two signature types are spoken: Ed25519 over the text (0x01, the log's key on its
checkpoints) and timestamped Ed25519 cosignatures (0x04, c2sp.org/tlog-cosignature, the
witnesses'). Verifiers ignore signatures of unknown keys and reject a note that a known key
signed wrongly, as the spec asks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import CryptoError

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
EM_DASH = "\u2014"
# The spec asks verifiers to accept at least 16 signatures; a note of divex carries the log's
# and one per witness, so 256 leaves room for every State Party and external witness.
MAX_SIGNATURES = 256
MAX_NOTE_BYTES = 64 * 1024
MAX_TIMESTAMP = 2**63 - 1


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    """Standard base64 (RFC 4648 §4), padding included; anything else is refused."""
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CryptoError(f"{what} is not standard base64") from None


def check_key_name(name: str) -> str:
    """A key name: not empty, no Unicode space, no '+', no control character."""
    if not isinstance(name, str) or not name or "+" in name or any(
            c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in name):
        raise CryptoError("a key name must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, signature_type: int, public: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4], the spec's key ID."""
    check_key_name(name)
    return hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public).digest()[:4]


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key's name, its 4-byte ID and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    """A note's text (ending in a newline) and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...] = ()

    def signed(self, *more: NoteSignature) -> Note:
        """The note with more signature lines after its own."""
        return Note(self.text, self.signatures + tuple(more))

    def to_text(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def to_bytes(self) -> bytes:
        return self.to_text().encode()


def parse_note(data: bytes | str) -> Note:
    """The note in ``data``; `CryptoError` if it is not a well-formed signed note."""
    raw = data.encode() if isinstance(data, str) else data
    if not isinstance(raw, bytes) or len(raw) > MAX_NOTE_BYTES:
        raise CryptoError(f"a signed note is at most {MAX_NOTE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CryptoError("a signed note must be UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in text) or "\x7f" in text:
        raise CryptoError("a signed note holds no control character but newlines")
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise CryptoError("a signed note is a text, a blank line and signature lines")
    lines = text[split + 2:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CryptoError(f"a signed note carries at most {MAX_SIGNATURES} signatures")
    return Note(text[:split + 1], tuple(_signature(line) for line in lines))


def _signature(line: str) -> NoteSignature:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != EM_DASH:
        raise CryptoError("a signature line is '\u2014 <key name> <base64 signature>'")
    blob = unb64(parts[2], "a signature")
    if len(blob) < 5:
        raise CryptoError("a signature holds a 4-byte key ID and the signature")
    return NoteSignature(check_key_name(parts[1]), blob[:4], blob[4:])


class Verifier(Protocol):
    """A known key: its name, its ID, and the check of one signature over a note's text."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True)
class Ed25519Verifier:
    """A plain Ed25519 note key (type 0x01): the log's key on its checkpoints."""

    name: str
    public: bytes
    type = ED25519

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.type, self.public)

    def verify(self, text: bytes, signature: bytes) -> bool:
        return _ed25519_holds(self.public, text, signature)

    def vkey(self) -> str:
        return format_vkey(self.name, self.type, self.public)


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's timestamped Ed25519 key (type 0x04, cosignature/v1)."""

    name: str
    public: bytes
    type = COSIGNATURE_V1

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.type, self.public)

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        (timestamp,) = struct.unpack(">Q", signature[:8])
        if timestamp > MAX_TIMESTAMP:
            return False
        return _ed25519_holds(self.public, cosigned_message(timestamp, text), signature[8:])

    def vkey(self) -> str:
        return format_vkey(self.name, self.type, self.public)


def _ed25519_holds(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def cosigned_message(timestamp: int, checkpoint_text: bytes) -> bytes:
    """What a cosignature/v1 signs: the header line, the time line and the checkpoint text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + checkpoint_text


def cosignature_time(signature: NoteSignature) -> int:
    """The POSIX time a cosignature/v1 states (its first 8 bytes, big-endian)."""
    if len(signature.signature) != 72:
        raise CryptoError("a cosignature/v1 is an 8-byte time and a 64-byte signature")
    return int(struct.unpack(">Q", signature.signature[:8])[0])


@dataclass(frozen=True)
class NoteSigner:
    """A private Ed25519 key under a name, signing notes as a log (0x01) or as a witness
    (0x04, with the time of signing)."""

    name: str
    private: Ed25519PrivateKey = field(repr=False)
    type: int = ED25519

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.type not in (ED25519, COSIGNATURE_V1):
            raise CryptoError("a note signer is Ed25519 (0x01) or cosignature/v1 (0x04)")

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes_raw()

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.type, self.public)

    def verifier(self) -> Ed25519Verifier | CosignatureVerifier:
        kind = Ed25519Verifier if self.type == ED25519 else CosignatureVerifier
        return kind(self.name, self.public)

    def sign(self, text: str, timestamp: int | None = None) -> NoteSignature:
        """The signature line over a note's text (a cosignature needs ``timestamp``)."""
        message = text.encode()
        if self.type == ED25519:
            return NoteSignature(self.name, self.key_id, self.private.sign(message))
        if timestamp is None or not 0 <= timestamp <= MAX_TIMESTAMP:
            raise CryptoError("a cosignature needs a POSIX time below 2**63")
        signed = self.private.sign(cosigned_message(timestamp, message))
        return NoteSignature(self.name, self.key_id, struct.pack(">Q", timestamp) + signed)


def format_vkey(name: str, signature_type: int, public: bytes) -> str:
    """``<name>+<hex key ID>+<base64(type || public key)>``."""
    return f"{name}+{key_id(name, signature_type, public).hex()}+" \
           f"{b64(bytes([signature_type]) + public)}"


def parse_vkey(text: str) -> Ed25519Verifier | CosignatureVerifier:
    """The verifier a vkey names (Ed25519 or cosignature/v1); its key ID must be the one
    the spec derives from the name and key."""
    parts = (text or "").strip().split("+", 2)  # base64 may hold "+" too
    if len(parts) != 3 or len(parts[1]) != 8:
        raise CryptoError("a verifier key is '<name>+<8 hex key ID>+<base64 key>'")
    name, hex_id, blob = parts
    material = unb64(blob, "a verifier key")
    if len(material) != 33 or material[0] not in (ED25519, COSIGNATURE_V1):
        raise CryptoError("a verifier key must hold an Ed25519 (0x01) or cosignature/v1 "
                          "(0x04) public key")
    kind = Ed25519Verifier if material[0] == ED25519 else CosignatureVerifier
    verifier = kind(check_key_name(name), material[1:])
    if verifier.key_id.hex() != hex_id.lower():
        raise CryptoError("the verifier key's ID does not match its name and key")
    return verifier


@dataclass(frozen=True)
class VerifiedNote:
    """A note and the signatures of known keys that verified on it."""

    note: Note
    verified: tuple[tuple[Verifier, NoteSignature], ...]

    def by(self, verifier: Verifier) -> NoteSignature | None:
        return next((s for v, s in self.verified if v is verifier), None)


def open_note(note: Note | bytes | str, verifiers: Iterable[Verifier]) -> VerifiedNote:
    """Checks every signature of a known key (same name and key ID); unknown ones are
    ignored. `CryptoError` if a known key's signature fails or no known key signed."""
    found = note if isinstance(note, Note) else parse_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    text = found.text.encode()
    verified = []
    for signature in found.signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(text, signature.signature):
            raise CryptoError(f"the signature of {signature.name} on the note is wrong")
        verified.append((verifier, signature))
    if not verified:
        raise CryptoError("no known key signed the note")
    return VerifiedNote(found, tuple(verified))
