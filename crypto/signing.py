"""Signing events: Ed25519 over the canonical header plus the digest of the sealed body."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonical import canonical_json, sha256_hex
from .chain import chained_hash
from .errors import CryptoError
from .statekeys import StateKeyPair


def signing_bytes(header: dict[str, Any], body: bytes) -> bytes:
    """The bytes a signature covers: canonical JSON of the header and the body's SHA-256."""
    return signing_bytes_of_digest(header, sha256_hex(body))


def signing_bytes_of_digest(header: dict[str, Any], body_sha256: str) -> bytes:
    return canonical_json({"header": header, "body_sha256": body_sha256})


def signing_bytes_of_encoded(header_json: bytes, body_sha256: str) -> bytes:
    """`signing_bytes_of_digest` from the header's canonical JSON, for a verifier that
    encodes each header once (it also hashes it). ``body_sha256`` must be 64 hex digits."""
    _require_hex64(body_sha256)
    return _signing_bytes(header_json, body_sha256)


def _signing_bytes(header_json: bytes, body_sha256: str) -> bytes:
    return b'{"body_sha256":"' + body_sha256.encode() + b'","header":' + header_json + b"}"


def _require_hex64(value: str) -> None:
    if len(value) != 64 or value.strip("0123456789abcdef"):
        raise CryptoError("a body digest must be 64 lowercase hex digits")


def sign_event(keys: StateKeyPair, header: dict[str, Any], body: bytes) -> bytes:
    """The acting state's signature over an event."""
    return keys.sign(signing_bytes(header, body))


def sign_and_hash_event(keys: StateKeyPair, header: dict[str, Any],
                        body: bytes) -> tuple[bytes, str]:
    """`sign_event` and the event's `chain.event_hash`, encoding the header once: an append
    needs both, and the canonical JSON of the header was most of its divex cost."""
    header_json, body_sha256 = canonical_json(header), sha256_hex(body)
    # Both digests are made here, so not checked for hex as a verifier's inputs are.
    signature = keys.sign(_signing_bytes(header_json, body_sha256))
    return signature, chained_hash(header_json, body_sha256, signature.hex())


def verify_event(
    signing_public: bytes, header: dict[str, Any], body: bytes, signature: bytes
) -> None:
    """Raises CryptoError unless `signature` is the signer's over this header and body."""
    verify_event_digest(signing_public, header, sha256_hex(body), signature)


def verify_event_digest(
    signing_public: bytes, header: dict[str, Any], body_sha256: str, signature: bytes
) -> None:
    """`verify_event` from the body's SHA-256 alone (an offline auditor has no bodies)."""
    try:
        verify_signature(signing_public, signing_bytes_of_digest(header, body_sha256), signature)
    except (CryptoError, TypeError):  # TypeError: a header canonical JSON cannot encode
        raise CryptoError("bad signature on event: header, body or signer do not match") from None


@lru_cache(maxsize=1024)
def _public_key(signing_public: bytes) -> Ed25519PublicKey:
    """A verifier's key object, made once per key: a log has a few keys per state."""
    return Ed25519PublicKey.from_public_bytes(signing_public)


def verify_signature(signing_public: bytes, message: bytes, signature: bytes) -> None:
    """Raises CryptoError unless `signature` is an Ed25519 signature of `message`."""
    if not isinstance(signing_public, bytes) or len(signing_public) != 32:
        raise CryptoError("bad signature: the signing public key must be 32 raw bytes")
    try:
        _public_key(signing_public).verify(signature, message)
    except (InvalidSignature, ValueError, TypeError):  # TypeError: a signature not in bytes
        raise CryptoError("bad signature") from None
