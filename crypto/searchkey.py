"""A state's search key: blind-index tokens of normalised terms, per state and key version.

The key is derived (HKDF-SHA256) from the state's X25519 private key of one version, so only
a holder of the state's keyring computes tokens, and a rotation of the state's keys gives a
new search key. A token is HMAC-SHA256 of the term under that key, cut to 128 bits: equal
terms give equal tokens within one state and key version, and nothing else can be told.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .statekeys import Keyring, _raw_private

TOKEN_SIZE = 16  # bytes: 128 bits
_LABEL = b"divex search key v1"


@dataclass(frozen=True)
class SearchKey:
    """The search key of one state at one key version; `token` is its one verb."""

    state: str
    version: int
    secret: bytes = field(repr=False)

    @classmethod
    def of(cls, keyring: Keyring, state: str, version: int | None = None) -> SearchKey:
        """The key of ``state`` for ``version`` of its keyring (the current one if None);
        raises CryptoError for a version the keyring does not hold."""
        pair = keyring.current if version is None else keyring.get(version)
        info = b"|".join((_LABEL, state.encode(), str(pair.version).encode()))
        secret = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                      info=info).derive(_raw_private(pair.encryption))
        return cls(state, pair.version, secret)

    def token(self, term: str) -> bytes:
        """The 128-bit blind token of a normalised term."""
        mac = hmac.HMAC(self.secret, hashes.SHA256())
        mac.update(term.encode())
        return mac.finalize()[:TOKEN_SIZE]
