"""RFC 9497 OPRF in its base mode, suite ristretto255-SHA512.

The group operations are libsodium's (through ``rbcl``, which bundles it); this module
writes only the protocol steps of RFC 9497 §3.3.1 and the hash-to-group of RFC 9380
(expand_message_xmd), and is checked against the RFC's test vectors.
"""

from __future__ import annotations

import hashlib

import rbcl

from .errors import CryptoError

CONTEXT = b"OPRFV1-\x00-ristretto255-SHA512"
ELEMENT_BYTES = 32
SCALAR_BYTES = 32
OUTPUT_BYTES = 64


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def expand_message_xmd(message: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512."""
    block, size = 128, 64
    ell = -(-length // size)
    if ell > 255 or length > 65535 or len(dst) > 255:
        raise CryptoError("expand_message_xmd: parameters out of range")
    dst_prime = dst + _i2osp(len(dst), 1)
    b0 = hashlib.sha512(bytes(block) + message + _i2osp(length, 2) + b"\x00"
                        + dst_prime).digest()
    blocks = [hashlib.sha512(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        mixed = bytes(a ^ b for a, b in zip(b0, blocks[-1], strict=True))
        blocks.append(hashlib.sha512(mixed + _i2osp(i, 1) + dst_prime).digest())
    return b"".join(blocks)[:length]


def hash_to_group(data: bytes) -> bytes:
    uniform = expand_message_xmd(data, b"HashToGroup-" + CONTEXT, 64)
    return rbcl.crypto_core_ristretto255_from_hash(uniform)


def _hash_to_scalar(data: bytes, dst: bytes) -> bytes:
    return rbcl.crypto_core_ristretto255_scalar_reduce(expand_message_xmd(data, dst, 64))


def derive_key(seed: bytes, info: bytes) -> bytes:
    """DeriveKeyPair (§3.2.1): the private scalar from a 32-byte seed."""
    derive_input = seed + _i2osp(len(info), 2) + info
    for counter in range(256):
        key = _hash_to_scalar(derive_input + _i2osp(counter, 1), b"DeriveKeyPair" + CONTEXT)
        if any(key):
            return key
    raise CryptoError("DeriveKeyPairError")


def new_key() -> bytes:
    """A fresh private scalar."""
    return rbcl.crypto_core_ristretto255_scalar_random()


def public_element(key: bytes) -> bytes:
    """The key's public element (key times the group's generator)."""
    return rbcl.crypto_scalarmult_ristretto255_base(key)


def _element(data: bytes) -> bytes:
    """DeserializeElement: a canonical encoding of a point other than the identity."""
    if (not isinstance(data, bytes) or len(data) != ELEMENT_BYTES
            or not any(data) or not rbcl.crypto_core_ristretto255_is_valid_point(data)):
        raise CryptoError("not an element of the group")
    return data


def blind(data: bytes, blind_scalar: bytes | None = None) -> tuple[bytes, bytes]:
    """Blind (§3.3.1): the blind to keep and the blinded element to send."""
    r = blind_scalar or rbcl.crypto_core_ristretto255_scalar_random()
    point = hash_to_group(data)
    if not any(point):
        raise CryptoError("InvalidInputError")
    return r, rbcl.crypto_scalarmult_ristretto255(r, point)


def evaluate(key: bytes, blinded_element: bytes) -> bytes:
    """BlindEvaluate (§3.3.1), run by the key holder; refuses anything not an element."""
    return rbcl.crypto_scalarmult_ristretto255(key, _element(blinded_element))


def finalize(data: bytes, blind_scalar: bytes, evaluated_element: bytes) -> bytes:
    """Finalize (§3.3.1): the PRF output, 64 bytes."""
    inverse = rbcl.crypto_core_ristretto255_scalar_invert(blind_scalar)
    unblinded = rbcl.crypto_scalarmult_ristretto255(inverse, _element(evaluated_element))
    return hashlib.sha512(_i2osp(len(data), 2) + data + _i2osp(len(unblinded), 2) + unblinded
                          + b"Finalize").digest()


def public_evaluate(key: bytes, data: bytes) -> bytes:
    """Evaluate (§3.3.1): the PRF output computed by the key holder alone (tests, audits)."""
    point = rbcl.crypto_scalarmult_ristretto255(key, hash_to_group(data))
    return hashlib.sha512(_i2osp(len(data), 2) + data + _i2osp(len(point), 2) + point
                          + b"Finalize").digest()
