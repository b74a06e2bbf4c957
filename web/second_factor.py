"""The second factor in the browser: the code step of a sign-in, enrolment (at sign-in for
roles that require it, or from the Security page), recovery codes and resets by admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from cases.identity.second_factor import new_secret, provisioning_uri, spaced
from cases.kernel.errors import AuthenticationFailed, DivexError

from .auth import client_address, pending, safe_next, sign_in
from .extensions import current_viewer, get_exchange
from .messages import refusal
from .sign_ins import SignIns

bp = Blueprint("second_factor", __name__)


def _expired() -> Response:
    session.pop("pending", None)
    flash(_("Your sign-in has expired. Sign in again."), "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> Any:
    """Step two for an enrolled user: a code from the app, or a recovery code."""
    held = pending("code")
    if held is None:
        return _expired()
    if request.method == "GET":
        return render_template("second_factor/code.html",
                               enrolled_since=enrolled_since_last_sign_in(held["username"]))
    directory = get_exchange().directory
    try:
        unlocked = directory.resume(held["username"], bytes.fromhex(held["user_key"]))
        left = unlocked.user.recovery_codes_left
        viewer = directory.second_factors.verify(unlocked, request.form.get("code", ""),
                                                 client_address())
    except AuthenticationFailed as error:
        if error.field != "code":  # locked, or the account changed: start again
            session.pop("pending", None)
            return render_template("auth/login.html", error=refusal(error),
                                   username=held["username"]), 401
        return render_template("second_factor/code.html",
                               error=refusal(error)), 401
    sign_in(viewer)
    now_left = directory.user(viewer.username).recovery_codes_left
    if now_left < left:
        flash(_("You signed in with a recovery code; %(num)s are left. Set up new recovery "
                "codes on the Security page.", num=now_left), "info")
    return redirect(safe_next(held.get("next")) or url_for("cases.index"))


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol_at_sign_in() -> Any:
    """Step two for a user whose roles require a second factor and who has none yet."""
    held = pending("enrol")
    if held is None:
        return _expired()
    if request.method == "GET":
        return _enrol_page(held["username"], url_for("second_factor.enrol_at_sign_in"))
    directory = get_exchange().directory
    try:
        unlocked = directory.resume(held["username"], bytes.fromhex(held["user_key"]))
        # The password of this sign-in was just checked: it is not asked again.
        codes = directory.second_factors.enrol_at_sign_in(
            unlocked, session.get("enrol_secret", ""), request.form.get("code", ""))
    except AuthenticationFailed as error:
        session.pop("pending", None)
        return render_template("auth/login.html", error=refusal(error)), 401
    except DivexError as error:
        return _enrol_page(held["username"], url_for("second_factor.enrol_at_sign_in"),
                           refusal(error), error.status)
    session.pop("enrol_secret", None)
    sign_in(unlocked.viewer)  # the code just checked proves the second factor
    return _show_codes(codes, safe_next(held.get("next")) or url_for("cases.index"))


def enrolled_since_last_sign_in(username: str) -> datetime | None:
    """When the user's second factor was set up, if after their last sign-in: whoever did it
    had their password and a session, and the user must hear of it before anything else."""
    user = get_exchange().directory.user(username)
    since = user.second_factor_since
    last = SignIns(current_app.session_interface.engine).last(  # type: ignore[attr-defined]
        [str(user.id)]).get(str(user.id))
    if since is None or last is None or since.replace(tzinfo=None) <= last[0]:
        return None
    return since


@bp.get("/account/security")
@login_required
def security() -> str:
    viewer = current_viewer()
    directory = get_exchange().directory
    return render_template("second_factor/security.html",
                           user=directory.user(viewer.username),
                           resettable=directory.second_factors.resettable(viewer),
                           failures=directory.failed_sign_ins(viewer))


@bp.route("/account/security/enrol", methods=["GET", "POST"])
@login_required
def enrol() -> Any:
    viewer = current_viewer()
    if get_exchange().directory.user(viewer.username).second_factor:
        flash(_("A second factor is already set up for this account."), "info")
        return redirect(url_for("second_factor.security"))
    if request.method == "GET":
        return _enrol_page(viewer.username, url_for("second_factor.enrol"), ask_password=True)
    try:
        codes = get_exchange().directory.second_factors.enrol(
            viewer, session.get("enrol_secret", ""), request.form.get("code", ""),
            password=request.form.get("password", ""), address=client_address())
    except DivexError as error:  # a wrong password too: the same secret, to try again
        return _enrol_page(viewer.username, url_for("second_factor.enrol"),
                           refusal(error), error.status, ask_password=True)
    session.pop("enrol_secret", None)
    return _show_codes(codes, url_for("second_factor.security"))


@bp.post("/account/security/recovery-codes")
@login_required
def regenerate() -> Any:
    viewer = current_viewer()
    directory = get_exchange().directory
    try:
        codes = directory.second_factors.regenerate_recovery_codes(
            viewer, request.form.get("password", ""), client_address())
    except AuthenticationFailed as error:
        return render_template("second_factor/security.html",
                               user=directory.user(viewer.username),
                               resettable=directory.second_factors.resettable(viewer),
                               failures=directory.failed_sign_ins(viewer),
                               error=refusal(error)), 401
    return _show_codes(codes, url_for("second_factor.security"))


@bp.get("/account/security/recovery-codes")
@login_required
def recovery_codes() -> Any:
    fresh = session.pop("new_recovery_codes", None)
    if not fresh:
        flash(_("Recovery codes are shown only once. You can make new ones here."), "info")
        return redirect(url_for("second_factor.security"))
    return render_template("second_factor/recovery_codes.html", codes=fresh["codes"],
                           continue_to=safe_next(fresh["next"]) or url_for("cases.index"),
                           ), 200, NO_STORE


@bp.post("/account/security/reset")
@login_required
def reset() -> Response:
    username = request.form.get("username", "")
    get_exchange().directory.second_factors.reset(current_viewer(), username)
    flash(_("The second factor of %(name)s is reset. They set up a new one at their next "
            "sign-in.", name=username), "success")
    return redirect(url_for("second_factor.security"))


NO_STORE = {"Cache-Control": "no-store"}  # a secret or codes: no copy in any cache


def _enrol_page(username: str, action: str, error: str = "", status: int = 200, *,
                ask_password: bool = False) -> tuple[str, int, dict[str, str]]:
    """The secret as a QR code and as text; it stays the same until enrolment succeeds.
    Outside a sign-in the form also asks for the password."""
    secret = session.get("enrol_secret") or new_secret()
    session["enrol_secret"] = secret
    # Inline SVG without style attributes or scripts: allowed by the CSP (web/security.py).
    qr = segno.make(provisioning_uri(secret, username), error="m")
    svg = Markup(qr.svg_inline(scale=5, dark="#000", light="#fff",
                               title=_("QR code of the secret")))
    return render_template("second_factor/enrol.html", qr=svg, secret=spaced(secret),
                           action=action, error=error, ask_password=ask_password,
                           ), status, NO_STORE


def _show_codes(codes: list[str], continue_to: str) -> Response:
    """Hands the new codes to the page that shows them once. They wait in the session, whose
    row is sealed under the key in the user's cookie, until that page takes them out."""
    session["new_recovery_codes"] = {"codes": codes, "next": continue_to}
    return redirect(url_for("second_factor.recovery_codes"))
