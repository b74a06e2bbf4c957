import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import canonical_json, sha256_hex

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def test_pinned_example_encodes_to_exact_bytes():
    value = {"b": [1, True, None, "é"], "a": {"z": -3, "y": 'x"y'}, "ä": False}
    assert canonical_json(value) == (
        b'{"a":{"y":"x\\"y","z":-3},"b":[1,true,null,"\xc3\xa9"],"\xc3\xa4":false}'
    )
    assert sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=8))
def test_key_insertion_order_does_not_change_the_bytes(value):
    items = list(value.items())
    random.Random(len(items)).shuffle(items)
    assert canonical_json(dict(items)) == canonical_json(value)
    assert canonical_json(dict(reversed(items))) == canonical_json(value)


@given(json_values)
def test_encoding_round_trips_through_json(value):
    assert json.loads(canonical_json(value).decode("utf-8")) == value


def test_tuples_encode_as_lists():
    assert canonical_json({"a": (1, 2)}) == canonical_json({"a": [1, 2]}) == b'{"a":[1,2]}'


@pytest.mark.parametrize("bad", [1.0, {"a": 0.5}, [float("nan")], {"a": [1, 2.5]}])
def test_floats_are_rejected(bad):
    with pytest.raises(TypeError):
        canonical_json(bad)


@pytest.mark.parametrize("bad", [b"bytes", {1: "int key"}, {"a": {1, 2}}, object()])
def test_other_types_are_rejected(bad):
    with pytest.raises(TypeError):
        canonical_json(bad)
