"""Every refusal mapped once: a domain error or an HTTP error becomes a translated page."""

from __future__ import annotations

import math

from flask import Flask, render_template, request
from flask.typing import ResponseValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from cases.kernel.errors import Conflict, DivexError

from .api import is_api_request as api_request
from .api import json_error
from .api.errors import error_response, refusal_headers
from .messages import refusal


def error_page(status: int, title: str, message: str, *, reload: bool = False,
               ) -> tuple[str, int]:
    case_id = (request.view_args or {}).get("case_id")
    return render_template("error.html", status=status, title=title, message=message,
                           case_id=case_id, reload=reload, error_page=True), status


def on_divex_error(error: DivexError) -> ResponseValue:
    if api_request():
        return json_error(error)
    titles = {401: _("Not signed in"), 403: _("Not allowed"), 404: _("Not found"),
              409: _("Changed by someone else") if error.field is None
              else _("Not possible now"), 422: _("Please correct the input"),
              503: _("Busy for a moment")}
    page, status = error_page(error.status, titles.get(error.status, _("Refused")),
                              refusal(error),
                              reload=isinstance(error, Conflict) and error.field is None)
    headers = refusal_headers(error)
    headers.pop("WWW-Authenticate", None)  # a page's 401 asks for the form, not a token
    return page, status, headers


def on_csrf_error(error: CSRFError) -> ResponseValue:
    return error_page(400, _("The form has expired"),
                      _("This form was missing its security token or it was no longer "
                        "valid. Go back, reload the page and send the form again."))


def on_http_error(error: HTTPException) -> ResponseValue:
    if api_request():
        return json_error(error)
    status = error.code or 500
    messages = {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("You may not see this page.")),
        404: (_("Not found"), _("There is no such page, or you may not see it.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
    }
    title, message = messages.get(status, (_("Something went wrong"),
                                           _("The request could not be completed.")))
    return error_page(status, title, message)


def on_too_many_requests(error: RateLimitExceeded) -> ResponseValue:
    """The sign-in throttle: the page says how long to wait, and so does Retry-After."""
    seconds = error.limit.limit.get_expiry()
    if api_request():
        return error_response(429, _("Too many requests with this token. Wait %(num)s "
                                     "seconds, then try again.", num=seconds),
                              headers={"Retry-After": str(seconds)})
    minutes = max(1, math.ceil(seconds / 60))
    page, status = error_page(429, _("Too many attempts"), ngettext(
        "Too many sign-in attempts came from your network in a short time. Wait %(num)s "
        "minute, then try again.",
        "Too many sign-in attempts came from your network in a short time. Wait %(num)s "
        "minutes, then try again.", minutes))
    return page, status, {"Retry-After": str(seconds)}


def on_too_large(error: RequestEntityTooLarge) -> ResponseValue:
    """A body over MAX_CONTENT_LENGTH (or a form over MAX_FORM_MEMORY_SIZE): refused unread."""
    limits = (request.max_content_length, request.max_form_memory_size)
    kib = max(1, min(size for size in limits if size) // 1024)
    message = _("The request is too large: at most %(num)s KiB are accepted.", num=kib)
    if api_request():
        return error_response(413, message)
    return error_page(413, _("Too large"), message)


def on_server_error(error: Exception) -> ResponseValue:
    # Logged by Flask with the traceback; the user sees none of it.
    if api_request():
        return json_error(error)
    return error_page(500, _("Something went wrong"),
                      _("The server could not complete the request. Try again, and tell "
                        "your administrator if it persists."))


def register(app: Flask) -> None:
    app.register_error_handler(DivexError, on_divex_error)
    app.register_error_handler(CSRFError, on_csrf_error)
    app.register_error_handler(RateLimitExceeded, on_too_many_requests)
    app.register_error_handler(RequestEntityTooLarge, on_too_large)
    app.register_error_handler(HTTPException, on_http_error)
    app.register_error_handler(InternalServerError, on_server_error)
