"""Saved searches: a user's own searches of the case list, sealed to their own key."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from cases.kernel.errors import InvalidInput

from .extensions import current_viewer, get_exchange
from .messages import refusal

bp = Blueprint("searches", __name__, url_prefix="/cases/searches")


def page(error: str = "", status: int = 200) -> Any:
    searches = get_exchange().search.saved(current_viewer())
    return render_template("searches/index.html", searches=searches, error=error), status


@bp.get("/")
@login_required
def index() -> Any:
    return page()


@bp.post("/")
@login_required
def save() -> Any:
    try:
        get_exchange().search.save(current_viewer(), request.form.get("name", ""),
                                   request.form.to_dict())
    except InvalidInput as error:
        return page(refusal(error), error.status)
    flash(_("The search is saved. Only you can open it."), "success")
    return redirect(url_for("searches.index"))


@bp.post("/<search_id>/delete")
@login_required
def delete(search_id: str) -> Response:
    get_exchange().search.delete(current_viewer(), search_id)
    flash(_("The saved search is deleted."), "success")
    return redirect(url_for("searches.index"))
