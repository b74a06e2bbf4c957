"""Contributions (issue 21): states that read a case add to it; from the attacker's side, a state
that does not read it reads, lists and changes nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from infra.wiring import Exchange
from tests.conftest import register_states
from tests.test_inbox import inbox

SUMMARY = {"title": "Rifles found at Kidira"}


@pytest.fixture
def people(exchange: Exchange) -> dict[str, Any]:
    return register_states(exchange.directory, ("FRA", "DEU", "MLI"),
                           ("analyst", "reviewer", "auditor"))


@pytest.fixture
def shared(exchange: Exchange, people: dict[str, Any]) -> UUID:
    """FRA's case, shared with DEU."""
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
    return case_id


def events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


def test_a_reader_contributes_and_every_reader_sees_it_in_order(
        exchange: Exchange, people: dict[str, Any], shared: UUID) -> None:
    c = exchange.contributions
    c.contribute(people["DEU"], shared, "information", "Our export licence DE-2019-4471.")
    c.contribute(people["FRA.reviewer"], shared, "comment", "Thank you, checking it.")
    for reader in ("FRA", "DEU", "DEU.reviewer"):
        thread = c.thread(people[reader], shared)
        assert [(v.state, v.kind, v.text) for v in thread] == [
            ("DEU", "information", "Our export licence DE-2019-4471."),
            ("FRA", "comment", "Thank you, checking it.")]
    assert c.thread(people["FRA"], shared)[0].user == "deu.analyst"


def test_a_state_that_does_not_read_the_case_sees_and_does_nothing(
        exchange: Exchange, people: dict[str, Any], shared: UUID) -> None:
    contribution = exchange.contributions.contribute(people["DEU"], shared, "comment", "Seen.")
    before = events(exchange)
    for outsider in ("MLI", "MLI.reviewer", "secretariat"):
        with pytest.raises((NotFound, Forbidden)):
            exchange.contributions.thread(people[outsider], shared)
        with pytest.raises((NotFound, Forbidden)):
            exchange.contributions.contribute(people[outsider], shared, "comment", "Hello")
        with pytest.raises((NotFound, Forbidden)):
            exchange.contributions.hide(people[outsider], contribution, "spam")
    with pytest.raises(Forbidden):  # an auditor reads the log, not the discussion
        exchange.contributions.contribute(people["DEU.auditor"], shared, "comment", "x")
    assert events(exchange) == before


def test_a_removed_state_reads_nothing_written_after_and_a_new_one_reads_all(
        exchange: Exchange, people: dict[str, Any], shared: UUID) -> None:
    c = exchange.contributions
    c.contribute(people["FRA"], shared, "comment", "Before DEU was removed.")
    version = exchange.cases.view(people["FRA"], shared).version
    exchange.cases.unshare(people["FRA"], shared, version, ["DEU"])
    c.contribute(people["FRA"], shared, "comment", "After DEU was removed.")
    with pytest.raises(NotFound):
        c.thread(people["DEU"], shared)
    version = exchange.cases.view(people["FRA"], shared).version
    exchange.cases.share(people["FRA"], shared, version, "bilateral", ["MLI"])
    assert [v.text for v in c.thread(people["MLI"], shared)] == [
        "Before DEU was removed.", "After DEU was removed."]


def test_the_author_revises_or_withdraws_the_owner_hides_with_a_reason(
        exchange: Exchange, people: dict[str, Any], shared: UUID) -> None:
    c = exchange.contributions
    mine = c.contribute(people["DEU"], shared, "answer", "The lot left Hamburg in 2019.")
    with pytest.raises(Forbidden):
        c.revise(people["FRA"], mine, "FRA rewrites DEU's words")
    c.revise(people["DEU"], mine, "The lot left Hamburg in March 2019.")
    first = c.thread(people["FRA"], shared)[0]
    assert first.text == "The lot left Hamburg in March 2019." and first.revised_on
    at = datetime.now(UTC)
    with pytest.raises(Forbidden):
        c.hide(people["DEU"], mine, "DEU is not the owner")
    with pytest.raises(InvalidInput):
        c.hide(people["FRA"], mine, "  ")
    c.hide(people["FRA"], mine, "Belongs to another case.")
    hidden = c.thread(people["DEU"], shared)[0]
    assert hidden.hidden and hidden.text == "" and hidden.hidden_reason == \
        "Belongs to another case."
    assert c.thread(people["DEU"], shared, at=at)[0].text == \
        "The lot left Hamburg in March 2019."  # as it was then
    other = c.contribute(people["DEU"], shared, "comment", "Withdrawn soon.")
    c.withdraw(people["DEU"], other)
    assert c.thread(people["FRA"], shared)[1].withdrawn
    with pytest.raises(Conflict):
        c.revise(people["DEU"], other, "too late")


@pytest.mark.parametrize(("kind", "words", "field"), [
    ("gossip", "x", "kind"), ("comment", "   ", "text"), ("comment", "x" * 20_001, "text")])
def test_bad_input_is_refused_naming_the_field(exchange: Exchange, people: dict[str, Any],
                                               shared: UUID, kind: str, words: str,
                                               field: str) -> None:
    before = events(exchange)
    with pytest.raises(InvalidInput) as refused:
        exchange.contributions.contribute(people["DEU"], shared, kind, words)
    assert refused.value.field == field and events(exchange) == before


def test_the_database_holds_no_contribution_text(exchange: Exchange, people: dict[str, Any],
                                                 shared: UUID) -> None:
    exchange.contributions.contribute(people["DEU"], shared, "information",
                                      "Licence QZ-SECRET-8841 for Saloum Trading")
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        state = b"".join(bytes(row[0]) for row in db.execute(
            text("SELECT state FROM divex_events")))
    assert b"QZ-SECRET-8841" not in state and b"Saloum" not in state


def test_the_other_readers_are_told_in_their_inbox_and_an_outsider_is_not(
        exchange: Exchange, people: dict[str, Any], shared: UUID) -> None:
    exchange.contributions.contribute(people["DEU"], shared, "information", "Licence found.")

    def kinds(who: str) -> list[str]:
        return [i.kind for i in inbox(exchange, people[who])]

    assert "contribution_added" in kinds("FRA") and "contribution_added" in kinds("FRA.reviewer")
    assert "contribution_added" not in kinds("DEU")  # the state that wrote it
    assert "contribution_added" not in kinds("MLI")
