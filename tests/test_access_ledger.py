"""The access ledger answers who could read a case at a moment, and what a state could read."""

from __future__ import annotations

from datetime import timedelta

from infra.wiring import Exchange
from tests.conftest import PASSWORD, rebuilt_from_zero, register_states
from tests.test_cases import ITEM, SUMMARY


def test_readers_and_access_follow_shares_unshares_traces_and_shredding(
        exchange: Exchange) -> None:
    people = register_states(exchange.directory, ("FRA", "DEU", "MLI"))
    exchange.directory.add_user(people["FRA.admin"], "fra.admin2", PASSWORD, ["state_admin"])
    second_admin = exchange.directory.authenticate("fra.admin2", PASSWORD)
    cases, fra = exchange.cases, people["FRA"]
    case_id = cases.open_case(fra, SUMMARY)                                   # v1
    item = cases.add_part(fra, case_id, 1, "item", ITEM)                      # v2
    cases.share(fra, case_id, 2, "bilateral", ["DEU"])                        # v3
    trace_id = exchange.traces.send(fra, case_id, "MLI", [item], "Who bought these?")
    cases.share(fra, case_id, 3, "portal")                                    # v4: MLI too
    cases.unshare(fra, case_id, 4, ["DEU"])                                   # v5
    for version, status in ((5, "under_investigation"), (6, "unfounded"), (7, "closed")):
        cases.change_status(fra, case_id, version, status)                    # v6..v8
    cases.set_retention(people["FRA.admin"], case_id, 0)                      # v9
    cases.request_shred(people["FRA.admin"], case_id)                         # v10
    cases.confirm_shred(second_admin, case_id)                                # v11
    exchange.follow()
    at = {row.version: row.timestamp
          for row in exchange.audit_index.view.events_of(str(case_id))}
    ledger = exchange.access_ledger.view
    case = str(case_id)
    assert ledger.readers_at(case, at[1] - timedelta(microseconds=1)) == []
    assert ledger.readers_at(case, at[1]) == ["FRA"]
    assert ledger.readers_at(case, at[3]) == ["DEU", "FRA"]
    assert ledger.readers_at(case, at[4]) == ["DEU", "FRA", "MLI"]
    assert ledger.readers_at(case, at[5]) == ["FRA", "MLI"]
    assert ledger.readers_at(case, at[10]) == ["FRA", "MLI"]
    assert ledger.readers_at(case, at[11]) == []
    assert ledger.readers_at(str(trace_id), at[10]) == ["FRA", "MLI"]
    assert ledger.readers_at(str(trace_id), at[11]) == []

    def kinds(state: str, version: int) -> list[tuple[str, str]]:
        return [(row.kind, row.aggregate_id) for row in ledger.access_of(state, at[version])]

    assert kinds("DEU", 3) == [("case", case)]
    assert kinds("DEU", 5) == []
    assert sorted(kinds("MLI", 4)) == sorted([("case", case), ("trace_request", str(trace_id))])
    assert kinds("MLI", 11) == []


def test_rebuilt_from_zero_the_ledger_is_identical(exchange: Exchange) -> None:
    people = register_states(exchange.directory, ("FRA", "DEU"))
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
    exchange.cases.unshare(people["FRA"], case_id, 2, ["DEU"])
    exchange.follow()
    live = exchange.access_ledger.view.dump()
    assert live["access_periods"]
    assert rebuilt_from_zero(exchange, exchange.access_ledger) == live
