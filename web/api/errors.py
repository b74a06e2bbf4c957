"""API errors as JSON: ``{error, message, field}`` with the status of the refusal."""

from __future__ import annotations

from flask import Response, jsonify
from pydantic import BaseModel

from cases.kernel.errors import Busy, DivexError

from ..messages import refusal

ERROR_STATUSES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media",
    422: "invalid_input", 429: "too_many_requests", 500: "server_error", 503: "busy",
}


class ApiError(BaseModel):
    """Why a request was refused. ``field`` names the input at fault (dotted for nested)."""

    error: str
    message: str
    field: str | None = None


class BadRequest(DivexError):
    """The request itself is malformed (not JSON, not an object)."""

    status = 400


def error_response(status: int, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    response = jsonify(ApiError(error=ERROR_STATUSES.get(status, "error"), message=message,
                                field=field).model_dump())
    response.status_code = status
    response.headers.update(headers or {})
    return response


def json_field(name: str | None) -> str | None:
    """The domain names fields as the forms do; the JSON body nests the concerned states."""
    if name and name.startswith("concerned_"):
        return "concerned." + name.removeprefix("concerned_")
    return name


def refusal_headers(error: DivexError) -> dict[str, str]:
    """What HTTP says beside the refusal: how to authenticate, or when to try again."""
    if isinstance(error, Busy):
        return {"Retry-After": str(error.retry_after)}
    return {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}


def from_divex_error(error: DivexError) -> Response:
    return error_response(error.status, refusal(error), json_field(error.field),
                          refusal_headers(error))
