"""Sharing a case wider (named states, the portal) and narrower, each after a confirmation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from cases.casework.case import BILATERAL, PORTAL
from cases.casework.view import CaseView
from cases.kernel.errors import DivexError, InvalidInput

from .cases import changeable
from .extensions import current_viewer, get_exchange
from .fields import Field
from .forms import expected_version, field_errors
from .labels import country

bp = Blueprint("sharing", __name__, url_prefix="/cases")

SHARE_FIELDS = (Field("tier", ""), Field("states", ""))
UNSHARE_FIELDS = (Field("states", ""),)


def state_names(codes: list[str]) -> list[tuple[str, str]]:
    return [(code, country(code)) for code in codes]


def chosen_states() -> list[str]:
    return sorted({c.strip().upper() for c in request.values.getlist("states") if c.strip()})


def share_form(case: CaseView, errors: dict[str, str] | None = None,
               status: int = 200) -> tuple[str, int]:
    viewer = current_viewer()
    others = [s.code for s in get_exchange().directory.states() if s.code != viewer.state]
    return render_template("sharing/share.html", case=case, states=state_names(others),
                           tiers=(BILATERAL, PORTAL), chosen=chosen_states(),
                           tier=request.values.get("tier", BILATERAL),
                           errors=errors or {}), status


def unshare_form(case: CaseView, errors: dict[str, str] | None = None,
                 status: int = 200) -> tuple[str, int]:
    readers = [code for code in case.recipients if code != case.owner]
    return render_template("sharing/unshare.html", case=case, states=state_names(readers),
                           chosen=chosen_states(), errors=errors or {}), status


@bp.get("/<uuid:case_id>/share")
@login_required
def share(case_id: UUID) -> Any:
    return share_form(changeable(case_id))


@bp.get("/<uuid:case_id>/share/confirm")
@login_required
def confirm_share(case_id: UUID) -> Any:
    case = changeable(case_id)
    tier, states = request.args.get("tier", ""), chosen_states()
    try:
        expected_version()
        audience = get_exchange().cases.audience(current_viewer(), tier, states)
    except DivexError as error:
        return share_form(case, field_errors(error, SHARE_FIELDS), error.status)
    added = sorted(set(audience) - set(case.recipients))
    return render_template("sharing/confirm_share.html", case=case, tier=tier, states=states,
                           readers=state_names(sorted(set(case.recipients) | set(audience))),
                           added=state_names(added), version=request.args["expected_version"])


@bp.post("/<uuid:case_id>/share")
@login_required
def do_share(case_id: UUID) -> Any:
    try:
        added = get_exchange().cases.share(current_viewer(), case_id, expected_version(),
                                           request.form.get("tier", ""), chosen_states())
    except DivexError as error:
        return share_form(changeable(case_id), field_errors(error, SHARE_FIELDS), error.status)
    flash(_("Shared. Newly able to read: %(states)s.", states=", ".join(added) or "—"),
          "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.get("/<uuid:case_id>/unshare")
@login_required
def unshare(case_id: UUID) -> Any:
    return unshare_form(changeable(case_id))


@bp.get("/<uuid:case_id>/unshare/confirm")
@login_required
def confirm_unshare(case_id: UUID) -> Any:
    case = changeable(case_id)
    removed = sorted(set(chosen_states()) & set(case.recipients) - {case.owner})
    if not removed:
        error = InvalidInput("Choose at least one state to stop sharing with.",
                             field="states")
        return unshare_form(case, field_errors(error, UNSHARE_FIELDS), 422)
    expected_version()
    remaining = sorted(set(case.recipients) - set(removed))
    return render_template("sharing/confirm_unshare.html", case=case,
                           removed=state_names(removed), readers=state_names(remaining),
                           version=request.args["expected_version"])


@bp.post("/<uuid:case_id>/unshare")
@login_required
def do_unshare(case_id: UUID) -> Response | tuple[str, int]:
    try:
        get_exchange().cases.unshare(current_viewer(), case_id, expected_version(),
                                     chosen_states())
    except DivexError as error:
        return unshare_form(changeable(case_id), field_errors(error, UNSHARE_FIELDS),
                            error.status)
    flash(_("Sharing narrowed. The case key was rotated: the removed states cannot read "
            "what is recorded from now on."), "success")
    return redirect(url_for("cases.show", case_id=case_id))
