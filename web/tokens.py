"""API tokens on the account page: issue one (with the password), see them, revoke one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from cases.identity.api_token_service import MAX_DAYS
from cases.kernel.errors import DivexError, InvalidInput

from .extensions import current_viewer, get_exchange
from .messages import refusal

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")
FIELDS = ("name", "roles", "days", "password")


def page(errors: dict[str, str] | None = None, issued: str = "", status: int = 200) -> Any:
    viewer = current_viewer()
    return render_template("tokens/index.html", tokens=get_exchange().api_tokens.of(viewer),
                           roles=sorted(viewer.roles), most=MAX_DAYS, issued=issued,
                           values=request.form, errors=errors or {}), status


@bp.get("/")
@login_required
def index() -> Any:
    return page()


@bp.post("/")
@login_required
def issue() -> Any:
    raw_days = request.form.get("days", "").strip() or "90"
    try:
        if not (raw_days.isascii() and raw_days.isdigit() and len(raw_days) <= 4):
            raise InvalidInput("Enter a whole number.", field="days")
        text, _info = get_exchange().api_tokens.issue(
            current_viewer(), request.form.get("password", ""), request.form.get("name", ""),
            request.form.getlist("roles"), int(raw_days))
    except DivexError as error:
        if error.field not in FIELDS:
            raise
        return page({error.field: refusal(error)}, status=error.status)
    # Shown once, on this response only; never stored, never in a redirect or a flash.
    return page(issued=text)


@bp.post("/<token_id>/revoke")
@login_required
def revoke(token_id: str) -> Response:
    get_exchange().api_tokens.revoke(current_viewer(), token_id)
    flash(_("The token is revoked: calls with it are refused from now on."), "success")
    return redirect(url_for("tokens.index"))
