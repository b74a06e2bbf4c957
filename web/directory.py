"""The directory pages: national contact points of every state, kept up to date by state admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from cases.kernel.errors import DivexError, Forbidden
from cases.kernel.viewer import STATE_ADMIN

from .extensions import current_viewer, get_exchange
from .fields import Field
from .forms import field_errors

bp = Blueprint("directory", __name__, url_prefix="/directory")

CONTACT_FIELDS = (
    Field("name", _l("Name or function"), required=True),
    Field("office", _l("Office")),
    Field("channel", _l("Channel (secure e-mail, phone…)"), required=True),
    Field("volunteers_to_assist", _l("Volunteers to assist other states"), "checkboxes",
          ("yes",)),
)


@bp.get("/")
@login_required
def contact_points() -> str:
    now = datetime.now(UTC)
    states = [(s, s.contact_point_is_stale(now)) for s in get_exchange().directory.states()]
    return render_template("directory/list.html", states=states,
                           may_edit=current_viewer().has(STATE_ADMIN))


def contact_form(values: MultiDict[str, str], errors: dict[str, str] | None = None,
                 status: int = 200) -> tuple[str, int]:
    return render_template("directory/contact_point.html", fields=CONTACT_FIELDS,
                           values=values, errors=errors or {}), status


@bp.get("/contact-point")
@login_required
def edit_contact_point() -> Any:
    viewer = current_viewer()
    if not viewer.has(STATE_ADMIN):
        raise Forbidden("Only a state admin updates the contact point.")
    point = get_exchange().directory.state(viewer.state).contact_point or {}
    values = MultiDict({k: str(point.get(k, "")) for k in ("name", "office", "channel")})
    if point.get("volunteers_to_assist"):
        values["volunteers_to_assist"] = "yes"
    return contact_form(values)


@bp.post("/contact-point")
@login_required
def set_contact_point() -> Any:
    form = request.form
    try:
        get_exchange().directory.set_contact_point(
            current_viewer(), name=form.get("name", ""), office=form.get("office", ""),
            channel=form.get("channel", ""),
            volunteers_to_assist=form.get("volunteers_to_assist") == "yes")
    except DivexError as error:
        return contact_form(form, field_errors(error, CONTACT_FIELDS), error.status)
    flash(_("The contact point is updated."), "success")
    return redirect(url_for("directory.contact_points"))


@bp.post("/contact-point/confirm")
@login_required
def confirm_contact_point() -> Response:
    get_exchange().directory.confirm_contact_point(current_viewer())
    flash(_("The contact point is confirmed as up to date."), "success")
    return redirect(url_for("directory.contact_points"))
