"""Tier 3 informal meetings: tabling, late joiners, leavers, outcomes, lessons and consent."""

from __future__ import annotations

import pytest

from cases.audit.log import verify_log
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.meetings.meeting_service import Meetings
from infra.wiring import Exchange
from tests.conftest import register_states
from tests.test_cases import SUMMARY


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory, codes=("FRA", "DEU", "MLI", "SEN"),
                           roles=("analyst", "auditor"))


@pytest.fixture
def meetings(exchange: Exchange) -> Meetings:
    return exchange.meetings


def count(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


@pytest.fixture
def tabled(exchange: Exchange, people: dict, meetings: Meetings) -> dict:
    meeting = meetings.convene(people["secretariat"], "Diversion exchange, session 3",
                               "2026-06-12", "Diversion Information Exchange Forum",
                               ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    meetings.table_case(people["FRA"], meeting, case_id)
    return {"meeting": meeting, "case": case_id}


def test_tabling_shares_the_case_with_participants_only(exchange: Exchange, people: dict,
                                                        tabled: dict) -> None:
    view = exchange.cases.view(people["DEU"], tabled["case"])
    assert view.title == SUMMARY["title"] and view.tier == "meeting"
    for outsider in ("MLI", "secretariat"):
        with pytest.raises(NotFound):
            exchange.cases.view(people[outsider], tabled["case"])


@pytest.mark.parametrize("who", ["DEU", "FRA.auditor", "FRA.admin"])
def test_only_an_analyst_of_the_owner_state_tables_its_case(exchange: Exchange, people: dict,
                                                           meetings: Meetings, who: str) -> None:
    meeting = meetings.convene(people["secretariat"], "Session", "2026-06-12", "",
                               ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "portal", [])  # DEU reads it now
    before = count(exchange)
    with pytest.raises(Forbidden) as refused:
        meetings.table_case(people[who], meeting, case_id)
    assert refused.value.params == {"owner": "FRA"} and refused.value.field == "case_id"
    assert count(exchange) == before and meetings.view(people["FRA"], meeting).agenda == {}
    meetings.table_case(people["FRA"], meeting, case_id)
    assert meetings.view(people["DEU"], meeting).agenda == {str(case_id): "FRA"}


def test_late_joiner_reads_only_after_the_owner_confirms(exchange: Exchange, people: dict,
                                                         meetings: Meetings,
                                                         tabled: dict) -> None:
    meetings.admit(people["secretariat"], tabled["meeting"], "MLI")
    with pytest.raises(NotFound):
        exchange.cases.view(people["MLI"], tabled["case"])
    assert meetings.confirm_access(people["FRA"], tabled["meeting"], tabled["case"]) == [
        "MLI"]
    assert exchange.cases.view(people["MLI"], tabled["case"]).title == SUMMARY["title"]


def test_leaver_is_rotated_out_of_later_events(exchange: Exchange, people: dict,
                                               meetings: Meetings, tabled: dict) -> None:
    meetings.release(people["secretariat"], tabled["meeting"], "DEU")
    exchange.cases.add_part(people["FRA"], tabled["case"], 3, "note", {"text": "after"})
    with pytest.raises(NotFound):
        exchange.cases.view(people["DEU"], tabled["case"])
    with exchange.ledger.transaction() as session:
        held = exchange.keystore.wrapped_keys(session, str(tabled["case"]), "DEU")
    assert list(held) == [1]  # what DEU read stays read; the new key is not DEU's
    assert exchange.cases.view(people["FRA"], tabled["case"]).key_version == 2
    assert verify_log(exchange.ledger).ok  # the rotation signed by the secretariat verifies


def test_leaving_keeps_a_bilateral_reader(exchange: Exchange, people: dict,
                                          meetings: Meetings) -> None:
    meeting = meetings.convene(people["secretariat"], "M", "2026-06-12", "", ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
    meetings.table_case(people["FRA"], meeting, case_id)
    meetings.release(people["secretariat"], meeting, "DEU")
    assert exchange.cases.view(people["DEU"], case_id).title == SUMMARY["title"]


def test_outcome_is_sealed_for_the_case_readers(exchange: Exchange, people: dict,
                                                meetings: Meetings, tabled: dict) -> None:
    meetings.record_outcome(people["FRA"], tabled["meeting"], tabled["case"],
                            "Participants agreed to trace the rifles.")
    seen = meetings.view(people["DEU"], tabled["meeting"])
    assert seen.outcomes[str(tabled["case"])] == ["Participants agreed to trace the rifles."]
    secretariat = meetings.view(people["secretariat"], tabled["meeting"])
    assert secretariat.outcomes == {} and str(tabled["case"]) in secretariat.agenda
    with pytest.raises(NotFound):  # the convenor cannot read the case, so cannot seal to it
        meetings.record_outcome(people["secretariat"], tabled["meeting"], tabled["case"], "x")
    with pytest.raises(Forbidden):
        meetings.view(people["MLI"], tabled["meeting"])


def test_lesson_needs_every_concerned_states_consent(exchange: Exchange, people: dict,
                                                      meetings: Meetings, tabled: dict) -> None:
    lesson = meetings.propose_lesson(people["FRA"], tabled["meeting"],
                                     "Diversion after delivery rises where stockpiles are weak.",
                                     ["FRA", "DEU"])
    def state_of_lesson() -> dict:
        return meetings.view(people["FRA"], tabled["meeting"]).lessons[0]
    assert not state_of_lesson()["complete"]
    meetings.consent(people["FRA"], tabled["meeting"], lesson, True)
    assert not state_of_lesson()["complete"]
    meetings.consent(people["DEU"], tabled["meeting"], lesson, True)
    assert state_of_lesson()["complete"]
    meetings.consent(people["DEU"], tabled["meeting"], lesson, False)
    assert not state_of_lesson()["complete"]
    with pytest.raises(Forbidden):
        meetings.consent(people["MLI"], tabled["meeting"], lesson, True)
    assert meetings.view(people["MLI.auditor"], tabled["meeting"]).lessons[0]["text"] is None


def test_status_lifecycle_and_refusals_store_nothing(exchange: Exchange, people: dict,
                                                     meetings: Meetings, tabled: dict) -> None:
    meetings.change_status(people["secretariat"], tabled["meeting"], "open")
    before = count(exchange)
    with pytest.raises(Conflict):
        meetings.change_status(people["secretariat"], tabled["meeting"], "planned")
    with pytest.raises(Forbidden):
        meetings.change_status(people["FRA"], tabled["meeting"], "held")
    with pytest.raises(Forbidden):  # MLI is not a participant
        meetings.table_case(people["MLI"], tabled["meeting"],
                            exchange.cases.open_case(people["MLI"], SUMMARY))
    after_open = count(exchange)
    assert after_open == before + 1  # only MLI's own new case was stored
    with pytest.raises(InvalidInput) as bad:
        meetings.convene(people["secretariat"], "", "2026-01-01", "", ["FRA", "DEU"])
    assert bad.value.field == "title"
    with pytest.raises(InvalidInput) as bad:
        meetings.convene(people["secretariat"], "T", "soon", "", ["FRA", "DEU"])
    assert bad.value.field == "date"
    with pytest.raises(InvalidInput) as bad:
        meetings.convene(people["secretariat"], "T", "2026-01-01", "", ["FRA", "ZZZ"])
    assert bad.value.field == "participants"
    assert count(exchange) == after_open


def test_secretariat_reads_a_tabled_case_only_as_a_participant(
        exchange: Exchange, people: dict, meetings: Meetings) -> None:
    meeting = meetings.convene(people["secretariat"], "With the secretariat", "2026-06-12",
                               "", ["FRA", "DEU", "XAT"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    meetings.table_case(people["FRA"], meeting, case_id)
    assert exchange.cases.view(people["secretariat"], case_id).title == SUMMARY["title"]


def test_auditors_see_the_clear_history_of_a_meeting(exchange: Exchange, people: dict,
                                                     meetings: Meetings, tabled: dict) -> None:
    meetings.record_outcome(people["FRA"], tabled["meeting"], tabled["case"], "Sealed words")
    history = meetings.history(people["MLI.auditor"], tabled["meeting"])
    assert [h.event for h in history] == ["Convened", "CaseTabled", "OutcomeRecorded"]
    assert "Sealed words" not in repr(history)
    with pytest.raises(Forbidden):
        meetings.history(people["MLI"], tabled["meeting"])


def test_the_secretariat_joining_its_own_meeting_waits_on_the_owner_and_is_shown_to_it(
        exchange: Exchange, people: dict, meetings: Meetings, tabled: dict) -> None:
    from cases.identity.directory import SECRETARIAT_CODE

    meetings.admit(people["secretariat"], tabled["meeting"], SECRETARIAT_CODE)
    with pytest.raises(NotFound):  # it reads nothing tabled before it joined
        exchange.cases.view(people["secretariat"], tabled["case"])
    owner_sees = meetings.view(people["FRA"], tabled["meeting"])
    assert owner_sees.waiting == {str(tabled["case"]): [SECRETARIAT_CODE]}
    assert meetings.view(people["DEU"], tabled["meeting"]).waiting == {}  # not DEU's case
    meetings.confirm_access(people["FRA"], tabled["meeting"], tabled["case"])
    assert exchange.cases.view(people["secretariat"], tabled["case"]).title == SUMMARY["title"]
    assert meetings.view(people["FRA"], tabled["meeting"]).waiting == {}


def test_admitting_no_state_at_all_is_refused_with_a_message(
        people: dict, meetings: Meetings, tabled: dict) -> None:
    with pytest.raises(InvalidInput, match="ISO 3166-1 alpha-3"):
        meetings.admit(people["secretariat"], tabled["meeting"], "  ")
