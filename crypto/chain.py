"""The hash chain linking the events of one aggregate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .canonical import canonical_json, sha256_hex
from .errors import CryptoError

GENESIS_HASH = "0" * 64


def event_hash(header: dict[str, Any], body: bytes, signature: bytes) -> str:
    """The hash the next event names as its predecessor (64 hex)."""
    return event_hash_of_digest(header, sha256_hex(body), signature)


def event_hash_of_digest(header: dict[str, Any], body_sha256: str, signature: bytes) -> str:
    """`event_hash` from the body's SHA-256 alone: what an auditor without the body computes."""
    return sha256_hex(
        canonical_json({"header": header, "body_sha256": body_sha256, "signature": signature.hex()})
    )


def event_hash_of_encoded(header_json: bytes, body_sha256: str, signature_hex: str) -> str:
    """`event_hash_of_digest` from the header's canonical JSON (see
    `signing.signing_bytes_of_encoded`); the digest and signature must be lowercase hex."""
    for value in (body_sha256, signature_hex):
        if value.strip("0123456789abcdef"):
            raise CryptoError("digests and signatures must be lowercase hex")
    return chained_hash(header_json, body_sha256, signature_hex)


def chained_hash(header_json: bytes, body_sha256: str, signature_hex: str) -> str:
    """`event_hash_of_encoded` of digests the caller made itself (not checked for hex)."""
    return sha256_hex(b'{"body_sha256":"' + body_sha256.encode() + b'","header":' + header_json
                      + b',"signature":"' + signature_hex.encode() + b'"}')


def verify_chain(
    events: Iterable[tuple[dict[str, Any], bytes, bytes]], prev_key: str = "prev_hash"
) -> str:
    """Checks each event names the hash of the one before; returns the head hash.

    Signatures are not checked here (see signing.verify_event); an empty chain has head
    GENESIS_HASH.
    """
    expected = GENESIS_HASH
    for index, (header, body, signature) in enumerate(events):
        if not isinstance(header, dict) or header.get(prev_key) != expected:
            raise CryptoError(
                f"hash chain broken at event {index}: its {prev_key} does not match "
                f"the hash of the previous event"
            )
        try:
            expected = event_hash(header, body, signature)
        except (TypeError, AttributeError):  # a header or signature of the wrong shape
            raise CryptoError(f"event {index} cannot be hashed: malformed header, body "
                              "or signature") from None
    return expected
