import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import CryptoError, Keyring, StateKeyPair, StatePublicKeys
from crypto.statekeys import _raw_private


def _same_pair(a: StateKeyPair, b: StateKeyPair) -> bool:
    return (
        a.version == b.version
        and _raw_private(a.encryption) == _raw_private(b.encryption)
        and _raw_private(a.signing) == _raw_private(b.signing)
    )


@settings(max_examples=20)
@given(st.sets(st.integers(min_value=1, max_value=2**32 - 1), min_size=1, max_size=4))
def test_keyring_round_trips_through_bytes(versions):
    ring = Keyring(StateKeyPair.generate(v) for v in versions)
    back = Keyring.from_bytes(ring.to_bytes())
    assert back.versions == ring.versions == tuple(sorted(versions))
    assert all(_same_pair(back.get(v), ring.get(v)) for v in versions)
    assert back.to_bytes() == ring.to_bytes()


def test_rotation_adds_a_new_current_version_and_keeps_old_ones():
    ring = Keyring([StateKeyPair.generate(1)])
    rotated = ring.rotated()
    assert rotated.versions == (1, 2)
    assert rotated.current.version == 2
    assert _same_pair(rotated.get(1), ring.current)
    assert ring.versions == (1,)


def test_missing_version_raises():
    with pytest.raises(CryptoError, match="no key version 7"):
        Keyring([StateKeyPair.generate(1)]).get(7)


def test_keyring_refuses_duplicates_and_emptiness():
    with pytest.raises(CryptoError):
        Keyring([StateKeyPair.generate(1), StateKeyPair.generate(1)])
    with pytest.raises(CryptoError):
        Keyring([])


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"not json",
        b"{}",
        b'{"format":"x","pairs":[]}',
        b'{"format":"divex-keyring-1","pairs":[{"version":1}]}',
        b"[" * 100_000,  # deeper than the JSON decoder recurses
        b"\xff\xfe",
    ],
)
def test_malformed_keyring_bytes_are_rejected(blob):
    with pytest.raises(CryptoError):
        Keyring.from_bytes(blob)


def test_reprs_hide_private_keys():
    ring = Keyring([StateKeyPair.generate(1)])
    secret_hex = _raw_private(ring.current.encryption).hex()
    signing_hex = _raw_private(ring.current.signing).hex()
    for text in (repr(ring), repr(ring.current), str(ring)):
        assert secret_hex not in text and signing_hex not in text
        assert "X25519PrivateKey" not in text


def test_public_keys_round_trip_through_dict_and_ignore_extra_fields():
    public = StateKeyPair.generate(4).public()
    d = public.to_dict()
    assert d == {
        "version": 4,
        "encryption": public.encryption.hex(),
        "signing": public.signing.hex(),
    }
    assert StatePublicKeys.from_dict({**d, "since": "2025-01-01"}) == public
    assert len(public.key_id) == 8


def test_key_id_changes_with_version_and_keys():
    public = StateKeyPair.generate(1).public()
    bumped = StatePublicKeys(2, public.encryption, public.signing)
    assert public.key_id != bumped.key_id
    assert public.key_id != StateKeyPair.generate(1).public().key_id


@pytest.mark.parametrize(
    "d",
    [
        {},
        {"version": 1, "encryption": "zz", "signing": "00" * 32},
        {"version": 1, "encryption": "00" * 31, "signing": "00" * 32},
        {"version": 0, "encryption": "00" * 32, "signing": "00" * 32},
    ],
)
def test_malformed_public_keys_are_rejected(d):
    with pytest.raises(CryptoError):
        StatePublicKeys.from_dict(d)
