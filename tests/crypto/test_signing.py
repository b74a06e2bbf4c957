import pytest
from bitflips import flipped_bits
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    StateKeyPair,
    canonical_json,
    event_hash,
    sha256_hex,
    sign_and_hash_event,
    sign_event,
    signing_bytes,
    verify_event,
)
from crypto.chain import event_hash_of_encoded
from crypto.signing import signing_bytes_of_encoded

KEYS = StateKeyPair.generate(1)
PUBLIC = KEYS.public().signing
HEADER = {
    "event_id": "e-1",
    "case_id": "c-1",
    "version": 2,
    "type": "NoteAdded",
    "state": "NLD",
    "user": "u-1",
    "tier": 1,
    "recipients": ["DEU", "NLD"],
    "key_version": 1,
    "prev_hash": "ab" * 32,
}
BODY = b"\x01sealed body ciphertext"


@settings(max_examples=30)
@given(
    st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=5),
    st.binary(max_size=100),
)
def test_signed_event_verifies(header, body):
    verify_event(PUBLIC, header, body, sign_event(KEYS, header, body))


def test_signature_covers_canonical_header_and_body_digest():
    assert b"body_sha256" in signing_bytes(HEADER, BODY)
    assert BODY not in signing_bytes(HEADER, BODY)


@pytest.mark.parametrize("field", sorted(HEADER))
def test_changed_header_field_fails_verification(field):
    signature = sign_event(KEYS, HEADER, BODY)
    changed = {**HEADER, field: "something else"}
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(PUBLIC, changed, BODY, signature)


@pytest.mark.parametrize("field", sorted(HEADER))
def test_removed_header_field_fails_verification(field):
    signature = sign_event(KEYS, HEADER, BODY)
    removed = {k: v for k, v in HEADER.items() if k != field}
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(PUBLIC, removed, BODY, signature)


def test_added_header_field_fails_verification():
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(PUBLIC, {**HEADER, "extra": 1}, BODY, sign_event(KEYS, HEADER, BODY))


def test_changed_body_fails_verification():
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(PUBLIC, HEADER, BODY + b"!", sign_event(KEYS, HEADER, BODY))


def test_flipped_bit_in_signature_is_rejected():
    signature = sign_event(KEYS, HEADER, BODY)
    for bit, damaged in flipped_bits(signature):
        with pytest.raises(CryptoError, match="bad signature"):
            verify_event(PUBLIC, HEADER, BODY, damaged)
            pytest.fail(f"bit {bit} flipped went unnoticed")


def test_another_states_key_fails_verification():
    other = StateKeyPair.generate(1).public().signing
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(other, HEADER, BODY, sign_event(KEYS, HEADER, BODY))


@pytest.mark.parametrize("signature", [b"", b"x" * 63, b"x" * 65])
def test_malformed_signature_is_rejected(signature):
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(PUBLIC, HEADER, BODY, signature)


def test_malformed_public_key_is_rejected():
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(b"short", HEADER, BODY, sign_event(KEYS, HEADER, BODY))


@given(header=st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=12), st.integers(),
                                                              st.booleans(), st.none()),
                              max_size=6),
       body=st.binary(max_size=64), signature=st.binary(min_size=64, max_size=64))
def test_header_encoded_once_gives_the_same_bytes_and_hash(header, body, signature) -> None:
    digest = sha256_hex(body)
    assert signing_bytes_of_encoded(canonical_json(header), digest) == \
        signing_bytes(header, body)
    assert event_hash_of_encoded(canonical_json(header), digest, signature.hex()) == \
        event_hash(header, body, signature)


def test_a_digest_that_is_not_hex_is_refused() -> None:
    with pytest.raises(CryptoError):
        signing_bytes_of_encoded(b"{}", '0" ,"x":"' + "0" * 55)


def test_a_signature_that_is_not_bytes_is_rejected():
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(PUBLIC, HEADER, BODY, sign_event(KEYS, HEADER, BODY).hex())


def test_a_header_canonical_json_cannot_encode_fails_verification():
    with pytest.raises(CryptoError, match="bad signature"):
        verify_event(PUBLIC, {**HEADER, "version": 1.5}, BODY, sign_event(KEYS, HEADER, BODY))


@settings(max_examples=30)
@given(
    st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=5),
    st.binary(max_size=100),
)
def test_signing_and_hashing_at_once_gives_a_valid_signature_and_the_chain_hash(header, body):
    signature, chained = sign_and_hash_event(KEYS, header, body)
    verify_event(PUBLIC, header, body, signature)
    assert chained == event_hash(header, body, signature)
