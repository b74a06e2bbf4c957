"""The per-case data key: seals and opens event bodies with AES-256-GCM."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import CryptoError

SEALED_FORMAT = 0x01
WRAPPED_FORMAT = 0x02  # written by wrapping.py; listed here so token_key_id can read both
_KEY_ID_SIZE = 4
_NONCE_SIZE = 12
_TAG_SIZE = 16
_HEADER_SIZE = 1 + _KEY_ID_SIZE + _NONCE_SIZE
MAX_VERSION = 2**32 - 1  # versions are written as 4-byte unsigned ints


def key_id_of(secret: bytes) -> bytes:
    """The 4-byte id of a case key: a prefix of SHA-256(b"divex-key-id" + secret)."""
    return hashlib.sha256(b"divex-key-id" + secret).digest()[:_KEY_ID_SIZE]


@dataclass(frozen=True)
class CaseKey:
    """A random 256-bit key for one case and key version.

    Token layout: 0x01 | key id (4) | nonce (12) | AES-GCM ciphertext and tag.
    """

    version: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if type(self.version) is not int or not 0 <= self.version <= MAX_VERSION:
            raise CryptoError("a case key version must be an int in 0..2**32-1")
        if not isinstance(self.secret, bytes) or len(self.secret) != 32:
            raise CryptoError("a case key secret must be 32 bytes")

    @classmethod
    def generate(cls, version: int = 1) -> CaseKey:
        """A fresh random case key."""
        return cls(version, AESGCM.generate_key(bit_length=256))

    @cached_property
    def key_id(self) -> str:
        """8 hex characters that name this key without revealing it."""
        return key_id_of(self.secret).hex()

    @cached_property
    def _aead(self) -> AESGCM:
        """One AES-GCM object per key: a long case opens a thousand bodies with it."""
        return AESGCM(self.secret)

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Encrypts `plaintext`, bound to `associated_data`, under a fresh random nonce."""
        nonce = os.urandom(_NONCE_SIZE)
        header = bytes([SEALED_FORMAT]) + key_id_of(self.secret) + nonce
        return header + self._aead.encrypt(nonce, plaintext, associated_data)

    def open(self, token: bytes, associated_data: bytes) -> bytes:
        """Decrypts a token made by `seal` with the same associated data."""
        if not isinstance(token, bytes):
            raise CryptoError("a sealed token must be bytes")
        if len(token) < _HEADER_SIZE + _TAG_SIZE:
            raise CryptoError("sealed token is truncated")
        if token[0] != SEALED_FORMAT:
            raise CryptoError(f"unknown sealed token format {token[0]:#04x}")
        if token_key_id(token) != self.key_id:
            raise CryptoError(f"sealed under key {token_key_id(token)}, not {self.key_id}")
        nonce = token[1 + _KEY_ID_SIZE : _HEADER_SIZE]
        try:
            return self._aead.decrypt(nonce, token[_HEADER_SIZE:], associated_data)
        except InvalidTag:
            raise CryptoError(
                "sealed token does not open: wrong associated data or damaged token"
            ) from None


def token_key_id(token: bytes) -> str:
    """The key id (8 hex) a sealed token or wrapped case key was made with."""
    if not isinstance(token, bytes):
        raise CryptoError("a token must be bytes")
    if len(token) < 1 + _KEY_ID_SIZE:
        raise CryptoError("token is too short to carry a key id")
    if token[0] not in (SEALED_FORMAT, WRAPPED_FORMAT):
        raise CryptoError(f"unknown token format {token[0]:#04x}")
    return token[1 : 1 + _KEY_ID_SIZE].hex()
