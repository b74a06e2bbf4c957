"""The access ledger answers who could read a case at a moment, and what a state could read."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from infra.wiring import Exchange
from tests.conftest import PASSWORD, rebuilt_from_zero, register_states
from tests.test_cases import ITEM, SUMMARY

TICK = timedelta(microseconds=1)


def stamps(exchange: Exchange, aggregate_id: Any) -> dict[int, datetime]:
    """Each event's moment, by version."""
    return {e.originator_version: e.timestamp for e in exchange.ledger.events.get(aggregate_id)}


def story(exchange: Exchange) -> dict[str, Any]:
    """Open → bilateral (DEU) → trace request (MLI) → portal → unshare DEU → tabled at a
    meeting with DEU → lesson → DEU leaves → closed → shredded."""
    people = register_states(exchange.directory, ("FRA", "DEU", "MLI"))
    exchange.directory.add_user(people["FRA.admin"], "fra.admin2", PASSWORD, ["state_admin"])
    second_admin = exchange.directory.authenticate("fra.admin2", PASSWORD)
    cases, meetings, fra = exchange.cases, exchange.meetings, people["FRA"]
    case_id = cases.open_case(fra, SUMMARY)                                   # v1
    item = cases.add_part(fra, case_id, 1, "item", ITEM)                      # v2
    cases.share(fra, case_id, 2, "bilateral", ["DEU"])                        # v3
    trace_id = exchange.traces.send(fra, case_id, "MLI", [item], "Who bought these?")
    cases.share(fra, case_id, 3, "portal")                                    # v4: MLI too
    cases.unshare(fra, case_id, 4, ["DEU"])                                   # v5: key 2
    meeting = meetings.convene(people["secretariat"], "Session", "2026-06-12", "",
                               ["FRA", "DEU"])
    meetings.table_case(fra, meeting, case_id)                                # v6: DEU again
    lesson = meetings.propose_lesson(fra, meeting, "Stockpiles leak.", ["FRA"])
    meetings.release(people["secretariat"], meeting, "DEU")                   # v7: key 3
    for version, status in ((7, "under_investigation"), (8, "unfounded"), (9, "closed")):
        cases.change_status(fra, case_id, version, status)                    # v8..v10
    cases.set_retention(people["FRA.admin"], case_id, 0)                      # v11
    cases.request_shred(people["FRA.admin"], case_id)                         # v12
    cases.confirm_shred(second_admin, case_id)                                # v13
    exchange.follow()
    return {"case": str(case_id), "trace": str(trace_id), "lesson": lesson,
            "at": stamps(exchange, case_id), "trace_at": stamps(exchange, trace_id)}


def test_readers_follow_shares_unshares_meetings_traces_and_shredding(
        exchange: Exchange) -> None:
    told = story(exchange)
    ledger, case, at = exchange.access_ledger.view, told["case"], told["at"]
    expected = {1: ["FRA"], 2: ["FRA"], 3: ["DEU", "FRA"], 4: ["DEU", "FRA", "MLI"],
                5: ["FRA", "MLI"], 6: ["DEU", "FRA", "MLI"], 7: ["FRA", "MLI"],
                12: ["FRA", "MLI"], 13: []}
    assert ledger.readers_at(case, at[1] - TICK) == []
    for version, readers in expected.items():
        assert ledger.readers_at(case, at[version]) == readers, version
        if version > 1:  # just before the event, the previous answer holds
            before = expected.get(version - 1)
            if before is not None:
                assert ledger.readers_at(case, at[version] - TICK) == before, version
    trace = told["trace"]
    assert ledger.readers_at(trace, told["trace_at"][1]) == ["FRA", "MLI"]
    assert ledger.readers_at(trace, at[12]) == ["FRA", "MLI"]  # unshares rotate case keys only
    assert ledger.readers_at(trace, at[13]) == []
    assert ledger.readers_at(told["lesson"], at[13]) == ["DEU", "FRA"]


def test_what_each_state_could_read_and_with_which_keys(exchange: Exchange) -> None:
    told = story(exchange)
    ledger, case, at = exchange.access_ledger.view, told["case"], told["at"]

    def held(state: str, version: int) -> list[tuple[str, str, tuple[int, ...]]]:
        return sorted((r.kind, r.aggregate_id, r.key_versions)
                      for r in ledger.access_of(state, at[version]))

    trace, lesson = told["trace"], told["lesson"]
    assert held("DEU", 3) == [("case", case, (1,))]
    assert held("DEU", 5) == []  # out from the unshare on: it keeps only what it read
    assert held("DEU", 6) == [("case", case, (1, 2))]  # tabled: every key version
    assert held("DEU", 7) == [("lesson", lesson, (1,))]  # left: the case is closed to it
    assert held("MLI", 4) == sorted([("case", case, (1,)), ("trace_request", trace, (1,))])
    assert held("MLI", 7) == sorted([("case", case, (1, 2, 3)),
                                     ("trace_request", trace, (1,))])
    assert held("FRA", 12) == sorted([("case", case, (1, 2, 3)), ("lesson", lesson, (1,)),
                                      ("trace_request", trace, (1,))])
    assert held("FRA", 13) == [("lesson", lesson, (1,))]  # shredded: case and trace gone
    assert held("MLI", 13) == []
    since = {r.aggregate_id: r.since for r in ledger.access_of("MLI", at[12])}
    assert since[case].replace(tzinfo=None) == at[4].replace(tzinfo=None)  # naive on SQLite


def test_rebuilt_from_zero_the_ledger_is_identical(exchange: Exchange) -> None:
    story(exchange)
    live = exchange.access_ledger.view.dump()
    assert len(live["access_periods"]) == 8 and len(live["access_key_grants"]) == 13
    assert rebuilt_from_zero(exchange, exchange.access_ledger) == live
