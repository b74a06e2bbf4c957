import pytest
from bitflips import flipped_bits
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    DEFAULT_KDF,
    CryptoError,
    KdfParams,
    open_with_password,
    params_of,
    seal_with_password,
)

TINY = KdfParams(memory_kib=8, iterations=1, lanes=1)
# Bit flips in the header may raise the cost; keep the test fast by refusing anything large.
TEST_LIMIT = KdfParams(memory_kib=64, iterations=4, lanes=4)


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=20), st.binary(max_size=100))
def test_password_sealed_blob_opens_with_the_password(password, plaintext):
    blob = seal_with_password(password, plaintext, TINY)
    assert open_with_password(password, blob) == plaintext
    assert params_of(blob) == TINY


def test_wrong_password_is_rejected():
    blob = seal_with_password("correct horse", b"private key", TINY)
    with pytest.raises(CryptoError, match="wrong password or damaged key blob"):
        open_with_password("correct horsf", blob)


def test_flipped_bit_anywhere_in_password_blob_is_rejected():
    blob = seal_with_password("pw", b"32 bytes of private key material", TINY)
    for bit, damaged in flipped_bits(blob):
        with pytest.raises(CryptoError):
            open_with_password("pw", damaged, limit=TEST_LIMIT)
            pytest.fail(f"bit {bit} flipped went unnoticed")


def test_fresh_salt_each_time():
    first, second = seal_with_password("pw", b"x", TINY), seal_with_password("pw", b"x", TINY)
    assert first[13:29] != second[13:29]


def test_absurd_params_in_a_blob_are_refused_before_deriving():
    blob = seal_with_password("pw", b"x", TINY)
    huge = blob[:1] + (5 * 1024 * 1024).to_bytes(4, "big") + blob[5:]
    with pytest.raises(CryptoError, match="limit"):
        open_with_password("pw", huge)


@pytest.mark.parametrize("blob", [b"", b"\x04", b"\x05" + b"\x00" * 60])
def test_malformed_blob_is_rejected(blob):
    with pytest.raises(CryptoError):
        open_with_password("pw", blob)


def test_default_params_are_the_documented_ones():
    assert KdfParams(memory_kib=65536, iterations=3, lanes=4) == DEFAULT_KDF


@pytest.mark.parametrize(
    "bad", [dict(memory_kib=0), dict(iterations=0), dict(lanes=0), dict(memory_kib=16, lanes=4)]
)
def test_invalid_params_are_refused(bad):
    with pytest.raises(CryptoError):
        KdfParams(**bad)
