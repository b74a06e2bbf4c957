import pytest
from bitflips import flipped_bits
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import CaseKey, CryptoError, token_key_id

KEY = CaseKey.generate(3)


@settings(max_examples=50)
@given(st.binary(max_size=300), st.binary(max_size=40))
def test_sealed_body_opens_with_same_key_and_associated_data(plaintext, ad):
    assert KEY.open(KEY.seal(plaintext, ad), ad) == plaintext


def test_token_layout_and_key_id():
    token = KEY.seal(b"hi", b"ad")
    assert token[0] == 1
    assert token_key_id(token) == KEY.key_id == token[1:5].hex()
    assert len(KEY.key_id) == 8
    assert len(token) == 1 + 4 + 12 + 2 + 16


def test_same_plaintext_seals_differently_each_time():
    assert KEY.seal(b"x", b"") != KEY.seal(b"x", b"")


def test_flipped_bit_anywhere_in_sealed_token_is_rejected():
    token = KEY.seal(b"diversion report", b"case-1|v2|Opened")
    for bit, damaged in flipped_bits(token):
        with pytest.raises(CryptoError):
            KEY.open(damaged, b"case-1|v2|Opened")
            pytest.fail(f"bit {bit} flipped went unnoticed")


def test_wrong_associated_data_is_rejected():
    token = KEY.seal(b"text", b"case-1|v2|Opened")
    with pytest.raises(CryptoError, match="associated data"):
        KEY.open(token, b"case-1|v3|Opened")


def test_other_key_reports_key_id_mismatch():
    other = CaseKey.generate(3)
    with pytest.raises(CryptoError, match=f"sealed under key {KEY.key_id}, not {other.key_id}"):
        other.open(KEY.seal(b"text", b""), b"")


def test_other_key_with_forged_key_id_still_fails():
    other = CaseKey.generate(3)
    token = KEY.seal(b"text", b"")
    forged = token[:1] + bytes.fromhex(other.key_id) + token[5:]
    with pytest.raises(CryptoError):
        other.open(forged, b"")


@pytest.mark.parametrize("cut", [0, 1, 5, 17, 32])
def test_truncated_token_is_rejected(cut):
    with pytest.raises(CryptoError):
        KEY.open(KEY.seal(b"text", b"")[:cut], b"")


def test_unknown_format_byte_is_rejected():
    token = KEY.seal(b"text", b"")
    with pytest.raises(CryptoError, match="format"):
        KEY.open(b"\x09" + token[1:], b"")
    with pytest.raises(CryptoError):
        token_key_id(b"\x09" + token[1:])
    with pytest.raises(CryptoError):
        token_key_id(b"\x01ab")


def test_repr_hides_the_secret():
    assert KEY.secret.hex() not in repr(KEY)
    assert repr(KEY.secret) not in repr(KEY)


@pytest.mark.parametrize("secret", [b"", b"x" * 31, b"x" * 33])
def test_secret_must_be_32_bytes(secret):
    with pytest.raises(CryptoError):
        CaseKey(1, secret)


def test_a_token_that_is_not_bytes_is_rejected():
    with pytest.raises(CryptoError):
        KEY.open("\x01" + "a" * 40, b"")
    with pytest.raises(CryptoError):
        token_key_id("\x01abcd")
