"""Sealed boxes: HPKE (X25519, HKDF-SHA256, AES-256-GCM) to one X25519 public key."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .canonical import canonical_json
from .errors import CryptoError

BOX_FORMAT = 0x03
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_RECOVERY_LABEL = b"divex recovery key v1"


def seal_to(recipient: X25519PublicKey | bytes, plaintext: bytes, context: dict[str, Any]) -> bytes:
    """Encrypts `plaintext` so only the holder of the recipient's private key can open it.

    `context` (canonical JSON, used as the HPKE `info`) must be given again to open.
    Token layout: 0x03 | HPKE ciphertext (encapsulated key, ciphertext, tag). A key of small
    order (RFC 7748 §6.1: the all-zero shared secret) raises CryptoError.
    """
    if isinstance(recipient, bytes):
        if len(recipient) != 32:
            raise CryptoError("an X25519 public key must be 32 raw bytes")
        recipient = X25519PublicKey.from_public_bytes(recipient)
    if not isinstance(recipient, X25519PublicKey):
        raise CryptoError("the recipient must be an X25519 public key")
    info = canonical_json(context)
    try:
        sealed = _SUITE.encrypt(plaintext, recipient, info=info)
    except ValueError:  # OpenSSL refuses the all-zero X25519 shared secret
        raise CryptoError("the recipient's public key is of small order: nothing can be "
                          "sealed to it") from None
    return bytes([BOX_FORMAT]) + sealed


def open_sealed(private: X25519PrivateKey, token: bytes, context: dict[str, Any]) -> bytes:
    """Decrypts a `seal_to` token with the recipient's private key and the same context."""
    if not isinstance(private, X25519PrivateKey):
        raise CryptoError("opening a sealed box needs an X25519 private key")
    if not isinstance(token, bytes) or not token:
        raise CryptoError("sealed box is empty or not bytes")
    if token[0] != BOX_FORMAT:
        raise CryptoError(f"unknown sealed box format {token[0]:#04x}")
    info = canonical_json(context)
    try:
        return _SUITE.decrypt(token[1:], private, info=info)
    except (InvalidTag, ValueError):
        raise CryptoError(
            "sealed box does not open: wrong key, wrong context or damaged box"
        ) from None


def recovery_private_key(secret: bytes) -> X25519PrivateKey:
    """The X25519 key derived (HKDF-SHA256) from a state's 32-byte random recovery secret."""
    if not isinstance(secret, bytes) or len(secret) != 32:
        raise CryptoError("a recovery secret must be 32 bytes")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_RECOVERY_LABEL)
    return X25519PrivateKey.from_private_bytes(derived.derive(secret))
