"""The inbox read model, on SQLite and PostgreSQL: who is told what, titles only for who reads
the case now, deadlines in the deployment's time zone, per-user read markers that outlive a
rebuild, and each item owed to the mailer once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, inspect, select, text

from cases.kernel.errors import NotFound
from cases.kernel.viewer import Viewer
from cases.tracing.tracing_service import Traces
from infra.wiring import Exchange, prepare_store
from projections import outbox
from projections.inbox_view import InboxItem, InboxView, Moment
from projections.outbox import mail_items
from tests.conftest import PASSWORD, enrolled, rebuilt_from_zero, register_states
from tests.test_cases import ITEM, SUMMARY

UTC_ZONE = ZoneInfo("UTC")
NOW = Moment(datetime.now(UTC), UTC_ZONE)  # the tests below are seconds apart


@pytest.fixture
def people(exchange: Exchange) -> dict[str, Viewer]:
    return register_states(exchange.directory, roles=("analyst", "reviewer", "auditor"))


def inbox(exchange: Exchange, viewer: Viewer, now: datetime | None = None,
          zone: ZoneInfo = UTC_ZONE, kind: str = "") -> list[InboxItem]:
    exchange.follow()
    items, total = exchange.inbox.view.items_for(
        viewer, Moment(now or datetime.now(UTC), zone, exchange.checkpoints.latest()),
        kind=kind, limit=100)
    assert total == len(items)
    return items


def kinds(items: list[InboxItem]) -> list[str]:
    return [i.kind for i in items]


def titles(exchange: Exchange, viewer: Viewer, items: list[InboxItem]) -> set[str | None]:
    return set(exchange.cases.titles(viewer, [i for i in items if i.case_id]).values())


def shared_case(exchange: Exchange, people: dict[str, Viewer]) -> str:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.add_part(people["FRA"], case_id, 1, "item", ITEM)
    exchange.cases.share(people["FRA"], case_id, 2, "bilateral", ["DEU"])
    return str(case_id)


def test_a_shared_case_reaches_the_recipient_state_with_its_title(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    shared_case(exchange, people)
    for user in ("DEU.analyst", "DEU.reviewer", "DEU.auditor"):
        items = inbox(exchange, people[user], kind="case_shared")
        assert kinds(items) == ["case_shared"] and items[0].actor_state == "FRA"
        assert titles(exchange, people[user], items) == {SUMMARY["title"]}
    assert inbox(exchange, people["DEU.admin"], kind="case_shared") == []
    assert inbox(exchange, people["FRA"], kind="case_shared") == []


def test_another_state_sees_nothing_of_a_case_it_cannot_read(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    shared_case(exchange, people)
    for user in ("MLI.analyst", "MLI.reviewer", "MLI.auditor", "MLI.admin"):
        assert [i for i in inbox(exchange, people[user]) if i.case_id] == []


def test_after_unsharing_the_removed_state_sees_nothing_about_the_case(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = shared_case(exchange, people)
    traced = exchange.traces.send(people["FRA"], case_id, "MLI", [
        *exchange.cases.view(people["FRA"], case_id).items], "Where?",
        share_with_case_readers=True)
    assert inbox(exchange, people["DEU"], kind="case_shared")
    exchange.cases.unshare(people["FRA"], case_id, 3, ["DEU"])
    for user in ("DEU.analyst", "DEU.reviewer", "DEU.auditor"):
        assert [i for i in inbox(exchange, people[user]) if i.case_id] == []
        assert exchange.inbox.view.unread_count(people[user], NOW) == 0
    # The requested state of a trace request is told of it without reading the case, and
    # sees no title.
    received = inbox(exchange, people["MLI"], kind="trace_received")
    assert [i.trace_id for i in received] == [str(traced)]
    assert received[0].title_token == ""


def test_a_trace_request_tells_each_party_its_turn_and_settles_when_acted_on(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = shared_case(exchange, people)
    items = list(exchange.cases.view(people["FRA"], case_id).items)
    trace = exchange.traces.send(people["FRA"], case_id, "DEU", items, "Where did they go?")
    received = inbox(exchange, people["DEU"], kind="trace_received")
    assert len(received) == 1 and received[0].unread and received[0].ref == "FRA"
    assert titles(exchange, people["DEU"], received) == {SUMMARY["title"]}
    exchange.traces.request_more_info(people["DEU"], trace, ["serial"], "Serials?")
    assert inbox(exchange, people["DEU"], kind="trace_received")[0].settled
    assert kinds(inbox(exchange, people["FRA"], kind="trace_more_info")) == ["trace_more_info"]
    exchange.traces.complete(people["FRA"], trace, note="Serials are in the item.")
    assert inbox(exchange, people["FRA"], kind="trace_more_info")[0].settled
    exchange.traces.answer(people["DEU"], trace, "traced", destination="MLI",
                           date="2020-01-02", licence="L-1", text="Exported to MLI.")
    assert inbox(exchange, people["DEU"], kind="trace_info_supplied")[0].settled
    exchange.traces.close(people["FRA"], trace, "Thanks.")
    assert inbox(exchange, people["FRA"], kind="trace_answered")[0].settled
    assert kinds(inbox(exchange, people["DEU"], kind="trace_closed")) == ["trace_closed"]
    # Only the parties are told.
    assert [i for i in inbox(exchange, people["MLI"]) if i.trace_id] == []


def test_deadlines_are_counted_in_the_deployments_time_zone(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = shared_case(exchange, people)
    items = list(exchange.cases.view(people["FRA"], case_id).items)
    clock_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    traces = Traces(exchange.ledger, exchange.keystore, exchange.directory, exchange.cases,
                    clock=lambda: clock_at)
    traces.send(people["FRA"], case_id, "DEU", items, "Where?", deadline_days=10)  # 11 March
    tokyo, honolulu = ZoneInfo("Asia/Tokyo"), ZoneInfo("Pacific/Honolulu")
    # 7 March 20:00 UTC: 8 March in Tokyo (3 days left), still 7 March in Honolulu (4 left).
    evening = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
    for viewer in (people["FRA"], people["DEU"]):
        assert kinds(inbox(exchange, viewer, evening, tokyo, "trace_due_soon")) == \
            ["trace_due_soon"]
        assert inbox(exchange, viewer, evening, honolulu, "trace_due_soon") == []
    # 11 March 16:00 UTC: the 12th in Tokyo (overdue), the 11th in Honolulu (due today).
    late = datetime(2026, 3, 11, 16, 0, tzinfo=UTC)
    assert kinds(inbox(exchange, people["DEU"], late, tokyo, "trace_overdue")) == \
        ["trace_overdue"]
    assert kinds(inbox(exchange, people["DEU"], late, honolulu)).count("trace_overdue") == 0
    assert inbox(exchange, people["MLI"], late, tokyo, "trace_overdue") == []
    # The service's own days follow the same zone: sent on 1 March, due on the 11th.
    assert traces.zone is UTC and exchange.traces.zone == exchange.settings.zone


def test_an_answered_request_is_no_longer_due(exchange: Exchange,
                                              people: dict[str, Viewer]) -> None:
    case_id = shared_case(exchange, people)
    items = list(exchange.cases.view(people["FRA"], case_id).items)
    trace = exchange.traces.send(people["FRA"], case_id, "DEU", items, "Where?",
                                 deadline_days=2)
    assert kinds(inbox(exchange, people["DEU"], kind="trace_due_soon")) == ["trace_due_soon"]
    exchange.traces.answer(people["DEU"], trace, "not_traced", text="No record.")
    assert inbox(exchange, people["DEU"], kind="trace_due_soon") == []


def test_a_deadline_reminder_is_never_dated_before_its_request_or_its_new_deadline(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = shared_case(exchange, people)
    items = list(exchange.cases.view(people["FRA"], case_id).items)
    before_sending = datetime.now(UTC)
    # Due in two days: three days before the deadline is yesterday, before it was sent.
    trace = exchange.traces.send(people["FRA"], case_id, "DEU", items, "Where?",
                                 deadline_days=2)
    for viewer in (people["FRA"], people["DEU"]):
        [due] = inbox(exchange, viewer, kind="trace_due_soon")
        assert before_sending <= due.at <= datetime.now(UTC)
    before_changing = datetime.now(UTC)
    exchange.traces.change_deadline(people["FRA"], trace, due.due - timedelta(days=1))
    [due] = inbox(exchange, people["DEU"], kind="trace_due_soon")
    assert before_changing <= due.at <= datetime.now(UTC)
    # A deadline far enough away is due soon from three days before it, in the zone.
    exchange.traces.change_deadline(people["FRA"], trace, due.due + timedelta(days=30))
    later = datetime.now(UTC) + timedelta(days=29)
    [due] = inbox(exchange, people["DEU"], later, kind="trace_due_soon")
    assert due.at == datetime.combine(due.due - timedelta(days=3), datetime.min.time(), UTC)


def test_read_markers_are_per_user_and_outlive_a_rebuild(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    shared_case(exchange, people)
    view = exchange.inbox.view
    mine = inbox(exchange, people["DEU.analyst"], kind="case_shared")
    assert view.unread_count(people["DEU.analyst"], NOW) == 1
    assert view.mark_read(people["DEU.analyst"], [mine[0].item_id], NOW) == 1
    assert view.unread_count(people["DEU.analyst"], NOW) == 0
    assert view.unread_count(people["DEU.reviewer"], NOW) == 1
    live = view.dump()
    assert rebuilt_from_zero(exchange, exchange.inbox) == live
    assert inbox(exchange, people["DEU.analyst"], kind="case_shared")[0].read
    assert view.mark_all_read(people["DEU.reviewer"], NOW) == 1
    assert view.unread_count(people["DEU.reviewer"], NOW) == 0


def test_marking_read_reports_what_the_unread_count_counted_not_settled_items(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = shared_case(exchange, people)
    items = list(exchange.cases.view(people["FRA"], case_id).items)
    trace = exchange.traces.send(people["FRA"], case_id, "DEU", items, "Where?")
    exchange.traces.acknowledge(people["DEU"], trace)  # settles DEU's trace_received item
    view, deu, reviewer = exchange.inbox.view, people["DEU"], people["DEU.reviewer"]
    for viewer in (deu, reviewer):
        [received] = inbox(exchange, viewer, kind="trace_received")
        assert received.settled and not received.read
    assert view.mark_read(deu, [received.item_id], NOW) == 0
    assert inbox(exchange, deu, kind="trace_received")[0].read
    unread = view.unread_count(reviewer, NOW)
    assert 0 < unread < len(inbox(exchange, reviewer))
    assert view.mark_all_read(reviewer, NOW) == unread
    assert all(i.read for i in inbox(exchange, reviewer))


def test_marking_an_item_that_is_not_yours_is_refused_and_marks_nothing(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    shared_case(exchange, people)
    deu = inbox(exchange, people["DEU"], kind="case_shared")[0]
    for ids in ([deu.item_id], [deu.item_id, "not-an-item"]):
        with pytest.raises(NotFound):
            exchange.inbox.view.mark_read(people["MLI"] if len(ids) == 1 else people["DEU"],
                                          ids, NOW)
    assert not inbox(exchange, people["DEU"], kind="case_shared")[0].read
    assert exchange.inbox.view.unread_count(people["MLI"], NOW) == \
        len([i for i in inbox(exchange, people["MLI"]) if i.unread])


def test_meetings_tell_their_participants_and_a_consent_settles_the_lesson(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    meetings = exchange.meetings
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    meeting = meetings.convene(people["secretariat"], "Session", "2026-06-01", "",
                               ["FRA", "DEU"])
    assert kinds(inbox(exchange, people["DEU"], kind="meeting_convened")) == ["meeting_convened"]
    meetings.table_case(people["FRA"], meeting, case_id)
    tabled = inbox(exchange, people["DEU.reviewer"], kind="case_tabled")
    assert kinds(tabled) == ["case_tabled"]
    assert titles(exchange, people["DEU.reviewer"], tabled) == {SUMMARY["title"]}
    lesson = meetings.propose_lesson(people["FRA"], meeting, "Transit hubs recur.",
                                     ["FRA", "DEU"])
    awaited = inbox(exchange, people["DEU.admin"], kind="lesson_consent_awaited")
    assert len(awaited) == 1 and not awaited[0].settled
    meetings.consent(people["DEU"], meeting, lesson, True)
    assert inbox(exchange, people["DEU.admin"], kind="lesson_consent_awaited")[0].settled
    assert [i for i in inbox(exchange, people["MLI"]) if i.meeting_id] == []
    meetings.admit(people["secretariat"], meeting, "MLI")
    assert kinds(inbox(exchange, people["MLI"], kind="meeting_convened")) == ["meeting_convened"]
    assert inbox(exchange, people["MLI"], kind="case_tabled") == []  # it cannot read the case


def test_tier1_consent_is_asked_of_concerned_members_until_given(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU", "MLI"])
    asked = exchange.policy.propose(people["FRA"], case_id)
    assert asked == ["DEU", "MLI"]
    assert kinds(inbox(exchange, people["DEU.admin"], kind="policy_consent_awaited")) == \
        ["policy_consent_awaited"]
    assert inbox(exchange, people["DEU.reviewer"], kind="policy_consent_awaited") == []
    exchange.policy.consent(people["DEU"], case_id, True)
    assert inbox(exchange, people["DEU"], kind="policy_consent_awaited")[0].settled
    assert not inbox(exchange, people["MLI"], kind="policy_consent_awaited")[0].settled


def test_directory_items_reach_the_secretariat_admins_and_the_user_themself(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    registered = inbox(exchange, people["secretariat"], kind="state_registered")
    assert sorted(i.ref for i in registered) == ["DEU", "FRA", "MLI"]
    assert sorted(i.ref for i in inbox(exchange, people["FRA.admin"], kind="user_added")) == \
        ["fra.admin", "fra.analyst", "fra.auditor", "fra.reviewer"]
    assert inbox(exchange, people["FRA"], kind="user_added") == []
    directory = exchange.directory
    enrolled(directory, people["FRA.reviewer"])
    directory.second_factors.reset(people["FRA.admin"], "fra.reviewer")
    reviewer = directory.authenticate("fra.reviewer", PASSWORD)
    assert kinds(inbox(exchange, reviewer, kind="second_factor_reset")) == ["second_factor_reset"]
    assert inbox(exchange, people["FRA.analyst"], kind="second_factor_reset") == []


def test_auditors_are_asked_to_cosign_a_checkpoint_their_state_has_not(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    exchange.follow()
    exchange.checkpointer.record()
    assert kinds(inbox(exchange, people["FRA.auditor"], kind="checkpoint_to_cosign")) == \
        ["checkpoint_to_cosign"]
    assert inbox(exchange, people["FRA.analyst"], kind="checkpoint_to_cosign") == []
    exchange.witness.cosign(people["FRA.auditor"])
    assert inbox(exchange, people["FRA.auditor"], kind="checkpoint_to_cosign") == []
    assert inbox(exchange, people["secretariat"], kind="checkpoint_to_cosign") == []


def test_each_fresh_item_is_owed_to_the_mailer_once_even_after_a_rebuild(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    shared_case(exchange, people)
    exchange.follow()
    engine = exchange.ledger.recorder.datastore.engine
    with engine.connect() as db:
        before = db.execute(select(mail_items.c.item_id, mail_items.c.kind)).all()
    assert ("case_shared" in {k for _, k in before})
    rebuilt_from_zero(exchange, exchange.inbox)
    with engine.connect() as db:
        assert sorted(db.execute(select(mail_items.c.item_id, mail_items.c.kind)).all()) == \
            sorted(before)


def test_stale_items_are_not_owed_to_the_mailer(exchange: Exchange,
                                                people: dict[str, Viewer]) -> None:
    engine = exchange.ledger.recorder.datastore.engine
    old = datetime.now(UTC) - timedelta(days=3)
    row = dict(item_id="x", state="FRA", user_id="", kind="case_shared", case_id="",
               case_gated=False, at=old)
    with engine.begin() as db:
        assert outbox.queue(db, [row]) == 0
        assert outbox.queue(db, [dict(row, at=datetime.now(UTC))]) == 1
        assert outbox.queue(db, [dict(row, at=datetime.now(UTC))]) == 0


def test_the_unread_count_stops_at_a_hundred(exchange: Exchange,
                                             people: dict[str, Viewer]) -> None:
    """Every page shows it: counting tens of thousands of unread items took ~110 ms."""
    view = exchange.inbox.view
    for number in range(101):
        case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
        exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
        if number == 98:
            exchange.follow()
            assert view.unread_count(people["DEU.analyst"], NOW) == 99
    exchange.follow()
    assert view.unread_count(people["DEU.analyst"], NOW) == 100
    assert view.items_for(people["DEU.analyst"], NOW, kind="case_shared")[1] == 101  # all


def test_an_index_added_since_the_inbox_was_made_is_created_and_its_rows_kept(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = shared_case(exchange, people)
    engine = exchange.ledger.recorder.datastore.engine
    with engine.begin() as db:
        db.execute(text("DROP INDEX inbox_items_by_gate"))
    prepare_store(exchange.settings)  # as the next start of the server does
    assert "inbox_items_by_gate" in {i["name"] for i in inspect(engine).get_indexes("inbox_items")}
    assert case_id in {i.case_id for i in inbox(exchange, people["DEU"])}  # not rebuilt


def test_a_revised_title_reaches_the_inbox_in_the_same_batch_and_later(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = shared_case(exchange, people)  # opened, shared and retitled in one catch-up
    exchange.cases.revise_summary(people["FRA"], UUID(case_id), 3,
                                  dict(SUMMARY, title="Rifles seized at the port"))
    received = inbox(exchange, people["DEU.analyst"], kind="case_shared")
    assert titles(exchange, people["DEU.analyst"], received) == {"Rifles seized at the port"}
    exchange.cases.revise_summary(people["FRA"], UUID(case_id), 4,
                                  dict(SUMMARY, title="Rifles and pistols seized"))
    received = inbox(exchange, people["DEU.analyst"], kind="case_shared")
    assert titles(exchange, people["DEU.analyst"], received) == {"Rifles and pistols seized"}
    rebuilt_from_zero(exchange, exchange.inbox)
    received = inbox(exchange, people["DEU.analyst"], kind="case_shared")
    assert titles(exchange, people["DEU.analyst"], received) == {"Rifles and pistols seized"}


def counted(exchange: Exchange, viewer: Viewer) -> int:
    """The viewer's unread count as this process gives it (kept from an earlier page or
    not), checked against a process that never counted it before."""
    exchange.follow()
    kept = exchange.inbox.view.unread_count(viewer, NOW)
    fresh = InboxView(exchange.ledger.recorder.datastore, tracking_table_name="inbox_tracking")
    assert kept == fresh.unread_count(viewer, NOW)
    return kept


def test_a_kept_unread_count_follows_every_change_that_moves_it(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    """The process keeps each user's count until what it depends on changes: every step
    below changes someone's count, and each user is counted before and after it."""
    watched = [people[u] for u in ("FRA", "DEU", "DEU.reviewer", "DEU.admin", "MLI.admin")]

    def step(change: Any) -> None:
        for viewer in watched:
            counted(exchange, viewer)  # kept now
        change()
        for viewer in watched:
            counted(exchange, viewer)

    before = counted(exchange, people["DEU"])
    case_id = shared_case(exchange, people)
    assert counted(exchange, people["DEU"]) == before + 1
    items = list(exchange.cases.view(people["FRA"], case_id).items)
    sent: list[UUID] = []
    step(lambda: sent.append(exchange.traces.send(people["FRA"], case_id, "DEU", items,
                                                  "Where?", deadline_days=2)))
    trace = sent[0]
    assert "trace_due_soon" in kinds(inbox(exchange, people["FRA"]))  # the requester's too
    step(lambda: exchange.traces.change_deadline(
        people["FRA"], trace, (datetime.now(UTC) + timedelta(days=30)).date()))
    assert "trace_due_soon" not in kinds(inbox(exchange, people["FRA"]))
    step(lambda: exchange.traces.request_more_info(people["DEU"], trace, ["serial"], "?"))
    step(lambda: exchange.cases.unshare(people["FRA"], case_id, 3, ["DEU"]))
    exchange.cases.share(people["FRA"], case_id, 4, "bilateral", ["DEU", "MLI"])
    step(lambda: exchange.policy.propose(people["FRA"], case_id))
    step(lambda: exchange.policy.consent(people["DEU"], case_id, True))
    meeting = exchange.meetings.convene(people["secretariat"], "Session", "2026-06-01", "",
                                        ["FRA", "DEU", "MLI"])
    lesson = exchange.meetings.propose_lesson(people["FRA"], meeting, "Hubs recur.",
                                              ["FRA", "MLI"])
    step(lambda: exchange.meetings.consent(people["MLI"], meeting, lesson, True))
    assert counted(exchange, people["DEU.reviewer"]) > 0
    step(lambda: exchange.inbox.view.mark_all_read(people["DEU.reviewer"], NOW))
    assert counted(exchange, people["DEU.reviewer"]) == 0


def test_a_count_is_kept_until_its_user_marks_items_read_in_any_process(
        exchange: Exchange, people: dict[str, Viewer]) -> None:
    shared_case(exchange, people)
    exchange.follow()
    view, reviewer = exchange.inbox.view, people["DEU.reviewer"]
    other = InboxView(exchange.ledger.recorder.datastore, tracking_table_name="inbox_tracking")
    assert view.unread_count(reviewer, NOW) == other.unread_count(reviewer, NOW) == 1
    engine = exchange.ledger.recorder.datastore.engine
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert view.unread_count(reviewer, NOW) == 1
        assert not [s for s in statements if "inbox_items" in s]  # kept, not counted
        other.mark_all_read(reviewer, NOW)  # another process
        assert view.unread_count(reviewer, NOW) == 0
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert view.unread_count(people["DEU.analyst"], NOW) == 1  # not theirs
    # Given other roles, the same user is counted again (an admin is told of new users).
    admin = people["DEU.admin"]
    as_admin = counted(exchange, admin)
    assert counted(exchange, replace(admin, roles=frozenset({"reviewer"}))) != as_admin
