"""API operations on trace requests: the state's board and response record, a request, and
each step of its lifecycle, through the `Traces` service (the trace board read model lists)."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response

from cases.casework.attachments import Upload
from cases.kernel.viewer import Viewer

from ..extensions import caught_up_exchange, get_exchange
from ..files import file_response
from ..traces import BOARD_COLUMNS, case_titles, today_of
from .exchange_schemas import (
    AnswerIn,
    AttachedOut,
    AttachIn,
    BoardQuery,
    CloseIn,
    DeadlineIn,
    MoreInfoIn,
    PairStatsOut,
    ResponseRecordOut,
    SendTraceIn,
    SupplyIn,
    TraceOut,
    TracePage,
    TraceRowOut,
)
from .spec import operation

bp = Blueprint("traces", __name__)

TRACE = "/traces/<uuid:trace_id>"
# Other states are told a request does not exist (404); a party whose role or turn does not
# allow the step gets 403 or 409.
STEP_ERRORS = (403, 404, 409)


def trace_out(viewer: Viewer, trace_id: UUID) -> TraceOut:
    return TraceOut.model_validate(get_exchange().traces.view(viewer, trace_id))


@operation(bp, "GET", "/traces", summary="Your state's trace board, by default the nearest "
           "deadline first (answered requests last); sort and dir choose another order",
           tag="traces", query=BoardQuery, response=TracePage)
def trace_board(viewer: Viewer, query: BoardQuery) -> TracePage:
    exchange = caught_up_exchange()
    descending = query.dir == "desc" if query.dir else BOARD_COLUMNS[query.sort]
    rows, total = exchange.trace_board.view.page_for(
        viewer.state, today_of(exchange), query.direction, query.sort, descending,
        (query.page - 1) * query.per_page, query.per_page)
    titles = case_titles(exchange, viewer, {r.case_id for r in rows})
    items = exchange.traces.items_of(viewer, rows)
    return TracePage(page=query.page, per_page=query.per_page, total=total, items=[
        TraceRowOut.of(row, "incoming" if row.requested == viewer.state else "outgoing",
                       titles.get(row.case_id), items.get(row.trace_id, []))
        for row in rows])


@operation(bp, "GET", "/traces/response-record", summary="How promptly each pair of "
           "states (one of them yours) acknowledges and answers", tag="traces",
           response=ResponseRecordOut)
def response_record(viewer: Viewer) -> ResponseRecordOut:
    exchange = caught_up_exchange()
    return ResponseRecordOut(items=[
        PairStatsOut.model_validate(s) for s in exchange.trace_board.view.pair_stats()
        if viewer.state in (s.requester, s.requested)])


@operation(bp, "POST", "/cases/<uuid:case_id>/traces", summary="Send a trace request "
           "about items of a case of your state", tag="traces", body=SendTraceIn,
           response=TraceOut, status=201, errors=(403, 404))
def send_trace(viewer: Viewer, case_id: UUID, body: SendTraceIn) -> TraceOut:
    trace_id = get_exchange().traces.send(
        viewer, case_id, body.requested_state, body.item_ids, body.questions,
        deadline_days=body.deadline_days,
        share_with_case_readers=body.share_with_case_readers)
    return trace_out(viewer, trace_id)


@operation(bp, "GET", TRACE, summary="A trace request as your state reads it",
           tag="traces", response=TraceOut, errors=(403, 404))
def get_trace(viewer: Viewer, trace_id: UUID) -> TraceOut:
    return trace_out(viewer, trace_id)


@operation(bp, "POST", f"{TRACE}/acknowledgement", summary="Acknowledge receipt "
           "(requested state)", tag="traces", response=TraceOut, errors=STEP_ERRORS)
def acknowledge_trace(viewer: Viewer, trace_id: UUID) -> TraceOut:
    get_exchange().traces.acknowledge(viewer, trace_id)
    return trace_out(viewer, trace_id)


@operation(bp, "POST", f"{TRACE}/more-info", summary="Ask for missing information "
           "(requested state)", tag="traces", body=MoreInfoIn, response=TraceOut,
           errors=STEP_ERRORS)
def request_more_info(viewer: Viewer, trace_id: UUID, body: MoreInfoIn) -> TraceOut:
    get_exchange().traces.request_more_info(viewer, trace_id, body.checklist, body.note)
    return trace_out(viewer, trace_id)


@operation(bp, "POST", f"{TRACE}/information", summary="Supply the missing information "
           "(requester); the request is sent again", tag="traces", body=SupplyIn,
           response=TraceOut, errors=STEP_ERRORS)
def supply_information(viewer: Viewer, trace_id: UUID, body: SupplyIn) -> TraceOut:
    get_exchange().traces.complete(viewer, trace_id, body.answers, body.note)
    return trace_out(viewer, trace_id)


@operation(bp, "POST", f"{TRACE}/answer", summary="Answer: traced, not traced or "
           "untraceable (requested state); as multipart/form-data, with a file in "
           "`attachment` (a licence, an end-user certificate)", tag="traces", body=AnswerIn,
           response=TraceOut, errors=STEP_ERRORS, upload="attachment")
def answer_trace(viewer: Viewer, trace_id: UUID, body: AnswerIn,
                 upload: Upload | None) -> TraceOut:
    get_exchange().traces.answer(viewer, trace_id, body.outcome,
                                 destination=body.destination, date=body.date,
                                 licence=body.licence, text=body.text,
                                 recipient=body.recipient,
                                 last_legal_holder=body.last_legal_holder, upload=upload)
    return trace_out(viewer, trace_id)


@operation(bp, "GET", f"{TRACE}/answer/file", summary="The file of the answer, for the "
           "states that read the request", tag="traces", errors=(403, 404), binary=True)
def answer_file(viewer: Viewer, trace_id: UUID) -> Response:
    name, mime, chunks = get_exchange().traces.answer_file(viewer, trace_id)
    return file_response(name, mime, chunks)


@operation(bp, "POST", f"{TRACE}/closure", summary="Close an answered request with "
           "feedback (requester)", tag="traces", body=CloseIn, response=TraceOut,
           errors=STEP_ERRORS)
def close_trace(viewer: Viewer, trace_id: UUID, body: CloseIn) -> TraceOut:
    get_exchange().traces.close(viewer, trace_id, body.feedback)
    return trace_out(viewer, trace_id)


@operation(bp, "PUT", f"{TRACE}/deadline", summary="Move the response deadline "
           "(requester)", tag="traces", body=DeadlineIn, response=TraceOut,
           errors=STEP_ERRORS)
def change_deadline(viewer: Viewer, trace_id: UUID, body: DeadlineIn) -> TraceOut:
    get_exchange().traces.change_deadline(viewer, trace_id, body.deadline)
    return trace_out(viewer, trace_id)


@operation(bp, "POST", f"{TRACE}/attachment", summary="Add a traced answer to the case "
           "as a route leg (requester); expected_version is the case's", tag="traces",
           body=AttachIn, response=AttachedOut, status=201, errors=STEP_ERRORS)
def attach_answer(viewer: Viewer, trace_id: UUID, body: AttachIn) -> AttachedOut:
    part_id = get_exchange().traces.attach_answer_to_case(viewer, trace_id,
                                                          body.expected_version)
    return AttachedOut(part_id=part_id, trace=trace_out(viewer, trace_id))
