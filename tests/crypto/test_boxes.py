import os

import pytest
from bitflips import flipped_bits
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import CryptoError, open_sealed, recovery_private_key, seal_to

PRIVATE = X25519PrivateKey.generate()
CONTEXT = {"purpose": "keyring", "state": "NLD", "user": "u-1"}


@settings(max_examples=30)
@given(st.binary(max_size=300), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
def test_sealed_box_opens_with_private_key_and_same_context(plaintext, context):
    token = seal_to(PRIVATE.public_key(), plaintext, context)
    assert open_sealed(PRIVATE, token, context) == plaintext


def test_recipient_may_be_given_as_raw_public_bytes():
    raw = PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert open_sealed(PRIVATE, seal_to(raw, b"k", CONTEXT), CONTEXT) == b"k"


def test_flipped_bit_anywhere_in_sealed_box_is_rejected():
    token = seal_to(PRIVATE.public_key(), b"keyring bytes", CONTEXT)
    for bit, damaged in flipped_bits(token):
        with pytest.raises(CryptoError):
            open_sealed(PRIVATE, damaged, CONTEXT)
            pytest.fail(f"bit {bit} flipped went unnoticed")


def test_wrong_context_is_rejected():
    token = seal_to(PRIVATE.public_key(), b"x", CONTEXT)
    with pytest.raises(CryptoError):
        open_sealed(PRIVATE, token, {**CONTEXT, "user": "u-2"})


def test_wrong_private_key_is_rejected():
    token = seal_to(PRIVATE.public_key(), b"x", CONTEXT)
    with pytest.raises(CryptoError):
        open_sealed(X25519PrivateKey.generate(), token, CONTEXT)


@pytest.mark.parametrize("token", [b"", b"\x03", b"\x03" + b"a" * 47, b"\x01" + b"a" * 80])
def test_malformed_box_is_rejected(token):
    with pytest.raises(CryptoError):
        open_sealed(PRIVATE, token, CONTEXT)


def test_bad_public_key_bytes_are_rejected():
    with pytest.raises(CryptoError):
        seal_to(b"short", b"x", CONTEXT)


def test_recovery_key_is_deterministic_and_opens_what_was_sealed_to_it():
    secret = os.urandom(32)
    first, again = recovery_private_key(secret), recovery_private_key(secret)
    token = seal_to(first.public_key(), b"keyring", CONTEXT)
    assert open_sealed(again, token, CONTEXT) == b"keyring"
    with pytest.raises(CryptoError):
        open_sealed(recovery_private_key(os.urandom(32)), token, CONTEXT)


def test_recovery_secret_must_be_32_bytes():
    with pytest.raises(CryptoError):
        recovery_private_key(b"x" * 16)


# The X25519 public keys of small order listed in RFC 7748 §6.1's references (libsodium's
# blocklist): 0, 1, the two points of order 8, and p-1, p, p+1. Each gives the all-zero
# shared secret, so a box sealed to one would be open to anyone.
SMALL_ORDER = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    (2**255 - 19 - 1).to_bytes(32, "little"),
    (2**255 - 19).to_bytes(32, "little"),
    (2**255 - 19 + 1).to_bytes(32, "little"),
]


@pytest.mark.parametrize("public", SMALL_ORDER, ids=lambda raw: raw.hex()[:8])
def test_sealing_to_a_small_order_key_is_refused_as_a_crypto_error(public):
    with pytest.raises(CryptoError, match="small order"):
        seal_to(public, b"keyring", CONTEXT)
    with pytest.raises(CryptoError, match="small order"):
        seal_to(X25519PublicKey.from_public_bytes(public), b"keyring", CONTEXT)


def test_a_box_that_is_not_bytes_is_rejected():
    with pytest.raises(CryptoError):
        open_sealed(PRIVATE, "\x03" + "a" * 80, CONTEXT)
