"""The events of long cases kept in process memory (`cases.kernel.event_cache`): a page shows
exactly what the store holds, whatever was read before."""

from __future__ import annotations

import pytest

from cases.kernel.errors import Conflict
from infra.wiring import Exchange, open_exchange
from tests.conftest import register_states
from tests.test_cases import ITEM, SUMMARY


@pytest.fixture
def fra(exchange: Exchange):
    exchange.ledger.recent.min_events = 1  # keep even short cases, to test on them
    return register_states(exchange.directory)["FRA"]


def test_a_change_made_by_another_process_is_seen(exchange: Exchange, fra) -> None:
    case_id = exchange.cases.open_case(fra, SUMMARY)
    assert exchange.cases.view(fra, case_id).version == 1  # now kept
    other = open_exchange(exchange.settings)
    try:
        other.cases.add_part(fra, case_id, 1, "item", ITEM)
    finally:
        other.close()
    seen = exchange.cases.view(fra, case_id)
    assert seen.version == 2 and len(seen.items) == 1


def test_events_read_in_a_transaction_that_rolled_back_are_forgotten(exchange: Exchange,
                                                                      fra) -> None:
    case_id = exchange.cases.open_case(fra, SUMMARY)
    with pytest.raises(Conflict), exchange.ledger.transaction():
        exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
        assert len(exchange.cases.view(fra, case_id).items) == 1  # read, not committed
        raise Conflict("rolled back")
    exchange.cases.revise_summary(fra, case_id, 1, dict(SUMMARY, title="Another title"))
    seen = exchange.cases.view(fra, case_id)  # another version 2 than the one read
    assert (seen.version, seen.title, seen.items) == (2, "Another title", {})


def test_a_version_read_then_rolled_back_is_not_shown(exchange: Exchange, fra) -> None:
    case_id = exchange.cases.open_case(fra, SUMMARY)
    with pytest.raises(Conflict), exchange.ledger.transaction():
        exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
        exchange.cases.view(fra, case_id)
        raise Conflict("rolled back")
    assert exchange.cases.view(fra, case_id).version == 1


def test_time_travel_reads_the_kept_events_up_to_the_version(exchange: Exchange, fra) -> None:
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    assert len(exchange.cases.view(fra, case_id).items) == 1
    then = exchange.cases.view(fra, case_id, version=1)
    assert (then.version, then.items) == (1, {})


def test_memory_is_bounded_by_the_events_kept(exchange: Exchange, fra) -> None:
    recent = exchange.ledger.recent
    recent.max_events = 3
    ids = [exchange.cases.open_case(fra, SUMMARY) for _ in range(5)]
    for case_id in ids:
        exchange.cases.view(fra, case_id)
    assert list(recent._kept) == ids[-3:]
    assert recent._count == 3
