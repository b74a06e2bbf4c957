"""Private hits (issue 20): the items of your state's cases that may match an item another state
recorded, and what each side chose to do about it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from cases.kernel.errors import DivexError

from .extensions import current_viewer, get_exchange
from .messages import refusal

bp = Blueprint("hits", __name__, url_prefix="/hits")



@bp.get("/")
@login_required
def index() -> Any:
    return render_template("hits/index.html",
                           hits=get_exchange().hits.for_state(current_viewer()))


@bp.get("/<uuid:hit_id>")
@login_required
def show(hit_id: UUID) -> Any:
    return render_template("hits/hit.html", hit=get_exchange().hits.view(current_viewer(), hit_id))


@bp.post("/<uuid:hit_id>/answer")
@login_required
def answer(hit_id: UUID) -> Any:
    chosen = request.form.get("answer", "")
    try:
        hit = get_exchange().hits.answer(current_viewer(), hit_id, chosen)
    except DivexError as error:
        hit = get_exchange().hits.view(current_viewer(), hit_id)
        return render_template("hits/hit.html", hit=hit, error=refusal(error)), error.status
    flash(_("Your case is shared with %(state)s.", state=hit.other) if chosen == "case_shared"
          else _("The hit is dismissed."), "success")
    return redirect(url_for("hits.show", hit_id=hit_id))
