"""The user's notification mails: their address (confirmed by a link mailed to it) and, per
kind of inbox item, whether it is mailed at once, in a daily digest, or never."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.support import Translations
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from cases.kernel.errors import DivexError
from cases.notifications import mail_text
from cases.notifications.addresses import MODES
from cases.notifications.kinds import KINDS
from projections import outbox

from .extensions import current_viewer, get_exchange
from .inbox import kinds_of
from .messages import refusal

bp = Blueprint("mail", __name__, url_prefix="/account/mail")

LANGUAGES = ("en", "fr", "es")


def translators() -> dict[str, Callable[[str], str]]:
    """One gettext per language of the catalogs, English first (for mails, which are sent
    outside any request: in the user's chosen language, or in every one)."""
    folder = Path(__file__).parent / "translations"
    return {lang: Translations.load(str(folder), [lang]).gettext for lang in LANGUAGES}


def page(values: MultiDict[str, str] | None = None, errors: dict[str, str] | None = None,
         status: int = 200) -> tuple[str, int]:
    exchange, viewer = get_exchange(), current_viewer()
    return render_template(
        "account/mail.html", address=exchange.mail_addresses.address_of(viewer),
        modes=exchange.mail_addresses.modes_of(viewer), kinds=kinds_of(viewer), KINDS=KINDS,
        MODES=MODES, values=values or MultiDict(), errors=errors or {},
        sending=bool(exchange.settings.mail.smtp_url)), status


@bp.get("")
@login_required
def settings() -> Any:
    return page()


@bp.post("/address")
@login_required
def set_address() -> Any:
    """Records the address and mails it the link that confirms it."""
    exchange, viewer = get_exchange(), current_viewer()
    try:
        token = exchange.mail_addresses.request(viewer, request.form.get("address", ""))
    except DivexError as error:
        return page(request.form, {"address": refusal(error)}, error.status)
    address = str(request.form.get("address", "")).strip()
    link = f"{exchange.settings.mail.base_url}{url_for('mail.confirm', token=token)}"
    subject, body = mail_text.confirmation_mail(translators(), link)
    with exchange.ledger.recorder.datastore.engine.begin() as db:
        outbox.queue_message(db, hashlib.sha256(token.encode()).hexdigest()[:36], viewer.user_id,
                             address, "confirm_address", subject, body, datetime.now(UTC))
    flash(_("A link to confirm it was sent to %(address)s. Nothing is mailed to it until "
            "you open that link.", address=address), "success")
    return redirect(url_for("mail.settings"))


@bp.post("/preferences")
@login_required
def set_preferences() -> Any:
    viewer = current_viewer()
    chosen = {kind: request.form.get(f"mode-{kind}", "") for kind in kinds_of(viewer)
              if f"mode-{kind}" in request.form}
    try:
        get_exchange().mail_addresses.set_modes(viewer, chosen)
    except DivexError as error:
        return page(request.form, {f"mode-{error.field}": refusal(error)}, error.status)
    flash(_("Your choices are saved."), "success")
    return redirect(url_for("mail.settings"))


@bp.post("/remove")
@login_required
def remove() -> Response:
    get_exchange().mail_addresses.remove(current_viewer())
    flash(_("Your address is removed: nothing more is mailed to you."), "success")
    return redirect(url_for("mail.settings"))


@bp.get("/confirm/<token>")
def confirm(token: str) -> str:
    """The link of the confirmation mail (no sign-in needed: the link is the proof)."""
    address = get_exchange().mail_addresses.confirm(token)
    return render_template("account/mail_confirmed.html", address=address)
