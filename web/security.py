"""Security headers, the Content-Security-Policy and the sign-in throttle, bound per app.

Each app gets its own Talisman and its own Limiter (with its own storage), so two apps in one
process, as in the test suite, never share a counter.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import DENY, Talisman
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api

# No inline script or style anywhere, not even with a nonce: the pages work without JavaScript
# (static/fields.js only hides fields that do not apply), and
# the charts are inline SVG without CSS (see web/charts.py).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def protect(app: Flask) -> None:
    """Headers on every response; with SESSION_COOKIE_SECURE, plain HTTP is redirected to
    HTTPS and HSTS is sent on HTTPS responses. Bind before CSRF so a redirect comes first."""
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        # Behind a reverse proxy: the client's address and scheme come from its headers,
        # trusted only for the configured number of hops (else a client could forge them).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    secure = bool(app.config["SESSION_COOKIE_SECURE"])
    Talisman(
        app,
        force_https=secure,
        strict_transport_security=secure,
        session_cookie_secure=secure,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options=DENY,
        # Not "no-referrer": Flask-WTF checks on HTTPS that a form was posted from this site.
        referrer_policy="same-origin",
    )
    app.after_request(no_store)


def no_store(response: Response) -> Response:
    """No cache keeps a copy of what divex answers (case content, history, meetings, trace
    requests, secrets, forms with their CSRF token): a shared computer's browser cache or a
    proxy would hand it to the next person. Only the static files (CSS) may be cached."""
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# Every step of a sign-in that checks a secret: the password, then the second-factor code
# (or its enrolment). Each step counts on its own, so one sign-in is one try at each.
SIGN_IN_STEPS = ("auth.login", "second_factor.code", "second_factor.enrol_at_sign_in")


def throttle(app: Flask) -> Limiter:
    """Limits the POSTs of each sign-in step per client address (LOGIN_RATE_LIMIT, e.g.
    "10 per minute"), beside the per-account lockout of cases/lockout.py, and API calls per
    token (API_RATE_LIMIT). Call after the blueprints are registered; storage is
    RATELIMIT_STORAGE_URI ("memory://" keeps counts per process)."""
    login_limit = str(app.config["LOGIN_RATE_LIMIT"])
    api_limit = str(app.config["API_RATE_LIMIT"])
    for limit in (login_limit, api_limit):
        parse_many(limit)  # a mistyped setting stops the app at start, not at the first call
    limiter = Limiter(get_remote_address, app=app)
    for endpoint in SIGN_IN_STEPS:
        app.view_functions[endpoint] = limiter.limit(login_limit, methods=["POST"])(
            app.view_functions[endpoint])
    limiter.limit(api_limit, key_func=api.token_key)(app.blueprints["api"])
    return limiter
