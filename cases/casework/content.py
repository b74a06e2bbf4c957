"""What a case says, validated before it is sealed: items, actors, route legs, the case text.

Every check names the field at fault and why. Values come in as form or JSON strings and go out
as plain dicts, ready to be sealed as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pycountry

from cases.kernel.errors import InvalidInput

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


TEXT, LONG_TEXT, CHOICE, CHOICES, INTEGER, COUNTRY, DAY, HS_CODE, SERIALS = (
    "text", "long_text", "choice", "choices", "integer", "country", "day", "hs_code", "serials")
MAX_SERIALS = 10_000  # serial numbers of one item line


@dataclass(frozen=True)
class Spec:
    """One field of a kind of content: its type, whether it is required, its limits and
    vocabulary. The domain checks content against these; `web/` draws its forms and describes
    its API bodies from the same specs."""

    name: str
    type: str = TEXT
    required: bool = False
    limit: int = 200  # characters, for text
    choices: tuple[str, ...] = ()
    low: int = 0  # integers: the range, `high` None meaning the current year
    high: int | None = 0
    default: str = ""  # stored when nothing is chosen: only a value that says "unknown"


SUMMARY = (
    Spec("title", required=True),
    Spec("narrative", LONG_TEXT, limit=20_000),
    Spec("point_of_diversion", CHOICE, choices=POINTS_OF_DIVERSION, default="unknown"),
    # When and where the items were seized or found: the tier-1 tables count a case in the
    # year of its finding (the year it was logged when that is not known).
    Spec("found_on", DAY),
    Spec("found_at"),
)
ITEM = (
    Spec("category", CHOICE, required=True, choices=ITEM_CATEGORIES),
    Spec("quantity", INTEGER, required=True, low=1, high=10_000_000),
    Spec("hs_code", HS_CODE),
    Spec("make"),
    Spec("model"),
    # One serial number per line: an item line of 324 rifles carries up to 324 of them.
    Spec("serial", SERIALS, limit=100),
    Spec("year", INTEGER, low=FIRST_YEAR, high=None),
    Spec("calibre", limit=50),
    Spec("country_of_manufacture", COUNTRY),
    Spec("import_marking"),
    # Whether markings are intact is evidence: left empty, it stays unknown.
    Spec("marking_condition", CHOICE, choices=MARKING_CONDITIONS),
    Spec("flags", CHOICES, choices=ITEM_FLAGS),
    Spec("lot", limit=100),
    Spec("headstamp", limit=100),
    # Whether the owner enters the item in the private hit check (issue 20): its make and
    # serials (ammunition: headstamp and lot) compared with other states' records, blind.
    Spec("match_check", CHOICE, choices=("yes", "no")),
)
ACTOR = (
    Spec("role", CHOICE, required=True, choices=ACTOR_ROLES),
    Spec("name", required=True),
    Spec("country", COUNTRY),
    Spec("notes", LONG_TEXT, limit=2000),
)
LEG = (
    Spec("origin", COUNTRY, required=True),
    Spec("destination", COUNTRY, required=True),
    Spec("mode", CHOICE, choices=TRANSPORT_MODES, default="unknown"),
    Spec("date", DAY),
    Spec("notes", LONG_TEXT, limit=2000),
)
NOTE = (Spec("text", LONG_TEXT, required=True, limit=20_000),)
MAX_FIRST_PARTS = 20  # items (actors, legs) logged with a new case; more go one by one
PARTS = {"item": ITEM, "actor": ACTOR, "leg": LEG, "note": NOTE}


def validate(specs: tuple[Spec, ...], data: dict[str, Any]) -> dict[str, Any]:
    """The content as stored: every field of `specs` checked, nothing else kept."""
    return {spec.name: _CHECKS[spec.type](spec, data.get(spec.name)) for spec in specs}


def _raw(value: Any) -> str:
    return str(value if value is not None else "").strip()


def _required(spec: Spec) -> None:
    if spec.required:
        raise InvalidInput("This field is required.", field=spec.name)


def _text(spec: Spec, value: Any) -> str:
    text = _raw(value)
    if not text:
        _required(spec)
    if len(text) > spec.limit:
        raise InvalidInput("At most %(limit)s characters.", field=spec.name, limit=spec.limit)
    return text


def _choice(spec: Spec, value: Any) -> str:
    chosen = _raw(value)
    if not chosen:
        _required(spec)
        return spec.default
    if chosen not in spec.choices:
        raise InvalidInput("Choose one of: %(choices)s.", field=spec.name,
                           choices=", ".join(spec.choices))
    return chosen


def _choices(spec: Spec, value: Any) -> list[str]:
    chosen = [value] if isinstance(value, str) else list(value or [])
    wrong = [c for c in chosen if c not in spec.choices]
    if wrong:
        raise InvalidInput("Unknown flag(s): %(flags)s.", field=spec.name,
                           flags=", ".join(map(str, wrong)))
    return sorted(set(chosen))


def _integer(spec: Spec, value: Any) -> int | None:
    raw = _raw(value)
    if not raw:
        _required(spec)
        return None
    try:
        number = int(raw)
    except ValueError:
        raise InvalidInput("Enter a whole number.", field=spec.name) from None
    high = date.today().year if spec.high is None else spec.high
    if not spec.low <= number <= high:
        raise InvalidInput("Must be between %(low)s and %(high)s.", field=spec.name,
                           low=spec.low, high=high)
    return number


def _country(spec: Spec, value: Any) -> str:
    return country(value, spec.name, required=spec.required)


def country(value: Any, field: str, *, required: bool = False) -> str:
    """An ISO 3166-1 alpha-3 code, upper-cased; empty if allowed. An alpha-2 code (``DE``)
    is taken for its alpha-3 twin."""
    code = str(value or "").strip().upper()
    if not code and not required:
        return ""
    if len(code) == 2 and (twin := pycountry.countries.get(alpha_2=code)) is not None:
        return twin.alpha_3
    if len(code) != 3 or pycountry.countries.get(alpha_3=code) is None:
        raise InvalidInput("'%(code)s' is not an ISO 3166-1 alpha-3 country code.",
                           field=field, code=code)
    return code


def _day(spec: Spec, value: Any) -> str:
    raw = _raw(value)
    if not raw:
        _required(spec)
        return ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Enter a date as YYYY-MM-DD.", field=spec.name) from None
    if day > date.today():
        raise InvalidInput("The date cannot be in the future.", field=spec.name)
    return day.isoformat()


def lines_of(text: str) -> list[str]:
    """Lines as a person types them: split at line feeds and carriage returns only (not at
    the other separators str.splitlines knows, such as U+001E, which may be part of a
    serial number)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if text else []


def _serials(spec: Spec, value: Any) -> str:
    """Serial numbers, one per line (a JSON list is taken too), each at most `limit`
    characters; blank lines and repeats dropped, the order kept."""
    lines = value if isinstance(value, list | tuple) else lines_of(_raw(value))
    found = list(dict.fromkeys(s for s in (_raw(line) for line in lines) if s))
    long = next((s for s in found if len(s) > spec.limit), None)
    if long is not None:
        raise InvalidInput("A serial number has at most %(limit)s characters (one per line): "
                           "%(serial)s", field=spec.name, limit=spec.limit, serial=long[:40])
    if len(found) > MAX_SERIALS:
        raise InvalidInput("At most %(limit)s serial numbers per item line.", field=spec.name,
                           limit=MAX_SERIALS)
    return "\n".join(found)


def serials(item: dict[str, Any]) -> list[str]:
    """An item's serial numbers, as stored one per line."""
    return lines_of(str(item.get("serial") or ""))


def _hs_code(spec: Spec, value: Any) -> str:
    code = _raw(value).replace(".", "").replace(" ", "")
    if code and not _HS_CODE.match(code):
        raise InvalidInput("An HS code has 6 to 10 digits (small arms: chapter 93, e.g. 930190).",
                           field=spec.name)
    return code


_CHECKS: dict[str, Callable[[Spec, Any], Any]] = {
    TEXT: _text, LONG_TEXT: _text, CHOICE: _choice, CHOICES: _choices, INTEGER: _integer,
    COUNTRY: _country, DAY: _day, HS_CODE: _hs_code, SERIALS: _serials,
}


def validate_item(data: dict[str, Any]) -> dict[str, Any]:
    """An item and its markings (DESIGN §2); no more serial numbers than items."""
    item = validate(ITEM, data)
    count = len(serials(item))
    if count > item["quantity"]:
        raise InvalidInput("%(count)s serial numbers for %(quantity)s items: give the quantity "
                           "of the line or remove the extra serial numbers.", field="serial",
                           count=count, quantity=item["quantity"])
    return item


def validate_actor(data: dict[str, Any]) -> dict[str, Any]:
    return validate(ACTOR, data)


def validate_leg(data: dict[str, Any]) -> dict[str, Any]:
    return validate(LEG, data)


def validate_note(data: dict[str, Any]) -> dict[str, Any]:
    return validate(NOTE, data)


def validate_concerned(raw: Any) -> dict[str, str]:
    """Concerned states by role: {"exporter": "DEU", "discovery": "MLI", …}."""
    concerned = {}
    for role, code in dict(raw or {}).items():
        if role not in CONCERNED_ROLES:
            raise InvalidInput("Unknown concerned-state role '%(role)s'.", field="concerned",
                               role=role)
        if str(code or "").strip():
            concerned[role] = country(code, f"concerned_{role}")
    return concerned


def validate_summary(data: dict[str, Any]) -> dict[str, Any]:
    """Title, narrative, point of diversion and concerned states."""
    return {**validate(SUMMARY, data), "concerned": validate_concerned(data.get("concerned"))}


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
