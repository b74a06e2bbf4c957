"""The sealing kernel: who a grant lets read, and what a sealed body or title opens as."""

from __future__ import annotations

import base64
import copy
import uuid

import pytest
from eventsourcing.utils import get_topic

from cases.casework.case import Case
from cases.kernel.errors import Forbidden
from cases.kernel.sealing import (
    Sealing,
    body_context,
    open_body,
    open_title,
    seal_title,
)
from crypto import CaseKey, CryptoError, canonical_json, sha256_hex
from infra.wiring import Exchange
from tests.conftest import register_states

NO = Forbidden("Your state's keys do not open this.")
ACTOR = {"role": "broker", "name": "Saloum Trading", "country": "SEN"}


def altered(stored: object, **changes: object) -> object:
    """A copy of a stored event with some fields changed, as a tampered database would hold."""
    copied = copy.copy(stored)
    for name, value in changes.items():
        object.__setattr__(copied, name, value)
    return copied


def note_events(exchange: Exchange, analyst: object) -> tuple[uuid.UUID, object, object]:
    """A case of FRA with an actor added (version 2) and revised (version 3)."""
    case_id = exchange.cases.open_case(analyst, {"title": "Rifles in a cache"})
    part = exchange.cases.add_part(analyst, case_id, 1, "actor", ACTOR)
    exchange.cases.revise_part(analyst, case_id, 2, "actor", part, {**ACTOR, "country": "GMB"})
    added, revised = list(exchange.ledger.events.get(case_id))[1:3]
    return case_id, added, revised


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory, ("FRA", "DEU", "MLI"))


@pytest.fixture
def sealing(exchange: Exchange) -> Sealing:
    return exchange.cases.sealing


def store(exchange: Exchange, owner: uuid.UUID, wrapped: dict) -> None:
    with exchange.ledger.transaction() as session:
        exchange.keystore.put_wrapped_keys(session, str(owner), wrapped)


def test_a_grant_lets_exactly_the_named_states_read(
        exchange: Exchange, sealing: Sealing, people: dict) -> None:
    owner, key = uuid.uuid4(), CaseKey.generate(1)
    granted = sealing.grant(owner, [key], ["FRA", "DEU"])
    store(exchange, owner, granted.wrapped)
    assert sealing.keys(people["FRA"], owner, NO) == {1: key}
    assert sealing.keys(people["DEU"], owner, NO) == {1: key}
    assert sealing.keys(people["MLI"], owner, NO) == {}
    # The event records who and a digest of each wrapped key, never the key itself.
    assert {(g["recipient"], g["key_version"], g["wrapped_sha256"]) for g in granted.grants} \
        == {(s, 1, sha256_hex(granted.wrapped[(1, s)])) for s in ("FRA", "DEU")}


def test_another_states_keyring_cannot_unwrap_a_key_wrapped_for_a_state(
        sealing: Sealing, people: dict) -> None:
    owner, key = uuid.uuid4(), CaseKey.generate(1)
    granted = sealing.grant(owner, [key], ["FRA"])
    blob = granted.wrapped[(1, "FRA")]
    assert sealing.unwrap(people["FRA"], owner, blob) == key  # kept unwrapped for FRA now
    with pytest.raises(CryptoError):
        sealing.unwrap(people["MLI"], owner, blob)
    with pytest.raises(CryptoError):  # nor for another owner, by FRA itself
        sealing.unwrap(people["FRA"], uuid.uuid4(), blob)
    with pytest.raises(CryptoError):  # nor a tampered blob
        sealing.unwrap(people["FRA"], owner, blob[:-1] + bytes([blob[-1] ^ 1]))


def test_a_wrapped_key_copied_to_another_state_is_refused_not_opened(
        exchange: Exchange, sealing: Sealing, people: dict) -> None:
    owner = uuid.uuid4()
    granted = sealing.grant(owner, [CaseKey.generate(1)], ["FRA"])
    store(exchange, owner, {(1, "MLI"): granted.wrapped[(1, "FRA")]})
    with pytest.raises(Forbidden, match="keys do not open"):
        sealing.keys(people["MLI"], owner, Forbidden("Your state's keys do not open this."))


def test_a_sealed_body_opens_only_as_the_event_it_was_sealed_for(
        exchange: Exchange, sealing: Sealing, people: dict) -> None:
    case_id, added, revised = note_events(exchange, people["FRA"])
    keys = sealing.keys(people["FRA"], case_id, NO)
    assert open_body(keys, case_id, added)["name"] == ACTOR["name"]
    assert isinstance(added, Case.PartAdded) and isinstance(revised, Case.PartRevised)
    for owner, moved in ((case_id, altered(added, originator_version=3)),   # another version
                         (case_id, altered(revised, body=added.body)),      # another type
                         (uuid.uuid4(), added)):                            # another case
        with pytest.raises(CryptoError):
            open_body(keys, owner, moved)


def test_a_flipped_byte_in_a_body_does_not_open(
        exchange: Exchange, sealing: Sealing, people: dict) -> None:
    case_id, added, _ = note_events(exchange, people["FRA"])
    token = bytearray(added.body_bytes())
    token[-1] ^= 1
    with pytest.raises(CryptoError):
        open_body(sealing.keys(people["FRA"], case_id, NO), case_id,
                  altered(added, body=base64.b64encode(bytes(token)).decode()))


def test_a_body_of_a_key_version_the_viewer_lacks_stays_closed(
        exchange: Exchange, people: dict) -> None:
    case_id, added, _ = note_events(exchange, people["FRA"])
    assert open_body({2: CaseKey.generate(2)}, case_id, added) is None
    assert open_body({1: CaseKey.generate(1)}, case_id, altered(added, body="")) is None


def test_a_title_opens_only_for_its_case_and_key() -> None:
    case_id, key = uuid.uuid4(), CaseKey.generate(1)
    token = seal_title(key, case_id, 7, "Rifles in a cache")
    assert open_title(key, case_id, token) == "Rifles in a cache"
    with pytest.raises(CryptoError):
        open_title(key, uuid.uuid4(), token)
    with pytest.raises(CryptoError):
        open_title(CaseKey.generate(1), case_id, token)
    with pytest.raises(CryptoError):  # the version in the token is bound too
        open_title(key, case_id, "8:" + token.split(":", 1)[1])


@pytest.mark.parametrize("event_class", [Case.Opened, Case.PartAdded, Case.Shared])
def test_a_body_context_is_the_canonical_json_it_always_was(event_class) -> None:
    """Stored bodies are bound to these bytes: the fast encoding must not change them."""
    case_id = uuid.uuid4()
    assert body_context(case_id, 1234, event_class) == canonical_json(
        {"case": str(case_id), "version": 1234, "type": get_topic(event_class)})
