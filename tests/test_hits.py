"""Private hits (issue 20): two states that recorded the same weapon learn it, and nothing else
is learnt by anyone: not the serial (by the server, a database thief, the oracle's log), not the
other state's case, not by a third state; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, text

from cases.hits.match_index import match_tokens
from cases.hits.oracle import OracleUsage
from cases.kernel.errors import Busy, Conflict, Forbidden, InvalidInput, NotFound
from crypto import oprf
from infra.wiring import Exchange
from tests.conftest import PASSWORD, register_states
from tests.test_inbox import counted, inbox

SERIAL = "KR-2291-7734"
RIFLE = {"category": "small_arms", "quantity": "1", "make": "Norvik Arms", "model": "NR-7",
         "serial": SERIAL, "match_check": "yes"}


@pytest.fixture
def people(exchange: Exchange) -> dict[str, Any]:
    return register_states(exchange.directory, ("FRA", "DEU", "MLI"), ("analyst", "reviewer"))


def record(exchange: Exchange, viewer: Any, title: str, **item: str) -> UUID:
    return exchange.cases.open_case(viewer, {"title": title}, items=[{**RIFLE, **item}])


def test_two_states_recording_the_same_rifle_each_get_one_hit_a_third_gets_nothing(
        exchange: Exchange, people: dict[str, Any]) -> None:
    fra_case = record(exchange, people["FRA"], "Rifle seized at Le Havre")
    # Germany writes the same marking its own way: case, spaces and dots do not count.
    record(exchange, people["DEU"], "Rifles exported 2019", serial="kr 2291.7734",
           make="NORVIK ARMS")
    record(exchange, people["MLI"], "Another rifle", serial="KR-2291-7735")
    fra_hits = exchange.hits.for_state(people["FRA"])
    deu_hits = exchange.hits.for_state(people["DEU"])
    assert [(h.other, h.case_id) for h in fra_hits] == [("DEU", str(fra_case))]
    assert [h.other for h in deu_hits] == ["FRA"] and deu_hits[0].id == fra_hits[0].id
    assert deu_hits[0].case_title == "Rifles exported 2019"
    assert fra_hits[0].item is not None and fra_hits[0].item["serial"] == SERIAL
    assert exchange.hits.for_state(people["MLI"]) == []
    with pytest.raises(NotFound):  # a third state cannot even tell the hit exists
        exchange.hits.view(people["MLI"], fra_hits[0].id)
    # Both are told, in words that name no case; MLI is told nothing.
    for state in ("FRA", "DEU"):
        assert [i.kind for i in inbox(exchange, people[state], kind="private_hit")] == \
            ["private_hit"]
    assert inbox(exchange, people["MLI"], kind="private_hit") == []


def test_saving_again_makes_no_second_hit_and_removing_the_item_drops_its_tokens(
        exchange: Exchange, people: dict[str, Any]) -> None:
    fra_case = record(exchange, people["FRA"], "Rifle seized")
    record(exchange, people["DEU"], "Rifle exported")
    cases = exchange.cases
    view = cases.view(people["FRA"], fra_case)
    item_id = next(iter(view.items))
    cases.revise_summary(people["FRA"], fra_case, view.version, {"title": "Rifle seized (2)"})
    assert len(exchange.hits.for_state(people["FRA"])) == 1
    rows = lambda state: exchange.ledger.recorder.datastore.engine.connect().execute(  # noqa: E731
        select(match_tokens.c.token).where(match_tokens.c.state == state)).all()
    assert len(rows("FRA")) == 1
    cases.remove_part(people["FRA"], fra_case, cases.version_of(fra_case), "item", item_id)
    assert rows("FRA") == [] and len(rows("DEU")) == 1


def test_an_item_not_chosen_or_too_short_enters_nothing(
        exchange: Exchange, people: dict[str, Any]) -> None:
    record(exchange, people["FRA"], "Not chosen", match_check="no")
    record(exchange, people["DEU"], "Too short", serial="K-1")
    record(exchange, people["MLI"], "Unknown", match_check="")
    with exchange.ledger.recorder.datastore.engine.connect() as connection:
        assert connection.execute(select(match_tokens)).all() == []


def test_the_store_and_the_oracle_log_hold_no_serial(
        exchange: Exchange, people: dict[str, Any]) -> None:
    record(exchange, people["FRA"], "Rifle seized")
    record(exchange, people["DEU"], "Rifle exported")
    assert len(exchange.hits.for_state(people["FRA"])) == 1
    engine = exchange.ledger.recorder.datastore.engine
    with engine.connect() as connection:
        tables = [t for t in (engine.dialect.get_table_names(connection))]
        dumped = b""
        for table in tables:
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                dumped += repr(tuple(row)).encode()
    # The serial in every spelling the code handles (4 digits alone would turn up by chance
    # in the dump's hex and base64), and the make.
    for needle in ("KR-2291", "KR2291", "kr2291", "22917734", "NORVIK", "Norvik"):
        assert needle.encode() not in dumped, needle


def test_a_state_over_its_daily_limit_is_refused_and_its_items_wait(
        exchange: Exchange, people: dict[str, Any]) -> None:
    exchange.hits.oracle.daily_limit = 3
    serials = "\n".join(f"NR-{n:05}" for n in range(5))
    case_id = record(exchange, people["FRA"], "Five rifles", quantity="5", serial=serials)
    assert exchange.hits.oracle.left_today("FRA") == 0
    with pytest.raises(Busy):
        exchange.hits.oracle.evaluate(people["FRA"].actor, [oprf.blind(b"x")[1]])
    # The log holds the count, signed by the state, never an input.
    usage = [e for e in exchange.ledger.events.get(OracleUsage.id_for(
        "FRA", datetime.now(UTC).date().isoformat()))]
    assert [getattr(e, "total", None) for e in usage] == [None, 3]
    assert exchange.hits.status(people["FRA"], case_id) == (3, 2)
    assert exchange.hits.oracle.left_today("DEU") == 3  # each state its own count
    assert exchange.hits.refresh(people["FRA"]) == 0  # nothing left today: they wait
    exchange.hits.oracle.daily_limit = 10  # (as on the next day)
    assert exchange.hits.refresh(people["FRA"]) == 1  # a request of FRA's enters them
    assert exchange.hits.status(people["FRA"], case_id) == (5, 0)
    assert exchange.hits.refresh(people["FRA"]) == 0


def test_the_oracle_refuses_forged_and_replayed_elements(
        exchange: Exchange, people: dict[str, Any]) -> None:
    oracle, actor = exchange.hits.oracle, people["FRA"].actor
    with pytest.raises(InvalidInput):
        oracle.evaluate(actor, [b"\x00" * 32])
    _, blinded = oprf.blind(b"divex-match-v1|serial|NORVIK|KR22917734")
    oracle.evaluate(actor, [blinded])
    with pytest.raises(InvalidInput):
        oracle.evaluate(actor, [blinded])
    with pytest.raises(InvalidInput):
        oracle.evaluate(actor, [oprf.blind(b"a")[1]] * 2)


def test_each_side_answers_once_and_sees_the_others_answer(
        exchange: Exchange, people: dict[str, Any]) -> None:
    record(exchange, people["FRA"], "Rifle seized")
    deu_case = record(exchange, people["DEU"], "Rifle exported")
    hit = exchange.hits.for_state(people["FRA"])[0]
    with pytest.raises(Forbidden):
        exchange.hits.answer(people["DEU.reviewer"], hit.id, "dismissed")
    with pytest.raises(NotFound):
        exchange.hits.answer(people["MLI"], hit.id, "dismissed")
    exchange.hits.answer(people["DEU"], hit.id, "case_shared")
    # Sharing was the one step: France now reads Germany's case.
    assert exchange.cases.view(people["FRA"], deu_case).summary["title"] == "Rifle exported"
    seen = exchange.hits.view(people["FRA"], hit.id)
    assert (seen.mine, seen.theirs) == ("", "case_shared")
    with pytest.raises(Conflict):
        exchange.hits.answer(people["DEU"], hit.id, "dismissed")
    before = counted(exchange, people["FRA"])  # kept by this process, until it changes
    exchange.hits.answer(people["FRA"], hit.id, "dismissed")
    assert [i.settled for i in inbox(exchange, people["FRA"], kind="private_hit")] == [True]
    assert counted(exchange, people["FRA"]) == before - 1


def test_shredding_a_case_drops_its_tokens(exchange: Exchange, people: dict[str, Any]) -> None:
    case_id = record(exchange, people["FRA"], "Rifle seized")
    engine = exchange.ledger.recorder.datastore.engine
    with engine.connect() as connection:
        assert len(connection.execute(select(match_tokens)).all()) == 1
    exchange.directory.add_user(people["FRA.admin"], "fra.admin2", PASSWORD, ["state_admin"])
    second_admin = exchange.directory.authenticate("fra.admin2", PASSWORD)
    cases = exchange.cases
    for status in ("under_investigation", "confirmed", "closed"):
        cases.change_status(people["FRA"], case_id, cases.version_of(case_id), status)
    cases.set_retention(people["FRA.admin"], case_id, 0)
    cases.request_shred(people["FRA.admin"], case_id)
    cases.confirm_shred(second_admin, case_id)
    with engine.connect() as connection:
        assert connection.execute(select(match_tokens)).all() == []


def test_a_list_request_looks_for_due_hit_checks_again_only_later_or_after_a_key_rotation(
        exchange: Exchange, people: dict[str, Any]) -> None:
    exchange.hits.oracle.daily_limit = 3
    case_id = record(exchange, people["FRA"], "Five rifles", quantity="5",
                     serial="\n".join(f"NR-{n:05}" for n in range(5)))
    exchange.index_for(people["FRA"])  # nothing left today: none due, not looked for again
    exchange.hits.oracle.daily_limit = 10  # (as on the next day)
    exchange.index_for(people["FRA"])
    assert exchange.hits.status(people["FRA"], case_id) == (3, 2)
    exchange.directory.rotate_state_keys(people["FRA.admin"])
    exchange.follow()
    rotated = exchange.directory.authenticate("fra.analyst", PASSWORD)
    exchange.index_for(rotated)  # the new key's rows are due at once
    assert exchange.hits.status(rotated, case_id) == (5, 0)
