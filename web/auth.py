"""Signing in and out, and the language of the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

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
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from cases.identity.accounts import Unlocked
from cases.identity.directory import SECRETARIAT_CODE
from cases.kernel.errors import AuthenticationFailed, Busy, Conflict, NotFound
from cases.kernel.viewer import Viewer
from crypto import CryptoError, UserKey

from .extensions import current_viewer, get_exchange
from .messages import N_, refusal
from .sign_ins import SignIns, place_of

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
    directory = get_exchange().directory
    try:
        user = directory.user(username)
    except NotFound:
        user = None
    state = directory.state(user.state) if user is not None else None
    # A session holding an older keyring cannot open keys wrapped since: sign in again.
    if (user is None or state is None or not user.active
            or str(user.id) != session.get("user_id")
            or state.public_keys.version != keyring.current.version or state.suspended):
        session.regenerate()  # type: ignore[attr-defined]
        return None
    return SignedIn(user_id=str(user.id), username=user.username, state=user.state,
                    roles=frozenset(user.roles), keyring=keyring, own_key=own_key())


def own_key() -> UserKey | None:
    """The user's own key the session holds (sealed like all session data): it opens what
    only they may read, e.g. their saved searches. None in a session from before it was kept."""
    try:
        return UserKey.from_bytes(bytes.fromhex(session.get("user_key", "")))
    except (CryptoError, ValueError):
        return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("auth/login.html", next=safe_next(request.args.get("next")))
    username = request.form.get("username", "").strip()
    try:
        unlocked = get_exchange().directory.unlock(username, request.form.get("password", ""),
                                                   client_address())
    except AuthenticationFailed as error:
        return render_template("auth/login.html", error=refusal(error),
                               username=username, next=safe_next(request.form.get("next"))), 401
    except Busy as error:
        return render_template("auth/login.html", error=refusal(error),
                               username=username, next=safe_next(request.form.get("next"))), 503, {
                                   "Retry-After": str(error.retry_after)}
    target = safe_next(request.form.get("next"))
    if unlocked.user.second_factor:
        hold_pending(unlocked, "code", target)
        return redirect(url_for("second_factor.code"))
    if unlocked.user.needs_second_factor:
        hold_pending(unlocked, "enrol", target)
        return redirect(url_for("second_factor.enrol_at_sign_in"))
    sign_in(unlocked.viewer)
    return redirect(target or url_for("cases.index"))


def client_address() -> str:
    """The client's address as the sign-in throttles count it (after DIVEX_PROXY_HOPS)."""
    return request.remote_addr or ""


def sign_in(viewer: Viewer) -> None:
    """Opens a fresh session holding the keyring: the user is signed in, in the language
    they chose on this visit (kept with them), else the one they chose before."""
    chosen_now = session.get("lang")
    current_app.session_interface.purge_expired(current_app)  # type: ignore[attr-defined]
    session.regenerate()  # type: ignore[attr-defined]
    session.set_keyring(viewer.keyring)  # type: ignore[attr-defined]
    session["user_id"] = viewer.user_id
    keep_language(viewer, chosen_now)
    if viewer.own_key is not None:
        session["user_key"] = viewer.own_key.to_bytes().hex()
    sign_ins = SignIns(current_app.session_interface.engine)  # type: ignore[attr-defined]
    sign_ins.record(viewer.user_id)
    if sign_ins.new_place(viewer.user_id, place_of(client_address(),
                                                   current_app.config["SECRET_KEY"])):
        get_exchange().directory.signed_in_from_new_place(viewer)
    login_user(SignedIn(**{k: getattr(viewer, k) for k in
                           ("user_id", "username", "state", "roles", "keyring")}))
    tell_of_failed_sign_ins(viewer)
    witness(viewer)


def keep_language(viewer: Viewer, chosen_now: str | None) -> None:
    directory = get_exchange().directory
    if chosen_now:
        directory.choose_language(viewer, chosen_now)
    elif kept := directory.user(viewer.username).language:
        session["lang"] = kept


def tell_of_failed_sign_ins(viewer: Viewer) -> None:
    """Wrong passwords or codes tried at this account since the user last signed in."""
    missed = get_exchange().directory.failed_sign_ins(viewer, unseen_only=True)
    if missed:
        flash(ngettext(
            "%(num)s wrong password or code was tried at your account since you last signed "
            "in, the latest at %(time)s from %(address)s. If that was not you, change "
            "your password and tell your state admin; your security page lists them.",
            "%(num)s wrong passwords or codes were tried at your account since you last "
            "signed in, the latest at %(time)s from %(address)s. If that was not you, "
            "change your password and tell your state admin; your security page lists them.",
            len(missed),
            time=format_datetime(missed[0].at), address=missed[0].address),
            "warning")


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
        if current_user.is_authenticated:
            get_exchange().directory.choose_language(current_viewer(), chosen)
    return redirect(safe_next(request.form.get("next")) or url_for("index"))


# What a browser removes or rewrites before it resolves a URL (WHATWG URL standard, "basic URL
# parser"): leading and trailing C0 controls and spaces, every ASCII tab and newline, and a
# backslash read as a slash in the path of an http(s) URL. `urlsplit` strips some of these
# (Python >= 3.11.4) but neither backslashes nor "///host", which browsers read as "//host";
# neither Werkzeug nor Flask-Login has a check of their own (Django's
# url_has_allowed_host_and_scheme is the model, and is not installed here).
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_BROWSER_STRIPS = str.maketrans("", "", "\t\n\r")


def safe_next(target: object) -> str:
    """``target`` if a browser reads it as a path on this site, without the characters a
    browser would drop; else "" (the caller's default). Every redirect target taken from a
    request goes through here."""
    if not isinstance(target, str):
        return ""
    cleaned = target.strip(_C0_AND_SPACE).translate(_BROWSER_STRIPS)
    as_browser_reads = cleaned.replace("\\", "/")
    if (not as_browser_reads.startswith("/") or as_browser_reads.startswith("//")
            or any(ord(c) < 0x20 or c == "\x7f" for c in cleaned)):
        return ""
    parts = urlsplit(as_browser_reads)
    if parts.scheme or parts.netloc:
        return ""
    return cleaned
