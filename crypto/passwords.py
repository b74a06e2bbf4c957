"""Sealing small secrets (a user's private key) under a password, with Argon2id."""

from __future__ import annotations

import math
import os
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from .errors import CryptoError

PASSWORD_FORMAT = 0x04
_SALT_SIZE = 16
_NONCE_SIZE = 12
_TAG_SIZE = 16
# 0x04 | memory KiB (u32) | iterations (u32) | lanes (u32) | salt (16) | nonce (12) | ciphertext
_HEADER = struct.Struct(f">BIII{_SALT_SIZE}s{_NONCE_SIZE}s")
_WRONG = "wrong password or damaged key blob"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters; memory in KiB."""

    memory_kib: int = 65536
    iterations: int = 3
    lanes: int = 4

    def __post_init__(self) -> None:
        for name in ("memory_kib", "iterations", "lanes"):
            value = getattr(self, name)
            if type(value) is not int or not 1 <= value <= 2**32 - 1:
                raise CryptoError(f"KDF {name} must be an int in 1..2**32-1")
        if self.memory_kib < 8 * self.lanes:
            raise CryptoError("KDF memory must be at least 8 KiB per lane")

    def exceeds(self, limit: KdfParams) -> bool:
        """True when any cost is above the same cost in `limit`."""
        return (
            self.memory_kib > limit.memory_kib
            or self.iterations > limit.iterations
            or self.lanes > limit.lanes
        )


DEFAULT_KDF = KdfParams()
# The most a stored blob may ask for: refuses blobs that would exhaust memory or time.
MAX_KDF = KdfParams(memory_kib=4 * 1024 * 1024, iterations=32, lanes=64)


def seal_with_password(password: str, plaintext: bytes, params: KdfParams = DEFAULT_KDF) -> bytes:
    """Encrypts `plaintext` under a key derived from `password` with a fresh salt."""
    salt, nonce = os.urandom(_SALT_SIZE), os.urandom(_NONCE_SIZE)
    header = _HEADER.pack(
        PASSWORD_FORMAT, params.memory_kib, params.iterations, params.lanes, salt, nonce
    )
    key = _derive(password, salt, params)
    # The header is the associated data, so params, salt and nonce cannot be swapped.
    return header + AESGCM(key).encrypt(nonce, plaintext, header)


def open_with_password(password: str, blob: bytes, *, limit: KdfParams = MAX_KDF) -> bytes:
    """Decrypts a `seal_with_password` blob; refuses blobs whose params exceed `limit`."""
    params = params_of(blob)
    if params.exceeds(limit):
        raise CryptoError("key blob asks for KDF parameters beyond the allowed limit")
    if len(blob) < _HEADER.size + _TAG_SIZE:
        raise CryptoError("key blob is truncated")
    header = blob[: _HEADER.size]
    salt, nonce = _HEADER.unpack(header)[4:]
    key = _derive(password, salt, params)
    try:
        return AESGCM(key).decrypt(nonce, blob[_HEADER.size :], header)
    except InvalidTag:
        raise CryptoError(_WRONG) from None


def params_of(blob: bytes) -> KdfParams:
    """The KDF parameters a blob was sealed with."""
    if not isinstance(blob, bytes):
        raise CryptoError("a key blob must be bytes")
    if len(blob) < _HEADER.size:
        raise CryptoError("key blob is truncated")
    fmt, memory_kib, iterations, lanes, _, _ = _HEADER.unpack_from(blob)
    if fmt != PASSWORD_FORMAT:
        raise CryptoError(f"unknown key blob format {fmt:#04x}")
    return KdfParams(memory_kib, iterations, lanes)


class DerivationsBusy(Exception):
    """Too many password derivations are queued in this process: try again in a moment.

    Not a `CryptoError`: nothing was wrong with the password, so it must not count as a
    failed attempt.
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"password derivations are busy; retry in {retry_after} s")
        self.retry_after = retry_after


class DerivationGate:
    """Lets one Argon2id derivation run at a time in this process, with a short, bounded queue.

    Two multi-lane derivations at once in one process never return (cryptography 50 with
    OpenSSL 4: both threads hang and every later derivation raises MemoryError), so a
    threaded server must never run two. One at a time also caps the memory (64 MiB each at
    the default cost) and the CPU a burst of sign-ins can take: a process derives at most one
    key at a time, so a deployment derives at most as many as it has processes. A caller
    beyond `queue` waiting, or who waited `wait_seconds`, gets `DerivationsBusy` at once
    rather than holding a server thread.
    """

    def __init__(self, queue: int = 16, wait_seconds: float = 5.0) -> None:
        self._running = threading.Lock()
        self._counting = threading.Lock()
        self._inside = 0  # running + waiting
        self._last_seconds = 0.2
        self.configure(queue, wait_seconds)

    def configure(self, queue: int, wait_seconds: float) -> None:
        if queue < 0 or wait_seconds <= 0:
            raise ValueError("the derivation queue needs queue >= 0 and wait_seconds > 0")
        self.queue, self.wait_seconds = queue, wait_seconds

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._counting:
            if self._inside > self.queue:
                raise DerivationsBusy(self._retry_after())
            self._inside += 1
        try:
            if not self._running.acquire(timeout=self.wait_seconds):
                raise DerivationsBusy(self._retry_after())
            started = time.monotonic()
            try:
                yield
            finally:
                self._last_seconds = time.monotonic() - started
                self._running.release()
        finally:
            with self._counting:
                self._inside -= 1

    def _retry_after(self) -> int:
        """Seconds until the present queue has likely drained."""
        return max(1, math.ceil(self._inside * self._last_seconds))


# Process-wide, as the fault it guards against is; `infra` sizes it from the settings.
DERIVATIONS = DerivationGate()


def _derive(password: str, salt: bytes, params: KdfParams) -> bytes:
    kdf = Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    try:
        with DERIVATIONS.slot():
            return kdf.derive(password.encode("utf-8"))
    except ValueError:
        raise CryptoError(_WRONG) from None
