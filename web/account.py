"""The user's own account: their password, their sign-ins and open sessions."""

from __future__ import annotations

from typing import Any

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
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from cases.kernel.errors import AuthenticationFailed, DivexError, InvalidInput

from .auth import client_address
from .extensions import current_viewer, get_exchange
from .fields import Field
from .forms import field_errors
from .sign_ins import SignIns

bp = Blueprint("account", __name__, url_prefix="/account")


def sign_ins() -> SignIns:
    return SignIns(current_app.session_interface.engine)  # type: ignore[attr-defined]


# Every user: their own password

PASSWORD_FIELDS = (
    Field("current_password", _l("Your current password"), "password", required=True),
    Field("password", _l("New password"), "password", required=True,
          hint=_l("At least 12 characters, without your user name")),
    Field("password_again", _l("The same password again"), "password", required=True),
)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    if request.method == "GET":
        return render_template("account/password.html", fields=PASSWORD_FIELDS,
                               values=MultiDict(), errors={})
    form, viewer = request.form, current_viewer()
    try:
        if form.get("password", "") != form.get("password_again", ""):
            raise InvalidInput("The two passwords differ.", field="password_again")
        try:
            get_exchange().directory.change_password(viewer, form.get("current_password", ""),
                                                     form.get("password", ""), client_address())
        except AuthenticationFailed as wrong:
            if wrong.params:  # locked, suspended: not about the field
                raise
            raise AuthenticationFailed("Wrong password.",
                                       field="current_password") from None
    except DivexError as error:
        return render_template("account/password.html", fields=PASSWORD_FIELDS,
                               values=MultiDict(), errors=field_errors(error, PASSWORD_FIELDS)
                               ), error.status
    flash(_("Your password is changed. Your API tokens were revoked: issue new ones if you "
            "need them."), "success")
    return redirect(url_for("second_factor.security"))


@bp.get("/sessions")
@login_required
def sessions() -> str:
    """The user's last sign-ins and open sessions, to notice one that was not theirs."""
    viewer = current_viewer()
    return render_template("account/sessions.html",
                           sign_in=sign_ins().last([viewer.user_id]).get(viewer.user_id),
                           sessions=sign_ins().sessions_of(viewer.user_id),
                           current=session.id_hash.hex())  # type: ignore[attr-defined]
