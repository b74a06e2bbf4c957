"""A user's own X25519 key: the state keyring is sealed to it, and it is sealed under a password."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .errors import CryptoError


@dataclass(frozen=True)
class UserKey:
    private: X25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> UserKey:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, raw: bytes) -> UserKey:
        """Loads the raw 32-byte private key (only ever read from a sealed blob)."""
        if not isinstance(raw, bytes) or len(raw) != 32:
            raise CryptoError("a user key must be 32 bytes")
        return cls(X25519PrivateKey.from_private_bytes(raw))

    def to_bytes(self) -> bytes:
        return self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
