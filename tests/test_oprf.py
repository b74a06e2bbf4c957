"""RFC 9497's test vectors (OPRF base mode, ristretto255-SHA512), through divex's calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto import CryptoError, oprf

VECTORS = json.loads((Path(__file__).parent / "data" / "rfc9497-ristretto255-oprf.json")
                     .read_text())


def test_the_key_is_derived_as_the_rfc_says() -> None:
    key = oprf.derive_key(bytes.fromhex(VECTORS["seed"]), bytes.fromhex(VECTORS["keyInfo"]))
    assert key.hex() == VECTORS["skSm"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["Input"][:8])
def test_blind_evaluate_finalize_give_the_rfc_outputs(vector: dict) -> None:
    key = bytes.fromhex(VECTORS["skSm"])
    data = bytes.fromhex(vector["Input"])
    blind, blinded = oprf.blind(data, bytes.fromhex(vector["Blind"]))
    assert blinded.hex() == vector["BlindedElement"]
    evaluated = oprf.evaluate(key, blinded)
    assert evaluated.hex() == vector["EvaluationElement"]
    assert oprf.finalize(data, blind, evaluated).hex() == vector["Output"]
    assert oprf.public_evaluate(key, data).hex() == vector["Output"]


def test_a_random_blind_gives_the_same_output_and_hides_the_input() -> None:
    key = oprf.new_key()
    first_blind, first = oprf.blind(b"NORVIK|KR22917734")
    second_blind, second = oprf.blind(b"NORVIK|KR22917734")
    assert first != second  # the oracle sees unlinkable elements
    assert oprf.finalize(b"NORVIK|KR22917734", first_blind, oprf.evaluate(key, first)) \
        == oprf.finalize(b"NORVIK|KR22917734", second_blind, oprf.evaluate(key, second))


@pytest.mark.parametrize("forged", [b"", b"\x00" * 32, b"\xff" * 32, b"\x01" * 31, "text"])
def test_the_oracle_refuses_what_is_not_a_group_element(forged: object) -> None:
    with pytest.raises(CryptoError):
        oprf.evaluate(oprf.new_key(), forged)  # type: ignore[arg-type]
