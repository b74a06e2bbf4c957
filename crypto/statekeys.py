"""A state's key pairs (X25519 for receiving case keys, Ed25519 for signing) and keyring."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .canonical import canonical_json, sha256_hex
from .errors import CryptoError

MAX_VERSION = 2**32 - 1  # versions are written as 4-byte unsigned ints
_KEYRING_FORMAT = "divex-keyring-1"


def _check_version(version: Any) -> None:
    if type(version) is not int or not 1 <= version <= MAX_VERSION:
        raise CryptoError("a state key version must be an int in 1..2**32-1")


def _raw_private(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _raw_public(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _hex32(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise CryptoError(f"{what} is not hex") from None
    if len(raw) != 32:
        raise CryptoError(f"{what} must be 32 bytes")
    return raw


@dataclass(frozen=True)
class StatePublicKeys:
    """One version of a state's public keys, as published in the directory."""

    version: int
    encryption: bytes  # raw X25519 public key
    signing: bytes  # raw Ed25519 public key

    def __post_init__(self) -> None:
        _check_version(self.version)
        for name in ("encryption", "signing"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != 32:
                raise CryptoError(f"the {name} public key must be 32 raw bytes")

    @property
    def key_id(self) -> str:
        """8 hex characters naming this version of the state's keys."""
        return sha256_hex(canonical_json(self.to_dict()))[:8]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: the version and both keys as hex."""
        return {
            "version": self.version,
            "encryption": self.encryption.hex(),
            "signing": self.signing.hex(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StatePublicKeys:
        """Reads `to_dict` output; other keys in `d` are ignored."""
        try:
            version, encryption, signing = d["version"], d["encryption"], d["signing"]
        except (KeyError, TypeError):
            raise CryptoError("public keys need version, encryption and signing") from None
        return cls(version, _hex32(encryption, "encryption key"), _hex32(signing, "signing key"))


@dataclass(frozen=True)
class StateKeyPair:
    """One version of a state's private keys."""

    version: int
    encryption: X25519PrivateKey = field(repr=False)
    signing: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        _check_version(self.version)
        if not isinstance(self.encryption, X25519PrivateKey):
            raise CryptoError("the encryption key must be an X25519 private key")
        if not isinstance(self.signing, Ed25519PrivateKey):
            raise CryptoError("the signing key must be an Ed25519 private key")

    @classmethod
    def generate(cls, version: int = 1) -> StateKeyPair:
        """Fresh random key pairs."""
        return cls(version, X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    def public(self) -> StatePublicKeys:
        """The public half, for the directory."""
        return StatePublicKeys(
            self.version, _raw_public(self.encryption), _raw_public(self.signing)
        )

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature over `message`."""
        return self.signing.sign(message)

    def cosigning(self) -> Ed25519PrivateKey:
        """The key the state's witness cosigns checkpoints with: derived (HKDF-SHA256) from
        the signing key, so it is held wherever the keyring is and rotates with it, yet is
        another public key, never confused with the event signatures."""
        seed = HKDF(hashes.SHA256(), 32, salt=None,
                    info=b"divex witness cosignature/v1 key").derive(_raw_private(self.signing))
        return Ed25519PrivateKey.from_private_bytes(seed)


class Keyring:
    """Every version of one state's key pairs; old versions still unwrap old case keys."""

    def __init__(self, pairs: Iterable[StateKeyPair]) -> None:
        self._pairs: dict[int, StateKeyPair] = {}
        for pair in pairs:
            if not isinstance(pair, StateKeyPair):
                raise CryptoError("a keyring holds only StateKeyPair objects")
            if pair.version in self._pairs:
                raise CryptoError(f"key version {pair.version} appears twice in the keyring")
            self._pairs[pair.version] = pair
        if not self._pairs:
            raise CryptoError("a keyring needs at least one key pair")

    def __repr__(self) -> str:
        return f"Keyring(versions={list(self.versions)})"

    @property
    def versions(self) -> tuple[int, ...]:
        """The key versions held, ascending."""
        return tuple(sorted(self._pairs))

    @property
    def current(self) -> StateKeyPair:
        """The highest version: the one to sign with and publish."""
        return self._pairs[max(self._pairs)]

    def get(self, version: int) -> StateKeyPair:
        """The key pair of one version."""
        try:
            return self._pairs[version]
        except (KeyError, TypeError):
            raise CryptoError(f"the keyring has no key version {version}") from None

    def rotated(self) -> Keyring:
        """A new keyring with a freshly generated version current + 1 added."""
        new = StateKeyPair.generate(self.current.version + 1)
        return Keyring([*self._pairs.values(), new])

    def to_bytes(self) -> bytes:
        """Canonical JSON holding the raw private keys in hex.

        These bytes are secret: ONLY ever seal them (boxes.seal_to, passwords); never store
        or log them in clear.
        """
        pairs = [
            {
                "version": pair.version,
                "encryption": _raw_private(pair.encryption).hex(),
                "signing": _raw_private(pair.signing).hex(),
            }
            for pair in (self._pairs[v] for v in self.versions)
        ]
        return canonical_json({"format": _KEYRING_FORMAT, "pairs": pairs})

    @classmethod
    def from_bytes(cls, b: bytes) -> Keyring:
        """Reads `to_bytes` output."""
        try:
            data = json.loads(b.decode("utf-8"))
            if data["format"] != _KEYRING_FORMAT:
                raise CryptoError("unknown keyring format")
            entries = [(p["version"], p["encryption"], p["signing"]) for p in data["pairs"]]
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise CryptoError("malformed keyring") from None
        return cls(
            StateKeyPair(
                version,
                X25519PrivateKey.from_private_bytes(_hex32(enc, "keyring encryption key")),
                Ed25519PrivateKey.from_private_bytes(_hex32(sig, "keyring signing key")),
            )
            for version, enc, sig in entries
        )
