"""The JSON API under /api/v1: bearer-token authentication, JSON errors, the OpenAPI document.

A call authenticates with ``Authorization: Bearer dvx_…`` only; the session cookie is never
read here, so a page in another site cannot make a signed-in browser call the API (no CSRF).
The operations call the same application services, with the same access checks, as the pages.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from cases.kernel.errors import AuthenticationFailed, DivexError
from crypto import CryptoError
from crypto.apitoken import ApiToken

from ..extensions import csrf, get_exchange
from . import (
    audit,
    cases,
    contributions,
    directory,
    hits,
    imports,
    inbox,
    meetings,
    onboarding,
    spec,
    summaries,
    traces,
)
from .errors import error_response, from_divex_error

PREFIX = "/api/v1"
# One blueprint per area, nested under /api/v1: its endpoints are "api.<area>.<operation>".
AREAS = (cases.bp, contributions.bp, hits.bp, imports.bp, meetings.bp, traces.bp, summaries.bp,
         audit.bp, directory.bp, onboarding.bp, inbox.bp)
bp = Blueprint("api", __name__, url_prefix=PREFIX)
for area in AREAS:
    bp.register_blueprint(area)


# The document, and accepting an invitation (the invitee has no account yet: the code is
# the credential).
PUBLIC = {"api.openapi"} | {f"api.{op.area}.{op.operation_id}" for op in spec.OPERATIONS
                            if op.public}


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(spec.document("divex", "1"))


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC or request.method == "OPTIONS":
        return
    scheme, _, text = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not text.strip():
        raise AuthenticationFailed("Send an API token: Authorization: Bearer <token>.")
    g.api_viewer = get_exchange().api_tokens.authenticate(text.strip())


def token_key() -> str:
    """Rate limits count per token (its public id), else per client address."""
    try:
        token = ApiToken.parse(request.headers.get("Authorization", "").partition(" ")[2].strip())
    except CryptoError:
        return f"addr:{request.remote_addr}"
    return f"token:{token.token_id}"


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


_HTTP_MESSAGES = {404: "There is no such API operation or resource.",
                  405: "This API operation does not accept that method."}


def json_error(error: Exception) -> Response:
    """The API's form of an error raised under /api/v1: status, code and message only."""
    if isinstance(error, DivexError):
        return from_divex_error(error)
    if isinstance(error, HTTPException) and error.code and error.code < 500:
        headers: dict[str, Any] = dict(error.get_headers())
        headers.pop("Content-Type", None)
        message = _HTTP_MESSAGES.get(error.code, error.description or error.name)
        return error_response(error.code, message, None, headers)
    return error_response(500, "The server could not complete the request.")


def register(app: Flask) -> None:
    for exempt in (bp, *AREAS):  # Flask-WTF exempts a blueprint, not the ones nested in it
        csrf.exempt(exempt)
    app.register_blueprint(bp)
