"""Meeting discussion (issue 21): participants discuss a tabled case at an informal meeting, in
contributions to the case marked as said there; under Chatham House, pages show them without
the state that said it, but to that state and to auditors; the signed event still names it.
From the attacker's side: a state not at the meeting says and reads nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from cases.casework.contribution import Contribution
from cases.kernel.errors import Conflict, Forbidden, NotFound
from infra.wiring import Exchange
from tests.conftest import register_states
from tests.test_inbox import inbox


@pytest.fixture
def people(exchange: Exchange) -> dict[str, Any]:
    return register_states(exchange.directory, ("FRA", "DEU", "MLI", "PER"),
                           ("analyst", "reviewer"))


@pytest.fixture
def tabled(exchange: Exchange, people: dict[str, Any]) -> tuple[UUID, UUID]:
    meeting = exchange.meetings.convene(people["secretariat"], "Sahel forum", "2026-11-20",
                                       "WGETI", ["FRA", "DEU", "MLI"])
    case_id = exchange.cases.open_case(people["FRA"], {"title": "Rifles at Kidira"})
    exchange.meetings.table_case(people["FRA"], meeting, case_id)
    return meeting, case_id


def test_participants_discuss_a_tabled_case(exchange: Exchange, people: dict[str, Any],
                                            tabled: tuple[UUID, UUID]) -> None:
    meeting, case_id = tabled
    c = exchange.contributions
    c.contribute(people["DEU"], case_id, "information", "Licence DE-2017-0932.",
                 meeting=meeting)
    c.contribute(people["FRA"], case_id, "comment", "Not at the meeting.")
    for reader in ("FRA", "MLI.reviewer"):
        said = c.thread(people[reader], case_id, meeting=meeting)
        assert [(v.state, v.text) for v in said] == [("DEU", "Licence DE-2017-0932.")]
        assert len(c.thread(people[reader], case_id)) == 2  # the case's whole thread
    with pytest.raises(NotFound):  # not at the meeting: cannot read the case
        c.contribute(people["PER"], case_id, "comment", "Hello", meeting=meeting)
    other = exchange.cases.open_case(people["DEU"], {"title": "Not tabled"})
    exchange.cases.share(people["DEU"], other, 1, "bilateral", ["FRA"])
    with pytest.raises(Forbidden):  # a case not on the agenda
        c.contribute(people["FRA"], other, "comment", "Off the agenda", meeting=meeting)


def test_chatham_house_hides_who_said_it_but_from_its_state_and_auditors(
        exchange: Exchange, people: dict[str, Any], tabled: tuple[UUID, UUID]) -> None:
    meeting, case_id = tabled
    with pytest.raises(Forbidden):
        exchange.meetings.set_chatham_house(people["FRA"], meeting, True)
    exchange.meetings.set_chatham_house(people["secretariat"], meeting, True)
    c = exchange.contributions
    said = c.contribute(people["DEU"], case_id, "comment", "Our records show a re-export.",
                        meeting=meeting)
    for reader in ("FRA", "MLI"):
        seen = c.thread(people[reader], case_id)[0]
        assert (seen.state, seen.user, seen.unattributed) == ("", "", True)
        assert seen.text == "Our records show a re-export."
        assert c.read(people[reader], said).state == ""
    assert c.thread(people["DEU"], case_id)[0].state == "DEU"  # its own words
    assert c.thread(people["FRA"], case_id, audit=True)[0].state == "DEU"
    first = next(iter(exchange.ledger.events.get(said)))
    assert isinstance(first, Contribution.ContributedAtMeeting)
    assert first.actor_state == "DEU"  # the signed event names it
    told = [i for i in inbox(exchange, people["FRA"]) if i.kind == "contribution_added"]
    assert [i.actor_state for i in told] == [""]
    exchange.meetings.set_chatham_house(people["secretariat"], meeting, False)
    assert c.thread(people["FRA"], case_id)[0].state == "DEU"


def test_a_closed_meeting_takes_nothing_more(exchange: Exchange, people: dict[str, Any],
                                             tabled: tuple[UUID, UUID]) -> None:
    meeting, case_id = tabled
    for status in ("open", "held", "closed"):
        exchange.meetings.change_status(people["secretariat"], meeting, status)
    with pytest.raises(Conflict):
        exchange.contributions.contribute(people["DEU"], case_id, "comment", "Late.",
                                          meeting=meeting)
