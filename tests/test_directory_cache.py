"""States and users kept in process memory (`cases.identity.directory_cache`): every read
sees what the store holds, whoever changed it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cases.identity.directory import State, User, state_id, user_id
from cases.kernel import ledger as ledger_module
from cases.kernel.errors import Conflict
from cases.kernel.ledger import event_topics
from infra.wiring import Exchange, open_exchange
from tests.conftest import register_states


@pytest.fixture
def viewers(exchange: Exchange):
    return register_states(exchange.directory)


def test_a_suspension_by_another_process_is_seen_at_once(exchange: Exchange, viewers) -> None:
    assert not exchange.directory.state("FRA").suspended  # now kept by this process
    assert exchange.directory.user("fra.analyst").active
    other = open_exchange(exchange.settings)
    try:
        other.onboarding.suspend_state(viewers["secretariat"], "FRA")
        other.directory.deactivate_user(viewers["FRA.admin"], "fra.analyst")
    finally:
        other.close()
    assert exchange.directory.state("FRA").suspended
    assert not exchange.directory.user("fra.analyst").active
    assert next(s for s in exchange.directory.states() if s.code == "FRA").suspended


def test_a_change_that_fails_to_save_leaves_what_is_kept_unchanged(exchange: Exchange,
                                                                  viewers) -> None:
    user = exchange.directory.user("fra.analyst")
    user.change_roles(viewers["FRA.admin"].actor, ["analyst", "reviewer"])  # not saved
    assert exchange.directory.user("fra.analyst").roles == ["analyst"]
    with pytest.raises(Conflict), exchange.ledger.transaction():
        exchange.onboarding.change_roles(viewers["FRA.admin"], "fra.analyst",
                                             ["analyst", "reviewer"])
        assert exchange.directory.user("fra.analyst").roles == ["analyst", "reviewer"]
        raise Conflict("rolled back")
    assert exchange.directory.user("fra.analyst").roles == ["analyst"]


def test_every_stored_state_and_user_event_moves_the_mark(exchange: Exchange, viewers) -> None:
    exchange.directory.rotate_state_keys(viewers["FRA.admin"])
    exchange.onboarding.change_roles(viewers["FRA.admin"], "fra.analyst",
                                         ["analyst", "reviewer"])
    exchange.directory.deactivate_user(viewers["FRA.admin"], "fra.analyst")
    table = exchange.ledger.recorder.events_record_cls.__table__
    ids = [state_id(code) for code in ("FRA", "DEU", "MLI")] + \
        [user_id(name) for name in ("fra.analyst", "fra.admin", "secretariat")]
    with exchange.ledger.transaction() as session:
        stored = set(session.execute(select(table.c.topic).where(
            table.c.originator_id.in_(ids))).scalars())
    assert stored and stored <= set(exchange.directory.cache.topics)
    assert set(event_topics(State)) | set(event_topics(User)) == set(
        exchange.directory.cache.topics)


def test_changes_are_looked_for_only_after_the_last_position_looked_at(exchange: Exchange,
                                                                       viewers) -> None:
    ledger, topics = exchange.ledger, exchange.directory.cache.topics
    end = ledger.recorder.max_notification_id
    start = end()  # the log holds only the directory
    exchange.cases.open_case(viewers["FRA"], {"title": "Rifles at the port"})
    assert ledger.changes_after(topics, after=start) == (False, end())  # a case's event
    exchange.directory.deactivate_user(viewers["FRA.admin"], "fra.analyst")
    changed = end()
    exchange.cases.open_case(viewers["DEU"], {"title": "Pistols at the airport"})
    assert ledger.changes_after(topics, after=start) == (True, end())
    assert ledger.changes_after(topics, after=changed) == (False, end())
    assert ledger.changes_after(topics, after=end()) == (False, end())


def test_cases_changing_do_not_drop_the_directory_kept(exchange: Exchange, viewers,
                                                       monkeypatch) -> None:
    """Case events move the position looked from, so a busy log is not read again at every
    request, and they never drop the states and users kept."""
    cache, read = exchange.directory.cache, exchange.directory.cache.load
    exchange.cases.open_case(viewers["FRA"], {"title": "Cartridges in a truck"})  # kept now
    exchange.directory.user("fra.analyst")
    loaded: list[Any] = []
    monkeypatch.setattr(cache, "load", lambda aggregate_id: (
        loaded.append(aggregate_id), read(aggregate_id))[1])
    for title in ("Rifles at the port", "Pistols at the airport"):
        exchange.cases.open_case(viewers["FRA"], {"title": title})
        assert exchange.directory.user("fra.analyst").username == "fra.analyst"
    assert loaded == [] and cache._looked == exchange.ledger.recorder.max_notification_id()


def test_past_many_events_it_answers_changed_up_to_the_end_of_the_log(exchange: Exchange,
                                                                      viewers,
                                                                      monkeypatch) -> None:
    """More events since than are looked at: the caller must read again, whatever they were,
    rather than miss a change among those not looked at."""
    monkeypatch.setattr(ledger_module, "LOOKED_AFTER", 3)
    ledger, topics = exchange.ledger, exchange.directory.cache.topics
    start = ledger.recorder.max_notification_id()
    exchange.cases.open_case(viewers["FRA"], {"title": "Rifles at the port"})
    assert ledger.changes_after(topics, after=start) == (False, start + 1)
    for title in ("Pistols at the airport", "Cartridges in a truck"):
        exchange.cases.open_case(viewers["FRA"], {"title": title})
    assert ledger.changes_after(topics, after=start) == (
        True, ledger.recorder.max_notification_id())
