"""The audit index: one row per stored event of every aggregate, positions as Merkle leaf
indexes, the log browser's filters and time travel's versions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.wiring import Exchange
from projections.audit_index import AuditFilter, AuditRow
from tests.conftest import rebuilt_from_zero, register_states
from tests.test_cases import ITEM, SUMMARY
from tests.test_tracing import QUESTIONS


@pytest.fixture
def log(exchange: Exchange) -> dict[str, Any]:
    """States and users, two cases (one shared with DEU), a trace request and a meeting."""
    people = register_states(exchange.directory)
    fra, deu = people["FRA"], people["DEU"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    item = exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    exchange.cases.revise_summary(fra, case_id, 2, dict(SUMMARY, title="Rifles, revised"))
    exchange.cases.share(fra, case_id, 3, "bilateral", ["DEU"])
    other = exchange.cases.open_case(deu, dict(SUMMARY, concerned={"exporter": "FRA"}))
    trace_id = exchange.traces.send(fra, case_id, "DEU", [item], QUESTIONS)
    exchange.traces.acknowledge(deu, trace_id)
    meeting = exchange.meetings.convene(people["secretariat"], "Informal exchange",
                                        "2026-05-20", "Forum", ["FRA", "DEU"])
    exchange.follow()
    return {"people": people, "case": str(case_id), "other": other,
            "trace": str(trace_id), "meeting": str(meeting)}


def stored_events(exchange: Exchange) -> list[tuple[int, Any]]:
    """(notification id, domain event) for every stored event, in notification order."""
    ledger = exchange.ledger
    return [(n.id, ledger.mapper.to_domain_event(n))
            for n in ledger.recorder.select_notifications(0, limit=1_000_000)]


def every_row(exchange: Exchange) -> list[AuditRow]:
    rows, total = exchange.audit_index.view.browse(AuditFilter(), limit=1_000_000)
    assert len(rows) == total
    return rows[::-1]  # browse is newest first


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_one_row_per_stored_event_with_its_clear_header(exchange: Exchange, log: dict) -> None:
    events = stored_events(exchange)
    rows = every_row(exchange)
    assert exchange.audit_index.view.count() == len(events) == len(rows)
    for (notification_id, event), row in zip(events, rows, strict=True):
        kind, _ = type(event).__qualname__.split(".")
        assert row.notification_id == notification_id
        assert row.aggregate_id == str(event.originator_id)
        assert (row.aggregate_kind, row.event_type) == (kind, type(event).__qualname__)
        assert row.version == event.originator_version
        assert aware(row.timestamp) == event.timestamp
        assert (row.actor_state, row.actor_user) == (event.actor_state, event.actor_user)
        assert row.event_hash == event.hash()
        assert exchange.audit_index.view.row(notification_id) == row
    kinds = {row.aggregate_kind for row in rows}
    assert kinds >= {"State", "User", "Case", "TraceRequest", "Meeting"}
    assert exchange.audit_index.view.row(events[-1][0] + 1) is None


def test_positions_are_contiguous_in_notification_order(exchange: Exchange, log: dict) -> None:
    rows = every_row(exchange)
    assert [row.position for row in rows] == list(range(len(rows)))
    assert [row.notification_id for row in rows] == sorted(row.notification_id for row in rows)


def test_leaf_hashes_are_the_event_hashes_in_log_order(exchange: Exchange, log: dict) -> None:
    hashes = [bytes.fromhex(event.hash()) for _, event in stored_events(exchange)]
    assert exchange.audit_index.view.leaf_hashes() == hashes
    assert exchange.audit_index.view.leaf_hashes(5) == hashes[:5]
    assert exchange.audit_index.view.leaf_hashes(0) == []


def test_each_browse_filter_narrows_to_the_matching_events(exchange: Exchange,
                                                           log: dict) -> None:
    view, rows = exchange.audit_index.view, every_row(exchange)
    fra_analyst = log["people"]["FRA"].user_id
    filters = {
        AuditFilter(aggregate_id=log["case"]): lambda r: r.aggregate_id == log["case"],
        AuditFilter(aggregate_kind="TraceRequest"): lambda r: r.aggregate_kind == "TraceRequest",
        AuditFilter(actor_state="DEU"): lambda r: r.actor_state == "DEU",
        AuditFilter(actor_user=fra_analyst): lambda r: r.actor_user == fra_analyst,
        AuditFilter(event_type="Case.Opened"): lambda r: r.event_type == "Case.Opened",
        AuditFilter(actor_state="FRA", aggregate_kind="Case"):
            lambda r: r.actor_state == "FRA" and r.aggregate_kind == "Case",
    }
    for where, wanted in filters.items():
        expected = [r for r in reversed(rows) if wanted(r)]
        found, total = view.browse(where, limit=1000)
        assert 0 < len(expected) < len(rows), where
        assert (found, total) == (expected, len(expected)), where
    assert view.browse(AuditFilter(event_type="Case.Shredded")) == ([], 0)


def test_browse_by_time_window(exchange: Exchange, log: dict) -> None:
    rows = every_row(exchange)
    since, until = aware(rows[3].timestamp), aware(rows[-4].timestamp)
    found, total = exchange.audit_index.view.browse(AuditFilter(since=since, until=until),
                                                   limit=1000)
    assert [r.position for r in found] == [r.position for r in reversed(rows)
                                           if since <= aware(r.timestamp) <= until]
    assert total == len(found) == len(rows) - 6
    later = aware(rows[-1].timestamp) + timedelta(seconds=1)
    assert exchange.audit_index.view.browse(AuditFilter(since=later)) == ([], 0)


def test_browse_pages_newest_first_with_the_total(exchange: Exchange, log: dict) -> None:
    newest_first = every_row(exchange)[::-1]
    pages = []
    for offset in range(0, len(newest_first), 7):
        page, total = exchange.audit_index.view.browse(AuditFilter(), offset=offset, limit=7)
        assert total == len(newest_first) and len(page) <= 7
        pages += page
    assert pages == newest_first


def test_events_of_an_aggregate_in_version_order(exchange: Exchange, log: dict) -> None:
    events = exchange.audit_index.view.events_of(log["case"])
    assert [r.version for r in events] == [1, 2, 3, 4]
    assert [r.event_type for r in events] == ["Case.Opened", "Case.PartAdded",
                                              "Case.ContentRevised", "Case.Shared"]
    assert exchange.audit_index.view.events_of("no-such-aggregate") == []


def test_version_at_a_moment_before_between_and_after_the_events(exchange: Exchange,
                                                                  log: dict) -> None:
    view = exchange.audit_index.view
    moments = {r.version: aware(r.timestamp) for r in view.events_of(log["case"])}
    assert view.version_at(log["case"], moments[1] - timedelta(microseconds=1)) is None
    assert view.version_at(log["case"], moments[1]) == 1
    assert view.version_at(log["case"], moments[2] + (moments[3] - moments[2]) / 2) == 2
    assert view.version_at(log["case"], moments[4]) == 4
    assert view.version_at(log["case"], moments[4] + timedelta(days=365)) == 4
    assert view.version_at(str(log["other"]), moments[1]) is None  # opened later
    assert view.version_at("no-such-aggregate", moments[4]) is None


def test_rebuilt_from_zero_the_index_is_identical(exchange: Exchange, log: dict) -> None:
    live = exchange.audit_index.view.dump()
    assert len(live["audit_log"]) == exchange.audit_index.view.count() > 0
    assert rebuilt_from_zero(exchange, exchange.audit_index) == live


def test_following_again_adds_only_the_new_events(exchange: Exchange, log: dict) -> None:
    before = exchange.audit_index.view.count()
    assert exchange.follow() == 0
    exchange.cases.change_status(log["people"]["DEU"], log["other"], 1, "under_investigation")
    exchange.follow()
    rows = every_row(exchange)
    assert len(rows) == before + 1
    assert (rows[-1].position, rows[-1].event_type) == (before, "Case.StatusChanged")
