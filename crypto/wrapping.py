"""Wrapping a case key for one recipient state (HPKE to the state's X25519 key)."""

from __future__ import annotations

import struct
from typing import Any

from .boxes import open_sealed, seal_to
from .casekey import WRAPPED_FORMAT, CaseKey, key_id_of
from .errors import CryptoError
from .statekeys import Keyring, StatePublicKeys

# 0x02 | case key id (4) | case key version (u32) | recipient state key version (u32) | box
_HEADER = struct.Struct(">B4sII")


def _info(case_id: str, recipient: str, key_version: int, recipient_key: str) -> dict[str, Any]:
    return {
        "purpose": "divex-case-key",
        "case": case_id,
        "key_version": key_version,
        "recipient": recipient,
        "recipient_key": recipient_key,
    }


def wrap_case_key(
    case_key: CaseKey, *, case_id: str, recipient: str, recipient_keys: StatePublicKeys
) -> bytes:
    """Seals the case key so only `recipient` (holding `recipient_keys`) can unwrap it."""
    context = _info(case_id, recipient, case_key.version, recipient_keys.key_id)
    header = _HEADER.pack(
        WRAPPED_FORMAT, key_id_of(case_key.secret), case_key.version, recipient_keys.version
    )
    return header + seal_to(recipient_keys.encryption, case_key.secret, context)


def unwrap_case_key(wrapped: bytes, *, case_id: str, recipient: str, keyring: Keyring) -> CaseKey:
    """Recovers the case key with the recipient state's keyring; CryptoError otherwise."""
    key_id, key_version, state_version = _read_header(wrapped)
    pair = keyring.get(state_version)
    context = _info(case_id, recipient, key_version, pair.public().key_id)
    secret = open_sealed(pair.encryption, wrapped[_HEADER.size :], context)
    if len(secret) != 32 or key_id_of(secret) != key_id:
        raise CryptoError("unwrapped case key does not match the key id of the wrapped key")
    return CaseKey(key_version, secret)


def wrapped_key_version(wrapped: bytes) -> int:
    """The case key version a wrapped key holds."""
    return _read_header(wrapped)[1]


def _read_header(wrapped: bytes) -> tuple[bytes, int, int]:
    if not isinstance(wrapped, bytes):
        raise CryptoError("a wrapped case key must be bytes")
    if len(wrapped) < _HEADER.size + 1:
        raise CryptoError("wrapped case key is truncated")
    fmt, key_id, key_version, state_version = _HEADER.unpack_from(wrapped)
    if fmt != WRAPPED_FORMAT:
        raise CryptoError(f"unknown wrapped key format {fmt:#04x}")
    return key_id, key_version, state_version
