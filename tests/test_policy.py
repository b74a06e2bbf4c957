"""Tier 1: only cases with complete consent reach the summary; withdrawing takes them out."""

from __future__ import annotations

import pytest

from cases.kernel.errors import Conflict, Forbidden, NotFound
from infra.wiring import Exchange
from projections.summaries import summarise
from tests.conftest import rebuilt_from_zero, register_states
from tests.test_cases import ITEM, SUMMARY


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory, ("FRA", "DEU", "MLI", "MEX"))


def shared_case(exchange: Exchange, people: dict, owner: str = "FRA") -> object:
    """A case concerning DEU (exporter) and MLI (discovery), shared with both."""
    case_id = exchange.cases.open_case(people[owner], SUMMARY)
    exchange.cases.add_part(people[owner], case_id, 1, "item", ITEM)
    others = [s for s in ("DEU", "MLI") if s != owner]
    exchange.cases.share(people[owner], case_id, 2, "bilateral", others)
    return case_id


def included(exchange: Exchange) -> list[dict]:
    exchange.follow()
    return exchange.policy_summary.included()


def test_a_case_reaches_the_summary_only_when_every_concerned_member_consents(
        exchange: Exchange, people: dict) -> None:
    case_id = shared_case(exchange, people)
    assert exchange.policy.propose(people["FRA"], case_id) == ["DEU", "MLI"]
    assert included(exchange) == []
    exchange.policy.consent(people["DEU"], case_id, True)
    assert included(exchange) == []
    exchange.policy.consent(people["MLI"], case_id, True)
    [facts] = included(exchange)
    assert facts["case_id"] == str(case_id) and facts["owner"] == "FRA"
    assert (facts["category"], facts["region"], facts["point_of_diversion"]) == \
        ("small_arms", "Africa", "at_or_after_delivery")
    assert facts["items"] == 1 and facts["trace_requested"] is False
    status = exchange.policy.status(people["MLI"], case_id)
    assert status is not None and status.complete


def test_withdrawing_consent_removes_the_case(exchange: Exchange, people: dict) -> None:
    case_id = shared_case(exchange, people)
    exchange.policy.propose(people["FRA"], case_id)
    for state in ("DEU", "MLI"):
        exchange.policy.consent(people[state], case_id, True)
    assert len(included(exchange)) == 1
    exchange.policy.consent(people["DEU"], case_id, False)
    assert included(exchange) == []


def test_only_concerned_readers_consent_and_no_content_leaves_sealed(
        exchange: Exchange, people: dict) -> None:
    case_id = shared_case(exchange, people)
    with pytest.raises(Conflict):
        exchange.policy.consent(people["DEU"], case_id, True)  # not proposed yet
    with pytest.raises(Forbidden):
        exchange.policy.propose(people["DEU.admin"], case_id)  # not the owner
    exchange.policy.propose(people["FRA"], case_id)
    with pytest.raises(NotFound):
        exchange.policy.consent(people["MEX"], case_id, True)  # cannot even read it
    exchange.cases.share(people["FRA"], case_id, 4, "bilateral", ["MEX"])
    with pytest.raises(Forbidden):
        exchange.policy.consent(people["MEX"], case_id, True)  # reads it, not concerned
    events = list(exchange.ledger.events.get(case_id))
    sealed = next(e for e in events if type(e).__name__ == "PolicyFactsSealed")
    assert b"small_arms" not in sealed.body_bytes() and b"Africa" not in sealed.body_bytes()
    view = exchange.cases.view(people["FRA"], case_id)
    assert view.unreadable_events == 0  # the sealed facts are not case content


def test_the_summary_projection_rebuilt_from_zero_equals_the_live_one(
        exchange: Exchange, people: dict) -> None:
    for owner in ("FRA", "DEU"):
        case_id = shared_case(exchange, people, owner)
        for state in exchange.policy.propose(people[owner], case_id):
            exchange.policy.consent(people[state], case_id, True)
    exchange.follow()
    live = exchange.policy_summary.view.dump()
    assert live["policy_facts"]
    assert rebuilt_from_zero(exchange, exchange.policy_summary) == live


def test_published_tables_carry_counts_only_and_respect_k(exchange: Exchange,
                                                          people: dict) -> None:
    case_ids = []
    for n in range(6):
        owner = ("FRA", "DEU", "MLI")[n % 3]
        case_id = shared_case(exchange, people, owner)
        for state in exchange.policy.propose(people[owner], case_id):
            exchange.policy.consent(people[state], case_id, True)
        case_ids.append(case_id)
    summary = summarise(included(exchange), exchange.thresholds)
    table = summary.tables["category"]
    year = table.rows[0]
    assert table.cells[(year, "small_arms")] == 6 and summary.cases == 6
    text = repr(summary)
    assert not any(str(c) in text for c in case_ids)
    assert "FRA" not in text and "MLI" not in text and "DEU" not in text
    exchange.policy.consent(people["DEU"], case_ids[0], False)
    fewer = summarise(included(exchange), exchange.thresholds)
    assert fewer.tables["category"].cells[(year, "small_arms")] == 5


def test_a_case_counts_in_the_year_its_items_were_found_else_the_year_it_was_logged(
        exchange: Exchange, people: dict) -> None:
    national = dict(SUMMARY, concerned={"discovery": "ITA"})  # no consent to wait for
    found_last_year = exchange.cases.open_case(
        people["FRA"], dict(national, found_on="2025-11-30", found_at="Port of Genoa"))
    unknown = exchange.cases.open_case(people["FRA"], national)
    for case_id in (found_last_year, unknown):
        exchange.policy.propose(people["FRA"], case_id)
    years = {f["case_id"]: f["year"] for f in included(exchange)}
    logged = exchange.cases.view(people["FRA"], unknown).opened_on.year
    assert years == {str(found_last_year): 2025, str(unknown): logged}
