"""Stored events verify end to end; a tampered field, deleted row or forged signature is named."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import text

from cases.audit.log import verify_log
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.test_cases import ITEM, SUMMARY


@pytest.fixture
def logged(exchange: Exchange) -> Exchange:
    directory = exchange.directory
    directory.initialise("secretariat", PASSWORD)
    sec = directory.authenticate("secretariat", PASSWORD)
    directory.create_state(sec, "FRA", "state_party", "fra.admin", PASSWORD)
    directory.create_state(sec, "DEU", "state_party", "deu.admin", PASSWORD)
    admin = directory.authenticate("fra.admin", PASSWORD)
    directory.add_user(admin, "fra.analyst", PASSWORD, ["analyst"])
    analyst = directory.authenticate("fra.analyst", PASSWORD)
    case_id = exchange.cases.open_case(analyst, SUMMARY)
    exchange.cases.add_part(analyst, case_id, 1, "item", ITEM)
    directory.rotate_state_keys(admin)  # later events are signed with key version 2
    analyst = directory.authenticate("fra.analyst", PASSWORD)
    exchange.cases.share(analyst, case_id, 2, "bilateral", ["DEU"])
    return exchange


def rows(exchange: Exchange) -> list[tuple[int, bytes]]:
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        return [(r[0], bytes(r[1])) for r in
                db.execute(text("SELECT id, state FROM divex_events ORDER BY id"))]


def rewrite(exchange: Exchange, notification_id: int, state: bytes) -> None:
    with exchange.ledger.recorder.datastore.engine.begin() as db:
        db.execute(text("UPDATE divex_events SET state = :s WHERE id = :i"),
                   {"s": state, "i": notification_id})


def test_untouched_log_verifies(logged: Exchange) -> None:
    result = verify_log(logged.ledger)
    assert result.ok, result.finding
    assert result.events_checked == len(rows(logged))


@pytest.mark.parametrize("field", ["body", "title", "owner", "timestamp", "signing_key_version"])
def test_changed_field_of_a_stored_event_is_detected(logged: Exchange, field: str) -> None:
    notification_id, state = next((i, s) for i, s in rows(logged) if b'"owner"' in s)
    event = json.loads(state)
    value = event[field]
    if field == "timestamp":
        event[field] = {**value, "_data_": value["_data_"].replace(":", ":", 1)[:-1] + "1"}
    elif isinstance(value, int):
        event[field] = value + 1
    else:
        event[field] = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    rewrite(logged, notification_id, json.dumps(event).encode())
    finding = verify_log(logged.ledger).finding
    assert finding is not None
    assert (finding.notification_id, finding.check) == (notification_id, "signature")


def test_deleted_event_is_detected(logged: Exchange) -> None:
    victim = next(i for i, s in rows(logged) if b'"kind":"item"' in s)
    with logged.ledger.recorder.datastore.engine.begin() as db:
        db.execute(text("DELETE FROM divex_events WHERE id = :i"), {"i": victim})
    finding = verify_log(logged.ledger).finding
    assert finding is not None
    assert finding.check == "version" and finding.notification_id > victim


def test_signature_from_another_event_is_detected(logged: Exchange) -> None:
    (_, first), (second_id, second) = rows(logged)[-2:]
    forged = json.loads(second)
    forged["signature"] = json.loads(first)["signature"]
    rewrite(logged, second_id, json.dumps(forged).encode())
    finding = verify_log(logged.ledger).finding
    assert finding is not None
    assert (finding.notification_id, finding.check) == (second_id, "signature")


def _event_classes(cls: type) -> list[type]:
    return [cls] + [c for sub in cls.__subclasses__() for c in _event_classes(sub)]


def test_no_event_declares_a_field_the_signed_header_would_overwrite() -> None:
    """The header adds type, aggregate, version and timestamp after the fields the actor
    asserts: an asserted field of one of those names would be stored but not signed."""
    from cases.identity.directory import State
    from cases.kernel.ledger import _NOT_IN_HEADER, SignedAggregate, build_header

    legacy = State.CosigningKeyPublished.__qualname__  # read, no longer written (see its class)
    added = set(build_header(State.Registered, uuid4(), 1,
                             datetime.now(UTC), {}))
    clashing = {cls: sorted(added & ({f.name for f in fields(cls)} - _NOT_IN_HEADER))
                for cls in _event_classes(SignedAggregate.Event) if cls.__qualname__ != legacy}
    assert len(clashing) > 30  # every event type of the product is imported
    assert {cls: names for cls, names in clashing.items() if names} == {}
