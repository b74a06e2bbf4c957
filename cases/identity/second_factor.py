"""TOTP second factor and recovery codes: the codes themselves, with no storage and no Flask.

Codes are RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps) as every authenticator app reads
them from an ``otpauth://`` address. A code is accepted one step either side of now, and each
step only once: the step of the last accepted code is kept (`KeyStore.advance_step`).

Recovery codes are 60 random bits each (12 base32 characters). Only a keyed hash of each is
stored: HMAC-SHA256 under a per-user random *recovery key* sealed to the user's own key, like
the TOTP secret. Why not Argon2id, as for passwords? A slow hash protects guessable secrets;
these are random and far beyond offline guessing, so slowness would only let every wrong
code cost the server ten Argon2id runs. The key, opened only with the user's password, means a
stolen database cannot even test a guess: the digests are useless without it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10
_RECOVERY_BYTES = 8  # 64 bits drawn, 60 kept: 12 base32 characters
_SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
ISSUER = "divex"
# Authenticator apps accept a code one step early or late: clocks drift.
WINDOW = 1

_CODE = re.compile(rf"^\d{{{DIGITS}}}$")


def new_secret() -> str:
    """A fresh TOTP secret, base32 as authenticator apps take it."""
    return base64.b32encode(os.urandom(_SECRET_BYTES)).decode()


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` address a QR code carries."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER)


def spaced(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def is_totp_code(text: str) -> bool:
    return bool(_CODE.match(compact(text)))


def compact(text: str) -> str:
    """A code as typed, without spaces or dashes, upper case."""
    return "".join(ch for ch in (text or "") if ch.isalnum()).upper()[:64]


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (``unix time // 30``) whose code this is, within the window, else None."""
    code = compact(code)
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        # Every candidate is compared, in constant time: no early exit to time.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    codes = []
    for _ in range(count):
        text = base64.b32encode(os.urandom(_RECOVERY_BYTES)).decode()[:12]
        codes.append("-".join(text[i:i + 4] for i in range(0, 12, 4)))
    return codes


def recovery_digest(key: bytes, code: str) -> str:
    """The stored form of a recovery code: HMAC-SHA256 under the user's recovery key, hex."""
    return hmac.new(key, compact(code).encode(), hashlib.sha256).hexdigest()


def new_recovery_key() -> bytes:
    return os.urandom(32)
