"""Administration pages: the secretariat registers states, state admins invite and manage the
users of their state and rotate its keys; anyone holding an invitation code accepts it."""

from __future__ import annotations

import unicodedata
from typing import Any
from uuid import UUID

import pycountry
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from cases.identity.directory import (
    SECRETARIAT_CODE,
    SECRETARIAT_ROLES,
    STATE_ROLES,
    STATE_STATUSES,
)
from cases.identity.invitations import BY_SECRETARIAT, FIRST_ADMIN
from cases.kernel.errors import DivexError, Forbidden, InvalidInput
from cases.kernel.viewer import SECRETARIAT, STATE_ADMIN

from .account import sign_ins
from .auth import hold_pending, sign_in
from .extensions import current_viewer, get_exchange
from .fields import Field
from .forms import field_errors
from .labels import country, label
from .second_factor import NO_STORE

bp = Blueprint("admin", __name__)

STATE_FIELDS = (
    Field("code", _l("State"), "select", required=True),
    Field("status", _l("Status"), "select", STATE_STATUSES, required=True),
    Field("username", _l("User name of its first state admin"), required=True,
          hint=_l("3 to 64 characters: letters, digits, '.', '_', '-' or '@'")),
    Field("display_name", _l("Full name of the state admin")),
)
INVITE_FIELDS = (
    Field("username", _l("User name"), required=True,
          hint=_l("3 to 64 characters: letters, digits, '.', '_', '-' or '@'")),
    Field("display_name", _l("Full name")),
    Field("roles", _l("Roles"), "checkboxes", required=True),
)
ACCEPT_FIELDS = (
    Field("code", _l("Invitation code"), required=True),
    Field("username", _l("User name"), required=True,
          hint=_l("The user name given with the code")),
    Field("display_name", _l("Full name")),
    Field("password", _l("Choose a password"), "password", required=True,
          hint=_l("At least 12 characters, without your user name")),
    Field("password_again", _l("The same password again"), "password", required=True),
    Field("recovery_secret", _l("Recovery secret of your state"), "password",
          hint=_l("Only for a state admin invited by the secretariat because your state lost "
                  "its admins; leave empty otherwise")),
)
READMIT_FIELDS = (
    Field("username", _l("User name of the new state admin"), required=True,
          hint=_l("3 to 64 characters: letters, digits, '.', '_', '-' or '@'")),
    Field("display_name", _l("Full name of the state admin")),
)


def country_choices(registered: set[str]) -> list[tuple[str, str]]:
    """The ISO 3166-1 countries not yet registered, as (alpha-3 code, name in the user's
    language), by name as a reader of that language expects (`Émirats` among the E's)."""
    pairs = [(c.alpha_3, country(c.alpha_3)) for c in pycountry.countries
             if c.alpha_3 not in registered]
    return sorted(pairs, key=lambda pair: _folded(pair[1]))


def _folded(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold())
                   if not unicodedata.combining(c))


def _require(role: str) -> None:
    if not current_viewer().has(role):
        raise Forbidden("You may not see this page.")


@bp.get("/admin/")
@login_required
def index() -> Response:
    viewer = current_viewer()
    if viewer.has(SECRETARIAT):
        return redirect(url_for("admin.states"))
    _require(STATE_ADMIN)
    return redirect(url_for("admin.users"))


# The secretariat: states and their first admins

@bp.get("/admin/states")
@login_required
def states() -> Any:
    _require(SECRETARIAT)
    exchange = get_exchange()
    onboarding = exchange.onboarding
    invitations = [i for i in onboarding.invitations(current_viewer())
                   if i.kind in BY_SECRETARIAT]
    return render_template("admin/states.html", states=exchange.directory.states(),
                           invitations=invitations, is_open=onboarding.is_open)


def _state_form(values: MultiDict[str, str], errors: dict[str, str] | None = None,
                status: int = 200) -> tuple[str, int]:
    return render_template("admin/state_form.html", fields=STATE_FIELDS, values=values,
                           errors=errors or {},
                           countries=country_choices(_taken_codes())), status


def _taken_codes() -> set[str]:
    """Registered states, and those whose first admin has a pending invitation."""
    exchange = get_exchange()
    onboarding = exchange.onboarding
    pending = {i.state for i in onboarding.invitations(current_viewer())
               if i.kind == FIRST_ADMIN and onboarding.is_open(i)}
    return pending | {s.code for s in exchange.directory.states()}


@bp.get("/admin/states/new")
@login_required
def new_state() -> Any:
    _require(SECRETARIAT)
    return _state_form(MultiDict({"status": "state_party"}))


@bp.post("/admin/states")
@login_required
def register_state() -> Any:
    form = request.form
    try:
        issued = get_exchange().onboarding.register_state(
            current_viewer(), form.get("code", ""), form.get("status", ""),
            form.get("username", ""), form.get("display_name", ""))
    except DivexError as error:
        return _state_form(form, field_errors(error, STATE_FIELDS), error.status)
    return _issued(issued, url_for("admin.states"))


@bp.get("/admin/states/<code>/status")
@login_required
def confirm_status(code: str) -> Any:
    """What changing a state's status means, before the secretariat confirms it."""
    _require(SECRETARIAT)
    state = get_exchange().directory.state(code)
    status = request.args.get("status", "")
    if status not in STATE_STATUSES or status == state.status:
        raise InvalidInput("Status must be one of %(choices)s.", field="status",
                           choices=", ".join(s for s in STATE_STATUSES if s != state.status))
    return render_template("admin/confirm_status.html", state=state, status=status)


@bp.post("/admin/states/<code>/status")
@login_required
def change_status(code: str) -> Response:
    state = get_exchange().onboarding.change_state_status(current_viewer(), code,
                                                          request.form.get("status", ""))
    flash(_("%(code)s is now: %(status)s.", code=state.code, status=label(state.status)),
          "success")
    return redirect(url_for("admin.states"))


@bp.post("/admin/states/<code>/suspension")
@login_required
def suspend(code: str) -> Response:
    onboarding, viewer = get_exchange().onboarding, current_viewer()
    if request.form.get("reinstate"):
        state = onboarding.reinstate_state(viewer, code)
        flash(_("The access of %(code)s is restored.", code=state.code), "success")
    else:
        state = onboarding.suspend_state(viewer, code)
        flash(_("The access of %(code)s is suspended: its users cannot sign in and its API "
                "tokens are refused. Nothing is deleted.", code=state.code), "success")
    return redirect(url_for("admin.states"))


@bp.route("/admin/states/<code>/admin-invitation", methods=["GET", "POST"])
@login_required
def reinvite_admin(code: str) -> Any:
    """A new state admin for a state that lost its admins; they need its recovery secret."""
    _require(SECRETARIAT)
    state = get_exchange().directory.state(code)
    if request.method == "GET":
        return render_template("admin/readmit.html", state=state, fields=READMIT_FIELDS,
                               values=MultiDict(), errors={})
    form = request.form
    try:
        issued = get_exchange().onboarding.reinvite_state_admin(
            current_viewer(), state.code, form.get("username", ""),
            form.get("display_name", ""))
    except DivexError as error:
        return render_template("admin/readmit.html", state=state, fields=READMIT_FIELDS,
                               values=form, errors=field_errors(error, READMIT_FIELDS)
                               ), error.status
    return _issued(issued, url_for("admin.states"))


# A state admin: users and invitations of their state

@bp.get("/admin/users")
@login_required
def users() -> Any:
    viewer = current_viewer()
    _require(STATE_ADMIN)
    onboarding = get_exchange().onboarding
    invitations = [i for i in onboarding.invitations(viewer) if i.kind not in BY_SECRETARIAT]
    found = onboarding.users(viewer)
    return render_template("admin/users.html", users=found, invitations=invitations,
                           is_open=onboarding.is_open, roles=_roles_of(viewer.state),
                           sign_ins=sign_ins().last([str(u.id) for u in found]))





def _roles_of(state: str) -> tuple[str, ...]:
    return tuple(sorted(SECRETARIAT_ROLES if state == SECRETARIAT_CODE else STATE_ROLES))


def _invite_form(values: MultiDict[str, str], errors: dict[str, str] | None = None,
                 status: int = 200) -> tuple[str, int]:
    fields = tuple(Field(f.name, f.label, f.kind, _roles_of(current_viewer().state),
                         f.required, f.hint) if f.name == "roles" else f
                   for f in INVITE_FIELDS)
    return render_template("admin/invite.html", fields=fields, values=values,
                           errors=errors or {}), status


@bp.get("/admin/users/invite")
@login_required
def new_invitation() -> Any:
    _require(STATE_ADMIN)
    return _invite_form(MultiDict())


@bp.post("/admin/users/invite")
@login_required
def invite() -> Any:
    form = request.form
    try:
        issued = get_exchange().onboarding.invite_user(
            current_viewer(), form.get("username", ""), form.getlist("roles"),
            form.get("display_name", ""))
    except DivexError as error:
        return _invite_form(form, field_errors(error, INVITE_FIELDS), error.status)
    return _issued(issued, url_for("admin.users"))


def _issued(issued: Any, back: str) -> tuple[str, int, dict[str, str]]:
    """The code, shown on this response only: never stored, redirected or flashed."""
    return render_template("admin/issued.html", invitation=issued.invitation,
                           code=issued.code, back=back), 200, NO_STORE


@bp.post("/admin/users/<username>/roles")
@login_required
def change_roles(username: str) -> Response:
    get_exchange().onboarding.change_roles(current_viewer(), username,
                                           request.form.getlist("roles"))
    flash(_("The roles of %(name)s are changed.", name=username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/admin/users/<username>/deactivate")
@login_required
def deactivate(username: str) -> Response:
    get_exchange().onboarding.deactivate(current_viewer(), username)
    flash(_("%(name)s is deactivated: they can no longer sign in, and their API tokens are "
            "revoked.", name=username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/admin/users/<username>/reactivate")
@login_required
def reactivate(username: str) -> Any:
    return _issued(get_exchange().onboarding.reactivate(current_viewer(), username),
                   url_for("admin.users"))


@bp.post("/admin/invitations/<uuid:invitation_id>/revoke")
@login_required
def revoke(invitation_id: UUID) -> Response:
    invitation = get_exchange().onboarding.revoke(current_viewer(), invitation_id)
    flash(_("The invitation for %(name)s is revoked: its code no longer works.",
            name=invitation.username), "success")
    return redirect(url_for("admin.states" if invitation.kind in BY_SECRETARIAT
                            else "admin.users"))


@bp.route("/admin/keys", methods=["GET", "POST"])
@login_required
def rotate_keys() -> Any:
    _require(STATE_ADMIN)
    if request.method == "GET":
        return render_template("admin/keys.html",
                               state=get_exchange().directory.state(current_viewer().state))
    rotated = get_exchange().onboarding.rotate_keys(current_viewer())
    session.set_keyring(rotated.keyring)  # type: ignore[attr-defined]
    flash(_("Your state's keys are rotated: new key version %(version)s.",
            version=rotated.keyring.current.version), "success")
    return redirect(url_for("admin.rotate_keys"))


# Anyone with a code: accepting an invitation

def _accept_form(values: MultiDict[str, str], errors: dict[str, str] | None = None,
                 status: int = 200) -> tuple[str, int, dict[str, str]]:
    shown = MultiDict([(k, v) for k, v in values.items(multi=True)
                       if k not in ("password", "password_again", "recovery_secret")])
    return render_template("admin/accept.html", fields=ACCEPT_FIELDS, values=shown,
                           errors=errors or {}), status, NO_STORE


@bp.get("/invitations/accept")
def accept_form() -> Any:
    if current_user.is_authenticated:
        flash(_("Sign out first to accept an invitation for another account."), "info")
    return _accept_form(MultiDict())


@bp.post("/invitations/accept")
def accept() -> Any:
    form = request.form
    try:
        if form.get("password", "") != form.get("password_again", ""):
            raise InvalidInput("The two passwords differ.", field="password_again")
        welcome = get_exchange().onboarding.accept(
            form.get("code", ""), form.get("username", ""), form.get("password", ""),
            form.get("display_name", ""), form.get("recovery_secret", ""))
    except DivexError as error:
        return _accept_form(form, field_errors(error, ACCEPT_FIELDS), error.status)
    unlocked = welcome.unlocked
    target = url_for("admin.users") if STATE_ADMIN in unlocked.user.roles else ""
    if unlocked.user.needs_second_factor:
        hold_pending(unlocked, "enrol", target)
        then = url_for("second_factor.enrol_at_sign_in")
    else:
        sign_in(unlocked.viewer)
        then = target or url_for("cases.index")
    if welcome.recovery_secret:
        # Shown once by the next page, which takes it out of the (sealed) session.
        session["welcome"] = {"secret": welcome.recovery_secret, "next": then,
                              "state": unlocked.user.state}
        return redirect(url_for("admin.welcome"))
    flash(_("Welcome, %(name)s: your account is ready.", name=unlocked.user.display_name),
          "success")
    return redirect(then)


@bp.get("/invitations/welcome")
def welcome() -> Any:
    held = session.pop("welcome", None)
    if not held:
        return redirect(url_for("auth.login"))
    return render_template("admin/welcome.html", secret=held["secret"],
                           continue_to=held["next"], state=held["state"]), 200, NO_STORE
