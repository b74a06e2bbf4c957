"""The fields of each form, named as the domain names them, so its errors land next to them.

The domain validates; these specs only say how to draw a field and how to read it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from cases.casework.content import (
    ACTOR_ROLES,
    CONCERNED_ROLES,
    ITEM_CATEGORIES,
    ITEM_FLAGS,
    MARKING_CONDITIONS,
    POINTS_OF_DIVERSION,
    TRANSPORT_MODES,
)


@dataclass(frozen=True)
class Field:
    name: str
    label: Any  # a lazy translated string
    kind: str = "text"  # text, textarea, select, checkboxes, number, date, country
    choices: tuple[str, ...] = ()
    required: bool = False
    hint: Any = ""


def country_field(name: str, label: Any, required: bool = False) -> Field:
    return Field(name, label, "country", required=required,
                 hint=_l("ISO 3166-1 alpha-3 code, e.g. FRA"))


SUMMARY = (
    Field("title", _l("Title"), required=True),
    Field("narrative", _l("Narrative"), "textarea"),
    Field("point_of_diversion", _l("Point of diversion"), "select", POINTS_OF_DIVERSION),
    *(country_field(f"concerned_{role}", label)
      for role, label in zip(CONCERNED_ROLES, (
          _l("Concerned state: exporter"), _l("Concerned state: transit"),
          _l("Concerned state: importer"), _l("Concerned state: discovery")), strict=True)),
)

ITEM = (
    Field("category", _l("Category"), "select", ITEM_CATEGORIES, required=True),
    Field("quantity", _l("Quantity"), "number", required=True),
    Field("hs_code", _l("HS code"), hint=_l("6 to 10 digits, e.g. 930190")),
    Field("make", _l("Make")),
    Field("model", _l("Model")),
    Field("serial", _l("Serial number")),
    Field("year", _l("Year of manufacture"), "number"),
    Field("calibre", _l("Calibre")),
    country_field("country_of_manufacture", _l("Country of manufacture")),
    Field("import_marking", _l("Import marking")),
    Field("marking_condition", _l("Marking condition"), "select", MARKING_CONDITIONS),
    Field("flags", _l("Flags"), "checkboxes", ITEM_FLAGS),
    Field("lot", _l("Ammunition lot")),
    Field("headstamp", _l("Headstamp")),
)

ACTOR = (
    Field("role", _l("Role"), "select", ACTOR_ROLES, required=True),
    Field("name", _l("Name"), required=True),
    country_field("country", _l("Country")),
    Field("notes", _l("Notes"), "textarea"),
)

LEG = (
    country_field("origin", _l("From"), required=True),
    country_field("destination", _l("To"), required=True),
    Field("mode", _l("Mode of transport"), "select", TRANSPORT_MODES),
    Field("date", _l("Date"), "date"),
    Field("notes", _l("Notes"), "textarea"),
)

NOTE = (Field("text", _l("Note"), "textarea", required=True),)

PART_FIELDS = {"item": ITEM, "actor": ACTOR, "leg": LEG, "note": NOTE}


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
