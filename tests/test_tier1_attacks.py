"""The tier-1 tables attacked by the subgroup's own members (issue 24), on a real exchange.

Each test is one attack a member state's analyst tried: it must now learn nothing about
another state's cases beyond what the audit allows.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cases.kernel.errors import Forbidden
from cases.kernel.keystore import policy_fact_keys
from cases.policy.facts import open_facts
from crypto import CryptoError
from infra.wiring import Exchange
from projections.policy_summary import policy_facts
from projections.summaries import figures, preview, publish, summarise
from tests.conftest import PASSWORD, register_states
from tests.test_cases import ITEM, SUMMARY
from tests.test_tracing import QUESTIONS

YEAR = 2026  # cases are counted in the year they were opened: this one
# Discovery states outside the exchange: their consent is never asked.
IN_NORTH_AMERICA, IN_SOUTH_AMERICA, IN_EUROPE, IN_AFRICA = "USA", "BRA", "ITA", "KEN"


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory, ("NGA", "MEX", "PER", "DEU", "FRA", "GHA"))


def proposed(exchange: Exchange, people: dict, owner: str, discovery: str,
             n: int = 1, trace_to: str | None = None) -> list[Any]:
    """``n`` national cases of ``owner`` discovered in ``discovery``, proposed (consent is
    complete at once: no other member state is concerned)."""
    found = []
    for _ in range(n):
        summary = dict(SUMMARY, concerned={"discovery": discovery})
        case_id = exchange.cases.open_case(people[owner], summary)
        item = exchange.cases.add_part(people[owner], case_id, 1, "item", ITEM)
        if trace_to:
            exchange.traces.send(people[owner], case_id, requested_state=trace_to,
                                 item_ids=[item], questions=QUESTIONS)
        assert exchange.policy.propose(people[owner], case_id) == []
        found.append(case_id)
    return found


def live(exchange: Exchange, people: dict) -> Any:
    exchange.follow()
    return preview(people["secretariat"], exchange.policy_summary.included(),
                   exchange.thresholds)


def release(exchange: Exchange, people: dict) -> dict[str, int | None]:
    exchange.follow()
    published = publish(exchange.releases, people["secretariat"],
                        exchange.policy_summary.included(), exchange.thresholds, YEAR,
                        this_year=YEAR + 1)
    return published.editions[-1]["figures"]


def test_padding_a_cell_with_ones_own_cases_does_not_publish_it(
        exchange: Exchange, people: dict) -> None:
    proposed(exchange, people, "MEX", IN_NORTH_AMERICA, 3)
    proposed(exchange, people, "PER", IN_SOUTH_AMERICA, 3)
    for state in ("DEU", "FRA", "GHA"):
        proposed(exchange, people, state, IN_AFRICA, 3)
    before = live(exchange, people).tables["region"]
    proposed(exchange, people, "NGA", IN_NORTH_AMERICA, 4)  # 7 cases, but only 2 states
    proposed(exchange, people, "NGA", IN_SOUTH_AMERICA, 4)
    after = live(exchange, people)
    region = after.tables["region"]
    for cell in ((str(YEAR), "North America"), (str(YEAR), "South America")):
        assert before.cells[cell] is None and region.cells[cell] is None
    assert region.cells[(str(YEAR), "Africa")] == 9  # three states mixed: published
    assert after.report and all(f.protected for f in after.report)


def test_members_never_read_the_live_tables_and_a_release_does_not_move_by_one_case(
        exchange: Exchange, people: dict) -> None:
    for state in ("DEU", "FRA", "GHA"):
        proposed(exchange, people, state, IN_EUROPE, 3)
    with pytest.raises(Forbidden):
        preview(people["DEU"], exchange.policy_summary.included(), exchange.thresholds)
    first = release(exchange, people)
    assert first[f"region|{YEAR}|Europe"] == 9
    proposed(exchange, people, "FRA", IN_EUROPE, 1)  # one more FRA case enters
    assert exchange.releases.latest(YEAR) == first  # nothing published moved
    second = release(exchange, people)
    assert second[f"region|{YEAR}|Europe"] is None  # 10 - 9 = 1 would be that case
    assert second[f"category|{YEAR}|small_arms"] is None


def test_a_zero_beside_a_suppressed_figure_is_suppressed(exchange: Exchange,
                                                          people: dict) -> None:
    proposed(exchange, people, "DEU", IN_EUROPE, 1, trace_to="FRA")  # not traced (yet)
    for state in ("NGA", "FRA", "GHA"):
        proposed(exchange, people, state, IN_AFRICA, 2, trace_to="DEU")
    table = live(exchange, people).tables["traced_by_region"]
    row = f"{YEAR} Europe"
    assert table.cells[(row, "not_traced")] is None
    assert table.cells[(row, "traced")] is None  # a 0 would say: none of them was traced


def test_the_headline_count_obeys_the_rules_too(exchange: Exchange, people: dict) -> None:
    proposed(exchange, people, "FRA", IN_EUROPE, 6)
    summary = live(exchange, people)
    assert summary.cases is None and figures(summary)["cases|total|total"] is None


def test_a_correction_does_not_uncover_what_an_earlier_edition_suppressed(
        exchange: Exchange, people: dict) -> None:
    proposed(exchange, people, "MEX", IN_NORTH_AMERICA, 3)
    proposed(exchange, people, "PER", IN_SOUTH_AMERICA, 2)
    for state in ("DEU", "FRA", "GHA"):
        proposed(exchange, people, state, IN_AFRICA, 3)
    first = release(exchange, people)
    north, south = f"region|{YEAR}|North America", f"region|{YEAR}|South America"
    assert first[north] is None and first[south] is None
    for state in ("NGA", "FRA", "GHA"):  # enough cases of others to pass every rule now
        proposed(exchange, people, state, IN_NORTH_AMERICA, 2)
        proposed(exchange, people, state, IN_SOUTH_AMERICA, 2)
    exchange.follow()
    fresh = figures(summarise(exchange.policy_summary.included(), exchange.thresholds))
    assert fresh[north] == 9 and fresh[south] == 8  # a first release would publish them
    second = release(exchange, people)
    assert second[north] is None and second[south] is None
    edition = exchange.releases.all()[0].editions[-1]
    assert {f["figure"] for f in edition["audit"]} >= {north, south}
    assert all(f["protected"] for f in edition["audit"])


def facts_read_with_the_subgroup_key(exchange: Exchange, case_id: Any) -> list[dict]:
    """What a thief holding the database and subgroup.key opens of a case's proposals."""
    with exchange.ledger.transaction() as session:
        keys = {r.version: r.sealed for r in session.execute(select(policy_fact_keys).where(
            policy_fact_keys.c.case_id == str(case_id)))}
    opened = []
    for event in exchange.ledger.events.get(case_id):
        if type(event).__name__ == "PolicyFactsSealed":
            try:
                opened.append(open_facts(event.body_bytes(), keys.get(event.originator_version),
                                         exchange.policy_summary.subgroup_key.private, case_id,
                                         event.originator_version))
            except CryptoError:
                continue
    return opened


def test_the_summary_store_holds_no_fact_in_clear_and_a_shredded_case_opens_no_more(
        exchange: Exchange, people: dict) -> None:
    [kept, shredded] = proposed(exchange, people, "DEU", IN_AFRICA, 2)
    exchange.follow()
    with exchange.ledger.transaction() as session:
        stored = session.execute(select(policy_facts)).all()
    assert len(stored) == 2
    for row in stored:  # owner, consents and the sealed proposal: no category, region, year
        text = repr(tuple(row)).encode()
        for fact in (b"small_arms", b"Africa", b"at_or_after_delivery", b"2026", b"suspected"):
            assert fact not in text and fact not in row.sealed
    assert facts_read_with_the_subgroup_key(exchange, shredded)[0]["region"] == "Africa"
    assert len(exchange.policy_summary.included()) == 2

    exchange.directory.add_user(people["DEU.admin"], "deu.admin2", PASSWORD, ["state_admin"])
    second = exchange.directory.authenticate("deu.admin2", PASSWORD)
    exchange.cases.change_status(people["DEU"], shredded, 3, "unfounded")
    exchange.cases.change_status(people["DEU"], shredded, 4, "closed")
    exchange.cases.set_retention(people["DEU.admin"], shredded, 0)
    exchange.cases.request_shred(people["DEU.admin"], shredded)
    exchange.cases.confirm_shred(second, shredded)
    exchange.follow()
    assert facts_read_with_the_subgroup_key(exchange, shredded) == []
    assert len(facts_read_with_the_subgroup_key(exchange, kept)) == 1
    assert [f["case_id"] for f in exchange.policy_summary.included()] == [str(kept)]
