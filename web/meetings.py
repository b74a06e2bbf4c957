"""Informal meetings (tier 3): the list, convening, and the meeting page with its actions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from cases.identity.directory import SECRETARIAT_CODE
from cases.kernel.errors import DivexError, NotFound
from cases.kernel.viewer import SECRETARIAT
from cases.meetings.meeting import MEETING_TRANSITIONS
from projections.case_index import CaseFilter

from .extensions import caught_up_exchange, current_viewer, get_exchange
from .fields import CONTRIBUTION, Field
from .files import file_response
from .forms import field_errors, page_number
from .listing import page_size, sorting
from .messages import refusal
from .traces import uploaded

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

CONVENE = (Field("title", _l("Title"), required=True),
           Field("date", _l("Date"), "date", required=True),
           Field("convening_body", _l("Convening body")),
           Field("participants", _l("Participating states (codes, e.g. FRA DEU MLI)"),
                 required=True))


# The list's sortable columns (cases.meetings.meeting_service.LISTING_SORTS), each with
# whether it runs descending when first chosen.
MEETING_COLUMNS = {"date": True, "title": False, "status": False}


@bp.get("/")
@login_required
def index() -> str:
    """The meetings, sorted by a column of `MEETING_COLUMNS` (an unknown ``sort``, ``dir``
    or ``size`` gives the default silently), a page at a time."""
    viewer = current_viewer()
    order, size, page = (sorting(request.args, MEETING_COLUMNS, "date"),
                         page_size(request.args), page_number())
    found = get_exchange().meetings.listing(viewer, order.by, order.descending)
    return render_template("meetings/list.html",
                           meetings=found[(page - 1) * size:page * size], total=len(found),
                           page=page, pages=max(1, -(-len(found) // size)), size=size,
                           sorting=order, columns=MEETING_COLUMNS,
                           may_convene=viewer.has(SECRETARIAT))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def convene() -> Any:
    heading = _("Convene an informal meeting")
    if request.method == "GET":
        return render_template("meetings/form.html", heading=heading, fields=CONVENE,
                               values=MultiDict(), errors={})
    form = request.form
    try:
        meeting_id = get_exchange().meetings.convene(
            current_viewer(), form.get("title", ""), form.get("date", ""),
            form.get("convening_body", ""), form.get("participants", "").replace(",", " ").split())
    except DivexError as error:
        return render_template("meetings/form.html", heading=heading, fields=CONVENE,
                               values=form, errors=field_errors(error, CONVENE)), error.status
    flash(_("The meeting is convened."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id))


def meeting_page(meeting_id: UUID, error: DivexError | None = None,
                 typed: dict[str, str] | None = None) -> tuple[str, int]:
    """The meeting page; ``typed``: a refused entry (``action`` "outcome", else the
    discussion's), kept in its form."""
    exchange, viewer = caught_up_exchange(), current_viewer()
    meeting = exchange.meetings.view(viewer, meeting_id)
    own_cases, _total = exchange.case_index.view.list_for(
        viewer.state, CaseFilter(owner=viewer.state), limit=100)
    titles = exchange.cases.titles(viewer, own_cases)
    for case_id in meeting.agenda:
        if case_id not in titles:
            try:
                titles[case_id] = exchange.cases.view(viewer, UUID(case_id)).title
            except NotFound:
                titles[case_id] = None  # on the agenda, but not shared with this state
    discussions = {case_id: exchange.contributions.thread(viewer, UUID(case_id),
                                                          meeting=meeting_id)
                   for case_id in meeting.agenda
                   if titles.get(case_id) and case_id not in meeting.shredded}
    return render_template(
        "meetings/meeting.html", meeting=meeting, titles=titles, discussions=discussions,
        typed=typed or {},
        contribution_fields=CONTRIBUTION,
        history=exchange.meetings.history(viewer, meeting_id),
        tableable=[r for r in own_cases
                   if r.case_id not in meeting.agenda and not r.shredded_on],
        next_statuses=MEETING_TRANSITIONS[meeting.status], secretariat_code=SECRETARIAT_CODE,
        error=refusal(error) if error else None), (error.status if error else 200)


@bp.get("/<uuid:meeting_id>")
@login_required
def show(meeting_id: UUID) -> tuple[str, int]:
    return meeting_page(meeting_id)


ACTIONS = {
    "admit": lambda m, v, f: m.admit(v, UUID(f["meeting"]), f.get("state", "")),
    "leave": lambda m, v, f: m.release(v, UUID(f["meeting"]), f.get("state", "")),
    "status": lambda m, v, f: m.change_status(v, UUID(f["meeting"]), f.get("status", "")),
    "table": lambda m, v, f: m.table_case(v, UUID(f["meeting"]), UUID(f.get("case_id", ""))),
    "confirm": lambda m, v, f: m.confirm_access(v, UUID(f["meeting"]),
                                                UUID(f.get("case_id", ""))),
    "outcome": lambda m, v, f: m.record_outcome(v, UUID(f["meeting"]),
                                                UUID(f.get("case_id", "")), f.get("text", ""),
                                                f.get("upload")),
    "lesson": lambda m, v, f: m.propose_lesson(v, UUID(f["meeting"]), f.get("text", ""),
                                               f.get("concerned", "").replace(",", " ").split()),
    "chatham": lambda m, v, f: m.set_chatham_house(v, UUID(f["meeting"]), f.get("on") == "yes"),
    "consent": lambda m, v, f: m.consent(v, UUID(f["meeting"]), f.get("lesson_id", ""), True),
    "withdraw": lambda m, v, f: m.consent(v, UUID(f["meeting"]), f.get("lesson_id", ""),
                                          False),
}


@bp.get("/<uuid:meeting_id>/outcomes/<int:version>/file")
@login_required
def outcome_file(meeting_id: UUID, version: int) -> Response:
    """An outcome's file, for the states that read the case discussed."""
    name, mime, chunks = get_exchange().meetings.outcome_file(current_viewer(), meeting_id,
                                                              version)
    return file_response(name, mime, chunks)


@bp.post("/<uuid:meeting_id>/discussion")
@login_required
def discuss(meeting_id: UUID) -> Response | tuple[str, int]:
    """A participant says something in a tabled case's discussion: a contribution to the
    case, marked as said at this meeting."""
    form = request.form
    try:
        case_id = UUID(form.get("case_id", ""))
    except ValueError:
        return meeting_page(meeting_id, DivexError("Choose a case first.", field="case_id"))
    try:
        get_exchange().contributions.contribute(current_viewer(), case_id,
                                                form.get("kind", ""), form.get("text", ""),
                                                meeting=meeting_id)
    except DivexError as error:
        if error.status == 404:
            raise
        return meeting_page(meeting_id, error, {"action": "discussion", **form.to_dict()})
    flash(_("Added to the discussion."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id,
                            _anchor=f"discussion-{case_id}"))


@bp.post("/<uuid:meeting_id>/<any(" + ", ".join(ACTIONS) + "):action>")
@login_required
def act(meeting_id: UUID, action: str) -> Response | tuple[str, int]:
    """Every action of the meeting page: one service call, then back to the page."""
    form: dict[str, Any] = dict(request.form.items(), meeting=str(meeting_id))
    if action == "outcome":
        form["upload"] = uploaded()
    try:
        ACTIONS[action](get_exchange().meetings, current_viewer(), form)
    except ValueError:
        return meeting_page(meeting_id, DivexError("Choose a case first.", field="case_id"))
    except DivexError as error:
        if error.status == 404 and action not in ("outcome", "table", "confirm"):
            raise
        typed = {"action": action, **request.form.to_dict()} if action == "outcome" else None
        return meeting_page(meeting_id, error, typed)
    flash(_("Saved."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id))
