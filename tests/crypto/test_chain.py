import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import GENESIS_HASH, CryptoError, event_hash, verify_chain


def _chain(bodies: list[bytes]) -> list[tuple[dict, bytes, bytes]]:
    events, prev = [], GENESIS_HASH
    for index, body in enumerate(bodies):
        header = {"version": index + 1, "prev_hash": prev}
        signature = bytes([index % 256]) * 64
        events.append((header, body, signature))
        prev = event_hash(header, body, signature)
    return events


@settings(max_examples=30)
@given(st.lists(st.binary(max_size=20), max_size=8))
def test_intact_chain_verifies_to_its_head(bodies):
    events = _chain(bodies)
    head = verify_chain(events)
    assert head == (event_hash(*events[-1]) if events else GENESIS_HASH)


def test_event_hash_is_pinned():
    header = {"prev_hash": GENESIS_HASH, "version": 1}
    assert event_hash(header, b"body", b"\x00" * 64) == (
        "f1b976737a5ad8c033c3602ecb584925208ca78e202c8af6a0491b611dc40f79"
    )


@settings(max_examples=30)
@given(st.integers(min_value=3, max_value=8), st.data())
def test_swapped_events_break_the_chain_at_the_first_swapped_index(length, data):
    events = _chain([bytes([i]) for i in range(length)])
    i = data.draw(st.integers(min_value=0, max_value=length - 2))
    events[i], events[i + 1] = events[i + 1], events[i]
    with pytest.raises(CryptoError, match=f"at event {i}:"):
        verify_chain(events)


@pytest.mark.parametrize("removed", [0, 1, 2])
def test_removed_event_breaks_the_chain_at_its_index(removed):
    events = _chain([b"a", b"b", b"c", b"d"])
    del events[removed]
    with pytest.raises(CryptoError, match=f"at event {removed}:"):
        verify_chain(events)


def test_removing_the_last_event_changes_the_head():
    events = _chain([b"a", b"b", b"c"])
    assert verify_chain(events[:-1]) != verify_chain(events)


@pytest.mark.parametrize("position", [0, 1, 3])
def test_inserted_event_breaks_the_chain_at_its_index(position):
    events = _chain([b"a", b"b", b"c"])
    events.insert(position, ({"version": 9, "prev_hash": GENESIS_HASH}, b"x", b"s"))
    at = position + 1 if position == 0 else position
    with pytest.raises(CryptoError, match=f"at event {at}:"):
        verify_chain(events)


@pytest.mark.parametrize("part", ["header", "body", "signature"])
def test_changed_event_breaks_the_link_to_the_next(part):
    events = _chain([b"a", b"b", b"c"])
    header, body, signature = events[1]
    events[1] = (
        {**header, "version": 7} if part == "header" else header,
        body + b"!" if part == "body" else body,
        signature + b"!" if part == "signature" else signature,
    )
    with pytest.raises(CryptoError, match="at event 2:"):
        verify_chain(events)


def test_custom_prev_key_is_honoured():
    events = [({"previous": h["prev_hash"]}, b, s) for h, b, s in _chain([b"a"])]
    verify_chain(events, prev_key="previous")
    with pytest.raises(CryptoError, match="at event 0:"):
        verify_chain(events)


@pytest.mark.parametrize("header", ["not a header", None, [GENESIS_HASH]])
def test_a_header_that_is_not_an_object_breaks_the_chain(header):
    with pytest.raises(CryptoError, match="event 0"):
        verify_chain([(header, b"body", b"s" * 64)])


def test_an_event_that_cannot_be_hashed_is_a_crypto_error():
    with pytest.raises(CryptoError, match="event 0 cannot be hashed"):
        verify_chain([({"prev_hash": GENESIS_HASH, "weight": 1.5}, b"body", b"s" * 64)])
    with pytest.raises(CryptoError, match="event 0 cannot be hashed"):
        verify_chain([({"prev_hash": GENESIS_HASH}, b"body", "not bytes")])
