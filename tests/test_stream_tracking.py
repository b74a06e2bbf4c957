"""Read models fed out of log order (as Kafka partitions feed them) apply each event once,
and only after the earlier versions of its record; the result equals the in-order one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from eventsourcing.persistence import Notification

from infra.envelope import decode, encode
from infra.wiring import Exchange, open_exchange
from projections.follower import Outcome, apply_alone, catch_up, tracking_of
from tests.conftest import rebuilt_from_zero
from tests.test_shredding import closed_case, people, shred  # noqa: F401  (fixtures)


def notifications(exchange: Exchange) -> list[Notification]:
    return exchange.ledger.recorder.select_notifications(0, limit=100_000)


def feed(exchange: Exchange, projection: Any, notification: Notification) -> Outcome:
    event = exchange.ledger.mapper.to_domain_event(notification)
    return apply_alone(exchange.ledger, projection, event,
                       tracking_of(exchange.ledger, notification))


def test_an_event_applies_only_as_the_next_version_of_its_record(
        exchange: Exchange, closed_case: dict[str, Any]) -> None:  # noqa: F811
    index = exchange.case_index
    index.view.drop()
    index.view.create_table()
    case_events = [n for n in notifications(exchange)
                   if n.originator_id == closed_case["case"]]
    first, second, third = case_events[:3]
    assert feed(exchange, index, second) is Outcome.EARLY
    assert index.view.dump() == {"case_index": [], "case_readers": [], "case_counts": []}
    assert feed(exchange, index, first) is Outcome.APPLIED
    assert feed(exchange, index, first) is Outcome.DUPLICATE
    assert feed(exchange, index, third) is Outcome.EARLY
    assert feed(exchange, index, second) is Outcome.APPLIED
    assert feed(exchange, index, third) is Outcome.APPLIED
    assert index.view.applied_version(closed_case["case"]) == 3
    assert feed(exchange, index, second) is Outcome.DUPLICATE


def test_followers_racing_on_one_log_apply_each_event_once(
        exchange: Exchange, people: dict[str, Any],  # noqa: F811
        closed_case: dict[str, Any]) -> None:  # noqa: F811
    """Three processes' followers catch up at once: batches that lost a race are applied
    again event by event, and each read model ends as a single replay of the log makes it."""
    fra = people["FRA"]
    for number in range(12):
        case_id = exchange.cases.open_case(fra, {"title": f"Case {number}"})
        for version in range(1, 6):
            exchange.cases.add_part(fra, case_id, version, "note", {"text": f"note {version}"})
    expected = {p.name: rebuilt_from_zero(exchange, p) for p in exchange.projections()}
    for projection in exchange.projections():
        projection.view.drop()
        projection.view.create_table()
    followers = [open_exchange(exchange.settings) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(followers)) as pool:
            counts = list(pool.map(lambda f: catch_up(f.ledger, f.projections()), followers))
    finally:
        for follower in followers:
            follower.close()
    stored = len(notifications(exchange))
    assert sum(counts) == stored * len(exchange.projections())
    assert catch_up(exchange.ledger, exchange.projections()) == 0
    for projection in exchange.projections():
        assert projection.view.dump() == expected[projection.name], projection.name
        assert projection.view.max_tracking_id(exchange.ledger.name) == \
            notifications(exchange)[-1].id


def test_records_fed_one_after_another_give_the_read_models_of_the_log_order(
        exchange: Exchange, people: dict[str, Any],  # noqa: F811
        closed_case: dict[str, Any]) -> None:  # noqa: F811
    shred(exchange, people, closed_case["case"])
    stored = notifications(exchange)
    # Per-record order only: the whole case (shredding included) before its trace request.
    by_record = sorted(stored, key=lambda n: (n.originator_id != closed_case["case"],
                                              str(n.originator_id), n.originator_version))
    assert by_record != stored
    for projection in exchange.streamable():
        in_log_order = rebuilt_from_zero(exchange, projection)
        projection.view.drop()
        projection.view.create_table()
        outcomes = {feed(exchange, projection, n) for n in by_record}
        assert outcomes == {Outcome.APPLIED}, projection.name
        assert projection.view.dump() == in_log_order, projection.name
    periods = exchange.access_ledger.view.dump()["access_periods"]
    assert periods and all(row[-2] is not None for row in periods)  # every period closed


def test_the_kafka_message_carries_the_stored_event_unchanged(
        exchange: Exchange, closed_case: dict[str, Any]) -> None:  # noqa: F811
    for notification in notifications(exchange):
        key, value = encode(notification)
        assert key == str(notification.originator_id).encode()
        assert decode(value) == notification


def test_a_message_that_is_not_an_event_is_refused_by_name() -> None:
    for junk in (b"not json", b"{}", b'{"notification_id": 1}', b"\xff\xfe",
                 b'{"notification_id": 1, "originator_id": "x", "originator_version": 1, '
                 b'"topic": "t", "state": "AA=="}'):
        try:
            decode(junk)
        except ValueError as error:
            assert "not a divex event" in str(error)
        else:
            raise AssertionError(junk)


def test_with_kafka_workers_the_web_process_follows_only_the_log_ordered_index(
        exchange: Exchange, closed_case: dict[str, Any]) -> None:  # noqa: F811
    exchange.settings = replace(exchange.settings, projection_source="kafka")
    for projection in exchange.projections():
        projection.view.drop()
        projection.view.create_table()
    exchange.follow()
    assert exchange.audit_index.view.dump()["audit_log"]
    assert all(not any(p.view.dump().values()) for p in exchange.streamable())
