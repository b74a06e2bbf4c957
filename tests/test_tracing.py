"""Trace requests between contact points, on SQLite and PostgreSQL: lifecycle, deadlines,
sealing, the answer as a route leg, and the trace board."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cases.audit.log import verify_log
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.tracing.trace_request import TraceRequest
from cases.tracing.tracing_service import Traces
from crypto import CryptoError, unwrap_case_key
from infra.wiring import Exchange
from projections.follower import catch_up
from projections.trace_board import PairStats, TraceBoard, TraceBoardView
from tests.conftest import register_states
from tests.test_cases import ITEM, SUMMARY

QUESTIONS = "Please trace these rifles: to whom were they exported, and under which licence?"
ANSWER = dict(outcome="traced", destination="MLI", date="2019-05-14", licence="DE-EX-2019-77",
              text="Exported to the Malian army under licence DE-EX-2019-77.")


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 3, 1, 9, 30, tzinfo=UTC))


@pytest.fixture
def traces(exchange: Exchange, clock: Clock) -> Traces:
    return Traces(exchange.ledger, exchange.keystore, exchange.directory, exchange.cases,
                  clock=clock)


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory, roles=("analyst", "reviewer"))


@pytest.fixture
def case(exchange: Exchange, people: dict) -> dict:
    """A French case with two items; version 3."""
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    first = exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    second = exchange.cases.add_part(fra, case_id, 2, "item", dict(ITEM, serial="SN-999"))
    return {"id": case_id, "items": [first, second], "version": 3}


def count(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


def send(traces: Traces, people: dict, case: dict, **kwargs) -> object:
    args = dict(requested_state="DEU", item_ids=case["items"][:1], questions=QUESTIONS)
    args.update(kwargs)
    return traces.send(people["FRA"], case["id"], **args)


def test_full_lifecycle_from_sending_to_closing_with_dates_from_the_clock(
        traces: Traces, people: dict, case: dict, clock: Clock) -> None:
    fra, deu = people["FRA"], people["DEU"]
    trace_id = send(traces, people, case)
    clock.advance(2)
    traces.acknowledge(deu, trace_id)
    clock.advance(3)
    traces.request_more_info(deu, trace_id, ["serial", "markings_photos"], "Serial unreadable.")
    clock.advance(1)
    traces.complete(fra, trace_id, {"serial": "SN-123 (re-read)"}, "Photos follow by courier.")
    clock.advance(4)
    traces.answer(deu, trace_id, **ANSWER)
    clock.advance(1)
    traces.close(fra, trace_id, "Thank you, very useful.")

    for reader in (fra, deu):
        view = traces.view(reader, trace_id)
        assert (view.requester, view.requested, view.case_id) == ("FRA", "DEU", str(case["id"]))
        assert view.status == "closed" and view.outcome == "traced"
        assert view.item_ids == case["items"][:1]
        assert view.items[case["items"][0]]["serial"] == "SN-123"  # sealed copy of the item
        assert view.questions == QUESTIONS
        assert view.more_info[0]["checklist"] == ["serial", "markings_photos"]
        assert view.more_info[0]["note"] == "Serial unreadable."
        assert view.supplied[0]["answers"] == {"serial": "SN-123 (re-read)"}
        assert view.answer["destination"] == "MLI" and view.answer["licence"] == "DE-EX-2019-77"
        assert view.feedback == "Thank you, very useful."
        assert view.sent_on == date(2025, 3, 1) and view.deadline == date(2025, 3, 31)
        assert view.acknowledged_on == date(2025, 3, 3)
        assert view.answered_on == date(2025, 3, 11) and view.closed_on == date(2025, 3, 12)
        assert view.recipients == ["DEU", "FRA"] and not view.overdue
        assert view.unreadable_events == 0


def test_requested_state_may_answer_straight_from_sent_which_counts_as_acknowledging(
        traces: Traces, people: dict, case: dict, clock: Clock) -> None:
    trace_id = send(traces, people, case)
    clock.advance(4)
    traces.answer(people["DEU"], trace_id, outcome="not_traced", text="No record of export.")
    view = traces.view(people["FRA"], trace_id)
    assert view.status == "answered" and view.outcome == "not_traced"
    assert view.acknowledged_on == view.answered_on == date(2025, 3, 5)


# (who acts, command, arguments) for moves the lifecycle forbids from each status.
ILLEGAL = {
    "sent": [("FRA", "complete", {"note": "x"}), ("FRA", "close", {})],
    "acknowledged": [("DEU", "acknowledge", {}), ("FRA", "complete", {"note": "x"}),
                     ("FRA", "close", {})],
    "more_info_requested": [("DEU", "acknowledge", {}), ("DEU", "answer", ANSWER),
                            ("DEU", "request_more_info", {"checklist": ["make"]}),
                            ("FRA", "close", {})],
    "answered": [("DEU", "acknowledge", {}), ("DEU", "answer", ANSWER),
                 ("DEU", "request_more_info", {"checklist": ["make"]}),
                 ("FRA", "complete", {"note": "x"})],
    "closed": [("DEU", "answer", ANSWER), ("FRA", "close", {}), ("DEU", "acknowledge", {})],
}
ROUTE = [("DEU", "acknowledge", {}), ("DEU", "request_more_info", {"checklist": ["make"]}),
         ("FRA", "complete", {"note": "make: Acme"}), ("DEU", "answer", ANSWER),
         ("FRA", "close", {})]
REACHED = {"acknowledged": 1, "more_info_requested": 2, "sent": 3, "answered": 4, "closed": 5}


@pytest.mark.parametrize("status", list(ILLEGAL))
def test_illegal_moves_are_refused_naming_the_status_and_store_nothing(
        exchange: Exchange, traces: Traces, people: dict, case: dict, status: str) -> None:
    trace_id = send(traces, people, case)
    for who, command, args in ROUTE[:REACHED.get(status, 0)]:
        getattr(traces, command)(people[who], trace_id, **args)
    assert traces.view(people["FRA"], trace_id).status == status
    before = count(exchange)
    for who, command, args in ILLEGAL[status]:
        with pytest.raises(Conflict) as refused:
            getattr(traces, command)(people[who], trace_id, **args)
        assert refused.value.field == "status" and status in refused.value.message
    assert count(exchange) == before
    assert traces.view(people["FRA"], trace_id).status == status


def test_only_the_right_party_and_role_act_and_refusals_store_nothing(
        exchange: Exchange, traces: Traces, people: dict, case: dict) -> None:
    trace_id = send(traces, people, case)
    before = count(exchange)
    with pytest.raises(Forbidden):
        traces.acknowledge(people["FRA"], trace_id)  # the requester cannot acknowledge
    with pytest.raises(Forbidden):
        traces.answer(people["FRA"], trace_id, **ANSWER)
    with pytest.raises(Forbidden):
        traces.acknowledge(people["DEU.reviewer"], trace_id)  # reads, does not act
    traces.view(people["DEU.reviewer"], trace_id)
    traces.answer(people["DEU"], trace_id, **ANSWER)
    before = count(exchange)
    with pytest.raises(Forbidden):
        traces.close(people["DEU"], trace_id)  # the requested state cannot close
    assert count(exchange) == before


def test_only_analysts_of_the_case_owner_send(exchange: Exchange, traces: Traces,
                                             people: dict, case: dict) -> None:
    exchange.cases.share(people["FRA"], case["id"], case["version"], "bilateral", ["DEU"])
    before = count(exchange)
    with pytest.raises(Forbidden):
        traces.send(people["DEU"], case["id"], "MLI", case["items"], QUESTIONS)
    with pytest.raises(NotFound):
        traces.send(people["MLI"], case["id"], "DEU", case["items"], QUESTIONS)
    assert count(exchange) == before


def test_deadline_defaults_to_thirty_days_and_overdue_follows_the_injected_clock(
        exchange: Exchange, traces: Traces, people: dict, case: dict, clock: Clock) -> None:
    fra, deu = people["FRA"], people["DEU"]
    trace_id = send(traces, people, case)
    trace = exchange.ledger.repository.get(trace_id)
    assert trace.deadline == date(2025, 3, 31)
    assert not trace.overdue(datetime(2025, 3, 31, 23, 59, tzinfo=UTC))
    assert trace.overdue(date(2025, 4, 1))
    assert "overdue" not in trace.__dict__  # computed, never stored
    clock.advance(30)
    assert not traces.view(fra, trace_id).overdue
    clock.advance(1)
    assert traces.view(fra, trace_id).overdue
    # While the requested state waits for information, it owes no reply.
    traces.request_more_info(deu, trace_id, ["serial"])
    assert not traces.view(fra, trace_id).overdue
    traces.complete(fra, trace_id, {"serial": "SN-123"})
    assert traces.view(deu, trace_id).overdue
    traces.change_deadline(fra, trace_id, "2025-04-15")
    assert not traces.view(deu, trace_id).overdue
    clock.advance(30)
    assert traces.view(deu, trace_id).overdue
    traces.answer(deu, trace_id, **ANSWER)
    assert not traces.view(deu, trace_id).overdue


def test_deadline_can_be_set_in_days_when_sending(traces: Traces, people: dict,
                                                  case: dict) -> None:
    trace_id = send(traces, people, case, deadline_days=10)
    assert traces.view(people["DEU"], trace_id).deadline == date(2025, 3, 11)


def test_third_state_and_secretariat_find_nothing_and_unwrap_no_key(
        exchange: Exchange, traces: Traces, people: dict, case: dict) -> None:
    trace_id = send(traces, people, case)
    traces.answer(people["DEU"], trace_id, **ANSWER)
    for who in ("MLI", "secretariat"):
        attacker = people[who]
        with pytest.raises(NotFound):
            traces.view(attacker, trace_id)
        with pytest.raises(NotFound):
            traces.acknowledge(attacker, trace_id)
        with exchange.ledger.transaction() as session:
            assert exchange.keystore.wrapped_keys(session, str(trace_id), attacker.state) == {}
            rows = {state: exchange.keystore.wrapped_keys(session, str(trace_id), state)
                    for state in ("FRA", "DEU")}
        # Try every stored row with the attacker's keyring, as itself and as the recipient.
        for state, held in rows.items():
            assert list(held) == [1]
            for recipient in (attacker.state, state):
                with pytest.raises(CryptoError):
                    unwrap_case_key(held[1], case_id=str(trace_id), recipient=recipient,
                                    keyring=attacker.keyring)
    # The stored events carry the questions and the answer only sealed.
    for notification in exchange.ledger.recorder.select_notifications(
            None, limit=1000, inclusive_of_start=False):
        for secret in (QUESTIONS, ANSWER["licence"], ANSWER["text"]):
            assert secret.encode() not in notification.state


def test_owner_may_share_the_request_with_the_case_readers(
        exchange: Exchange, traces: Traces, people: dict, case: dict) -> None:
    exchange.cases.share(people["FRA"], case["id"], case["version"], "bilateral", ["MLI"])
    private = send(traces, people, case)
    shared = send(traces, people, case, share_with_case_readers=True)
    with pytest.raises(NotFound):
        traces.view(people["MLI"], private)
    view = traces.view(people["MLI"], shared)
    assert view.questions == QUESTIONS and view.shared_with_case_readers
    assert view.recipients == ["DEU", "FRA", "MLI"]
    before = count(exchange)
    with pytest.raises(Forbidden):
        traces.acknowledge(people["MLI"], shared)  # a reader, not a party
    assert count(exchange) == before
    with pytest.raises(NotFound):
        traces.view(people["secretariat"], shared)


def test_traced_answer_becomes_a_route_leg_of_the_case_in_one_step(
        exchange: Exchange, traces: Traces, people: dict, case: dict) -> None:
    fra = people["FRA"]
    trace_id = send(traces, people, case)
    traces.answer(people["DEU"], trace_id, **ANSWER)
    part_id = traces.attach_answer_to_case(fra, trace_id, case["version"])
    leg = exchange.cases.view(fra, case["id"]).legs[part_id]
    assert (leg["origin"], leg["destination"], leg["date"]) == ("DEU", "MLI", "2019-05-14")
    assert "DE-EX-2019-77" in leg["notes"] and str(trace_id) in leg["notes"]
    assert traces.view(fra, trace_id).attached_part_id == part_id
    before = count(exchange)
    with pytest.raises(Conflict):
        traces.attach_answer_to_case(fra, trace_id, case["version"] + 1)
    assert count(exchange) == before


def test_attaching_stores_neither_the_leg_nor_the_mark_when_either_fails(
        exchange: Exchange, traces: Traces, people: dict, case: dict,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fra = people["FRA"]
    trace_id = send(traces, people, case)
    traces.answer(people["DEU"], trace_id, **ANSWER)
    before = count(exchange)
    with pytest.raises(Conflict):
        traces.attach_answer_to_case(fra, trace_id, case["version"] + 5)  # no such version
    original = TraceRequest.attach_answer

    def fail_after_the_leg(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise RuntimeError("crash between the leg and the mark")

    monkeypatch.setattr(TraceRequest, "attach_answer", fail_after_the_leg)
    with pytest.raises(RuntimeError):
        traces.attach_answer_to_case(fra, trace_id, case["version"])
    assert count(exchange) == before
    assert exchange.cases.view(fra, case["id"]).legs == {}
    monkeypatch.undo()
    assert traces.attach_answer_to_case(fra, trace_id, case["version"])


def test_only_a_traced_answer_with_a_destination_is_attached(
        exchange: Exchange, traces: Traces, people: dict, case: dict) -> None:
    fra = people["FRA"]
    unanswered = send(traces, people, case)
    not_traced = send(traces, people, case)
    no_destination = send(traces, people, case)
    traces.answer(people["DEU"], not_traced, outcome="not_traced")
    traces.answer(people["DEU"], no_destination, outcome="traced", text="Lost in 2015.")
    before = count(exchange)
    with pytest.raises(Conflict) as early:
        traces.attach_answer_to_case(fra, unanswered, case["version"])
    assert early.value.field == "status"
    with pytest.raises(Conflict) as negative:
        traces.attach_answer_to_case(fra, not_traced, case["version"])
    assert negative.value.field == "outcome"
    with pytest.raises(InvalidInput) as nowhere:
        traces.attach_answer_to_case(fra, no_destination, case["version"])
    assert nowhere.value.field == "destination"
    with pytest.raises(Forbidden):
        traces.attach_answer_to_case(people["DEU"], not_traced, case["version"])
    assert count(exchange) == before


def board_view(exchange: Exchange) -> TraceBoardView:
    view = TraceBoardView(exchange.ledger.recorder.datastore,
                          tracking_table_name="trace_board_tracking")
    view.create_table()
    return view


def test_trace_board_follows_the_log_and_rebuilds_from_zero_identically(
        exchange: Exchange, traces: Traces, people: dict, case: dict, clock: Clock) -> None:
    fra, deu, mli = people["FRA"], people["DEU"], people["MLI"]
    prompt = send(traces, people, case)
    late = send(traces, people, case, deadline_days=5)
    to_mali = send(traces, people, case, requested_state="MLI")
    clock.advance(3)
    traces.acknowledge(deu, prompt)
    clock.advance(6)
    traces.answer(deu, prompt, **ANSWER)
    traces.close(fra, prompt)
    clock.advance(1)
    traces.acknowledge(deu, late)
    traces.request_more_info(mli, to_mali, ["end_user_certificate"])

    board = TraceBoard(board_view(exchange))
    catch_up(exchange.ledger, [board])
    today = clock()
    fra_board = board.view.board_for("FRA", today)
    assert fra_board.incoming == []
    assert [r.trace_id for r in fra_board.outgoing] == [str(late), str(to_mali), str(prompt)]
    first = fra_board.outgoing[0]
    assert first.overdue and first.status == "acknowledged" and first.days_open == 10
    assert first.deadline == date(2025, 3, 6) and first.acknowledged_on == date(2025, 3, 11)
    done = fra_board.outgoing[-1]
    assert (done.status, done.outcome, done.days_open) == ("closed", "traced", 9)
    assert (done.acknowledged_on, done.answered_on) == (date(2025, 3, 4), date(2025, 3, 10))
    deu_board = board.view.board_for("DEU", today)
    assert [r.trace_id for r in deu_board.incoming] == [str(late), str(prompt)]
    assert deu_board.outgoing == []
    assert board.view.pair_stats() == [PairStats("FRA", "DEU", 2, 1, 1),
                                       PairStats("FRA", "MLI", 1, 0, 0)]
    assert board.view.board_for("ESP", today).incoming == []

    live = board.view.dump()
    assert len(live["trace_board"]) == 3
    board.view.drop()
    rebuilt = board_view(exchange)
    assert rebuilt.dump()["trace_board"] == []
    catch_up(exchange.ledger, [TraceBoard(rebuilt)])
    assert rebuilt.dump() == live
    assert catch_up(exchange.ledger, [TraceBoard(rebuilt)]) == 0  # nothing applied twice


@pytest.mark.parametrize(("changes", "field"), [
    ({"item_ids": ["nosuchitem"]}, "item_ids"),
    ({"item_ids": []}, "item_ids"),
    ({"requested_state": "ESP"}, "requested_state"),  # a country, not registered
    ({"requested_state": "ZZZ"}, "requested_state"),
    ({"requested_state": "FRA"}, "requested_state"),  # itself
    ({"requested_state": "XAT"}, "requested_state"),  # the secretariat has no NCP
    ({"questions": "   "}, "questions"),
    ({"deadline_days": 0}, "deadline_days"),
    ({"deadline_days": -3}, "deadline_days"),
    ({"deadline_days": "soon"}, "deadline_days"),
])
def test_bad_request_is_refused_naming_the_field_and_stores_nothing(
        exchange: Exchange, traces: Traces, people: dict, case: dict, changes: dict,
        field: str) -> None:
    before = count(exchange)
    with pytest.raises(InvalidInput) as refused:
        send(traces, people, case, **changes)
    assert refused.value.field == field
    assert count(exchange) == before


@pytest.mark.parametrize(("command", "who", "args", "field"), [
    ("answer", "DEU", dict(ANSWER, outcome="maybe"), "outcome"),
    ("answer", "DEU", dict(ANSWER, destination="QQQ"), "destination"),
    ("answer", "DEU", dict(ANSWER, date="2025-03-02"), "date"),  # after the clock's today
    ("answer", "DEU", dict(ANSWER, date="14/05/2019"), "date"),
    ("request_more_info", "DEU", {"checklist": ["make", "colour"]}, "checklist"),
    ("request_more_info", "DEU", {"checklist": []}, "checklist"),
    ("change_deadline", "FRA", {"deadline": "2025-03-01"}, "deadline"),
    ("change_deadline", "FRA", {"deadline": "next week"}, "deadline"),
])
def test_bad_reply_is_refused_naming_the_field_and_stores_nothing(
        exchange: Exchange, traces: Traces, people: dict, case: dict, command: str,
        who: str, args: dict, field: str) -> None:
    trace_id = send(traces, people, case)
    before = count(exchange)
    with pytest.raises(InvalidInput) as refused:
        getattr(traces, command)(people[who], trace_id, **args)
    assert refused.value.field == field
    assert count(exchange) == before


def test_bad_completion_is_refused_naming_the_field(exchange: Exchange, traces: Traces,
                                                    people: dict, case: dict) -> None:
    trace_id = send(traces, people, case)
    traces.request_more_info(people["DEU"], trace_id, ["serial"])
    before = count(exchange)
    for answers in ({"colour": "blue"}, {}):
        with pytest.raises(InvalidInput) as refused:
            traces.complete(people["FRA"], trace_id, answers)
        assert refused.value.field == "answers"
    assert count(exchange) == before


def test_unknown_or_malformed_trace_id_is_not_found(traces: Traces, people: dict,
                                                    case: dict) -> None:
    with pytest.raises(NotFound):
        traces.view(people["FRA"], "not-a-uuid")
    with pytest.raises(NotFound):
        traces.view(people["FRA"], case["id"])  # a case is not a trace request


def test_trace_events_are_signed_and_chained_like_every_other(
        exchange: Exchange, traces: Traces, people: dict, case: dict) -> None:
    trace_id = send(traces, people, case)
    traces.acknowledge(people["DEU"], trace_id)
    traces.answer(people["DEU"], trace_id, **ANSWER)
    traces.close(people["FRA"], trace_id)
    result = verify_log(exchange.ledger)
    assert result.ok and result.events_checked == count(exchange)
