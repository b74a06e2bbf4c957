"""Cases: the list, a new case, the case page and the forms that change a case."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from cases.casework.case import PORTAL, STATUSES, TIERS, TRANSITIONS
from cases.casework.content import ITEM_CATEGORIES, POINTS_OF_DIVERSION
from cases.casework.view import CaseView
from cases.hits.identifiers import not_entered
from cases.kernel.errors import Conflict, DivexError, Forbidden, InvalidInput, NotFound
from cases.kernel.viewer import ANALYST, Viewer
from cases.search.terms import Query, read_query
from projections.case_index import CaseFilter, CaseOrder

from .extensions import caught_up_exchange, current_viewer, get_exchange
from .fields import (
    CONTRIBUTION,
    FIRST_PARTS,
    ITEM_DEFAULTS,
    MAX_ROWS,
    PART_FIELDS,
    SUMMARY,
    Field,
    part_row,
    read,
    read_rows,
    read_summary,
    row_count,
    status_fields,
    summary_values,
)
from .forms import as_form, expected_version, field_errors, page_number
from .lifecycle import lifecycle
from .listing import Sorting, page_size, sorting
from .messages import refusal
from .traces import ACTIONS as TRACE_ACTIONS
from .traces import today_of

bp = Blueprint("cases", __name__, url_prefix="/cases")

PART_KINDS = "any(item, actor, leg, note)"
REVISABLE = "any(item, actor)"
REMOVABLE = "any(item, actor, leg)"
ADD_HEADINGS = {"item": _l("Add an item"), "actor": _l("Add an actor"),
                "leg": _l("Add a route leg"), "note": _l("Add an evidence note")}
EDIT_HEADINGS = {"item": _l("Revise the item"), "actor": _l("Revise the actor")}
REMOVE_HEADINGS = {"item": _l("Remove this item?"), "actor": _l("Remove this actor?"),
                   "leg": _l("Remove this route leg?")}


def may_change(viewer: Viewer, case: CaseView) -> bool:
    """Whether to offer the change forms (the service decides, and refuses, on its own)."""
    return get_exchange().cases.may_change(viewer, case.owner)


def administers(viewer: Viewer, case: CaseView) -> bool:
    """Whether to offer the retention and shredding forms (the service decides on its own)."""
    return get_exchange().cases.may_administer(viewer, case.owner)


def readable(case_id: UUID) -> CaseView:
    return get_exchange().cases.view(current_viewer(), case_id)


def changeable(case_id: UUID) -> CaseView:
    return get_exchange().cases.view_to_change(current_viewer(), case_id)


def form_page(case: CaseView | None, heading: Any, fields: tuple[Field, ...],
              values: MultiDict[str, str], action: str, *, version: int | None = None,
              errors: dict[str, str] | None = None, status: int = 200,
              explained: dict[str, object] | None = None) -> tuple[str, int]:
    return render_template("cases/form.html", case=case, heading=heading, fields=fields,
                           values=values, action=action, version=version,
                           errors=errors or {}, explained=explained, now=None), status


def refused(error: DivexError, case_id: UUID | None, heading: Any,
            fields: tuple[Field, ...],
            explained: dict[str, object] | None = None) -> tuple[str, int]:
    """The same form again, the refusal next to its field, what was typed kept.

    A change that collides with a later one comes back with what was typed, the changes
    made meanwhile, and the case's current version: saving again applies it over them.
    """
    typed = request.form.get("expected_version", "") if case_id else ""
    if case_id and isinstance(error, Conflict) and error.field == "expected_version":
        case, history = get_exchange().cases.view_with_history(current_viewer(), case_id)
        meanwhile = [e for e in history if typed.isdigit() and e.version > int(typed)]
        return render_template("cases/form.html", case=case, heading=heading, fields=fields,
                               values=request.form, action=request.path,
                               version=case.version, errors={}, explained=explained,
                               conflict=refusal(error), meanwhile=meanwhile,
                               now=saved_now(case)), error.status
    errors = field_errors(error, fields)
    case = readable(case_id) if case_id else None
    return form_page(case, heading, fields, request.form, request.path,
                     version=int(typed) if typed.isdigit() else None,
                     errors=errors, status=error.status, explained=explained)


def saved_now(case: CaseView) -> MultiDict[str, str] | None:
    """What the part the colliding form edits holds now (the summary or that item or
    actor), to show beside what was typed; None for a form that edits no stored values."""
    args = request.view_args or {}
    if request.endpoint == "cases.revise_summary":
        return as_form(summary_values(case.summary))
    if request.endpoint == "cases.revise_part":
        parts = {"item": case.items, "actor": case.actors}[args["kind"]]
        return as_form(parts[args["part_id"]]) if args["part_id"] in parts else None
    return None


def to_case(case_id: UUID, message: str, items: list[dict[str, Any]] | None = None) -> Response:
    """To the case page, with the message; and, for items just saved with the private hit
    check on, how many of their markings it left out and why."""
    flash(message, "success")
    left_out = sum(not_entered(item) for item in items or [])
    if left_out:
        flash(ngettext("%(num)s marking is not checked for private hits: a check needs the "
                       "make and a serial number of 4 characters or more (ammunition: a "
                       "headstamp and a lot of 4 or more).",
                       "%(num)s markings are not checked for private hits: a check needs the "
                       "make and a serial number of 4 characters or more (ammunition: a "
                       "headstamp and a lot of 4 or more).", left_out), "warning")
    return redirect(url_for("cases.show", case_id=case_id))


# The list


def case_filter(args: MultiDict[str, str]) -> CaseFilter:
    def day(name: str, end: bool) -> datetime | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        try:
            chosen = date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput("Enter a date as YYYY-MM-DD.", field=name) from None
        return datetime.combine(chosen, time.max if end else time.min, tzinfo=UTC)

    return CaseFilter(status=args.get("status", "") if args.get("status") in STATUSES else "",
                      tier=args.get("tier", "") if args.get("tier") in TIERS else "",
                      owner=args.get("owner", "").strip().upper()[:3],
                      updated_from=day("updated_from", False), updated_to=day("updated_to", True))


def search_query(args: MultiDict[str, str]) -> Query:
    """The words typed in the search box and the filters on sealed content (Art. 2(1)
    category, point of diversion, concerned state); unknown choices are ignored."""
    return read_query(args.get("q", ""), {
        "category": args.get("category", "") if args.get("category") in ITEM_CATEGORIES
        else "",
        "point_of_diversion": args.get("point_of_diversion", "")
        if args.get("point_of_diversion") in POINTS_OF_DIVERSION else "",
        "concerned": args.get("concerned", "").strip().upper()[:3]})


# The columns the list sorts by, each with whether it runs descending when first chosen.
CASE_COLUMNS = {"updated": True, "opened": True, "status": False, "owner": False,
                "tier": False}
NOT_FILTERS = ("page", "size", "sort", "dir")  # query arguments that choose no cases


def list_page(status: int = 200, **shown: Any) -> tuple[str, int]:
    page: dict[str, Any] = {"rows": [], "titles": {}, "total": 0, "page": 1, "pages": 1,
                            "matches": {}, "waiting": 0, "errors": {},
                            "sorting": Sorting("updated", True), "size": 0, **shown}
    return render_template("cases/list.html", statuses=STATUSES, tiers=TIERS,
                           categories=ITEM_CATEGORIES, points=POINTS_OF_DIVERSION,
                           columns=CASE_COLUMNS,
                           chosen={k: v for k, v in request.args.items(multi=False)
                                   if v.strip() and k not in NOT_FILTERS}, **page), status


@bp.get("/")
@login_required
def index() -> Any:
    """The list: filtered, searched, sorted by a column of `CASE_COLUMNS` (an unknown
    ``sort``, ``dir`` or ``size`` gives the default silently), a page at a time. A search
    lists the most words matched first unless a column is chosen."""
    viewer = current_viewer()
    size, page = page_size(request.args), page_number()
    order = sorting(request.args, CASE_COLUMNS, "updated")
    try:
        where, query = case_filter(request.args), search_query(request.args)
    except InvalidInput as error:
        return list_page(422, errors={error.field: refusal(error)})
    exchange = caught_up_exchange()
    opened = open_portal_to_new_parties(exchange, viewer)
    if opened:
        flash(ngettext("%(num)s case on the portal is now also read by %(states)s, which "
                       "joined as States Parties since it was shared.",
                       "%(num)s cases on the portal are now also read by %(states)s, which "
                       "joined as States Parties since they were shared.", len(opened),
                       states=", ".join(sorted({s for added in opened.values()
                                                for s in added}))), "info")
    waiting = exchange.index_for(viewer)
    by_column = order.chosen or not query
    rows, total = exchange.case_search(viewer, query, where, (page - 1) * size, size,
                                       CaseOrder(order.by, order.descending) if by_column
                                       else None)
    matches = exchange.search.matches(viewer, [r.case_id for r in rows], query) \
        if query.terms else {}
    # A search of common words comes uncounted (None): there is a next page.
    pages = page + 1 if total is None else max(1, -(-total // size))
    return list_page(rows=rows, titles=exchange.cases.titles(viewer, rows), total=total,
                     page=page, pages=pages, matches=matches,
                     waiting=waiting, size=size,
                     sorting=order if by_column else Sorting("", False))


PORTAL_BATCH = 20  # portal cases opened to new States Parties in one request


def open_portal_to_new_parties(exchange: Any, viewer: Viewer) -> dict[str, list[str]]:
    """Hands the viewer's state's portal cases to States Parties that joined since, a few
    per request (only the owner can wrap the keys); case id -> states added."""
    if not viewer.has(ANALYST):
        return {}
    parties = exchange.cases.audience(viewer, PORTAL, None)
    lacking = exchange.portal_cases_lacking(viewer.state, parties, PORTAL_BATCH)
    opened = exchange.cases.open_portal_to_new_parties(viewer, lacking) if lacking else {}
    if opened:
        exchange.follow()
    return opened


# A new case


def new_case_page(values: MultiDict[str, str], rows: dict[str, int],
                  errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    """The case with its first items, actors and route legs in one form: rows of each,
    more rows on request."""
    return render_template("cases/form.html", case=None, heading=_("Log a new case"),
                           fields=SUMMARY, values=values, action=url_for("cases.new"),
                           version=None, errors=errors or {}, explained=None, now=None,
                           part_rows={kind: [part_row(kind, n) for n in range(count)]
                                      for kind, count in rows.items()},
                           max_rows=MAX_ROWS), status


@bp.get("/new")
@login_required
def new() -> Any:
    if not current_viewer().has(ANALYST):
        raise Forbidden("Only analysts log cases.")
    return new_case_page(offered_rows(MultiDict(), 0, MAX_ROWS), dict.fromkeys(FIRST_PARTS, 1))


def offered_rows(form: MultiDict[str, str], first: int, end: int) -> MultiDict[str, str]:
    """The form's values with what new item rows offer (the private hit check) filled in for
    rows ``first`` to ``end`` - 1."""
    values = MultiDict(form)
    for n in range(first, end):
        for name, value in ITEM_DEFAULTS.items():
            values.setdefault(f"items.{n}.{name}", value)
    return values


@bp.post("/new")
@login_required
def create() -> Any:
    form = request.form
    rows = {kind: row_count(form, kind) for kind in FIRST_PARTS}
    if form.get("more_rows") in FIRST_PARTS:  # nothing is saved: one more row of that kind
        kind = form["more_rows"]
        return new_case_page(offered_rows(form, rows["item"], MAX_ROWS),
                             dict(rows, **{kind: min(rows[kind] + 1, MAX_ROWS)}))
    filled = {kind: read_rows(form, kind, rows[kind]) for kind in FIRST_PARTS}
    try:
        case_id = get_exchange().cases.open_case(
            current_viewer(), read_summary(form),
            *([part for _, part in filled[kind]] for kind in FIRST_PARTS))
    except DivexError as error:
        path = (error.field or "").split(".")  # items.<n>.<field>: n among filled rows
        if len(path) == 3 and path[0][:-1] in filled and path[1].isdigit():
            row = filled[path[0][:-1]][int(path[1])][0]  # the row as the user sees it
            error.field = f"{path[0]}.{row}.{path[2]}"
        fields = (*SUMMARY, *(f for kind, count in rows.items() for n in range(count)
                              for f in part_row(kind, n)))
        return new_case_page(form, rows, field_errors(error, fields), error.status)
    items = len(filled["item"])
    logged = ngettext("The case is logged with %(num)s item. Only your state can read it.",
                      "The case is logged with %(num)s items. Only your state can read it.",
                      items) if items else _("The case is logged. Only your state can read it.")
    return to_case(case_id, logged, [part for _, part in filled["item"]])


# The case page


@bp.get("/<uuid:case_id>")
@login_required
def show(case_id: UUID) -> Any:
    return case_page(case_id)


def case_page(case_id: UUID, contribution_values: MultiDict[str, str] | None = None,
              contribution_errors: dict[str, str] | None = None) -> str:
    """The case page; a refused contribution comes back in its form, as typed."""
    viewer, exchange = current_viewer(), caught_up_exchange()
    case, history = exchange.cases.view_with_history(viewer, case_id)
    traces = exchange.trace_board.view.for_case(str(case_id), viewer.state, today_of(exchange))
    return render_template("cases/case.html", case=case, history=history, traces=traces,
                           contributions=exchange.contributions.thread(viewer, case_id),
                           contribution_fields=CONTRIBUTION,
                           contribution_values=contribution_values or MultiDict(),
                           contribution_errors=contribution_errors or {},
                           trace_items=exchange.traces.items_of(viewer, traces),
                           trace_actions=TRACE_ACTIONS,
                           transitions=TRANSITIONS[case.status],
                           explained=lifecycle(case.status),
                           may_change=may_change(viewer, case) and not case.shredded_on,
                           administers=administers(viewer, case) and not case.shredded_on,
                           now=get_exchange().cases.clock(),
                           policy=get_exchange().policy.status(viewer, case_id),
                           hit_check=exchange.hits.status(viewer, case_id, case.items)
                           if case.owner == viewer.state else (0, 0))


# The summary


@bp.get("/<uuid:case_id>/summary")
@login_required
def edit_summary(case_id: UUID) -> Any:
    case = changeable(case_id)
    return form_page(case, _("Revise the summary"), SUMMARY, as_form(summary_values(case.summary)),
                     request.path, version=case.version)


@bp.post("/<uuid:case_id>/summary")
@login_required
def revise_summary(case_id: UUID) -> Any:
    try:
        get_exchange().cases.revise_summary(current_viewer(), case_id, expected_version(),
                                            read_summary(request.form))
    except DivexError as error:
        return refused(error, case_id, _("Revise the summary"), SUMMARY)
    return to_case(case_id, _("The summary is saved."))


# Items, actors, route legs, evidence notes


@bp.get(f"/<uuid:case_id>/<{PART_KINDS}:kind>/new")
@login_required
def new_part(case_id: UUID, kind: str) -> Any:
    case = changeable(case_id)
    offered = MultiDict(ITEM_DEFAULTS if kind == "item" else {})
    return form_page(case, ADD_HEADINGS[kind], PART_FIELDS[kind], offered, request.path,
                     version=case.version)


@bp.post(f"/<uuid:case_id>/<{PART_KINDS}:kind>/new")
@login_required
def add_part(case_id: UUID, kind: str) -> Any:
    part = read(request.form, PART_FIELDS[kind])
    try:
        get_exchange().cases.add_part(current_viewer(), case_id, expected_version(), kind, part)
    except DivexError as error:
        return refused(error, case_id, ADD_HEADINGS[kind], PART_FIELDS[kind])
    return to_case(case_id, _("Added."), [part] if kind == "item" else None)


@bp.get(f"/<uuid:case_id>/<{REVISABLE}:kind>/<part_id>/edit")
@login_required
def edit_part(case_id: UUID, kind: str, part_id: str) -> Any:
    case = changeable(case_id)
    parts = case.items if kind == "item" else case.actors
    if part_id not in parts:
        raise NotFound("This case has no %(kind)s %(part)s.", field="part_id", kind=kind,
                       part=part_id)
    return form_page(case, EDIT_HEADINGS[kind], PART_FIELDS[kind], as_form(parts[part_id]),
                     request.path, version=case.version)


@bp.post(f"/<uuid:case_id>/<{REVISABLE}:kind>/<part_id>/edit")
@login_required
def revise_part(case_id: UUID, kind: str, part_id: str) -> Any:
    part = read(request.form, PART_FIELDS[kind])
    try:
        get_exchange().cases.revise_part(current_viewer(), case_id, expected_version(), kind,
                                         part_id, part)
    except DivexError as error:
        return refused(error, case_id, EDIT_HEADINGS[kind], PART_FIELDS[kind])
    return to_case(case_id, _("Saved."), [part] if kind == "item" else None)


@bp.post(f"/<uuid:case_id>/<{REMOVABLE}:kind>/<part_id>/remove")
@login_required
def remove_part(case_id: UUID, kind: str, part_id: str) -> Response:
    get_exchange().cases.remove_part(current_viewer(), case_id, expected_version(), kind,
                                     part_id)
    return to_case(case_id, _("Removed. The history below can restore it."))


@bp.get(f"/<uuid:case_id>/<{REMOVABLE}:kind>/<part_id>/remove")
@login_required
def confirm_remove(case_id: UUID, kind: str, part_id: str) -> str:
    """What the removal takes off the case, before it is done."""
    case = changeable(case_id)
    parts = {"item": case.items, "actor": case.actors, "leg": case.legs}[kind]
    if part_id not in parts:
        raise NotFound("This case has no %(kind)s %(part)s.", field="part_id", kind=kind,
                       part=part_id)
    return render_template("cases/confirm_remove.html", case=case, kind=kind,
                           part_id=part_id, part=parts[part_id], fields=PART_FIELDS[kind],
                           heading=REMOVE_HEADINGS[kind])


@bp.post(f"/<uuid:case_id>/<{REMOVABLE}:kind>/<part_id>/restore")
@login_required
def restore_part(case_id: UUID, kind: str, part_id: str) -> Response:
    """Undoes a removal from the history: the part comes back with what it held."""
    removed_at = request.form.get("removed_at", "")
    if not removed_at.isdigit():
        raise InvalidInput("Say which removal to undo.", field="removed_at")
    get_exchange().cases.restore_part(current_viewer(), case_id, expected_version(), kind,
                                      part_id, int(removed_at))
    return to_case(case_id, _("Restored."))


# The status


@bp.get("/<uuid:case_id>/status")
@login_required
def edit_status(case_id: UUID) -> Any:
    case = changeable(case_id)
    return form_page(case, _("Change the status"), status_fields(TRANSITIONS[case.status]),
                     MultiDict(), request.path, version=case.version,
                     explained=lifecycle(case.status))


@bp.post("/<uuid:case_id>/status")
@login_required
def change_status(case_id: UUID) -> Any:
    try:
        get_exchange().cases.change_status(current_viewer(), case_id, expected_version(),
                                           request.form.get("status", ""),
                                           request.form.get("reason", ""))
    except DivexError as error:
        case = readable(case_id)
        return refused(error, case_id, _("Change the status"),
                       status_fields(TRANSITIONS[case.status]), lifecycle(case.status))
    return to_case(case_id, _("The status is changed."))
