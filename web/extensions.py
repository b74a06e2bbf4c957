"""The Flask extensions, created once and bound to the app in `create_app`."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from cases.kernel.viewer import Viewer

# One way to write a moment on every page and in every language: day, month's name, year
# and a 24-hour time in UTC ("3 Dec 2026, 06:56 UTC"; "3 déc. 2026, 06:56 UTC"), never the
# locale's numeric short form (12/3/26 reads as 12 March in most member states).
MOMENT = "d MMM y, HH:mm 'UTC'"
DAY = "d MMM y"
babel = Babel(date_formats={**Babel.default_date_formats, "datetime.short": MOMENT,
                            "datetime.medium": MOMENT, "date.short": DAY, "date.medium": DAY})
csrf = CSRFProtect()


def select_locale() -> str | None:
    """The language the user chose for this session, else the browser's preference."""
    languages = list(current_app.config["LANGUAGES"])
    chosen = session.get("lang")
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages)


def get_exchange() -> Any:
    """The exchange the app was built on (its services and read models)."""
    return current_app.extensions["divex"]


def caught_up_exchange() -> Any:
    """The exchange once its read models hold every event stored so far: views call it
    before they read a read model (a page must show what its user just did)."""
    exchange = get_exchange()
    exchange.follow()
    return exchange


def current_viewer() -> Viewer:
    """The signed-in user as the domain sees them (views behind `login_required` only)."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(user, Viewer)
    return user


def template_globals() -> dict[str, Any]:
    return {"current_lang": str(get_locale() or "en"),
            "languages": current_app.config["LANGUAGES"]}
