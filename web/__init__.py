"""The divex web app: `create_app(exchange)` builds it; each blueprint is one module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, redirect, url_for
from jinja2 import pass_context
from jinja2.runtime import Context
from werkzeug.wrappers import Response

from cases.casework.attachments import IMAGES
from cases.casework.content import serials

from . import (
    account,
    admin,
    api,
    audit,
    auth,
    cases,
    contributions,
    directory,
    errors,
    exports,
    hits,
    imports,
    inbox,
    mail,
    meetings,
    retention,
    searches,
    second_factor,
    security,
    sharing,
    summaries,
    tokens,
    traces,
    transparency,
)
from .audit_reasons import audit_reason, figure_name
from .extensions import babel, csrf, select_locale, template_globals
from .labels import (
    colon,
    country,
    country_list,
    event_label,
    first_serial,
    label,
    tier_explained,
)
from .listing import PAGE_SIZES, url_with
from .sessions import ServerSessionInterface

LANGUAGES = {"en": "English", "fr": "Français", "es": "Español"}


def create_app(exchange: Any, config: dict[str, Any] | None = None) -> Flask:
    """Builds the app on an `infra.wiring.Exchange` (duck-typed: web does not import infra)."""
    settings = exchange.settings
    app = Flask(__name__)
    app.request_class = imports.UploadRequest
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="divex_session",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # Lax, not Strict: a link to a case from a mail or a chat opens it for a signed-in
        # user. Cross-site POSTs carry no cookie either way, and every POST needs a CSRF token.
        SESSION_COOKIE_SAMESITE="Lax",
        PROXY_HOPS=settings.proxy_hops,
        LOGIN_RATE_LIMIT=settings.login_rate_limit,
        API_RATE_LIMIT=settings.api_rate_limit,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        # A body over the limit is refused (413) before it is read; a form's fields too.
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
        ATTACHMENT_MAX_MIB=settings.attachment_max_mib,
        SESSION_IDLE_MINUTES=30,
        SESSION_ABSOLUTE_HOURS=12,
        LANGUAGES=LANGUAGES,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DEFAULT_TIMEZONE=settings.time_zone,  # times are shown in the deployment's
        WTF_CSRF_TIME_LIMIT=None,  # the session's own expiry bounds a token's life
        PAGE_SIZE=25,
    )
    app.config.update(config or {})
    app.extensions["divex"] = exchange
    app.session_interface = ServerSessionInterface(
        exchange.ledger.recorder.datastore.engine)
    security.protect(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    auth.login_manager.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(second_factor.bp)
    app.register_blueprint(searches.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(sharing.bp)
    app.register_blueprint(retention.bp)
    app.register_blueprint(directory.bp)
    app.register_blueprint(traces.bp)
    app.register_blueprint(meetings.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(summaries.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(exports.schemas)
    app.register_blueprint(imports.bp)
    app.register_blueprint(contributions.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(account.bp)
    csrf.exempt(transparency.bp)  # its one POST takes an API token, never the cookie
    app.register_blueprint(transparency.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(hits.bp)
    app.register_blueprint(mail.bp)
    api.register(app)
    app.add_url_rule("/", "index", _home)
    security.throttle(app)
    app.context_processor(template_globals)
    app.context_processor(inbox.unread_count)
    app.jinja_env.filters.update({name: in_request_language(f) for name, f in {
        "label": label, "country": country, "event_label": event_label,
        "explained": tier_explained, "colon": colon, "first_serial": first_serial,
        "audit_reason": audit_reason, "figure_name": figure_name}.items()})
    app.jinja_env.filters["serial_list"] = serials
    app.jinja_env.globals["country_list"] = country_list
    app.jinja_env.globals["image_types"] = IMAGES  # attachments shown inline
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["page_sizes"] = PAGE_SIZES
    errors.register(app)
    return app


def in_request_language(translate: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose result depends on the request's language. Jinja folds a filter applied
    to a literal (``'tier1'|explained``) into the compiled template, in the language of the
    first request to render it; a filter that takes the template's context is never folded."""

    @pass_context
    def in_language(_: Context, *args: Any, **kwargs: Any) -> Any:
        return translate(*args, **kwargs)

    return in_language


def _home() -> Response:
    return redirect(url_for("cases.index"))
