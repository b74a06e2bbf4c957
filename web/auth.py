"""Signing in and out, and the language of the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
from flask_login import LoginManager, login_user, logout_user
from werkzeug.wrappers import Response

from cases.directory import SECRETARIAT_CODE
from cases.directory_service import Unlocked
from cases.errors import AuthenticationFailed, Busy, Conflict, NotFound
from cases.viewer import Viewer
from crypto import Keyring

from .extensions import get_exchange
from .messages import N_, refusal
from .sign_ins import SignIns

bp = Blueprint("auth", __name__)

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = N_("Please sign in to see this page.")
login_manager.localize_callback = _

# Between the password and the second factor: long enough to open an app, short enough that
# a session abandoned there is soon worth nothing.
PENDING_MINUTES = 5


class SignedIn(Viewer):
    """A `Viewer` that Flask-Login can hold; its id is the user name."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.username


@login_manager.user_loader
def load_user(username: str) -> SignedIn | None:
    """Rebuilds the viewer for this request: roles from the directory, keys from the session."""
    keyring = getattr(session, "keyring", None)
    if keyring is None:
        return None
    try:
        user = get_exchange().directory.user(username)
    except NotFound:
        user = None
    if (user is None or not user.active or str(user.id) != session.get("user_id")
            or keys_rotated_since_sign_in(user.state, keyring)
            or get_exchange().directory.state(user.state).suspended):
        session.regenerate()  # type: ignore[attr-defined]
        return None
    return SignedIn(user_id=str(user.id), username=user.username, state=user.state,
                    roles=frozenset(user.roles), keyring=keyring)


def keys_rotated_since_sign_in(state: str, keyring: Keyring) -> bool:
    """A session holding an older keyring cannot open keys wrapped since: sign in again."""
    return get_exchange().directory.state(state).public_keys.version != keyring.current.version


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    try:
        unlocked = get_exchange().directory.unlock(username, request.form.get("password", ""))
    except AuthenticationFailed as error:
        return render_template("auth/login.html", error=refusal(error),
                               username=username, next=request.form.get("next", "")), 401
    except Busy as error:
        return render_template("auth/login.html", error=refusal(error),
                               username=username, next=request.form.get("next", "")), 503, {
                                   "Retry-After": str(error.retry_after)}
    target = _safe_next(request.form.get("next", ""))
    if unlocked.user.second_factor:
        hold_pending(unlocked, "code", target)
        return redirect(url_for("second_factor.code"))
    if unlocked.user.needs_second_factor:
        hold_pending(unlocked, "enrol", target)
        return redirect(url_for("second_factor.enrol_at_sign_in"))
    sign_in(unlocked.viewer)
    return redirect(target or url_for("cases.index"))


def sign_in(viewer: Viewer) -> None:
    """Opens a fresh session holding the keyring: the user is signed in."""
    current_app.session_interface.purge_expired(current_app)  # type: ignore[attr-defined]
    session.regenerate()  # type: ignore[attr-defined]
    session.set_keyring(viewer.keyring)  # type: ignore[attr-defined]
    session["user_id"] = viewer.user_id
    SignIns(current_app.session_interface.engine).record(viewer.user_id)  # type: ignore[attr-defined]
    login_user(SignedIn(**{k: getattr(viewer, k) for k in
                           ("user_id", "username", "state", "roles", "keyring")}))
    witness(viewer)


def hold_pending(unlocked: Unlocked, step: str, target: str) -> None:
    """A right password for a user who needs a second step (``code`` or ``enrol``): a fresh
    session keeps the user key, sealed like all session data, but no keyring, so no page
    treats it as signed in (`load_user` needs the keyring)."""
    session.regenerate()  # type: ignore[attr-defined]
    until = datetime.now(UTC) + timedelta(minutes=PENDING_MINUTES)
    session["pending"] = {"username": unlocked.user.username, "step": step,
                          "user_key": unlocked.user_key.to_bytes().hex(),
                          "until": until.isoformat(), "next": target}


def pending(step: str) -> dict[str, str] | None:
    """The sign-in waiting for this step, if it has not expired."""
    held = session.get("pending")
    if not isinstance(held, dict) or held.get("step") != step:
        return None
    if datetime.fromisoformat(held["until"]) < datetime.now(UTC):
        session.regenerate()  # type: ignore[attr-defined]
        return None
    return held


def witness(viewer: Viewer) -> None:
    """A member state's client cosigns the newest checkpoint it can check at each sign-in;
    a checkpoint that forks the history it cosigned is shown to the user, never hidden."""
    if viewer.state == SECRETARIAT_CODE:
        return  # the secretariat runs the log: it signs checkpoints, it does not witness them
    try:
        get_exchange().witness.cosign(viewer)
    except Conflict as error:
        flash(refusal(error), "error")


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    session.regenerate()  # type: ignore[attr-defined]
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> Response:
    chosen = request.form.get("lang", "")
    if chosen in current_app.config["LANGUAGES"]:
        session["lang"] = chosen
    return redirect(_safe_next(request.form.get("next", "")) or url_for("index"))


def _safe_next(target: str) -> str:
    """Only a path on this site: never another host."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""
