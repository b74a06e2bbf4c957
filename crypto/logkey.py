"""The log key: the Ed25519 key with which the exchange's operator signs Merkle checkpoints.

It is not a state key: the checkpoint process runs unattended, so its key lives in a file
beside the server (mode 0600), and only its public half is published in the directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .canonical import sha256_hex
from .errors import CryptoError


@dataclass(frozen=True)
class LogKey:
    private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> LogKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> LogKey:
        """Reads the key file, creating it (readable by its owner only) if it is missing."""
        if path.exists():
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (ValueError, TypeError, UnsupportedAlgorithm):  # TypeError: it has a password
                raise CryptoError(f"{path} does not hold an unencrypted PEM private key") from None
            if not isinstance(key, Ed25519PrivateKey):
                raise CryptoError(f"{path} does not hold an Ed25519 key")
            return cls(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        created = cls.generate()
        pem = created.private.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
        return created

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)

    def sign(self, statement: bytes) -> bytes:
        return self.private.sign(statement)


def key_fingerprint(public: bytes) -> str:
    """A short, comparable name of a public key (first 16 hex of its SHA-256)."""
    return sha256_hex(public)[:16]
