"""Reading and re-drawing forms: the version a change expects, and refusals next to fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from cases.kernel.errors import DivexError, InvalidInput

from .fields import Field
from .messages import refusal

MAX_PAGE = 1_000_000  # beyond any real list; keeps the row offset within a 64-bit integer


def page_number(name: str = "page") -> int:
    """The ``page`` (or ``name``) query argument, 1 when missing or not a number, at most
    `MAX_PAGE`."""
    return min(max(1, request.args.get(name, 1, type=int) or 1), MAX_PAGE)


def expected_version() -> int:
    """The case version the form was drawn from (a hidden field on every change)."""
    raw = request.values.get("expected_version", "")
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("The form is missing the case version; reload the page.",
                           field="expected_version") from None


def field_errors(error: DivexError, fields: tuple[Field, ...]) -> dict[str, str]:
    """The refusal as {field: translated message} if it names one of the form's fields.

    Any other refusal (a stale version, a case that does not exist) is raised again for the
    app's one error mapping.
    """
    if error.field and error.field in {f.name for f in fields}:
        return {error.field: refusal(error)}
    raise error


def as_form(values: Mapping[str, Any]) -> MultiDict[str, str]:
    """Stored content as form values: lists become repeated keys, None an empty string."""
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, "" if one is None else str(one)))
    return MultiDict(pairs)
