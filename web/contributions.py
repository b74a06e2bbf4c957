"""Contributions to a case (issue 21): add one from the case page; the author revises or
withdraws it, the case's owner hides it with a reason."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from cases.casework.attachments import Upload
from cases.kernel.errors import DivexError

from .cases import case_page, form_page, to_case
from .extensions import current_viewer, get_exchange
from .fields import CONTRIBUTION, Field, read
from .files import file_response
from .forms import field_errors

bp = Blueprint("contributions", __name__)

TEXT = (CONTRIBUTION[1],)
REASON = (Field("reason", _l("Why it is hidden (shown in its place)"), "textarea",
                required=True),)


@bp.post("/cases/<uuid:case_id>/contributions")
@login_required
def add(case_id: UUID) -> Any:
    values = read(request.form, CONTRIBUTION)
    file = request.files.get("attachment")
    upload = Upload(file.filename or "attachment", file.read()) \
        if file is not None and file.filename else None
    try:
        get_exchange().contributions.contribute(current_viewer(), case_id, values["kind"],
                                                values["text"], upload)
    except DivexError as error:
        fields = (*CONTRIBUTION, Field("attachment", ""))
        return case_page(case_id, request.form, field_errors(error, fields)), error.status
    return to_case(case_id, _("Your contribution is added; every state that reads the case "
                              "reads it."))


@bp.route("/contributions/<uuid:contribution_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contribution_id: UUID) -> Any:
    contributions, viewer = get_exchange().contributions, current_viewer()
    found = contributions.read(viewer, contribution_id)
    heading = _("Revise your contribution")
    if request.method == "GET":
        return form_page(None, heading, TEXT, _values(text=found.text), request.path)
    try:
        contributions.revise(viewer, contribution_id, request.form.get("text", ""))
    except DivexError as error:
        return form_page(None, heading, TEXT, request.form, request.path,
                         errors=field_errors(error, TEXT), status=error.status)
    return to_case(UUID(found.case_id), _("Your contribution is revised."))


@bp.post("/contributions/<uuid:contribution_id>/withdraw")
@login_required
def withdraw(contribution_id: UUID) -> Any:
    contributions, viewer = get_exchange().contributions, current_viewer()
    found = contributions.read(viewer, contribution_id)
    contributions.withdraw(viewer, contribution_id)
    return to_case(UUID(found.case_id), _("Your contribution is withdrawn; auditors still "
                                          "see it in the log."))


@bp.route("/contributions/<uuid:contribution_id>/hide", methods=["GET", "POST"])
@login_required
def hide(contribution_id: UUID) -> Any:
    contributions, viewer = get_exchange().contributions, current_viewer()
    found = contributions.read(viewer, contribution_id)
    heading = _("Hide a contribution of %(state)s", state=found.state)
    if request.method == "GET":
        return form_page(None, heading, REASON, _values(), request.path)
    try:
        contributions.hide(viewer, contribution_id, request.form.get("reason", ""))
    except DivexError as error:
        return form_page(None, heading, REASON, request.form, request.path,
                         errors=field_errors(error, REASON), status=error.status)
    return to_case(UUID(found.case_id), _("The contribution is hidden; its reason shows in "
                                          "its place."))


@bp.get("/contributions/<uuid:contribution_id>/attachment")
@login_required
def attachment(contribution_id: UUID) -> Response:
    """The file, for a state that reads the case: its type is the one read from its bytes
    when it was added; only photos show in the page, everything else downloads."""
    name, mime, chunks = get_exchange().contributions.attachment(current_viewer(),
                                                                 contribution_id)
    return file_response(name, mime, chunks)





def _values(**values: str) -> MultiDict[str, str]:
    return MultiDict(values)
