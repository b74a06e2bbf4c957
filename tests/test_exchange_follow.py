"""`Exchange.follow`, which every listing page calls: the read models reach the end of the log
that any process wrote, and a quiet log costs one query."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from infra.settings import load_settings
from infra.wiring import Exchange, open_exchange
from projections.case_index import CaseFilter
from projections.follower import catch_up
from tests.conftest import rebuilt_from_zero, register_states

SUMMARY = {"title": "Pistols in a parcel", "narrative": "Twelve pistols.",
           "point_of_diversion": "in_transit", "concerned": {"exporter": "DEU"}}


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory)


@pytest.fixture
def other_process(exchange: Exchange) -> Iterator[Exchange]:
    opened = open_exchange(exchange.settings)
    yield opened
    opened.close()


def statements_of(exchange: Exchange) -> list[str]:
    seen: list[str] = []
    event.listen(exchange.ledger.recorder.datastore.engine, "before_cursor_execute",
                 lambda *args: seen.append(args[2]))
    return seen


def listed(exchange: Exchange, state: str) -> int:
    return exchange.case_index.view.list_for(state, CaseFilter())[1]


def test_follow_applies_what_another_process_appended(exchange: Exchange, people: dict,
                                                      other_process: Exchange) -> None:
    exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.follow()
    assert listed(exchange, "FRA") == 1
    other_process.cases.open_case(people["FRA"], SUMMARY)
    assert exchange.follow() > 0
    assert listed(exchange, "FRA") == 2
    assert exchange.audit_index.view.count() == other_process.ledger.recorder.max_notification_id()


def test_follow_on_a_log_that_has_not_grown_asks_one_question(exchange: Exchange,
                                                              people: dict) -> None:
    exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.follow()
    seen = statements_of(exchange)
    assert exchange.follow() == 0
    assert len(seen) == 1
    exchange.cases.open_case(people["FRA"], SUMMARY)
    seen.clear()
    assert exchange.follow() > 0
    assert len(seen) > 1 and listed(exchange, "FRA") == 2


def test_follow_starts_where_it_left_off_and_survives_a_rebuild_meanwhile(
        exchange: Exchange, people: dict, other_process: Exchange) -> None:
    first = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.follow()
    exchange.cases.open_case(people["FRA"], SUMMARY)
    seen = statements_of(exchange)
    exchange.follow()
    tracking = f"FROM {exchange.case_index.view.tracking_table_name}"
    assert not any("max(" in s.lower() and tracking in s for s in seen)  # no mark asked
    # Another process starts rebuilding a read model (dropped, nothing replayed yet): this
    # one follows on without an error, and the rebuild, replaying from the start, completes.
    view = other_process.case_index.view
    view.drop()
    view.create_table()
    exchange.cases.add_part(people["FRA"], first, 1, "note", {"text": "Seen at the port."})
    exchange.follow()
    catch_up(other_process.ledger, [other_process.case_index], since=0)
    assert listed(exchange, "FRA") == 2
    assert exchange.case_index.view.dump() == rebuilt_from_zero(exchange, exchange.case_index)


def eventually(check, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def test_the_background_follower_applies_a_change_as_soon_as_it_is_committed(
        exchange: Exchange, people: dict) -> None:
    exchange.follow()
    stop = exchange.start_following(every=3600)  # only this process's commits wake it
    try:
        exchange.cases.open_case(people["FRA"], SUMMARY)
        assert eventually(lambda: listed(exchange, "FRA") == 1)  # no request followed
        assert exchange.follow() == 0  # the next page finds the work done
    finally:
        stop()


def test_the_background_follower_picks_up_other_processes_changes_by_polling(
        exchange: Exchange, people: dict, other_process: Exchange) -> None:
    exchange.follow()
    stop = exchange.start_following()  # every DIVEX_FOLLOW_SECONDS
    try:
        other_process.cases.open_case(people["FRA"], SUMMARY)
        assert eventually(lambda: listed(exchange, "FRA") == 1)
    finally:
        stop()


def test_a_request_that_meets_the_background_follower_at_work_still_reads_its_write(
        exchange: Exchange, people: dict) -> None:
    """Read-your-writes: whatever the follower thread is doing, the page after a change
    shows it (the request waits for the thread's batch, then finds the log followed)."""
    exchange.follow()
    stop = exchange.start_following(every=0.001)
    try:
        for number in range(1, 6):
            exchange.cases.open_case(people["FRA"], SUMMARY)
            exchange.follow()
            assert listed(exchange, "FRA") == number
    finally:
        stop()


def test_how_often_followers_look_for_other_processes_events_is_a_setting() -> None:
    assert load_settings({}).follow_seconds == 0.05
    assert load_settings({"DIVEX_FOLLOW_SECONDS": "0.5"}).follow_seconds == 0.5
    for wrong, said in (("0", "must be at least 0.001"), ("often", "must be a number")):
        with pytest.raises(ValueError, match=f"DIVEX_FOLLOW_SECONDS {said}"):
            load_settings({"DIVEX_FOLLOW_SECONDS": wrong})
