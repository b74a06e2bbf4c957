"""Trace requests: each state's board of incoming and outgoing requests, and a request's page."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import date, datetime
from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from cases.casework.attachments import Upload
from cases.kernel.errors import DivexError
from cases.kernel.viewer import Viewer
from cases.tracing import trace_request
from cases.tracing.trace_request import CHECKLIST, DEFAULT_DEADLINE_DAYS, OUTCOMES

from .extensions import caught_up_exchange, current_viewer, get_exchange
from .fields import Field
from .files import file_response
from .forms import expected_version, field_errors, page_number
from .listing import page_size, sorting

bp = Blueprint("traces", __name__, url_prefix="/traces")

SEND = (Field("requested_state", _l("Requested state (its national contact point)"), "country",
              required=True),
        Field("questions", _l("Questions"), "textarea", required=True),
        Field("deadline_days", _l("Days to answer"), "number"),
        Field("share_with_case_readers",
              _l("Also let the states that read the case read this request"), "checkboxes",
              ("yes",)))
MORE_INFO = (Field("checklist", _l("Missing information"), "checkboxes", CHECKLIST),
             Field("note", _l("Note"), "textarea"))
COMPLETE = (Field("note", _l("Information supplied"), "textarea", required=True),)
# The ITI's answer to a trace: where the items went, to whom, when, under which licence, and
# the last legal holder the requested state knows of.
ANSWER = (Field("outcome", _l("Outcome"), "select", OUTCOMES, required=True),
          Field("destination", _l("Transferred to (state)"), "country"),
          Field("recipient", _l("Transferred to (consignee or end user)")),
          Field("date", _l("Date of transfer"), "date"),
          Field("licence", _l("Export licence")),
          Field("last_legal_holder", _l("Last legal holder known")),
          Field("text", _l("Answer"), "textarea"))
CLOSE = (Field("feedback", _l("Feedback on the answer"), "textarea"),)


# What a request waits for from the viewer's state (cases.tracing.trace_request.action_for).
ACTIONS = {trace_request.ACKNOWLEDGE: _l("Acknowledge and answer"),
           trace_request.ANSWER: _l("Answer the request"),
           trace_request.SUPPLY: _l("Supply the missing information"),
           trace_request.CLOSE: _l("Read the answer and close")}


def case_titles(exchange: Any, viewer: Viewer, case_ids: Iterable[str]) -> dict[str, str | None]:
    """The titles of those cases the viewer's state reads now, by case id."""
    return exchange.cases.titles(viewer, exchange.inbox.view.readable_titles(viewer.state,
                                                                             case_ids))


def today_of(exchange: Any) -> date:
    """Today in the deployment's time zone: deadlines are its days."""
    return datetime.now(exchange.settings.zone).date()


# The board's sortable columns (projections.trace_board.BOARD_SORTS), each with whether it
# runs descending when first chosen.
BOARD_COLUMNS = {"deadline": False, "sent": True, "status": False, "state": False}
BOARD_PAGES = {"incoming": "page_in", "outgoing": "page_out"}  # each list pages on its own


@bp.get("/")
@login_required
def board() -> str:
    """Both lists, sorted alike by a column of `BOARD_COLUMNS` (an unknown ``sort``,
    ``dir`` or ``size`` gives the default silently), each a page at a time."""
    exchange = caught_up_exchange()
    viewer = current_viewer()
    view = exchange.trace_board.view
    order, size = sorting(request.args, BOARD_COLUMNS, "deadline"), page_size(request.args)
    lists = {}
    for direction, param in BOARD_PAGES.items():
        page = page_number(param)
        rows, total = view.page_for(viewer.state, today_of(exchange), direction, order.by,
                                    order.descending, (page - 1) * size, size)
        lists[direction] = dict(rows=rows, total=total, page=page,
                                pages=max(1, -(-total // size)), param=param)
    rows = [r for part in lists.values() for r in part["rows"]]
    stats = [s for s in view.pair_stats() if viewer.state in (s.requester, s.requested)]
    return render_template("traces/board.html", lists=lists, stats=stats, sorting=order,
                           columns=BOARD_COLUMNS, size=size, pages=tuple(BOARD_PAGES.values()),
                           titles=case_titles(exchange, viewer, {r.case_id for r in rows}),
                           items=exchange.traces.items_of(viewer, rows), actions=ACTIONS)


@bp.get("/<uuid:trace_id>")
@login_required
def show(trace_id: UUID) -> str:
    """A request as its readers see it, with the next steps the viewer may take."""
    exchange, viewer = caught_up_exchange(), current_viewer()
    trace = exchange.traces.view(viewer, trace_id)
    case_version = None
    if viewer.state == trace.requester:  # the requester owns the case: it may attach to it
        case_version = exchange.cases.view(viewer, UUID(trace.case_id)).version
    title = case_titles(exchange, viewer, [trace.case_id]).get(trace.case_id)
    return render_template("traces/trace.html", trace=trace, case_version=case_version,
                           case_title=title,
                           reads_case=exchange.inbox.view.case_readable(trace.case_id,
                                                                        viewer.state))


def form_page(heading: Any, fields: tuple[Field, ...], values: MultiDict[str, str],
              errors: dict[str, str] | None = None, status: int = 200,
              items: dict[str, Any] | None = None, trace: Any = None,
              upload: bool = False) -> tuple[str, int]:
    """A trace request's form; ``upload``: with a file field (an answer's)."""
    return render_template("traces/form.html", heading=heading, fields=fields, values=values,
                           errors=errors or {}, items=items, trace=trace, upload=upload,
                           action=request.path), status


@bp.route("/new/<uuid:case_id>", methods=["GET", "POST"])
@login_required
def send(case_id: UUID) -> Any:
    """Sends a trace request about items of a case (analysts of the owner state)."""
    exchange = get_exchange()
    case = exchange.cases.view_to_trace(current_viewer(), case_id)
    heading = _("Send a trace request")
    if request.method == "GET":  # a private hit's page names the state and the item
        given = request.args
        return form_page(heading, SEND, MultiDict([
            ("deadline_days", str(DEFAULT_DEADLINE_DAYS)),
            ("requested_state", given.get("requested_state", "")[:3]),
            ("hit", given.get("hit", "")[:36]),
            *(("items", part) for part in given.getlist("items") if part in case.items)]),
            items=case.items)
    form = request.form
    try:
        days = int(form.get("deadline_days") or DEFAULT_DEADLINE_DAYS)
    except ValueError:
        days = 0
    try:
        trace_id = exchange.traces.send(current_viewer(), case_id, form.get("requested_state", ""),
                                        form.getlist("items"), form.get("questions", ""),
                                        deadline_days=days,
                                        share_with_case_readers=form.get(
                                            "share_with_case_readers") == "yes")
    except DivexError as error:
        if error.field == "item_ids":  # the service's name for what the form calls items
            error.field = "items"
        return form_page(heading, SEND, form, field_errors(error, (*SEND, Field("items", ""))),
                         error.status, items=case.items)
    if form.get("hit"):  # sent from a private hit: the other state sees it was answered
        with suppress(DivexError):
            exchange.hits.answer(current_viewer(), form["hit"], "trace_sent")
    flash(_("The trace request is sent."), "success")
    return redirect(url_for("traces.show", trace_id=trace_id))


def step(trace_id: UUID, heading: Any, fields: tuple[Field, ...],
         act: Callable[[Any], None], done: Any, upload: bool = False) -> Any:
    """A lifecycle step: its form on GET, below the request it is about; the service call
    on POST."""
    trace = get_exchange().traces.view(current_viewer(), trace_id)  # 404 for non-readers
    if request.method == "GET":
        return form_page(heading, fields, MultiDict(), trace=trace, upload=upload)
    try:
        act(request.form)
    except DivexError as error:
        shown = (*fields, Field("attachment", "")) if upload else fields
        return form_page(heading, fields, request.form, field_errors(error, shown),
                         error.status, trace=trace, upload=upload)
    flash(done, "success")
    return redirect(url_for("traces.show", trace_id=trace_id))


@bp.post("/<uuid:trace_id>/acknowledge")
@login_required
def acknowledge(trace_id: UUID) -> Response:
    get_exchange().traces.acknowledge(current_viewer(), trace_id)
    flash(_("Receipt acknowledged."), "success")
    return redirect(url_for("traces.show", trace_id=trace_id))


@bp.route("/<uuid:trace_id>/more-info", methods=["GET", "POST"])
@login_required
def more_info(trace_id: UUID) -> Any:
    return step(trace_id, _("Ask for more information"), MORE_INFO,
                lambda f: get_exchange().traces.request_more_info(
                    current_viewer(), trace_id, f.getlist("checklist"), f.get("note", "")),
                _("More information was asked for."))


@bp.route("/<uuid:trace_id>/complete", methods=["GET", "POST"])
@login_required
def complete(trace_id: UUID) -> Any:
    return step(trace_id, _("Supply the missing information"), COMPLETE,
                lambda f: get_exchange().traces.complete(current_viewer(), trace_id,
                                                         note=f.get("note", "")),
                _("The information is sent; the request is open again."))


@bp.route("/<uuid:trace_id>/answer", methods=["GET", "POST"])
@login_required
def answer(trace_id: UUID) -> Any:
    return step(trace_id, _("Answer the trace request"), ANSWER,
                lambda f: get_exchange().traces.answer(
                    current_viewer(), trace_id, f.get("outcome", ""),
                    destination=f.get("destination", ""), date=f.get("date", ""),
                    licence=f.get("licence", ""), text=f.get("text", ""),
                    recipient=f.get("recipient", ""),
                    last_legal_holder=f.get("last_legal_holder", ""), upload=uploaded()),
                _("The answer is sent."), upload=True)


def uploaded() -> Upload | None:
    file = request.files.get("attachment")
    return Upload(file.filename or "attachment", file.read()) \
        if file is not None and file.filename else None


@bp.get("/<uuid:trace_id>/answer/file")
@login_required
def answer_file(trace_id: UUID) -> Response:
    """The answer's file, for the states that read the request; photos shown inline."""
    name, mime, chunks = get_exchange().traces.answer_file(current_viewer(), trace_id)
    return file_response(name, mime, chunks)


@bp.route("/<uuid:trace_id>/close", methods=["GET", "POST"])
@login_required
def close(trace_id: UUID) -> Any:
    return step(trace_id, _("Close the trace request"), CLOSE,
                lambda f: get_exchange().traces.close(current_viewer(), trace_id,
                                                      f.get("feedback", "")),
                _("The trace request is closed."))


@bp.post("/<uuid:trace_id>/attach")
@login_required
def attach(trace_id: UUID) -> Response:
    """Adds the answer to the case as a route leg, in one step."""
    exchange = get_exchange()
    trace = exchange.traces.view(current_viewer(), trace_id)
    exchange.traces.attach_answer_to_case(current_viewer(), trace_id, expected_version())
    flash(_("The answer is added to the case as a route leg."), "success")
    return redirect(url_for("cases.show", case_id=trace.case_id))
