"""API tokens: a random bearer secret that seals a copy of its user's own key.

The text a client holds is ``dvx_<id>.<secret>``. The server keeps the id, SHA-256 of the secret
(the secret is 256 random bits, so a slow password hash would add nothing) and the user's key
sealed with AES-256-GCM under a key derived from the secret with HKDF. A stolen database
therefore holds no usable token and opens no key; only the bearer of the text does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .casekey import CaseKey
from .errors import CryptoError

PREFIX = "dvx_"
_ID_SIZE = 12
_SECRET_SIZE = 32


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ApiToken:
    token_id: str
    secret: bytes = field(repr=False)

    @classmethod
    def generate(cls) -> ApiToken:
        return cls(_b64(os.urandom(_ID_SIZE)), os.urandom(_SECRET_SIZE))

    @classmethod
    def parse(cls, text: str) -> ApiToken:
        """Reads a token as `str(token)` wrote it; raises CryptoError on anything else."""
        if not isinstance(text, str) or not text.startswith(PREFIX) or text.count(".") != 1:
            raise CryptoError("not a divex API token")
        token_id, secret_text = text[len(PREFIX):].split(".")
        try:
            raw_id, secret = _unb64(token_id), _unb64(secret_text)
        except (ValueError, binascii.Error) as error:
            raise CryptoError("not a divex API token") from error
        if len(raw_id) != _ID_SIZE or len(secret) != _SECRET_SIZE or _b64(raw_id) != token_id:
            raise CryptoError("not a divex API token")
        return cls(token_id, secret)

    def __str__(self) -> str:
        return f"{PREFIX}{self.token_id}.{_b64(self.secret)}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.secret).hexdigest()

    def matches(self, digest: str) -> bool:
        return hmac.compare_digest(self.digest, digest)

    def seal(self, data: bytes) -> bytes:
        return self._box().seal(data, self.token_id.encode())

    def open(self, sealed: bytes) -> bytes:
        """Opens what `seal` sealed; raises CryptoError for another token or a changed byte."""
        return self._box().open(sealed, self.token_id.encode())

    def _box(self) -> CaseKey:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"divex-api-token:" + self.token_id.encode()).derive(self.secret)
        return CaseKey(version=1, secret=key)
