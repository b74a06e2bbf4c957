import pytest

from crypto import CryptoError, Keyring, StateKeyPair
from crypto.searchkey import TOKEN_SIZE, SearchKey


def test_equal_terms_give_equal_tokens_within_one_state_and_version():
    ring = Keyring([StateKeyPair.generate(1)])
    key = SearchKey.of(ring, "FRA")
    assert key.token("w:fusil") == SearchKey.of(ring, "FRA").token("w:fusil")
    assert len(key.token("w:fusil")) == TOKEN_SIZE
    assert key.token("w:fusil") != key.token("w:fusils")


def test_another_state_or_a_rotation_gives_other_tokens():
    ring = Keyring([StateKeyPair.generate(1)])
    rotated = ring.rotated()
    fra = SearchKey.of(ring, "FRA").token("w:saloum")
    assert SearchKey.of(ring, "DEU").token("w:saloum") != fra
    assert SearchKey.of(Keyring([StateKeyPair.generate(1)]), "FRA").token("w:saloum") != fra
    assert SearchKey.of(rotated, "FRA").version == 2
    assert SearchKey.of(rotated, "FRA").token("w:saloum") != fra
    assert SearchKey.of(rotated, "FRA", 1).token("w:saloum") == fra


def test_a_version_the_keyring_lacks_is_refused():
    with pytest.raises(CryptoError):
        SearchKey.of(Keyring([StateKeyPair.generate(1)]), "FRA", 2)
