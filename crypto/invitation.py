"""Invitation codes: a random bearer secret that names one invitation and opens what it carries.

The text an invitee receives is ``dvi_<id>.<secret>``: the invitation's id (a UUID, in clear in
the log) and 256 random bits. The server keeps SHA-256 of the secret (a slow hash would add
nothing to 256 random bits) and, for an invitation into an existing state, the state keyring
sealed (HPKE, `boxes.seal_to`) to an X25519 key derived from the secret with HKDF. Sealing to
a public key, not under a symmetric key, lets a key rotation re-seal a pending invitation's
copy without knowing its secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import CryptoError
from .userkey import UserKey

PREFIX = "dvi_"
_SECRET_SIZE = 32
_LABEL = b"divex invitation key v1:"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class InvitationCode:
    invitation_id: UUID
    secret: bytes = field(repr=False)

    @classmethod
    def generate(cls, invitation_id: UUID) -> InvitationCode:
        return cls(invitation_id, os.urandom(_SECRET_SIZE))

    @classmethod
    def parse(cls, text: str) -> InvitationCode:
        """Reads a code as `str(code)` wrote it (spaces around it ignored); CryptoError on
        anything else."""
        text = (text or "").strip()
        if not text.startswith(PREFIX) or text.count(".") != 1:
            raise CryptoError("not a divex invitation code")
        id_text, secret_text = text[len(PREFIX):].split(".")
        try:
            raw_id, secret = _unb64(id_text), _unb64(secret_text)
        except (ValueError, binascii.Error) as error:
            raise CryptoError("not a divex invitation code") from error
        if len(raw_id) != 16 or len(secret) != _SECRET_SIZE or _b64(raw_id) != id_text:
            raise CryptoError("not a divex invitation code")
        return cls(UUID(bytes=raw_id), secret)

    def __str__(self) -> str:
        return f"{PREFIX}{_b64(self.invitation_id.bytes)}.{_b64(self.secret)}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.secret).hexdigest()

    def matches(self, digest: str) -> bool:
        return hmac.compare_digest(self.digest, digest)

    @property
    def key(self) -> UserKey:
        """The X25519 key a keyring travels sealed to (HKDF-SHA256 of the secret, bound to
        the invitation's id)."""
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=_LABEL + self.invitation_id.bytes).derive(self.secret)
        return UserKey(X25519PrivateKey.from_private_bytes(derived))
