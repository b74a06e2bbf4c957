"""What a case says, validated before it is sealed: items, actors, route legs, the case text.

Every check names the field at fault and why. Values come in as form or JSON strings and go out
as plain dicts, ready to be sealed as JSON.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pycountry

from .errors import InvalidInput

# ATT Art. 2(1) categories, plus Art. 3 ammunition/munitions and Art. 4 parts and components.
ITEM_CATEGORIES = (
    "battle_tanks", "armoured_combat_vehicles", "large_calibre_artillery", "combat_aircraft",
    "attack_helicopters", "warships", "missiles_and_launchers", "small_arms", "light_weapons",
    "ammunition", "parts_and_components",
)
MARKING_CONDITIONS = ("intact", "altered", "erased")
ITEM_FLAGS = ("craft", "3d_printed", "modular", "converted")
ACTOR_ROLES = ("exporter", "importer", "broker", "carrier", "end_user", "intermediary",
               "non_state_armed_group", "criminal_group", "other")
TRANSPORT_MODES = ("air", "sea", "road", "rail", "post", "unknown")
POINTS_OF_DIVERSION = ("before_transfer", "in_transit", "at_or_after_delivery",
                       "unauthorised_reexport", "stockpile_loss_or_theft", "unknown")
CONCERNED_ROLES = ("exporter", "transit", "importer", "discovery")

_HS_CODE = re.compile(r"^\d{6,10}$")
FIRST_YEAR = 1850


def _text(data: dict[str, Any], field: str, *, required: bool = False, limit: int = 200) -> str:
    value = str(data.get(field) or "").strip()
    if required and not value:
        raise InvalidInput("This field is required.", field=field)
    if len(value) > limit:
        raise InvalidInput(f"At most {limit} characters.", field=field)
    return value


def _choice(data: dict[str, Any], field: str, choices: tuple[str, ...], *,
            required: bool = True) -> str:
    value = str(data.get(field) or "").strip()
    if not value and not required:
        return ""
    if value not in choices:
        raise InvalidInput(f"Choose one of: {', '.join(choices)}.", field=field)
    return value


def country(value: Any, field: str, *, required: bool = False) -> str:
    """An ISO 3166-1 alpha-3 code, upper-cased; empty if allowed."""
    code = str(value or "").strip().upper()
    if not code and not required:
        return ""
    if len(code) != 3 or pycountry.countries.get(alpha_3=code) is None:
        raise InvalidInput(f"'{code}' is not an ISO 3166-1 alpha-3 country code.", field=field)
    return code


def _integer(data: dict[str, Any], field: str, *, low: int, high: int,
             required: bool = False) -> int | None:
    raw = str(data.get(field) if data.get(field) is not None else "").strip()
    if not raw:
        if required:
            raise InvalidInput("This field is required.", field=field)
        return None
    try:
        number = int(raw)
    except ValueError:
        raise InvalidInput("Enter a whole number.", field=field) from None
    if not low <= number <= high:
        raise InvalidInput(f"Must be between {low} and {high}.", field=field)
    return number


def _day(data: dict[str, Any], field: str) -> str:
    raw = str(data.get(field) or "").strip()
    if not raw:
        return ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Enter a date as YYYY-MM-DD.", field=field) from None
    if day > date.today():
        raise InvalidInput("The date cannot be in the future.", field=field)
    return day.isoformat()


def _flags(data: dict[str, Any]) -> list[str]:
    raw = data.get("flags") or []
    flags = [raw] if isinstance(raw, str) else list(raw)
    wrong = [f for f in flags if f not in ITEM_FLAGS]
    if wrong:
        raise InvalidInput(f"Unknown flag(s): {', '.join(map(str, wrong))}.", field="flags")
    return sorted(set(flags))


def validate_item(data: dict[str, Any]) -> dict[str, Any]:
    """An item and its markings (DESIGN §2)."""
    hs_code = str(data.get("hs_code") or "").strip().replace(".", "").replace(" ", "")
    if hs_code and not _HS_CODE.match(hs_code):
        raise InvalidInput("An HS code has 6 to 10 digits (small arms: chapter 93, e.g. 930190).",
                           field="hs_code")
    return {
        "category": _choice(data, "category", ITEM_CATEGORIES),
        "hs_code": hs_code,
        "quantity": _integer(data, "quantity", low=1, high=10_000_000, required=True),
        "make": _text(data, "make"),
        "model": _text(data, "model"),
        "serial": _text(data, "serial"),
        "year": _integer(data, "year", low=FIRST_YEAR, high=date.today().year),
        "calibre": _text(data, "calibre", limit=50),
        "country_of_manufacture": country(data.get("country_of_manufacture"),
                                          "country_of_manufacture"),
        "import_marking": _text(data, "import_marking"),
        "marking_condition": _choice(data, "marking_condition", MARKING_CONDITIONS,
                                     required=False) or "intact",
        "flags": _flags(data),
        "lot": _text(data, "lot", limit=100),
        "headstamp": _text(data, "headstamp", limit=100),
    }


def validate_actor(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": _choice(data, "role", ACTOR_ROLES),
        "name": _text(data, "name", required=True),
        "country": country(data.get("country"), "country"),
        "notes": _text(data, "notes", limit=2000),
    }


def validate_leg(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "origin": country(data.get("origin"), "origin", required=True),
        "destination": country(data.get("destination"), "destination", required=True),
        "mode": _choice(data, "mode", TRANSPORT_MODES, required=False) or "unknown",
        "date": _day(data, "date"),
        "notes": _text(data, "notes", limit=2000),
    }


def validate_concerned(raw: Any) -> dict[str, str]:
    """Concerned states by role: {"exporter": "DEU", "discovery": "MLI", …}."""
    concerned = {}
    for role, code in dict(raw or {}).items():
        if role not in CONCERNED_ROLES:
            raise InvalidInput(f"Unknown concerned-state role '{role}'.", field="concerned")
        if str(code or "").strip():
            concerned[role] = country(code, f"concerned_{role}")
    return concerned


def validate_summary(data: dict[str, Any]) -> dict[str, Any]:
    """Title, narrative, point of diversion and concerned states."""
    return {
        "title": _text(data, "title", required=True),
        "narrative": _text(data, "narrative", limit=20_000),
        "point_of_diversion": _choice(data, "point_of_diversion", POINTS_OF_DIVERSION,
                                      required=False) or "unknown",
        "concerned": validate_concerned(data.get("concerned")),
    }


def validate_note(data: dict[str, Any]) -> dict[str, Any]:
    return {"text": _text(data, "text", required=True, limit=20_000)}


def parse_moment(text: str, field: str, end_of_day: bool = False) -> datetime | None:
    """A date (YYYY-MM-DD) or date and time, in UTC unless an offset is given; None if
    empty. A bare date as the end of a range means the end of that day."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Write a date as YYYY-MM-DD, optionally with a time HH:MM.",
                           field=field) from None
    if end_of_day and len(text) == 10:
        value = value.replace(hour=23, minute=59, second=59, microsecond=999999)
    if not value.tzinfo:
        return value.replace(tzinfo=UTC)
    try:
        # In UTC, as stored: SQLite compares the digits and would ignore the offset.
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-23:59 is past the year 9999 in UTC
        raise InvalidInput("That moment falls outside the years 1 to 9999 in UTC.",
                           field=field) from None
