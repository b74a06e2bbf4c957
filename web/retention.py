"""Retention rules and crypto-shredding of a case, by state admins of the owner state, each
step after a confirmation page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from cases.casework.case import ITI_RETENTION_YEARS, MAX_RETENTION_YEARS
from cases.casework.view import CaseView
from cases.kernel.errors import DivexError, InvalidInput
from cases.kernel.viewer import Viewer

from .extensions import current_viewer, get_exchange
from .fields import Field
from .forms import field_errors
from .messages import refusal

bp = Blueprint("retention", __name__, url_prefix="/cases")

RULE_FIELDS = (Field("keep_years", ""),)
STEPS = ("request", "confirm", "withdraw")


def administered(case_id: UUID) -> CaseView:
    return get_exchange().cases.view_to_administer(current_viewer(), case_id)


def keep_years(values: MultiDict[str, str]) -> int | None:
    """The rule typed: None for indefinitely, else a whole number of years."""
    if values.get("rule") == "indefinite":
        return None
    raw = values.get("keep_years", "").strip()
    if not (raw.isascii() and raw.isdigit()):  # isdigit alone lets '²' through to int()
        raise InvalidInput("Enter a whole number.", field="keep_years")
    if len(raw.lstrip("0")) > len(str(MAX_RETENTION_YEARS)):  # int() refuses 4300+ digits
        raise InvalidInput("Keep a case between 0 and %(most)s years after closing, or "
                           "indefinitely.", field="keep_years", most=MAX_RETENTION_YEARS)
    return int(raw)


def next_step(viewer: Viewer, case: CaseView) -> str:
    """What this admin can do next: ask, or confirm someone else's request."""
    if not case.shred_requested_by:
        return "request"
    return "confirm" if case.shred_requested_by != viewer.username else "withdraw"


def rule_form(case: CaseView, errors: dict[str, str] | None = None,
              status: int = 200) -> tuple[str, int]:
    values = request.values if errors else MultiDict(
        {"rule": "indefinite" if case.keep_years is None else "years",
         "keep_years": "" if case.keep_years is None else str(case.keep_years)})
    return render_template("retention/rule.html", case=case, values=values,
                           errors=errors or {}, iti=ITI_RETENTION_YEARS,
                           most=MAX_RETENTION_YEARS), status


@bp.get("/<uuid:case_id>/retention")
@login_required
def rule(case_id: UUID) -> Any:
    return rule_form(administered(case_id))


@bp.get("/<uuid:case_id>/retention/confirm")
@login_required
def confirm_rule(case_id: UUID) -> Any:
    case = administered(case_id)
    try:
        years = keep_years(request.args)
        if years is not None and not 0 <= years <= MAX_RETENTION_YEARS:
            raise InvalidInput("Must be between %(low)s and %(high)s.", field="keep_years",
                               low=0, high=MAX_RETENTION_YEARS)
    except DivexError as error:
        return rule_form(case, field_errors(error, RULE_FIELDS), error.status)
    return render_template("retention/confirm_rule.html", case=case, years=years,
                           iti=ITI_RETENTION_YEARS)


@bp.post("/<uuid:case_id>/retention")
@login_required
def set_rule(case_id: UUID) -> Any:
    try:
        years = keep_years(request.form)
        get_exchange().cases.set_retention(current_viewer(), case_id, years)
    except DivexError as error:
        return rule_form(administered(case_id), field_errors(error, RULE_FIELDS),
                         error.status)
    if years is None:
        flash(_("The case is kept indefinitely."), "success")
    else:
        flash(_("The case is kept %(years)s years after it is closed.", years=years), "success")
    return redirect(url_for("cases.show", case_id=case_id))


def shred_page(case: CaseView, error: DivexError | None = None) -> tuple[str, int]:
    return render_template("retention/shred.html", case=case,
                           step=next_step(current_viewer(), case),
                           error=refusal(error) if error else None), \
        (error.status if error else 200)


@bp.get("/<uuid:case_id>/shred")
@login_required
def shred(case_id: UUID) -> Any:
    return shred_page(administered(case_id))


@bp.post("/<uuid:case_id>/shred")
@login_required
def do_shred(case_id: UUID) -> Any:
    step, viewer, cases = request.form.get("step", ""), current_viewer(), get_exchange().cases
    try:
        if step == "request":
            cases.request_shred(viewer, case_id)
            flash(_("Crypto-shredding is requested. A second state admin of your state must "
                    "confirm it."), "success")
        elif step == "confirm":
            case_rows, trace_rows = cases.confirm_shred(viewer, case_id)
            flash(_("The case is crypto-shredded: %(case)s wrapped case keys and %(traces)s "
                    "wrapped keys of its trace requests were deleted.", case=case_rows,
                    traces=trace_rows), "success")
        elif step == "withdraw":
            cases.withdraw_shred(viewer, case_id)
            flash(_("The request to crypto-shred the case is withdrawn."), "success")
        else:
            raise InvalidInput("Choose one of: %(choices)s.", field="step",
                               choices=", ".join(STEPS))
    except DivexError as error:
        return shred_page(administered(case_id), error)
    return redirect(url_for("cases.show", case_id=case_id))
