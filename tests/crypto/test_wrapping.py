import pytest
from bitflips import flipped_bits
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CaseKey,
    CryptoError,
    Keyring,
    StateKeyPair,
    StatePublicKeys,
    token_key_id,
    unwrap_case_key,
    wrap_case_key,
    wrapped_key_version,
)

NLD = Keyring([StateKeyPair.generate(1)]).rotated()
DEU = Keyring([StateKeyPair.generate(1), StateKeyPair.generate(2)])
CASE = "0b5c3e0e-8f5e-4bb3-9a3a-111111111111"


def _wrap(key: CaseKey, keyring: Keyring = NLD, case_id: str = CASE, recipient: str = "NLD"):
    return wrap_case_key(
        key, case_id=case_id, recipient=recipient, recipient_keys=keyring.current.public()
    )


@settings(max_examples=25)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.text(max_size=40), st.text(max_size=5))
def test_wrapped_key_unwraps_for_its_recipient(version, case_id, recipient):
    key = CaseKey.generate(version)
    wrapped = _wrap(key, case_id=case_id, recipient=recipient)
    assert unwrap_case_key(wrapped, case_id=case_id, recipient=recipient, keyring=NLD) == key
    assert wrapped_key_version(wrapped) == version
    assert token_key_id(wrapped) == key.key_id


def test_old_state_key_version_still_unwraps_after_rotation():
    key = CaseKey.generate(1)
    wrapped = wrap_case_key(key, case_id=CASE, recipient="NLD", recipient_keys=NLD.get(1).public())
    assert unwrap_case_key(wrapped, case_id=CASE, recipient="NLD", keyring=NLD.rotated()) == key


def test_flipped_bit_in_wrapped_key_is_rejected():
    wrapped = _wrap(CaseKey.generate(2))
    for bit, damaged in flipped_bits(wrapped):
        with pytest.raises(CryptoError):
            unwrap_case_key(damaged, case_id=CASE, recipient="NLD", keyring=NLD)
            pytest.fail(f"bit {bit} flipped went unnoticed")


def test_another_states_keyring_cannot_unwrap():
    wrapped = _wrap(CaseKey.generate(1))
    with pytest.raises(CryptoError):
        unwrap_case_key(wrapped, case_id=CASE, recipient="NLD", keyring=DEU)


def test_unwrapping_as_another_recipient_is_rejected():
    wrapped = _wrap(CaseKey.generate(1))
    with pytest.raises(CryptoError):
        unwrap_case_key(wrapped, case_id=CASE, recipient="DEU", keyring=NLD)


def test_unwrapping_for_another_case_is_rejected():
    wrapped = _wrap(CaseKey.generate(1))
    with pytest.raises(CryptoError):
        unwrap_case_key(wrapped, case_id=CASE[:-1] + "2", recipient="NLD", keyring=NLD)


def test_keyring_without_the_recipient_key_version_is_rejected():
    wrapped = _wrap(CaseKey.generate(1))
    with pytest.raises(CryptoError, match="no key version 2"):
        unwrap_case_key(wrapped, case_id=CASE, recipient="NLD", keyring=Keyring([NLD.get(1)]))


def test_ciphertext_moved_under_another_key_header_is_rejected():
    first, second = _wrap(CaseKey.generate(1)), _wrap(CaseKey.generate(1))
    spliced = second[:13] + first[13:]
    with pytest.raises(CryptoError):
        unwrap_case_key(spliced, case_id=CASE, recipient="NLD", keyring=NLD)


@pytest.mark.parametrize("cut", [0, 1, 12, 13, 40])
def test_truncated_wrapped_key_is_rejected(cut):
    wrapped = _wrap(CaseKey.generate(1))
    with pytest.raises(CryptoError):
        unwrap_case_key(wrapped[:cut], case_id=CASE, recipient="NLD", keyring=NLD)


def test_sealed_body_is_not_mistaken_for_a_wrapped_key():
    key = CaseKey.generate(1)
    with pytest.raises(CryptoError, match="format"):
        wrapped_key_version(key.seal(b"x" * 40, b""))


def test_wrapping_for_a_state_that_published_a_small_order_key_is_a_crypto_error():
    published = NLD.current.public()
    forged = StatePublicKeys(published.version, bytes(32), published.signing)
    with pytest.raises(CryptoError, match="small order"):
        wrap_case_key(CaseKey.generate(), case_id=CASE, recipient="NLD", recipient_keys=forged)


def test_a_wrapped_key_that_is_not_bytes_is_rejected():
    with pytest.raises(CryptoError):
        unwrap_case_key("\x02" + "a" * 90, case_id=CASE, recipient="NLD", keyring=NLD)
