"""The fields of each form, named as the domain names them, so its errors land next to them.

The domain validates; these specs only say how to draw a field and how to read it back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from cases.casework import content
from cases.casework.content import (
    CHOICE,
    CHOICES,
    CONCERNED_ROLES,
    COUNTRY,
    DAY,
    HS_CODE,
    INTEGER,
    LONG_TEXT,
    SERIALS,
    TEXT,
    Spec,
)
from cases.casework.contribution import KINDS


@dataclass(frozen=True)
class Field:
    name: str
    label: Any  # a lazy translated string
    kind: str = "text"  # text, textarea, select, checkboxes, number, date, country
    choices: tuple[str, ...] = ()
    required: bool = False
    hint: Any = ""


# How each type of content field is drawn.
WIDGETS = {TEXT: "text", LONG_TEXT: "textarea", CHOICE: "select", CHOICES: "checkboxes",
           INTEGER: "number", COUNTRY: "country", DAY: "date", HS_CODE: "text",
           SERIALS: "serials"}
HINTS = {COUNTRY: _l("Type the country's name or its ISO code, e.g. FRA"),
         HS_CODE: _l("6 to 10 digits, e.g. 930190"),
         SERIALS: _l("One per line: paste the list of the line's serial numbers")}


def fields_of(specs: tuple[Spec, ...], labels: dict[str, Any]) -> tuple[Field, ...]:
    """The form of a kind of content: the domain's specs, with the labels only the web knows."""
    return tuple(Field(spec.name, labels[spec.name], WIDGETS[spec.type], spec.choices,
                       spec.required, HINTS.get(spec.type, "")) for spec in specs)


def country_field(name: str, label: Any, required: bool = False) -> Field:
    return Field(name, label, "country", required=required, hint=HINTS[COUNTRY])


SUMMARY = (
    *fields_of(content.SUMMARY, {"title": _l("Title"), "narrative": _l("Narrative"),
                                 "point_of_diversion": _l("Point of diversion"),
                                 "found_on": _l("Seized or found on"),
                                 "found_at": _l("Seized or found at (place)")}),
    *(country_field(f"concerned_{role}", label)
      for role, label in zip(CONCERNED_ROLES, (
          _l("Concerned state: exporter"), _l("Concerned state: transit"),
          _l("Concerned state: importer"), _l("Concerned state: discovery")), strict=True)),
)

ITEM = fields_of(content.ITEM, {
    "category": _l("Category"), "quantity": _l("Quantity"), "hs_code": _l("HS code"),
    "make": _l("Make"), "model": _l("Model"), "serial": _l("Serial numbers"),
    "year": _l("Year of manufacture"), "calibre": _l("Calibre"),
    "country_of_manufacture": _l("Country of manufacture"),
    "import_marking": _l("Import marking"), "marking_condition": _l("Marking condition"),
    "flags": _l("Flags"), "lot": _l("Ammunition lot"), "headstamp": _l("Headstamp"),
    "match_check": _l("Private hit check")})
# The check is offered on: a new item line comes with it chosen (the owner may say no).
ITEM_DEFAULTS = {"match_check": "yes"}
ITEM = tuple(replace(f, hint=_l("Compare the make and serial numbers (ammunition: headstamp "
                                "and lot) with other states' records, blind: no one sees them; "
                                "a match tells both states only that there is one"))
             if f.name == "match_check" else f for f in ITEM)

ACTOR = fields_of(content.ACTOR, {"role": _l("Role"), "name": _l("Name"),
                                  "country": _l("Country"), "notes": _l("Notes")})

LEG = fields_of(content.LEG, {"origin": _l("From"), "destination": _l("To"),
                              "mode": _l("Mode of transport"), "date": _l("Date"),
                              "notes": _l("Notes")})

NOTE = fields_of(content.NOTE, {"text": _l("Note")})

CONTRIBUTION = (Field("kind", _l("Kind"), "select", KINDS, required=True),
                Field("text", _l("What your state adds"), "textarea", required=True))

PART_FIELDS = {"item": ITEM, "actor": ACTOR, "leg": LEG, "note": NOTE}

# The parts the new-case form takes in rows, as the domain names them (``items.0.serial``).
FIRST_PARTS = ("item", "actor", "leg")
MAX_ROWS = content.MAX_FIRST_PARTS


def part_row(kind: str, n: int) -> tuple[Field, ...]:
    """Row ``n`` of the new-case form's parts of a kind, named as the domain names its
    errors."""
    return tuple(replace(f, name=f"{kind}s.{n}.{f.name}") for f in PART_FIELDS[kind])


def row_count(form: MultiDict[str, str], kind: str) -> int:
    return max(1, min(MAX_ROWS, form.get(f"{kind}_rows", 1, type=int) or 1))


def read_rows(form: MultiDict[str, str], kind: str,
              rows: int) -> list[tuple[int, dict[str, Any]]]:
    """The filled rows of a kind as (row number, part); a row left empty adds nothing."""
    found = []
    for n in range(rows):
        values = read(form, part_row(kind, n))
        part = {name.rsplit(".", 1)[-1]: value for name, value in values.items()}
        typed = {k: v for k, v in part.items() if k not in ITEM_DEFAULTS}  # offered, not typed
        if any(str(v).strip() if not isinstance(v, list) else v for v in typed.values()):
            found.append((n, part))
    return found


def status_fields(allowed: tuple[str, ...]) -> tuple[Field, ...]:
    return (Field("status", _l("New status"), "select", allowed, required=True),
            Field("reason", _l("Reason"), "textarea"))


def read(form: MultiDict[str, str], fields: tuple[Field, ...]) -> dict[str, Any]:
    """The submitted values of the given fields, as the domain expects them."""
    return {f.name: form.getlist(f.name) if f.kind == "checkboxes" else form.get(f.name, "")
            for f in fields}


def read_summary(form: MultiDict[str, str]) -> dict[str, Any]:
    values = read(form, SUMMARY)
    values["concerned"] = {role: values.pop(f"concerned_{role}") for role in CONCERNED_ROLES}
    return values


def summary_values(summary: dict[str, Any]) -> dict[str, Any]:
    """A stored summary as form values (the inverse of `read_summary`)."""
    values = {k: v for k, v in summary.items() if k != "concerned"}
    for role, code in (summary.get("concerned") or {}).items():
        values[f"concerned_{role}"] = code
    return values
